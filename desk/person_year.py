"""The person-year page: every claim in date order with per-line running bases,
payouts, caps left and adjustments, and the plot of the year against its caps
and alert thresholds.

The payouts are the book's nets (settlement plus adjustments).  The running
base and the alert burden after each claim come from settling the person-year
again in docs/specification.md §6.1's order (:func:`yibao.audit.book.resettle`,
one claim at a time on one ledger, each under the version that settled it),
which is what the book's invariant says its nets equal (docs/book.md).
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from yibao.audit.book import fold, resettle, settlement_order
from yibao.runtime.evaluate import ClaimResult
from yibao.runtime.ledger import Ledger
from yibao.core.money import ZERO
from yibao.desk.book_read import person_year_engine
from yibao.desk.plot import Series, plot_svg
from yibao.desk.render import page


@attrs.frozen
class LineFigures:
    base: Decimal            # the base this claim added
    running_base: Decimal    # cumulative base after it
    paid: Decimal            # its net in the book
    running_paid: Decimal    # cumulative net after it
    cap: Decimal | None      # the annual cap for this claim (identity, visit), if any
    cap_left: Decimal | None


@attrs.frozen
class ClaimRow:
    claim_id: str
    date: str
    identity: str
    lines: dict[str, LineFigures]
    burdens: dict[str, Decimal]       # alert → the year's burden after this claim
    alerts: tuple[str, ...]
    adjustments: tuple[dict, ...]
    error: str = ""


@attrs.frozen
class YearView:
    person_id: str
    year: int
    rows: tuple[ClaimRow, ...]
    withdrawn: tuple[tuple[str, str, tuple[dict, ...]], ...]   # (id, date, adjustments)
    lines: tuple[str, ...]
    thresholds: dict[str, Decimal]    # alert → threshold (for the person's scheme)


def person_year(ctx, store, person_id: str, year: int) -> YearView | None:
    entries = store.book_records(person_id, year)
    if not entries:
        return None
    claims = fold(entries)
    engine = person_year_engine(ctx, store, entries)
    for booked in claims.values():
        if booked.live:
            booked.claim = engine.validate(booked.text)
    ledger = Ledger()
    rows: list[ClaimRow] = []
    running_paid: dict[str, Decimal] = {}
    # The lines in the policy's settlement order (基本救助 before 倾斜救助, as the notice
    # lists them), not by name: the auditor reads the columns left to right as paid.
    booked_lines = {line for c in claims.values() for line in c.net}
    order = [line.name for line in engine.versions[-1].lines]
    computed = sorted(booked_lines, key=lambda name: (
        order.index(name) if name in order else len(order), name))
    thresholds: dict[str, Decimal] = {}
    for booked in settlement_order(claims.values()):
        settled = resettle(engine, [booked], set(), ledger)[0]
        state = ledger.person_year(person_id, year)
        outcome = settled.outcome
        policy = engine.version_for(booked.claim.date, booked.claim_id)
        identity = outcome.identity if isinstance(outcome, ClaimResult) else None
        lines = {}
        for name in computed:
            paid = booked.net.get(name, ZERO)
            running_paid[name] = running_paid.get(name, ZERO) + paid
            cap = _cap(policy, name, identity, booked.claim.visit)
            lines[name] = LineFigures(
                settled.base.get(name, ZERO),
                state.lines[name].base if name in state.lines else ZERO, paid,
                running_paid[name], cap, None if cap is None else cap - running_paid[name])
        for alert in policy.alerts:
            sourced = alert.threshold.for_identity(booked.claim.scheme)
            if sourced is not None and isinstance(sourced.value, Decimal):
                thresholds[alert.name] = sourced.value
        rows.append(ClaimRow(
            booked.claim_id, booked.text["date"], identity or "", lines,
            {name: a.burden for name, a in sorted(state.alerts.items())},
            outcome.alerts if isinstance(outcome, ClaimResult) else (),
            tuple(booked.adjustments),
            "" if isinstance(outcome, ClaimResult) else f"{outcome.code} {outcome.message}"))
    withdrawn = tuple((c.claim_id, c.text["date"], tuple(c.adjustments))
                      for c in claims.values() if not c.live)
    return YearView(person_id, year, tuple(rows), withdrawn, tuple(computed), thresholds)


def _cap(policy, line_name: str, identity: str | None, visit: str) -> Decimal | None:
    # The tables are keyed by effective identity (参照执行 followed), as the evaluator reads them.
    identity = policy.effective_identity(identity) if identity else identity
    for line in policy.lines:
        if line.name == line_name and line.cap is not None:
            sourced = line.cap.for_claim(identity, visit)
            if sourced is not None and isinstance(sourced.value, Decimal):
                return sourced.value
    return None


def plots(view: YearView) -> list[tuple[str, str]]:
    """(caption, inline SVG): one plot per line with a cap or a payout, one for the alerts."""
    out = []
    labels = [row.claim_id for row in view.rows]
    for line in view.lines:
        caps = {row.lines[line].cap for row in view.rows} - {None}
        paid = [row.lines[line].running_paid for row in view.rows]
        if not caps and not any(paid):
            continue
        series = [Series("累计基数", [row.lines[line].running_base for row in view.rows], "base"),
                  Series("累计支付", paid, "paid")]
        limits = [(f"年度限额 {cap:,.2f}", cap) for cap in sorted(caps)]
        title = f"{line}：累计基数与累计支付对年度限额"
        out.append((title, plot_svg(title, labels, series, limits, f"plot-{len(out)}")))
    if view.thresholds:
        series = [Series(f"{name} 累计负担", [row.burdens.get(name, ZERO) for row in view.rows],
                         "burden") for name in sorted(view.thresholds)]
        limits = [(f"{name} 预警线 {value:,.2f}", value)
                  for name, value in sorted(view.thresholds.items())]
        title = "累计个人负担对预警线"
        out.append((title, plot_svg(title, labels, series, limits, f"plot-{len(out)}")))
    return out


def person_page(ctx, status, store, person_id: str, year_text: str):
    try:
        year = int(year_text)
    except ValueError:
        year = None
    view = person_year(ctx, store, person_id, year) if year is not None else None
    if view is None:
        return page(ctx, status, "missing.html", "没有这个参保年度", code=404,
                    what="参保人年度", name=f"{person_id} {year_text}")
    return page(ctx, status, "person.html", f"{person_id} {year} 年", view=view,
                plots=plots(view))
