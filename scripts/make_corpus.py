#!/usr/bin/env python3
"""Write a synthetic Jiamusi claim corpus, deterministic by seed (policies/corpus/).

    python scripts/make_corpus.py                      # policies/corpus/jiamusi-1000.jsonl
    python scripts/make_corpus.py --seed 7 --claims 5000 -o /tmp/claims.jsonl

The corpus feeds `yibao diff` (Jiamusi 2021 vs 2022) and its tests.  Its mix
follows a 居民医保 fund's claims: most people hold no assistance identity,
many are 脱贫人口, a few are 特困人员, 低保对象 or 返贫致贫人口 (whose 大病保险
rate the notice leaves unspecified: C311 under both versions); claims are
住院, 门诊慢特病, 普通门诊 (not covered by 大病保险) and 高值药品, in 2021 and
2022, one to eight per person, amounts skewed towards small bills so that
some stay under the 12,000 deductible and a few pass 50,000 above it.

Determinism: only ``random.Random(seed).random()`` is used (its sequence is
guaranteed across Python versions), and amounts are whole fen computed with
integer arithmetic from products of its draws, so the file is byte-identical
on every machine.  Nothing here settles a claim: no money is rounded.
"""

from __future__ import annotations

import argparse
import datetime
import json
import pathlib
import random

SEED = 20211231
CLAIMS = 1000
OUTPUT = pathlib.Path(__file__).resolve().parent.parent / "policies/corpus/jiamusi-1000.jsonl"

IDENTITIES = ((), ("脱贫人口",), ("特困人员",), ("低保对象",), ("返贫致贫人口",))
IDENTITY_WEIGHTS = (70, 18, 4, 5, 3)
VISITS = ("住院", "门诊慢特病", "普通门诊", "高值药品")
VISIT_WEIGHTS = (55, 25, 15, 5)
# In-scope cost range by visit, in fen: (lowest, highest).
COST_RANGE = {
    "住院": (200_000, 40_000_000),
    "门诊慢特病": (50_000, 6_000_000),
    "普通门诊": (5_000, 300_000),
    "高值药品": (100_000, 8_000_000),
}
CLAIMS_PER_PERSON = (1, 2, 3, 4, 5, 6, 8)
CLAIMS_PER_PERSON_WEIGHTS = (45, 25, 13, 8, 4, 3, 2)
FIRST_DAY = datetime.date(2021, 1, 1)
DAYS = (datetime.date(2022, 12, 31) - FIRST_DAY).days + 1


class Draws:
    """Draws from one seeded generator, using only ``random()``."""

    def __init__(self, seed: int):
        self._random = random.Random(seed)

    def below(self, n: int) -> int:
        return min(int(self._random.random() * n), n - 1)

    def weighted(self, options, weights):
        point = self.below(sum(weights))
        for option, weight in zip(options, weights):
            if point < weight:
                return option
            point -= weight
        raise AssertionError("unreachable")

    def skewed_fen(self, lowest: int, highest: int) -> int:
        """Whole fen in [lowest, highest], cubed draw: many small bills, a few large."""
        u = self._random.random()
        return lowest + int(u * u * u * (highest - lowest))

    def share_permille(self, lowest: int, highest: int) -> int:
        return lowest + self.below(highest - lowest + 1)


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def make_claims(seed: int = SEED, count: int = CLAIMS) -> list[dict]:
    draws = Draws(seed)
    drafts: list[tuple[datetime.date, int, dict]] = []
    person = 0
    while len(drafts) < count:
        person += 1
        identities = draws.weighted(IDENTITIES, IDENTITY_WEIGHTS)
        n = min(draws.weighted(CLAIMS_PER_PERSON, CLAIMS_PER_PERSON_WEIGHTS), count - len(drafts))
        for _ in range(n):
            date = FIRST_DAY + datetime.timedelta(days=draws.below(DAYS))
            drafts.append((date, len(drafts), _claim(draws, f"jm-p{person:04d}", date, identities)))
    drafts.sort(key=lambda item: (item[0], item[1]))
    claims = []
    for number, (_, _, record) in enumerate(drafts, 1):
        claims.append({"claim_id": f"jm-c{number:04d}", **record})
    return claims


def _claim(draws: Draws, person_id: str, date: datetime.date, identities) -> dict:
    visit = draws.weighted(VISITS, VISIT_WEIGHTS)
    in_scope = draws.skewed_fen(*COST_RANGE[visit])
    total = in_scope + in_scope * draws.share_permille(0, 250) // 1000
    basic = in_scope * draws.share_permille(450, 750) // 1000   # 基本医保 paid 45–75%
    return {
        "person_id": person_id, "date": date.isoformat(), "identities": list(identities),
        "scheme": "居民医保", "visit": visit, "total_cost": _yuan(total),
        "in_scope_cost": _yuan(in_scope), "paid": {"基本医保": _yuan(basic)},
    }


def corpus_text(seed: int = SEED, count: int = CLAIMS) -> str:
    return "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in make_claims(seed, count))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--claims", type=int, default=CLAIMS)
    parser.add_argument("-o", "--output", type=pathlib.Path, default=OUTPUT)
    args = parser.parse_args()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(corpus_text(args.seed, args.claims), encoding="utf-8")
    print(f"wrote {args.claims} claims (seed {args.seed}) to {args.output}")


if __name__ == "__main__":
    main()
