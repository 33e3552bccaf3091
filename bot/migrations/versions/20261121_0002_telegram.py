"""telegram: chairs by Telegram id, notification chats, outbox rows to a chat

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("staff_users", sa.Column("telegram_hash", sa.String(length=64), nullable=True))
    op.create_index(
        op.f("ix_staff_users_telegram_hash"), "staff_users", ["telegram_hash"], unique=True
    )
    op.add_column("forums", sa.Column("notify_address", sa.LargeBinary(), nullable=True))
    op.add_column("protection_units", sa.Column("notify_address", sa.LargeBinary(), nullable=True))
    op.add_column("outbox", sa.Column("address", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox", "address")
    op.drop_column("protection_units", "notify_address")
    op.drop_column("forums", "notify_address")
    op.drop_index(op.f("ix_staff_users_telegram_hash"), table_name="staff_users")
    op.drop_column("staff_users", "telegram_hash")
