"""Opening a case from a finished report, and telling the right people about it.

The reference code is random over an alphabet without look-alike letters (no
I/L, O/0, S/5, B/8, Z/2), so it reads well aloud and on a cheap screen and cannot
be guessed from the previous one. Focal points hear of a case with its code,
category and area: never the reporter's address, name or words.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory import Directory
from bot.i18n import Catalogs, msg
from bot.messages import Location, OutboundMessage
from bot.models import Case, CaseMessage, Contact, ForumStaff, StaffUser, UnitStaff
from bot.outbox import to_staff
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


async def unused_reference(db: AsyncSession) -> str:
    while True:
        reference = new_reference()
        taken = await db.scalar(select(Case.id).where(Case.reference == reference))
        if taken is None:
            return reference


@dataclass(frozen=True)
class Report:
    category_key: str
    area_key: str | None
    location: Location | None
    description: str
    reporter_name: str | None
    language: str


async def open_case(
    db: AsyncSession, directory: Directory, catalogs: Catalogs, contact: Contact, report: Report
) -> Case:
    category = directory.categories_by_key[report.category_key]
    area = directory.areas_by_key.get(report.area_key) if report.area_key else None
    route = route_case(directory, category, area.id if area else None, report.location)
    case = Case(
        reference=await unused_reference(db),
        kind="protection" if category.routes_to == "protection_unit" else "concern",
        category_id=category.id,
        area_id=area.id if area else None,
        forum_id=route.forum_id,
        unit_id=route.unit_id,
        queue=route.queue,
        route_reason=route.reason,
        contact_id=contact.id,
        anonymous=report.reporter_name is None,
        reporter_name=report.reporter_name,
        description=report.description,
        language=report.language,
        channel=contact.channel,
        latitude=report.location.latitude if report.location else None,
        longitude=report.location.longitude if report.location else None,
    )
    db.add(case)
    await db.flush()
    db.add(CaseMessage(case_id=case.id, direction="inbound", body=report.description))
    await notify_destination(db, directory, catalogs, case, route)
    return case


async def _recipients(db: AsyncSession, route: Route) -> list[StaffUser]:
    if route.queue == "forum":
        query = (
            select(StaffUser)
            .join(ForumStaff, ForumStaff.staff_id == StaffUser.id)
            .where(ForumStaff.forum_id == route.forum_id, ForumStaff.role == "focal_point")
        )
    elif route.queue == "unit":
        query = (
            select(StaffUser)
            .join(UnitStaff, UnitStaff.staff_id == StaffUser.id)
            .where(UnitStaff.unit_id == route.unit_id, UnitStaff.role == "focal_point")
        )
    else:
        query = select(StaffUser).where(StaffUser.role == "admin")
    return list((await db.execute(query.order_by(StaffUser.id))).scalars().unique())


async def notify_destination(
    db: AsyncSession, directory: Directory, catalogs: Catalogs, case: Case, route: Route
) -> int:
    sent = 0
    category = next(c for c in directory.categories if c.id == case.category_id)
    for staff in await _recipients(db, route):
        language = staff.language
        destination = directory.programme_queue
        if route.forum_id is not None:
            destination = directory.localized(directory.forums[route.forum_id].names, language)
        elif route.unit_id is not None:
            destination = directory.localized(directory.units[route.unit_id].names, language)
        text = catalogs.text(
            language,
            NOTIFY_MESSAGES[route.queue],
            reference=format_reference(case.reference),
            category=directory.localized(category.names, language),
            area=directory.area_label(case.area_id, language) if case.area_id else "—",
            destination=destination,
        )
        if to_staff(db, staff, OutboundMessage(text=text, language=language), case_id=case.id):
            sent += 1
    return sent


async def find_own_case(db: AsyncSession, contact: Contact, reference: str) -> Case | None:
    """A case by code, only if this contact reported it: others' codes look unknown."""
    return await db.scalar(
        select(Case).where(Case.reference == reference, Case.contact_id == contact.id)
    )
