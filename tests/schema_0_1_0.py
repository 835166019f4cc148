"""The ``orcid_*`` tables exactly as flask-orcid 0.1.0 defined them (commit 7149575:
``flask_orcid/accounts.py`` and ``flask_orcid/outbox.py``), for building the database a 0.1.0
site made with ``db.create_all()``. Python-side defaults are left out: they never reach the
database. Frozen: never change this file to follow the models."""

from __future__ import annotations

import sqlalchemy as sa


def metadata_0_1_0() -> sa.MetaData:
    metadata = sa.MetaData()
    sa.Table(
        "orcid_accounts", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_key", sa.String(255), nullable=False, index=True),
        sa.Column("orcid", sa.String(19), nullable=False, unique=True),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("environment", sa.String(16), nullable=False),
        sa.Column("scopes", sa.String(255), nullable=False),
        sa.Column("access_token", sa.Text, nullable=False),
        sa.Column("refresh_token", sa.Text, nullable=True),
        sa.Column("expires_at", sa.DateTime, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    sa.Table(
        "orcid_pending_revocations", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("orcid", sa.String(19), nullable=True),
        sa.Column("environment", sa.String(16), nullable=False),
        sa.Column("token", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime, nullable=False, index=True),
        sa.Column("last_error", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    sa.Table(
        "orcid_outbox_items", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_key", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("payload_hash", sa.String(64), nullable=False),
        sa.Column("retracted", sa.Boolean, nullable=False),
        sa.Column("orcid", sa.String(19)),
        sa.Column("put_code", sa.BigInteger),
        sa.Column("written_hash", sa.String(64)),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("park_reason", sa.String(24)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime),
        sa.Column("last_attempt_at", sa.DateTime),
        sa.Column("error_status", sa.Integer),
        sa.Column("error_code", sa.Integer),
        sa.Column("error_message", sa.Text),
        sa.Column("lease_owner", sa.String(64)),
        sa.Column("lease_expires_at", sa.DateTime),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("synced_at", sa.DateTime),
        sa.UniqueConstraint("user_key", "kind", "key", name="uq_orcid_outbox_item"),
        sa.Index("ix_orcid_outbox_due", "state", "next_attempt_at"),
        sa.Index("ix_orcid_outbox_user_state", "user_key", "state"),
        sa.Index("ix_orcid_outbox_orcid", "orcid"),
    )
    sa.Table(
        "orcid_outbox_events", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item_id", sa.Integer, index=True),
        sa.Column("user_key", sa.String(255), nullable=False),
        sa.Column("orcid", sa.String(19)),
        sa.Column("kind", sa.String(32)),
        sa.Column("key", sa.String(255)),
        sa.Column("operation", sa.String(24), nullable=False),
        sa.Column("status", sa.Integer),
        sa.Column("error_code", sa.Integer),
        sa.Column("outcome", sa.String(24)),
        sa.Column("message", sa.Text),
        sa.Column("put_code", sa.BigInteger),
        sa.Column("duration_ms", sa.Integer),
        sa.Column("worker", sa.String(64)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Index("ix_orcid_outbox_events_created", "created_at"),
        sa.Index("ix_orcid_outbox_events_user", "user_key"),
    )
    sa.Table(
        "orcid_record_sync", metadata,
        sa.Column("orcid", sa.String(19), primary_key=True),
        sa.Column("webhook_url", sa.Text),
        sa.Column("webhook_registered_at", sa.DateTime),
        sa.Column("sync_requested_at", sa.DateTime, index=True),
        sa.Column("last_synced_at", sa.DateTime),
        sa.Column("unregister_requested_at", sa.DateTime),
    )
    return metadata
