"""What the data layer raises::

StoreError          base
└── ConfigError     settings, forms or database not usable as they are; says what to do
    ├── DatabaseSetupError  the database cannot be reached or used as configured (URL, server,
    │                       login, privileges); says which, and the fix
    ├── SchemaBehindError   the database's schema is older than this shailoo; run the migrations
    └── FormsOrphanError    a forms file drops forms or questions that stored reports answer
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DatabaseSetupError",
    "FormsOrphanError",
    "SchemaBehindError",
    "StoreError",
]


class StoreError(Exception):
    """Base of the data layer's own errors."""


class ConfigError(StoreError):
    """Something in the settings, forms or database must be fixed first; the message says how."""


class DatabaseSetupError(ConfigError):
    """The database URL is malformed, or its server is unreachable, refuses the login, lacks
    the database or a privilege; the message names the fault and the fix."""


class SchemaBehindError(ConfigError):
    """The database is at an older migration than this shailoo needs."""


class FormsOrphanError(ConfigError):
    """A forms file would leave stored reports without their form or questions."""
