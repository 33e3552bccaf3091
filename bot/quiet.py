"""Quiet hours: when a non-urgent message must wait for the morning.

A window is local time ("21:00-07:00") in the recipient's area; it may wrap past
midnight. ``release_at`` answers the one question the dispatcher and the sender ask:
"if I wanted to send this now, when may it go?", as a UTC instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from bot.directory import Directory


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
        return cls(start, end)

    def covers(self, moment: time) -> bool:
        if self.start == self.end:
            return False  # "00:00-00:00": no quiet hours
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def release_at(self, now: datetime, zone: str) -> datetime:
        """``now`` if a message may go now, else when the quiet hours end (UTC)."""
        local = now.astimezone(_zone(zone))
        if not self.covers(local.time()):
            return now
        end = datetime.combine(local.date(), self.end, tzinfo=local.tzinfo)
        if end <= local:
            end += timedelta(days=1)
        # Through UTC, so a day of 23 or 25 hours lands on the right wall-clock time.
        return end.replace(tzinfo=None).replace(tzinfo=_zone(zone)).astimezone(UTC)


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=64)
def parse_quiet_hours(text: str) -> QuietHours:
    return QuietHours.parse(text)


def may_send_at(d: Directory, area_id: int | None, now: datetime, default_hours: str) -> datetime:
    """When a non-urgent message to someone in ``area_id`` may go: ``now``, or the end of
    their area's quiet hours (the area's own, inherited, else ``default_hours``)."""
    window = parse_quiet_hours(d.quiet_hours_of(area_id) or default_hours)
    return window.release_at(now, d.timezone_of(area_id))
