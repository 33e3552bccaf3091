"""floodgate: a per-contact count of inbound messages in the current minute

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("flood_started_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("flood_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(
            sa.Column("flood_noticed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("flood_noticed")
        batch.drop_column("flood_count")
        batch.drop_column("flood_started_at")
