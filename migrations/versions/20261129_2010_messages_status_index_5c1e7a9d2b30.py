"""messages: an index on (status, id), for the log filtered by status, newest first

The console's Messages page (and ``GET /api/v1/messages?status=rejected``) lists the failed
SMS newest first; without it a status with few or no rows reads the whole log backwards.

Revision ID: 5c1e7a9d2b30
Revises: a7c3e91d2f05
Create Date: 2026-11-29 20:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "5c1e7a9d2b30"
down_revision: str | None = "a7c3e91d2f05"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_messages_status_id", "messages", ["status", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_messages_status_id", table_name="messages")
