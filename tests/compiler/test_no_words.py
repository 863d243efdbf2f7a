"""No file under compiler/ or runtime/ writes words: a trace holds figures (runtime/facts.py) and
explain/ writes them, in Chinese (trace_zh.py) and English (trace_en.py).

The test reads every string literal of compiler/ and runtime/ (docstrings aside) and fails on one
with Chinese in it, but for the few the policy language itself defines, each listed
here with why.  A new Chinese word in either belongs in explain/ instead.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yibao.compiler
import yibao.runtime

CHINESE = re.compile(r"[\u4e00-\u9fff]")
PACKAGES = (Path(yibao.compiler.__file__).parent, Path(yibao.runtime.__file__).parent)

# (file, literal) → why the compiler holds it.  None of them is a sentence.
ALLOWED = {
    # A claims-format hint quotes an identity as a claim spells it (docs/claims.md).
    ("admission.py", 'e.g. ["低保对象"] or []'): "an identity name, the claim's own value",
    # The policy parameter `param 个人缴费标准` that a subsidy reads by name.
    ("subsidy.py", "个人缴费标准"): "a parameter name the policy language reads",
    # C316 quotes the notice's own term for what it forbids (Jilin §一(三)).
    ("subsidy.py", " leaves a zero contribution (过度资助); only "): "the notice's term, quoted",
    ("subsidy.py", "the notice forbids 零缴费 for anyone else: the fixed amount must be below "
                   "the contribution"): "the notice's term, quoted",
}


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def chinese_literals(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = _docstrings(tree)
    return [(node.value, node.lineno) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and CHINESE.search(node.value) and id(node) not in docstrings]


def test_no_file_under_compiler_or_runtime_writes_chinese_words():
    found = [f"{path.name}:{line}: {text!r}"
             for package in PACKAGES for path in sorted(package.glob("*.py"))
             for text, line in chinese_literals(path)
             if (path.name, text) not in ALLOWED]
    assert found == []


def test_the_check_finds_a_sentence(tmp_path):
    """The test above can fail: a module that writes a trace sentence is caught."""
    module = tmp_path / "formulas.py"
    module.write_text('"""Words."""\n\ndef words(line):\n    return f"{line}不适用，支付 0"\n',
                      encoding="utf-8")
    assert [text for text, _ in chinese_literals(module)] == ["不适用，支付 0"]
