"""The words of a notice, as lint (and the language server) compare them with a policy.

A policy quotes its clauses in the language's strings, where drafters type
full-width or half-width punctuation as their keyboard gives it, leave out
line breaks, and elide with ``…``.  Notices (reposted web pages, most of them)
mix widths too.  So a quote and a notice are compared *normalised*: NFKC
(full-width ``，：；（）％０-９`` → half-width), white space and quotation
marks (“”‘’"') removed; ``…`` in a quote separates fragments that must appear
in the notice in order.

A clause's passage is found from the notice's own headings (``二、``,
``（五）``, ``1.``), choosing among repeated headings by the clause's declared
title (``clause §(五) "合理确定医疗救助待遇水平"``).
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata

import attrs

_DROPPED = set(" \t\r\n\u3000\u00a0“”‘’\"'「」")
ELISION = re.compile(r"…+|\.{3,}")
_BUCKET = 8   # characters: how far a word added or left out may shift a quote's start


@attrs.frozen
class NormalisedText:
    """A text without what the comparison ignores, and where each kept character came from."""

    text: str
    origin: tuple[int, ...]   # origin[i]: index in the original text of text[i]


def normalise(text: str) -> NormalisedText:
    kept: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char in _DROPPED:
            continue
        for folded in unicodedata.normalize("NFKC", char):
            if folded in _DROPPED or folded.isspace():
                continue
            kept.append(folded)
            origin.append(index)
    return NormalisedText("".join(kept), tuple(origin))


def fold(text: str) -> str:
    return normalise(text).text


def fragments(quote: str) -> list[str]:
    """The normalised pieces of a quote between its elisions (``…``)."""
    return [piece for piece in (fold(part) for part in ELISION.split(quote)) if piece]


@attrs.frozen
class Passage:
    """A stretch of the notice: offsets in its original text, and its line (from 1)."""

    start: int
    end: int
    line: int
    column: int
    text: str


class NoticeText:
    """One notice, normalised once, with lookups by quote and by clause."""

    def __init__(self, text: str):
        self.original = text
        self.folded = normalise(text)
        self._clauses: dict[tuple[str, str | None], Passage | None] = {}

    # ---- quotes ---------------------------------------------------------------------
    def missing_fragment(self, quote: str) -> str | None:
        """The first fragment of ``quote`` not found (in order) in the notice, or None."""
        position = 0
        for piece in fragments(quote):
            found = self.folded.text.find(piece, position)
            if found < 0:
                return piece
            position = found + len(piece)
        return None

    def nearest(self, fragment: str) -> Passage:
        """The notice's passage most like ``fragment``.

        Every pair of characters the fragment shares with the notice votes for
        where the fragment would start; the best-voted stretch (in buckets, so
        that a word added or left out does not split the vote) is then refined
        with difflib's ratio, one character at a time.
        """
        haystack = self.folded.text
        width = max(len(fragment), 1)
        votes: dict[int, int] = {}
        for offset in range(len(fragment) - 1):
            for position in self._pairs.get(fragment[offset:offset + 2], ()):
                bucket = (position - offset) // _BUCKET
                votes[bucket] = votes.get(bucket, 0) + 1
        if not votes:
            return self._passage(0, min(width, len(haystack)))
        bucket = max(votes, key=lambda b: (votes[b] + votes.get(b - 1, 0) + votes.get(b + 1, 0),
                                           -b))
        matcher = difflib.SequenceMatcher(autojunk=False)
        matcher.set_seq2(fragment)
        best, best_at = -1.0, max(bucket * _BUCKET, 0)
        low = max((bucket - 1) * _BUCKET, 0)
        high = min((bucket + 2) * _BUCKET, max(len(haystack) - 1, 0))
        for start in range(low, high + 1):
            matcher.set_seq1(haystack[start:start + width])
            ratio = matcher.ratio()
            if ratio > best:
                best, best_at = ratio, start
        return self._passage(best_at, min(best_at + width, len(haystack)))

    @functools.cached_property
    def _pairs(self) -> dict[str, list[int]]:
        pairs: dict[str, list[int]] = {}
        text = self.folded.text
        for position in range(len(text) - 1):
            pairs.setdefault(text[position:position + 2], []).append(position)
        return pairs

    def _passage(self, folded_start: int, folded_end: int) -> Passage:
        origin = self.folded.origin
        if not origin:
            return Passage(0, 0, 1, 1, "")
        start = origin[min(folded_start, len(origin) - 1)]
        end = origin[max(min(folded_end, len(origin)) - 1, 0)] + 1
        line = self.original.count("\n", 0, start) + 1
        column = start - (self.original.rfind("\n", 0, start) + 1) + 1
        return Passage(start, end, line, column, self.original[start:end])

    # ---- clauses --------------------------------------------------------------------
    def clause_passage(self, clause: str, title: str | None = None) -> Passage | None:
        """The notice's text of ``clause`` (``(五)``, ``二.1``, ``一(三)``), or None.

        The heading path is followed as deep as the notice's headings go: a
        citation of a part the notice does not number gets its parent's text.
        """
        key = (clause, title)
        if key not in self._clauses:
            self._clauses[key] = self._clause_passage(clause, title)
        return self._clauses[key]

    def _clause_passage(self, clause: str, title: str | None) -> Passage | None:
        parts = clause_parts(clause)
        if not parts:
            return None
        lines = self.original.splitlines(keepends=True)
        starts = [0]
        for line in lines:
            starts.append(starts[-1] + len(line))
        low, high = 0, len(lines)
        found = None
        for depth, (kind, label) in enumerate(parts):
            heads = [i for i in range(low, high) if heading_of(lines[i]) == (kind, label)]
            if not heads:
                break
            if title and len(heads) > 1 and depth == len(parts) - 1:
                titled = [i for i in heads if fold(title) in fold(lines[i])]
                heads = titled or heads
            head = heads[0]
            end = head + 1
            while end < high and not _ends(lines[end], kind):
                end += 1
            low, high, found = head, end, (head, end)
        if found is None:
            return None
        head, end = found
        start, stop = starts[head], starts[end]
        text = self.original[start:stop].rstrip()
        return Passage(start, start + len(text), head + 1, 1, text)


# ---- headings -------------------------------------------------------------------------
_RANK = {"top": 0, "paren": 1, "number": 2}
_HEADING = (
    ("top", re.compile(r"\s*([一二三四五六七八九十百]+)[、.．]")),
    ("paren", re.compile(r"\s*[（(]([一二三四五六七八九十百]+|\d+)[)）]")),
    ("number", re.compile(r"\s*(\d+)[.．、](?!\d)")),
)
_PART = re.compile(r"[（(]([^)）]+)[)）]|([一二三四五六七八九十百]+)|\.?(\d+)")


def clause_parts(clause: str) -> list[tuple[str, str]]:
    """``二(一)3`` → [("top", "二"), ("paren", "一"), ("number", "3")]."""
    parts = []
    for match in _PART.finditer(clause):
        if match.group(1):
            parts.append(("paren", match.group(1)))
        elif match.group(2):
            # A bare numeral after a bracketed part (§四(四)一: 一是…) is no heading.
            if parts:
                break
            parts.append(("top", match.group(2)))
        else:
            parts.append(("number", match.group(3)))
    return parts


@functools.lru_cache(maxsize=4096)
def heading_of(line: str) -> tuple[str, str] | None:
    for kind, pattern in _HEADING:
        match = pattern.match(line)
        if match:
            return kind, match.group(1)
    return None


def _ends(line: str, kind: str) -> bool:
    heading = heading_of(line)
    return heading is not None and _RANK[heading[0]] <= _RANK[kind]
