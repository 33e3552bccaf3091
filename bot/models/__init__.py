"""All tables, imported here so Alembic and the app see one metadata."""

from bot.models.base import Base
from bot.models.cases import Case, CaseMessage, ProtectionCount
from bot.models.contacts import Contact, ConversationSession, InboundReceipt
from bot.models.directory import (
    Area,
    Category,
    Deployment,
    Forum,
    ForumArea,
    ForumMember,
    ForumStaff,
    ProtectionUnit,
    RoutingRule,
    StaffUser,
    UnitArea,
    UnitStaff,
)
from bot.models.outbound import (
    Broadcast,
    Campaign,
    CampaignProgress,
    Dispatch,
    Meeting,
    MeetingAnswer,
    Topic,
    TopicSubscription,
)
from bot.models.outbox import OutboxMessage, RateSlot
from bot.models.staff import AuditEntry, StaffToken

__all__ = [
    "Area",
    "AuditEntry",
    "Base",
    "Broadcast",
    "Campaign",
    "CampaignProgress",
    "Case",
    "CaseMessage",
    "Category",
    "Contact",
    "ConversationSession",
    "Deployment",
    "Dispatch",
    "Forum",
    "ForumArea",
    "ForumMember",
    "ForumStaff",
    "InboundReceipt",
    "Meeting",
    "MeetingAnswer",
    "OutboxMessage",
    "ProtectionCount",
    "ProtectionUnit",
    "RateSlot",
    "RoutingRule",
    "StaffToken",
    "StaffUser",
    "Topic",
    "TopicSubscription",
    "UnitArea",
    "UnitStaff",
]
