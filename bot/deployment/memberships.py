"""Staff forum and unit roles, as the file has them and as they are, for the import.

Roles are links of the forums and units in the file, but an admin edits them per
person on the web ("memberships"); the import compares them per person so that a
web edit is noticed however many forums it touched.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.deployment.report import ImportReport
from bot.deployment.schema import DeploymentFile
from bot.deployment.web_edits import marked
from bot.models import Forum, ForumStaff, ProtectionUnit, StaffUser, UnitStaff


async def _memberships(db: AsyncSession) -> dict[int, set[tuple[str, int, str]]]:
    """Each staff member's forum and unit roles as they are now."""
    found: dict[int, set[tuple[str, int, str]]] = defaultdict(set)
    for kind, model, owner in (
        ("forum", ForumStaff, ForumStaff.forum_id),
        ("unit", UnitStaff, UnitStaff.unit_id),
    ):
        for staff_id, point_id, role in (
            await db.execute(select(model.staff_id, owner, model.role))
        ).all():
            found[staff_id].add((kind, point_id, role))
    return found


def _wanted_memberships(
    spec: DeploymentFile, forums: dict[str, Forum], units: dict[str, ProtectionUnit]
) -> dict[str, set[tuple[str, int, str]]]:
    """Each staff e-mail's forum and unit roles as the file has them."""
    wanted: dict[str, set[tuple[str, int, str]]] = defaultdict(set)
    for f in spec.forums:
        for role, emails in (("chair", f.chairs), ("focal_point", f.focal_points)):
            for email in emails:
                wanted[email].add(("forum", forums[f.key].id, role))
    for u in spec.protection_units:
        for role, emails in (("focal_point", u.focal_points), ("officer", u.officers)):
            for email in emails:
                wanted[email].add(("unit", units[u.key].id, role))
    return wanted


async def frozen_staff(
    db: AsyncSession,
    report: ImportReport,
    spec: DeploymentFile,
    staff: dict[str, StaffUser],
    points: tuple[dict[str, Forum], dict[str, ProtectionUnit]],
) -> set[int]:
    """Staff whose forum and unit roles were edited on the web and differ from the file:
    the import leaves their roles alone (and reports the conflict)."""
    now = await _memberships(db)
    wanted = _wanted_memberships(spec, *points)
    frozen = set()
    for email, row in staff.items():
        if marked(row, "memberships") is None:
            continue
        if not report.may_change(row, "memberships", now[row.id] != wanted[email],
                                 "the file gives other forum or unit roles"):  # fmt: skip
            frozen.add(row.id)
    return frozen
