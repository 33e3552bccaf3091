"""What the staff API takes and returns, apart from the tables (the template's habit).

No schema here has a field for a phone number, a chat id or an address: what
staff cannot be shown cannot leak through a serializer either.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from bot.deployment.schema import Key, Language, known_zone
from bot.settings import QUIET_HOURS

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


class Problem(BaseModel):
    """What every refusal of the API carries (FastAPI's ``HTTPException`` body)."""

    detail: str


class Unprocessable(BaseModel):
    """A body that does not fit: field by field (a list, as FastAPI validates), or one
    sentence when it names something that does not exist (an unknown area key)."""

    detail: str | list[dict[str, Any]]


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The refusals a route may answer, for the OpenAPI document (``responses=``)."""
    said = {
        401: "Not signed in", 403: "Your role may not do this (or the CSRF token is wrong)",
        404: "Not found, or outside your forums and units", 409: "Clashes with what exists",
        422: "The body does not fit, or names something unknown",
    }  # fmt: skip
    return {
        code: {"model": Unprocessable if code == 422 else Problem, "description": said[code]}
        for code in codes
    }


Names = dict[Language, Annotated[str, Field(min_length=1, max_length=200)]]
Zone = Annotated[str | None, AfterValidator(known_zone)]
QuietHours = Annotated[str | None, Field(pattern=QUIET_HOURS, examples=["21:00-07:00"])]


class AreaPublic(BaseModel):
    key: str
    parent: str | None
    level: str
    names: dict[str, str]
    timezone: str | None
    quiet_hours: str | None = None


class AreaWrite(BaseModel):
    key: Key
    parent: Key | None = None
    level: str = Field("community", min_length=1, max_length=40)
    names: Names = Field(min_length=1)
    timezone: Zone = None
    quiet_hours: QuietHours = None


class AreaUpdate(BaseModel):
    """Only the fields given change; ``null`` clears a time zone or quiet hours."""

    parent: Key | None = None
    level: str | None = Field(None, min_length=1, max_length=40)
    names: Names | None = Field(None, min_length=1)
    timezone: Zone = None
    quiet_hours: QuietHours = None


class PointPublic(BaseModel):
    key: str
    names: dict[str, str]
    areas: list[str]
    active: bool


class PointWrite(BaseModel):
    key: Key
    names: Names = Field(min_length=1)
    areas: list[Key] = Field(min_length=1)
    active: bool = True


class PointUpdate(BaseModel):
    names: Names | None = Field(None, min_length=1)
    areas: list[Key] | None = Field(None, min_length=1)
    active: bool | None = None


class CategoryPublic(BaseModel):
    key: str
    names: dict[str, str]
    routes_to: str
    active: bool


class CategoryWrite(BaseModel):
    key: Key
    names: Names = Field(min_length=1)
    routes_to: Literal["forum", "protection_unit"] = "forum"
    active: bool = True


class CategoryUpdate(BaseModel):
    names: Names | None = Field(None, min_length=1)
    active: bool | None = None


ForumRoles = dict[Key, Literal["chair", "focal_point"]]
UnitRoles = dict[Key, Literal["focal_point", "officer"]]


class StaffCreate(BaseModel):
    email: str = Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str = Field(min_length=1, max_length=200)
    role: Role
    language: Language = "en"
    password: str = Field(min_length=10, max_length=200)
    forums: ForumRoles = Field(default_factory=dict, description="forum key -> role there")
    units: UnitRoles = Field(default_factory=dict, description="unit key -> role there")


class StaffUpdate(BaseModel):
    """Only the fields given change. ``forums`` and ``units``, when given, replace the
    person's roles; ``active: false`` ends their sessions and stops sign-in;
    ``password`` resets it."""

    name: str | None = Field(None, min_length=1, max_length=200)
    role: Role | None = None
    language: Language | None = None
    active: bool | None = None
    password: str | None = Field(None, min_length=10, max_length=200)
    forums: ForumRoles | None = None
    units: UnitRoles | None = None


class StaffMember(StaffPublic):
    """A staff account as admins manage it: with the forums and units it serves."""

    forums: dict[str, str] = Field(default_factory=dict, description="forum key -> role")
    units: dict[str, str] = Field(default_factory=dict, description="unit key -> role")


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
