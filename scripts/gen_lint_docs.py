#!/usr/bin/env python3
"""Write docs/lint-rules.md from the lint rules' docstrings (``--check``: fail if stale)."""

import sys
from pathlib import Path

from yibao.lint.rule_docs import render_rule_docs

PAGE = Path(__file__).resolve().parent.parent / "docs" / "lint-rules.md"


def main() -> int:
    text = render_rule_docs()
    if "--check" in sys.argv[1:]:
        if PAGE.read_text(encoding="utf-8") != text:
            print(f"{PAGE} is stale: run scripts/gen_lint_docs.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
