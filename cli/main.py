"""The `yibao` command: a thin layer over the library.

Each command lives in its own module under ``yibao.cli`` with a
``register(commands)`` function that adds its sub-parser and sets ``handler``.

Exit status (docs/exit-codes.md): 0 success; 1 some claims were refused (their
error objects are in the output, in place, and summarised on stderr), or the
command's check found something (lint errors, a failing case, a change, a
record that does not verify); 2 the input or the command line is refused (a
policy that does not load, a file that cannot be read, bad options); 70 an
internal error (a bug, or a failure the command does not handle: a short
message on stderr, the traceback in a file it names); 141 output cut (the
reader of standard output went away before every result was written).
"""

from __future__ import annotations

import argparse
import importlib
import pathlib
import sys
from typing import Sequence

from yibao import __version__
from yibao.cli.io import whole_writes_stdout
from yibao.core import jsonl

EXIT_OK, EXIT_CLAIMS_FAILED, EXIT_USAGE = 0, 1, 2
# sysexits.h's EX_SOFTWARE: far from 1 and 2, so a script can tell "yibao broke" from
# "yibao refused something"
EXIT_INTERNAL = 70
# 128 + SIGPIPE: what a shell reports for a writer killed by its reader going away
# (`set -o pipefail` scripts already expect it of `… | head`)
EXIT_OUTPUT_CUT = 141
TRACEBACK_VARIABLE = "YIBAO_TRACEBACK"
# What an option needs beyond the base install, by the extra that brings it
# (pyproject.toml; tests/packaging/test_extras.py keeps the two in step).
EXTRA_OF_MODULE = {"duckdb": "batch", "pyarrow": "batch", "sqlglot": "batch", "tqdm": "batch",
                   "numpy": "batch", "pyspark": "spark", "pandas": "spark",
                   "starlette": "desk", "jinja2": "desk", "uvicorn": "desk"}

COMMAND_MODULES: tuple[str, ...] = ("check", "eval", "settle", "explain", "demo", "subsidy", "audit", "graph", "diff", "casetest", "lint", "fmt", "lsp", "serve")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or, when ``argv`` names one, of that command alone:
    a command's module imports what its runs need, and ``yibao eval`` need not import
    the graph, audit and lint libraries of the others (issue 28's fixed costs)."""
    parser = argparse.ArgumentParser(
        prog="yibao", description="Medical insurance and assistance policies as code.")
    parser.add_argument("--version", action="version", version=f"yibao {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    named = _command_named(argv)
    for module in (named,) if named else COMMAND_MODULES:
        importlib.import_module(f"yibao.cli.{module}").register(commands)
    return parser


def _command_named(argv: Sequence[str] | None) -> str | None:
    """The command ``argv`` runs, when its first word is one (the top-level options
    are --help and --version, which want every command listed)."""
    words = list(argv or ())
    return words[0] if words and words[0] in COMMAND_MODULES else None


def entry() -> None:
    """The ``yibao`` command: :func:`main` in a process tuned for long batches.

    Here, not in :func:`main`, an uncaught exception becomes exit status 70 and a
    short message (a caller of ``main`` gets the exception itself), and a cut
    output leaves standard output pointing at /dev/null: Python flushes stdout
    once more on exit, and that flush would fail again (Python's documentation,
    "Note on SIGPIPE")."""
    tune_gc()
    whole_writes_stdout()
    try:
        status = main(lean=True)
        # What a command printed last may still sit in stdout's buffer: a reader gone
        # by now cuts it as surely as one gone mid-run (else Python's own flush at
        # exit fails with "Exception ignored … BrokenPipeError" and status 120).
        if status != EXIT_OUTPUT_CUT:   # a cut already reported keeps its buffer
            sys.stdout.flush()
    except BrokenPipeError as error:
        report_output_cut(error)
        status = EXIT_OUTPUT_CUT
    except Exception as error:   # noqa: BLE001 - every other failure is a bug to report
        status = report_internal_error(error)
    if status == EXIT_OUTPUT_CUT:
        discard_stdout()
    collect_before_exit()
    sys.exit(status)


def collect_before_exit() -> None:
    """Collect what the run left in reference cycles (closing, say, a DuckDB connection
    held in one), then freeze every object left: the interpreter's shutdown collects
    all of them again while it clears the modules, ≈ 0.04 s after a 10^6-claim run
    (twice this collection), for objects the process's end frees anyway."""
    import gc

    gc.collect()
    gc.freeze()


def tune_gc() -> None:
    """Make the cyclic garbage collector cheap for a batch of claims.

    Settling creates no reference cycles, but the ledger keeps an object per
    person-year alive, and every young-generation collection (by default each
    700 allocations) runs over a generation that keeps growing: 14% of the
    time on 400,000 streamed claims.  Collect young objects every 100,000
    allocations instead, and leave the loaded modules out of every collection.
    """
    import gc

    gc.freeze()
    gc.set_threshold(100_000, 50, 1_000)


def main(argv: Sequence[str] | None = None, lean: bool = False) -> int:
    """Run a command; its exit status.  ``lean``: this process is the command's own
    (:func:`entry`), which keeps out the libraries its run never uses (cli/lean.py)."""
    words = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(words).parse_args(words)
    if lean:
        from yibao.cli.lean import keep_out_probed

        keep_out_probed(args)
    try:
        return args.handler(args)
    except FileNotFoundError as error:
        print(f"yibao: {error.filename}: no such file", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError as error:
        report_output_cut(error)
        return EXIT_OUTPUT_CUT
    except ModuleNotFoundError as error:
        extra = EXTRA_OF_MODULE.get((error.name or "").split(".")[0])
        if extra is None:   # one of yibao's own modules, or a base dependency: a fault
            raise
        print(f"yibao: this needs {error.name}, which comes with yibao's {extra} extra: "
              f"pip install 'yibao[{extra}]'", file=sys.stderr)
        return EXIT_USAGE
    except (PermissionError, IsADirectoryError, NotADirectoryError) as error:
        if error.filename is None:
            raise
        reason = (error.strerror or str(error)).lower()
        print(f"yibao: {error.filename}: {reason}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:
        if not _is_policy_error(error):
            raise
        print(render_policy_error(error), file=sys.stderr)
        return EXIT_USAGE


def _is_policy_error(error: Exception) -> bool:
    """Is ``error`` a policy that does not load (core/diagnostics.py's PolicyError)?

    Asked of the module only if something imported it: a run that never did cannot
    have raised one, and ``yibao eval CLAIMS.parquet`` starts reading its claims
    before it imports attrs and the diagnostics (cli/batch_io.py, read_ahead)."""
    diagnostics = sys.modules.get("yibao.core.diagnostics")
    return diagnostics is not None and isinstance(error, diagnostics.PolicyError)


def report_output_cut(error: BrokenPipeError) -> None:
    """Say that the results stop early, and what a command noted about what it kept
    (``eval --record``: how much of the batch its store holds)."""
    lines = ["yibao: output cut: the reader of standard output went away before every "
             "result was written"]
    lines += [f"yibao: {note}" for note in getattr(error, "__notes__", ())]
    _to_stderr("\n".join(lines))


def report_internal_error(error: BaseException) -> int:
    """A short message on stderr; the traceback where ``YIBAO_TRACEBACK`` says: unset, a
    new file in the temporary directory; ``-``, stderr; otherwise the file it names."""
    import os
    import platform
    import tempfile
    import traceback

    text = (f"yibao {__version__}, Python {platform.python_version()}\n"
            f"command: {' '.join(sys.argv)}\n\n"
            + "".join(traceback.format_exception(error)))
    where = os.environ.get(TRACEBACK_VARIABLE, "")
    summary = f"yibao: internal error: {type(error).__name__}: {error}".splitlines()[0]
    if where == "-":
        _to_stderr(text + summary)
        return EXIT_INTERNAL
    try:
        if where:
            with open(where, "w", encoding="utf-8") as handle:
                handle.write(text)
        else:
            descriptor, where = tempfile.mkstemp(prefix="yibao-traceback-", suffix=".txt")
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(text)
    except OSError:
        _to_stderr(text + summary)
        return EXIT_INTERNAL
    _to_stderr(f"{summary}\nyibao: this is a fault in yibao or its machine, not in the "
               f"policy or the claims; the traceback is in {where} (set {TRACEBACK_VARIABLE}=- "
               "to print it here)")
    return EXIT_INTERNAL


def discard_stdout() -> None:
    """Point file descriptor 1 at /dev/null, so that the interpreter's last flush of
    whatever was left in stdout's buffer does not fail a second time."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):   # no real stdout (replaced, closed): nothing to flush
        pass


def _to_stderr(text: str) -> None:
    try:
        print(text, file=sys.stderr, flush=True)
    except OSError:   # stderr is gone too: the exit status is all that is left
        pass


def render_policy_error(error) -> str:
    """A PolicyError's diagnostics with the lines they point at."""
    from yibao.core.diagnostics import PolicyError, render_all
    from yibao.dsl.limits import read_bounded_text

    sources: dict[str, str] = {}
    for file in {d.span.file for d in error.diagnostics}:
        # Read as the loader reads: bounded, regular files only (never a pipe or
        # /dev/zero), without the byte order mark, so carets stand where they should.
        try:
            sources[file] = read_bounded_text(pathlib.Path(file))
        except PolicyError:
            pass
    return render_all(error.diagnostics, sources)


def dump_json(data) -> str:
    """One JSON Lines line's text (core/jsonl.py's)."""
    return jsonl.dumps(data)


if __name__ == "__main__":  # pragma: no cover
    entry()
