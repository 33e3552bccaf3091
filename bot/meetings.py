"""Forum meetings: scheduled in the place's time zone, reminded at set offsets, answered
yes or no, moved or cancelled with a word to those already reminded.

Each reminder is a dispatch due at ``start - offset`` that expires at the start, so a
process that was down when it fell due sends it late only while it still matters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.contacts import ContactRecord
from bot.directory import Directory
from bot.dispatch_texts import RSVP_NO, RSVP_YES
from bot.dispatcher import new_dispatch, stop_dispatches
from bot.i18n import Catalogs, msg
from bot.messages import InboundMessage
from bot.models import Dispatch, Meeting, MeetingAnswer, OutboxMessage
from bot.models.base import table, utcnow
from bot.schedule import reminder_times
from bot.text import fold

ANSWER_WITHIN = timedelta(hours=48)  # a bare "1" or "yes" answers a reminder this recent
RSVP_FLOW = "rsvp"
ANSWERS = (RSVP_YES, RSVP_NO)


class MeetingError(ValueError):
    pass


@dataclass(frozen=True)
class MeetingPlan:
    forum_id: int
    starts_at: datetime
    place: str
    agenda: dict[str, str]
    reminder_minutes: tuple[int, ...]


def _check(plan: MeetingPlan, d: Directory) -> None:
    if plan.forum_id not in d.forums:
        raise MeetingError("choose a forum")
    if plan.starts_at <= utcnow():
        raise MeetingError("a meeting is scheduled in the future")
    if not plan.place.strip():
        raise MeetingError("say where the meeting is")
    if any(m <= 0 for m in plan.reminder_minutes):
        raise MeetingError("reminders are sent before the meeting")


def forum_timezone(forum_id: int, d: Directory) -> str:
    covered = d.forum_coverage.get(forum_id, ())
    return d.timezone_of(covered[0]) if covered else d.home_timezone


async def _plan_reminders(db: AsyncSession, meeting: Meeting) -> None:
    now = utcnow()
    rows = [
        new_dispatch(
            kind="reminder",
            meeting_id=meeting.id,
            due_at=due,
            expires_at=meeting.starts_at,
            detail={"minutes_before": minutes},
        )
        for minutes, due in reminder_times(meeting.starts_at, list(meeting.reminder_minutes))
        if due > now - timedelta(minutes=1)  # an offset already past is not sent
    ]
    if rows:
        await db.execute(insert(table(Dispatch)), rows)


async def schedule_meeting(
    db: AsyncSession, plan: MeetingPlan, *, directory: Directory, staff_id: int | None
) -> Meeting:
    _check(plan, directory)
    now = utcnow()
    meeting = Meeting(
        forum_id=plan.forum_id,
        created_by_id=staff_id,
        starts_at=plan.starts_at,
        timezone=forum_timezone(plan.forum_id, directory),
        place=plan.place.strip(),
        agenda={k: v.strip() for k, v in plan.agenda.items() if v and v.strip()},
        reminder_minutes=sorted(set(plan.reminder_minutes), reverse=True),
        status="scheduled",
        created_at=now,
        updated_at=now,
    )
    db.add(meeting)
    await db.flush()
    await _plan_reminders(db, meeting)
    return meeting


async def _stop_reminders(db: AsyncSession, meeting_id: int, why: str) -> None:
    reminders = select(Dispatch.id).where(
        Dispatch.meeting_id == meeting_id, Dispatch.kind == "reminder"
    )
    # Not yet queued: cancelled. Being sent: what waits is skipped, and the tick marks
    # the dispatch done once nothing is left.
    await stop_dispatches(db, reminders, why, statuses=("scheduled", "materializing"))


async def _tell_reminded(db: AsyncSession, meeting: Meeting, detail: dict[str, Any]) -> None:
    await db.execute(
        insert(table(Dispatch)),
        [
            new_dispatch(
                kind="meeting",
                meeting_id=meeting.id,
                due_at=utcnow(),
                expires_at=datetime.fromisoformat(detail["starts_at"]),
                detail=detail,
            )
        ],
    )


async def reschedule_meeting(
    db: AsyncSession, meeting: Meeting, *, starts_at: datetime, place: str | None = None
) -> None:
    """Move a meeting: those already reminded hear of it now, everyone gets new reminders."""
    if meeting.status != "scheduled":
        raise MeetingError("this meeting was cancelled")
    if starts_at <= utcnow():
        raise MeetingError("a meeting is scheduled in the future")
    await _stop_reminders(db, meeting.id, "meeting moved")
    meeting.starts_at = starts_at
    meeting.place = (place or meeting.place).strip()
    meeting.updated_at = utcnow()
    await db.flush()
    detail = {"change": "moved", "starts_at": starts_at.isoformat(), "place": meeting.place}
    await _tell_reminded(db, meeting, detail)
    await _plan_reminders(db, meeting)


async def cancel_meeting(db: AsyncSession, meeting: Meeting) -> None:
    if meeting.status == "cancelled":
        return
    await _stop_reminders(db, meeting.id, "meeting cancelled")
    meeting.status, meeting.updated_at = "cancelled", utcnow()
    detail = {"change": "cancelled", "starts_at": meeting.starts_at.isoformat()}
    await _tell_reminded(db, meeting, detail)


async def record_answer(
    db: AsyncSession, *, meeting_id: int, contact_id: int, attending: bool
) -> None:
    """The member's answer; a later answer replaces an earlier one."""
    existing = await db.get(MeetingAnswer, (meeting_id, contact_id))
    if existing is None:
        db.add(MeetingAnswer(meeting_id=meeting_id, contact_id=contact_id, attending=attending))
    else:
        existing.attending, existing.answered_at = attending, utcnow()


async def answer_counts(db: AsyncSession, meeting_id: int) -> dict[str, int]:
    rows = await db.execute(
        select(MeetingAnswer.attending, func.count())
        .where(MeetingAnswer.meeting_id == meeting_id)
        .group_by(MeetingAnswer.attending)
    )
    counts = {"yes": 0, "no": 0}
    for attending, count in rows.all():
        counts["yes" if attending else "no"] = count
    return counts


def _parse_button(value: str | None) -> tuple[int, str] | None:
    parts = (value or "").split(":")
    if len(parts) == 3 and parts[0] == "rsvp" and parts[1].isdigit() and parts[2] in ANSWERS:
        return int(parts[1]), parts[2]
    return None


@lru_cache(maxsize=8)
def _answer_words(catalogs: Catalogs, languages: tuple[str, ...]) -> dict[str, str]:
    """Folded word -> answer: "1"/"2" (the numbers SMS shows) and the yes/no words of every
    deployment language; built once, not on every first message."""
    words = {"1": RSVP_YES, "2": RSVP_NO}
    for answer, listed in ((RSVP_YES, msg("keyword.yes")), (RSVP_NO, msg("keyword.no"))):
        for word in catalogs.words_in(languages, listed):
            words.setdefault(fold(word), answer)
    return words


def _bare_answer(message: InboundMessage, catalogs: Catalogs, languages: list[str]) -> str | None:
    """A bare answer: a number, "#1"/"#2" (WhatsApp buttons), or a yes/no word."""
    said = fold(message.button or message.text or "").strip().lstrip("#")
    return _answer_words(catalogs, tuple(languages)).get(said)


async def answer_for_meeting(
    db: AsyncSession,
    contact: ContactRecord,
    message: InboundMessage,
    *,
    catalogs: Catalogs,
    languages: list[str],
    in_conversation: bool,
) -> tuple[str, dict[str, Any]] | None:
    """The RSVP flow to start when a message answers a meeting reminder: a reminder's own
    button at any time; outside a conversation, a bare yes/no or 1/2 to a reminder this
    contact received in the last two days for a meeting still to come."""
    pressed = _parse_button(message.button)
    if pressed is not None:
        meeting_id, answer = pressed
    elif in_conversation:
        return None
    else:
        bare = _bare_answer(message, catalogs, languages)
        if bare is None:
            return None
        answer = bare
        now = utcnow()
        meeting_id = await db.scalar(
            select(Dispatch.meeting_id)
            .join(OutboxMessage, OutboxMessage.dispatch_id == Dispatch.id)
            .join(Meeting, Meeting.id == Dispatch.meeting_id)
            .where(
                OutboxMessage.contact_id == contact.id,
                OutboxMessage.status == "sent",
                OutboxMessage.sent_at > now - ANSWER_WITHIN,
                Dispatch.kind == "reminder",
                Meeting.starts_at > now,
                Meeting.status == "scheduled",
            )
            .order_by(OutboxMessage.sent_at.desc())
            .limit(1)
        )
        if meeting_id is None:
            return None
    return RSVP_FLOW, {"meeting": str(meeting_id), "attending": answer}
