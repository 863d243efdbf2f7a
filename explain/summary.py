"""A batch's payouts as a table for the terminal: one row per claim.

With a trace, the identity applied is shown as the person holds it
(监测帮扶对象（参照低保对象）, explain/identity_shown.py).
"""

from __future__ import annotations

from typing import Sequence, Union

from yibao.runtime.claims import ClaimError
from yibao.runtime.evaluate import ClaimResult
from yibao.core.span import display_width
from yibao.explain.identity_shown import identity_shown


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(width - display_width(text), 0)
    return gap + text if right else text + gap


def render_summary(outcomes: Sequence[Union[ClaimResult, ClaimError]]) -> str:
    results = [o for o in outcomes if isinstance(o, ClaimResult)]
    lines_of_defence: list[str] = []
    for result in results:
        for line, _ in result.payouts:
            if line not in lines_of_defence:
                lines_of_defence.append(line)
    header = ["理赔", "适用身份", *lines_of_defence, "支付合计", "个人负担", "预警"]
    rows = []
    for outcome in outcomes:
        if isinstance(outcome, ClaimError):
            rows.append([outcome.claim_id or "?", f"错误 {outcome.code}: {outcome.message}"])
            continue
        payouts = dict(outcome.payouts)
        rows.append([
            outcome.claim_id, identity_shown(outcome.trace or (), outcome.identity),
            *[f"{payouts[line]:,.2f}" if line in payouts else "—" for line in lines_of_defence],
            f"{outcome.total_paid:,.2f}", f"{outcome.personal_burden:,.2f}",
            "、".join(outcome.alerts) or "—",
        ])
    widths = [max([display_width(header[i])] + [display_width(r[i]) for r in rows
                                                 if len(r) == len(header)])
              for i in range(len(header))]
    numeric = set(range(2, len(header) - 1))
    out = ["  ".join(_pad(h, widths[i], i in numeric) for i, h in enumerate(header))]
    for row in rows:
        if len(row) != len(header):
            out.append("  ".join(row))
            continue
        out.append("  ".join(_pad(cell, widths[i], i in numeric) for i, cell in enumerate(row)))
    return "\n".join(out) + "\n"
