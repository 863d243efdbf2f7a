"""AST → checked :class:`Policy`: names resolved, values typed, revisions applied.

Every problem is a :class:`Diagnostic` with a stable ``S2xx`` code and the
span of the offending text; docs/errors.md lists the codes.  The passes live in
``dsl/checking/``, one job each; this module runs them in the order their
names resolve (identities and fields before the lines that use them, lines
before the alerts, ceiling and referrals that name lines) and assembles the
:class:`Policy`.
"""

from __future__ import annotations

import attrs

from yibao.core.diagnostics import Diagnostic, Severity, capped
from yibao.core.span import NO_SPAN
from yibao.dsl import ast
from yibao.dsl.checking.alerts import build_alerts
from yibao.dsl.checking.ceiling import ceiling
from yibao.dsl.checking.fields import declare_fields
from yibao.dsl.checking.header import check_header, clauses, schemes
from yibao.dsl.checking.identities import declare_identities, take_highest
from yibao.dsl.checking.lines import build_lines
from yibao.dsl.checking.look_alikes import check_look_alikes
from yibao.dsl.checking.named import named_items
from yibao.dsl.checking.referrals import build_referrals
from yibao.dsl.checking.state import CheckState
from yibao.dsl.checking.subsidies import check_over_subsidy, subsidy, zero_contribution
from yibao.dsl.checking.tables import table
from yibao.dsl.inherit import inherit_table
from yibao.dsl.model import UNSPECIFIED, ByIdentity, Policy
from yibao.dsl.values import Kind


@attrs.frozen
class CheckResult:
    policy: Policy | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return self.policy is not None and not any(
            d.severity is Severity.ERROR for d in self.diagnostics
        )


def check_policy(tree: ast.PolicyFile, parent: Policy | None = None,
                 source_sha256: str = "") -> CheckResult:
    state = CheckState(tree, parent)
    policy = _run(state, source_sha256)
    has_error = any(d.severity is Severity.ERROR for d in state.diagnostics)
    return CheckResult(None if has_error else policy, capped(state.diagnostics))


def _run(state: CheckState, source_sha256: str) -> Policy | None:
    header = check_header(state)
    if header is None:
        return None
    state.version = header.policy_id
    check_look_alikes(state)
    declare_identities(state)
    highest = take_highest(state)
    declare_fields(state)
    build_lines(state)
    alerts = build_alerts(state)
    subsidies = subsidy(state)
    zero_for, zero_rule = zero_contribution(state)
    check_over_subsidy(state, subsidies, zero_for)
    ratio_ceiling = ceiling(state)
    params = _params(state)
    quoted = clauses(state)
    parent = state.parent
    return Policy(
        policy_id=header.policy_id,
        title=header.title or (parent.title if parent else ""),
        region=header.region or (parent.region if parent else ""),
        effective=header.effective,
        source=header.source or "",
        extends=header.extends,
        identities=tuple(state.identities),
        take_highest=highest,
        lines=tuple(state.lines),
        alerts=alerts,
        subsidy=subsidies,
        ceiling=ratio_ceiling,
        params=params,
        fields=tuple(state.fields),
        clauses=quoted,
        schemes=schemes(state, header),
        referrals=build_referrals(state),
        zero_contribution=zero_for,
        zero_contribution_rule=zero_rule,
        source_path=state.tree.path,
        source_sha256=source_sha256,
        awaits_base=(parent.awaits_base if parent is not None
                     else header.extends if header.extends else None),
    )


def _params(state: CheckState) -> tuple[ByIdentity, ...]:
    parent = state.parent
    inherited = {p.name: inherit_table(p) for p in parent.params} if parent else {}
    return named_items(state, ast.Param, inherited, "parameter", lambda item, _names: table(
        state, item.name.text, item.spec, Kind.ANY, f"param {item.name.text}",
        identity_keys=False))


__all__ = ["check_policy", "CheckResult", "UNSPECIFIED", "NO_SPAN"]
