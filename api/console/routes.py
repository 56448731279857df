"""The console's routes: six pages, signing in and out, the language, and the live feed.

Pages answer HTML; a page's ``data-live`` regions are fetched again by ``static/console.js``
when the event stream says something arrived. Forms that change something post here, are
checked for CSRF, and go through the JSON routes' own handlers in the request's one session.
"""

from __future__ import annotations

from typing import Annotated, Final
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, FastAPI, Path, Query, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Scope
from api.console.coverage import coverage_view
from api.console.estimates import estimates_view
from api.console.i18n import LANGUAGES
from api.console.messages import message_view, messages_view
from api.console.modems import modems_view
from api.console.observers import observers_view
from api.console.rendering import language_of, render
from api.console.reports import report_view, reports_view
from api.console.session import (
    LANGUAGE_COOKIE,
    SignInNeeded,
    Viewer,
    ViewerDep,
    check_csrf,
    forget_session,
    remember_session,
)
from api.deps import FormsDep, SessionDep, StateDep
from api.errors import ApiError, Forbidden, InvalidRequest
from api.routes import admin, events, reports
from api.schemas.admin import BroadcastIn
from api.schemas.reports import QuarantineRequest
from store.queries.filters import MessageFilter, ReportFilter

__all__ = ["install_console", "router"]

router = APIRouter(include_in_schema=False)
_FORM_BODY_MAX_BYTES: Final = 16 * 1024
_SEE_OTHER: Final = 303
Text = Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00]*$")]
Before = Annotated[int | None, Query(ge=1, le=2**63 - 1)]
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def install_console(app: FastAPI) -> None:
    """Serve the console from ``app``: its pages, its static files, its sign-in redirect."""
    app.include_router(router)
    app.mount("/console/static", StaticFiles(packages=[("api.console", "static")]), "static")
    app.add_exception_handler(SignInNeeded, _to_sign_in)


async def _to_sign_in(request: Request, exc: Exception) -> Response:
    response = RedirectResponse("/sign-in", status_code=_SEE_OTHER)
    forget_session(response)
    return response


def _given(value: str | None) -> str | None:
    """A filter from a form: blank means any."""
    return value.strip() or None if value is not None else None


async def _form_fields(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (the only kind the console posts)."""
    body = await request.body()
    if len(body) > _FORM_BODY_MAX_BYTES:
        raise InvalidRequest("the form is too large")
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def _back(request: Request, target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=_SEE_OTHER)


def _failed(request: Request, viewer: Viewer | None, exc: ApiError) -> Response:
    return render(request, "error.html", viewer, exc.status, detail=exc.detail)


async def _undone(
    session: AsyncSession, request: Request, viewer: Viewer, exc: ApiError
) -> Response:
    """A refused change as a page. The page is an answer, not an error, so the session
    dependency would commit: whatever the handler wrote before it refused is rolled back."""
    await session.rollback()
    return _failed(request, viewer, exc)


# -- signing in and out, the language ---------------------------------------------------------


@router.get("/sign-in")
async def sign_in_page(request: Request) -> Response:
    return render(request, "sign_in.html", None)


@router.post("/sign-in")
async def sign_in(request: Request, state: StateDep) -> Response:
    check_csrf(request, None, None)
    token = (await _form_fields(request)).get("token", "").strip()
    client = request.client.host if request.client else "?"
    if not token or await state.tokens.principal(token, client) is None:
        return render(request, "sign_in.html", None, 401, refused=True)
    response = _back(request, "/")
    remember_session(response, request, token)
    return response


@router.post("/sign-out")
async def sign_out(request: Request, viewer: ViewerDep) -> Response:
    try:
        check_csrf(request, viewer, (await _form_fields(request)).get("csrf"))
    except ApiError as exc:
        return _failed(request, viewer, exc)
    response = _back(request, "/sign-in")
    forget_session(response)
    return response


@router.get("/language/{code}")
async def choose_language(
    request: Request,
    code: Annotated[str, Path(pattern="^(ky|ru|en)$")],
    back: Annotated[str, Query(max_length=500, pattern=r"^/(?:[^/\\\x00][^\x00]*)?$")] = "/",
) -> Response:
    # Only a path on this site (``/x``, never ``//host``): no open redirect.
    response = _back(request, back)
    if code in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600, httponly=True,
                            samesite="strict")  # fmt: skip
    return response


@router.get("/console/events")
async def live_events(request: Request, state: StateDep, viewer: ViewerDep) -> StreamingResponse:
    """The API's event stream, for the signed-in browser (EventSource sends no bearer)."""
    return await events.stream_events(
        request, state, viewer.principal, None, True, request.headers.get("last-event-id")
    )


# -- pages -----------------------------------------------------------------------------------


@router.get("/")
async def coverage_page(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    forms: FormsDep,
    form: Text = None,
    region: Text = None,
) -> Response:
    view = await coverage_view(
        session, viewer, forms, language_of(request), _given(form), _given(region)
    )
    return render(request, "coverage.html", viewer, **view)


@router.get("/messages")
async def messages_page(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    forms: FormsDep,
    direction: Annotated[str | None, Query(pattern="^(in|out|)$")] = None,
    status: Text = None,
    error_code: Text = None,
    form: Text = None,
    before: Before = None,
) -> Response:
    where = MessageFilter(
        direction=_given(direction), status=_given(status), error_code=_given(error_code),
        form=_given(form),
    )  # fmt: skip
    view = await messages_view(session, viewer, where, before)
    codes = [f.code for f in forms.forms] if forms else []
    return render(request, "messages.html", viewer, forms=codes, **view)


@router.get("/messages/{message_id}")
async def message_page(
    request: Request, session: SessionDep, viewer: ViewerDep, message_id: RowId
) -> Response:
    view = await message_view(session, viewer, message_id)
    if view is None:
        return render(request, "error.html", viewer, 404, detail=f"no message {message_id}")
    return render(request, "message.html", viewer, **view)


@router.get("/reports")
async def reports_page(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    forms: FormsDep,
    form: Text = None,
    quarantined: Annotated[str | None, Query(pattern="^(yes|no|)$")] = None,
    before: Before = None,
) -> Response:
    held = {"yes": True, "no": False}.get(quarantined or "")
    view = await reports_view(session, viewer, ReportFilter(form=_given(form), quarantined=held),
                              before)  # fmt: skip
    codes = [f.code for f in forms.forms] if forms else []
    return render(request, "reports.html", viewer, forms=codes, quarantined=quarantined or "",
                  **view)  # fmt: skip


@router.get("/reports/{report_id}")
async def report_page(
    request: Request, session: SessionDep, viewer: ViewerDep, report_id: RowId
) -> Response:
    view = await report_view(session, viewer, report_id)
    if view is None:
        return render(request, "error.html", viewer, 404, detail=f"no report {report_id}")
    return render(request, "report.html", viewer, **view)


@router.post("/reports/{report_id}/quarantine")
async def change_quarantine(
    request: Request, session: SessionDep, viewer: ViewerDep, forms: FormsDep, report_id: RowId
) -> Response:
    fields = await _form_fields(request)
    try:
        check_csrf(request, viewer, fields.get("csrf"))
        _admin(viewer)
        reason = _reason(fields.get("reason", ""))
        if fields.get("action") == "release":
            await reports.release(session, viewer.principal, forms, report_id, reason)
        else:
            body = QuarantineRequest(reason=reason)
            await reports.quarantine(session, viewer.principal, forms, report_id, body)
    except ApiError as exc:
        return await _undone(session, request, viewer, exc)
    return _back(request, f"/reports/{report_id}")


@router.get("/estimates")
async def estimates_page(
    request: Request,
    viewer: ViewerDep,
    state: StateDep,
    forms: FormsDep,
    form: Text = None,
    region: Text = None,
) -> Response:
    view = await estimates_view(state, forms, language_of(request), _given(form), _given(region))
    return render(request, "estimates.html", viewer, **view)


@router.get("/modems")
async def modems_page(
    request: Request, session: SessionDep, viewer: ViewerDep, state: StateDep
) -> Response:
    view = await modems_view(session, viewer, state.config.modem_stale_s)
    return render(request, "modems.html", viewer, **view)


@router.get("/observers")
async def observers_page(
    request: Request, session: SessionDep, viewer: ViewerDep, q: Text = None
) -> Response:
    view = await observers_view(session, viewer, _given(q))
    return render(request, "observers.html", viewer, **view)


@router.post("/observers/{code}/sms")
async def send_sms(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    state: StateDep,
    code: Annotated[str, Path(max_length=20, pattern=r"^[^\x00/]+$")],
) -> Response:
    fields = await _form_fields(request)
    try:
        check_csrf(request, viewer, fields.get("csrf"))
        _admin(viewer)
        body = _broadcast(fields.get("text", ""), code)
        await admin.broadcast(session, viewer.principal, state, body)
    except ApiError as exc:
        return await _undone(session, request, viewer, exc)
    return _back(request, f"/observers?q={quote(code)}")


def _admin(viewer: Viewer) -> None:
    if not viewer.principal.scope.allows(Scope.ADMIN):
        raise Forbidden(f"this needs a token with scope {Scope.ADMIN.value!r}")


def _reason(reason: str) -> str:
    try:
        return QuarantineRequest(reason=reason.strip()).reason
    except ValidationError as exc:
        raise InvalidRequest("give a reason of 3 to 500 characters") from exc


def _broadcast(text: str, code: str) -> BroadcastIn:
    try:
        return BroadcastIn(text=text.strip(), observers=[code])
    except ValidationError as exc:
        raise InvalidRequest("write a message of 1 to 480 characters") from exc
