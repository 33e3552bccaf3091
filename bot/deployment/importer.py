"""``baraza import``: load or update a deployment from one YAML file, all or nothing.

The file is validated completely first (schema, then cross-references); any
problem is reported as ``file:line: path: message`` and nothing is written.
Applying is an upsert by natural keys (area and forum keys, staff e-mails), so
importing the same file twice changes nothing, and the deployment's revision only
moves when something did (which is what tells running processes to reload).
Forums, units and categories missing from a new version of the file are
deactivated, not deleted: cases still point at them. Fields edited on the web are
not overwritten silently: see ``bot.deployment.web_edits``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.contacts import find_or_create_contact, urn_hash
from bot.deployment.memberships import frozen_staff
from bot.deployment.report import ImportConflicts, ImportReport
from bot.deployment.schema import DeploymentFile, ForumSpec, Problem, UnitSpec, cross_check
from bot.deployment.web_edits import label
from bot.models import (
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
    Topic,
    UnitArea,
    UnitStaff,
)
from bot.urns import URN, parse
from bot.yaml_lines import DuplicateKeyError, line_of, load_with_lines


class DeploymentError(ValueError):
    """The deployment file has problems; ``problems`` lists each with its line."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: {len(problems)} problem(s)\n" + "\n".join(problems))
        self.problems = problems


def _format(source: str, lines: dict[Any, int], problems: Iterable[Problem]) -> list[str]:
    out = []
    for path, message in problems:
        line = line_of(lines, path)
        where = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path)
        where = where.replace(".[", "[")
        out.append(f"{source}:{line or '?'}: {where or '(file)'}: {message}")
    return out


def parse_deployment(text: str, source: str, languages: set[str]) -> DeploymentFile:
    try:
        data, lines = load_with_lines(text)
    except DuplicateKeyError as exc:
        raise DeploymentError(source, [f"{source}:{exc.line}: {exc}"]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else "?"
        raise DeploymentError(source, [f"{source}:{line}: not valid YAML: {exc}"]) from exc
    try:
        spec = DeploymentFile.model_validate(data)
    except ValidationError as exc:
        problems = [(tuple(e["loc"]), e["msg"]) for e in exc.errors()]
        raise DeploymentError(source, _format(source, lines, problems)) from exc
    found = cross_check(spec, languages)
    if found:
        raise DeploymentError(source, _format(source, lines, found))
    return spec


async def _by(db: AsyncSession, model: Any, column: str) -> dict[Any, Any]:
    return {getattr(row, column): row for row in (await db.execute(select(model))).scalars()}


async def _sync_links(
    db: AsyncSession,
    report: ImportReport,
    model: Any,
    owner: str,
    owner_id: int,
    wanted: set[tuple[Any, ...]],
    columns: tuple[str, ...],
    keep: Callable[[Any], bool],
    about: tuple[Any, str],
    skip: Callable[[tuple[Any, ...]], bool],
) -> None:
    """Make the link rows of one owner exactly ``wanted`` (plus those ``keep`` keeps and
    those ``skip`` leaves alone), touching only differences; ``about`` is the row and
    field the links belong to, for the report and the web-edit rule."""
    rows = (await db.execute(select(model).where(getattr(model, owner) == owner_id))).scalars()
    existing = {tuple(getattr(r, c) for c in columns): r for r in rows}
    gone = [r for k, r in existing.items() if k not in wanted and not keep(r) and not skip(k)]
    new = [k for k in wanted - set(existing) if not skip(k)]
    if not report.may_change(*about, bool(gone or new), "the file lists other ones"):
        return
    for row in gone:
        await db.delete(row)
    for key in new:
        db.add(model(**{owner: owner_id}, **dict(zip(columns, key, strict=True))))
    if gone or new:
        report.links_changed(*about)


def _get_or_add(
    db: AsyncSession, report: ImportReport, rows: dict[Any, Any], model: Any, **create: Any
) -> Any:
    """The existing row for this natural key, or a new one added to the session."""
    key = create.get("key", create.get("email"))
    row = rows.get(key)
    if row is None:
        row = rows[key] = model(**create)
        db.add(row)
        report.added_row(row)
    report.listed.append(label(row))
    return row


def _place(spec: ForumSpec | UnitSpec) -> dict[str, Any]:
    """Where a forum or unit is, how far it reaches, and which chat hears of its cases."""
    return {
        "latitude": spec.latitude,
        "longitude": spec.longitude,
        "service_radius_km": spec.service_radius_km,
        "notify_address": spec.notify,
    }


@dataclass
class _Links:
    """The link tables of one forum or unit (areas, staff, members)."""

    db: AsyncSession
    report: ImportReport
    owner: str
    row: Any

    async def sync(
        self,
        model: Any,
        wanted: set[tuple[Any, ...]],
        columns: tuple[str, ...],
        what: str,
        keep: Callable[[Any], bool] = lambda row: False,
        skip: Callable[[tuple[Any, ...]], bool] = lambda key: False,
    ) -> None:
        await _sync_links(self.db, self.report, model, self.owner, self.row.id, wanted,
                          columns, keep, (self.row, what), skip)  # fmt: skip


def _joined_through_bot(member: ForumMember) -> bool:
    return member.source == "bot"


async def apply_deployment(
    db: AsyncSession,
    spec: DeploymentFile,
    *,
    overwrite_web_edits: bool = False,
    keep_web_edits: bool = False,
) -> ImportReport:
    """Make the directory what the file says. Raises ``ImportConflicts`` (after the
    whole file was compared, so every conflict is listed) when that would undo web
    edits, unless told to overwrite them or to keep them (and import the rest); the
    caller rolls back."""
    report = ImportReport(overwrite=overwrite_web_edits, keep=keep_web_edits)
    info = spec.deployment
    deployment = await db.scalar(select(Deployment))
    if deployment is None:
        deployment = Deployment(
            name=info.name,
            languages=info.languages,
            default_language=info.default_language,
            programme_queue=info.programme_queue,
            revision=0,
        )
        db.add(deployment)
        report.added_row(deployment)
    report.set(
        deployment,
        name=info.name,
        languages=list(info.languages),
        default_language=info.default_language,
        programme_queue=info.programme_queue,
        whatsapp=spec.whatsapp.model_dump(mode="json"),
        protection=spec.protection.model_dump(mode="json"),
    )

    areas = await _by(db, Area, "key")
    for a in spec.areas:
        row = _get_or_add(db, report, areas, Area, key=a.key, level=a.level, names={}, aliases=[])
        report.set(
            row,
            level=a.level,
            names=dict(a.names),
            aliases=list(a.aliases),
            timezone=a.timezone,
            quiet_hours=a.quiet_hours,
            latitude=a.latitude,
            longitude=a.longitude,
        )
    await db.flush()
    for a in spec.areas:
        report.set(areas[a.key], parent_id=areas[a.parent].id if a.parent else None)

    staff = await _by(db, StaffUser, "email")
    for s in spec.staff:
        row = _get_or_add(
            db,
            report,
            staff,
            StaffUser,
            email=s.email,
            name=s.name,
            role=s.role,
            language=s.language,
            active=True,
        )
        address = str(parse(s.address)) if s.address else None
        report.set(
            row,
            name=s.name,
            role=s.role,
            language=s.language,
            address=address,
            address_channel=parse(address).channel if address else None,
            female=s.female,
            telegram_hash=(
                urn_hash(URN("telegram", str(s.telegram_user_id)))
                if s.telegram_user_id is not None
                else s.telegram_user_hash
            ),
        )

    forums = await _by(db, Forum, "key")
    for f in spec.forums:
        row = _get_or_add(db, report, forums, Forum, key=f.key, names={})
        report.set(row, names=dict(f.names), **_place(f), active=True)
    units = await _by(db, ProtectionUnit, "key")
    for u in spec.protection_units:
        row = _get_or_add(db, report, units, ProtectionUnit, key=u.key, names={})
        hotlines = [h.model_dump() for h in u.hotlines]
        report.set(
            row,
            names=dict(u.names),
            services=list(u.services),
            hotlines=hotlines,
            places=[place.model_dump() for place in u.places],
            **_place(u),
            active=True,
        )
    categories = await _by(db, Category, "key")
    for position, c in enumerate(spec.categories):
        row = _get_or_add(
            db, report, categories, Category, key=c.key, names={}, routes_to=c.routes_to
        )
        report.set(row, names=dict(c.names), routes_to=c.routes_to, position=position, active=True)
    topics = await _by(db, Topic, "key")
    for t in spec.topics:
        row = _get_or_add(db, report, topics, Topic, key=t.key, names={})
        report.set(row, names=dict(t.names), active=True)
    for rows, listed in (
        (topics, {t.key for t in spec.topics}),
        (forums, {f.key for f in spec.forums}),
        (units, {u.key for u in spec.protection_units}),
        (categories, {c.key for c in spec.categories}),
    ):
        for key, row in rows.items():
            if key not in listed:
                report.deactivate(row)
    await db.flush()
    frozen = await frozen_staff(db, report, spec, staff, (forums, units))

    def of_frozen_staff(key: tuple[Any, ...]) -> bool:
        return key[0] in frozen

    for f in spec.forums:
        people = {(staff[e].id, "chair") for e in f.chairs}
        people |= {(staff[e].id, "focal_point") for e in f.focal_points}
        members = set()
        for urn in f.members:
            contact, _, created = await find_or_create_contact(db, parse(urn))
            report.changes += int(created)
            members.add((contact.id,))
        links = _Links(db, report, "forum_id", forums[f.key])
        await links.sync(ForumArea, {(areas[k].id,) for k in f.areas}, ("area_id",), "areas")
        await links.sync(ForumStaff, people, ("staff_id", "role"), "staff", skip=of_frozen_staff)
        # Members who joined through the bot stay: only the file's own list is synced.
        await links.sync(ForumMember, members, ("contact_id",), "members",
                         keep=_joined_through_bot)  # fmt: skip
    for u in spec.protection_units:
        people = {(staff[e].id, "focal_point") for e in u.focal_points}
        people |= {(staff[e].id, "officer") for e in u.officers}
        links = _Links(db, report, "unit_id", units[u.key])
        await links.sync(UnitArea, {(areas[k].id,) for k in u.areas}, ("area_id",), "areas")
        await links.sync(UnitStaff, people, ("staff_id", "role"), "staff", skip=of_frozen_staff)

    wanted_rules = [
        (
            categories[r.category].id if r.category else None,
            areas[r.area].id if r.area else None,
            forums[r.forum].id if r.forum else None,
            units[r.unit].id if r.unit else None,
        )
        for r in spec.routing
    ]
    existing_rules = [
        (r.category_id, r.area_id, r.forum_id, r.unit_id)
        for r in (await db.execute(select(RoutingRule).order_by(RoutingRule.position))).scalars()
    ]
    if wanted_rules != existing_rules:
        await db.execute(delete(RoutingRule))
        for position, (category_id, area_id, forum_id, unit_id) in enumerate(wanted_rules):
            db.add(
                RoutingRule(
                    position=position,
                    category_id=category_id,
                    area_id=area_id,
                    forum_id=forum_id,
                    unit_id=unit_id,
                )
            )
        report.changes += 1
        report.changed.setdefault("routing", []).append("rules")

    if report.conflicts:
        raise ImportConflicts(report.conflicts)
    if report.changes:
        deployment.revision = (deployment.revision or 0) + 1
    await db.flush()
    report.counts = {
        "areas": len(spec.areas),
        "staff": len(spec.staff),
        "forums": len(spec.forums),
        "protection_units": len(spec.protection_units),
        "categories": len(spec.categories),
        "routing_rules": len(spec.routing),
    }
    return report


async def import_file(
    db: AsyncSession,
    path: Path,
    languages: set[str],
    *,
    overwrite_web_edits: bool = False,
    keep_web_edits: bool = False,
) -> ImportReport:
    text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    spec = parse_deployment(text, str(path), languages)
    return await apply_deployment(
        db, spec, overwrite_web_edits=overwrite_web_edits, keep_web_edits=keep_web_edits
    )
