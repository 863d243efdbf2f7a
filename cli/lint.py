"""`yibao lint PATH...`: mistakes, over-protection and gaps in policies, by stable code.

Output ``path:line:col: CODE message`` (text, with hints; ``concise``: one line
each) or ``--format json``; ``--shares`` adds each identity's largest share of
the in-scope cost.  Exit status 1 when a finding is an error, 2 when a path or
the settings are wrong.
"""

from __future__ import annotations

import pathlib
import sys

from yibao.cli.main import EXIT_OK, EXIT_USAGE, dump_json

EXIT_ERRORS = 1


def register(commands) -> None:
    lint = commands.add_parser(
        "lint", help="find mistakes, over-protection and gaps in policy files")
    lint.add_argument("paths", nargs="*", metavar="PATH", help="policy files or folders")
    lint.add_argument("--format", choices=("text", "concise", "json"), default="text")
    lint.add_argument("--shares", action="store_true",
                      help="report each identity's largest share of the in-scope cost")
    lint.add_argument("--config", metavar="PYPROJECT",
                      help="read [tool.yibao.lint] from this file (default: the nearest "
                           "pyproject.toml above each policy)")
    lint.add_argument("--rules", action="store_true", help="list the rules and exit")
    lint.set_defaults(handler=run)


def run(args) -> int:
    from yibao.lint.config import ConfigError, load_config
    from yibao.lint.paths import policy_files
    from yibao.lint.render import findings_text, rules_text, summary_text
    from yibao.lint.runner import lint_paths

    if args.rules:
        print(rules_text())
        return EXIT_OK
    if not args.paths:
        print("yibao lint: give policy files or folders, e.g. yibao lint policies/",
              file=sys.stderr)
        return EXIT_USAGE
    try:
        config = load_config(pathlib.Path(args.config)) if args.config else None
        reports = lint_paths(policy_files(args.paths), config)
    except ConfigError as error:
        print(f"yibao lint: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        print(dump_json(_json(reports, args.shares)))
    else:
        text = findings_text(reports, hints=args.format == "text")
        if text:
            print(text)
        if args.shares:
            print(_shares_text(reports))
        if args.format == "text":
            print(summary_text(reports))
    return EXIT_ERRORS if any(r.has_errors for r in reports) else EXIT_OK


def _json(reports, with_shares: bool) -> dict:
    from yibao.lint.render import finding_json, shares_json

    data = {"files": [r.path for r in reports],
            "findings": [finding_json(f) for r in reports for f in r.findings]}
    if with_shares:
        data["shares"] = {r.path: shares_json(r.context.protection, r.context.config.ceiling)
                          for r in reports if r.context is not None and r.context.policy}
    return data


def _shares_text(reports) -> str:
    from yibao.lint.render import shares_text

    blocks = [shares_text(r.path, r.context.protection, r.context.config.ceiling)
              for r in reports if r.context is not None and r.context.policy]
    return "\n\n".join(blocks)
