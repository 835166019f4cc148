"""orcid_rate_budget (one ORCID rate budget shared by every process), and the outbox indexes the
worker's claim walks: ``ix_orcid_outbox_todo`` (the rows still to do, in id order) and
``ix_orcid_outbox_lease`` (a claim's rows) replace ``ix_orcid_outbox_due``.

Revision ID: orcid_0003
Revises: orcid_0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "orcid_0003"
down_revision: str | None = "orcid_0002"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

_TODO = "state IN ('pending', 'failed')"
_LEASED = "lease_owner IS NOT NULL"


def upgrade() -> None:
    op.create_table(
        "orcid_rate_budget",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.drop_index("ix_orcid_outbox_due", table_name="orcid_outbox_items")
    op.create_index("ix_orcid_outbox_todo", "orcid_outbox_items", ["id"],
                    sqlite_where=sa.text(_TODO), postgresql_where=sa.text(_TODO))
    op.create_index("ix_orcid_outbox_lease", "orcid_outbox_items", ["lease_owner"],
                    sqlite_where=sa.text(_LEASED), postgresql_where=sa.text(_LEASED))


def downgrade() -> None:
    op.drop_index("ix_orcid_outbox_lease", table_name="orcid_outbox_items")
    op.drop_index("ix_orcid_outbox_todo", table_name="orcid_outbox_items")
    op.create_index("ix_orcid_outbox_due", "orcid_outbox_items", ["state", "next_attempt_at"])
    op.drop_table("orcid_rate_budget")
