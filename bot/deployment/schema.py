"""The shape of a deployment file, and the cross-checks no schema can express.

Everything is checked before anything is written: unknown parents, cycles in the
area hierarchy, forums naming areas or staff that do not exist, categories that
route nowhere. Each problem is reported with its path, which the importer turns
into a line number.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from bot.settings import QUIET_HOURS
from bot.urns import InvalidURN, parse

Key = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=100)]
Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]
Names = dict[Language, Annotated[str, Field(min_length=1, max_length=200)]]
Role = Literal["admin", "forum_chair", "focal_point", "protection_officer", "viewer"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def known_zone(value: str | None) -> str | None:
    """An IANA time zone name, checked (the staff API uses this check too)."""
    if value is None:
        return value
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


def _urn(value: str) -> str:
    try:
        return str(parse(value))
    except InvalidURN as exc:
        raise ValueError(str(exc)) from exc


class DeploymentInfo(_Strict):
    name: str = Field(min_length=1, max_length=200)
    languages: list[Language] = Field(min_length=1)
    default_language: Language
    programme_queue: str = Field("Programme team", min_length=1, max_length=200)


class AreaSpec(_Strict):
    key: Key
    parent: Key | None = None
    level: str = Field(min_length=1, max_length=40)
    names: Names = Field(min_length=1)
    aliases: list[Annotated[str, Field(min_length=1, max_length=200)]] = []
    timezone: str | None = None
    # Local hours when only urgent news goes out here and below ("21:00-07:00").
    quiet_hours: str | None = Field(None, pattern=QUIET_HOURS)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)

    _check_timezone = field_validator("timezone")(lambda cls, v: known_zone(v))


class StaffSpec(_Strict):
    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    role: Role
    language: Language = "en"
    address: str | None = None
    # Identifies a forum chair when they write to the bot on Telegram (chair commands).
    telegram_user_id: int | None = Field(None, gt=0)
    # What ``baraza export-deployment`` writes instead, since only the keyed hash of
    # the id is stored: valid with the same BARAZA_DATA_KEY.
    telegram_user_hash: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    # Protection cases are notified to a unit's female focal points first, where marked.
    female: bool = False

    _check_address = field_validator("address")(lambda cls, v: v if v is None else _urn(v))


class ForumSpec(_Strict):
    key: Key
    names: Names = Field(min_length=1)
    areas: list[Key] = Field(min_length=1)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    service_radius_km: float | None = Field(None, gt=0, le=500)
    notify: str | None = None  # a chat (URN) that hears of every case, e.g. a group
    chairs: list[EmailStr] = []
    focal_points: list[EmailStr] = []
    members: list[str] = []

    _check_members = field_validator("members")(lambda cls, v: [_urn(m) for m in v])
    _check_notify = field_validator("notify")(lambda cls, v: v if v is None else _urn(v))


class Hotline(_Strict):
    name: str = Field(min_length=1, max_length=200)
    number: str = Field(min_length=2, max_length=40)


class Place(_Strict):
    """A clinic, safe space or legal aid office a survivor can go to on their own."""

    name: str = Field(min_length=1, max_length=200)
    kind: Literal["clinic", "safe_space", "legal", "police", "other"] = "other"
    contact: str | None = Field(None, max_length=200)  # a number or where to find it


class UnitSpec(_Strict):
    key: Key
    names: Names = Field(min_length=1)
    areas: list[Key] = Field(min_length=1)
    services: list[Literal["health", "psychosocial", "legal", "safety", "police"]] = []
    hotlines: list[Hotline] = []
    places: list[Place] = []
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    service_radius_km: float | None = Field(None, gt=0, le=500)
    notify: str | None = None  # a chat (URN) that hears of every case, e.g. a group
    focal_points: list[EmailStr] = []
    officers: list[EmailStr] = []

    _check_notify = field_validator("notify")(lambda cls, v: v if v is None else _urn(v))


class TopicSpec(_Strict):
    """A subject of awareness campaigns people can subscribe to (safety tips, ...)."""

    key: Key
    names: Names = Field(min_length=1)


class CategorySpec(_Strict):
    key: Key
    names: Names = Field(min_length=1)
    routes_to: Literal["forum", "protection_unit"]


class RuleSpec(_Strict):
    category: Key | None = None
    area: Key | None = None
    forum: Key | None = None
    unit: Key | None = None


ContentSid = Annotated[str, Field(pattern=r"^HX[0-9a-f]{32}$")]
Placeholder = Annotated[str, Field(pattern=r"^[1-9][0-9]?$")]
MessageField = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]


class TemplateSpec(_Strict):
    """An approved WhatsApp template for one kind of message the system starts, in one
    language; ``variables`` fill its placeholders from the message ("text" or a named
    field such as "forum")."""

    kind: Key
    language: Language
    content_sid: ContentSid
    variables: dict[Placeholder, MessageField] = {"1": "text"}


class WhatsAppSpec(_Strict):
    templates: list[TemplateSpec] = []
    # Quick-reply content templates by number of buttons: body {{1}}, button titles
    # {{2}}..{{n+1}}, button ids "#1".."#n" (WhatsApp allows 3 in session unapproved).
    quick_replies: dict[Annotated[int, Field(ge=1, le=10)], ContentSid] = {}


class ProtectionSpec(_Strict):
    # Words that open the protection flow and mean nothing to someone reading over a
    # shoulder, per language ("sunflower"); matched whole, like any keyword.
    entry_words: dict[Language, list[Annotated[str, Field(min_length=2, max_length=40)]]] = {}


class DeploymentFile(_Strict):
    deployment: DeploymentInfo
    areas: list[AreaSpec] = Field(min_length=1)
    staff: list[StaffSpec] = []
    forums: list[ForumSpec] = []
    protection_units: list[UnitSpec] = []
    categories: list[CategorySpec] = Field(min_length=1)
    topics: list[TopicSpec] = []
    routing: list[RuleSpec] = []
    whatsapp: WhatsAppSpec = WhatsAppSpec()
    protection: ProtectionSpec = ProtectionSpec()


Problem = tuple[tuple[str | int, ...], str]


def _duplicates(section: str, keys: list[str], problems: list[Problem], field: str) -> None:
    seen: set[str] = set()
    for index, key in enumerate(keys):
        if key in seen:
            problems.append(((section, index, field), f"duplicate {field} {key!r}"))
        seen.add(key)


def _area_cycles(spec: DeploymentFile, problems: list[Problem]) -> None:
    parents = {a.key: a.parent for a in spec.areas}
    index = {a.key: i for i, a in enumerate(spec.areas)}
    for key in parents:
        seen = [key]
        current = parents[key]
        while current is not None and current in parents:
            if current in seen:
                cycle = " > ".join([*seen[seen.index(current) :], current])
                problems.append((("areas", index[key], "parent"), f"cycle in areas: {cycle}"))
                break
            seen.append(current)
            current = parents[current]


def cross_check(spec: DeploymentFile, available_languages: set[str]) -> list[Problem]:
    """Problems that need the whole file to see."""
    problems: list[Problem] = []
    info = spec.deployment
    if info.default_language not in info.languages:
        problems.append((("deployment", "default_language"), "must be one of languages"))
    for i, language in enumerate(info.languages):
        if language not in available_languages:
            problems.append(
                (
                    ("deployment", "languages", i),
                    f"no catalog for language {language!r} in locales/",
                )
            )
    _duplicates("areas", [a.key for a in spec.areas], problems, "key")
    _duplicates("staff", [s.email for s in spec.staff], problems, "email")
    telegram_ids = [  # staff without one get a placeholder that cannot repeat
        str(s.telegram_user_id) if s.telegram_user_id else f"-{i}" for i, s in enumerate(spec.staff)
    ]
    _duplicates("staff", telegram_ids, problems, "telegram_user_id")
    for i, person in enumerate(spec.staff):
        if person.telegram_user_id and person.telegram_user_hash:
            problems.append((("staff", i), "give telegram_user_id or telegram_user_hash, not both"))
    _duplicates("forums", [f.key for f in spec.forums], problems, "key")
    _duplicates("protection_units", [u.key for u in spec.protection_units], problems, "key")
    _duplicates("categories", [c.key for c in spec.categories], problems, "key")
    _duplicates("topics", [t.key for t in spec.topics], problems, "key")
    areas = {a.key for a in spec.areas}
    staff = {s.email for s in spec.staff}
    forums = {f.key for f in spec.forums}
    units = {u.key for u in spec.protection_units}
    categories = {c.key: c for c in spec.categories}
    for i, area in enumerate(spec.areas):
        if area.parent is not None and area.parent not in areas:
            problems.append((("areas", i, "parent"), f"unknown area {area.parent!r}"))
        if info.default_language not in area.names:
            problems.append((("areas", i, "names"), f"needs a name in {info.default_language!r}"))
    _area_cycles(spec, problems)
    served: list[tuple[str, int, ForumSpec | UnitSpec]] = [
        *(("forums", i, f) for i, f in enumerate(spec.forums)),
        *(("protection_units", i, u) for i, u in enumerate(spec.protection_units)),
    ]
    for section, i, item in served:
        for j, key in enumerate(item.areas):
            if key not in areas:
                problems.append(((section, i, "areas", j), f"unknown area {key!r}"))
        people = {"focal_points": item.focal_points}
        if isinstance(item, ForumSpec):
            people["chairs"] = item.chairs
        else:
            people["officers"] = item.officers
        for field, emails in people.items():
            for j, email in enumerate(emails):
                if email not in staff:
                    problems.append(((section, i, field, j), f"unknown staff {email!r}"))
    for i, category in enumerate(spec.categories):
        if category.routes_to == "protection_unit" and not spec.protection_units:
            problems.append((("categories", i, "routes_to"), "no protection unit is defined"))
    for i, rule in enumerate(spec.routing):
        if (rule.forum is None) == (rule.unit is None):
            problems.append((("routing", i), "a rule names exactly one of forum or unit"))
        if rule.category is not None and rule.category not in categories:
            problems.append((("routing", i, "category"), f"unknown category {rule.category!r}"))
        if rule.area is not None and rule.area not in areas:
            problems.append((("routing", i, "area"), f"unknown area {rule.area!r}"))
        if rule.forum is not None and rule.forum not in forums:
            problems.append((("routing", i, "forum"), f"unknown forum {rule.forum!r}"))
        if rule.unit is not None and rule.unit not in units:
            problems.append((("routing", i, "unit"), f"unknown unit {rule.unit!r}"))
    for language in spec.protection.entry_words:
        if language not in info.languages:
            problems.append(
                (("protection", "entry_words", language), "not one of the deployment's languages")
            )
    seen_templates: set[tuple[str, str]] = set()
    for i, template in enumerate(spec.whatsapp.templates):
        where = ("whatsapp", "templates", i)
        if template.language not in info.languages:
            problems.append(((*where, "language"), "must be one of the deployment's languages"))
        if (template.kind, template.language) in seen_templates:
            problems.append((where, f"a second template for {template.kind}/{template.language}"))
        seen_templates.add((template.kind, template.language))
    return problems
