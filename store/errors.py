"""What the data layer raises::

StoreError          base
└── ConfigError     settings, forms or database not usable as they are; says what to do
    ├── DatabaseUnusable  the database cannot be reached or used as configured (URL, login,
    │                     privileges); says which, and the fix
    └── SchemaBehind      the database's schema is older than this shailoo; run the migrations
"""

from __future__ import annotations

__all__ = ["ConfigError", "DatabaseUnusable", "SchemaBehind", "StoreError"]


class StoreError(Exception):
    """Base of the data layer's own errors."""


class ConfigError(StoreError):
    """Something in the settings, forms or database must be fixed first; the message says how."""


class DatabaseUnusable(ConfigError):
    """The database URL is malformed, or its server is unreachable, refuses the login, lacks
    the database or a privilege; the message names the fault and the fix."""


class SchemaBehind(ConfigError):
    """The database is at an older migration than this shailoo needs."""
