"""shailoo's REST API: reports, coverage, tallies and the SMS log for downstream tools.

``create_app(db, settings)`` builds the FastAPI application; ``shailoo run`` serves it beside the
gateway and ``shailoo api`` on its own. It reads and writes storage through ``store`` and
never touches a modem: SMS go out through the outbox.
"""

from api.app import create_app

__all__ = ["create_app"]
