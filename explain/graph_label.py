"""A node's graphviz HTML-like label: name, formula, identity table, clause, figure.

With an overlay, the figure the claim's trace recorded is added in the path's
colour, the identity-table row the applied identity read is highlighted, and
the figures of losing take-highest candidates follow in grey.
"""

from __future__ import annotations

from html import escape

from yibao.compiler.graph import EvaluationGraph, Node
from yibao.explain import colour
from yibao.explain.figures import readable
from yibao.explain.graph_words import EVERYONE, EVERYONE_ELSE, node_words
from yibao.explain.overlay import Mark, Overlay
from yibao.explain.trace_zh import graph_label

_ROW = '<TR><TD ALIGN="{align}"{span}>{text}</TD></TR>'


def _row(text: str, align: str = "CENTER", span: bool = True) -> str:
    return _ROW.format(align=align, span=' COLSPAN="2"' if span else "", text=text)


def _font(text: str, size: int | None = None, colour_: str | None = None, bold: bool = False) -> str:
    text = escape(text, quote=False)
    if not text:  # graphviz rejects empty <B></B> and <FONT></FONT>
        return ""
    if bold:
        text = f"<B>{text}</B>"
    attributes = "".join([f' POINT-SIZE="{size}"' if size else "",
                          f' COLOR="{colour_}"' if colour_ else ""])
    return f"<FONT{attributes}>{text}</FONT>" if attributes else text


def node_label(node: Node, graph: EvaluationGraph, overlay: Overlay | None) -> str:
    words = node_words(node, graph)
    entry = overlay.nodes.get(node.id) if overlay is not None else None
    untaken = entry is not None and entry.mark is Mark.UNTAKEN
    rows = [_row(_font(graph_label(node), 13, colour.UNTAKEN_TEXT if untaken else None, bold=True))]
    rows += [_row(_font(line, 10)) for line in words.formula if line]
    rows += _table_rows(words.table, overlay.winner if entry and not untaken else None)
    if node.citation is not None:
        rows.append(_row(_font(f"§{node.citation.clause}", 9, colour.CLAUSE)))
    if entry is not None:
        figure_colour = colour.UNTAKEN_TEXT if untaken else colour.PATH
        rows.append(_row(_font(f"= {readable(entry.value)}", 13, figure_colour, bold=True)))
        if entry.note:   # what bound the figure: deductible, cap, ceiling, coverage
            rows.append(_row(_font(entry.note, 10, figure_colour)))
        rows += [_row(_font(f"{who}: {readable(value)}", 9, colour.UNTAKEN_TEXT))
                 for who, value in entry.losers]
    return ('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
            + "".join(rows) + "</TABLE>")


def _table_rows(table: tuple[tuple[str, str], ...], applied: str | None) -> list[str]:
    rows, used = [], False
    named = applied is not None and any(applied in who.split("、") for who, _ in table)
    for who, value in table:
        if who:  # a band's later rows belong to the identities above them
            used = applied is not None and (
                applied in who.split("、") if named else who in (EVERYONE_ELSE, EVERYONE))
        text_colour = colour.PATH if used else None
        rows.append(
            f'<TR><TD ALIGN="LEFT" BORDER="1" SIDES="T" COLOR="#d4d4d4">'
            f"{_font(who, 10, text_colour, used)}</TD>"
            f'<TD ALIGN="RIGHT" BORDER="1" SIDES="T" COLOR="#d4d4d4">'
            f"{_font(value, 10, text_colour, used)}</TD></TR>")
    return rows
