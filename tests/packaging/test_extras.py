"""Each install the README documents, alone, in a fresh virtual environment, then used.

`pip install -e '.[batch]'` once left numpy out: every `--backend duckdb` run
failed with ModuleNotFoundError, and no test saw it, since the test
environment holds every extra at once.  Here yibao is built into a wheel once
(from a copy of the source, so that no stale build/ directory leaks into it),
and each of the base install, `[batch]` and `[spark]` goes into its own new
environment, without the system's or this environment's site-packages (they
would hide a missing dependency); then the commands that install is for run
on the bundled Benxi example, from a directory outside the repository.

Packages come from the machine's package index (pip's configuration) and
pip's cache; pyspark's wheel, built from its source distribution, is in the
cache once `make setup` has installed the test extras.  About two minutes in
all, most of it unpacking pyspark and starting Spark (measured on 2 shared
cores: see the report of issue 21).
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
import tomllib

import pytest

from helpers import EXAMPLES, POLICIES, ROOT
from yibao.cli.main import EXTRA_OF_MODULE

pytestmark = pytest.mark.packaging   # in every run, CI's included; never skipped

POLICY = str(POLICIES / "benxi-2023.policy")
CLAIMS = str(EXAMPLES / "benxi-2023.jsonl")
NOT_COPIED = shutil.ignore_patterns(".venv", ".git", "__pycache__", ".pytest_cache",
                                    ".hypothesis", "build", "dist", "*.egg-info", "tests")


def run(command, cwd, timeout=600, **options) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items()
           if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    return subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env, check=False, **options)


def pip(*arguments, cwd):
    """This environment's pip (a fresh one is made without pip: ``--python`` points
    it at the environment to install into)."""
    done = run([sys.executable, "-m", "pip", "--disable-pip-version-check", *arguments], cwd)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> pathlib.Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "yibao"
    shutil.copytree(ROOT, source, ignore=NOT_COPIED)
    pip("wheel", "--no-deps", "--quiet", "--wheel-dir", work / "dist", source, cwd=work)
    [built] = (work / "dist").glob("yibao-*.whl")
    return built


def fresh_environment(wheel: pathlib.Path, extra: str | None, where: pathlib.Path):
    """A new virtual environment holding yibao with ``extra`` and nothing else; its bin/."""
    directory = where / f"venv-{extra or 'base'}"
    made = run([sys.executable, "-m", "venv", "--without-pip", directory], where)
    assert made.returncode == 0, made.stderr
    assert "include-system-site-packages = false" in (directory / "pyvenv.cfg").read_text()
    target = f"{wheel}[{extra}]" if extra else str(wheel)
    pip("--python", directory / "bin" / "python", "install", "--no-compile", "--quiet",
        target, cwd=where)
    return directory / "bin"


def installed(bin_dir: pathlib.Path, cwd) -> set[str]:
    done = run([bin_dir / "python", "-c",
                "import importlib.metadata as m, yibao; "
                "print(yibao.__file__); "
                "print('\\n'.join(sorted(d.metadata['Name'].lower() for d in m.distributions())))"],
               cwd)
    assert done.returncode == 0, done.stderr
    location, *names = done.stdout.splitlines()
    assert location.startswith(str(bin_dir.parent)), location   # not this checkout
    return set(names)


def settled(stdout: str) -> dict[str, dict]:
    return {r["claim_id"]: r for r in map(json.loads, stdout.splitlines())}


def assert_the_benxi_example(done: subprocess.CompletedProcess) -> dict[str, dict]:
    """p-01's three claims pay 基本救助 7,800 / 6,000 / 6,200 and 倾斜救助 2,520 / 2,400 /
    8,280 (Benxi §(五)); bx-0013 lacks paid.基本医保 (C307), so exit 1."""
    assert done.returncode == 1, done.stderr
    results = settled(done.stdout)
    assert len(results) == 13 and results["bx-0013"]["error"] == "C307"
    assert [results[c]["payouts"]["基本救助"] for c in ("bx-0001", "bx-0002", "bx-0003")] == [
        "7800.00", "6000.00", "6200.00"]
    assert [results[c]["payouts"]["倾斜救助"] for c in ("bx-0001", "bx-0002", "bx-0003")] == [
        "2520.00", "2400.00", "8280.00"]
    return results


def test_the_base_install_evaluates_explains_lints_and_draws(wheel, tmp_path):
    bin_dir = fresh_environment(wheel, None, tmp_path)
    names = installed(bin_dir, tmp_path)
    assert {"lark", "attrs", "networkx", "graphviz", "pyyaml", "yibao"} <= names
    assert not names & {"duckdb", "pyarrow", "numpy", "pyspark", "pytest"}
    yibao = bin_dir / "yibao"
    assert_the_benxi_example(run([yibao, "eval", POLICY, CLAIMS], tmp_path))
    explained = run([yibao, "explain", POLICY, CLAIMS, "--claim", "bx-0003"], tmp_path)
    assert explained.returncode == 0, explained.stderr
    assert "  基本救助: 6,200.00\n" in explained.stdout
    linted = run([yibao, "lint", POLICY], tmp_path)
    assert linted.returncode == 0, linted.stderr
    assert "L301 精神障碍床日定额救助.定额标准" in linted.stdout   # §(五) gives no amount
    drawn = run([yibao, "graph", POLICY, "-o", tmp_path / "benxi.svg"], tmp_path)
    assert drawn.returncode == 0, drawn.stderr
    assert "基本救助" in (tmp_path / "benxi.svg").read_text(encoding="utf-8")
    # An option whose extra is missing is a usage error with the install that brings it.
    columnar = run([yibao, "eval", POLICY, CLAIMS, "--backend", "duckdb"], tmp_path)
    assert (columnar.returncode, columnar.stdout) == (2, "")
    assert "comes with yibao's batch extra: pip install 'yibao[batch]'" in columnar.stderr


@pytest.mark.parametrize("extra", ["batch", "spark"])
def test_an_extra_alone_runs_its_backend(wheel, tmp_path, extra):
    bin_dir = fresh_environment(wheel, extra, tmp_path)
    names = installed(bin_dir, tmp_path)
    assert ("pyspark" in names) == (extra == "spark") and "pytest" not in names
    yibao = bin_dir / "yibao"
    scalar = assert_the_benxi_example(run([yibao, "eval", POLICY, CLAIMS], tmp_path))
    backend = "duckdb" if extra == "batch" else "spark"
    columnar = run([yibao, "eval", POLICY, CLAIMS, "--backend", backend], tmp_path)
    assert assert_the_benxi_example(columnar) == scalar


def test_every_module_an_option_needs_is_declared_in_its_extra():
    """cli/main.py names the extra of a missing module; pyproject.toml must bring it."""
    with open(ROOT / "pyproject.toml", "rb") as handle:
        extras = tomllib.load(handle)["project"]["optional-dependencies"]
    declared = {extra: {requirement.split(">")[0].split("<")[0].split("=")[0].strip().lower()
                        for requirement in requirements}
                for extra, requirements in extras.items()}
    for module, extra in EXTRA_OF_MODULE.items():
        assert module in declared[extra], f"{module} is not in the {extra} extra"
        assert module in declared["test"], f"{module} is not in the test extra"
    assert "numpy" in declared["batch"] and "numpy" in declared["spark"]
