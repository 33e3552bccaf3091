"""directory edits: which directory fields staff edited on the web; an index for trends

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EDITED = ("areas", "staff_users", "forums", "protection_units", "categories")


def upgrade() -> None:
    for table in EDITED:
        op.add_column(
            table, sa.Column("web_edits", sa.JSON(), server_default="{}", nullable=False)
        )
    op.create_index("ix_cases_kind_created_at", "cases", ["kind", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_kind_created_at", table_name="cases")
    for table in EDITED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("web_edits")
