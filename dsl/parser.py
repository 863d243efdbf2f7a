"""Text → AST: the Lark parser and the transformer into frozen AST nodes.

Syntax errors become :class:`Diagnostic` records with the file, line and
column, the offending line with a caret, and what was expected in the words of
the language (see :mod:`yibao.dsl.syntax_errors`).
"""

from __future__ import annotations

import datetime
import functools
import pathlib
from decimal import Decimal

import attrs
import lark
from lark import Token, Transformer, v_args

from yibao.core.diagnostics import PolicyError
from yibao.core.cache import cache_directory
from yibao.core.span import Span
from yibao.dsl import ast
from yibao.dsl.characters import check_digits, name_error
from yibao.dsl.limits import CLAIMS_SUFFIXES, SWAPPED_HINT, check_source_limits, check_tree_depth
from yibao.dsl.syntax_errors import diagnose_syntax_error

GRAMMAR = pathlib.Path(__file__).with_name("policy.lark")


@functools.lru_cache(maxsize=1)
def _lark() -> lark.Lark:
    return lark.Lark(
        GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
        cache=_tables_file(),
    )


def _tables_file() -> str | bool:
    """Where Lark keeps the grammar's LALR tables between runs: building them is most of
    a policy's load (0.15–0.3 s of every command, more than loading the policy).  Lark
    checks the file against the SHA-256 of the grammar, its options and its own version
    before using it, and builds the tables again when it cannot read it
    (core/cache.py's folder; False when caching is off)."""
    folder = cache_directory("grammar")
    if folder is None:
        return False
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return str(folder / "policy-lalr.pickle")


def parse_policy(source: str, path: str = "<policy>") -> ast.PolicyFile:
    """Parse one policy file's text; raise :class:`PolicyError` on a syntax error."""
    check_source_limits(source, path)
    check_digits(source, path)
    try:
        tree = _lark().parse(source)
    except lark.exceptions.UnexpectedInput as error:
        diagnostic = diagnose_syntax_error(error, source, path, _lark())
        if looks_like_claims(source, path):
            diagnostic = attrs.evolve(diagnostic, hint=SWAPPED_HINT)
        raise PolicyError([diagnostic]) from None
    check_tree_depth(tree, path)
    try:
        return _ToAst(path).transform(tree)
    except lark.exceptions.VisitError as error:
        # A transformer callback raised (e.g. an impossible date): unwrap it.
        if isinstance(error.orig_exc, PolicyError):
            raise error.orig_exc from None
        raise


def looks_like_claims(source: str, path: str) -> bool:
    """A claims file given where the policy goes: JSON objects, or a CSV header of claims."""
    first = source.lstrip()[:1]
    header = source.split("\n", 1)[0]
    return (pathlib.PurePath(path).suffix.lower() in CLAIMS_SUFFIXES or first in ("{", "[")
            or ("claim_id" in header and "," in header))


def parse_policy_file(path: str | pathlib.Path) -> ast.PolicyFile:
    path = pathlib.Path(path)
    return parse_policy(read_policy_text(path), str(path))


def read_policy_text(path: pathlib.Path) -> str:
    from yibao.dsl.limits import read_bounded_text

    return read_bounded_text(path)


# ---- tokens → values -------------------------------------------------------------

_UNITS = (("万元", Decimal(10000)), ("万", Decimal(10000)), ("元", Decimal(1)))


def amount_value(text: str) -> Decimal:
    """``2万`` → 20000, ``1.2万元`` → 12000, ``2000`` → 2000 (exact)."""
    for suffix, factor in _UNITS:
        if text.endswith(suffix):
            return Decimal(text[: -len(suffix)]) * factor
    return Decimal(text)


def percent_value(text: str) -> Decimal:
    return Decimal(text[:-1]) / 100


# Documents number clauses with full-width or half-width brackets alike (Jilin
# writes （一）, Benxi (一)): a citation means the same clause either way.
_CLAUSE_WIDTHS = str.maketrans({"（": "(", "）": ")", "．": ".", "、": "."})


def clause_key(cite: str) -> str:
    """``§（一）`` → ``(一)``: the clause a citation names, in one canonical spelling."""
    return cite[1:].translate(_CLAUSE_WIDTHS)


def unquote(token: str) -> str:
    body = token[1:-1]
    return body.replace('\\"', '"').replace("\\\\", "\\")


class _ToAst(Transformer):
    """One method per grammar rule, each returning the AST node it stands for."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path

    # spans ---------------------------------------------------------------------
    def _span(self, meta) -> Span:
        if getattr(meta, "empty", False) or not hasattr(meta, "line"):
            return Span(self.path, 0, 0, 0, 0)
        return Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column)

    def _token_span(self, token: Token) -> Span:
        return Span(self.path, token.line, token.column, token.end_line, token.end_column)

    def _name(self, token: Token) -> ast.Name:
        span = self._token_span(token)
        error = name_error(str(token), span)
        if error is not None:
            raise PolicyError([error])
        return ast.Name(str(token), span=span)

    # whole file -----------------------------------------------------------------
    @v_args(meta=True)
    def start(self, meta, items):
        return ast.PolicyFile(self.path, tuple(items), span=self._span(meta))

    # header ---------------------------------------------------------------------
    @v_args(meta=True)
    def policy(self, meta, children):
        policy_id, extends, *fields = children
        values = dict(fields)
        return ast.Header(str(policy_id), extends, span=self._span(meta), **values)

    def extends(self, children):
        return str(children[0])

    def title(self, children):
        return ("title", unquote(children[0]))

    def region(self, children):
        return ("region", unquote(children[0]))

    def source(self, children):
        return ("source", unquote(children[0]))

    def document(self, children):
        return ("document", unquote(children[0]))

    @v_args(meta=True)
    def schemes(self, meta, children):
        names, citation = children
        return ("schemes", ast.Members(names, citation, span=self._span(meta)))

    def effective(self, children):
        token = children[0]
        try:
            return ("effective", datetime.date.fromisoformat(str(token)))
        except ValueError:
            raise PolicyError([_bad_date(token, self.path)]) from None

    # citations ------------------------------------------------------------------
    @v_args(meta=True)
    def clause(self, meta, children):
        cite, text = children
        return ast.ClauseText(clause_key(str(cite)), unquote(text), span=self._span(meta))

    @v_args(meta=True)
    def citation(self, meta, children):
        cite, quote = children
        return ast.Citation(
            clause_key(str(cite)), unquote(quote) if quote is not None else None,
            span=self._span(meta)
        )

    # identities -----------------------------------------------------------------
    @v_args(meta=True)
    def identity(self, meta, children):
        name, treated_as, citation = children
        return ast.Identity(self._name(name), treated_as, citation, span=self._span(meta))

    def treated_as(self, children):
        return self._name(children[0])

    @v_args(meta=True)
    def take_highest(self, meta, children):
        return ast.TakeHighest(children[0], span=self._span(meta))

    # lines ----------------------------------------------------------------------
    @v_args(meta=True)
    def upstream_line(self, meta, children):
        name, citation, rules = children
        return ast.UpstreamLine(self._name(name), citation, rules or (), span=self._span(meta))

    def upstream_rules(self, children):
        return tuple(children)

    @v_args(meta=True)
    def computed_line(self, meta, children):
        name, *rules = children
        return ast.ComputedLine(self._name(name), tuple(rules), span=self._span(meta))

    @v_args(meta=True)
    def amend(self, meta, children):
        name, visits, *rules = children
        return ast.Amendment(self._name(name), tuple(rules), visits, span=self._span(meta))

    @v_args(meta=True)
    def amend_visits(self, meta, children):
        names, citation = children
        return ast.Visits(names, citation, span=self._span(meta))

    @v_args(meta=True)
    def covers(self, meta, children):
        names, citation = children
        return ast.Covers(names, citation, span=self._span(meta))

    @v_args(meta=True)
    def condition_rule(self, meta, children):
        condition, citation = children
        return ast.When(condition, citation, span=self._span(meta))

    @v_args(meta=True)
    def members(self, meta, children):
        names, citation = children
        return ast.Members(names, citation, span=self._span(meta))

    @v_args(meta=True)
    def base(self, meta, children):
        terms, condition, citation = children
        if isinstance(terms, ast.Unspecified):
            return ast.Base((), citation, condition, terms, span=self._span(meta))
        return ast.Base(terms, citation, condition, span=self._span(meta))

    @v_args(meta=True)
    def base_unspecified(self, meta, children):
        note = children[0]
        return ast.Unspecified(unquote(note) if note is not None else None,
                               span=self._span(meta))

    def base_condition(self, children):
        return children[0]

    def base_remaining(self, children):
        return ()

    def base_difference(self, children):
        return tuple(children)

    def base_term(self, children):
        return self._name(children[0])

    @v_args(meta=True)
    def deductible(self, meta, children):
        return ast.Deductible(children[0], span=self._span(meta))

    @v_args(meta=True)
    def rate(self, meta, children):
        return ast.Rate(children[0], span=self._span(meta))

    @v_args(meta=True)
    def cap(self, meta, children):
        return ast.Cap(children[0], span=self._span(meta))

    @v_args(meta=True)
    def per_unit(self, meta, children):
        unit, spec = children
        return ast.PerUnit(self._name(unit), spec, span=self._span(meta))

    # values ---------------------------------------------------------------------
    @v_args(meta=True)
    def inline_value(self, meta, children):
        value, citation = children
        return ast.InlineValue(value, citation, span=self._span(meta))

    @v_args(meta=True)
    def table_value(self, meta, children):
        citation, entries = children
        return ast.TableValue(entries, citation, span=self._span(meta))

    def table(self, children):
        return tuple(children)

    @v_args(meta=True)
    def entry(self, meta, children):
        names, value, citation = children
        return ast.TableEntry(names, value, citation, span=self._span(meta))

    def _amount(self, token: Token) -> ast.Amount:
        return ast.Amount(amount_value(str(token)), str(token), span=self._token_span(token))

    def _percent(self, token: Token) -> ast.Percent:
        return ast.Percent(percent_value(str(token)), str(token), span=self._token_span(token))

    def amount(self, children):
        return self._amount(children[0])

    def percent(self, children):
        return self._percent(children[0])

    @v_args(meta=True)
    def no_limit(self, meta, children):
        return ast.NoLimit(span=self._span(meta))

    @v_args(meta=True)
    def unspecified(self, meta, children):
        note = children[0]
        return ast.Unspecified(unquote(note) if note is not None else None, span=self._span(meta))

    @v_args(meta=True)
    def full(self, meta, children):
        return ast.FullSubsidy(span=self._span(meta))

    @v_args(meta=True)
    def fixed(self, meta, children):
        amount, at_most = children
        return ast.FixedSubsidy(self._amount(amount), at_most=at_most, span=self._span(meta))

    @v_args(meta=True)
    def fixed_unspecified(self, meta, children):
        note, at_most = children
        return ast.FixedSubsidy(
            None, unquote(note) if note is not None else None, at_most, span=self._span(meta)
        )

    def at_most(self, children):
        return self._name(children[0])

    @v_args(meta=True)
    def share(self, meta, children):
        return ast.ShareSubsidy(self._percent(children[0]), span=self._span(meta))

    @v_args(meta=True)
    def plus(self, meta, children):
        return ast.PlusRate(self._percent(children[0]), span=self._span(meta))

    @v_args(meta=True)
    def times(self, meta, children):
        return ast.TimesValue(self._percent(children[0]), span=self._span(meta))

    @v_args(meta=True)
    def bands(self, meta, children):
        return ast.Bands(tuple(children), span=self._span(meta))

    @v_args(meta=True)
    def band(self, meta, children):
        lower, upper, rate = children
        return ast.Band(
            self._amount(lower),
            self._amount(upper) if upper is not None else None,
            self._percent(rate),
            span=self._span(meta),
        )

    def name_list(self, children):
        return tuple(self._name(token) for token in children)

    # conditions -----------------------------------------------------------------
    @v_args(meta=True)
    def or_condition(self, meta, children):
        return ast.Any_(tuple(children), span=self._span(meta))

    @v_args(meta=True)
    def and_condition(self, meta, children):
        return ast.All(tuple(children), span=self._span(meta))

    @v_args(meta=True)
    def negation(self, meta, children):
        return ast.Not(children[0], span=self._span(meta))

    @v_args(meta=True)
    def field_ref(self, meta, children):
        return ast.FieldRef(self._name(children[0]), span=self._span(meta))

    # alerts ---------------------------------------------------------------------
    @v_args(meta=True)
    def alert(self, meta, children):
        name, *rules = children
        return ast.Alert(self._name(name), tuple(rules), span=self._span(meta))

    @v_args(meta=True)
    def burden(self, meta, children):
        lines, citation = children
        return ast.BurdenAfter(lines, citation, span=self._span(meta))

    def all_lines(self, children):
        return ()

    def named_lines(self, children):
        return children[0]

    @v_args(meta=True)
    def visits(self, meta, children):
        names, citation = children
        return ast.Visits(names, citation, span=self._span(meta))

    @v_args(meta=True)
    def group_members(self, meta, children):
        names, citation = children
        return ast.Group(names, False, citation, span=self._span(meta))

    @v_args(meta=True)
    def group_except(self, meta, children):
        names, citation = children
        return ast.Group(names, True, citation, span=self._span(meta))

    @v_args(meta=True)
    def threshold(self, meta, children):
        above, spec = children
        return ast.Threshold(spec, above is not None, span=self._span(meta))

    def above(self, children):
        return True

    @v_args(meta=True)
    def referral(self, meta, children):
        name, *rules = children
        return ast.Referral(self._name(name), tuple(rules), span=self._span(meta))

    @v_args(meta=True)
    def capped(self, meta, children):
        names, citation = children
        return ast.Capped(names, citation, span=self._span(meta))

    # subsidies, ceiling, params, fields ------------------------------------------
    @v_args(meta=True)
    def subsidy(self, meta, children):
        return ast.Subsidy(children[0], span=self._span(meta))

    @v_args(meta=True)
    def reduces(self, meta, children):
        names, citation = children
        return ast.Reduces(names, citation, span=self._span(meta))

    @v_args(meta=True)
    def zero_contribution(self, meta, children):
        names, citation = children
        return ast.ZeroContribution(names, citation, span=self._span(meta))

    @v_args(meta=True)
    def ceiling(self, meta, children):
        rate, citation, *rules = children
        return ast.Ceiling(self._percent(rate), citation, tuple(rules), span=self._span(meta))

    @v_args(meta=True)
    def param(self, meta, children):
        name, spec = children
        return ast.Param(self._name(name), spec, span=self._span(meta))

    @v_args(meta=True)
    def field(self, meta, children):
        name, display, field_type, default, citation = children
        return ast.FieldDecl(
            self._name(name), str(field_type), default, citation, span=self._span(meta),
            display_name=None if display is None else self._display_name(display),
        )

    def _display_name(self, token: Token) -> ast.DisplayName:
        """A display name is read as a name is: in NFKC form (P108), since it names the
        field to every reader of the views."""
        span = self._token_span(token)
        text = unquote(str(token))
        error = name_error(text, span)
        if error is not None:
            raise PolicyError([error])
        return ast.DisplayName(text, span=span)

    def field_default(self, children):
        token = children[0]
        if token.type == "BOOL":
            return str(token) == "true"
        return amount_value(str(token))


def _bad_date(token: Token, path: str):
    from yibao.core.diagnostics import Diagnostic, Severity

    return Diagnostic(
        "P106",
        Severity.ERROR,
        f"'{token}' is not a calendar date",
        Span(path, token.line, token.column, token.end_line, token.end_column),
        hint="write the date as YYYY-MM-DD, e.g. 2023-01-01",
    )
