"""`yibao demo POLICY CLAIMS`: the main job on an example: payouts, then each explanation."""

from __future__ import annotations

import sys

from yibao.cli.main import EXIT_OK
from yibao.backends.encodings import ClaimsFileError
from yibao.cli.outcomes import (add_encoding_argument, refuse_claims_file, report_failures,
                                settle_file)
from yibao.runtime.claims import ClaimError


def register(commands) -> None:
    demo = commands.add_parser(
        "demo", help="settle a policy's example claims; print payouts and every explanation")
    demo.add_argument("policy")
    demo.add_argument("claims")
    add_encoding_argument(demo)
    demo.set_defaults(handler=run)


def run(args) -> int:
    from yibao.explain.summary import render_summary
    from yibao.explain.text import render_text

    try:
        engine, outcomes = settle_file(args.policy, args.claims, trace=True,
                                       encoding=args.encoding)
    except ClaimsFileError as error:
        return refuse_claims_file(error)
    sys.stdout.write(render_summary(outcomes))
    for outcome in outcomes:
        if isinstance(outcome, ClaimError):
            continue
        claim = engine.claims_by_id[outcome.claim_id]
        print("\n" + "=" * 72)
        sys.stdout.write(render_text(outcome, claim, engine.version_for(claim.date)))
    # The examples include a deliberately broken claim: it is reported, not fatal.
    report_failures([o for o in outcomes if isinstance(o, ClaimError)])
    return EXIT_OK
