"""messages: which forms version parsed each message

Revision ID: 6d2f1c9a8e41
Revises: d41b6f0c8e27
Create Date: 2026-11-29 21:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6d2f1c9a8e41"
down_revision: str | None = "d41b6f0c8e27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: messages stored before this revision, and outgoing ones, were parsed by none.
    op.add_column("messages", sa.Column("forms_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_messages_forms_id_forms"), "messages", "forms", ["forms_id"], ["id"]
    )


def downgrade() -> None:
    op.drop_constraint(op.f("fk_messages_forms_id_forms"), "messages", type_="foreignkey")
    op.drop_column("messages", "forms_id")
