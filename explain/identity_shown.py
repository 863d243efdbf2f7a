"""The identity applied, as the person holds it: 监测帮扶对象（参照低保对象）.

A person who wins take highest through an identity they are only treated as
(参照执行, e.g. Benxi §(六): 监测帮扶对象 参照执行 低保对象) does not hold the
identity the result names.  The views show the identity they hold with the one
applied in brackets, read from the candidate's identity step (its facts' ``held``
and ``treated_from``); the result and the audit record keep the identity applied.
"""

from __future__ import annotations

from yibao.runtime.facts import IdentityFacts
from yibao.compiler.lower import CANDIDATE
from yibao.runtime.trace import Step
from yibao.dsl.model import NO_IDENTITY


def identity_shown(trace: tuple[Step, ...], candidate: str | None, english: bool = False) -> str:
    """``candidate`` as shown: the held identities it is only treated from, with it in
    brackets, when the person holds none of the candidate itself; else its name."""
    if candidate is None:
        return NO_IDENTITY
    facts = next((s.facts for s in trace if s.node == CANDIDATE and s.candidate == candidate
                  and isinstance(s.facts, IdentityFacts)), None)
    if facts is None or not facts.treated_from or set(facts.held) != set(facts.treated_from):
        return candidate
    if english:
        return f"{', '.join(facts.treated_from)} (treated as {candidate})"
    return f"{'、'.join(facts.treated_from)}（参照{candidate}）"
