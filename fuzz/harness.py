"""What the atheris harnesses share: seeding a scratch corpus and starting atheris.

libFuzzer writes the inputs it finds into the first corpus folder it is given,
so the harnesses never hand it ``policies/``: they copy the shipped files into
a scratch folder (or use the folders named on the command line).
"""

from __future__ import annotations

import pathlib
import shutil
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent


def scratch_corpus(name: str, seeds: list[pathlib.Path]) -> str:
    folder = pathlib.Path(tempfile.mkdtemp(prefix=f"yibao-fuzz-{name}-"))
    for seed in seeds:
        shutil.copy(seed, folder / seed.name)
    return str(folder)


def run(name: str, seeds: list[pathlib.Path], test_one_input, instrumented: list[str]) -> None:
    """Fuzz ``test_one_input`` with atheris (``pip install atheris``), instrumenting
    the listed modules so coverage guides the search; libFuzzer flags pass through."""
    import importlib

    import atheris

    with atheris.instrument_imports(include=["yibao", "lark"]):
        for module in instrumented:
            importlib.import_module(module)
    argv = list(sys.argv)
    if not any(not arg.startswith("-") for arg in argv[1:]):
        argv.append(scratch_corpus(name, seeds))
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()
