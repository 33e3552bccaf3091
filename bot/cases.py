"""Opening a case from a finished report, and telling the right people about it.

The reference code is random over an alphabet without look-alike letters (no
I/L, O/0, S/5, B/8, Z/2), so it reads well aloud and on a cheap screen and cannot
be guessed from the previous one. Focal points hear of a case with its code,
category and area: never the reporter's address, name or words.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, exists, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.contacts import ContactRecord
from bot.db import InsertIfAbsent
from bot.directory import CategoryInfo, Directory
from bot.i18n import Catalogs, msg
from bot.messages import Location, OutboundMessage
from bot.models import Case, CaseMessage, ForumStaff, StaffUser, UnitStaff
from bot.models.base import table, utcnow
from bot.outbox import to_address
from bot.routing import Route, route_case
from flows.answers import REFERENCE_ALPHABET, REFERENCE_LENGTH, format_reference

STATUSES = ("new", "acknowledged", "in_progress", "referred", "resolved", "closed")
STATUS_MESSAGES = {
    "new": msg("case.status.new"),
    "acknowledged": msg("case.status.acknowledged"),
    "in_progress": msg("case.status.in_progress"),
    "referred": msg("case.status.referred"),
    "resolved": msg("case.status.resolved"),
    "closed": msg("case.status.closed"),
}
NOTIFY_MESSAGES = {
    "forum": msg("case.notify.forum"),
    "unit": msg("case.notify.unit"),
    "programme": msg("case.notify.programme"),
}


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


@dataclass(frozen=True)
class Report:
    category_key: str
    area_key: str | None
    location: Location | None
    description: str
    reporter_name: str | None
    language: str


@dataclass(frozen=True)
class OpenedCase:
    id: int
    reference: str
    category_id: int
    area_id: int | None
    route: Route


_CASES = table(Case)
# A clash of random codes is settled by the unique index, not by a look-up first.
_INSERT_CASE = InsertIfAbsent(_CASES, ["reference"])
_INSERT_MESSAGE = insert(table(CaseMessage))


async def open_case(
    db: AsyncSession,
    directory: Directory,
    catalogs: Catalogs,
    contact: ContactRecord,
    report: Report,
) -> OpenedCase:
    """Write the case and its first message, and notify its destination (Core statements:
    this runs inside the webhook's transaction, on the path of a person waiting)."""
    category = directory.categories_by_key[report.category_key]
    area = directory.areas_by_key.get(report.area_key) if report.area_key else None
    route = route_case(directory, category, area.id if area else None, report.location)
    return await _write_case(
        db,
        directory,
        catalogs,
        contact,
        category=category,
        area_id=area.id if area else None,
        route=route,
        description=report.description,
        language=report.language,
        kind="protection" if category.routes_to == "protection_unit" else "concern",
        anonymous=report.reporter_name is None,
        reporter_name=report.reporter_name,
        latitude=report.location.latitude if report.location else None,
        longitude=report.location.longitude if report.location else None,
    )


async def open_protection_case(
    db: AsyncSession,
    directory: Directory,
    catalogs: Catalogs,
    contact: ContactRecord,
    *,
    category_key: str,
    unit_id: int,
    area_id: int | None,
    help_type: str | None,
    consent_service: bool,
    description: str,
    contact_method: str | None,
    contact_time: str | None,
    language: str,
) -> OpenedCase:
    """A protection case the survivor consented to, for one unit; its notification names
    the code and the area, never the category or a word of what was said."""
    return await _write_case(
        db,
        directory,
        catalogs,
        contact,
        category=directory.categories_by_key[category_key],
        area_id=area_id,
        route=Route("unit", unit_id=unit_id, reason="survivor_consent"),
        description=description,
        language=language,
        kind="protection",
        anonymous=True,
        help_type=help_type,
        consent_service=consent_service,
        contact_method=contact_method,
        contact_time=contact_time if contact_method else None,
    )


async def _write_case(
    db: AsyncSession,
    directory: Directory,
    catalogs: Catalogs,
    contact: ContactRecord,
    *,
    category: CategoryInfo,
    area_id: int | None,
    route: Route,
    description: str,
    language: str,
    **fields: Any,
) -> OpenedCase:
    """The case row under a fresh code, its first message if there are words, and the
    notification of its destination."""
    now = utcnow()
    values = {
        "category_id": category.id,
        "area_id": area_id,
        "forum_id": route.forum_id,
        "unit_id": route.unit_id,
        "queue": route.queue,
        "route_reason": route.reason,
        "status": "new",
        "contact_id": contact.id,
        "description": description,
        "language": language,
        "channel": contact.channel,
        "created_at": now,
        "updated_at": now,
        **fields,
    }
    while True:  # a clash of random codes is settled by the unique index
        reference = new_reference()
        case_id = await _INSERT_CASE(db, {**values, "reference": reference})
        if case_id is not None:
            break
    if description:
        await db.execute(
            _INSERT_MESSAGE,
            {"case_id": case_id, "direction": "inbound", "body": description, "created_at": now},
        )
    opened = OpenedCase(int(case_id), reference, category.id, area_id, route)
    await notify_destination(db, directory, catalogs, opened)
    return opened


async def notify_withdrawal(
    db: AsyncSession, directory: Directory, catalogs: Catalogs, case: Case
) -> None:
    """Tell the unit's focal points that consent was withdrawn: stop sharing the case."""
    route = Route("unit", unit_id=case.unit_id)
    for staff_id, language, address in (await db.execute(_recipients_query(route))).all():
        text = catalogs.text(
            language, msg("case.notify.withdrawn"), reference=format_reference(case.reference)
        )
        message = OutboundMessage(text=text, language=language)
        await to_address(db, address, message, staff_id=staff_id, case_id=case.id)


_STAFF = table(StaffUser)
_RECIPIENT_COLUMNS = (_STAFF.c.id, _STAFF.c.language, _STAFF.c.address)


def _recipients_query(route: Route) -> Select[Any]:
    query = select(*_RECIPIENT_COLUMNS).where(_STAFF.c.active.is_(True))
    if route.queue == "forum":
        forum_staff = table(ForumStaff)
        query = query.join(forum_staff, forum_staff.c.staff_id == _STAFF.c.id).where(
            forum_staff.c.forum_id == route.forum_id, forum_staff.c.role == "focal_point"
        )
    elif route.queue == "unit":
        unit_staff = table(UnitStaff)
        focal_points = (
            select(unit_staff.c.staff_id)
            .join(_STAFF, _STAFF.c.id == unit_staff.c.staff_id)
            .where(
                unit_staff.c.unit_id == route.unit_id,
                unit_staff.c.role == "focal_point",
                _STAFF.c.active.is_(True),
            )
        )
        # Female focal points first, where the deployment marks them: only they are told.
        women = focal_points.where(_STAFF.c.female.is_(True))
        query = query.where(
            _STAFF.c.id.in_(focal_points),
            or_(~exists(women), _STAFF.c.female.is_(True)),
        )
    else:
        query = query.where(_STAFF.c.role == "admin")
    return query.order_by(_STAFF.c.id)


async def notify_destination(
    db: AsyncSession, directory: Directory, catalogs: Catalogs, case: OpenedCase
) -> int:
    """Tell the destination's focal points (or the programme admins) about a new case."""
    sent = 0
    route = case.route
    point = (
        directory.forums.get(route.forum_id)
        if route.forum_id is not None
        else directory.units.get(route.unit_id)
        if route.unit_id is not None
        else None
    )
    recipients: list[tuple[int | None, str, str | None]] = [
        (staff_id, language, address)
        for staff_id, language, address in (await db.execute(_recipients_query(route))).all()
    ]
    if point is not None and point.notify_address:
        recipients.append((None, directory.default_language, point.notify_address))
    for staff_id, language, address in recipients:
        text = catalogs.text(
            language,
            NOTIFY_MESSAGES[route.queue],
            reference=format_reference(case.reference),
            category=directory.localized(
                directory.categories_by_id[case.category_id].names, language
            ),
            area=directory.area_label(case.area_id, language) if case.area_id else "—",
            destination=(
                directory.localized(point.names, language) if point else directory.programme_queue
            ),
        )
        message = OutboundMessage(text=text, language=language)
        if await to_address(db, address, message, staff_id=staff_id, case_id=case.id):
            sent += 1
    return sent


async def find_own_case(db: AsyncSession, contact: ContactRecord, reference: str) -> Case | None:
    """A case by code, only if this contact reported it: others' codes look unknown."""
    return await db.scalar(
        select(Case).where(Case.reference == reference, Case.contact_id == contact.id)
    )
