"""twilio: segments, delivery status and error code per outbox message

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("segments", sa.Integer(), nullable=True))
    op.add_column("outbox", sa.Column("delivery_status", sa.String(length=20), nullable=True))
    op.add_column("outbox", sa.Column("error_code", sa.String(length=10), nullable=True))
    op.create_index(
        op.f("ix_outbox_provider_message_id"), "outbox", ["provider_message_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_provider_message_id"), table_name="outbox")
    op.drop_column("outbox", "error_code")
    op.drop_column("outbox", "delivery_status")
    op.drop_column("outbox", "segments")
