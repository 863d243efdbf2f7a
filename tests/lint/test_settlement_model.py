"""The lint's exact one-claim model agrees with the engine, and finds every kink.

lint/graph_model.py settles the compiled graph without rounding; the engine rounds each
line's payout to the fen.  At every kink the analysis finds (the burden rounded
to the fen), each line's payout from the engine is the model's within a fen
(the rounding of the line and of the lines before it).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from helpers import CEILING_POLICY, POLICIES, claim, compiled_policies, settle
from yibao.api import load_engine
from yibao.compiler.arithmetic import DECIMAL, annual_payout
from yibao.dsl.loader import load_policy
from yibao.dsl.model import BandSchedule, BandSlice
from yibao.lint.curves import Curve, share_supremum, trace_curve
from yibao.lint.scenarios import effective_identities, scenarios
from yibao.lint.exact import FractionArithmetic
from yibao.compiler.lower import lower_policy
from yibao.lint.graph_model import Settlement, settle as model_settle

FEN = Decimal("0.01")


def _fen(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(FEN)


def _agree(engine, policy, identity: str, upstream_share: Fraction, fields: dict) -> int:
    """Settle each kink's claim in the engine and in the model; return how many were compared."""
    graph = lower_policy(policy)
    scenario = next(s for s in scenarios(graph, identity)
                    if s.visit == "住院" and dict(s.fields) == fields)
    ratio = upstream_share / (1 - upstream_share)
    curve = trace_curve(lambda b: model_settle(graph, scenario, b, ratio * b))
    upstream_lines = [line.name for line in policy.upstream_lines]
    compared = 0
    for number, point in enumerate(curve.settlements):
        burden, upstream = _fen(point.burden), _fen(point.upstream)
        paid = {name: "0.00" for name in upstream_lines}
        if upstream_lines:
            paid[upstream_lines[0]] = str(upstream)
        result, = settle(engine, claim(f"k{number}", f"p{number}", "2023-06-01", [identity],
                                       str(burden + upstream), paid, **fields))
        exact = model_settle(graph, scenario, Fraction(burden), Fraction(upstream))
        for line in policy.computed_lines:
            assert abs(result.payout(line.name) - _fen(exact.payout(line.name))) <= FEN, (
                identity, burden, line.name)
        compared += 1
    return compared


@pytest.mark.parametrize("identity", ["特困人员", "低保对象", "低保边缘家庭成员", "因病致贫重病患者"])
@pytest.mark.parametrize("upstream_share", [Fraction(0), Fraction(1, 2)])
def test_benxi_engine_and_model_agree_at_every_kink(identity, upstream_share):
    policy = load_policy(POLICIES / "benxi-2023.policy").latest
    engine = load_engine(POLICIES / "benxi-2023.policy")
    fields = {"in_province": True, "mental_disorder": False, "referred": False}
    assert _agree(engine, policy, identity, upstream_share, fields) >= 3




@pytest.mark.parametrize("upstream_share", [Fraction(0), Fraction(3, 10)])
def test_the_ratio_ceiling_agrees_with_the_engine(tmp_path, upstream_share):
    path = tmp_path / "c-2023.policy"
    path.write_text(CEILING_POLICY, encoding="utf-8")
    policy = load_policy(path).latest
    assert _agree(load_engine(path), policy, "特困人员", upstream_share, {}) >= 4


def test_the_model_schedule_is_the_engines_g():
    """Jiamusi 2022's bands (§二.1): 65% to 2万, 70% to 5万, 75% beyond, above 1.2万.

    One formula (compiler/arithmetic.py), in Fractions for lint and Decimals for the
    engine: base 30,000 pays 65% × 18,000 = 11,700; 62,000 pays 65% × 20,000 + 70% ×
    30,000 = 34,000; 100,000 adds 75% × 38,000: 62,500."""
    bands = BandSchedule((BandSlice(Decimal(0), Decimal(20000), Decimal("0.65")),
                          BandSlice(Decimal(20000), Decimal(50000), Decimal("0.70")),
                          BandSlice(Decimal(50000), None, Decimal("0.75"))))
    exact = tuple((Fraction(b.lower), Fraction(b.upper) if b.upper else None, Fraction(b.rate))
                  for b in bands.slices)
    expected = {0: 0, 5000: 0, 12000: 0, 30000: 11700, 62000: 34000, 100000: 62500}
    for base, paid in expected.items():
        switches: list[Fraction] = []
        model = annual_payout(FractionArithmetic(switches), Fraction(base), Fraction(12000), exact)
        engine = annual_payout(DECIMAL, Decimal(base), Decimal(12000), bands)
        assert model == engine == paid
        assert len(switches) == 5   # each band's clamp, the two bands' upper edges


def _line(points):
    """A settlement whose only payout is ``points``' piecewise-linear function of B."""
    def at(burden: Fraction) -> Settlement:
        value = min(max(burden - 100, Fraction(0)) / 2, Fraction(50))   # kinks at 100 and 200
        return Settlement(burden, Fraction(0), (("x", value),), (), (burden - 100, value - 50))
    return at


def test_every_kink_is_found_exactly_and_the_share_is_a_limit_or_reached():
    curve = trace_curve(_line(None))
    assert [s.burden for s in curve.kinks] == [100, 200]
    assert isinstance(curve, Curve) and [s.burden for s in curve.past] == [201, 202]
    best = share_supremum(curve, lambda s: s.payout("x"))
    assert (best.share, best.reached, best.settlement.burden) == (Fraction(1, 4), True, 200)


def _points(curve) -> list[Fraction]:
    """Every kink of the curve, a point between each two, and two past the last
    (``settlements`` holds both)."""
    kinks = [point.burden for point in curve.settlements]
    between = [(a + b) / 2 for a, b in zip([Fraction(0)] + kinks, kinks)]
    return sorted(set(kinks + between))


@pytest.mark.parametrize("name", compiled_policies())
def test_lint_and_the_engine_agree_on_every_shipped_policy(name):
    """Lint's exact model and the scalar evaluator compute with the same formulas
    (compiler/arithmetic.py): on every shipped policy, for every identity and scenario,
    at every kink and between them, each line's payout agrees to the fen (the engine
    rounds G half up and the ceiling's bound down; the model does not round)."""
    policy = load_policy(POLICIES / f"{name}.policy").latest
    engine = load_engine(POLICIES / f"{name}.policy")
    graph = lower_policy(policy)
    upstream_lines = [line.name for line in policy.upstream_lines]
    compared = 0
    for identity in effective_identities(policy):
        for scenario in scenarios(graph, identity):
            if scenario.unknown or any(policy.line(name).per_unit for name in scenario.lines):
                continue   # a value left open is refused; a per-unit line is bounded, not modelled
            fields = dict(scenario.fields)
            ratio = Fraction(1)   # the upstream lines pay as much as they leave
            curve = trace_curve(lambda b: model_settle(graph, scenario, b, ratio * b))
            for burden in _points(curve):
                burden, upstream = _fen(burden), _fen(ratio * burden)
                paid = {line: "0.00" for line in upstream_lines}
                if upstream_lines:
                    paid[upstream_lines[0]] = str(upstream)
                result, = settle(engine, claim(
                    f"k{compared}", f"p{compared}", str(policy.effective),
                    [identity] if identity else [], str(burden + upstream), paid,
                    visit=scenario.visit, **fields))
                exact = model_settle(graph, scenario, Fraction(burden), Fraction(upstream))
                for line in policy.computed_lines:
                    assert abs(result.payout(line.name) - _fen(exact.payout(line.name))) <= FEN, (
                        identity, scenario.describe(), burden, line.name)
                compared += 1
    assert compared >= 10
