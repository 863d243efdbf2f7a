"""One claim in a fresh year, settled exactly, as a function of the burden.

This mirrors docs/specification.md for a single claim of a person with nothing paid yet
this year, without rounding (Fractions): each computed line pays its annual
payout function G on its base (deductible, then rate or bands), within its
cap; the ratio ceiling cuts the lines it reduces, last first.  The burden B is
what the in-scope cost leaves after the lines settled upstream; the upstream
lines pay U in all (booked on the first of them), so the in-scope cost is
B + U.  Out-of-scope costs are taken as 0 (a base on ``total_cost`` sees the
in-scope cost).  Tests hold this model to the compiled evaluator's figures.

Besides the payouts, a settlement lists its *switches*: the quantities whose
sign decides a kink (a base reaching a deductible or a band edge, a payout
reaching its cap, the ceiling's excess).  Every payout is piecewise linear in
B, with kinks only where a switch changes sign; :mod:`yibao.lint.curves` uses
them to find every kink exactly.
"""

from __future__ import annotations

from fractions import Fraction

import attrs

from yibao.compiler.arithmetic import annual_payout, capped, ceiling_cut
from yibao.dsl.model import Policy
from yibao.lint.exact import FractionArithmetic
from yibao.lint.scenarios import LineTerms, Scenario

ZERO = Fraction(0)


@attrs.frozen
class Settlement:
    burden: Fraction
    upstream: Fraction
    payouts: tuple[tuple[str, Fraction], ...]          # every line, after the ceiling
    before_ceiling: tuple[tuple[str, Fraction], ...]   # computed lines, before it
    switches: tuple[Fraction, ...]

    @property
    def in_scope(self) -> Fraction:
        return self.burden + self.upstream

    @property
    def total(self) -> Fraction:
        return sum((amount for _, amount in self.payouts), ZERO)

    def payout(self, line: str) -> Fraction:
        return dict(self.payouts)[line]


def settle(policy: Policy, scenario: Scenario, burden: Fraction,
           upstream: Fraction = ZERO) -> Settlement:
    in_scope = burden + upstream
    terms = {line.name: line for line in scenario.lines}
    first_upstream = next((line.name for line in policy.upstream_lines), None)
    payouts: dict[str, Fraction] = {}
    switches: list[Fraction] = []
    for line in policy.lines:
        if line.upstream:
            payouts[line.name] = upstream if line.name == first_upstream else ZERO
        elif line.name in terms:
            payouts[line.name] = _line_payout(terms[line.name], in_scope, payouts, switches)
        else:
            payouts[line.name] = ZERO
    before = tuple((name, payouts[name]) for name in terms)
    if scenario.ceiling_applies:
        _apply_ceiling(policy, in_scope, payouts, switches)
    return Settlement(burden, upstream, tuple(payouts.items()), before, tuple(switches))


def _line_payout(line: LineTerms, in_scope: Fraction, earlier: dict[str, Fraction],
                 switches: list[Fraction]) -> Fraction:
    if line.base_terms:
        # in_scope_cost or total_cost (the same here), less the lines named
        raw = in_scope - sum((earlier.get(term, ZERO) for term in line.base_terms[1:]), ZERO)
    else:
        raw = in_scope - sum(earlier.values(), ZERO)   # remaining: less every earlier line
    # One claim in a fresh year: C_before = 0, so the slice is G(base) itself, and the
    # cap's room is the whole cap (compiler/arithmetic.py, unrounded).
    ar = FractionArithmetic(switches)
    base = ar.clamp(raw)
    payout = annual_payout(ar, base, line.deductible, line.rate)
    if line.cap is None:
        return ar.clamp(payout)
    return capped(ar, payout, ar.const(line.cap), ZERO)


def _apply_ceiling(policy: Policy, in_scope: Fraction, payouts: dict[str, Fraction],
                   switches: list[Fraction]) -> None:
    """Combined payouts ≤ rate × in-scope cost; the reduced lines absorb the excess, last first.

    The engine rounds the bound down to the fen; here it is exact.
    """
    ceiling = policy.ceiling
    payouts.update(ceiling_cut(FractionArithmetic(switches), payouts, ceiling.reduces, in_scope,
                               ceiling.rate.value))
