"""Getting a gateway process ready: the database (migrated?) and the forms to parse with."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from parser import Deployment, FormsError, load_forms
from store import repository
from store.db import Database
from store.errors import ConfigError
from store.migrate import current_revision, head_revision, upgrade
from store.settings import Settings

__all__ = ["database_of", "load_deployment", "open_database", "save_forms_file"]

_LOGGER = logging.getLogger(__name__)


@asynccontextmanager
async def database_of(settings: Settings, *, migrate: bool = False) -> AsyncIterator[Database]:
    """``open_database`` for the length of a block, closed after it (a command's usual need)."""
    db = await open_database(settings, migrate=migrate)
    try:
        yield db
    finally:
        await db.close()


async def open_database(settings: Settings, *, migrate: bool = False) -> Database:
    """Connect (or start the embedded server); refuse an un-migrated database unless told."""
    url = settings.database_url.get_secret_value() if settings.database_url else None
    db = await Database.open(url, settings.pgdata)
    current, head = await current_revision(db), head_revision()
    if current != head:
        if not migrate:
            await db.close()
            raise ConfigError(
                f"the database schema is at {current or 'nothing'}, this shailoo needs {head}: "
                "run 'shailoo db upgrade' first (or 'shailoo run --migrate')"
            )
        _LOGGER.info("migrating the database from %s to %s", current or "nothing", head)
        await upgrade(db)
    return db


async def save_forms_file(db: Database, path: Path) -> Deployment:
    """Validate the forms file at ``path`` and store it as the current forms."""
    deployment = read_forms_file(path)
    async with db.transaction() as session:
        await repository.save_forms(
            session,
            deployment.deployment,
            deployment.content_hash,
            deployment.model_dump(mode="json"),
        )
    return deployment


def read_forms_file(path: Path) -> Deployment:
    """A forms file, validated; ``ConfigError`` with every problem otherwise."""
    try:
        return load_forms(path.read_text(encoding="utf-8"), str(path))
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from exc
    except FormsError as exc:
        raise ConfigError(str(exc)) from exc


async def load_deployment(db: Database, settings: Settings) -> Deployment:
    """The forms to use: the configured file (stored as current), else the stored ones."""
    if settings.forms is not None:
        return await save_forms_file(db, settings.forms)
    async with db.session() as session:
        stored = await repository.latest_forms(session)
    if stored is None:
        raise ConfigError("no forms loaded: run 'shailoo forms load FILE' or set SHAILOO_FORMS")
    return Deployment.model_validate(stored.definition)
