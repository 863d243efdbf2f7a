"""Helpers for tests: build claims in docs/claims.md's format and settle them."""

from __future__ import annotations

import pathlib

from yibao.api import evaluate_claims, load_engine
from yibao.core.diagnostics import PolicyError

ROOT = pathlib.Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
EXAMPLES = POLICIES / "examples"


def claim(claim_id: str, person: str, date: str, identities, in_scope: str, upstream: dict,
          visit: str = "住院", scheme: str = "居民医保", total: str | None = None, **extra) -> dict:
    """A claim in docs/claims.md's format; total_cost defaults to in_scope_cost."""
    record = {
        "claim_id": claim_id, "person_id": person, "date": date, "identities": list(identities),
        "scheme": scheme, "visit": visit, "total_cost": total or in_scope,
        "in_scope_cost": in_scope, "paid": upstream,
    }
    record.update(extra)
    return record


def settle(engine, *claims, trace: bool = False):
    return evaluate_claims(engine, list(claims), trace=trace)


def engines_that_load(paths) -> dict:
    """An engine for each policy file that settles claims on its own, by file stem.

    A standalone amendment whose base is not shipped (Lhasa 2020) loads, but refuses
    every claim that needs the base's values (C311): it settles nothing, so it is left out.
    """
    engines = {}
    for path in paths:
        try:
            engine = load_engine(path)
        except PolicyError:
            continue
        if engine.policy.awaits_base is None:
            engines[path.stem] = engine
    return engines


def compiled_policies() -> list[str]:
    """Every shipped policy that compiles on its own (issue 9's "computable").

    Jiamusi's notices leave some rates unspecified: the claims that need one are
    refused (C311) and the rest settled, on every backend.
    """
    return list(engines_that_load(sorted(POLICIES.glob("*.policy"))))


# A revision of Benxi 2023 from 1 July raising 基本救助's annual cap to 3万: two policy
# versions in one year, for the book's revision and bulk-path tests.
BENXI_REVISION = """policy benxi-2023-07 extends benxi-2023 {
    title "测试用修订：基本救助年度限额3万"
    effective 2023-07-01
    source "tests"
}

amend 基本救助 {
    cap 3万 §(五) "基本救助年度救助限额按3万元执行（测试用修订）"
}
"""


# The shared head: 特困人员, 基本医保 upstream, 基本救助 96% over 1,000 with a 50,000 cap.
CEILING_HEAD = """\
policy c-2023 {
    effective 2023-01-01
}
identity 特困人员 §四
line 基本医保 upstream §四
line 基本救助 {
    covers 住院 §四
    base remaining §四
    deductible 1000 §四
    rate 96% §四
    cap 5万 §四
}
"""
# A ratio ceiling of 95% for 特困人员 that cuts 倾斜救助 (Xinjiang §四's shape): the
# lint model's and the engine's hand-worked ceiling (tests/lint).
CEILING_POLICY = CEILING_HEAD + """\
line 倾斜救助 {
    covers 住院 §四
    base remaining §四
    rate 100% §四
}
ceiling 95% §四 {
    identities 特困人员 §四
    reduces 倾斜救助 §四
}
"""


# A per-unit line (Benxi §(五)'s shape, with an amount the notice does not give): 100 a
# bed day within the base, cap 3,000 (tests/explain, tests/lint).
PER_DAY_POLICY = """\
policy t-2023 {
    effective 2023-01-01
}
identity 特困人员 §(五)
field bed_days "住院床日": count §(五) "按住院床日给予定额救助"
line 基本医保 upstream §(三)
line 床日定额救助 {
    covers 住院 §(五)
    identities 特困人员 §(五)
    per bed_days 100 §(五)
    cap 3000 §(五)
}
"""
