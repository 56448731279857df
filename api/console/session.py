"""Signing in to the console: the API token in an HttpOnly, SameSite=Strict cookie.

The cookie holds the token itself, so a session lives exactly as long as the token does (a
revoked token signs every browser out within the token cache's time) and survives restarts of
the API. Scripts cannot read it (HttpOnly) and other sites cannot send it (SameSite=Strict).
Forms that change something also carry a CSRF value derived from the token with HMAC, checked
in constant time, and a request whose ``Origin`` is another host is refused.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Final
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response

from api.auth import Principal, Scope, token_hash
from api.deps import StateDep
from api.errors import Forbidden

__all__ = [
    "LANGUAGE_COOKIE",
    "SESSION_COOKIE",
    "SignInNeeded",
    "Viewer",
    "ViewerDep",
    "check_csrf",
    "csrf_value",
    "forget_session",
    "remember_session",
]

SESSION_COOKIE: Final = "shailoo_session"
LANGUAGE_COOKIE: Final = "shailoo_language"
SESSION_MAX_AGE_S: Final = 7 * 24 * 3600  # an election week; the token's life bounds it anyway
_CSRF_PURPOSE: Final = b"shailoo console form"


class SignInNeeded(Exception):  # noqa: N818 - a signal for a redirect, not a failure
    """No session, or its token is no longer valid: the page sends the browser to sign in."""


class Viewer:
    """Who is looking at the console, and the CSRF value their forms carry."""

    def __init__(self, principal: Principal, token: str) -> None:
        self.principal = principal
        self.csrf = csrf_value(token)

    @property
    def sees_pii(self) -> bool:
        """Whether phone numbers and free text (message texts, comments) may be shown."""
        return self.principal.sees_pii

    @property
    def is_admin(self) -> bool:
        """Whether quarantine and sending are offered."""
        return self.principal.scope.allows(Scope.ADMIN)


def csrf_value(token: str) -> str:
    """The value a signed-in browser's forms must send back: only its own pages know it."""
    return hmac.new(token_hash(token), _CSRF_PURPOSE, hashlib.sha256).hexdigest()


async def _viewer(request: Request, state: StateDep) -> Viewer:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInNeeded
    client = request.client.host if request.client else "?"
    principal = await state.tokens.principal(token, client)
    if principal is None:
        raise SignInNeeded
    return Viewer(principal, token)


ViewerDep = Annotated[Viewer, Depends(_viewer)]


def check_csrf(request: Request, viewer: Viewer | None, sent: str | None) -> None:
    """Refuse a state-changing request from another origin or without this session's value."""
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
        raise Forbidden("this form was sent from another site")
    if viewer is not None and not hmac.compare_digest(viewer.csrf, sent or ""):
        raise Forbidden("this form is stale or forged; reload the page and try again")


def remember_session(response: Response, request: Request, token: str) -> None:
    """Keep ``token`` in the browser for the next requests."""
    response.set_cookie(
        SESSION_COOKIE, token, max_age=SESSION_MAX_AGE_S, path="/", httponly=True,
        samesite="strict", secure=request.url.scheme == "https",
    )  # fmt: skip


def forget_session(response: Response) -> None:
    """Sign out: the browser drops the cookie."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
