"""`yibao subsidy POLICY --identity X --contribution 350`: the premium subsidy (资助参保)."""

from __future__ import annotations

import datetime
import sys
from decimal import Decimal, InvalidOperation

from yibao.cli.main import EXIT_CLAIMS_FAILED, EXIT_OK, EXIT_USAGE, dump_json
from yibao.runtime.claims import ClaimError
from yibao.runtime.subsidy import default_contribution, settle_subsidy
from yibao.dsl.loader import load_policy
from yibao.dsl.model import NO_IDENTITY
from yibao.explain.subsidy_words import rule_words


def register(commands) -> None:
    subsidy = commands.add_parser(
        "subsidy", help="the premium subsidy for a person's identities (take highest)")
    subsidy.add_argument("policy")
    subsidy.add_argument("--identity", action="append", default=[],
                         help="an identity the person holds (repeat for several)")
    subsidy.add_argument("--contribution", help="the individual contribution in yuan "
                         "(default: the policy's 个人缴费标准 parameter)")
    subsidy.add_argument("--date", help="which version applies (YYYY-MM-DD; default: the latest)")
    subsidy.add_argument("--format", choices=("text", "json"), default="text")
    subsidy.set_defaults(handler=run)


def run(args) -> int:
    loaded = load_policy(args.policy)
    policy = loaded.latest
    if args.date:
        date = datetime.date.fromisoformat(args.date)
        eligible = [p for p in loaded.versions if p.effective <= date]
        if not eligible:
            print(f"yibao: no version of {policy.policy_id} in force on {date}", file=sys.stderr)
            return EXIT_USAGE
        policy = eligible[-1]
    try:
        contribution = (Decimal(args.contribution) if args.contribution
                        else default_contribution(policy))
    except InvalidOperation:
        contribution = None
    if contribution is None or not contribution.is_finite() or contribution < 0:
        print("yibao: give --contribution (the policy states no 个人缴费标准)", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = settle_subsidy(policy, args.identity, contribution)
    except ClaimError as error:
        print(f"yibao: {error.code} {error.message}" + (f" — {error.hint}" if error.hint else ""),
              file=sys.stderr)
        return EXIT_CLAIMS_FAILED
    if args.format == "json":
        data = result.to_json()
        for entry, candidate in zip(data["candidates"], result.candidates):
            entry["rule"] = rule_words(candidate)
        print(dump_json({"policy": policy.policy_id, **data}))
        return EXIT_OK
    print(f"{policy.policy_id} 资助参保: 个人缴费 {result.contribution:,.2f}")
    for candidate in result.candidates:
        print(f"  {candidate.identity or NO_IDENTITY}: {rule_words(candidate)} → "
              f"{candidate.subsidy:,.2f} {candidate.clause}")
    print(f"  适用身份: {result.identity or NO_IDENTITY}（就高）")
    print(f"  资助 {result.subsidy:,.2f}，个人实缴 {result.personal_contribution:,.2f}")
    return EXIT_OK
