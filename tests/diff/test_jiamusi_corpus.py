"""Jiamusi 2021 vs 2022 over the shipped corpus (policies/corpus/jiamusi-1000.jsonl),
checked against an independent, straightforward settlement of 大病保险.

The reference below implements docs/specification.md §6 for this one line from the notice
(policies/notices/jiamusi-2021.txt §二.1), without yibao's engine: base = in-scope cost −
基本医保; per person and calendar year in date order (ties: input order), a claim
pays round(G(C_after)) − round(G(C_before)) within what is left of the cap.
  2021: deductible 12,000 (脱贫人口 6,000), 60% (脱贫人口 65%), cap 500,000 (脱贫人口 none).
  2022: the same deductibles; bands 65% of the first 20,000 above the deductible, 70% to
        50,000, 75% beyond; no cap; 脱贫人口's rate unspecified (refused).
  特困人员, 低保对象, 返贫致贫人口: 倾斜性保障 without a figure, refused under both.
Only 住院 and 门诊慢特病 are covered; an uncovered claim pays 0 and reads no rate.
Every claim is settled under each version, whatever its date (`--at`/`--vs`).
"""

from __future__ import annotations

import datetime
import json
from decimal import ROUND_HALF_UP, Decimal

import pytest

from helpers import POLICIES
from yibao.diff import diff_files
from yibao.diff.render_json import report_to_json

CORPUS = POLICIES / "corpus" / "jiamusi-1000.jsonl"
COVERED = ("住院", "门诊慢特病")
TILTED = ("特困人员", "低保对象", "返贫致贫人口")
REFUSED = "refused"


def fen(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def g_2021(c: Decimal, poor: bool) -> Decimal:
    rate, deductible = (Decimal("0.65"), 6000) if poor else (Decimal("0.60"), 12000)
    return rate * max(c - deductible, Decimal(0))


def g_2022(c: Decimal) -> Decimal:
    above = max(c - 12000, Decimal(0))
    return (Decimal("0.65") * min(above, 20000) + Decimal("0.70") * min(max(above - 20000, 0), 30000)
            + Decimal("0.75") * max(above - 50000, 0))


def reference(claims: list[dict], year: int) -> list:
    """Each claim's 大病保险 payout under the 2021 or 2022 figures, or REFUSED."""
    out: list = [None] * len(claims)
    ledger: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
    for index in sorted(range(len(claims)), key=lambda i: (claims[i]["date"], i)):
        claim = claims[index]
        identity = claim["identities"][0] if claim["identities"] else None
        if claim["visit"] not in COVERED:
            out[index] = Decimal("0.00")
            continue
        if identity in TILTED or (year == 2022 and identity == "脱贫人口"):
            out[index] = REFUSED
            continue
        poor = identity == "脱贫人口"
        g = (lambda c: g_2021(c, poor)) if year == 2021 else g_2022
        cap = 500000 if year == 2021 and not poor else None
        key = (claim["person_id"], claim["date"][:4])
        before, paid = ledger.get(key, (Decimal(0), Decimal(0)))
        after = before + Decimal(claim["in_scope_cost"]) - Decimal(claim["paid"]["基本医保"])
        payout = fen(g(after)) - fen(g(before))
        if cap is not None:
            payout = min(payout, cap - paid)
        payout = max(payout, Decimal(0))
        ledger[key] = (after, paid + payout)
        out[index] = payout
    return out


@pytest.fixture(scope="module")
def claims():
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def expected(claims):
    return reference(claims, 2021), reference(claims, 2022)


@pytest.fixture(scope="module")
def report():
    return diff_files(POLICIES / "jiamusi-2022.policy", at=datetime.date(2021, 12, 31),
                      vs=datetime.date(2022, 1, 1), claims=CORPUS)


def test_corpus_is_large_and_mixed(claims):
    identities = {tuple(c["identities"]) for c in claims}
    assert len(claims) >= 1000
    assert {(), ("脱贫人口",), ("特困人员",), ("低保对象",), ("返贫致贫人口",)} <= identities
    assert {c["visit"] for c in claims} == {"住院", "门诊慢特病", "普通门诊", "高值药品"}
    assert {c["date"][:4] for c in claims} == {"2021", "2022"}


def test_categories_match_the_reference(report, expected):
    old, new = expected
    both = [i for i in range(len(old)) if REFUSED not in (old[i], new[i])]
    changed = [i for i in both if old[i] != new[i]]
    summary = report.summary
    assert summary.claims == len(old)
    assert dict(summary.counts) == {
        "changed": len(changed),
        "unchanged": len(both) - len(changed),
        "failed_old_only": sum(1 for a, b in zip(old, new) if a == REFUSED and b != REFUSED),
        "failed_new_only": sum(1 for a, b in zip(old, new) if a != REFUSED and b == REFUSED),
        "failed_both": sum(1 for a, b in zip(old, new) if a == REFUSED and b == REFUSED),
    }
    assert summary.count("failed_new_only") > 0 and summary.count("failed_both") > 0
    assert [c.claim.line - 1 for c in report.corpus.of_category("changed")] == changed


def test_totals_means_and_buckets_match_the_reference(report, expected):
    old, new = expected
    changes = [new[i] - old[i] for i in range(len(old))
               if REFUSED not in (old[i], new[i]) and old[i] != new[i]]
    summary = report.summary
    [line] = summary.by_line
    assert line.name == "大病保险"
    assert line.old_total == sum(old[i] for i in range(len(old))
                                 if REFUSED not in (old[i], new[i]) and old[i] != new[i])
    assert summary.changed.change == sum(changes) == line.change
    assert summary.changed.mean_change == fen(sum(changes) / len(changes))
    assert summary.increased == sum(1 for c in changes if c > 0)
    assert summary.decreased == sum(1 for c in changes if c < 0)
    sizes = [abs(c) for c in changes]
    buckets = dict(summary.buckets)
    assert buckets["(0, +100)"] == sum(1 for s in sizes if s < 100)
    assert buckets["[+100, +1,000)"] == sum(1 for s in sizes if 100 <= s < 1000)
    assert buckets["[+1,000, +10,000)"] == sum(1 for s in sizes if 1000 <= s < 10000)
    assert buckets["≥ +10,000"] == sum(1 for s in sizes if s >= 10000)


def test_by_identity_and_what_the_refused_claims_were_paid(report, expected, claims):
    old, new = expected
    label = lambda c: c["identities"][0] if c["identities"] else "无救助身份"
    totals: dict[str, Decimal] = {}
    for i, claim in enumerate(claims):
        if REFUSED not in (old[i], new[i]) and old[i] != new[i]:
            totals[label(claim)] = totals.get(label(claim), Decimal(0)) + new[i] - old[i]
    assert {g.name: g.change for g in report.summary.by_identity} == totals
    refused_now = sum((old[i] + Decimal(claims[i]["paid"]["基本医保"]) for i in range(len(old))
                       if old[i] != REFUSED and new[i] == REFUSED), Decimal(0))
    assert dict(report.summary.refused_paid)["failed_new_only"] == refused_now


def test_every_changed_claim_diverges_at_the_rate_or_the_cap(report):
    """The 2021 rate (60%) and the 2022 bands differ for everyone the 2022 bands apply to."""
    nodes = {(c.divergence.node, c.divergence.old_value) for c in
             report.corpus.of_category("changed")}
    assert nodes == {("大病保险.rate", "60%")}


def test_json_rendering_carries_the_same_figures(report):
    data = report_to_json(report)
    assert data["changed"] is True
    assert data["summary"]["changed"]["change"] == f"{report.summary.changed.change:.2f}"
    assert len(data["claims"]) == report.summary.claims - report.summary.count("unchanged")
    first = next(c for c in data["claims"] if c["category"] == "changed")
    assert first["divergence"]["node"] == "大病保险.rate"
    assert first["lines"][0]["line"] == "大病保险"
