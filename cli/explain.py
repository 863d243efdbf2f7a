"""`yibao explain POLICY CLAIMS --claim ID`: one claim's settlement, step by step.

Text for the terminal (the default; colour on a terminal, plain when piped or
written with -o), Markdown for a case file, one self-contained HTML page for
auditors (with the evaluation graph), or the JSON result with its trace.
"""

from __future__ import annotations

import json
import pathlib
import sys

from yibao.backends.encodings import ClaimsFileError
from yibao.cli.main import EXIT_CLAIMS_FAILED, EXIT_OK, EXIT_USAGE
from yibao.cli.outcomes import (add_encoding_argument, refuse_claims_file, report_failures,
                                settle_file)
from yibao.compiler.claims import ClaimError
from yibao.compiler.results import outcome_to_json

FORMATS = ("text", "markdown", "html", "json")


def register(commands) -> None:
    explain = commands.add_parser("explain", help="one claim's settlement, step by step")
    explain.add_argument("policy")
    explain.add_argument("claims")
    explain.add_argument("--claim", required=True, help="the claim id")
    explain.add_argument("--format", choices=FORMATS, default="text")
    explain.add_argument("--lang", choices=("zh", "en"), default="zh",
                         help="labels in Chinese (default) or English; identities and "
                              "clause quotes stay in Chinese")
    explain.add_argument("-o", "--output", metavar="FILE", help="write to FILE, not stdout")
    explain.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                         help="colour the text on a terminal (auto: when stdout is one)")
    explain.add_argument("--no-quotes", action="store_true", help="omit the clauses' words")
    add_encoding_argument(explain)
    explain.set_defaults(handler=run)


def run(args) -> int:
    # The whole file is settled (earlier claims fill the year-to-date figures);
    # only the wanted claim is traced.
    try:
        engine, outcomes = settle_file(args.policy, args.claims, trace={args.claim},
                                       encoding=args.encoding)
    except ClaimsFileError as error:
        return refuse_claims_file(error)
    for outcome in outcomes:
        if outcome.claim_id != args.claim:
            continue
        if isinstance(outcome, ClaimError):
            report_failures([outcome])
            return EXIT_CLAIMS_FAILED
        _write(args.output, render(args, engine, outcome))
        return EXIT_OK
    print(f"yibao: no claim {args.claim} in {args.claims}", file=sys.stderr)
    return EXIT_USAGE


def render(args, engine, outcome) -> str:
    from yibao.explain.colour import PLAIN, terminal_palette
    from yibao.explain.labels import language

    if args.format == "json":
        return json.dumps(outcome_to_json(outcome), ensure_ascii=False, indent=2) + "\n"
    lang = language(args.lang)
    quotes = not args.no_quotes
    claim = engine.claims_by_id[args.claim]
    if args.format == "html":
        from yibao.explain.html import render_html

        graph = engine.evaluators[outcome.policy].graph
        return render_html(outcome, claim, graph, quotes, lang)
    policy = engine.version_for(claim.date, args.claim)
    if args.format == "markdown":
        from yibao.explain.markdown import render_markdown

        return render_markdown(outcome, claim, policy, quotes, lang)
    from yibao.explain.text import render_text

    palette = PLAIN if args.output else terminal_palette(sys.stdout, args.color)
    return render_text(outcome, claim, policy, quotes, lang, palette)


def _write(output: str | None, text: str) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        pathlib.Path(output).write_text(text, encoding="utf-8")
