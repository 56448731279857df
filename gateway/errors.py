"""What the gateway raises::

GatewayError        base
├── ConfigError     settings, forms or database not usable as they are; says what to do
└── RosterError     a roster file with mistakes (``.problems``: line numbers and sentences)
"""

from __future__ import annotations

__all__ = ["ConfigError", "GatewayError", "RosterError"]


class GatewayError(Exception):
    """Base of the gateway's own errors."""


class ConfigError(GatewayError):
    """Something in the settings, forms or database must be fixed first; the message says how."""


class RosterError(GatewayError):
    """A roster CSV has mistakes; ``problems`` lists each as ``file:line: sentence``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))
