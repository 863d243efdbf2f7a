"""The package's layering and ruff's checks, enforced by the suite (so by `make test` and CI).

The contracts are in pyproject.toml ([tool.importlinter]): the layers
core < dsl < compiler < runtime < explain < lint | audit | diff | backends < testing | api < lsp | desk
< cli,
no import circle between the modules of any package, and the independent siblings.
grimp reads imports inside functions too, so a deferred import cannot hide a circle.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

import pytest

from helpers import ROOT

# The package's own folders (the repository root is the package `yibao`).
PACKAGE_DIRS = ("core", "dsl", "compiler", "runtime", "explain", "lint", "audit", "diff", "backends",
                "testing", "lsp", "desk", "cli")


def _lint_imports(cwd: pathlib.Path) -> subprocess.CompletedProcess:
    # The console script's own function, run by this interpreter: the venv's bin/ need
    # not be on PATH.  No cache: nothing is written into the repository.
    return subprocess.run(
        [sys.executable, "-c",
         "import sys; from importlinter.cli import lint_imports_command; "
         "sys.exit(lint_imports_command())", "--no-cache"],
        cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_import_contracts_are_kept():
    run = _lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_ruff_finds_nothing():
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.fixture
def package_copy(tmp_path) -> pathlib.Path:
    """A copy of the package's sources and contracts, to break on purpose."""
    copy = tmp_path / "yibao"
    copy.mkdir()
    shutil.copy(ROOT / "__init__.py", copy)
    shutil.copy(ROOT / "api.py", copy)
    for folder in PACKAGE_DIRS:
        shutil.copytree(ROOT / folder, copy / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.lark", "*.txt"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def _append(path: pathlib.Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_the_copy_keeps_the_contracts(package_copy):
    """The two tests below fail for their import alone (the copy is the package)."""
    run = _lint_imports(package_copy)
    assert run.returncode == 0, run.stdout + run.stderr


def test_an_import_up_a_layer_breaks_the_layers_contract(package_copy):
    # Deferred inside a function, as the circles used to be hidden.
    _append(package_copy / "yibao" / "dsl" / "model.py",
            "\n\ndef _upward():\n    from yibao.cli.main import entry\n    return entry\n")
    run = _lint_imports(package_copy)
    assert run.returncode != 0
    assert "Layers: no import runs up the pipeline BROKEN" in run.stdout
    assert "yibao.dsl.model -> yibao.cli.main" in run.stdout


def test_a_circle_within_a_package_breaks_the_acyclic_contract(package_copy):
    # The admission ↔ claims circle as it was: claims.py importing admission in a function.
    _append(package_copy / "yibao" / "runtime" / "claims.py",
            "\n\ndef _circle():\n    from yibao.runtime.admission import validator_for\n"
            "    return validator_for\n")
    run = _lint_imports(package_copy)
    assert run.returncode != 0
    assert "No import circle between the modules of any package BROKEN" in run.stdout
    assert "Layers: no import runs up the pipeline KEPT" in run.stdout
    assert ".claims -> .admission" in run.stdout
