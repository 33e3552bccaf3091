"""protection: the survivor's choices on a case, anonymous counts, entry words, places

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("help_type", sa.String(length=20), nullable=True))
    op.add_column("cases", sa.Column("consent_service", sa.Boolean(), nullable=True))
    op.add_column("cases", sa.Column("contact_method", sa.String(length=20), nullable=True))
    op.add_column("cases", sa.Column("contact_time", sa.LargeBinary(), nullable=True))
    op.add_column(
        "cases", sa.Column("consent_withdrawn_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_table(
        "protection_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("help_type", sa.String(length=20), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_protection_counts_area_id_areas"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protection_counts")),
    )
    op.create_index(
        op.f("ix_protection_counts_day"), "protection_counts", ["day"], unique=False
    )
    op.add_column("deployment", sa.Column("protection", sa.JSON(), nullable=True))
    op.add_column("protection_units", sa.Column("places", sa.JSON(), nullable=True))
    op.add_column(
        "staff_users",
        sa.Column("female", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("female")
    op.drop_column("protection_units", "places")
    op.drop_column("deployment", "protection")
    op.drop_index(op.f("ix_protection_counts_day"), table_name="protection_counts")
    op.drop_table("protection_counts")
    for column in (
        "consent_withdrawn_at",
        "contact_time",
        "contact_method",
        "consent_service",
        "help_type",
    ):
        op.drop_column("cases", column)
