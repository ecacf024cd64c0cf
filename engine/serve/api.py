"""The HTTP front of `latentcut serve`: the `/v1/videos` API on Starlette.

Every answer other than a file or an event stream is JSON; every refusal is a 4xx whose body is
`{"error": {"message": "<one sentence>"}}`, never a traceback. A bearer token, when the server
has one, guards everything but `/health`.
"""
from __future__ import annotations

import asyncio
import hmac
import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, StreamingResponse
from starlette.routing import Route

from engine.serve.dispatch import Dispatcher
from engine.serve.video_request import RequestError, job_request
from engine.serve.wire import FINAL_STATUSES, sse_message

log = logging.getLogger("latentcut.serve")
KEEP_ALIVE_S = 15  # an idle event stream sends a comment this often, so proxies keep it open
CLOSING_POLL_S = 1  # how soon open event streams end once the server is stopping


def error(status: int, message: str) -> JSONResponse:
    message = message if message.endswith(".") else message + "."
    return JSONResponse({"error": {"message": message, "code": status}}, status_code=status)


class BearerToken:
    """ASGI middleware: without `Authorization: Bearer <token>`, any path but /health is a 401."""

    def __init__(self, app, token: str | None):
        self.app = app
        self.token = token

    async def __call__(self, scope, receive, send):
        if self.token is None or scope["type"] != "http" or scope["path"] == "/health":
            return await self.app(scope, receive, send)
        given = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), self.token.encode()):
            why = "no bearer token was given" if not given else "the bearer token is wrong"
            response = error(401, f"unauthorized: {why} (send Authorization: Bearer TOKEN)")
            response.headers["WWW-Authenticate"] = "Bearer"
            return await response(scope, receive, send)
        return await self.app(scope, receive, send)


def build_app(dispatcher: Dispatcher, models: dict[str, dict], token: str | None, max_upload: int,
              engine_state) -> Starlette:
    """`models`: name -> the replica's `describe()`; `engine_state()`: replicas and nodes, from Ray."""
    names = list(models)

    async def health(request: Request):
        return JSONResponse({"status": "ok"})

    async def list_models(request: Request):
        return JSONResponse({"object": "list", "data": [
            {"id": name, "object": "model", "owned_by": "latentcut", **info} for name, info in models.items()]})

    async def engine(request: Request):
        state = await asyncio.to_thread(engine_state)
        return JSONResponse({"models": names, **state, **dispatcher.counts()})

    async def create(request: Request):
        fields, files = await _read_request(request, max_upload)
        spec, uploads, model = job_request(fields, files, names)
        record = dispatcher.submit(spec, uploads, model)
        return JSONResponse({"id": record.id, "object": "video", "status": record.status}, status_code=201)

    async def listing(request: Request):
        return JSONResponse({"object": "list", "data": [r.describe() for r in dispatcher.records()]})

    async def status(request: Request):
        return JSONResponse(_record(request).describe())

    async def events(request: Request):
        record = _record(request)

        async def stream():
            sent, idle = 0, 0.0
            while True:
                while sent < len(record.events):
                    name, data = record.events[sent]
                    sent += 1
                    yield sse_message(name, data)
                if record.status in FINAL_STATUSES or dispatcher.closing:
                    return  # a stopping server ends the stream; clients then find it unreachable
                try:
                    await asyncio.wait_for(record.changed.wait(), CLOSING_POLL_S)
                    idle = 0.0
                except asyncio.TimeoutError:
                    idle += CLOSING_POLL_S
                    if idle >= KEEP_ALIVE_S:
                        idle = 0.0
                        yield b": keep-alive\n\n"
        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    async def content(request: Request):
        record = _record(request)
        if record.status != "completed":
            raise RequestError(f"job {record.id} is {record.status}; its file exists once it is completed", 409)
        return FileResponse(record.content, media_type="video/mp4", filename=f"{record.id}.mp4")

    async def cancel(request: Request):
        record = _record(request)
        dispatcher.cancel(record)
        return JSONResponse(record.describe())

    def _record(request: Request):
        record = dispatcher.get(request.path_params["id"])
        if record is None:
            raise RequestError(f"no job with id {request.path_params['id']!r} on this engine", 404)
        return record

    async def refused(request: Request, exc: RequestError):
        return error(exc.status, str(exc))

    async def http_error(request: Request, exc: HTTPException):
        text = {404: f"no such endpoint: {request.method} {request.url.path}",
                405: f"{request.method} is not allowed on {request.url.path}"}.get(exc.status_code, str(exc.detail))
        return error(exc.status_code, text)

    async def crashed(request: Request, exc: Exception):
        log.exception("request %s %s failed", request.method, request.url.path)
        return error(500, f"the server failed on this request ({type(exc).__name__})")

    routes = [
        Route("/health", health),
        Route("/v1/models", list_models),
        Route("/v1/engine", engine),
        Route("/v1/videos", create, methods=["POST"]),
        Route("/v1/videos", listing),
        Route("/v1/videos/{id}", status),
        Route("/v1/videos/{id}/events", events),
        Route("/v1/videos/{id}/content", content),
        Route("/v1/videos/{id}/cancel", cancel, methods=["POST"]),
    ]
    app = Starlette(routes=routes, exception_handlers={RequestError: refused, HTTPException: http_error,
                                                       Exception: crashed})
    app.add_middleware(BearerToken, token=token)
    return app


async def _read_request(request: Request, max_upload: int) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """Form fields and uploads of a multipart (or urlencoded) request, or the fields of a JSON
    one; a body over `max_upload` bytes is a 413 before it is parsed."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_upload:
        raise RequestError(f"the request is {int(declared)} bytes; this engine takes at most {max_upload}", 413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_upload:
            raise RequestError(f"the request is over {max_upload} bytes, the most this engine takes", 413)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        import json
        try:
            fields = json.loads(bytes(body) or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RequestError(f"the body is not valid JSON ({getattr(exc, 'msg', exc)})") from None
        if not isinstance(fields, dict):
            raise RequestError("the JSON body must be an object of job fields")
        return {k: v for k, v in fields.items()}, {}
    if kind not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise RequestError(f"content type {kind or 'none'!r} is not accepted; send multipart/form-data or "
                           "application/json", 415)

    async def replay():
        return {"type": "http.request", "body": bytes(body), "more_body": False}
    try:
        form = await Request(request.scope, replay).form(max_files=16, max_fields=64)
    except Exception as exc:  # the multipart parser's own errors
        raise RequestError(f"the form could not be read ({getattr(exc, 'detail', None) or exc})") from None
    fields, files = {}, {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            fields[name] = value
        else:
            files[name] = (value.filename or "", await value.read())
    return fields, files
