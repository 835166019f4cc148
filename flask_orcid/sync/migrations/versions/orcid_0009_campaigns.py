"""``orcid_campaigns`` and ``orcid_campaign_people``: backfill campaigns for past graduates
(issue 16, item 2).

Revision ID: orcid_0009
Revises: orcid_0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "orcid_0009"
down_revision: str | None = "orcid_0008"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.create_table(
        "orcid_campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=True),
        sa.Column("sender_name", sa.String(length=255), nullable=True),
        sa.Column("reminder_days", sa.Float(), nullable=False),
        sa.Column("max_reminders", sa.Integer(), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "orcid_campaign_people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("person_key", sa.String(length=255), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("typed_orcid", sa.String(length=19), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("date", sa.String(length=10), nullable=True),
        sa.Column("degree", sa.String(length=255), nullable=True),
        sa.Column("department", sa.String(length=300), nullable=True),
        sa.Column("work_payload", sa.Text(), nullable=False),
        sa.Column("work_key", sa.String(length=255), nullable=False),
        sa.Column("degree_payload", sa.Text(), nullable=True),
        sa.Column("degree_key", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.Column("sending", sa.String(length=8), nullable=True),
        sa.Column("claim", sa.String(length=32), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("status_before", sa.String(length=16), nullable=True),
        sa.Column("emails_sent", sa.Integer(), nullable=False),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("send_failures", sa.Integer(), nullable=False),
        sa.Column("next_action_at", sa.DateTime(), nullable=True),
        sa.Column("last_sent_at", sa.DateTime(), nullable=True),
        sa.Column("orcid", sa.String(length=19), nullable=True),
        sa.Column("opted_in", sa.Boolean(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["orcid_campaigns.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "person_key", name="uq_orcid_campaign_person"),
    )
    op.create_index("ix_orcid_campaign_people_status", "orcid_campaign_people",
                    ["campaign_id", "status"])
    op.create_index("ix_orcid_campaign_people_due", "orcid_campaign_people",
                    ["status", "next_action_at"])
    op.create_index(op.f("ix_orcid_campaign_people_email"), "orcid_campaign_people", ["email"])


def downgrade() -> None:
    op.drop_index(op.f("ix_orcid_campaign_people_email"), table_name="orcid_campaign_people")
    op.drop_index("ix_orcid_campaign_people_due", table_name="orcid_campaign_people")
    op.drop_index("ix_orcid_campaign_people_status", table_name="orcid_campaign_people")
    op.drop_table("orcid_campaign_people")
    op.drop_table("orcid_campaigns")
