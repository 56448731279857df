"""What the gateway raises::

GatewayError        base
└── RosterError     a roster file with mistakes (``.problems``: line numbers and sentences)

Settings, forms and database problems are the data layer's ``store.errors.ConfigError``.
"""

from __future__ import annotations

__all__ = ["GatewayError", "RosterError"]


class GatewayError(Exception):
    """Base of the gateway's own errors."""


class RosterError(GatewayError):
    """A roster CSV has mistakes; ``problems`` lists each as ``file:line: sentence``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))
