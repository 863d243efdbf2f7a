"""The value diff of two checked policies: what a reviewer of a revision reads first.

Compares two :class:`yibao.dsl.model.Policy` objects (revisions already
applied, so an inherited value compares as the value in force): every line's
deductible, rate, cap and per-unit tables by identity, its coverage, condition,
members and bases; alerts, subsidies, the ratio ceiling, parameters,
identities and their treated-as, referrals.  Tables are compared by the value
each identity actually gets (an identity that falls back to ``others`` gets
the ``others`` value), so restating a value changes nothing and dropping an
identity whose value equals ``others`` is not a change.
"""

from __future__ import annotations

from typing import Iterable, Iterator

import attrs

from yibao.diff.words import (
    AMOUNT, RATE, citation_words, kind_of_table, names_words, sourced_words,
)
from yibao.dsl import ast
from yibao.dsl.model import OTHERS, ByIdentity, LineDef, Policy

CHANGED, ADDED, REMOVED = "changed", "added", "removed"


@attrs.frozen
class ValueChange:
    """One value that differs: where it is, for whom, before and after, and why (the clause)."""

    kind: str                  # changed | added | removed
    subject: str               # a line, alert, parameter… : 基本救助, 因病返贫风险, 资助参保
    item: str                  # 支付比例, 保障范围, 计算基数, 参照执行, …
    key: str | None            # an identity, a scheme, others/全体; None when not by identity
    old: str | None
    new: str | None
    old_citation: str = ""
    new_citation: str = ""
    version: str = ""          # the version whose text set the new value

    @property
    def where(self) -> str:
        who = f" [{self.key}]" if self.key else ""
        return f"{self.subject}.{self.item}{who}"

    def to_json(self) -> dict:
        return {"kind": self.kind, "subject": self.subject, "item": self.item, "key": self.key,
                "old": self.old, "new": self.new, "old_citation": self.old_citation,
                "new_citation": self.new_citation, "version": self.version}


def diff_values(old: Policy, new: Policy) -> tuple[ValueChange, ...]:
    changes: list[ValueChange] = []
    changes.extend(_policy_rules(old, new))
    changes.extend(_identities(old, new))
    changes.extend(_lines(old, new))
    changes.extend(_alerts(old, new))
    changes.extend(_tables("资助参保", "资助标准", old.subsidy, new.subsidy))
    changes.extend(_ceiling(old, new))
    changes.extend(_by_name(old.params, new.params, lambda p: p.name, _param))
    changes.extend(_by_name(old.referrals, new.referrals, lambda r: r.name, _referral))
    changes.extend(_by_name(old.fields, new.fields, lambda f: f.name, _field))
    return tuple(changes)


def _change(subject, item, key, old, new, old_cite="", new_cite="", version="") -> ValueChange:
    kind = ADDED if old is None else REMOVED if new is None else CHANGED
    return ValueChange(kind, subject, item, key, old, new, old_cite, new_cite, version)


def _rule(subject, item, old_text, new_text, old_rule=None, new_rule=None):
    """A change of a rule that is not by identity (coverage, base, members…), if any."""
    if old_text == new_text:
        return []
    return [_change(subject, item, None, old_text, new_text,
                    citation_words(old_rule.citation) if old_rule else "",
                    citation_words(new_rule.citation) if new_rule else "",
                    new_rule.version if new_rule else "")]


def _by_name(old_items, new_items, name_of, compare) -> Iterator[ValueChange]:
    """Items matched by name: removed, added, or compared with ``compare``."""
    old_by = {name_of(item): item for item in old_items}
    new_by = {name_of(item): item for item in new_items}
    for name in _union(old_by, new_by):
        yield from compare(name, old_by.get(name), new_by.get(name))


def _union(*mappings) -> list:
    keys: list = []
    for mapping in mappings:
        for key in mapping:
            if key not in keys:
                keys.append(key)
    return keys


# ---- tables by identity -----------------------------------------------------------------

def _tables(subject: str, item: str, old: ByIdentity | None, new: ByIdentity | None,
            kind: str | None = None) -> list[ValueChange]:
    """Compare two tables key by key, each key read as the policy would read it."""
    if old is None and new is None:
        return []
    kind = kind or kind_of_table(old or new)
    old_keys = _all_keys(old)
    new_keys = _all_keys(new)
    keys = _union(old_keys, new_keys)
    everyone = "全体" if keys == [None] else OTHERS
    changes = []
    # Values an amendment gives some visits only (Lhasa §四(四)一) are compared per visit,
    # each read as a claim of that visit reads it.
    visits = _union([v for v, _ in old.by_visit] if old else [],
                    [v for v, _ in new.by_visit] if new else [])
    for visit in [None] + visits:
        for key in keys:
            before = _read(old, key, visit)
            after = _read(new, key, visit)
            old_text, new_text = sourced_words(before, kind), sourced_words(after, kind)
            if old_text == new_text:
                continue
            who = key if key is not None else everyone
            changes.append(_change(
                subject, item, who if visit is None else f"{visit}: {who}", old_text, new_text,
                citation_words(before.citation) if before else "",
                citation_words(after.citation) if after else "",
                after.version if after else ""))
    return changes


def _all_keys(table: ByIdentity | None) -> list:
    """The table's keys, those an amendment gave some visits only included."""
    keys: list = []
    for _, values in (table.visit_tables() if table is not None else ()):
        keys += [key for key, _ in values if key not in keys]
    return keys


def _read(table: ByIdentity | None, key, visit):
    if table is None:
        return None
    return table.for_identity(key) if visit is None else table.for_claim(key, visit)


# ---- the policy as a whole ------------------------------------------------------------------

def _policy_rules(old: Policy, new: Policy) -> list[ValueChange]:
    changes = []
    changes += _rule("政策", "险种", names_words(old.schemes), names_words(new.schemes))
    changes += _rule("政策", "待遇就高", _present(old.take_highest), _present(new.take_highest),
                     old.take_highest, new.take_highest)
    changes += _rule("政策", "结算顺序", names_words([l.name for l in old.lines]),
                     names_words([l.name for l in new.lines]))
    changes += _rule("政策", "零缴费仅限", names_words(old.zero_contribution),
                     names_words(new.zero_contribution),
                     old.zero_contribution_rule, new.zero_contribution_rule)
    return changes


def _present(rule) -> str:
    return "是" if rule is not None else "否"


def _identities(old: Policy, new: Policy) -> Iterator[ValueChange]:
    def compare(name, before, after):
        if before is None or after is None:
            text = lambda i: "参照执行" + i.treated_as if i and i.treated_as else "本身份待遇"
            yield _change("身份", "身份", name, text(before) if before else None,
                          text(after) if after else None,
                          citation_words(before.citation) if before else "",
                          citation_words(after.citation) if after else "",
                          after.version if after else "")
        elif before.treated_as != after.treated_as:
            yield _change("身份", "参照执行", name, before.treated_as or "—",
                          after.treated_as or "—", citation_words(before.citation),
                          citation_words(after.citation), after.version)

    return _by_name(old.identities, new.identities, lambda i: i.name, compare)


# ---- lines ------------------------------------------------------------------------------------

def _lines(old: Policy, new: Policy) -> Iterator[ValueChange]:
    return _by_name(old.lines, new.lines, lambda l: l.name, _line)


def _line_kind(line: LineDef) -> str:
    return "上游结算" if line.upstream else "本政策计算"


def _line(name: str, old: LineDef | None, new: LineDef | None) -> Iterable[ValueChange]:
    if old is None or new is None:
        line = old or new
        return [_change(name, "支付项目", None, _line_kind(old) if old else None,
                        _line_kind(new) if new else None,
                        citation_words(old.citation) if old else "",
                        citation_words(new.citation) if new else "", line.version)]
    changes = _rule(name, "结算方式", _line_kind(old), _line_kind(new))
    changes += _rule(name, "保障范围", names_words(old.visits), names_words(new.visits),
                     old.visits_rule, new.visits_rule)
    changes += _rule(name, "适用条件", _condition(old.condition), _condition(new.condition),
                     old.condition_rule, new.condition_rule)
    changes += _rule(name, "适用身份", names_words(old.members), names_words(new.members),
                     old.members_rule, new.members_rule)
    changes += _rule(name, "计算基数", _base(old.base_terms), _base(new.base_terms),
                     old.base_rule, new.base_rule)
    changes += _rule(name, "条件基数", _conditional_bases(old), _conditional_bases(new),
                     _first_rule(old), _first_rule(new))
    changes += _rule(name, "定额单位", old.per_unit_field or "—", new.per_unit_field or "—")
    for attribute, item in (("deductible", "起付标准"), ("rate", "支付比例"),
                            ("cap", "年度限额"), ("per_unit", "定额标准")):
        changes += _tables(name, item, getattr(old, attribute), getattr(new, attribute),
                           RATE if attribute == "rate" else AMOUNT)
    return changes


def _condition(condition) -> str:
    return condition_words(condition) if condition is not None else "无"


def _base(terms: tuple[str, ...]) -> str:
    return " − ".join(terms) if terms else "remaining（前序各项支付后的政策范围内费用）"


def _first_rule(line: LineDef):
    return line.conditional_bases[0][2] if line.conditional_bases else None


def _conditional_bases(line: LineDef) -> str:
    return "; ".join(f"{_base(terms) if terms is not None else 'unspecified'} when "
                     f"{condition_words(condition)}"
                     for condition, terms, _ in line.conditional_bases) or "无"


# ---- alerts, ceiling, params, referrals, fields ----------------------------------------------

def _alerts(old: Policy, new: Policy) -> Iterator[ValueChange]:
    def compare(name, before, after):
        if before is None or after is None:
            yield _change(name, "预警", None, "有" if before else None, "有" if after else None)
            return
        yield from _rule(name, "监测负担", _after(before.after_lines), _after(after.after_lines),
                         before.burden_rule, after.burden_rule)
        yield from _rule(name, "就诊类型", names_words(before.visits), names_words(after.visits),
                         before.visits_rule, after.visits_rule)
        yield from _rule(name, "监测对象", _group(before), _group(after),
                         before.group_rule, after.group_rule)
        yield from _tables(name, "预警标准", before.threshold, after.threshold, AMOUNT)

    return _by_name(old.alerts, new.alerts, lambda a: a.name, compare)


def _after(lines) -> str:
    return "全部支付项目后" if lines is None else names_words(lines) + "后"


def _group(alert) -> str:
    return ("除 " if alert.group_excludes else "") + names_words(alert.group)


def _ceiling(old: Policy, new: Policy) -> list[ValueChange]:
    before, after = old.ceiling, new.ceiling
    if before is None and after is None:
        return []
    if before is None or after is None:
        words = lambda c: sourced_words(c.rate, RATE) if c else None
        return [_change("比例上限", "比例", None, words(before), words(after),
                        citation_words(before.rate.citation) if before else "",
                        citation_words(after.rate.citation) if after else "")]
    changes = _tables("比例上限", "比例", ByIdentity("比例上限", ((None, before.rate),)),
                      ByIdentity("比例上限", ((None, after.rate),)), RATE)
    changes += _rule("比例上限", "适用身份", names_words(before.identities),
                     names_words(after.identities))
    changes += _rule("比例上限", "就诊类型", names_words(before.visits), names_words(after.visits))
    changes += _rule("比例上限", "压减项目", names_words(before.reduces), names_words(after.reduces))
    return changes


def _param(name, before, after):
    return _tables("参数", name, before, after)


def _referral(name, before, after):
    if before is None or after is None:
        return [_change(name, "转办", None, "有" if before else None, "有" if after else None,
                        citation_words(before.citation) if before else "",
                        citation_words(after.citation) if after else "")]
    return (_rule(name, "转办对象", names_words(before.identities), names_words(after.identities))
            + _rule(name, "限额项目", names_words(before.lines), names_words(after.lines)))


def _field(name, before, after):
    words = lambda f: f"{f.type}, 缺省 {f.default}" if f else None
    return _rule("申报字段", name, words(before), words(after))


def condition_words(condition) -> str:
    """A condition in the diff's Chinese (非, 且, 或), as the views write it."""
    return ast.condition_text(condition, "非", "且", "或")
