"""estimates: a station's stratum (else its region)

Revision ID: a7c3e91d2f05
Revises: b40fb2711cb4
Create Date: 2026-11-29 19:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7c3e91d2f05"
down_revision: str | None = "b40fb2711cb4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("stations", sa.Column("stratum", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    op.drop_column("stations", "stratum")
