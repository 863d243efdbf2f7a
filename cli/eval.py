"""`yibao eval POLICY CLAIMS`: settle claims; results in DOMAIN.md §5's format."""

from __future__ import annotations

import json
import sys

from yibao.cli.main import EXIT_CLAIMS_FAILED, EXIT_OK, dump_json
from yibao.cli.outcomes import report_failures, settle_file
from yibao.compiler.claims import ClaimError
from yibao.compiler.results import outcome_to_json


def register(commands) -> None:
    evaluate = commands.add_parser("eval", help="settle claims (JSON Lines) under a policy")
    evaluate.add_argument("policy")
    evaluate.add_argument("claims", help="a .jsonl file, or - for stdin")
    evaluate.add_argument("--format", choices=("jsonl", "json", "text"), default="jsonl")
    evaluate.add_argument("--trace", action="store_true", help="include each claim's trace")
    evaluate.add_argument("--stream", action="store_true",
                          help="input is in date order: settle and write claim by claim")
    evaluate.add_argument("-o", "--output", help="write results to a file instead of stdout")
    evaluate.set_defaults(handler=run)


def run(args) -> int:
    _, outcomes = settle_file(args.policy, args.claims, args.trace, args.stream)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    failures: list[ClaimError] = []
    collected = []
    try:
        for outcome in outcomes:
            if isinstance(outcome, ClaimError):
                failures.append(outcome)
            if args.format == "jsonl":
                out.write(dump_json(outcome_to_json(outcome, args.trace)) + "\n")
                if args.stream:
                    out.flush()
            else:
                collected.append(outcome)
        if args.format == "json":
            data = [outcome_to_json(o, args.trace) for o in collected]
            out.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        elif args.format == "text":
            from yibao.explain.summary import render_summary

            out.write(render_summary(collected))
    finally:
        if out is not sys.stdout:
            out.close()
    report_failures(failures)
    return EXIT_CLAIMS_FAILED if failures else EXIT_OK
