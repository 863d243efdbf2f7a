# Three commands do all set-up on a fresh machine (Python 3.11, root):
#   make demo   settle the bundled Benxi example claims and explain each
#   make test   run the whole test suite
#   make desk   settle the bundled examples into a demo book and open the auditors' desk
# Each creates .venv, installs yibao in editable mode with its test extras, and
# installs Debian's graphviz and a CJK font when missing.  Idempotent.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

DESK_BOOK := out/desk/book.db

.PHONY: demo test desk setup system bytecode clean

demo: setup
	$(BIN)/yibao demo policies/benxi-2023.policy policies/examples/benxi-2023.jsonl

# Each example file settled into one book (claims refused on purpose write nothing, so
# settle exits 1: that is expected); settled again, everything is already_settled.
desk: setup
	mkdir -p $(dir $(DESK_BOOK))
	for claims in policies/examples/*.jsonl; do \
	  $(BIN)/yibao settle policies/$$(basename $$claims .jsonl).policy $$claims \
	    --book $(DESK_BOOK) -o /dev/null 2>/dev/null; test $$? -le 1 || exit 1; \
	done
	$(BIN)/yibao serve --book $(DESK_BOOK) --policies policies

test: setup
	$(BIN)/python -m pytest

setup: $(STAMP) system bytecode

# yibao's modules compiled as an installed package has them: an editable checkout
# writes them on first import, unless PYTHONDONTWRITEBYTECODE is set (as on CI's
# machines), when every command compiled the ~60 modules it imports again: 0.09 s of
# a `yibao settle` (benchmarks/bench_book.py).  Up-to-date files are left alone.
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q -x '/(\.venv|tests|fuzz|benchmarks|out|node_modules)/' . >/dev/null

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

system:
	@scripts/ensure-system-packages.sh

clean:
	rm -rf $(VENV) .pytest_cache
