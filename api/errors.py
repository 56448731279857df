"""The API's errors, and the one JSON shape every error response has.

::

    ApiError                      {"error": CODE, "detail": sentence, ...}
    ├── Unauthorized              401 UNAUTHORIZED: no token, or one we do not know
    ├── Forbidden                 403 FORBIDDEN: the token's scope does not allow this
    ├── NotFound                  404 NOT_FOUND (also unknown routes)
    ├── Conflict                  409 CONFLICT: it exists already
    ├── InvalidRequest            422 INVALID_REQUEST (400 INVALID_CURSOR for a bad cursor)
    ├── PayloadTooLarge           413 PAYLOAD_TOO_LARGE: a body over the route's limit
    ├── RateLimited               429 RATE_LIMITED (with Retry-After)
    ├── Busy                      503 BUSY: every export or stream slot is taken (Retry-After)
    └── Unavailable               503 DATABASE_UNAVAILABLE, NOT_READY

A database pool that has no connection to give within its timeout is DATABASE_UNAVAILABLE too.

Validation errors from FastAPI, HTTP errors from Starlette, and database failures are translated
here, once; anything else is a bug and answers 500 INTERNAL_ERROR in the same shape.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from store.errors import DatabaseAwayError, DatabaseError

__all__ = [
    "ERROR_RESPONSES",
    "EXPORT_LIMITED",
    "ApiError",
    "Busy",
    "Conflict",
    "ErrorBody",
    "Forbidden",
    "InvalidRequest",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "Unauthorized",
    "Unavailable",
    "install_error_handlers",
    "strict_query",
]

_LOGGER = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    """Every error response."""

    error: str = Field(description="A stable code to branch on.", examples=["NOT_FOUND"])
    detail: str = Field(description="A sentence for people.", examples=["No report 42."])
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="For INVALID_REQUEST: each field that was wrong and why."
    )
    retry_after_s: float | None = Field(default=None, description="For RATE_LIMITED and BUSY.")
    checks: dict[str, Any] | None = Field(default=None, description="For NOT_READY.")


class ApiError(Exception):
    """Base of the API's errors: a status, a stable code and a sentence."""

    status = 500
    code = "INTERNAL_ERROR"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The JSON body."""
        return {"error": self.code, "detail": self.detail, **self.extra}


class Unauthorized(ApiError):
    """No token, a malformed one, or one that is unknown or revoked."""

    status, code = 401, "UNAUTHORIZED"


class Forbidden(ApiError):
    """A valid token whose scope does not allow the request."""

    status, code = 403, "FORBIDDEN"


class NotFound(ApiError):
    """No such resource."""

    status, code = 404, "NOT_FOUND"


class Conflict(ApiError):
    """The resource exists already."""

    status, code = 409, "CONFLICT"


class InvalidRequest(ApiError):
    """A request that cannot be answered as asked."""

    status, code = 422, "INVALID_REQUEST"


class InvalidCursor(InvalidRequest):
    """A pagination cursor that this API did not hand out."""

    status, code = 400, "INVALID_CURSOR"


class PayloadTooLarge(ApiError):
    """A request body larger than the route takes."""

    status, code = 413, "PAYLOAD_TOO_LARGE"


class RateLimited(ApiError):
    """Too many of these lately."""

    status, code = 429, "RATE_LIMITED"


class Busy(ApiError):
    """Every slot for this kind of long request is taken, by all callers together."""

    status, code = 503, "BUSY"


class Unavailable(ApiError):
    """The database cannot be reached (or, for ``/ready``, something is not up)."""

    status, code = 503, "DATABASE_UNAVAILABLE"


def described(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: described("INVALID_CURSOR: a cursor this API did not hand out."),
    401: described("UNAUTHORIZED: no bearer token, or an unknown or revoked one."),
    403: described("FORBIDDEN: the token's scope does not allow this."),
    413: described("PAYLOAD_TOO_LARGE: the request body is over this route's limit."),
    422: described("INVALID_REQUEST: a parameter or the body is wrong; see `errors`."),
    503: described(
        "DATABASE_UNAVAILABLE: PostgreSQL cannot be reached or is saturated, or "
        "BUSY: every slot for exports or streams is taken; retry shortly."
    ),
}
"""What any authenticated route may answer besides its own; routes add 404, 409, 429."""

EXPORT_LIMITED = described("RATE_LIMITED: this token has its CSV exports open already.")


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    exc = cast(ApiError, exc)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
    if "retry_after_s" in exc.extra:
        headers = {"Retry-After": str(int(exc.extra["retry_after_s"]) + 1)}
    return _json(exc.status, exc.body(), headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    exc = cast(RequestValidationError, exc)
    errors = [
        {"field": ".".join(str(part) for part in error["loc"]), "message": error["msg"]}
        for error in exc.errors()
    ]
    fields = ", ".join(error["field"] for error in errors)
    body = {"error": "INVALID_REQUEST", "detail": f"check {fields}", "errors": errors}
    return _json(422, body)


_HTTP_CODES = {
    404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 400: "INVALID_REQUEST",
    413: PayloadTooLarge.code,
}  # fmt: skip


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    exc = cast(HTTPException, exc)
    code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    detail = "no such route" if exc.status_code == 404 else str(exc.detail)
    return _json(exc.status_code, {"error": code, "detail": detail}, dict(exc.headers or {}))


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    # PostgreSQL refused a value (a NUL in a string, a number out of range): the caller's input.
    _LOGGER.info("database refused input on %s: %s", request.url.path, exc.__class__.__name__)
    detail = "a value in the request cannot be stored or searched (check for odd characters)"
    return _json(422, {"error": "INVALID_REQUEST", "detail": detail})


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    _LOGGER.warning("database unavailable on %s: %s", request.url.path, exc)
    down = Unavailable("the database cannot be reached; retry shortly")
    return _json(down.status, down.body(), {"Retry-After": "5"})


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    _LOGGER.exception("unexpected error on %s %s", request.method, request.url.path)
    return _json(500, {"error": "INTERNAL_ERROR", "detail": "unexpected error; it is logged"})


async def strict_query(request: Request) -> None:
    """Refuse query parameters the route does not take, or gives twice: a typo such as
    ``stauts=rejected`` silently ignored would return the wrong rows as if they were right."""
    keys = [key for key, _ in request.query_params.multi_items()]
    known = _query_names(request.scope.get("route"))
    problems = {key: "given more than once" for key in keys if keys.count(key) > 1}
    if known is not None:
        problems |= {key: "not a parameter of this route" for key in keys if key not in known}
    if problems:
        errors = [
            {"field": f"query.{key}", "message": why} for key, why in sorted(problems.items())
        ]
        raise InvalidRequest(f"check {', '.join(sorted(problems))}", errors=errors)


_QUERY_NAMES: dict[int, frozenset[str]] = {}


def _query_aliases(dependant: Dependant) -> Iterator[str]:
    yield from (param.alias for param in dependant.query_params)
    for sub in dependant.dependencies:
        yield from _query_aliases(sub)


def _query_names(route: object) -> frozenset[str] | None:
    if not isinstance(route, APIRoute):
        return None
    names = _QUERY_NAMES.get(id(route))
    if names is None:
        names = frozenset(_query_aliases(route.dependant))
        _QUERY_NAMES[id(route)] = names
    return names


def install_error_handlers(app: FastAPI) -> None:
    """Make every error answer in the one shape."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(DataError, _data_error)
    for down in (OperationalError, InterfaceError, OSError, ConnectionError, PoolTimeout):
        app.add_exception_handler(down, _database_down)
    app.add_exception_handler(DBAPIError, _db_error)
    app.add_exception_handler(DatabaseError, _store_error)
    app.add_exception_handler(Exception, _unexpected)


async def _store_error(request: Request, exc: Exception) -> JSONResponse:
    # The data layer's translation of a driver error (store.errors): answered as before.
    if isinstance(exc, DatabaseAwayError):
        return await _database_down(request, exc)
    if isinstance(exc.__cause__, DBAPIError):
        return await _db_error(request, exc.__cause__)
    return await _unexpected(request, exc)


async def _db_error(request: Request, exc: Exception) -> JSONResponse:
    exc = cast(DBAPIError, exc)
    state = _sqlstate(exc)
    # 08: connection exceptions; 57P: the server is shutting down or restarting.
    if exc.connection_invalidated or state.startswith(("08", "57P")):
        return await _database_down(request, exc)
    if state.startswith("22"):  # class 22, data exception: the value was refused
        return await _data_error(request, exc)
    return await _unexpected(request, exc)


def _sqlstate(exc: DBAPIError) -> str:
    """PostgreSQL's error code behind a driver error, or ''."""
    for candidate in (exc.orig, getattr(exc.orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None)
        if isinstance(code, str):
            return code
    return ""
