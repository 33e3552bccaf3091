"""Forum meetings for staff: schedule, list, read with the yes/no counts, move, cancel.

The chairs and focal points of a forum run its meetings, and admins any forum's.
Scheduling for a forum one does not serve is refused (403); another forum's meeting
is not found (404). Times are the forum's local time unless given as an instant,
and are shown back in it.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from admin.audit import audit
from admin.outbound.common import (
    conflict,
    forbidden,
    forum_id,
    instant,
    not_found,
    progress,
    unprocessable,
)
from admin.outbound.schemas import (
    Answers,
    MeetingDetail,
    MeetingList,
    MeetingMove,
    MeetingNotice,
    MeetingSummary,
    MeetingWrite,
)
from admin.scope import Scope
from bot.directory import Directory
from bot.meetings import (
    MeetingError,
    MeetingPlan,
    cancel_meeting,
    forum_timezone,
    reschedule_meeting,
    schedule_meeting,
)
from bot.models import Dispatch, Meeting, MeetingAnswer
from bot.models.base import utcnow
from bot.services import Services

PAST_SHOWN = 50


def _staff(scope: Scope) -> None:
    if not scope.reads_forum_news:
        raise forbidden("your role cannot work with forum meetings")


def visible(scope: Scope) -> ColumnElement[bool]:
    return true() if scope.is_admin else Meeting.forum_id.in_(scope.forum_ids)


def default_reminders(services: Services) -> list[int]:
    """BARAZA_REMINDER_MINUTES: minutes before the start, e.g. 1440,120."""
    return [int(m) for m in services.settings.reminder_minutes.split(",")]


async def schedule(
    db: AsyncSession, services: Services, scope: Scope, body: MeetingWrite, client: str | None
) -> MeetingDetail:
    _staff(scope)
    d = await services.runtime.directories.get(db)
    forum = forum_id(d, body.forum)
    if not scope.serves_forum(forum):
        raise forbidden("you can schedule meetings for your own forums only")
    if unknown := set(body.agenda) - set(d.languages):
        raise unprocessable(f"not a language of this deployment: {', '.join(sorted(unknown))}")
    minutes = body.reminder_minutes
    if minutes is None:
        minutes = default_reminders(services)
    plan = MeetingPlan(
        forum_id=forum,
        starts_at=instant(body.starts_at, forum_timezone(forum, d)),
        place=body.place,
        agenda=dict(body.agenda),
        reminder_minutes=tuple(minutes),
    )
    try:
        meeting = await schedule_meeting(db, plan, directory=d, staff_id=scope.staff.id)
    except MeetingError as exc:
        raise unprocessable(str(exc)) from None
    await audit(
        db,
        "meeting_create",
        staff=scope.staff,
        target=f"meeting:{meeting.id}",
        detail=f"{body.forum} at {meeting.starts_at.isoformat()}",
        client=client,
    )
    await db.commit()
    services.wake_dispatcher()  # a reminder due before the next tick is not late
    return await detail(db, services, scope, meeting.id)


async def listing(db: AsyncSession, services: Services, scope: Scope) -> MeetingList:
    _staff(scope)
    d = await services.runtime.directories.get(db)
    now = utcnow()
    upcoming = list(
        await db.scalars(
            select(Meeting)
            .where(visible(scope), Meeting.starts_at >= now)
            .order_by(Meeting.starts_at, Meeting.id)
        )
    )
    past = list(
        await db.scalars(
            select(Meeting)
            .where(visible(scope), Meeting.starts_at < now)
            .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
            .limit(PAST_SHOWN)
        )
    )
    answers = await _answers(db, [m.id for m in upcoming + past])
    language = scope.staff.language
    return MeetingList(
        upcoming=[_summary(m, answers, d, language) for m in upcoming],
        past=[_summary(m, answers, d, language) for m in past],
    )


async def find(db: AsyncSession, scope: Scope, meeting_id: int) -> Meeting:
    _staff(scope)
    found = await db.scalar(select(Meeting).where(Meeting.id == meeting_id, visible(scope)))
    if found is None:
        raise not_found("meeting")
    return found


async def detail(
    db: AsyncSession, services: Services, scope: Scope, meeting_id: int
) -> MeetingDetail:
    """A meeting, its answers, and each reminder or notice with its progress."""
    meeting = await find(db, scope, meeting_id)
    d = await services.runtime.directories.get(db)
    answers = await _answers(db, [meeting.id])
    dispatches = await db.scalars(
        select(Dispatch).where(Dispatch.meeting_id == meeting.id).order_by(Dispatch.due_at)
    )
    notices = []
    for dispatch in dispatches:
        kind = "reminder" if dispatch.kind == "reminder" else dispatch.detail.get("change")
        notices.append(
            MeetingNotice(
                kind=kind,
                minutes_before=dispatch.detail.get("minutes_before"),
                due_at=dispatch.due_at,
                progress=await progress(db, [dispatch.id], dispatch.status),
            )
        )
    return MeetingDetail(
        **_summary(meeting, answers, d, scope.staff.language).model_dump(),
        agenda=dict(meeting.agenda or {}),
        reminder_minutes=list(meeting.reminder_minutes or []),
        created_at=meeting.created_at,
        updated_at=meeting.updated_at,
        notices=notices,
    )


async def reschedule(
    db: AsyncSession,
    services: Services,
    scope: Scope,
    meeting_id: int,
    body: MeetingMove,
    client: str | None,
) -> MeetingDetail:
    """Move it: those already reminded are told now, and new reminders are planned."""
    meeting = await find(db, scope, meeting_id)
    if meeting.status == "cancelled":
        raise conflict("this meeting was cancelled")
    try:
        await reschedule_meeting(
            db, meeting, starts_at=instant(body.starts_at, meeting.timezone), place=body.place
        )
    except MeetingError as exc:
        raise unprocessable(str(exc)) from None
    await audit(
        db,
        "meeting_reschedule",
        staff=scope.staff,
        target=f"meeting:{meeting.id}",
        detail=f"to {meeting.starts_at.isoformat()} at {meeting.place}",
        client=client,
    )
    await db.commit()
    services.wake_dispatcher()
    return await detail(db, services, scope, meeting.id)


async def cancel(
    db: AsyncSession, services: Services, scope: Scope, meeting_id: int, client: str | None
) -> MeetingDetail:
    """Cancel it: no more reminders, and those already reminded are told."""
    meeting = await find(db, scope, meeting_id)
    if meeting.status == "cancelled":
        raise conflict("this meeting is already cancelled")
    if meeting.starts_at <= utcnow():
        raise conflict("this meeting has already begun")
    await cancel_meeting(db, meeting)
    await audit(
        db, "meeting_cancel", staff=scope.staff, target=f"meeting:{meeting.id}", client=client
    )
    await db.commit()
    services.wake_dispatcher()
    return await detail(db, services, scope, meeting.id)


async def _answers(db: AsyncSession, meeting_ids: list[int]) -> dict[int, Answers]:
    """The yes and no counts of some meetings, in one query."""
    counts = {meeting_id: Answers(yes=0, no=0) for meeting_id in meeting_ids}
    if meeting_ids:
        rows = await db.execute(
            select(MeetingAnswer.meeting_id, MeetingAnswer.attending, func.count())
            .where(MeetingAnswer.meeting_id.in_(meeting_ids))
            .group_by(MeetingAnswer.meeting_id, MeetingAnswer.attending)
        )
        for meeting_id, attending, count in rows.all():
            setattr(counts[meeting_id], "yes" if attending else "no", count)
    return counts


def local_time(moment: datetime, zone: str) -> str:
    """The time as the forum's clock shows it, as the staff pages write times."""
    return f"{moment.astimezone(ZoneInfo(zone)).strftime('%a %Y-%m-%d %H:%M')} {zone}"


def _summary(
    m: Meeting, answers: dict[int, Answers], d: Directory, language: str
) -> MeetingSummary:
    forum = d.forums.get(m.forum_id)
    return MeetingSummary(
        id=m.id,
        forum=forum.key if forum else str(m.forum_id),
        forum_name=d.localized(forum.names, language) if forum else "",
        starts_at=m.starts_at,
        local_time=local_time(m.starts_at, m.timezone),
        timezone=m.timezone,
        place=m.place,
        status=m.status,
        answers=answers.get(m.id, Answers(yes=0, no=0)),
    )
