"""An in-memory snapshot of the deployment's directory, refreshed when it changes.

Every message needs categories, area names and coverage; reading them from the
database each time would cost more than the rest of the step. The snapshot is
immutable and replaced as a whole when an import bumps the deployment revision.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    Area,
    Category,
    Deployment,
    Forum,
    ForumArea,
    ForumStaff,
    ProtectionUnit,
    RoutingRule,
    StaffUser,
    Topic,
    UnitArea,
)
from bot.text import fold
from channels.base import ChannelTemplates, Template


def pick_name(names: dict[str, str], language: str, fallback: str) -> str:
    return names.get(language) or names.get(fallback) or next(iter(names.values()), "")


@dataclass(frozen=True)
class AreaInfo:
    id: int
    key: str
    parent_id: int | None
    level: str
    names: dict[str, str]
    aliases: tuple[str, ...]
    timezone: str | None
    latitude: float | None
    longitude: float | None
    quiet_hours: str | None = None


@dataclass(frozen=True)
class ServicePoint:
    """A forum or a protection unit: somewhere a case can be routed to."""

    id: int
    key: str
    kind: str
    names: dict[str, str]
    latitude: float | None
    longitude: float | None
    radius_km: float | None
    notify_address: str | None = None
    # Protection units: who to call and where to go, for a survivor's own use.
    hotlines: tuple[tuple[str, str], ...] = ()
    places: tuple[tuple[str, str, str], ...] = ()  # name, kind, contact


@dataclass(frozen=True)
class CategoryInfo:
    id: int
    key: str
    names: dict[str, str]
    routes_to: str


@dataclass(frozen=True)
class Rule:
    category_id: int | None
    area_id: int | None
    forum_id: int | None
    unit_id: int | None


@dataclass(frozen=True)
class Directory:
    revision: int
    name: str
    languages: tuple[str, ...]
    default_language: str
    programme_queue: str
    areas: dict[int, AreaInfo]
    categories: tuple[CategoryInfo, ...]
    forums: dict[int, ServicePoint]
    units: dict[int, ServicePoint]
    forum_coverage: dict[int, tuple[int, ...]]
    unit_coverage: dict[int, tuple[int, ...]]
    rules: tuple[Rule, ...]
    # Telegram user hash of a chair -> the forums they chair (for chair commands).
    chairs: dict[str, tuple[int, ...]] = field(default_factory=dict)
    # Per channel: the provider templates the deployment configured (WhatsApp).
    templates: dict[str, ChannelTemplates] = field(default_factory=dict)
    # The protection flow's discreet entry words: folded word -> its language.
    entry_words: dict[str, str] = field(default_factory=dict)
    # Subjects of awareness messages people can subscribe to: id -> names.
    topics: dict[int, dict[str, str]] = field(default_factory=dict)
    areas_by_key: dict[str, AreaInfo] = field(init=False)
    categories_by_key: dict[str, CategoryInfo] = field(init=False)
    categories_by_id: dict[int, CategoryInfo] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "areas_by_key", {a.key: a for a in self.areas.values()})
        object.__setattr__(self, "categories_by_key", {c.key: c for c in self.categories})
        object.__setattr__(self, "categories_by_id", {c.id: c for c in self.categories})

    def entry_word(self, language: str) -> str | None:
        """The discreet word that opens the protection flow, for telling a person how to
        come back: theirs, else the default language's, else none."""
        for wanted in (language, self.default_language):
            for word, word_language in self.entry_words.items():
                if word_language == wanted:
                    return word
        return None

    def localized(self, names: dict[str, str], language: str) -> str:
        return pick_name(names, language, self.default_language)

    def ancestors(self, area_id: int) -> list[int]:
        """The area itself, then its parent, up to the root (cycle-safe)."""
        chain: list[int] = []
        current: int | None = area_id
        while current is not None and current not in chain and current in self.areas:
            chain.append(current)
            current = self.areas[current].parent_id
        return chain

    def descendants(self, area_id: int) -> list[int]:
        """The area and every area below it."""
        return [a for a in self.areas if area_id in self.ancestors(a)]

    @property
    def home_timezone(self) -> str:
        """The zone of contacts whose area is unknown: the first area that names one."""
        return next((a.timezone for a in self.areas.values() if a.timezone), "UTC")

    @property
    def timezones(self) -> list[str]:
        """Every zone a contact can be in (each area's, and that of unknown areas)."""
        return sorted({self.timezone_of(a) for a in self.areas} | {self.home_timezone})

    def timezone_of(self, area_id: int | None) -> str:
        """An area's time zone, inherited from the nearest area above that names one."""
        for ancestor in self.ancestors(area_id) if area_id is not None else []:
            if zone := self.areas[ancestor].timezone:
                return zone
        return self.home_timezone

    def quiet_hours_of(self, area_id: int | None) -> str | None:
        """An area's quiet hours ("21:00-07:00"), inherited like its time zone; None
        when no area above sets them (the settings' default applies)."""
        for ancestor in self.ancestors(area_id) if area_id is not None else []:
            if hours := self.areas[ancestor].quiet_hours:
                return hours
        return None

    def area_label(self, area_id: int, language: str) -> str:
        area = self.areas[area_id]
        label = self.localized(area.names, language)
        if area.parent_id is not None and area.parent_id in self.areas:
            label += f" ({self.localized(self.areas[area.parent_id].names, language)})"
        return label


EMPTY = Directory(
    revision=0,
    name="",
    languages=("en",),
    default_language="en",
    programme_queue="programme",
    areas={},
    categories=(),
    forums={},
    units={},
    forum_coverage={},
    unit_coverage={},
    rules=(),
)


async def load_directory(db: AsyncSession) -> Directory:
    deployment = (await db.execute(select(Deployment))).scalars().first()
    if deployment is None:
        return EMPTY
    areas = {
        a.id: AreaInfo(
            a.id,
            a.key,
            a.parent_id,
            a.level,
            dict(a.names),
            tuple(a.aliases or ()),
            a.timezone,
            a.latitude,
            a.longitude,
            a.quiet_hours,
        )
        for a in (await db.execute(select(Area))).scalars()
    }
    categories = tuple(
        CategoryInfo(c.id, c.key, dict(c.names), c.routes_to)
        for c in (
            await db.execute(
                select(Category).where(Category.active).order_by(Category.position, Category.id)
            )
        ).scalars()
    )
    forums = {
        f.id: ServicePoint(
            f.id,
            f.key,
            "forum",
            dict(f.names),
            f.latitude,
            f.longitude,
            f.service_radius_km,
            f.notify_address,
        )
        for f in (await db.execute(select(Forum).where(Forum.active))).scalars()
    }
    units = {
        u.id: ServicePoint(
            u.id,
            u.key,
            "unit",
            dict(u.names),
            u.latitude,
            u.longitude,
            u.service_radius_km,
            u.notify_address,
            hotlines=tuple((h["name"], h["number"]) for h in u.hotlines or ()),
            places=tuple(
                (p["name"], p.get("kind") or "other", p.get("contact") or "")
                for p in u.places or ()
            ),
        )
        for u in (await db.execute(select(ProtectionUnit).where(ProtectionUnit.active))).scalars()
    }
    forum_coverage: dict[int, list[int]] = defaultdict(list)
    for row in (await db.execute(select(ForumArea).order_by(ForumArea.forum_id))).scalars():
        if row.forum_id in forums:
            forum_coverage[row.area_id].append(row.forum_id)
    unit_coverage: dict[int, list[int]] = defaultdict(list)
    for link in (await db.execute(select(UnitArea).order_by(UnitArea.unit_id))).scalars():
        if link.unit_id in units:
            unit_coverage[link.area_id].append(link.unit_id)
    rules = tuple(
        Rule(r.category_id, r.area_id, r.forum_id, r.unit_id)
        for r in (await db.execute(select(RoutingRule).order_by(RoutingRule.position))).scalars()
    )
    chairs: dict[str, list[int]] = defaultdict(list)
    chair_rows = await db.execute(
        select(StaffUser.telegram_hash, ForumStaff.forum_id)
        .join(ForumStaff, ForumStaff.staff_id == StaffUser.id)
        .where(
            ForumStaff.role == "chair",
            StaffUser.active.is_(True),
            StaffUser.telegram_hash.is_not(None),
        )
        .order_by(ForumStaff.forum_id)
    )
    for telegram_hash, forum_id in chair_rows.all():
        if telegram_hash and forum_id in forums:
            chairs[telegram_hash].append(forum_id)
    return Directory(
        revision=deployment.revision,
        name=deployment.name,
        languages=tuple(deployment.languages),
        default_language=deployment.default_language,
        programme_queue=deployment.programme_queue,
        areas=areas,
        categories=categories,
        forums=forums,
        units=units,
        forum_coverage={k: tuple(v) for k, v in forum_coverage.items()},
        unit_coverage={k: tuple(v) for k, v in unit_coverage.items()},
        rules=rules,
        chairs={k: tuple(v) for k, v in chairs.items()},
        templates=channel_templates(deployment.whatsapp),
        topics={
            t.id: dict(t.names)
            for t in (
                await db.execute(select(Topic).where(Topic.active).order_by(Topic.id))
            ).scalars()
        },
        entry_words={
            fold(word): language
            for language, words in ((deployment.protection or {}).get("entry_words") or {}).items()
            for word in words
        },
    )


def channel_templates(whatsapp: dict[str, Any] | None) -> dict[str, ChannelTemplates]:
    """The deployment file's ``whatsapp`` section, as the sender hands it to the channel."""
    if not whatsapp:
        return {}
    return {
        "whatsapp": ChannelTemplates(
            by_kind={
                (t["kind"], t["language"]): Template(t["content_sid"], dict(t["variables"]))
                for t in whatsapp.get("templates", [])
            },
            menus={int(n): sid for n, sid in whatsapp.get("quick_replies", {}).items()},
        )
    }


class DirectoryCache:
    """Keeps one snapshot per process; checks the revision at most every ``ttl`` seconds."""

    def __init__(self, ttl: float = 10.0) -> None:
        self.ttl = ttl
        self._snapshot: Directory | None = None
        self._checked = 0.0

    def invalidate(self) -> None:
        self._snapshot = None

    async def get(self, db: AsyncSession) -> Directory:
        now = time.monotonic()
        if self._snapshot is not None and now - self._checked < self.ttl:
            return self._snapshot
        revision = (await db.execute(select(Deployment.revision))).scalar()
        if self._snapshot is None or revision != self._snapshot.revision:
            self._snapshot = await load_directory(db)
        self._checked = now
        return self._snapshot
