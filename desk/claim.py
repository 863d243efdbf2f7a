"""The claim page: its figures in the book, the explanation, the claims behind 本次前,
its adjustments, its records in the chain, and a replay action.

The explanation is ``yibao explain --format html``'s own page
(:func:`yibao.explain.html.render_html`), served at ``/claim/explanation`` and
shown in a frame: the same rendering, not a copy of it.
"""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

from yibao.audit.replay import replay_store
from yibao.runtime.claims import ClaimError
from yibao.desk.book_read import booked_claim, explanation
from yibao.desk.render import page


def not_found(ctx, status, claim_id: str):
    return page(ctx, status, "missing.html", "没有这条理赔", code=404,
                what="理赔", name=claim_id)


def claim_page(ctx, status, store, claim_id: str, csrf_token: str, replay=None):
    view = booked_claim(ctx, store, claim_id)
    if view is None:
        return not_found(ctx, status, claim_id)
    book_view = explanation(store, view)
    outcome = book_view.outcome
    refused = outcome if isinstance(outcome, ClaimError) else None
    text = view.booked.text
    return page(ctx, status, "claim.html", f"理赔 {claim_id}", view=view, text=text,
                earlier=book_view.earlier, adjustments=view.booked.adjustments,
                history=[(r, r.data) for r in view.history], refused=refused,
                outcome=None if refused else outcome, csrf_token=csrf_token, replay=replay,
                policy_name=ctx.policy_name_of(view.booked.policy[0]
                                               if view.booked.policy else ""))


def explanation_page(ctx, store, claim_id: str):
    """The explanation alone: exactly what ``yibao explain --format html --book`` renders."""
    from yibao.explain.html import render_html

    view = booked_claim(ctx, store, claim_id)
    if view is None:
        return HTMLResponse("<!DOCTYPE html><html lang=\"zh-CN\"><title>没有这条理赔</title>"
                            "<p>账簿中没有这条理赔。</p></html>", status_code=404)
    book_view = explanation(store, view)
    outcome = book_view.outcome
    if isinstance(outcome, ClaimError):
        return HTMLResponse(f"<!DOCTYPE html><html lang=\"zh-CN\"><title>{escape(outcome.code)}"
                            f"</title><p>{escape(outcome.code)} {escape(outcome.message)}</p></html>")
    claim = view.engine.validate(view.booked.text)
    graph = view.engine.evaluators[outcome.policy].graph
    return HTMLResponse(render_html(outcome, claim, graph))


def replay_claim(store, claim_id: str):
    """``yibao audit replay --claim ID``: the claim's person-year settled again in one run."""
    return replay_store(store, claim_id)
