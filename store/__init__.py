"""The data layer: PostgreSQL through SQLAlchemy 2 (async, asyncpg), schema managed by Alembic.

Shared by the gateway (which writes) and the API (which mostly reads); imports neither, and of
the rest of shailoo only ``parser`` (tests/layering.py keeps it so).

- ``db.py`` owns the engine and sessions (and the embedded server when no URL is set);
- ``models.py`` the tables; ``migrate.py`` applies ``migrations/``;
- ``repository.py`` the gateway's queries, ``queries/`` the API's (one module per resource),
  ``tallies.py`` the running tallies: every SQL statement lives in these three;
- ``settings.py`` the settings every process reads; ``bootstrap.py`` opens a migrated database
  and reads the forms; ``backup.py`` dumps and restores; ``metrics.py`` the process's own
  measurements; ``errors.py`` what the layer raises.

Sessions: one place per unit of work commits, ``Database.transaction()``: each pipeline step,
each API request (the session dependency in ``api.deps``), each command. Query functions take a
session and never commit; a block that raises is rolled back.
"""
