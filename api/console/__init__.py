"""The data room's web console: server-rendered pages over the API's own queries.

Served by the API process at ``/``. Pages read through the same ``store.queries`` functions and
the same masking helpers as the JSON routes; state changes go through the JSON routes' own
handlers, inside the request's one session (``api.deps.SessionDep``).
"""

from __future__ import annotations

from api.console.routes import install_console

__all__ = ["install_console"]
