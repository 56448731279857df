"""The ``shailoo`` command line, and the composition root: the one place that assembles
processes (``run``: gateway and API; ``api``; ``demo``; uvicorn workers in ``serve.py``) from
``gateway``, ``api``, ``store``, ``modem`` and ``parser``. Nothing else imports it.

``main`` is the console script's entry point.
"""

from __future__ import annotations

import io
import sys

from cli import estimate, forms, modem, probe, service, spool, web  # noqa: F401  # importing registers commands
from cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``shailoo`` console script."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(encoding="utf-8")  # replies are Cyrillic whatever the locale
    app()
