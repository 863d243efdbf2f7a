"""Comments of a policy file, which the grammar ignores, with the parse tree.

The grammar drops ``# …`` comments (``%ignore COMMENT``), so neither the AST
nor the parse tree keeps them.  The formatter must put each comment back and
the linter reads suppressions from them: both parse with this module's own
Lark instance, which collects the COMMENT tokens as the lexer meets them.
"""

from __future__ import annotations

import functools
import threading

import attrs
import lark

from yibao.dsl.parser import GRAMMAR


@attrs.frozen
class Comment:
    """``# text`` at ``line``:``column``; ``own_line`` when nothing precedes it on its line."""

    line: int
    column: int
    text: str
    own_line: bool


class _Collector:
    """Lark calls the lexer callback with no context: the collector is the sink it fills."""

    def __init__(self):
        self.tokens: list[lark.Token] = []
        self.lock = threading.Lock()

    def __call__(self, token: lark.Token) -> lark.Token:
        self.tokens.append(token)
        return token


@functools.lru_cache(maxsize=1)
def _lark_with_comments() -> tuple[lark.Lark, _Collector]:
    collector = _Collector()
    parser = lark.Lark(
        GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
        lexer_callbacks={"COMMENT": collector},
    )
    return parser, collector


def parse_with_comments(source: str) -> tuple[lark.Tree, tuple[Comment, ...]]:
    """The parse tree (Lark's, with positions) and the comments, in source order.

    Raises Lark's ``UnexpectedInput`` on a syntax error: callers parse with
    :func:`yibao.dsl.parser.parse_policy` first, which turns it into a diagnostic.
    """
    parser, collector = _lark_with_comments()
    with collector.lock:
        collector.tokens = []
        try:
            tree = parser.parse(source)
        finally:
            tokens, collector.tokens = collector.tokens, []
    return tree, tuple(_comment(token, source) for token in tokens)


def _comment(token: lark.Token, source: str) -> Comment:
    line_start = source.rfind("\n", 0, token.start_pos) + 1
    own_line = not source[line_start:token.start_pos].strip()
    return Comment(token.line, token.column, str(token).rstrip(), own_line)
