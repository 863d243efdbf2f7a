"""Over-protection (过度保障): the largest share of the in-scope cost the lines can pay.

For one claim in a fresh year and one effective identity, the upstream lines
(基本医保, 大病保险 settled elsewhere) pay an unknown U, 0 ≤ U ≤ in-scope cost,
and leave the burden B; the policy's own lines pay A(B) of it.  Two figures:

* the **assistance share** sup A(B)/B over every burden B > 0 and scenario:
  the largest share of the burden left by the upstream lines that the
  policy's lines pay;
* the **combined share** (U + A)/(U + B).  With the upstream lines paying a
  share s of the in-scope cost it is at most s + (1 − s)·α (exactly that
  without a ratio ceiling), which tends to 100% as s → 100% whatever the policy
  does: the supremum over every upstream payout is always 100% and says
  nothing.  So the combined share is reported at an upstream share s set in the
  configuration (``upstream-share``, default 0%), where it equals the
  assistance share when s = 0.

The ceiling (95% by default, Xinjiang §四) is compared with the combined share
at that upstream share.  With s = 0 a share above the ceiling means the
policy's own lines pass it whatever the upstream lines pay, since the combined
share only grows with s.  The report also gives the upstream share beyond which
the combined share passes the ceiling.
"""

from __future__ import annotations

from fractions import Fraction

import attrs

from yibao.compiler.graph import EvaluationGraph
from yibao.compiler.lower import lower_policy
from yibao.dsl.model import Policy
from yibao.lint.curves import Curve, Extreme, share_supremum, trace_curve
from yibao.lint.scenarios import Scenario, effective_identities, scenarios
from yibao.lint.graph_model import ZERO, Settlement, settle


@attrs.frozen
class IdentityShare:
    identity: str | None
    assistance: Extreme | None          # None: no computed line pays this identity
    assistance_scenario: Scenario | None
    combined: Extreme | None            # at the configured upstream share
    combined_scenario: Scenario | None
    upstream_share: Fraction
    unknown: tuple[tuple[str, str], ...]   # (line, value) left out: unspecified

    def upstream_share_passing(self, ceiling: Fraction) -> Fraction | None:
        """The upstream share s beyond which s + (1 − s)·α passes ``ceiling`` (no policy ceiling).

        None when the assistance share alone passes it, or when a ratio ceiling
        of the policy applies where the assistance share is reached.
        """
        if self.assistance is None:
            return ceiling
        alpha = self.assistance.share
        if alpha >= ceiling or self.assistance_scenario.ceiling_applies:
            return None
        return (ceiling - alpha) / (1 - alpha)


@attrs.frozen
class ScenarioCurve:
    scenario: Scenario
    curve: Curve


class ProtectionAnalysis:
    """Every scenario's curve (no upstream payout), and the shares by identity."""

    def __init__(self, policy: Policy, upstream_share: Fraction = ZERO,
                 graph: EvaluationGraph | None = None):
        self.policy = policy
        # The settlements are the compiled graph's (lint/graph_model.py visits it).
        self.graph = graph if graph is not None else lower_policy(policy)
        self.upstream_share = upstream_share
        self.curves: dict[str | None, list[ScenarioCurve]] = {}
        for identity in effective_identities(policy):
            self.curves[identity] = [
                ScenarioCurve(scenario, self._curve(scenario, ZERO))
                for scenario in scenarios(self.graph, identity)
            ]
        self.shares = tuple(self._share(identity) for identity in self.curves)

    def _curve(self, scenario: Scenario, upstream_per_burden: Fraction) -> Curve:
        return trace_curve(lambda burden: settle(
            self.graph, scenario, burden, upstream_per_burden * burden))

    def _share(self, identity: str | None) -> IdentityShare:
        paying = [c for c in self.curves[identity] if c.scenario.lines]
        unknown = tuple(dict.fromkeys(u for c in self.curves[identity] for u in c.scenario.unknown))
        if not paying:
            return IdentityShare(identity, None, None, None, None, self.upstream_share, unknown)
        # With no upstream payout everything paid is paid by the policy's lines.
        assistance, where = _best((share_supremum(c.curve, _all_paid), c.scenario)
                                  for c in paying)
        combined, combined_where = assistance, where
        if self.upstream_share > 0:
            ratio = self.upstream_share / (1 - self.upstream_share)   # U per yuan of burden
            combined, combined_where = _best(
                (share_supremum(self._curve(c.scenario, ratio), _all_paid), c.scenario)
                for c in paying)
        return IdentityShare(identity, assistance, where, combined, combined_where,
                             self.upstream_share, unknown)


def _all_paid(settlement: Settlement) -> Fraction:
    return settlement.total


def _best(candidates) -> tuple[Extreme, Scenario]:
    """The highest share; on a tie, one that is reached beats a limit, then the first."""
    best = None
    for extreme, scenario in candidates:
        if best is None or (extreme.share, extreme.reached) > (best[0].share, best[0].reached):
            best = (extreme, scenario)
    return best


def treated_as(policy: Policy, identity: str) -> list[str]:
    """The identities that receive ``identity``'s treatment (参照执行)."""
    return [i.name for i in policy.identities
            if i.treated_as and policy.effective_identity(i.name) == identity]
