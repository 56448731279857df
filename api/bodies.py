"""Request bodies: the token is checked before a body is read, and a body is never larger than
its route takes (413 PAYLOAD_TOO_LARGE).

FastAPI reads and parses a body before it resolves a route's dependencies, so a caller without
a token could make every process hold and parse a body of any size. This ASGI middleware runs
first: a request that carries a body must carry a live token (401 before a byte of it is read,
except on the few routes that need none), then a declared ``Content-Length`` above the limit is
refused at once, and a body sent in chunks is counted as it is read.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import cookie_parser
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.console.session import SESSION_COOKIE
from api.deps import ApiState
from api.errors import PayloadTooLarge, Unauthorized

__all__ = ["BodyGuard"]

# Routes without a token (api.routes.health, the docs, the console's sign-in form, whose body
# is the token): their bodies are only size-limited.
_OPEN_PATHS = ("/health", "/docs", "/openapi.json", "/sign-in")
_IMPORT_PATH = "/api/v1/roster/import"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class BodyGuard:
    """See the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not _has_body(scope["method"], headers):
            await self.app(scope, receive, send)
            return
        state: ApiState = scope["app"].state.api
        limit = _limit(state, scope["path"])
        refusal = await _refusal(state, scope, headers, limit)
        if refusal is not None:
            await _answer(refusal, scope, receive, send)
            return
        await self.app(scope, _counted(receive, limit), send)


def _has_body(method: str, headers: Headers) -> bool:
    declared = headers.get("content-length", "0") not in ("", "0")
    return method in _BODY_METHODS or declared or "transfer-encoding" in headers


def _limit(state: ApiState, path: str) -> int:
    if path.rstrip("/") == _IMPORT_PATH:
        return state.config.import_max_bytes
    return state.config.body_max_bytes


async def _refusal(
    state: ApiState, scope: Scope, headers: Headers, limit: int
) -> Unauthorized | PayloadTooLarge | None:
    if not str(scope["path"]).startswith(_OPEN_PATHS):
        token = _token(headers)
        client = scope["client"][0] if scope.get("client") else "?"
        if token is None or await state.tokens.principal(token, client) is None:
            return Unauthorized("send a live API token before a request body")
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return PayloadTooLarge(f"the body is over this route's limit of {limit} bytes")
    return None


def _token(headers: Headers) -> str | None:
    """The bearer token, or else the console's session cookie (which holds a token): the
    console's forms post with the cookie. Either way the route still checks its own."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme:
        return token if scheme.lower() == "bearer" else None
    return cookie_parser(headers.get("cookie", "")).get(SESSION_COOKIE)


def _counted(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            # Raised inside the route's body reading: FastAPI passes HTTPExceptions through,
            # and api.errors answers it in the one error shape.
            raise HTTPException(413, f"the body is over this route's limit of {limit} bytes")
        return message

    return counted


async def _answer(
    error: Unauthorized | PayloadTooLarge, scope: Scope, receive: Receive, send: Send
) -> None:
    headers: dict[str, Any] = {"Connection": "close"}
    if isinstance(error, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    response = JSONResponse(error.body(), status_code=error.status, headers=headers)
    await response(scope, receive, send)
