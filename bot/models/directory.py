"""The deployment's directory: where people live and who serves them.

Areas form a hierarchy (country > region > district > community); forums and
protection units cover areas; categories say where a concern goes. All of it is
loaded from the deployment file by ``baraza import`` and read by routing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, Sealed


class Deployment(Base):
    """The one row that holds deployment-wide choices (languages, queue name)."""

    __tablename__ = "deployment"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    languages: Mapped[list[str]] = mapped_column(JSON)
    default_language: Mapped[str] = mapped_column(String(16))
    programme_queue: Mapped[str] = mapped_column(String(200))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # The deployment file's ``whatsapp`` section: templates and quick-reply menus.
    whatsapp: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The deployment file's ``protection`` section: discreet entry words per language.
    protection: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class WebEdited:
    """A directory row staff can edit on the web: which fields were, when and by whom
    (``{"names": "2026-11-21 04:30 UTC by ana@..."}``; "created" for a row made there).
    ``baraza import`` refuses to undo these silently (``bot.deployment.web_edits``)."""

    web_edits: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")


class Area(WebEdited, Base):
    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("areas.id", ondelete="RESTRICT"), index=True
    )
    level: Mapped[str] = mapped_column(String(40))
    names: Mapped[dict[str, str]] = mapped_column(JSON)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    timezone: Mapped[str | None] = mapped_column(String(64))
    quiet_hours: Mapped[str | None] = mapped_column(String(11))  # "21:00-07:00", local
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)


class StaffUser(WebEdited, Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(Sealed)
    address_channel: Mapped[str | None] = mapped_column(String(20))
    # Keyed hash of "telegram:<user id>": how a chair is recognised when they write to
    # the bot, without keeping their Telegram id in the clear.
    telegram_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Marked in the deployment file: a protection case goes to these focal points first.
    female: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class _ServicePoint(WebEdited):
    """What forums and protection units share: a name, a place, a reach."""

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    names: Mapped[dict[str, str]] = mapped_column(JSON)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    service_radius_km: Mapped[float | None] = mapped_column(Float)
    # A chat or group (URN) that gets every case notification, e.g. the forum's
    # Telegram group, besides the focal points' own addresses.
    notify_address: Mapped[str | None] = mapped_column(Sealed)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Forum(_ServicePoint, Base):
    """A community policing forum (or community safety council)."""

    __tablename__ = "forums"


class ForumArea(Base):
    __tablename__ = "forum_areas"

    forum_id: Mapped[int] = mapped_column(
        ForeignKey("forums.id", ondelete="CASCADE"), primary_key=True
    )
    area_id: Mapped[int] = mapped_column(
        ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ForumStaff(Base):
    """A staff user's role in a forum: chair or focal point (focal points get cases)."""

    __tablename__ = "forum_staff"

    forum_id: Mapped[int] = mapped_column(
        ForeignKey("forums.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class ForumMember(Base):
    """A contact who belongs to a forum and receives its news."""

    __tablename__ = "forum_members"

    forum_id: Mapped[int] = mapped_column(
        ForeignKey("forums.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # "deployment" (the file lists them; an import may remove them) or "bot" (they
    # joined themselves; only they can leave).
    source: Mapped[str] = mapped_column(
        String(20), default="deployment", server_default="deployment"
    )


class ProtectionUnit(_ServicePoint, Base):
    """A protection unit (GBV desk, case-management partner) and the help it offers."""

    __tablename__ = "protection_units"

    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    hotlines: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    places: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)  # clinics, safe spaces


class UnitArea(Base):
    __tablename__ = "unit_areas"

    unit_id: Mapped[int] = mapped_column(
        ForeignKey("protection_units.id", ondelete="CASCADE"), primary_key=True
    )
    area_id: Mapped[int] = mapped_column(
        ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class UnitStaff(Base):
    __tablename__ = "unit_staff"

    unit_id: Mapped[int] = mapped_column(
        ForeignKey("protection_units.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class Category(WebEdited, Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    names: Mapped[dict[str, str]] = mapped_column(JSON)
    routes_to: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class RoutingRule(Base):
    """An explicit routing decision from the deployment file, tried before coverage."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    forum_id: Mapped[int | None] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("protection_units.id", ondelete="CASCADE")
    )
