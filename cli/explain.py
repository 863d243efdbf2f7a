"""`yibao explain POLICY CLAIMS --claim ID`: one claim's settlement, step by step."""

from __future__ import annotations

import json
import sys

from yibao.cli.main import EXIT_CLAIMS_FAILED, EXIT_OK, EXIT_USAGE
from yibao.cli.outcomes import report_failures, settle_file
from yibao.compiler.claims import ClaimError
from yibao.compiler.results import outcome_to_json


def register(commands) -> None:
    explain = commands.add_parser("explain", help="one claim's settlement, step by step")
    explain.add_argument("policy")
    explain.add_argument("claims")
    explain.add_argument("--claim", required=True, help="the claim id")
    explain.add_argument("--format", choices=("text", "json"), default="text")
    explain.add_argument("--no-quotes", action="store_true", help="omit the clauses' words")
    explain.set_defaults(handler=run)


def run(args) -> int:
    from yibao.explain.text import render_text

    # The whole file is settled (earlier claims fill the year-to-date figures);
    # only the wanted claim is traced.
    engine, outcomes = settle_file(args.policy, args.claims, trace={args.claim})
    for outcome in outcomes:
        if outcome.claim_id != args.claim:
            continue
        if isinstance(outcome, ClaimError):
            report_failures([outcome])
            return EXIT_CLAIMS_FAILED
        if args.format == "json":
            print(json.dumps(outcome_to_json(outcome), ensure_ascii=False, indent=2))
            return EXIT_OK
        claim = engine.claims_by_id[args.claim]
        policy = engine.version_for(claim.date, args.claim)
        sys.stdout.write(render_text(outcome, claim, policy, quotes=not args.no_quotes))
        return EXIT_OK
    print(f"yibao: no claim {args.claim} in {args.claims}", file=sys.stderr)
    return EXIT_USAGE
