"""AST → checked :class:`Policy`: names resolved, values typed, revisions applied.

Every problem is a :class:`Diagnostic` with a stable ``S2xx`` code and the
span of the offending text; the README lists the codes.
"""

from __future__ import annotations

import difflib
from decimal import Decimal
from typing import Iterable

import attrs

from yibao.core.diagnostics import Diagnostic, Severity, capped
from yibao.core.money import format_rate
from yibao.core.span import NO_SPAN, Span
from yibao.dsl import ast
from yibao.dsl.amend import amend_table
from yibao.dsl.confusables import skeleton
from yibao.dsl.inherit import inherit_alert, inherit_line, inherit_table
from yibao.dsl.limits import MAX_IDENTITIES, MAX_LINES_OF_DEFENCE
from yibao.dsl.model import (
    OTHERS, SCHEMES, UNSPECIFIED, VISITS, AlertDef, BandSchedule, ByIdentity, CeilingDef,
    FieldDef, IdentityDef, LineDef, Policy, ReferralDef, Rule, Sourced,
)
from yibao.dsl.values import Kind, ValueKindError, rates_in, to_model_value

# Fields of docs/claims.md that every claim has; a policy may not redeclare them.
CORE_FIELDS = (
    "claim_id", "person_id", "date", "identities", "scheme", "visit", "total_cost",
    "in_scope_cost", "paid",
)
BASE_STARTS = ("in_scope_cost", "total_cost")
# The same words as lint's L101: `check` and `lint` give one hint for one mistake.
RATE_RANGE_HINT = "a rate is a share between 0% and 100%"


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
    checker = _Checker(tree, parent)
    policy = checker.run(source_sha256)
    has_error = any(d.severity is Severity.ERROR for d in checker.diagnostics)
    return CheckResult(None if has_error else policy, capped(checker.diagnostics))


class _Checker:
    def __init__(self, tree: ast.PolicyFile, parent: Policy | None):
        self.tree = tree
        self.parent = parent
        self.diagnostics: list[Diagnostic] = []
        self.version = ""
        self.identities: list[IdentityDef] = []
        self.fields: list[FieldDef] = []
        self.lines: list[LineDef] = []

    # ---- reporting ----------------------------------------------------------------
    def error(self, code: str, message: str, span: Span, hint: str = "") -> None:
        self.diagnostics.append(Diagnostic(code, Severity.ERROR, message, span, hint))

    def _suggest(self, name: str, known: Iterable[str]) -> str:
        close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
        return f"did you mean '{close[0]}'?" if close else ""

    def require_citation(self, citation: ast.Citation | None, what: str, span: Span) -> None:
        if citation is None:
            self.error(
                "S205", f"{what} has no citation", span,
                hint="cite the clause it implements, e.g. §(五) \"……\"",
            )

    def _rule(self, citation: ast.Citation | None, span: Span) -> Rule:
        return Rule(citation, span, self.version)

    def _named(self, kind: type, inherited: dict, what: str, build) -> tuple:
        """Items named once per file (alerts, params, referrals): a revision's own
        definitions replace the inherited ones of the same name."""
        items = dict(inherited)
        own: set[str] = set()
        # Every name known so far, kept up to date rather than rebuilt per item:
        # rebuilding it made 16,000 params take four times as long as 8,000.
        names = set(items)
        for item in self.tree.of_type(kind):
            name = item.name.text
            if name in own:
                self.error("S221", f"{what} {name} is defined twice", item.name.span)
                continue
            own.add(name)
            names.add(name)
            built = build(item, names)
            if built is not None:
                items[name] = built
        return tuple(items.values())

    def _look_alikes(self) -> None:
        """S231: two declared names a reader cannot tell apart (equal UTS #39 skeletons).

        因病致贫重病患者 declared twice, once with U+FA5B for 者, gave one reader
        two identities paid 10% and 90% (issue 21 item 5)."""
        first: dict[str, ast.Name] = {}
        for item in self.tree.items:
            if not isinstance(item, _DECLARATIONS):
                continue
            name = item.name
            seen = first.setdefault(skeleton(name.text), name)
            if seen.text != name.text:
                self.diagnostics.append(Diagnostic(
                    "S231", Severity.ERROR,
                    f"the name {name.text} looks the same as {seen.text}, declared at "
                    f"{seen.span}, but is written with other characters",
                    name.span,
                    hint="use one spelling for one thing, or names that differ visibly: "
                         "the two differ at " + _differences(seen.text, name.text),
                    related=(("the name it looks like", seen.span),)))

    # ---- the pass ----------------------------------------------------------------
    def run(self, source_sha256: str) -> Policy | None:
        header = self._header()
        if header is None:
            return None
        self.version = header.policy_id
        self._look_alikes()
        self._identities()
        take_highest = self._take_highest()
        self._fields()
        self._lines()
        alerts = self._alerts()
        subsidy = self._subsidy()
        zero_contribution, zero_rule = self._zero_contribution()
        self._check_over_subsidy(subsidy, zero_contribution)
        ceiling = self._ceiling()
        params = self._params()
        clauses = self._clauses()
        parent = self.parent
        return Policy(
            policy_id=header.policy_id,
            title=header.title or (parent.title if parent else ""),
            region=header.region or (parent.region if parent else ""),
            effective=header.effective,
            source=header.source or "",
            extends=header.extends,
            identities=tuple(self.identities),
            take_highest=take_highest,
            lines=tuple(self.lines),
            alerts=alerts,
            subsidy=subsidy,
            ceiling=ceiling,
            params=params,
            fields=tuple(self.fields),
            clauses=clauses,
            schemes=self._schemes(header),
            referrals=self._referrals(),
            zero_contribution=zero_contribution,
            zero_contribution_rule=zero_rule,
            source_path=self.tree.path,
            source_sha256=source_sha256,
            awaits_base=(parent.awaits_base if parent is not None
                         else header.extends if header.extends else None),
        )

    def _header(self) -> ast.Header | None:
        headers = self.tree.of_type(ast.Header)
        if not headers:
            self.error(
                "S201", "the file has no `policy` header", Span.point(self.tree.path, 1, 1),
                hint="start the file with: policy my-policy-2023 { effective 2023-01-01 }",
            )
            return None
        for extra in headers[1:]:
            self.error("S226", "a file holds one policy: a second `policy` header", extra.span)
        header = headers[0]
        if header.effective is None:
            self.error("S201", f"policy {header.policy_id} has no effective date", header.span,
                       hint="add: effective 2023-01-01")
        if header.extends and self.parent and self.parent.policy_id != header.extends:
            self.error("S223", f"extends {header.extends}, but was given {self.parent.policy_id}",
                       header.span)
        if (self.parent and self.parent.effective and header.effective
                and header.effective <= self.parent.effective):
            self.error("S227", "a revision must take effect after the version it extends",
                       header.span,
                       hint=f"{self.parent.policy_id} takes effect {self.parent.effective}")
        return header

    def _schemes(self, header: ast.Header) -> tuple[str, ...]:
        if header.schemes is None:
            return self.parent.schemes if self.parent else SCHEMES
        self.require_citation(header.schemes.citation, "schemes", header.schemes.span)
        for name in header.schemes.names:
            if name.text not in SCHEMES:
                self.error("S218", f"unknown scheme {name.text}", name.span,
                           hint=self._suggest(name.text, SCHEMES) or "one of " + ", ".join(SCHEMES))
        return tuple(n.text for n in header.schemes.names if n.text in SCHEMES)

    def _referrals(self) -> tuple[ReferralDef, ...]:
        inherited = {r.name: r for r in self.parent.referrals} if self.parent else {}
        return self._named(ast.Referral, inherited, "referral", self._referral)

    def _referral(self, item: ast.Referral, _names) -> ReferralDef | None:
        name = item.name.text
        identities = None
        lines: tuple[str, ...] = ()
        citation = None
        computed = [line.name for line in self.lines if not line.upstream]
        for rule in item.rules:
            if isinstance(rule, ast.Members):
                identities = tuple(
                    n for n in (self.base_identity(m, False) for m in rule.names) if n)
                continue
            citation = rule.citation
            self.require_citation(rule.citation, f"refer {name}: capped", rule.span)
            for line_name in rule.lines:
                if line_name.text not in computed:
                    self.error("S207", f"{line_name.text} is not a computed line",
                               line_name.span, hint=self._suggest(line_name.text, computed))
            lines = tuple(n.text for n in rule.lines)
        if not lines:
            self.error("S220", f"refer {name} needs `capped LINE, …`", item.name.span)
            return None
        return ReferralDef(name, identities, lines, citation, item.span, self.version)

    def _clauses(self) -> tuple[tuple[str, str], ...]:
        clauses = dict(self.parent.clauses) if self.parent else {}
        for clause in self.tree.of_type(ast.ClauseText):
            clauses[clause.clause] = clause.text
        return tuple(clauses.items())

    # ---- identities ---------------------------------------------------------------
    def _identities(self) -> None:
        if self.parent:
            self.identities = [attrs.evolve(i, inherited=True) for i in self.parent.identities]
        declared = {i.name for i in self.identities}
        for item in self.tree.of_type(ast.Identity):
            name = item.name.text
            self.require_citation(item.citation, f"identity {name}", item.span)
            if name in declared:
                previous = [i for i in self.identities if i.name == name][0]
                if not previous.inherited:
                    self.error("S202", f"identity {name} is declared twice", item.name.span)
                    continue
                self.identities.remove(previous)
            declared.add(name)
            self.identities.append(IdentityDef(
                name, item.treated_as.text if item.treated_as else None, item.citation,
                item.span, self.version,
            ))
        if len(self.identities) > MAX_IDENTITIES:
            self.error("P114", f"more than {MAX_IDENTITIES} identities", self.tree.span)
            # Checking the rest would only repeat the error, slowly: chains are walked per identity.
            self.identities = self.identities[:MAX_IDENTITIES]
            return
        by_name = {i.name: i for i in self.identities}
        for item in self.tree.of_type(ast.Identity):
            if item.treated_as and item.treated_as.text not in by_name:
                self.error("S203", f"unknown identity {item.treated_as.text}", item.treated_as.span,
                           hint=self._suggest(item.treated_as.text, by_name))
        reported: set[frozenset[str]] = set()
        for identity in self.identities:
            seen = [identity.name]
            current = identity
            while current.treated_as and current.treated_as in by_name:
                current = by_name[current.treated_as]
                if current.name in seen:
                    cycle = frozenset(seen[seen.index(current.name):])
                    if cycle not in reported:  # one report per cycle, at its first member
                        reported.add(cycle)
                        chain = " → ".join(seen + [current.name])
                        self.error("S204", f"treated-as cycle: {chain}", identity.span,
                                   hint="an identity must end at one that has its own treatment")
                    break
                seen.append(current.name)

    def _take_highest(self) -> Rule | None:
        items = self.tree.of_type(ast.TakeHighest)
        for extra in items[1:]:
            self.error("S226", "`take highest` is stated twice", extra.span)
        if items:
            self.require_citation(items[0].citation, "take highest", items[0].span)
            return self._rule(items[0].citation, items[0].span)
        if self.parent and self.parent.take_highest:
            return attrs.evolve(self.parent.take_highest, inherited=True)
        return None

    def base_identity(self, name: ast.Name, allow_others: bool = True) -> str | None | bool:
        """Resolve a table key: an identity with its own treatment, or ``others``.

        Returns the identity name, ``None`` for others, or ``False`` when reported.
        """
        if name.text == OTHERS and allow_others:
            return None
        identity = next((i for i in self.identities if i.name == name.text), None)
        if identity is None:
            self.error("S203", f"unknown identity {name.text}", name.span,
                       hint=self._suggest(name.text, [i.name for i in self.identities]))
            return False
        if identity.treated_as:
            self.error(
                "S217", f"{name.text} is treated as {identity.treated_as}; its value is never read",
                name.span, hint=f"give the value to {identity.treated_as}",
            )
            return False
        return name.text

    # ---- claim fields -------------------------------------------------------------
    def _fields(self) -> None:
        self.fields = list(self.parent.fields) if self.parent else []
        for item in self.tree.of_type(ast.FieldDecl):
            name = item.name.text
            self.require_citation(item.citation, f"field {name}", item.span)
            if name in CORE_FIELDS:
                self.error("S222", f"{name} is a field of every claim (docs/claims.md)",
                           item.name.span, hint="declare only fields the notice adds")
                continue
            if any(f.name == name for f in self.fields):
                self.error("S221", f"field {name} is declared twice", item.name.span)
                continue
            default = item.default
            if default is not None and (item.type == "bool") != isinstance(default, bool):
                self.error("S208", f"the default of {item.type} field {name} has the wrong type",
                           item.span)
                continue
            self.fields.append(FieldDef(name, item.type, default, item.citation, item.span))

    def _field_of_type(self, name: ast.Name, field_type: str) -> bool:
        field = next((f for f in self.fields if f.name == name.text), None)
        if field is None:
            self.error("S214", f"unknown claim field {name.text}", name.span,
                       hint=self._suggest(name.text, [f.name for f in self.fields])
                       or f"declare it: field {name.text}: {field_type} §…")
            return False
        if field.type != field_type:
            self.error("S214", f"field {name.text} is {field.type}, but a {field_type} is needed",
                       name.span)
            return False
        return True

    def _check_condition(self, condition: ast.Condition) -> None:
        if isinstance(condition, ast.FieldRef):
            self._field_of_type(condition.name, "bool")
        elif isinstance(condition, ast.Not):
            self._check_condition(condition.operand)
        else:
            for operand in condition.operands:
                self._check_condition(operand)

    # ---- values -------------------------------------------------------------------
    def table(self, name: str, spec: ast.ValueSpec, kind: Kind, what: str,
              identity_keys: bool = True, keys: Iterable[str] | None = None) -> ByIdentity | None:
        """A value spec → ByIdentity; ``keys`` restricts non-identity keys (e.g. schemes)."""
        if spec.citation is None and not (
            isinstance(spec, ast.TableValue) and all(e.citation for e in spec.entries)
        ):
            self.require_citation(None, what, spec.span)
        entries: list[tuple[str | None, Sourced]] = []
        if isinstance(spec, ast.InlineValue):
            sourced = self.sourced(spec.value, spec.citation, kind, what, spec.span)
            return None if sourced is None else ByIdentity(name, ((None, sourced),))
        seen: dict[str | None, Span] = {}
        ok = True
        for entry in spec.entries:
            sourced = self.sourced(entry.value, entry.citation or spec.citation, kind, what,
                                    entry.span)
            ok = ok and sourced is not None
            for key_name in entry.names:
                key = self._table_key(key_name, identity_keys, keys)
                if key is False:
                    ok = False
                    continue
                if key in seen:
                    self.error("S212", f"{key_name.text} is given two values in {what}",
                               key_name.span)
                    ok = False
                    continue
                seen[key] = key_name.span
                if sourced is not None:
                    entries.append((key, sourced))
        return ByIdentity(name, tuple(entries)) if ok else None

    def _table_key(self, name: ast.Name, identity_keys: bool, keys: Iterable[str] | None):
        if identity_keys:
            return self.base_identity(name)
        if name.text == OTHERS:
            return None
        if keys is not None and name.text not in keys:
            self.error("S218", f"unknown key {name.text}", name.span,
                       hint=self._suggest(name.text, keys) or "expected one of " + ", ".join(keys))
            return False
        return name.text

    def sourced(self, value: ast.Value, citation: ast.Citation | None, kind: Kind, what: str,
                span: Span) -> Sourced | None:
        """A written value as a model value with its citation; None (reported) when bad."""
        if isinstance(value, (ast.PlusRate, ast.TimesValue)):
            self.error("S224", f"{what}: plus/times change an inherited value; use them in `amend`",
                       span)
            return None
        try:
            model_value = to_model_value(value, kind)
        except ValueKindError as error:
            self.error("S208", f"{what}: {error.message}", span, hint=error.hint)
            return None
        if kind in (Kind.RATE, Kind.SUBSIDY) or isinstance(value, (ast.Percent, ast.Bands)):
            self._check_rates(model_value, what, value)
        note = value.note if isinstance(value, (ast.Unspecified, ast.FixedSubsidy)) else None
        return Sourced(model_value, citation, span, self.version, note=note)

    def _check_rates(self, model_value, what: str, value: ast.Value) -> None:
        for rate in rates_in(model_value):
            if not Decimal(0) <= rate <= Decimal(1):
                self.error("S209", f"{what}: rate {format_rate(rate)} is outside 0–100%",
                           value.span, hint=RATE_RANGE_HINT)
        if isinstance(model_value, BandSchedule):
            self._check_bands(model_value, what, value)

    def _check_bands(self, schedule: BandSchedule, what: str, value: ast.Value) -> None:
        expected_lower = Decimal(0)
        slices = schedule.slices
        for index, (band, written) in enumerate(zip(slices, value.bands)):
            if band.lower != expected_lower:
                problem = "overlaps the band before" if band.lower < expected_lower else "leaves a gap"
                self.error("S210", f"{what}: band from {written.lower.text} {problem}",
                           written.span, hint=f"start it at {expected_lower}")
                return
            if band.upper is None and index != len(slices) - 1:
                self.error("S210", f"{what}: an open band (no `to`) must be the last",
                           written.span)
                return
            if band.upper is not None and band.upper <= band.lower:
                self.error("S210", f"{what}: band ends before it starts", written.span)
                return
            expected_lower = band.upper if band.upper is not None else expected_lower

    # ---- lines --------------------------------------------------------------------
    def _lines(self) -> None:
        if self.parent:
            self.lines = [inherit_line(line) for line in self.parent.lines]
        own: set[str] = set()
        for item in self.tree.items:
            if isinstance(item, ast.UpstreamLine):
                self.require_citation(item.citation, f"line {item.name.text}", item.span)
                line = LineDef(item.name.text, True, item.citation, item.span,
                               version=self.version)
                line = self._upstream_rules(line, item.rules, f"line {item.name.text}")
                self._add_line(item.name, own, line)
            elif isinstance(item, ast.ComputedLine):
                line = self._computed_line(item)
                if line is not None:
                    self._add_line(item.name, own, line)
            elif isinstance(item, ast.Amendment):
                self._amend(item)
        if len(self.lines) > MAX_LINES_OF_DEFENCE:
            self.error("P114", f"more than {MAX_LINES_OF_DEFENCE} lines", self.tree.span)

    def _add_line(self, name: ast.Name, own: set[str], line: LineDef) -> None:
        if name.text in own:
            self.error("S206", f"line {name.text} is defined twice", name.span,
                       hint="a line is stated once; a revision uses `amend`")
            return
        own.add(name.text)
        for index, existing in enumerate(self.lines):
            if existing.name == name.text:   # a revision restates an inherited line
                self.lines[index] = line
                return
        self.lines.append(line)

    def _upstream_rules(self, line: LineDef, rules, owner: str) -> LineDef:
        """Bounds on what another system may pay on an upstream line (Jilin §二(一))."""
        changes: dict = {}
        conditional = list(line.conditional_bases)
        for rule in rules:
            if isinstance(rule, ast.Members):
                self.require_citation(rule.citation, f"{owner}: identities", rule.span)
                names = [self.base_identity(n, allow_others=False) for n in rule.names]
                changes["members"] = tuple(n for n in names if n)
                changes["members_rule"] = self._rule(rule.citation, rule.span)
            elif isinstance(rule, ast.Base):
                self.require_citation(rule.citation, f"{owner}: base", rule.span)
                if rule.unspecified is not None:
                    if rule.condition is None:
                        self.error("S228", f"{owner}: an unspecified base says for which claims "
                                   "the notice gives no bound", rule.span,
                                   hint="add `when …`: the other claims keep the line's base")
                        continue
                    self._check_condition(rule.condition)
                    conditional.insert(0, (rule.condition, None, Rule(
                        rule.citation, rule.span, self.version, note=rule.unspecified.note)))
                    continue
                self._check_base(rule, line.name)
                terms = tuple(t.text for t in rule.terms)
                if rule.condition is not None:
                    self._check_condition(rule.condition)
                    conditional.insert(0, (rule.condition, terms, self._rule(rule.citation,
                                                                             rule.span)))
                else:
                    changes["base_terms"] = terms
                    changes["base_rule"] = self._rule(rule.citation, rule.span)
            else:
                self.error("S228", f"{owner}: a line settled upstream takes only `base` and "
                           "`identities` rules", rule.span,
                           hint="its payout comes from the claim's paid; nothing else is computed")
        changes["conditional_bases"] = tuple(conditional)
        return attrs.evolve(line, version=self.version, **changes)

    def _rules_by_type(self, rules: tuple[ast.LineRule, ...], owner: str) -> dict[type, object]:
        by_type: dict[type, object] = {}
        for rule in rules:
            if type(rule) in by_type:
                self.error("S211", f"{owner} states its {_RULE_WORDS[type(rule)]} twice", rule.span,
                           hint="merge the two into one rule (a table by identity if they differ)")
                continue
            by_type[type(rule)] = rule
        return by_type

    def _computed_line(self, item: ast.ComputedLine) -> LineDef | None:
        name = item.name.text
        rules = self._rules_by_type(item.rules, f"line {name}")
        line = LineDef(name, False, None, item.span, version=self.version)
        line = self._apply_rules(line, rules, f"line {name}")
        if ast.Rate not in rules and ast.PerUnit not in rules:
            self.error("S215", f"line {name} has neither a rate nor a per-unit amount", item.name.span,
                       hint="add: rate 60% §…  (or bands, or per bed_days …)")
        if ast.Covers not in rules:
            self.error("S215", f"line {name} does not say which visits it covers", item.name.span,
                       hint="add: covers 住院, 门诊慢特病 §…")
        self._check_table_agreement(line, item)
        return line

    def _apply_rules(self, line: LineDef, rules: dict, owner: str,
                     amending: bool = False, visits: tuple[str, ...] | None = None) -> LineDef:
        changes: dict = {"version": self.version}
        for rule_type, rule in rules.items():
            if rule_type is ast.Covers:
                self.require_citation(rule.citation, f"{owner}: covers", rule.span)
                for visit in rule.visits:
                    if visit.text not in VISITS:
                        self.error("S213", f"unknown visit {visit.text}", visit.span,
                                   hint=self._suggest(visit.text, VISITS)
                                   or "visits are " + ", ".join(VISITS))
                changes["visits"] = tuple(v.text for v in rule.visits)
                changes["visits_rule"] = self._rule(rule.citation, rule.span)
            elif rule_type is ast.When:
                self.require_citation(rule.citation, f"{owner}: when", rule.span)
                self._check_condition(rule.condition)
                changes["condition"] = rule.condition
                changes["condition_rule"] = self._rule(rule.citation, rule.span)
            elif rule_type is ast.Members:
                self.require_citation(rule.citation, f"{owner}: identities", rule.span)
                names = [self.base_identity(n, allow_others=False) for n in rule.names]
                changes["members"] = tuple(n for n in names if n)
                changes["members_rule"] = self._rule(rule.citation, rule.span)
            elif rule_type is ast.Base:
                self.require_citation(rule.citation, f"{owner}: base", rule.span)
                if rule.unspecified is not None:
                    self.error("S228", f"{owner}: a computed line's base is worked out, never "
                               "unspecified; `base unspecified … when …` is for lines settled "
                               "upstream", rule.span)
                    continue
                if rule.condition is not None:
                    self.error("S228", f"{owner}: a computed line has one base; `when` on a base "
                               "is for lines settled upstream", rule.span,
                               hint="use the line's own `when` to restrict which claims it covers")
                self._check_base(rule, line.name)
                changes["base_terms"] = tuple(t.text for t in rule.terms)
                changes["base_rule"] = self._rule(rule.citation, rule.span)
            else:
                self._value_rule(line, rule, owner, changes, amending, visits)
        return attrs.evolve(line, **changes)

    def _value_rule(self, line: LineDef, rule, owner: str, changes: dict, amending: bool,
                    visits: tuple[str, ...] | None = None) -> None:
        attribute, kind, word = _VALUE_RULES[type(rule)]
        if isinstance(rule, ast.PerUnit):
            self._field_of_type(rule.unit, "count")
            changes["per_unit_field"] = rule.unit.text
        name = f"{line.name}.{word}"
        if amending:
            table = amend_table(self, getattr(line, attribute), name, rule.spec, kind,
                                f"{owner}: {word}", visits)
        else:
            table = self.table(name, rule.spec, kind, f"{owner}: {word}")
        if table is not None:
            changes[attribute] = table

    def _check_base(self, rule: ast.Base, line_name: str) -> None:
        if rule.is_remaining:
            return
        first, *rest = rule.terms
        if first.text not in BASE_STARTS:
            self.error("S207", f"a base starts from in_scope_cost or total_cost, not {first.text}",
                       first.span)
        earlier = []
        for line in self.lines:
            if line.name == line_name:
                break
            earlier.append(line.name)
        for term in rest:
            if term.text not in earlier:
                self.error("S207", f"{term.text} is not a line settled before {line_name}",
                           term.span, hint=self._suggest(term.text, earlier))

    def _check_table_agreement(self, line: LineDef, item: ast.ComputedLine) -> None:
        if line.members is not None:
            return
        tables = [t for t in (line.deductible, line.rate, line.per_unit) if t is not None]
        keyed = [set(t.keys()) for t in tables if None not in t.keys()]
        if len(keyed) > 1 and any(k != keyed[0] for k in keyed):
            missing = sorted(set().union(*keyed) - set.intersection(*keyed))
            self.error(
                "S216", f"line {line.name}: {', '.join(missing)} {'appears' if len(missing) == 1 else 'appear'} in some of its tables only",
                item.name.span,
                hint="give every identity a deductible and a rate, or list members with `identities`",
            )

    def _amend(self, item: ast.Amendment) -> None:
        target = item.target.text
        index = next((i for i, line in enumerate(self.lines) if line.name == target), None)
        if index is None:
            if self.parent is not None or not self.tree.header or not self.tree.header.extends:
                self.error("S223", f"amend {target}: no such line in the version it extends",
                           item.target.span,
                           hint=self._suggest(target, [line.name for line in self.lines]))
                return
            # A standalone amendment (its base is not in this folder): the values it
            # changes are unknown until the base is supplied.
            line = self._line_awaiting_base(target, item)
            self.lines.append(line)
            index = len(self.lines) - 1
        line = self.lines[index]
        if line.upstream and item.visits is None:
            # An upstream line may take several bases, each under its own `when`.
            self.lines[index] = self._upstream_rules(line, item.rules, f"amend {target}")
            return
        rules = self._rules_by_type(item.rules, f"amend {target}")
        if item.visits is not None:
            visits = self._amended_visits(line, item, rules)
            if visits is None:
                return
            self.lines[index] = self._apply_rules(line, rules, f"amend {target}", amending=True,
                                                  visits=visits)
            return
        self.lines[index] = self._apply_rules(line, rules, f"amend {target}", amending=True)

    def _amended_visits(self, line: LineDef, item: ast.Amendment, rules: dict):
        """``amend X for 住院, …``: visits the line covers; only its rate and deductible
        change per visit (a cap or a coverage is the line's, whatever the visit)."""
        scope = item.visits
        owner = f"amend {line.name} for …"
        self.require_citation(scope.citation, owner, scope.span)
        ok = True
        if line.upstream:
            self.error("S240", f"{owner}: {line.name} is settled upstream; its payout is not "
                       "computed, so no rate of it changes by visit", scope.span,
                       hint="drop `for …`, or amend a computed line")
            return None
        for visit in scope.visits:
            if visit.text not in VISITS:
                self.error("S213", f"unknown visit {visit.text}", visit.span,
                           hint=self._suggest(visit.text, VISITS)
                           or "visits are " + ", ".join(VISITS))
                ok = False
            elif visit.text not in line.visits:
                self.error("S241", f"{owner}: {line.name} does not cover {visit.text}", visit.span,
                           hint=f"{line.name} covers {'、'.join(line.visits)}")
                ok = False
        for rule_type, rule in rules.items():
            if rule_type not in (ast.Rate, ast.Deductible):
                self.error("S240", f"{owner}: an amendment for some visits changes only the rate "
                           f"and the deductible, not the {_RULE_WORDS[rule_type]}", rule.span,
                           hint="state it in an `amend` without `for`")
                ok = False
        return tuple(v.text for v in scope.visits) if ok else None

    def _line_awaiting_base(self, target: str, item: ast.Amendment) -> LineDef:
        """A line this file amends but whose base policy is not available: every value
        it does not set itself is unspecified, naming the base it waits for."""
        base = self.tree.header.extends
        note = f"given by the base policy {base}, which is not in this folder"
        citation = next((r.spec.citation for r in item.rules
                         if hasattr(r, "spec") and r.spec.citation), None)

        def open_value(word: str) -> ByIdentity:
            return ByIdentity(f"{target}.{word}", ((None, Sourced(
                UNSPECIFIED, citation, item.span, base, note=note)),))

        return LineDef(target, False, None, item.span, visits=VISITS,
                       visits_rule=Rule(citation, item.span, base),
                       deductible=open_value("起付标准"), rate=open_value("支付比例"),
                       cap=open_value("年度限额"), version=base)

    # ---- alerts, subsidies, ceiling, params ------------------------------------------
    def _alerts(self) -> tuple[AlertDef, ...]:
        inherited = {a.name: inherit_alert(a) for a in self.parent.alerts} if self.parent else {}
        return self._named(ast.Alert, inherited, "alert", self._alert)

    def _alert(self, item: ast.Alert, alert_names: set[str]) -> AlertDef | None:
        name = item.name.text
        rules = self._rules_by_type(item.rules, f"alert {name}")
        burden = rules.get(ast.BurdenAfter)
        visits = rules.get(ast.Visits)
        group = rules.get(ast.Group)
        threshold = rules.get(ast.Threshold)
        if threshold is None or group is None:
            self.error("S220", f"alert {name} needs a group and a threshold", item.name.span)
            return None
        after = None
        if burden is not None:
            self.require_citation(burden.citation, f"alert {name}: burden", burden.span)
            known = [line.name for line in self.lines]
            for line_name in burden.lines:
                if line_name.text not in known:
                    self.error("S207", f"unknown line {line_name.text}", line_name.span,
                               hint=self._suggest(line_name.text, known))
            after = None if burden.after_all_lines else tuple(n.text for n in burden.lines)
        visit_names = VISITS
        if visits is not None:
            for visit in visits.visits:
                if visit.text not in VISITS:
                    self.error("S213", f"unknown visit {visit.text}", visit.span,
                               hint=self._suggest(visit.text, VISITS))
            visit_names = tuple(v.text for v in visits.visits)
        self.require_citation(group.citation, f"alert {name}: group", group.span)
        if group.excluding:
            for other in group.names:
                if other.text not in alert_names or other.text == name:
                    self.error("S220", f"unknown alert {other.text}", other.span,
                               hint=self._suggest(other.text, alert_names - {name}))
            members = tuple(n.text for n in group.names)
        else:
            members = tuple(n for n in (self.base_identity(m, False) for m in group.names) if n)
        table = self.table(f"{name}.预警标准", threshold.spec, Kind.AMOUNT, f"alert {name}: threshold",
                           identity_keys=False, keys=SCHEMES)
        if table is None:
            return None
        return AlertDef(
            name, after, self._rule(burden.citation, burden.span) if burden else None,
            visit_names, self._rule(visits.citation, visits.span) if visits else None,
            members, group.excluding, self._rule(group.citation, group.span), table,
            item.span, self.version, threshold.above,
        )

    def _subsidy(self) -> ByIdentity | None:
        items = self.tree.of_type(ast.Subsidy)
        for extra in items[1:]:
            self.error("S226", "premium subsidies are stated twice", extra.span,
                       hint="one `subsidy` table by identity")
        if not items:
            return inherit_table(self.parent.subsidy) if self.parent else None
        table = self.table("资助参保", items[0].spec, Kind.SUBSIDY, "subsidy")
        if table is not None:
            self._check_subsidy_bounds(table, items[0].spec)
        return table

    def _check_subsidy_bounds(self, table: ByIdentity, spec: ast.ValueSpec) -> None:
        from yibao.dsl.model import FixedSubsidyValue

        for key, sourced in table.items():
            value = sourced.value
            if not isinstance(value, FixedSubsidyValue) or value.at_most is None:
                continue
            bound = table.for_identity(value.at_most)
            if bound is None or not isinstance(bound.value, FixedSubsidyValue):
                self.error("S208", f"subsidy of {key}: `at most {value.at_most}` needs a fixed "
                           f"subsidy for {value.at_most}", sourced.span)

    def _zero_contribution(self):
        items = self.tree.of_type(ast.ZeroContribution)
        for extra in items[1:]:
            self.error("S226", "`zero contribution only for` is stated twice", extra.span)
        if not items:
            if self.parent:
                return self.parent.zero_contribution, self.parent.zero_contribution_rule
            return None, None
        item = items[0]
        self.require_citation(item.citation, "zero contribution", item.span)
        names = tuple(n for n in (self.base_identity(m, False) for m in item.names) if n)
        return names, self._rule(item.citation, item.span)

    def _check_over_subsidy(self, subsidy: ByIdentity | None, allowed) -> None:
        """Jilin §一(三): a full subsidy for anyone else leaves zero contribution: 过度资助."""
        from yibao.dsl.model import FullSubsidyValue

        if subsidy is None or allowed is None:
            return
        for key, sourced in subsidy.items():
            if isinstance(sourced.value, FullSubsidyValue) and key not in allowed:
                who = key or OTHERS
                self.error("S229", f"full subsidy for {who} leaves a zero contribution, which only "
                           f"{', '.join(allowed)} may have (过度资助)", sourced.span,
                           hint="give a fixed amount or a share instead")

    def _ceiling(self) -> CeilingDef | None:
        items = self.tree.of_type(ast.Ceiling)
        for extra in items[1:]:
            self.error("S226", "the ratio ceiling is stated twice", extra.span)
        if not items:
            return self.parent.ceiling if self.parent else None
        item = items[0]
        self.require_citation(item.citation, "ceiling", item.span)
        if not Decimal(0) < item.rate.value <= Decimal(1):
            self.error("S209", f"ceiling {item.rate.text} is outside 0–100%", item.rate.span,
                       hint="the ceiling is a share of the in-scope cost: above 0% and at most 100%")
        identities: tuple[str, ...] = ()
        visits: tuple[str, ...] = VISITS
        reduces: tuple[str, ...] = (self.lines[-1].name,) if self.lines else ()
        known = [line.name for line in self.lines]
        for rule in item.rules:
            if isinstance(rule, ast.Members):
                identities = tuple(
                    n for n in (self.base_identity(m, False) for m in rule.names) if n)
            elif isinstance(rule, ast.Reduces):
                for name in rule.lines:
                    if name.text not in known:
                        self.error("S207", f"unknown line {name.text}", name.span,
                                   hint=self._suggest(name.text, known))
                reduces = tuple(n.text for n in rule.lines)
            else:
                visits = tuple(v.text for v in rule.visits)
        if not any(isinstance(rule, ast.Members) for rule in item.rules):
            self.error("S220", "the ceiling does not say whom it binds", item.span,
                       hint="add: identities 特困人员, 低保对象 §… (the notice's 重点救助对象)")
        return CeilingDef(Sourced(item.rate.value, item.citation, item.span, self.version),
                          identities, visits, reduces, item.span)

    def _params(self) -> tuple[ByIdentity, ...]:
        inherited = {p.name: inherit_table(p) for p in self.parent.params} if self.parent else {}
        return self._named(ast.Param, inherited, "parameter", lambda item, _names: self.table(
            item.name.text, item.spec, Kind.ANY, f"param {item.name.text}", identity_keys=False))


# What a policy file declares by name: one namespace for the look-alike check.
_DECLARATIONS = (ast.Identity, ast.UpstreamLine, ast.ComputedLine, ast.FieldDecl, ast.Param,
                 ast.Alert, ast.Referral)


def _differences(one: str, other: str) -> str:
    """The characters where two look-alike names differ, with their code points."""
    pairs = [f"{a} U+{ord(a):04X} / {b} U+{ord(b):04X}"
             for a, b in zip(one, other) if a != b]
    if len(one) != len(other) or not pairs:
        return f"{' '.join(f'U+{ord(c):04X}' for c in one)} / " \
               f"{' '.join(f'U+{ord(c):04X}' for c in other)}"
    return ", ".join(pairs)


_RULE_WORDS = {
    ast.Covers: "covered visits", ast.When: "condition", ast.Members: "identities",
    ast.Base: "base", ast.Deductible: "deductible", ast.Rate: "rate", ast.Cap: "cap",
    ast.PerUnit: "per-unit amount", ast.BurdenAfter: "burden", ast.Visits: "visits",
    ast.Group: "group", ast.Threshold: "threshold",
}

# rule type → (LineDef attribute, value kind, the value's name in traces)
_VALUE_RULES = {
    ast.Deductible: ("deductible", Kind.AMOUNT, "起付标准"),
    ast.Rate: ("rate", Kind.RATE, "支付比例"),
    ast.Cap: ("cap", Kind.LIMIT, "年度限额"),
    ast.PerUnit: ("per_unit", Kind.AMOUNT, "定额标准"),
}

__all__ = ["check_policy", "CheckResult", "UNSPECIFIED", "NO_SPAN"]
