"""orcid_permission_requests: permission requests sent to researchers' ORCID inboxes.

Revision ID: orcid_0007
Revises: orcid_0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "orcid_0007"
down_revision: str | None = "orcid_0004"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.create_table(
        "orcid_permission_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("orcid", sa.String(length=19), nullable=False),
        sa.Column("user_key", sa.String(length=255), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("put_code", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("connected_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_orcid_permission_requests_orcid", "orcid_permission_requests",
                    ["orcid"])
    op.create_index("ix_orcid_permission_requests_status", "orcid_permission_requests",
                    ["status"])


def downgrade() -> None:
    op.drop_table("orcid_permission_requests")
