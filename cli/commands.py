"""One function per CLI command; each returns the exit status."""

from __future__ import annotations

import json
import sys

from yibao.cli.io import read_claim_lines
from yibao.cli.main import EXIT_CLAIMS_FAILED, EXIT_OK, EXIT_USAGE, dump_json
from yibao.compiler.batch import Engine
from yibao.compiler.claims import ClaimError
from yibao.compiler.results import outcome_to_json
from yibao.dsl.inventory import inventory
from yibao.dsl.loader import load_policy


def run_check(args) -> int:
    loaded = load_policy(args.policy)
    report = inventory(loaded)
    if args.format == "json":
        print(dump_json(report))
        return EXIT_OK
    policy = loaded.latest
    chain = " → ".join(p.policy_id for p in loaded.versions)
    print(f"ok {policy.policy_id}: {policy.title}")
    print(f"  versions: {chain}")
    print(f"  identities: {len(policy.identities)}  lines: "
          + ", ".join(f"{l.name}{'（上游）' if l.upstream else ''}" for l in policy.lines))
    for title, key in (("unspecified values", "unspecified"), ("inherited values", "inherited")):
        entries = report[key]
        print(f"  {title}: {len(entries)}")
        for entry in entries:
            note = f" — {entry['note']}" if entry.get("note") else ""
            print(f"    {entry['value']} [{entry['identity']}] {entry['clause']} "
                  f"({entry['version']}){note}")
    return EXIT_OK


def _evaluate(args, trace):
    engine = Engine(load_policy(args.policy))
    records = read_claim_lines(args.claims)
    if getattr(args, "stream", False):
        return engine, engine.stream_records(records, trace)
    return engine, engine.evaluate_records(records, trace)


def _report_failures(failures: list[ClaimError]) -> None:
    for error in failures:
        line = f" (line {error.line_number})" if error.line_number else ""
        hint = f" — {error.hint}" if error.hint else ""
        print(f"yibao: {error}{line}{hint}", file=sys.stderr)
    if failures:
        print(f"yibao: {len(failures)} claim(s) failed; the others were settled", file=sys.stderr)


def run_eval(args) -> int:
    _, outcomes = _evaluate(args, args.trace)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    failures: list[ClaimError] = []
    collected = []
    try:
        for outcome in outcomes:
            if isinstance(outcome, ClaimError):
                failures.append(outcome)
            data = outcome_to_json(outcome, args.trace)
            if args.format == "jsonl":
                out.write(dump_json(data) + "\n")
                out.flush() if args.stream else None
            else:
                collected.append((outcome, data))
        if args.format == "json":
            out.write(json.dumps([d for _, d in collected], ensure_ascii=False, indent=2) + "\n")
        elif args.format == "text":
            from yibao.explain.summary import render_summary

            out.write(render_summary([o for o, _ in collected]))
    finally:
        if out is not sys.stdout:
            out.close()
    _report_failures(failures)
    return EXIT_CLAIMS_FAILED if failures else EXIT_OK


def _explain_one(engine: Engine, outcomes, claim_id: str, fmt: str, quotes: bool,
                 source: str) -> int:
    from yibao.explain.text import render_text

    for outcome in outcomes:
        if outcome.claim_id != claim_id:
            continue
        if isinstance(outcome, ClaimError):
            _report_failures([outcome])
            return EXIT_CLAIMS_FAILED
        if fmt == "json":
            print(json.dumps(outcome_to_json(outcome), ensure_ascii=False, indent=2))
            return EXIT_OK
        claim = engine.claims_by_id[claim_id]
        policy = engine.version_for(claim.date, claim_id)
        sys.stdout.write(render_text(outcome, claim, policy, quotes))
        return EXIT_OK
    print(f"yibao: no claim {claim_id} in {source}", file=sys.stderr)
    return EXIT_USAGE


def run_explain(args) -> int:
    engine = Engine(load_policy(args.policy))
    outcomes = engine.evaluate_records(read_claim_lines(args.claims), trace={args.claim})
    return _explain_one(engine, outcomes, args.claim, args.format, not args.no_quotes,
                        args.claims)


def run_demo(args) -> int:
    """Settle the example claims, print the payouts, then every claim's explanation."""
    from yibao.explain.summary import render_summary
    from yibao.explain.text import render_text

    engine = Engine(load_policy(args.policy))
    outcomes = engine.evaluate_records(read_claim_lines(args.claims), trace=True)
    sys.stdout.write(render_summary(outcomes))
    for outcome in outcomes:
        if isinstance(outcome, ClaimError):
            continue
        claim = engine.claims_by_id[outcome.claim_id]
        print("\n" + "=" * 72)
        sys.stdout.write(render_text(outcome, claim, engine.version_for(claim.date)))
    failures = [o for o in outcomes if isinstance(o, ClaimError)]
    _report_failures(failures)
    return EXIT_OK
