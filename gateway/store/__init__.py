"""Storage: PostgreSQL through SQLAlchemy 2 (async, asyncpg), schema managed by Alembic.

``db.py`` owns the engine and sessions (and the embedded server when no URL is set),
``models.py`` the tables, ``repository.py`` every query. Services never commit: the caller that
opened the session does.
"""
