"""What the data layer raises::

StoreError          base
└── ConfigError     settings, forms or database not usable as they are; says what to do
"""

from __future__ import annotations

__all__ = ["ConfigError", "StoreError"]


class StoreError(Exception):
    """Base of the data layer's own errors."""


class ConfigError(StoreError):
    """Something in the settings, forms or database must be fixed first; the message says how."""
