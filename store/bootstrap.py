"""Getting a gateway process ready: the database (migrated?) and the forms to parse with."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from parser import Deployment, FormsError, load_forms
from parser.encoding import SAVE_TEXT_AS_UTF8, not_utf8
from store import repository
from store.connect import connection_faults, probe
from store.db import Database
from store.errors import ConfigError, FormsOrphanError, SchemaBehindError
from store.migrate import current_revision, head_revision, upgrade
from store.settings import Settings

__all__ = [
    "connect",
    "database_of",
    "load_deployment",
    "open_database",
    "orphaned",
    "save_forms_file",
]

_LOGGER = logging.getLogger(__name__)


@asynccontextmanager
async def database_of(settings: Settings, *, migrate: bool = False) -> AsyncIterator[Database]:
    """``open_database`` for the length of a block, closed after it (a command's usual need)."""
    db = await open_database(settings, migrate=migrate)
    try:
        yield db
    finally:
        await db.close()


async def connect(settings: Settings) -> Database:
    """Connect (or start the embedded server) and check that the database answers; a fault
    the user can fix is a ``DatabaseSetupError`` saying how."""
    url = settings.database_url.get_secret_value() if settings.database_url else None
    with connection_faults(url):
        db = await Database.open(url, settings.pgdata)
    try:
        with connection_faults(url):
            await probe(db)
    except BaseException:
        await db.close()
        raise
    return db


async def open_database(settings: Settings, *, migrate: bool = False) -> Database:
    """``connect``, then refuse an un-migrated database unless told to migrate it."""
    db = await connect(settings)
    try:
        with connection_faults(db.url):  # permission denied, while migrating
            await _migrated(db, migrate)
    except BaseException:
        await db.close()
        raise
    return db


async def _migrated(db: Database, migrate: bool) -> None:
    current, head = await current_revision(db), head_revision()
    if current == head:
        return
    if not migrate:
        raise SchemaBehindError(
            f"the database schema is at {current or 'nothing'}, this shailoo needs {head}: "
            "run 'shailoo db upgrade' first (or 'shailoo run --migrate')"
        )
    _LOGGER.info("migrating the database from %s to %s", current or "nothing", head)
    await upgrade(db)


async def save_forms_file(db: Database, path: Path, *, force: bool = False) -> Deployment:
    """Validate the forms file at ``path`` and store it as the current forms; refuse one that
    would orphan stored reports (a form or question it drops has answers) unless ``force``."""
    deployment = read_forms_file(path)
    async with db.transaction() as session:
        if not force:
            orphans = orphaned(deployment, await repository.answered_questions(session))
            if orphans:
                raise FormsOrphanError(
                    f"{path} would orphan stored reports: it drops {'; '.join(orphans)}. "
                    "Keep them in the file (you may add new ones), or load it anyway with "
                    "'shailoo forms load --force' (the reports stay stored, but the API and "
                    "the tallies no longer know those questions)"
                )
        await repository.save_forms(
            session,
            deployment.deployment,
            deployment.content_hash,
            deployment.model_dump(mode="json"),
        )
    return deployment


def orphaned(deployment: Deployment, answered: dict[str, Counter[str]]) -> list[str]:
    """What ``deployment`` drops that stored reports answer, one phrase each."""
    phrases = []
    for code, counts in sorted(answered.items()):
        form = deployment.form(code)
        if form is None:
            phrases.append(f"form {code} ({counts['']} report(s))")
            continue
        tags = {question.tag for question in form.questions}
        phrases += [
            f"question {code}.{tag} ({count} answer(s))"
            for tag, count in sorted(counts.items())
            if tag and tag not in tags
        ]
    return phrases


def read_forms_file(path: Path) -> Deployment:
    """A forms file, validated; ``ConfigError`` with every problem otherwise."""
    try:
        raw = path.read_bytes()
        return load_forms(raw.decode("utf-8"), str(path))
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: {not_utf8(raw, exc)}. {SAVE_TEXT_AS_UTF8}.") from exc
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
