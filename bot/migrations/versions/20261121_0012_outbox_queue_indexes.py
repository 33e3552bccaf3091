"""outbox queue indexes: the claim's two lookups on the waiting rows only

The claim used one index on (status, channel, priority, next_attempt_at) and
looked up earlier messages to the same person through it: on PostgreSQL, with
statistics not yet refreshed after a burst of inserts (a broadcast materialized,
replies piling up in a provider outage), the planner walked every waiting row for
every candidate, and a claim took from half a second to a minute at 20,000
waiting rows. These partial indexes make the cheap plan the only plausible one.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")
WAITING = sa.text("status IN ('pending', 'sending')")
SENDING = sa.text("status = 'sending'")


def upgrade() -> None:
    op.create_index(
        "ix_outbox_queue",
        "outbox",
        ["channel", "priority", "id", "next_attempt_at"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )
    op.create_index(
        "ix_outbox_waiting",
        "outbox",
        ["recipient_hash", "channel", "id"],
        postgresql_where=WAITING,
        sqlite_where=WAITING,
    )
    op.create_index(
        "ix_outbox_sending",
        "outbox",
        ["channel", "claimed_at"],
        postgresql_where=SENDING,
        sqlite_where=SENDING,
    )
    op.drop_index("ix_outbox_due", table_name="outbox")


def downgrade() -> None:
    op.create_index("ix_outbox_due", "outbox", ["status", "channel", "priority", "next_attempt_at"])
    op.drop_index("ix_outbox_sending", table_name="outbox")
    op.drop_index("ix_outbox_waiting", table_name="outbox")
    op.drop_index("ix_outbox_queue", table_name="outbox")
