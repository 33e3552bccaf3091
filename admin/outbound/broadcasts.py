"""Broadcasts for staff: preview, send or schedule, list, read with live progress, cancel.

Admins reach any audience (a forum's members, an area and everything below it, all
subscribers). A forum chair reaches only the members of the forums they chair (as
their /announce on Telegram does); any other audience is refused (403). Chairs and
focal points read their forums' broadcasts; viewers and protection officers have none
(403). A broadcast outside someone's forums is not found (404), as a case outside
them is.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from sqlalchemy import ColumnElement, Join, and_, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import outerjoin

from admin.audit import audit
from admin.outbound.common import (
    area_id,
    conflict,
    forbidden,
    forum_id,
    instant,
    not_found,
    not_past,
    progress,
    unprocessable,
)
from admin.outbound.schemas import (
    BroadcastDetail,
    BroadcastPage,
    BroadcastPreview,
    BroadcastSummary,
    BroadcastWrite,
)
from admin.scope import Scope
from bot.broadcasts import BroadcastDraft, BroadcastError, cancel_broadcast, create_broadcast
from bot.broadcasts import preview as preview_draft
from bot.directory import Directory
from bot.dispatch_texts import DispatchTexts
from bot.dispatcher import LIVE
from bot.meetings import forum_timezone
from bot.models import Broadcast, Dispatch, StaffUser
from bot.models.base import utcnow
from bot.services import Services

EXCERPT = 80


def _reader(scope: Scope) -> None:
    if not scope.reads_forum_news:
        raise forbidden("your role cannot see broadcasts")


def _sender(scope: Scope) -> None:
    if not scope.broadcasts:
        raise forbidden("your role cannot send broadcasts")


def visible(scope: Scope) -> ColumnElement[bool]:
    """The broadcasts this person may read: all for admins, else their forums'."""
    if scope.is_admin:
        return true()
    return and_(Broadcast.audience == "forum", Broadcast.forum_id.in_(scope.forum_ids))


def draft_of(body: BroadcastWrite, scope: Scope, d: Directory) -> BroadcastDraft:
    """The engine's draft of what was asked, once this person may ask it (403, 422)."""
    _sender(scope)
    if not scope.is_admin and body.audience != "forum":
        raise forbidden("a forum chair broadcasts to the members of the forums they chair only")
    forum = forum_id(d, body.forum) if body.audience == "forum" else None
    area = area_id(d, body.area) if body.audience == "area" else None
    if not scope.broadcasts_to(forum):
        raise forbidden("a forum chair broadcasts to the members of the forums they chair only")
    if unknown := set(body.languages) - set(d.languages):
        raise unprocessable(f"not a language of this deployment: {', '.join(sorted(unknown))}")
    send_at = None
    if body.send_at is not None:
        if forum is not None:
            zone = forum_timezone(forum, d)
        else:
            zone = d.timezone_of(area) if area is not None else d.home_timezone
        send_at = instant(body.send_at, zone)
        not_past(send_at, utcnow(), "the sending time")
    return BroadcastDraft(
        audience=body.audience,
        texts=dict(body.texts),
        fallback_language=body.fallback_language,
        forum_id=forum,
        area_id=area,
        languages=tuple(body.languages),
        channels=tuple(body.channels),
        urgent=body.urgent,
        send_at=send_at,
    )


async def preview(
    db: AsyncSession, services: Services, scope: Scope, body: BroadcastWrite
) -> BroadcastPreview:
    """Who it would reach, in which language and channel, its SMS cost and how long."""
    d = await services.runtime.directories.get(db)
    draft = draft_of(body, scope, d)
    texts = DispatchTexts(services.runtime.catalogs)
    try:
        figures = await preview_draft(
            db, draft, directory=d, texts=texts, rates=services.send_rates()
        )
    except BroadcastError as exc:
        raise unprocessable(str(exc)) from None
    return BroadcastPreview(**asdict(figures))


async def send(
    db: AsyncSession, services: Services, scope: Scope, body: BroadcastWrite, client: str | None
) -> BroadcastDetail:
    """Store the broadcast, audited; the dispatcher sends it now or at ``send_at``."""
    d = await services.runtime.directories.get(db)
    draft = draft_of(body, scope, d)
    try:
        broadcast = await create_broadcast(db, draft, directory=d, staff_id=scope.staff.id)
    except BroadcastError as exc:
        raise unprocessable(str(exc)) from None
    when = "now" if draft.send_at is None else broadcast.send_at.isoformat()
    await audit(
        db,
        "broadcast_create",
        staff=scope.staff,
        target=f"broadcast:{broadcast.id}",
        detail=f"{_to(broadcast, d, 'en')}; {when}",
        client=client,
    )
    await db.commit()
    services.wake_dispatcher()  # now, or a timer for its time if that comes before a tick
    return await detail(db, services, scope, broadcast.id)


async def listing(
    db: AsyncSession, services: Services, scope: Scope, *, page: int, per_page: int
) -> BroadcastPage:
    """Newest first, with each one's state and how many messages it has queued."""
    _reader(scope)
    d = await services.runtime.directories.get(db)
    total = await db.scalar(select(func.count()).select_from(Broadcast).where(visible(scope)))
    rows = await db.execute(
        select(Broadcast, Dispatch.status, Dispatch.queued, StaffUser.name)
        .select_from(_with_state())
        .where(visible(scope))
        .order_by(Broadcast.created_at.desc(), Broadcast.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    items = [
        _summary(b, state, queued, by, d, scope.staff.language)
        for b, state, queued, by in rows.all()
    ]
    return BroadcastPage(items=items, total=total or 0, page=page, per_page=per_page)


async def find(db: AsyncSession, scope: Scope, broadcast_id: int) -> Broadcast:
    _reader(scope)
    found = await db.scalar(select(Broadcast).where(Broadcast.id == broadcast_id, visible(scope)))
    if found is None:
        raise not_found("broadcast")
    return found


async def detail(
    db: AsyncSession, services: Services, scope: Scope, broadcast_id: int
) -> BroadcastDetail:
    """One broadcast, its texts and its progress as the outbox has it now."""
    broadcast = await find(db, scope, broadcast_id)
    d = await services.runtime.directories.get(db)
    row = (
        await db.execute(
            select(Dispatch.id, Dispatch.status, Dispatch.queued, StaffUser.name)
            .select_from(_with_state())
            .where(Broadcast.id == broadcast.id)
        )
    ).one()
    summary = _summary(broadcast, row.status, row.queued, row.name, d, scope.staff.language)
    ids = [row.id] if row.id is not None else []
    return BroadcastDetail(
        **summary.model_dump(),
        texts=json.loads(broadcast.texts),
        fallback_language=broadcast.fallback_language,
        progress=await progress(db, ids, summary.status),
    )


async def cancel(
    db: AsyncSession, services: Services, scope: Scope, broadcast_id: int, client: str | None
) -> BroadcastDetail:
    """Stop it: nothing more is queued, what waits is skipped; a provider's own go on."""
    _sender(scope)
    broadcast = await find(db, scope, broadcast_id)
    if not scope.broadcasts_to(broadcast.forum_id):
        raise forbidden("a forum chair cancels the broadcasts of the forums they chair only")
    state = await db.scalar(select(Dispatch.status).where(Dispatch.broadcast_id == broadcast.id))
    if broadcast.cancelled_at is not None or state not in LIVE:
        raise conflict(f"this broadcast is already {state or 'cancelled'}")
    not_sent = await cancel_broadcast(db, broadcast_id=broadcast.id)
    await audit(
        db,
        "broadcast_cancel",
        staff=scope.staff,
        target=f"broadcast:{broadcast.id}",
        detail=f"{not_sent} messages not sent",
        client=client,
    )
    await db.commit()
    await db.refresh(broadcast)
    return await detail(db, services, scope, broadcast.id)


def _with_state() -> Join:
    """Broadcasts beside their dispatch and their author."""
    return outerjoin(Broadcast, Dispatch, Dispatch.broadcast_id == Broadcast.id).outerjoin(
        StaffUser, StaffUser.id == Broadcast.created_by_id
    )


def _to(broadcast: Broadcast, d: Directory, language: str) -> str:
    """Who a broadcast is for, in words."""
    if broadcast.audience == "forum" and broadcast.forum_id in d.forums:
        return f"members of {d.localized(d.forums[broadcast.forum_id].names, language)}"
    if broadcast.audience == "area" and broadcast.area_id in d.areas:
        return f"subscribers in {d.area_label(broadcast.area_id, language)} and below"
    return "all subscribers"


def _summary(
    b: Broadcast,
    state: str | None,
    queued: int | None,
    created_by: str | None,
    d: Directory,
    language: str,
) -> BroadcastSummary:
    texts: dict[str, str] = json.loads(b.texts)
    text = texts.get(b.fallback_language) or next(iter(texts.values()), "")
    forum = d.forums.get(b.forum_id) if b.forum_id is not None else None
    area = d.areas.get(b.area_id) if b.area_id is not None else None
    return BroadcastSummary(
        id=b.id,
        audience=b.audience,
        forum=forum.key if forum else None,
        area=area.key if area else None,
        to=_to(b, d, language),
        languages=list(b.languages or []),
        channels=list(b.channels or []),
        excerpt=text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…",
        urgent=b.urgent,
        send_at=b.send_at,
        created_at=b.created_at,
        created_by=created_by,
        cancelled_at=b.cancelled_at,
        status="cancelled" if b.cancelled_at else (state or "cancelled"),
        queued=queued or 0,
    )
