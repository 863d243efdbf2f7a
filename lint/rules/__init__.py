"""The lint rules, one module each: its code, name, severity and check.

Codes are stable: L0xx the file and its suppressions, L1xx correctness, L2xx
over-protection (过度保障), L3xx completeness, L4xx monotonicity.  A module's
docstring says what the rule does, why it matters, a bad example and what to
write instead; docs/lint-rules.md is generated from them (scripts/gen_lint_docs.py).
"""

from __future__ import annotations

import importlib

from yibao.lint.registry import RegisteredRule, Rule

_MODULES = (
    "policy_unreadable", "policy_rejected", "unused_suppression", "suppression_reason",
    "rate_range", "band_order", "deductible_cap", "untreated_identity", "treated_chain",
    "treated_cycle", "never_pays", "unknown_identity", "unknown_line", "duplicate_rule",
    "citation_clause", "quote_not_in_notice", "figure_not_in_quote",
    "share_above_ceiling", "share_reaches_full", "zero_contribution", "subsidy_above_bound",
    "unspecified_value", "inherited_value", "missing_citation", "field_display_name",
    "payout_falls",
)


def _load() -> tuple[RegisteredRule, ...]:
    rules = []
    for name in _MODULES:
        module = importlib.import_module(f"yibao.lint.rules.{name}")
        rules.append(RegisteredRule(module.RULE, module.check))
    return tuple(rules)


RULE_MODULES = _load()


def all_rules() -> tuple[RegisteredRule, ...]:
    # Read at each call, not bound at import: a test swaps RULE_MODULES for a broken rule.
    return RULE_MODULES


def rule_by_code(code: str) -> Rule | None:
    for registered in all_rules():
        if registered.rule.code == code:
            return registered.rule
    return None
