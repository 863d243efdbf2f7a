"""The person-year plot: inline SVG drawn on the server (no script, no library).

Claims are placed at equal steps in settlement order (their ids under the
axis, a marked point per claim on every series); amounts run up the side from
zero to a little over the highest figure or limit.  Limits (annual caps, alert
thresholds) are dashed horizontal lines with their figure.  Every text is
escaped; the SVG has a title and a description for screen readers.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape

import attrs

WIDTH, HEIGHT = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 90, 20, 30, 70
COLOURS = {"base": "#6b7280", "paid": "#1d4ed8", "burden": "#7c2d12"}
LIMIT_COLOUR = "#b91c1c"
DASHES = {"base": "6 3", "paid": "", "burden": ""}


@attrs.frozen
class Series:
    name: str
    values: list[Decimal]
    kind: str   # base, paid or burden: its colour


def plot_svg(title: str, labels: list[str], series: list[Series],
             limits: list[tuple[str, Decimal]], ident: str = "plot") -> str:
    highest = max([v for s in series for v in s.values] + [v for _, v in limits] + [Decimal(1)])
    top = highest * Decimal("1.1")
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = inner_w / max(len(labels), 1)

    def x(index: int) -> float:
        return LEFT + step * (index + 0.5)

    def y(value: Decimal) -> float:
        return TOP + inner_h * (1 - float(value / top))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'role="img" aria-labelledby="{ident}-t {ident}-d" font-family="Noto Sans CJK SC, sans-serif" '
             f'font-size="12"><title id="{ident}-t">{escape(title)}</title>'
             f'<desc id="{ident}-d">{escape(_description(labels, series, limits))}</desc>',
             f'<rect x="{LEFT}" y="{TOP}" width="{inner_w}" height="{inner_h}" fill="#ffffff" '
             f'stroke="#9ca3af"/>']
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        value = top * Decimal(str(fraction))
        parts.append(f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" '
                     f'fill="#374151">{value:,.0f}</text>')
    for name, value in limits:
        parts.append(f'<line class="limit" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" '
                     f'y2="{y(value):.1f}" stroke="{LIMIT_COLOUR}" stroke-dasharray="8 4" '
                     f'stroke-width="1.5"/><text x="{WIDTH - RIGHT - 4}" y="{y(value) - 4:.1f}" '
                     f'text-anchor="end" fill="{LIMIT_COLOUR}">{escape(name)}</text>')
    for index, label in enumerate(labels):
        short = label if len(label) <= 14 else label[:13] + "…"
        parts.append(f'<text x="{x(index):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="end" '
                     f'transform="rotate(-30 {x(index):.1f} {HEIGHT - BOTTOM + 16})" '
                     f'fill="#374151">{escape(short)}</text>')
    for legend, one in enumerate(series):
        colour = COLOURS.get(one.kind, "#111827")
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(one.values))
        dash = f' stroke-dasharray="{DASHES[one.kind]}"' if DASHES.get(one.kind) else ""
        parts.append(f'<polyline class="series {one.kind}" points="{points}" fill="none" '
                     f'stroke="{colour}" stroke-width="2"{dash}/>')
        for i, value in enumerate(one.values):
            parts.append(f'<circle class="claim" cx="{x(i):.1f}" cy="{y(value):.1f}" r="4" '
                         f'fill="{colour}"><title>{escape(labels[i])}：{escape(one.name)} '
                         f'{value:,.2f}</title></circle>')
        parts.append(f'<text x="{LEFT + 160 * legend}" y="{TOP - 10}" fill="{colour}">'
                     f'■ {escape(one.name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _description(labels, series, limits) -> str:
    said = [f"{s.name}：" + "，".join(f"{label} {value:,.2f}" for label, value in zip(labels, s.values))
            for s in series]
    said += [name for name, _ in limits]
    return "；".join(said)
