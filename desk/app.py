"""The desk's routes: each page or API call opens the book, brings the search index
and the verify status up to the head, and hands over to its module.

Pages are ``GET`` with query parameters (a claim id of any text reaches its
page); the one form that posts (replay) carries a CSRF token; the API is JSON
under ``/api/``.  Blocking work (SQLite, settling, Graphviz) runs in the
thread pool, so one slow page does not stop the others.
"""

from __future__ import annotations

import threading

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from yibao.audit.store import AuditError
from yibao.desk import api as settlement_api
from yibao.desk.chain import chain_page
from yibao.desk.claim import claim_page, explanation_page, replay_claim
from yibao.desk.context import DeskContext
from yibao.desk.person_year import person_page
from yibao.desk.policy import graph_file, policies_page, policy_page
from yibao.desk.render import page
from yibao.desk.search import search_page
from yibao.desk.security import (CSRF_COOKIE, CSRF_FIELD, SECURITY_HEADERS, Csrf,
                                 bearer_matches, same_origin)

MAX_PARAMETER = 16 * 1024   # a query value longer than this is cut (ids of 10 KB still fit)


def create_app(ctx: DeskContext, verify_in_background: bool = True) -> Starlette:
    csrf = Csrf()

    def params(request: Request) -> dict[str, str]:
        return {key: value[:MAX_PARAMETER] for key, value in request.query_params.items()}

    def with_store(work, index: bool = False):
        """Run ``work(store, status)`` on a fresh connection; with ``index``, the search
        index brought up to the head first (only the pages that read it wait for it:
        its first build over a large book takes minutes)."""
        def run():
            with ctx.reading() as store:
                if index:
                    ctx.refresh(store)
                status = ctx.status.refresh(store)
                try:
                    return work(store, status)
                except AuditError as error:
                    # What the store refuses to read (e.g. A438: a person-year's list
                    # of entries that names another's) is said on the page, not a 500.
                    return page(ctx, status, "unreadable.html", "账簿无法读取", code=409,
                                reason=error.message, hint=error.hint)
        return run_in_threadpool(run)

    def csrf_cookie(request: Request) -> tuple[str, bool]:
        cookie = request.cookies.get(CSRF_COOKIE)
        return (cookie, False) if cookie else (csrf.new_cookie(), True)

    def finish(response: Response, cookie: str | None = None) -> Response:
        if cookie is not None:
            response.set_cookie(CSRF_COOKIE, cookie, httponly=True, samesite="strict")
        response.headers.update(SECURITY_HEADERS)
        return response

    async def search(request: Request):
        query = params(request)
        return finish(await with_store(lambda store, status: search_page(ctx, status, store,
                                                                         query)))

    async def claim(request: Request):
        claim_id = params(request).get("id", "")
        cookie, new = csrf_cookie(request)
        response = await with_store(lambda store, status: claim_page(
            ctx, status, store, claim_id, csrf.token_for(cookie)))
        return finish(response, cookie if new else None)

    async def replay(request: Request):
        form = await request.form()
        claim_id = str(form.get("id", ""))[:MAX_PARAMETER]
        cookie = request.cookies.get(CSRF_COOKIE)
        if not (csrf.valid(cookie, str(form.get(CSRF_FIELD, ""))) and
                same_origin(request.headers.get("origin"), request.headers.get("host"))):
            return finish(await with_store(lambda store, status: page(
                ctx, status, "refused.html", "请求被拒绝", code=403,
                reason="表单校验码（CSRF）缺失或不符：请从理赔页面重新提交。")))
        return finish(await with_store(lambda store, status: claim_page(
            ctx, status, store, claim_id, csrf.token_for(cookie),
            replay=replay_claim(store, claim_id))))

    async def explanation(request: Request):
        claim_id = params(request).get("id", "")
        return finish(await with_store(lambda store, status: explanation_page(ctx, store,
                                                                              claim_id)))

    async def person(request: Request):
        query = params(request)
        return finish(await with_store(lambda store, status: person_page(
            ctx, status, store, query.get("id", ""), query.get("year", ""))))

    async def policies(request: Request):
        return finish(await with_store(lambda store, status: policies_page(ctx, status)))

    async def policy(request: Request):
        query = params(request)
        return finish(await with_store(lambda store, status: policy_page(
            ctx, status, query.get("name", ""), query.get("version", ""))))

    async def graph(request: Request):
        query = params(request)
        return finish(await run_in_threadpool(graph_file, ctx, query.get("name", ""),
                                              query.get("version", "")))

    async def chain(request: Request):
        return finish(await with_store(lambda store, status: chain_page(ctx, status, store),
                                       index=True))

    # ---- the settlement API ------------------------------------------------------------
    def api_call(work, writes: bool):
        async def endpoint(request: Request):
            try:
                if writes:
                    if not ctx.writable:
                        raise settlement_api.ApiError(
                            settlement_api.WRITING_OFF, "the settlement API is off",
                            "start the desk with --token-file FILE or YIBAO_DESK_TOKEN set")
                    if not bearer_matches(request.headers.get("authorization"),
                                          ctx.write_token):
                        raise settlement_api.ApiError(
                            settlement_api.BAD_TOKEN, "no token, or the wrong one",
                            "send Authorization: Bearer TOKEN (never in the URL)")
                    data = settlement_api.parse_body(await request.body())
                    answer = await run_in_threadpool(work, ctx, data)
                else:
                    claim_id = params(request).get("id", "")
                    answer = await run_in_threadpool(work, ctx, claim_id)
            except AuditError as error:
                error = settlement_api.ApiError(settlement_api.BOOK_UNREADABLE, error.message,
                                                error.hint)
                return finish(JSONResponse(error.to_json(), status_code=error.status))
            except settlement_api.ApiError as error:
                return finish(JSONResponse(error.to_json(), status_code=error.status))
            return finish(JSONResponse(answer))
        return endpoint

    routes = [
        Route("/", search), Route("/claim", claim), Route("/claim/explanation", explanation),
        Route("/claim/replay", replay, methods=["POST"]), Route("/person", person),
        Route("/policies", policies), Route("/policy", policy), Route("/policy/graph.svg", graph),
        Route("/chain", chain),
        Route("/api/settle", api_call(settlement_api.settle, True), methods=["POST"]),
        Route("/api/withdraw", api_call(settlement_api.withdraw, True), methods=["POST"]),
        Route("/api/correct", api_call(settlement_api.correct, True), methods=["POST"]),
        Route("/api/claim", api_call(settlement_api.result, False)),
    ]
    app = Starlette(routes=routes)
    app.state.ctx = ctx
    ctx.status.start(background=verify_in_background)
    if verify_in_background:
        # The search index of a large book takes a while: start it now, not on the
        # first search (pages wait for it only when they need it).
        threading.Thread(target=ctx.warm_up, name="desk-index", daemon=True).start()
    return app
