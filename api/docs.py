"""``/docs``: Swagger UI served from this process, never from a CDN (an election-night room may
have no internet). The assets come from the ``swagger-ui-bundle`` package, which ships them."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

__all__ = ["ASSETS_PATH", "install_docs"]

ASSETS_PATH = "/docs/assets"


def install_docs(app: FastAPI) -> None:
    """Serve the Swagger UI page at ``/docs`` and its scripts and styles under ``ASSETS_PATH``
    (``app`` is made with ``docs_url=None``)."""
    app.mount(ASSETS_PATH, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title}: documentation",
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon-32x32.png",
        )
