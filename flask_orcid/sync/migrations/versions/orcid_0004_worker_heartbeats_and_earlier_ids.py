"""orcid_worker_heartbeats (what `flask orcid status` says about the workers: last pass, last
error, circuit-breaker pause) and ``orcid_outbox_items.earlier_self_ids`` (identifiers of
earlier versions a lost POST may have written, so adoption finds that copy).

Revision ID: orcid_0004
Revises: orcid_0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "orcid_0004"
down_revision: str | None = "orcid_0003"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.create_table(
        "orcid_worker_heartbeats",
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("pass_started_at", sa.DateTime(), nullable=True),
        sa.Column("pass_ended_at", sa.DateTime(), nullable=True),
        sa.Column("ok_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(), nullable=True),
        sa.Column("paused_until", sa.DateTime(), nullable=True),
        sa.Column("pause_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("worker"),
    )
    op.create_index("ix_orcid_worker_heartbeats_updated_at", "orcid_worker_heartbeats",
                    ["updated_at"])
    with op.batch_alter_table("orcid_outbox_items") as batch:
        batch.add_column(sa.Column("earlier_self_ids", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orcid_outbox_items") as batch:
        batch.drop_column("earlier_self_ids")
    op.drop_index("ix_orcid_worker_heartbeats_updated_at", table_name="orcid_worker_heartbeats")
    op.drop_table("orcid_worker_heartbeats")
