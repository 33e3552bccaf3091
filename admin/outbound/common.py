"""What the broadcasts, meetings and campaigns desks share: refusals with their status
codes, keys read into ids, local times read into instants, and progress figures.

Refusals are ``HTTPException``s: the API answers them as they are, and the pages
turn a 403 or 404 into the not-found page and anything else into a message on the
form, so both doors refuse the same things with the same words.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from fastapi import HTTPException, status
from sqlalchemy.ext.asyncio import AsyncSession

from admin.outbound.schemas import Progress
from bot.broadcasts import dispatch_progress
from bot.directory import Directory

# A time this far in the past is a mistake, not "now" (a form filled in slowly is fine).
PAST_TOLERANCE_SECONDS = 300


def forbidden(what: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, what)


def not_found(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no such {what}")


def unprocessable(why: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, why)


def conflict(why: str) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, why)


def forum_id(directory: Directory, key: str | None) -> int:
    found = next((f.id for f in directory.forums.values() if f.key == key), None)
    if found is None:
        raise unprocessable(f"no forum with the key {key!r}" if key else "choose a forum")
    return found


def area_id(directory: Directory, key: str | None) -> int:
    area = directory.areas_by_key.get(key or "")
    if area is None:
        raise unprocessable(f"no area with the key {key!r}" if key else "choose an area")
    return area.id


def instant(value: datetime, zone: str) -> datetime:
    """An aware datetime as it is; a naive one read as wall-clock time in ``zone``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(zone))
    return value.astimezone(UTC)


def not_past(moment: datetime, now: datetime, what: str) -> None:
    if (now - moment).total_seconds() > PAST_TOLERANCE_SECONDS:
        raise unprocessable(f"{what} is in the past")


async def progress(db: AsyncSession, dispatch_ids: list[int], state: str) -> Progress:
    """The outbox's figures for some dispatches, as the API shows them."""
    found = await dispatch_progress(db, dispatch_ids, state)
    return Progress(**asdict(found), done_share=round(found.done_share, 4))
