"""API tokens: only their SHA-256 is stored."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import ApiToken
from store.queries.rows import as_dicts

__all__ = [
    "add_token",
    "list_tokens",
    "live_token_ids",
    "revoke_token",
    "revoke_token_id",
    "token_by_prefix",
    "touch_token",
]


async def add_token(
    session: AsyncSession, name: str, scope: str, prefix: str, secret_sha256: bytes
) -> ApiToken:
    """Store a new token's hash (flushed: it has its id)."""
    token = ApiToken(name=name, scope=scope, prefix=prefix, secret_sha256=secret_sha256)
    session.add(token)
    await session.flush()
    return token


async def token_by_prefix(session: AsyncSession, prefix: str) -> ApiToken | None:
    """The token with this public prefix, revoked or not."""
    return (await session.scalars(select(ApiToken).where(ApiToken.prefix == prefix))).first()


async def list_tokens(session: AsyncSession) -> list[dict[str, Any]]:
    """Every token (never its secret), oldest first."""
    statement = select(
        ApiToken.id, ApiToken.name, ApiToken.scope, ApiToken.prefix, ApiToken.created_at,
        ApiToken.last_used_at, ApiToken.revoked_at,
    ).order_by(ApiToken.id)  # fmt: skip
    return as_dicts(await session.execute(statement))


async def revoke_token(session: AsyncSession, key: str) -> int:
    """Revoke the live tokens whose id, name or prefix is ``key``; how many."""
    match = (ApiToken.name == key) | (ApiToken.prefix == key)
    if key.isdigit() and len(key) < 10:
        match = match | (ApiToken.id == int(key))
    statement = (
        update(ApiToken)
        .where(match, ApiToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
        .returning(ApiToken.id)
    )
    return len((await session.execute(statement)).all())


async def revoke_token_id(session: AsyncSession, token_id: int) -> bool:
    """Revoke the live token with this id (only its id: never a name that looks like one)."""
    statement = (
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
        .returning(ApiToken.id)
    )
    return (await session.execute(statement)).first() is not None


async def live_token_ids(session: AsyncSession, ids: Collection[int]) -> set[int]:
    """Which of ``ids`` are tokens that exist and are not revoked."""
    if not ids:
        return set()
    statement = select(ApiToken.id).where(ApiToken.id.in_(ids), ApiToken.revoked_at.is_(None))
    return set((await session.scalars(statement)).all())


async def touch_token(session: AsyncSession, token_id: int) -> None:
    """Note that a token was just used."""
    await session.execute(
        update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=func.now())
    )
