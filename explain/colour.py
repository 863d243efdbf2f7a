"""The colours of the review views, in one place: graph, HTML page and terminal.

The graph and the HTML page share one palette so that an auditor who reads
the page sees the same highlighted path as in a PNG attached to a case file.
"""

from __future__ import annotations

import os
from typing import TextIO

import attrs

# ---- the graph and the page ---------------------------------------------------------
# Text colours keep a contrast of at least 4.5:1 (WCAG 2 AA) on every fill below:
# PATH and CLAUSE were darkened for it (issue 24 item 8; tests/explain/test_print.py).
PATH = "#b83c0a"            # the path a claim took: nodes, edges, values
PATH_FILL = "#fff3e8"
UNTAKEN = "#a3a3a3"         # branches not taken, losing take-highest candidates: lines
UNTAKEN_TEXT = "#646464"    # … and their words (the light grey above reads at 2.3:1)
UNTAKEN_FILL = "#f2f2f2"
INPUT_FILL = "#e0ecff"      # claim fields and upstream payouts: what comes in
INPUT_BORDER = "#1d4ed8"
OUTPUT_FILL = "#dcfce7"     # payouts, totals, alerts: what goes out
OUTPUT_BORDER = "#15803d"
NODE_FILL = "#ffffff"
NODE_BORDER = "#525252"
CLUSTER_BORDER = "#737373"
CLAUSE = "#5b6270"          # citations
ALERT = "#b91c1c"

CJK_FONT = "Noto Sans CJK SC"  # fonts-noto-cjk, installed by scripts/ensure-system-packages.sh


# ---- the terminal -------------------------------------------------------------------
@attrs.frozen
class Palette:
    """ANSI styles for the text explanation; the plain palette writes none."""

    heading: str = ""
    value: str = ""
    clause: str = ""
    untaken: str = ""
    alert: str = ""
    reset: str = ""

    def paint(self, style: str, text: str) -> str:
        return f"{style}{text}{self.reset}" if style and text else text


PLAIN = Palette()
ANSI = Palette(heading="\x1b[1m", value="\x1b[36m", clause="\x1b[2m", untaken="\x1b[90m",
               alert="\x1b[1;31m", reset="\x1b[0m")


def terminal_palette(stream: TextIO, choice: str = "auto") -> Palette:
    """Colour on a terminal, plain when piped; NO_COLOR (no-color.org) turns it off."""
    if choice == "always":
        return ANSI
    if choice == "never" or os.environ.get("NO_COLOR"):
        return PLAIN
    isatty = getattr(stream, "isatty", None)
    return ANSI if isatty is not None and isatty() else PLAIN
