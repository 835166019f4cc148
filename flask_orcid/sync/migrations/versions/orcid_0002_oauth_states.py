"""orcid_oauth_states: every OAuth ``state`` issued, by hash, spent once on the server.

Revision ID: orcid_0002
Revises: orcid_0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "orcid_0002"
down_revision: str | None = "orcid_0001"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.create_table(
        "orcid_oauth_states",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("user_key", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("consumed_at", sa.DateTime(), nullable=True),
        sa.Column("connected_user_key", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("state_hash"),
    )
    op.create_index("ix_orcid_oauth_states_created_at", "orcid_oauth_states", ["created_at"])


def downgrade() -> None:
    op.drop_table("orcid_oauth_states")
