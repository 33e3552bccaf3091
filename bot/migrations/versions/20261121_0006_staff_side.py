"""staff side: case work columns, bearer and session tokens, an append-only audit log

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CASE_COLUMNS = (
    ("acknowledged_at", sa.DateTime(timezone=True)),
    ("resolved_at", sa.DateTime(timezone=True)),
    ("closed_at", sa.DateTime(timezone=True)),
    ("content_purged_at", sa.DateTime(timezone=True)),
    ("satisfaction", sa.Integer()),
    ("satisfaction_comment", sa.LargeBinary()),
)
# The audit log can be appended to, never changed: not by the app, not by a staff
# member with a database console and the app's credentials.
FORBID = {
    "sqlite": [
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$",
        "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
    ],
}
ALLOW = {
    "sqlite": ["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"],
    "postgresql": [
        "DROP TRIGGER audit_log_no_change ON audit_log",
        "DROP FUNCTION audit_log_append_only()",
    ],
}


def upgrade() -> None:
    for name, type_ in CASE_COLUMNS:
        op.add_column("cases", sa.Column(name, type_, nullable=True))
    op.add_column("cases", sa.Column("assigned_to_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("cases") as batch:
        batch.create_foreign_key(
            op.f("fk_cases_assigned_to_id_staff_users"),
            "staff_users",
            ["assigned_to_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "staff_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_tokens_staff_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_staff_tokens")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=254), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(length=254), nullable=True),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_action_at", "audit_log", ["action", "at"])
    op.create_index(op.f("ix_audit_log_case_id"), "audit_log", ["case_id"])
    for statement in FORBID[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    for statement in ALLOW[op.get_bind().dialect.name]:
        op.execute(statement)
    op.drop_index(op.f("ix_audit_log_case_id"), table_name="audit_log")
    op.drop_index("ix_audit_log_action_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("staff_tokens")
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint(op.f("fk_cases_assigned_to_id_staff_users"), type_="foreignkey")
        batch.drop_column("assigned_to_id")
        for name, _ in CASE_COLUMNS:
            batch.drop_column(name)
