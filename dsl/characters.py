"""Characters a policy's code may hold: ASCII digits, and names in their normal form.

Digits (issue 21 item 4).  A policy writes numbers with the ASCII digits 0–9
only.  Python's ``\\d`` and ``Decimal()`` take every Unicode decimal digit, so
``cap ৪000`` (Bengali four, which looks like 8) paid a cap of 4000, while a
claim refuses the same digit (C303).  Outside quoted text and comments, any
other decimal digit — Bengali ৪, Devanagari ०, mathematical 𝟐, full-width ２ —
is refused (P107) with the number spelt in ASCII.  Full-width digits are not
normalised either: one rule for every script keeps policy and claims alike.

Names (issue 21 item 5).  A name is compared by its code points, so 者 written
with the compatibility ideograph U+FA5B is another identity than 者 (U+8005)
while no reader can tell them apart.  A name must be unchanged by NFKC (which
includes NFC): compatibility ideographs, full-width letters and decomposed
accents are refused (P108) with the character to write instead.
"""

from __future__ import annotations

import unicodedata
from typing import Iterator

from yibao.core.diagnostics import Diagnostic, PolicyError, Severity
from yibao.core.span import Span


def code_characters(source: str) -> Iterator[tuple[int, int, int, str]]:
    """(index, line, column, character) of every character outside quotes and comments."""
    line, column = 1, 0
    in_string = in_comment = False
    for index, char in enumerate(source):
        column += 1
        if char == "\n":
            line, column = line + 1, 0
            in_string = in_comment = False
        elif in_comment:
            continue
        elif char == '"':
            in_string = not in_string
        elif in_string:
            continue
        elif char == "#":
            in_comment = True
        else:
            yield index, line, column, char


def foreign_digit(char: str) -> bool:
    return char.isdecimal() and not ("0" <= char <= "9")


_UNITS = ("万元", "万", "元", "%")


def check_digits(source: str, path: str) -> None:
    """Refuse the first decimal digit outside 0–9 in the policy's code (P107)."""
    for index, line, column, char in code_characters(source):
        if foreign_digit(char):
            raise PolicyError([_digit_error(source, index, path, line, column)])


def _digit_error(source: str, index: int, path: str, line: int, column: int) -> Diagnostic:
    start = index
    while start > 0 and source[start - 1].isdecimal():
        start -= 1
    end = index
    while end < len(source) and (source[end].isdecimal() or (
            source[end] == "." and source[end + 1:end + 2].isdecimal())):
        end += 1
    digits_end = end
    for unit in _UNITS:  # the hint spells the whole amount: 2万, not 2
        if source.startswith(unit, end):
            end += len(unit)
            break
    written = source[start:end]
    ascii_number = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in written)
    char = source[index]
    name = unicodedata.name(char, f"U+{ord(char):04X}").lower()
    return Diagnostic(
        "P107", Severity.ERROR,
        f"'{char}' ({name}) is not one of the digits 0–9 a policy is written with",
        Span(path, line, column - (index - start), line, column + (digits_end - index)),
        hint=f"write {ascii_number} instead of {written}",
    )


def name_error(text: str, span: Span) -> Diagnostic | None:
    """P108 when ``text`` is not in NFKC form, naming each character to replace."""
    if unicodedata.normalize("NFKC", text) == text:
        return None
    replacements = []
    for char in dict.fromkeys(text):
        normal = unicodedata.normalize("NFKC", char)
        if normal != char:
            replacements.append(f"U+{ord(char):04X} {char} with "
                                + " ".join(f"U+{ord(c):04X}" for c in normal) + f" {normal}")
    if not replacements:  # a decomposed sequence: only the whole name composes
        replacements.append(f"the name with its composed form {unicodedata.normalize('NFKC', text)}")
    return Diagnostic(
        "P108", Severity.ERROR,
        f"the name {text} is not in Unicode normal form (NFKC): a reader cannot tell it "
        f"from {unicodedata.normalize('NFKC', text)}",
        span, hint="replace " + "; ".join(replacements),
    )
