"""Policy texts for fuzzing the front end: from the grammar, and mutations of real files.

Both sources adapt to the language as it grows: the grammar strategy reads
``dsl/policy.lark`` and gives every terminal a generator (keywords as written,
names taken from the shipped policies), and the mutations start from whatever
``policies/*.policy`` holds.
"""

from __future__ import annotations

import functools
import re

import attrs
import lark
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark

from robustness.claim_space import policy_files
from yibao.core.diagnostics import PolicyError, Severity
from yibao.dsl import ast
from yibao.dsl.checker import check_policy
from yibao.dsl.model import SCHEMES, VISITS
from yibao.dsl.parser import GRAMMAR, parse_policy
from yibao.dsl.syntax_errors import FULL_WIDTH

DIAGNOSTIC_CODE = re.compile(r"[PS]\d{3}")


@functools.cache
def policy_sources() -> dict[str, str]:
    return {name: path.read_text(encoding="utf-8") for name, path in policy_files().items()}


# ---- the front end, and what a clean answer is -------------------------------------

def compile_text(text: str, path: str = "fuzz.policy"):
    """Parse, check and lower one policy text: an evaluation graph, or PolicyError."""
    from yibao.compiler.lower import lower_policy

    tree = parse_policy(text, path)
    result = check_policy(tree)
    if result.policy is None:
        raise PolicyError(result.diagnostics)
    return lower_policy(result.policy)


def assert_clean(error: PolicyError, path: str) -> None:
    """A diagnostic a drafter can act on: a stable code, an error, a message, a place."""
    assert error.diagnostics, "a PolicyError without diagnostics"
    assert any(d.severity is Severity.ERROR for d in error.diagnostics)
    for diagnostic in error.diagnostics:
        assert DIAGNOSTIC_CODE.fullmatch(diagnostic.code), diagnostic
        assert diagnostic.message.strip(), diagnostic
        assert diagnostic.span.file == path, diagnostic
        assert diagnostic.span.line >= 1 and diagnostic.span.column >= 1, diagnostic


def front_end_answers(text: str, path: str = "fuzz.policy"):
    """Any text gets a compiled policy or a clean diagnostic, never another exception."""
    try:
        return compile_text(text, path)
    except PolicyError as error:
        assert_clean(error, path)
        return error


# ---- names found in real policies ---------------------------------------------------

def _names(node, found: set[str]) -> None:
    if isinstance(node, ast.Name):
        found.add(node.text)
    elif isinstance(node, (tuple, list)):
        for item in node:
            _names(item, found)
    elif attrs.has(type(node)):
        for field in attrs.fields(type(node)):
            _names(getattr(node, field.name), found)


@functools.cache
def known_names() -> tuple[str, ...]:
    """Every name written in the shipped policies, plus visits, schemes and `others`."""
    found = set(VISITS) | set(SCHEMES) | {"others", "in_scope_cost", "total_cost"}
    for name, text in policy_sources().items():
        try:
            _names(parse_policy(text, name), found)
        except PolicyError:
            continue
    return tuple(sorted(found))


# ---- texts from the grammar ---------------------------------------------------------

_SAMPLES = {
    "POLICY_ID": ["benxi-2023", "jiamusi-2021", "fuzz-2024", "a"],
    "CITE": ["§1", "§(五)", "§二.1", "§四(四)一"],
    "STRING": ['""', '"条款原文"', r'"a \" quote"', '"__import__(\'os\').system(\'true\')"'],
    "DATE": ["2023-01-01", "2024-02-29", "2023-02-30", "0001-01-01", "9999-12-31"],
    "PERCENT": ["0%", "60%", "100%", "33.33%", "150%", "0.0001%"],
    "AMOUNT": ["0", "2000", "2万", "1.2万元", "1000.50", "99999999999999999999999"],
}


def _terminal(definition) -> st.SearchStrategy[str]:
    name, pattern = definition.name, definition.pattern
    if pattern.type == "str":
        words = st.just(pattern.value)
    elif name == "NAME":
        words = st.sampled_from(known_names())
    elif name in _SAMPLES:
        words = st.sampled_from(_SAMPLES[name])
    else:  # a terminal added to the grammar later
        words = st.from_regex(pattern.to_regexp(), fullmatch=True).filter(lambda w: "\n" not in w)
    return words.map(lambda word: word + " ")


@functools.cache
def _grammar() -> lark.Lark:
    return lark.Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", lexer="contextual")


def grammar_texts() -> st.SearchStrategy[str]:
    """Token sequences the grammar derives, spaced, sometimes after a well-formed head
    (header, clause, identities) so that the checker resolves the names they use."""
    grammar = _grammar()
    explicit = {t.name: _terminal(t) for t in grammar.terminals}
    # Whitespace and comments go between tokens: a comment ends its line.
    explicit.update({name: _IGNORED.get(name, st.just(" ")) for name in grammar.ignore_tokens})
    body = from_lark(grammar, explicit=explicit)
    head = st.sampled_from(["", _HEAD])
    return st.tuples(head, body).map("".join)


_IGNORED = {"WS": st.sampled_from([" ", "\n", "\t"]), "COMMENT": st.just("# 注释\n")}

_HEAD = """policy fuzz-2024 { effective 2024-01-01 }
clause §1 "条款"
identity 特困人员 §1
identity 低保对象 §1
identity 低保边缘家庭成员 treated as 低保对象 §1
field in_province: bool default true §1
field bed_days: count §1
line 基本医保 upstream §1
"""


# ---- mutations of real policies -----------------------------------------------------

TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|\s+|[{}():,%-]|§[^\s{}:,;"“”#]+|[^\s{}():,%"#-]+')


def tokens(text: str) -> list[str]:
    found = TOKEN.findall(text)
    assert "".join(found) == text  # the split loses nothing
    return found


MUTATIONS = ("delete", "duplicate", "swap", "full_width", "characters", "keyword", "replace",
             "replace")


@st.composite
def mutated_policies(draw) -> str:
    """A shipped policy with a few tokens deleted, duplicated, swapped, replaced by
    another name or number, or with full-width punctuation, random characters or
    a stray keyword inserted."""
    text = draw(st.sampled_from(sorted(policy_sources().values())))
    parts = tokens(text)
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(parts) - 1))
        kind = draw(st.sampled_from(MUTATIONS))
        if kind == "delete":
            del parts[where]
        elif kind == "duplicate":
            parts.insert(where, parts[where])
        elif kind == "swap":
            other = draw(st.integers(0, len(parts) - 1))
            parts[where], parts[other] = parts[other], parts[where]
        elif kind == "full_width":
            parts.insert(where, draw(st.sampled_from(sorted(FULL_WIDTH))))
        elif kind == "characters":
            parts.insert(where, draw(st.text(st.characters(exclude_categories=()), min_size=1, max_size=6)))
        elif kind == "keyword":
            parts.insert(where, " " + draw(st.sampled_from(_KEYWORDS)) + " ")
        elif not parts[where].isspace():
            parts[where] = draw(st.sampled_from(known_names() + _NUMBERS))
    return "".join(parts)


_NUMBERS = ("0", "0%", "100%", "101%", "2万", "1e5", "-1", "0.001", "99999999999999999999万元")
_KEYWORDS = ("policy", "extends", "line", "amend", "identity", "treated as", "not", "(", ")",
             "{", "}", "bands", "from", "to", "unspecified", "§", ":", "others", "none",
             "__import__('os')", "eval(", "\x00", "\ufeff", "\r")
