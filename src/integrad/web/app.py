"""The web view as an ASGI application (Starlette): pages, a JSON API and static files.

Routes:

- ``/`` explain, ``/compare``, ``/generate`` (language models), ``/runs``, ``/runs/<name>``,
  ``/runs/<name>/rows/<n>``, ``/runs/<name>/summary``, ``/runs/<name>/files/<file>``.
- ``GET /api/info``; ``POST /api/explain``, ``/api/compare``, ``/api/generate`` (JSON in,
  JSON out: an HTML fragment and the result's ``to_dict()``); ``GET /api/runs``,
  ``/api/runs/<name>/rows`` (filtered, sorted, paged), ``/api/runs/<name>/rows/<n>``.

Model work runs in worker threads (``run_in_threadpool``), so a slow explanation never
blocks the event loop: other pages and requests are answered meanwhile. Mistakes in a
request get status 400 and ``{"error": message}``; no stack trace ever reaches the browser
(the server's log has it). Only JSON is accepted for POSTs and only loopback host names by
default (so other web sites cannot post forms to the server, or reach it by DNS
rebinding), and every page carries a Content-Security-Policy that allows scripts, styles and
requests from the server itself only.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from integrad.errors import IntegradError
from integrad.web import forms, pages, run_pages, views
from integrad.web.models import ModelSlot, make_slots, slot_named
from integrad.web.runs import Query, RunNotFound, find_runs, list_rows, read_rows, run_file
from integrad.web.summary import summary_html

log = logging.getLogger("integrad.web")
STATIC = Path(__file__).with_name("static")
#: Host names the server answers to when bound to a loopback address.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self' "
    "'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def create_app(
    model: Any = None,
    *,
    runs: Sequence[str | os.PathLike] = (),
    tokenizer: Any = None,
    allowed_hosts: Sequence[str] = LOOPBACK_HOSTS,
    **options: Any,
) -> WebApp:
    """The web view's ASGI application (serve it with uvicorn, or :func:`integrad.serve`).

    Args:
        model: A model as :func:`integrad.explain` takes it (None: the bundled default),
            a language model, or a list of models to choose from and compare.
        runs: Folders of dataset runs (a run folder, or a folder of them).
        tokenizer: The tokenizer of models given as objects.
        allowed_hosts: Host names the server answers to (``["*"]`` for any).
        **options: ``trust_remote_code``, ``local_files_only`` for models given by name.

    Example:
        >>> from starlette.testclient import TestClient  # doctest: +SKIP
        >>> client = TestClient(create_app(), base_url="http://127.0.0.1")  # doctest: +SKIP
    """
    models = list(model) if isinstance(model, (list, tuple)) else [model]
    slots = make_slots([m for m in models if m is not None] or [None], tokenizer, **options)
    roots = [os.fspath(r) for r in runs]
    web = _Handlers(slots, roots)
    routes = [
        Route("/", web.home),
        Route("/compare", web.compare_page),
        Route("/generate", web.generate_page),
        Route("/runs", web.runs_page),
        Route("/runs/{name}", web.run_page),
        Route("/runs/{name}/summary", web.summary_page),
        Route("/runs/{name}/rows/{n:int}", web.row_page),
        Route("/runs/{name}/files/{path:path}", web.run_file),
        Route("/api/info", web.info),
        Route("/api/explain", web.explain, methods=["POST"]),
        Route("/api/compare", web.compare, methods=["POST"]),
        Route("/api/generate", web.generate, methods=["POST"]),
        Route("/api/runs", web.api_runs),
        Route("/api/runs/{name}/rows", web.api_rows),
        Route("/api/runs/{name}/rows/{n:int}", web.api_row),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))],
        exception_handlers={
            IntegradError: web.refused,
            _BadBody: web.refused,
            404: web.not_found,
            405: web.not_found,
            Exception: web.failed,
        },
    )
    app.state.slots = slots
    return WebApp(app)


class WebApp:
    """The Starlette application with :data:`SECURITY_HEADERS` added to every response
    (error pages included, which Starlette's own middleware would miss).

    Attributes:
        app: The Starlette application.
        state: Its state; ``state.slots`` holds the models (see :mod:`integrad.web.models`).
    """

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.state = app.state

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                extra = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


class _Handlers:
    """The route handlers, sharing the server's models and runs folders."""

    def __init__(self, slots: dict[str, ModelSlot], roots: list[str]) -> None:
        self.slots, self.roots = slots, roots

    def _labels(self, key: str | None) -> tuple[str, ...]:
        return slot_named(self.slots, key, "classifier").labels()

    # Pages -----------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        if not any(s.kind == "classifier" for s in self.slots.values()):
            return RedirectResponse("/generate", status_code=307)
        html = await run_in_threadpool(pages.explain_page, self.slots)
        return HTMLResponse(html)

    async def compare_page(self, request: Request) -> Response:
        if not any(s.kind == "classifier" for s in self.slots.values()):
            return self._message(
                "No classifier", "This server has no text classifier to compare with.", 404
            )
        return HTMLResponse(await run_in_threadpool(pages.compare_page, self.slots))

    async def generate_page(self, request: Request) -> Response:
        if not any(s.kind == "generator" for s in self.slots.values()):
            return self._message(
                "No language model",
                "This server explains a text classifier; start it with --model pointing to a "
                "causal language model to explain generations.",
                404,
            )
        return HTMLResponse(pages.generate_page(self.slots))

    async def runs_page(self, request: Request) -> Response:
        runs = find_runs(self.roots)
        return HTMLResponse(
            await run_in_threadpool(run_pages.runs_page, runs, self.roots, self.slots)
        )

    def _run(self, request: Request) -> Any:
        name = request.path_params["name"]
        runs = find_runs(self.roots)
        if name not in runs:
            raise RunNotFound(f"there is no run named {name!r}; see /runs for the runs")
        return runs[name]

    async def run_page(self, request: Request) -> Response:
        run = self._run(request)
        return HTMLResponse(await run_in_threadpool(run_pages.run_page, run, self.slots))

    async def row_page(self, request: Request) -> Response:
        run = self._run(request)
        n = request.path_params["n"]

        def page() -> str:
            return run_pages.row_page(run, read_rows(run, [n])[0], run.count(), self.slots)

        return HTMLResponse(await run_in_threadpool(page))

    async def summary_page(self, request: Request) -> Response:
        run = self._run(request)
        fragment = await run_in_threadpool(summary_html, run)
        return HTMLResponse(run_pages.summary_page(run, fragment, self.slots))

    async def run_file(self, request: Request) -> Response:
        run = self._run(request)
        return FileResponse(run_file(run, request.path_params["path"]))

    # The API ---------------------------------------------------------------------------

    async def info(self, request: Request) -> Response:
        from integrad import __version__
        from integrad.baselines import list_baselines
        from integrad.core.rules import list_rules

        models = [
            {"key": s.key, "name": s.name, "kind": s.kind, "labels": list(s.labels())}
            for s in self.slots.values()
        ]
        return JSONResponse({
            "version": __version__,
            "models": models,
            "baselines": list_baselines("text"),
            "methods": ["adaptive", *list_rules()],
            "limits": forms.LIMITS,
        })  # fmt: skip

    async def explain(self, request: Request) -> Response:
        body = await _json(request)
        req = await run_in_threadpool(forms.explain_request, body, self._labels)
        slot = slot_named(self.slots, req.model, "classifier")
        e, warned = await run_in_threadpool(lambda: slot.explain(req.text, **req.arguments))
        return JSONResponse(_explained(e, warned))

    async def compare(self, request: Request) -> Response:
        body = await _json(request)
        a, b = await run_in_threadpool(forms.compare_request, body, self._labels)
        out = {}
        for side, req in (("a", a), ("b", b)):
            slot = slot_named(self.slots, req.model, "classifier")
            e, warned = await run_in_threadpool(
                lambda s=slot, r=req: s.explain(r.text, **r.arguments)
            )
            out[side] = (e, warned, _difference(req, b if side == "a" else a, side))
        (ea, wa, ta), (eb, wb, tb) = out["a"], out["b"]
        html = (
            f'<div class="pair">{views.explanation_panel(ea, ta)}{views.explanation_panel(eb, tb)}'
            f"</div><h3>Word by word</h3>{views.comparison_table(ea, eb)}"
        )
        return JSONResponse(
            {"html": html, "a": _explained(ea, wa, ta), "b": _explained(eb, wb, tb)}
        )

    async def generate(self, request: Request) -> Response:
        body = await _json(request)
        req = forms.generate_request(body)
        slot = slot_named(self.slots, req.model, "generator")
        e, warned = await run_in_threadpool(
            lambda: slot.explain_generation(req.text, **req.arguments)
        )
        return JSONResponse({"html": views.generation_panel(e), "warnings": warned,
                             "result": e.to_dict()})  # fmt: skip

    async def api_runs(self, request: Request) -> Response:
        runs = find_runs(self.roots)
        listed = [
            {
                "name": r.name,
                "rows": r.count(),
                "shards": len(r.shards()),
                "url": run_pages.run_url(r),
            }
            for r in runs.values()
        ]
        return JSONResponse({"runs": listed})

    async def api_rows(self, request: Request) -> Response:
        run = self._run(request)
        query = Query.from_params(dict(request.query_params))
        total, rows = await run_in_threadpool(list_rows, run, query)
        return JSONResponse({"total": total, "offset": query.offset, "limit": query.limit,
                             "rows": rows})  # fmt: skip

    async def api_row(self, request: Request) -> Response:
        run = self._run(request)
        row = (await run_in_threadpool(read_rows, run, [request.path_params["n"]]))[0]
        return JSONResponse(row)

    # Errors ----------------------------------------------------------------------------

    def _message(self, title: str, message: str, status: int) -> Response:
        return HTMLResponse(pages.message_page(title, message, self.slots), status_code=status)

    async def not_found(self, request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        detail = getattr(exc, "detail", "not found")
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": f"{request.url.path}: {detail}"}, status_code=status)
        return self._message("Not found", f"There is no page at {request.url.path}.", status)

    async def refused(self, request: Request, exc: Exception) -> Response:
        """A mistake in the request: 400 (404 for unknown runs) with the message."""
        status = getattr(exc, "status", 404 if isinstance(exc, RunNotFound) else 400)
        return self._error(request, str(exc), status)

    async def failed(self, request: Request, exc: Exception) -> Response:
        """Anything else: 500, with the stack trace in the server's log only."""
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        message = (
            f"the server failed on this request ({type(exc).__name__}); its log has the "
            "details. If this looks like a bug in integrad, please report it"
        )
        return self._error(request, message, 500)

    def _error(self, request: Request, message: str, status: int) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message}, status_code=status)
        return self._message("Error" if status != 404 else "Not found", message, status)


class _BadBody(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


async def _json(request: Request) -> Any:
    """The request's JSON body, refused when it is not JSON or larger than the limit."""
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind != "application/json":
        raise _BadBody("send the request as JSON (Content-Type: application/json)", 415)
    limit = forms.LIMITS["body"]
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise _BadBody(f"the request is larger than {limit} bytes", 413)
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise _BadBody(f"the request is larger than {limit} bytes", 413)
    try:
        return json.loads(raw)
    except ValueError as err:
        raise _BadBody(f"the request is not valid JSON: {err}", 400) from None


def _explained(e: Any, warned: list[str], title: str = "") -> dict[str, Any]:
    return {
        "html": views.explanation_panel(e, title),
        "warnings": warned,
        "result": e.to_dict(),
    }


def _difference(req: forms.ExplainRequest, other: forms.ExplainRequest, side: str) -> str:
    """A title for one side of a comparison: what it set differently from the other."""
    mine = {"model": req.model, **req.arguments}
    theirs = {"model": other.model, **other.arguments}
    keys = [k for k in {**mine, **theirs} if mine.get(k) != theirs.get(k)]
    unset = {"target": "predicted"}
    described = ", ".join(
        f"{k} {mine[k] if mine.get(k) is not None else unset.get(k, 'default')}" for k in keys
    )
    return f"{side.upper()}: {described}" if described else side.upper()
