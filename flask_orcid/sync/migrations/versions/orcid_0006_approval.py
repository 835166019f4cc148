"""``orcid_outbox_items.approval`` and ``approval_at``: the researcher's decision on an item
before its first delivery (approved / declined), kept across new versions of the item. Rows
waiting for approval or declined are in their own states (``awaiting_approval``, ``declined``),
outside the partial index of the rows to do, so no index changes.

Revision ID: orcid_0006
Revises: orcid_0005
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "orcid_0006"
# (the invitations branch adds orcid_0005; the two are chained when they are merged)
down_revision: str | None = "orcid_0005"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orcid_outbox_items") as batch:
        batch.add_column(sa.Column("approval", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("approval_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    # rows in the two approval states would be stuck in a state the older code does not
    # know: waiting and declined rows are parked with a message instead of being sent
    op.execute(
        "UPDATE orcid_outbox_items SET state = 'parked', park_reason = 'rejected', "
        "error_message = 'Not approved by the researcher (approval was removed by a "
        "downgrade)' WHERE state IN ('awaiting_approval', 'declined')"
    )
    with op.batch_alter_table("orcid_outbox_items") as batch:
        batch.drop_column("approval_at")
        batch.drop_column("approval")
