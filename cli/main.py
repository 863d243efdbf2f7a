"""The `yibao` command: a thin layer over the library.

Exit status: 0 success; 1 some claims failed (their error objects are in the
output, in place, and summarised on stderr) or lint found errors; 2 the policy
or the command line is wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from yibao import __version__
from yibao.core.diagnostics import PolicyError, render_all

EXIT_OK, EXIT_CLAIMS_FAILED, EXIT_USAGE = 0, 1, 2

# Each further command lives in its own module under yibao.cli with
# ``register(commands)``, which adds its sub-parser and sets ``handler``.
COMMAND_MODULES: tuple[str, ...] = ()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="yibao", description="Medical insurance and assistance policies as code.")
    parser.add_argument("--version", action="version", version=f"yibao {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="parse and compile a policy; list its unspecified "
                                "and inherited values")
    check.add_argument("policy")
    check.add_argument("--format", choices=("text", "json"), default="text")

    evaluate = commands.add_parser("eval", help="settle claims (JSON Lines) under a policy")
    evaluate.add_argument("policy")
    evaluate.add_argument("claims", help="a .jsonl file, or - for stdin")
    evaluate.add_argument("--format", choices=("jsonl", "json", "text"), default="jsonl")
    evaluate.add_argument("--trace", action="store_true", help="include each claim's trace")
    evaluate.add_argument("--stream", action="store_true",
                          help="input is in date order: settle and write claim by claim")
    evaluate.add_argument("-o", "--output", help="write results to a file instead of stdout")

    explain = commands.add_parser("explain", help="one claim's settlement, step by step")
    explain.add_argument("policy")
    explain.add_argument("claims")
    explain.add_argument("--claim", required=True, help="the claim id")
    explain.add_argument("--format", choices=("text", "json"), default="text")
    explain.add_argument("--no-quotes", action="store_true", help="omit the clauses' words")

    demo = commands.add_parser("demo", help="settle a policy's bundled example claims and "
                               "explain each")
    demo.add_argument("policy")
    demo.add_argument("claims")

    from yibao.cli import commands as core

    for name, sub in commands.choices.items():
        sub.set_defaults(handler=getattr(core, f"run_{name}"))
    import importlib

    for module in COMMAND_MODULES:
        importlib.import_module(f"yibao.cli.{module}").register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except PolicyError as error:
        sources = {}
        for diagnostic in error.diagnostics:
            try:
                with open(diagnostic.span.file, encoding="utf-8") as handle:
                    sources[diagnostic.span.file] = handle.read()
            except (OSError, UnicodeDecodeError):
                pass
        print(render_all(error.diagnostics, sources), file=sys.stderr)
        return EXIT_USAGE
    except FileNotFoundError as error:
        print(f"yibao: {error.filename}: no such file", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK


def dump_json(data) -> str:
    return json.dumps(data, ensure_ascii=False)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
