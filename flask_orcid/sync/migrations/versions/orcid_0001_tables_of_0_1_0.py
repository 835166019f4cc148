"""The tables of flask-orcid 0.1.0 (made by ``db.create_all()`` before migrations existed).

A database created by 0.1.0 is stamped at this revision (``flask orcid db stamp orcid_0001``)
and upgraded from here.

Revision ID: orcid_0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "orcid_0001"
down_revision: str | None = None
#: a Flask-Migrate host that adds these revisions to its own chain upgrades them as
#: ``orcid@head``
branch_labels: str | tuple[str, ...] | None = ("orcid",)
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.create_table(
        "orcid_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_key", sa.String(length=255), nullable=False),
        sa.Column("orcid", sa.String(length=19), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("environment", sa.String(length=16), nullable=False),
        sa.Column("scopes", sa.String(length=255), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("orcid"),
    )
    op.create_index("ix_orcid_accounts_user_key", "orcid_accounts", ["user_key"])

    op.create_table(
        "orcid_pending_revocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("orcid", sa.String(length=19), nullable=True),
        sa.Column("environment", sa.String(length=16), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_orcid_pending_revocations_next_attempt_at",
                    "orcid_pending_revocations", ["next_attempt_at"])

    op.create_table(
        "orcid_outbox_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("retracted", sa.Boolean(), nullable=False),
        sa.Column("orcid", sa.String(length=19), nullable=True),
        sa.Column("put_code", sa.BigInteger(), nullable=True),
        sa.Column("written_hash", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("park_reason", sa.String(length=24), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("error_status", sa.Integer(), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("synced_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_key", "kind", "key", name="uq_orcid_outbox_item"),
    )
    op.create_index("ix_orcid_outbox_due", "orcid_outbox_items", ["state", "next_attempt_at"])
    op.create_index("ix_orcid_outbox_user_state", "orcid_outbox_items", ["user_key", "state"])
    op.create_index("ix_orcid_outbox_orcid", "orcid_outbox_items", ["orcid"])

    op.create_table(
        "orcid_outbox_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("user_key", sa.String(length=255), nullable=False),
        sa.Column("orcid", sa.String(length=19), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("key", sa.String(length=255), nullable=True),
        sa.Column("operation", sa.String(length=24), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("put_code", sa.BigInteger(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("worker", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_orcid_outbox_events_created", "orcid_outbox_events", ["created_at"])
    op.create_index("ix_orcid_outbox_events_item_id", "orcid_outbox_events", ["item_id"])
    op.create_index("ix_orcid_outbox_events_user", "orcid_outbox_events", ["user_key"])

    op.create_table(
        "orcid_record_sync",
        sa.Column("orcid", sa.String(length=19), nullable=False),
        sa.Column("webhook_url", sa.Text(), nullable=True),
        sa.Column("webhook_registered_at", sa.DateTime(), nullable=True),
        sa.Column("sync_requested_at", sa.DateTime(), nullable=True),
        sa.Column("last_synced_at", sa.DateTime(), nullable=True),
        sa.Column("unregister_requested_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("orcid"),
    )
    op.create_index("ix_orcid_record_sync_sync_requested_at", "orcid_record_sync",
                    ["sync_requested_at"])


def downgrade() -> None:
    # dropping a table drops its indexes
    for table in ("orcid_record_sync", "orcid_outbox_events", "orcid_outbox_items",
                  "orcid_pending_revocations", "orcid_accounts"):
        op.drop_table(table)
