"""Alembic migrations of shailoo's schema (run them with ``shailoo db upgrade``)."""
