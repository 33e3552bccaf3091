"""outbound: topics, broadcasts, meetings, campaigns and the dispatches that send them

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def _fk(column: str, table: str, source: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=op.f(f"fk_{source}_{column}_{table}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.add_column("areas", sa.Column("quiet_hours", sa.String(length=11), nullable=True))
    op.add_column(
        "forum_members",
        sa.Column("source", sa.String(length=20), server_default="deployment", nullable=False),
    )
    op.create_table(
        "topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topics")),
        sa.UniqueConstraint("key", name=op.f("uq_topics_key")),
    )
    op.create_table(
        "topic_subscriptions",
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", WHEN, nullable=False),
        _fk("topic_id", "topics", "topic_subscriptions", "CASCADE"),
        _fk("contact_id", "contacts", "topic_subscriptions", "CASCADE"),
        sa.PrimaryKeyConstraint("topic_id", "contact_id", name=op.f("pk_topic_subscriptions")),
    )
    op.create_index(
        op.f("ix_topic_subscriptions_contact_id"), "topic_subscriptions", ["contact_id"]
    )
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("audience", sa.String(length=10), nullable=False),
        sa.Column("forum_id", sa.Integer(), nullable=True),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("texts", sa.LargeBinary(), nullable=False),
        sa.Column("fallback_language", sa.String(length=16), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("send_at", WHEN, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("cancelled_at", WHEN, nullable=True),
        _fk("created_by_id", "staff_users", "broadcasts", "SET NULL"),
        _fk("forum_id", "forums", "broadcasts", "CASCADE"),
        _fk("area_id", "areas", "broadcasts", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("forum_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", WHEN, nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("agenda", sa.JSON(), nullable=False),
        sa.Column("reminder_minutes", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        _fk("forum_id", "forums", "meetings", "CASCADE"),
        _fk("created_by_id", "staff_users", "meetings", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
    )
    op.create_index(op.f("ix_meetings_forum_id"), "meetings", ["forum_id"])
    op.create_table(
        "meeting_answers",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("attending", sa.Boolean(), nullable=False),
        sa.Column("answered_at", WHEN, nullable=False),
        _fk("meeting_id", "meetings", "meeting_answers", "CASCADE"),
        _fk("contact_id", "contacts", "meeting_answers", "CASCADE"),
        sa.PrimaryKeyConstraint("meeting_id", "contact_id", name=op.f("pk_meeting_answers")),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parts", sa.JSON(), nullable=False),
        sa.Column("fallback_language", sa.String(length=16), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("minute_of_day", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        _fk("topic_id", "topics", "campaigns", "CASCADE"),
        _fk("created_by_id", "staff_users", "campaigns", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_table(
        "campaign_progress",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("next_part", sa.Integer(), nullable=False),
        _fk("campaign_id", "campaigns", "campaign_progress", "CASCADE"),
        _fk("contact_id", "contacts", "campaign_progress", "CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "contact_id", name=op.f("pk_campaign_progress")),
    )
    op.create_table(
        "dispatches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=True),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("due_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", WHEN, nullable=True),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("finished_at", WHEN, nullable=True),
        _fk("broadcast_id", "broadcasts", "dispatches", "CASCADE"),
        _fk("meeting_id", "meetings", "dispatches", "CASCADE"),
        _fk("campaign_id", "campaigns", "dispatches", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatches")),
        sa.UniqueConstraint(
            "campaign_id",
            "timezone",
            "due_at",
            name=op.f("uq_dispatches_campaign_id"),
        ),
    )
    op.create_index("ix_dispatches_due", "dispatches", ["status", "due_at"])
    op.create_index(op.f("ix_dispatches_broadcast_id"), "dispatches", ["broadcast_id"])
    op.create_index(op.f("ix_dispatches_meeting_id"), "dispatches", ["meeting_id"])
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("payload", existing_type=sa.LargeBinary(), nullable=True)
        batch.add_column(sa.Column("dispatch_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("language", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("part", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_outbox_dispatch_id_dispatches"),
            "dispatches",
            ["dispatch_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index(
            "ux_outbox_dispatch_contact", ["dispatch_id", "contact_id"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ux_outbox_dispatch_contact")
        batch.drop_constraint(op.f("fk_outbox_dispatch_id_dispatches"), type_="foreignkey")
        batch.drop_column("part")
        batch.drop_column("language")
        batch.drop_column("dispatch_id")
        batch.alter_column("payload", existing_type=sa.LargeBinary(), nullable=False)
    op.drop_table("dispatches")
    op.drop_table("campaign_progress")
    op.drop_table("campaigns")
    op.drop_table("meeting_answers")
    op.drop_index(op.f("ix_meetings_forum_id"), table_name="meetings")
    op.drop_table("meetings")
    op.drop_table("broadcasts")
    op.drop_index(op.f("ix_topic_subscriptions_contact_id"), table_name="topic_subscriptions")
    op.drop_table("topic_subscriptions")
    op.drop_table("topics")
    op.drop_column("forum_members", "source")
    op.drop_column("areas", "quiet_hours")
