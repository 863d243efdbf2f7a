"""What a claim would need from a base policy that is not beside its amendment.

Lhasa 2020 amends the Tibet-wide rules (xizang-2019), which are not shipped: the
values they would give are unspecified (the lines awaiting their base, in
dsl/checking/amendments.py).  A claim that needs them is refused, one refusal
per claim (C311, as any claim that needs an unspecified value), naming every
such value it would read and the clause that needs it, so a batch still answers
every claim.  The scalar evaluator and the SQL backends (backends/prepare.py)
word the refusal with the same function, so they agree to the character.
"""

from __future__ import annotations

from typing import Callable

from yibao.dsl.ast import Condition
from yibao.dsl.model import NO_IDENTITY, Policy

CODE = "C311"


def awaited_values(policy: Policy, candidate: str | None, visit: str,
                   holds: Callable[[Condition], bool]) -> list[str]:
    """Each unspecified value a claim of ``visit`` settled as ``candidate`` reads, in
    evaluation order: ``名称 [身份] §clause``.  ``holds`` answers a line's condition."""
    needed = []
    for line in policy.computed_lines:
        if visit not in line.visits or not line.covers_identity(candidate):
            continue
        if line.condition is not None and not holds(line.condition):
            continue
        for table in (line.deductible, line.rate, line.cap, line.per_unit):
            sourced = table.for_claim(candidate, visit) if table is not None else None
            if sourced is None or not sourced.is_unspecified:
                continue
            clause = f" §{sourced.clause}" if sourced.clause else ""
            # a value an amendment gave some visits names the claim's (Lhasa §四(四)一)
            name = table.name + (f"（{visit}）" if visit in dict(table.by_visit) else "")
            needed.append(f"{name} [{candidate or NO_IDENTITY}]{clause}")
    return needed


def refusal_words(policy: Policy, needed: list[str]) -> tuple[str, str]:
    """The refusal's message and hint."""
    base = policy.awaits_base
    return (f"{policy.policy_id} amends {base}, which is not beside it: this claim needs "
            f"{len(needed)} of its values: " + "; ".join(needed),
            f"put {base}.policy in the same folder as {policy.policy_id}.policy; "
            "yibao never invents the values it gives")
