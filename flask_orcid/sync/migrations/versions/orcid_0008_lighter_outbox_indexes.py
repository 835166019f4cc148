"""Fewer indexes on ``orcid_outbox_items``: every index is one more page written by each deposit
(``publish``) and each state change.

- ``ix_orcid_outbox_user_state`` (user_key, state) goes: the unique (user_key, kind, key) index
  finds a researcher's rows (a handful each).
- ``ix_orcid_outbox_orcid`` goes: every query on ``orcid`` also names the user_key.
- ``ix_orcid_outbox_attention`` (state) holds only the rows that need a person (parked, failed),
  for the admin page; a new row is pending and never touches it.

Revision ID: orcid_0008
Revises: orcid_0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "orcid_0008"
down_revision: str | None = "orcid_0007"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

_ATTENTION = "state IN ('parked', 'failed')"


def _indexes() -> set[str]:
    return {str(ix["name"]) for ix in sa.inspect(op.get_bind()).get_indexes("orcid_outbox_items")}


def upgrade() -> None:
    # A database whose tables a newer ``create_all`` made, stamped at orcid_0007 (``flask orcid
    # db stamp`` recognizes it by its tables), already has the new indexes: look first.
    present = _indexes()
    for name in ("ix_orcid_outbox_user_state", "ix_orcid_outbox_orcid"):
        if name in present:
            op.drop_index(name, table_name="orcid_outbox_items")
    if "ix_orcid_outbox_attention" not in present:
        op.create_index("ix_orcid_outbox_attention", "orcid_outbox_items", ["state"],
                        sqlite_where=sa.text(_ATTENTION), postgresql_where=sa.text(_ATTENTION))


def downgrade() -> None:
    op.drop_index("ix_orcid_outbox_attention", table_name="orcid_outbox_items")
    op.create_index("ix_orcid_outbox_orcid", "orcid_outbox_items", ["orcid"])
    op.create_index("ix_orcid_outbox_user_state", "orcid_outbox_items", ["user_key", "state"])
