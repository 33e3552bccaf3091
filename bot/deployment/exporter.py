"""``baraza export-deployment``: the directory as it is now, as a deployment file.

After edits on the web, this is how the file catches up: export, review the diff,
keep the result as the new deployment file. The export is built through the same
schema the importer validates with, so it always re-imports, and to the same
directory. What the database does not hold in the clear cannot be written back: a
staff member's Telegram user id is kept only as a keyed hash, so the hash is
written (``telegram_user_hash``, good with the same data key), and inactive
forums, units, categories, topics and staff are left out, which is how the file
says "inactive".
"""

from __future__ import annotations

from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.deployment.schema import DeploymentFile
from bot.models import (
    Area,
    Category,
    Contact,
    Deployment,
    Forum,
    ForumArea,
    ForumMember,
    ForumStaff,
    ProtectionUnit,
    RoutingRule,
    StaffUser,
    Topic,
    UnitArea,
    UnitStaff,
)


async def _links(db: AsyncSession, column: Any, value: Any) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    for owner, item in (await db.execute(select(column, value).order_by(column, value))).all():
        found.setdefault(owner, []).append(item)
    return found


def _place(point: Forum | ProtectionUnit) -> dict[str, Any]:
    return {
        "latitude": point.latitude,
        "longitude": point.longitude,
        "service_radius_km": point.service_radius_km,
        "notify": point.notify_address,
    }


async def _people(db: AsyncSession, model: Any, owner: Any, emails: dict[int, str]) -> dict[
    tuple[int, str], list[str]
]:  # fmt: skip
    """(forum or unit id, role) -> the e-mails of the active staff in that role."""
    found: dict[tuple[int, str], list[str]] = {}
    for point_id, staff_id, role in (
        await db.execute(select(owner, model.staff_id, model.role).order_by(model.staff_id))
    ).all():
        if staff_id in emails:
            found.setdefault((point_id, role), []).append(emails[staff_id])
    return found


def _rule(rule: RoutingRule, keys: dict[str, dict[int, str]]) -> dict[str, str] | None:
    """A routing rule by keys; None when it names a row the export leaves out."""
    named = {
        "category": rule.category_id, "area": rule.area_id,
        "forum": rule.forum_id, "unit": rule.unit_id,
    }  # fmt: skip
    out = {kind: keys[kind].get(row_id) for kind, row_id in named.items() if row_id}
    return None if None in out.values() else {k: v for k, v in out.items() if v}


async def deployment_spec(db: AsyncSession) -> DeploymentFile:
    """The directory as a validated deployment file."""
    info = await db.scalar(select(Deployment))
    if info is None:
        raise LookupError("nothing imported yet: no deployment to export")
    areas = list(await db.scalars(select(Area).order_by(Area.id)))
    area_keys = {a.id: a.key for a in areas}
    staff = list(await db.scalars(select(StaffUser).where(StaffUser.active).order_by(StaffUser.id)))
    emails = {s.id: s.email for s in staff}
    forums = list(await db.scalars(select(Forum).where(Forum.active).order_by(Forum.id)))
    units = list(
        await db.scalars(
            select(ProtectionUnit).where(ProtectionUnit.active).order_by(ProtectionUnit.id)
        )
    )
    forum_areas = await _links(db, ForumArea.forum_id, ForumArea.area_id)
    unit_areas = await _links(db, UnitArea.unit_id, UnitArea.area_id)
    forum_people = await _people(db, ForumStaff, ForumStaff.forum_id, emails)
    unit_people = await _people(db, UnitStaff, UnitStaff.unit_id, emails)
    member_rows = await db.execute(
        select(ForumMember.forum_id, Contact.urn)
        .join(Contact, Contact.id == ForumMember.contact_id)
        .where(ForumMember.source == "deployment")
        .order_by(ForumMember.forum_id, Contact.id)
    )
    members: dict[int, list[str]] = {}
    for forum_id, urn in member_rows.all():
        members.setdefault(forum_id, []).append(urn)
    categories = list(
        await db.scalars(select(Category).where(Category.active).order_by(Category.position))
    )
    keys: dict[str, dict[int, str]] = {
        "category": {c.id: c.key for c in categories},
        "area": area_keys,
        "forum": {f.id: f.key for f in forums},
        "unit": {u.id: u.key for u in units},
    }
    rules = list(await db.scalars(select(RoutingRule).order_by(RoutingRule.position)))
    data: dict[str, Any] = {
        "deployment": {
            "name": info.name,
            "languages": info.languages,
            "default_language": info.default_language,
            "programme_queue": info.programme_queue,
        },
        "areas": [
            {
                "key": a.key,
                "parent": area_keys.get(a.parent_id) if a.parent_id else None,
                "level": a.level,
                "names": a.names,
                "aliases": a.aliases or [],
                "timezone": a.timezone,
                "quiet_hours": a.quiet_hours,
                "latitude": a.latitude,
                "longitude": a.longitude,
            }
            for a in areas
        ],
        "staff": [
            {
                "email": s.email,
                "name": s.name,
                "role": s.role,
                "language": s.language,
                "address": s.address,
                "female": s.female,
                "telegram_user_hash": s.telegram_hash,
            }
            for s in staff
        ],
        "forums": [
            {
                "key": f.key,
                "names": f.names,
                "areas": [area_keys[i] for i in forum_areas.get(f.id, [])],
                **_place(f),
                "chairs": forum_people.get((f.id, "chair"), []),
                "focal_points": forum_people.get((f.id, "focal_point"), []),
                "members": members.get(f.id, []),
            }
            for f in forums
        ],
        "protection_units": [
            {
                "key": u.key,
                "names": u.names,
                "areas": [area_keys[i] for i in unit_areas.get(u.id, [])],
                "services": u.services or [],
                "hotlines": u.hotlines or [],
                "places": u.places or [],
                **_place(u),
                "focal_points": unit_people.get((u.id, "focal_point"), []),
                "officers": unit_people.get((u.id, "officer"), []),
            }
            for u in units
        ],
        "categories": [
            {"key": c.key, "names": c.names, "routes_to": c.routes_to} for c in categories
        ],
        "topics": [
            {"key": t.key, "names": t.names}
            for t in await db.scalars(select(Topic).where(Topic.active).order_by(Topic.id))
        ],
        "routing": [rule for rule in (_rule(r, keys) for r in rules) if rule],
        "whatsapp": info.whatsapp or {},
        "protection": info.protection or {},
    }
    return DeploymentFile.model_validate(data)


async def export_deployment(db: AsyncSession) -> str:
    """The deployment file's text: only what differs from the schema's defaults."""
    spec = await deployment_spec(db)
    data = spec.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    header = (
        "# Exported by `baraza export-deployment`. Staff Telegram ids are written as\n"
        "# their keyed hash (telegram_user_hash): valid with the same BARAZA_DATA_KEY.\n"
    )
    return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
