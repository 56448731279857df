"""Turning a view model into a page: the Jinja2 templates, the language, the security headers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from api.console.i18n import LANGUAGES, chosen_language, translations
from api.console.session import LANGUAGE_COOKIE, Viewer

__all__ = ["PAGE_HEADERS", "language_of", "render"]

# Nothing from another host, no inline script or style: what the page loads is ours.
PAGE_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # "no-referrer" would send Origin: null on posts
    "Cache-Control": "no-store",
}

_ENVIRONMENT: Final = Environment(
    loader=PackageLoader("api.console", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(moment: datetime | None) -> str:
    return "–" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


_ENVIRONMENT.filters["when"] = _when


def language_of(request: Request) -> str:
    """The language this browser chose (the default until it chooses)."""
    return chosen_language(request.cookies.get(LANGUAGE_COOKIE))


def render(
    request: Request,
    template: str,
    viewer: Viewer | None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """``template`` with ``context``, in the browser's language, with the page headers."""
    language = language_of(request)
    catalog = translations(language)
    page = _ENVIRONMENT.get_template(template).render(
        request=request, viewer=viewer, language=language, languages=LANGUAGES,
        _=catalog.gettext, ngettext=catalog.ngettext, path=request.url.path,
        here=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        **context,
    )  # fmt: skip
    return HTMLResponse(page, status_code=status, headers=PAGE_HEADERS)
