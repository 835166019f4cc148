"""orcid_invitations (people asked by email to authenticate their iD, issue 15) and
``orcid_oauth_states.invitation_id`` (the sign-in a state belongs to answers an invitation).

Revision ID: orcid_0005
Revises: orcid_0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "orcid_0005"
down_revision: str | None = "orcid_0004"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.create_table(
        "orcid_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("person_key", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("given_names", sa.String(length=150), nullable=True),
        sa.Column("family_names", sa.String(length=150), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("inviter_key", sa.String(length=255), nullable=True),
        sa.Column("inviter_name", sa.String(length=255), nullable=True),
        sa.Column("subject_title", sa.Text(), nullable=True),
        sa.Column("offer_work", sa.Boolean(), nullable=False),
        sa.Column("opted_in", sa.Boolean(), nullable=True),
        sa.Column("typed_orcid", sa.String(length=19), nullable=True),
        sa.Column("orcid", sa.String(length=19), nullable=True),
        sa.Column("account_key", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("send_count", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("opened_at", sa.DateTime(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_orcid_invitations_subject", "orcid_invitations", ["subject"])
    with op.batch_alter_table("orcid_oauth_states") as batch:
        batch.add_column(sa.Column("invitation_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orcid_oauth_states") as batch:
        batch.drop_column("invitation_id")
    op.drop_index("ix_orcid_invitations_subject", table_name="orcid_invitations")
    op.drop_table("orcid_invitations")
