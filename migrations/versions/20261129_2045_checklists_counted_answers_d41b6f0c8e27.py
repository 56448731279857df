"""estimates: each checklist's answers from its reports not in quarantine, kept beside it

Revision ID: d41b6f0c8e27
Revises: 5c1e7a9d2b30
Create Date: 2026-11-29 20:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "d41b6f0c8e27"
down_revision: str | None = "5c1e7a9d2b30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here as it was when this revision was written: each tag's latest value among the
# observer's reports of the form that are not in quarantine.
_BACKFILL = """
UPDATE checklists AS checklist SET counted = coalesce((
    SELECT jsonb_object_agg(latest.key, latest.value) FROM (
        SELECT DISTINCT ON (answer.key) answer.key, answer.value
        FROM reports AS report, jsonb_each(report.answers) AS answer
        WHERE report.observer_code = checklist.observer_code
          AND report.form_code = checklist.form_code AND NOT report.quarantined
        ORDER BY answer.key, report.id DESC
    ) AS latest
), '{}'::jsonb)
"""


def upgrade() -> None:
    op.add_column(
        "checklists",
        sa.Column(
            "counted",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    op.execute(_BACKFILL)


def downgrade() -> None:
    op.drop_column("checklists", "counted")
