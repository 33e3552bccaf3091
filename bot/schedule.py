"""Calendar arithmetic in local time: weekly campaign slots and reminder times.

Kept apart from the engine because it is pure and easy to get wrong around midnight
and daylight-saving changes: tested on its own.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Weekly(Protocol):
    weekday: int  # 0 Monday ... 6 Sunday
    minute_of_day: int


def next_weekly_slot(now: datetime, zone: str, weekly: Weekly) -> datetime:
    """The first local ``weekday`` at ``minute_of_day`` at or after ``now``, in UTC."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    hour, minute = divmod(weekly.minute_of_day, 60)
    days = (weekly.weekday - local.weekday()) % 7
    for extra in (0, 7):
        day = local.date() + timedelta(days=days + extra)
        slot = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz).astimezone(UTC)
        if slot >= now.replace(microsecond=0) - timedelta(seconds=1):
            return slot
    raise AssertionError("a week always has the weekday")  # pragma: no cover


def reminder_times(starts_at: datetime, minutes_before: list[int]) -> list[tuple[int, datetime]]:
    """Each reminder offset and when it is due, earliest first."""
    return sorted(
        ((m, starts_at - timedelta(minutes=m)) for m in set(minutes_before)),
        key=lambda pair: pair[1],
    )
