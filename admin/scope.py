"""What a staff member may see: the role decides the resources, membership the rows.

A role that may not use a resource at all gets 403; a case outside the member's
forums or units is simply not found (404), as if it did not exist, so scope is a
filter on every query rather than a check on a page. Protection cases are read
only by the officers of their unit: not by forum staff, and not by programme
admins, who see them as anonymous counts like everyone else allowed to.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Case, ForumStaff, StaffUser, UnitStaff

ROLES = ("admin", "forum_chair", "focal_point", "protection_officer", "viewer")
CASE_ROLES = frozenset({"admin", "forum_chair", "focal_point", "protection_officer"})
PROTECTION_COUNT_ROLES = frozenset({"admin", "protection_officer", "viewer"})
# Forum news: chairs and focal points read their forums' broadcasts and run their
# meetings; chairs (and admins) broadcast. Campaigns are the programme's: admins only.
FORUM_NEWS_ROLES = frozenset({"admin", "forum_chair", "focal_point"})
BROADCAST_ROLES = frozenset({"admin", "forum_chair"})


@dataclass(frozen=True)
class Scope:
    staff: StaffUser
    forum_ids: frozenset[int]
    unit_ids: frozenset[int]
    # The forums they chair (the deployment file's ``chairs``), as a chair's /announce
    # on Telegram reads them: the only ones a chair broadcasts to.
    chaired_forum_ids: frozenset[int] = frozenset()

    @property
    def role(self) -> str:
        return self.staff.role

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def works_cases(self) -> bool:
        return self.role in CASE_ROLES

    @property
    def sees_protection_counts(self) -> bool:
        return self.role in PROTECTION_COUNT_ROLES

    @property
    def reads_forum_news(self) -> bool:
        return self.role in FORUM_NEWS_ROLES

    @property
    def broadcasts(self) -> bool:
        return self.role in BROADCAST_ROLES

    def serves_forum(self, forum_id: int | None) -> bool:
        """Whether this person works for the forum (admins: every forum)."""
        return self.is_admin or (forum_id is not None and forum_id in self.forum_ids)

    def broadcasts_to(self, forum_id: int | None) -> bool:
        """Whether this person may broadcast to the forum's members (admins: every forum)."""
        if self.is_admin:
            return True
        return self.broadcasts and forum_id is not None and forum_id in self.chaired_forum_ids

    def cases(self) -> ColumnElement[bool]:
        """The SQL condition for the cases this person may read."""
        if not self.works_cases:
            return false()
        concerns: ColumnElement[bool] = Case.kind == "concern"
        if not self.is_admin:  # forum staff (an officer may be forum staff too)
            concerns = and_(concerns, Case.forum_id.in_(self.forum_ids))
        protection = and_(Case.kind == "protection", Case.unit_id.in_(self.unit_ids))
        return or_(concerns, protection)

    def forum_filter(self) -> frozenset[int] | None:
        """The forums whose trends this person reads; None: the whole programme."""
        return None if self.role in ("admin", "viewer") else self.forum_ids


async def load_scope(db: AsyncSession, staff: StaffUser) -> Scope:
    links = (
        await db.execute(
            select(ForumStaff.forum_id, ForumStaff.role).where(ForumStaff.staff_id == staff.id)
        )
    ).all()
    units = await db.scalars(select(UnitStaff.unit_id).where(UnitStaff.staff_id == staff.id))
    unit_ids = frozenset(units) if staff.role in ("protection_officer", "admin") else frozenset()
    chaired = frozenset(forum for forum, role in links if role == "chair")
    return Scope(staff, frozenset(forum for forum, _ in links), unit_ids, chaired)
