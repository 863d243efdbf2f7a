# Two commands do all set-up on a fresh machine (Python 3.11, root):
#   make demo   settle the bundled Benxi example claims and explain each
#   make test   run the whole test suite
# Both create .venv, install yibao in editable mode with its test extras, and
# install Debian's graphviz and a CJK font when missing.  Idempotent.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test setup system clean

demo: setup
	$(BIN)/yibao demo policies/benxi-2023.policy policies/examples/benxi-2023.jsonl

test: setup
	$(BIN)/python -m pytest

setup: $(STAMP) system

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

system:
	@scripts/ensure-system-packages.sh

clean:
	rm -rf $(VENV) .pytest_cache
