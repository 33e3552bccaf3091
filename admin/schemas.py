"""What the staff API takes and returns, apart from the tables (the template's habit).

No schema here has a field for a phone number, a chat id or an address: what
staff cannot be shown cannot leak through a serializer either.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["new", "acknowledged", "in_progress", "referred", "resolved", "closed"]
Role = Literal["admin", "forum_chair", "focal_point", "protection_officer", "viewer"]


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class StaffPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: str
    language: str
    active: bool


class Me(StaffPublic):
    forum_ids: list[int]
    unit_ids: list[int]


class CaseSummary(BaseModel):
    reference: str
    kind: str
    status: str
    category: str | None
    area: str | None
    forum: str | None
    unit: str | None
    channel: str
    language: str
    assigned_to: str | None
    created_at: datetime
    updated_at: datetime


class CasePage(BaseModel):
    items: list[CaseSummary]
    total: int
    page: int
    per_page: int


class TimelineEntry(BaseModel):
    at: datetime
    kind: Literal["inbound", "outbound", "note", "event"]
    text: str
    by: str | None = Field(None, description="The staff member, for staff entries")


class CaseDetail(CaseSummary):
    anonymous: bool
    reporter_name: str | None = Field(None, description="Only if the reporter chose to give it")
    description: str
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    satisfaction: int | None
    satisfaction_comment: str | None
    help_type: str | None = None
    consent_to_services: bool | None = None
    may_contact: bool = Field(description="Whether a reply can reach the reporter")
    contact_time: str | None = None
    consent_withdrawn_at: datetime | None = None
    timeline: list[TimelineEntry]


class StatusChange(BaseModel):
    status: Status
    reason: str = Field("", max_length=500)


class Assignment(BaseModel):
    staff_id: int | None


class Text(BaseModel):
    text: str = Field(min_length=1, max_length=2000)


class ProtectionAction(BaseModel):
    action: Literal["contacted", "referred", "closed"]
    service: Literal["health", "psychosocial", "legal", "safety", "police"] | None = None
    note: str = Field("", max_length=500)


class ReplyResult(BaseModel):
    delivered_as: Literal["conversation", "message"]


class AreaPublic(BaseModel):
    key: str
    parent: str | None
    level: str
    names: dict[str, str]
    timezone: str | None


class AreaWrite(BaseModel):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$")
    parent: str | None = None
    level: str = Field("community", max_length=40)
    names: dict[str, str] = Field(min_length=1)
    timezone: str | None = None


class PointPublic(BaseModel):
    key: str
    names: dict[str, str]
    areas: list[str]
    active: bool


class PointUpdate(BaseModel):
    names: dict[str, str] | None = None
    areas: list[str] | None = None
    active: bool | None = None


class CategoryPublic(BaseModel):
    key: str
    names: dict[str, str]
    routes_to: str
    active: bool


class CategoryWrite(BaseModel):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$")
    names: dict[str, str] = Field(min_length=1)
    routes_to: Literal["forum", "protection_unit"] = "forum"
    active: bool = True


class CategoryUpdate(BaseModel):
    names: dict[str, str] | None = None
    active: bool | None = None


class StaffCreate(BaseModel):
    email: str = Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str = Field(min_length=1, max_length=200)
    role: Role
    language: str = "en"
    password: str = Field(min_length=10, max_length=200)
    forums: dict[str, Literal["chair", "focal_point"]] = Field(default_factory=dict)
    units: dict[str, Literal["focal_point", "officer"]] = Field(default_factory=dict)


class StaffUpdate(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    role: Role | None = None
    language: str | None = None
    active: bool | None = None
    password: str | None = Field(None, min_length=10, max_length=200)


class AuditPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str | None
    action: str
    case_id: int | None
    target: str | None
    detail: str | None
    client: str | None


class SimulatorMessage(BaseModel):
    channel: Literal["telegram", "whatsapp", "sms"] = "telegram"
    text: str = Field("", max_length=4096)
    button: str | None = Field(None, max_length=64)


class SimulatedReply(BaseModel):
    text: str
    choices: list[dict[str, str]]
    segments: int | None


class SimulatorReplies(BaseModel):
    replies: list[SimulatedReply]
