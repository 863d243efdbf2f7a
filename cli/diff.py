"""`yibao diff OLD [NEW]`: what a revision changes, in values and (with --claims) in payouts.

Two files:            yibao diff old.policy new.policy --claims claims.jsonl
One family by date:   yibao diff policies/jiamusi-2022.policy --at 2021-12-31 --vs 2022-01-01

``--at DATE`` pins the old side to the version in force on DATE, ``--vs DATE``
the new side: a pinned side settles every claim of the corpus under that one
version, whatever the claim's date (see yibao.diff.sides).  With one file both
are required.  Exit status: 0, or 1 with ``--fail-on-change`` when any value or
claim outcome changed; 2 for a wrong policy or command line.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys

from yibao.cli.main import EXIT_CLAIMS_FAILED, EXIT_OK, EXIT_USAGE


def register(commands) -> None:
    diff = commands.add_parser(
        "diff", help="compare two policies (or two versions by date), and their effect on claims")
    diff.add_argument("old", help="the old policy file (or the family, with --at and --vs)")
    diff.add_argument("new", nargs="?", help="the new policy file")
    diff.add_argument("--at", type=_date, metavar="DATE",
                      help="old side: the version in force on DATE, for every claim")
    diff.add_argument("--vs", type=_date, metavar="DATE",
                      help="new side: the version in force on DATE, for every claim")
    diff.add_argument("--claims", metavar="FILE", help="a JSON Lines corpus to settle under both")
    diff.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    diff.add_argument("--max-claims", type=int, metavar="N",
                      help="text and markdown: list at most N claims per category")
    diff.add_argument("--fail-on-change", action="store_true",
                      help="exit 1 when any value or claim outcome changed (for CI)")
    diff.add_argument("-o", "--output", help="write the report to a file instead of stdout")
    diff.set_defaults(handler=run)


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def run(args) -> int:
    from yibao.diff import NoVersionInForce, diff_files

    if args.new is None and (args.at is None or args.vs is None):
        print("yibao: diff of one policy family needs both --at DATE and --vs DATE "
              "(or give two policy files)", file=sys.stderr)
        return EXIT_USAGE
    try:
        report = diff_files(args.old, args.new, args.claims, args.at, args.vs)
    except NoVersionInForce as error:
        print(f"yibao: {error} — {error.hint}", file=sys.stderr)
        return EXIT_USAGE
    text = render(report, args.format, args.max_claims)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    if args.fail_on_change and report.anything_changed:
        return EXIT_CLAIMS_FAILED
    return EXIT_OK


def render(report, format: str, max_claims: int | None = None) -> str:
    if format == "json":
        from yibao.diff.render_json import report_to_json

        return json.dumps(report_to_json(report), ensure_ascii=False, indent=2) + "\n"
    if format == "markdown":
        from yibao.diff.render_markdown import render_markdown

        return render_markdown(report, max_claims)
    from yibao.diff.render_text import render_text

    return render_text(report, max_claims)
