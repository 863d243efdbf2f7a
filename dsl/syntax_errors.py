"""Lark's parse errors → diagnostics a drafter can act on.

Lark says ``Unexpected token Token('NAME', '五十') … Expected one of: * AMOUNT``;
a drafter needs "expected an amount such as 2000 or 2万".  Terminal names are
mapped to words of the language, the common slips (full-width punctuation, a
misspelt keyword, an unclosed quote or brace) get their own codes and hints.
"""

from __future__ import annotations

import difflib
import re

import lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

from yibao.core.diagnostics import Diagnostic, Severity
from yibao.core.span import Span

TERMINAL_WORDS = {
    "NAME": "a name",
    "POLICY_ID": "a policy id such as benxi-2023",
    "CITE": "a citation such as §(五)",
    "STRING": 'a quoted text such as "……"',
    "DATE": "a date such as 2023-01-01",
    "PERCENT": "a rate such as 70%",
    "AMOUNT": "an amount such as 2000 or 2万",
    "BOOL": "true or false",
    "FIELD_TYPE": "a field type (bool, count or money)",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "COLON": "':'",
    "COMMA": "','",
    "MINUS": "'-'",
    "LPAR": "'('",
    "RPAR": "')'",
    "$END": "the end of the file",
}

# Full-width punctuation typed with a Chinese input method, and what was meant.
FULL_WIDTH = {
    "：": ":", "，": ",", "（": "(", "）": ")", "｛": "{", "｝": "}", "；": ";",
    "“": '"', "”": '"', "％": "%", "－": "-", "　": " ",
}


def _words(terminal: str, parser: lark.Lark) -> str:
    if terminal in TERMINAL_WORDS:
        return TERMINAL_WORDS[terminal]
    for definition in parser.terminals:
        if definition.name == terminal and definition.pattern.type == "str":
            return f"'{definition.pattern.value}'"
    return terminal.lower()


def _keywords(expected: set[str], parser: lark.Lark) -> list[str]:
    words = []
    for definition in parser.terminals:
        if definition.name in expected and definition.pattern.type == "str":
            value = definition.pattern.value
            if value.isalpha():
                words.append(value)
    return sorted(words)


def _expected_phrase(expected: set[str], parser: lark.Lark) -> str:
    phrases = sorted({_words(t, parser) for t in expected})
    if not phrases:
        return ""
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + " or " + phrases[-1]


def _span(path: str, line: int, column: int, width: int = 1) -> Span:
    return Span(path, line, column, line, column + max(width, 1))


def diagnose_syntax_error(error: lark.exceptions.UnexpectedInput, source: str, path: str,
                          parser: lark.Lark) -> Diagnostic:
    if isinstance(error, UnexpectedCharacters):
        return _unexpected_character(error, source, path, parser)
    if isinstance(error, UnexpectedEOF):
        line = source.count("\n") + 1
        column = len(source.rsplit("\n", 1)[-1]) + 1
        return Diagnostic(
            "P105", Severity.ERROR,
            f"the file ends too early: expected {_expected_phrase(set(error.expected), parser)}",
            _span(path, line, column), hint="a '{' may be missing its closing '}'",
        )
    assert isinstance(error, UnexpectedToken)
    return _missing_comma(error, source, path, parser) or _unexpected_token(error, path, parser)


def _unexpected_character(error: UnexpectedCharacters, source: str, path: str,
                          parser: lark.Lark) -> Diagnostic:
    char = source[error.pos_in_stream] if error.pos_in_stream < len(source) else ""
    where = _span(path, error.line, error.column)
    if char in FULL_WIDTH:
        return Diagnostic(
            "P102", Severity.ERROR,
            f"full-width '{char}' where the language uses '{FULL_WIDTH[char]}'",
            where, hint=f"replace '{char}' with the half-width '{FULL_WIDTH[char]}'",
        )
    if char == '"':
        return Diagnostic(
            "P104", Severity.ERROR, "a quoted text is not closed on its line", where,
            hint='close the quote with " before the end of the line',
        )
    expected = _expected_phrase(set(error.allowed or ()), parser)
    message = f"unexpected character '{char}'"
    if expected:
        message += f": expected {expected}"
    hint = ""
    if char.isdigit() and "PERCENT" not in (error.allowed or ()):
        hint = "a number is not allowed here"
    return Diagnostic("P101", Severity.ERROR, message, where, hint=hint)


def _missing_comma(error: UnexpectedToken, source: str, path: str,
                   parser: lark.Lark) -> Diagnostic | None:
    """P109: two names on one line where a list wants a comma (`covers 住院 门诊慢特病`).

    Lark lists every token that could follow (35 of them) and the generic hint
    was about citations; the slip is one missing comma.  A word close to a
    keyword is left to P100's "did you mean"."""
    token = error.token
    if token.type != "NAME" or "COMMA" not in error.expected or token.start_pos is None:
        return None
    if difflib.get_close_matches(str(token), _keywords(set(error.expected), parser), n=1,
                                 cutoff=0.6):
        return None
    line_before = source[source.rfind("\n", 0, token.start_pos) + 1: token.start_pos]
    # A comma is expected only right after a name of a list, so the word before
    # is that name; on another line, the slip is more likely a missing citation.
    previous = _TRAILING_NAME.search(line_before.rstrip())
    if previous is None:
        return None
    name, following = previous.group(0), str(token)
    return Diagnostic(
        "P109", Severity.ERROR,
        f"the names {name} and {following} have no comma between them",
        Span(path, token.line, token.column, token.line, token.column + len(following)),
        hint=f"separate the names of a list with commas: {name}, {following}",
    )


_TRAILING_NAME = re.compile(r"(?![0-9])[\w·]+$")


def _unexpected_token(error: UnexpectedToken, path: str, parser: lark.Lark) -> Diagnostic:
    token = error.token
    expected = set(error.expected)
    if token.type == "$END":
        return Diagnostic(
            "P105", Severity.ERROR,
            f"the file ends too early: expected {_expected_phrase(expected, parser)}",
            _span(path, max(token.line or 1, 1), max(token.column or 1, 1)),
            hint="a '{' may be missing its closing '}'",
        )
    where = Span(path, token.line, token.column, token.end_line or token.line,
                 token.end_column or token.column + len(str(token)))
    text = str(token)
    keywords = _keywords(expected, parser)
    hint = ""
    if keywords:
        close = difflib.get_close_matches(text, keywords, n=1, cutoff=0.6)
        if close:
            hint = f"did you mean '{close[0]}'?"
    if not hint and token.type == "AMOUNT" and "PERCENT" in expected:
        hint = f"rates are written with a percent sign: {text}%"
    if not hint and "CITE" in expected and token.type != "CITE":
        hint = "citations start with §, e.g. §(五)"
    return Diagnostic(
        "P100", Severity.ERROR,
        f"unexpected '{text}': expected {_expected_phrase(expected, parser)}",
        where, hint=hint,
    )
