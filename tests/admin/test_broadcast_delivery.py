"""Broadcasts from the staff API to people's phones: the real dispatcher and sender, the
real python-telegram-bot and twilio clients, the fake Telegram and Twilio servers, on
SQLite and PostgreSQL.

Each member is reached once, in their language, on their channel; the progress the
API reports is the outbox's; cancelling stops what has not gone; a scheduled one waits
for its time; quiet hours hold a message without losing it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from bot import privacy
from bot.contacts import urn_hash
from bot.models import Area, Contact, Dispatch, OutboxMessage, StaffUser
from bot.models.base import utcnow
from bot.ratelimit import KeyedLimiter, Limit
from bot.services import Services
from bot.staff import hash_password
from bot.urns import parse
from channels.telegram import TelegramChannel
from tests import support
from tests.admin.conftest import PASSWORD, Staff, token_for
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio, signed

PUBLIC = "https://bot.example.org"
TELEGRAM_MEMBER = 6100001
SMS_MEMBER, WHATSAPP_MEMBER, STOPPED_MEMBER = "+254722100001", "+254722100002", "+254722100003"
DEMO_MEMBERS = ("+254700000101", "+254700000102")  # the demo's own, reading the default
KAKUMA = tuple(f"+25472210010{n}" for n in range(6))
NIGHT_OWL = "+254722100200"  # lives in Kakuma, whose quiet hours are now
TEXTS = {
    "en": "The community hall is open for the vaccination day on Saturday.",
    "fr": "La salle communautaire est ouverte samedi pour la journée de vaccination.",
    "pt": "O salão comunitário está aberto no sábado para o dia de vacinação.",
}


def quiet_now() -> str:
    """Quiet hours around this moment in Kakuma's time zone (the test runs inside them)."""
    local = datetime.now(ZoneInfo("Africa/Nairobi"))
    start, end = local - timedelta(hours=1), local + timedelta(hours=2)
    return f"{start:%H:%M}-{end:%H:%M}"


def with_members(data: dict[str, Any]) -> None:
    for forum in data["forums"]:
        if forum["key"] == "eastleigh-cpf":
            forum["members"] = [
                f"telegram:{TELEGRAM_MEMBER}",
                *(f"tel:{n}" for n in (SMS_MEMBER, STOPPED_MEMBER, *DEMO_MEMBERS)),
                f"whatsapp:{WHATSAPP_MEMBER}",
            ]
        if forum["key"] == "kakuma-cpf":
            forum["members"] = [f"tel:{n}" for n in (*KAKUMA, NIGHT_OWL)]
    for area in data["areas"]:
        if area["key"] == "ke-kakuma":
            area["quiet_hours"] = quiet_now()


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[FakeTelegram, FakeTwilio]]:
    with FakeTelegram() as telegram, FakeTwilio() as twilio:
        yield telegram, twilio


@pytest.fixture(scope="module")
async def app(
    backend: str,
    fakes: tuple[FakeTelegram, FakeTwilio],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[FastAPI]:
    telegram, twilio = fakes
    tmp = tmp_path_factory.mktemp(f"delivery-{backend}")
    async with support.serving(
        backend,
        tmp,
        support.demo_with(tmp, with_members),
        PUBLIC_BASE_URL=PUBLIC,
        TELEGRAM_BOT_TOKEN=telegram.token,
        TELEGRAM_API_URL=telegram.url,
        TWILIO_ACCOUNT_SID=twilio.account_sid,
        TWILIO_AUTH_TOKEN=twilio.auth_token,
        TWILIO_SMS_FROM="+254711000000",
        TWILIO_WHATSAPP_FROM="whatsapp:+14155238886",
        TWILIO_API_URL=twilio.url,
        TWILIO_SMS_RATE=1000,
        TWILIO_WHATSAPP_RATE=1000,
    ) as started:
        yield started


@dataclass
class World:
    services: Services
    telegram: FakeTelegram
    twilio: FakeTwilio
    client: httpx.AsyncClient
    admin: Staff

    async def deliver(self) -> None:
        await support.deliver_all(self.services, ("telegram", "sms", "whatsapp"))

    async def deliver_once(self) -> None:
        """One tick and one sending pass: for when a message is meant to go on waiting."""
        await self.services.dispatcher().tick()
        await self.services.sender().drain()

    async def outbox(self, broadcast_id: int) -> Counter[tuple[str, str | None]]:
        """The broadcast's rows by status and reason, straight from the table."""
        async with self.services.sessions() as db:
            rows = await db.execute(
                select(OutboxMessage.status, OutboxMessage.last_error, func.count())
                .join(Dispatch, Dispatch.id == OutboxMessage.dispatch_id)
                .where(Dispatch.broadcast_id == broadcast_id)
                .group_by(OutboxMessage.status, OutboxMessage.last_error)
            )
            return Counter({(state, why): n for state, why, n in rows.all()})

    async def progress(self, broadcast_id: int) -> dict[str, Any]:
        response = await self.admin.get(f"/api/v1/broadcasts/{broadcast_id}")
        assert response.status_code == 200, response.text
        figures: dict[str, Any] = response.json()["progress"]
        return figures


async def set_contact(services: Services, urn: str, **values: Any) -> None:
    fresh = {"opted_out": False, "language": None, "last_inbound_at": None, "area_id": None}
    async with services.sessions() as db, db.begin():
        await db.execute(
            update(Contact)
            .where(Contact.urn_hash == urn_hash(parse(urn)))
            .values(**{**fresh, **values})
        )


@pytest.fixture
async def world(app: FastAPI, fakes: tuple[FakeTelegram, FakeTwilio]) -> AsyncIterator[World]:
    services: Services = app.state.services
    privacy.configure(services.settings.resolve_data_key())
    await support.wipe_activity(services)
    telegram, twilio = fakes
    telegram.reset()
    twilio.reset()
    channel = services.channels["telegram"]
    assert isinstance(channel, TelegramChannel)
    channel.limiter = KeyedLimiter(Limit(10_000, 1.0), lambda _: Limit(10_000, 1.0))
    async with services.sessions() as db, db.begin():
        await db.execute(
            update(StaffUser)
            .where(StaffUser.email.in_(("programme@baraza.example", "peter@baraza.example")))
            .values(password_hash=hash_password(PASSWORD), active=True)
        )
    await set_contact(services, f"telegram:{TELEGRAM_MEMBER}", language="en")
    await set_contact(services, f"tel:{SMS_MEMBER}", language="fr")
    # Wrote an hour ago: WhatsApp's 24-hour window is open, the text goes freeform.
    await set_contact(
        services,
        f"whatsapp:{WHATSAPP_MEMBER}",
        language="pt",
        last_inbound_at=utcnow() - timedelta(hours=1),
    )
    await set_contact(services, f"tel:{STOPPED_MEMBER}", language="fr", opted_out=True)
    for number in (*DEMO_MEMBERS, *KAKUMA, NIGHT_OWL):
        await set_contact(services, f"tel:{number}")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        admin = Staff(client, await token_for(client, "programme@baraza.example"))
        yield World(services, telegram, twilio, client, admin)


async def broadcast(world: World, forum: str = "eastleigh-cpf", **extra: Any) -> int:
    body = {"audience": "forum", "forum": forum, "texts": TEXTS, "fallback_language": "en"}
    response = await world.admin.post("/api/v1/broadcasts", json={**body, **extra})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def test_three_languages_each_member_once_and_the_progress_is_the_outbox_s(
    world: World,
) -> None:
    broadcast_id = await broadcast(world)
    await world.deliver()
    await world.deliver()  # a second pass (a retry, a restart) sends nothing again
    await world.services.dispatcher().tick()  # nothing waits: the dispatch is done

    frame = "Announcement from Eastleigh Community Policing Forum:\n"
    assert world.telegram.texts(TELEGRAM_MEMBER) == [frame + TEXTS["en"]]
    [french] = world.twilio.bodies(SMS_MEMBER)
    assert french == "Annonce de Forum de police de proximité d'Eastleigh :\n" + TEXTS["fr"]
    [portuguese] = world.twilio.bodies(f"whatsapp:{WHATSAPP_MEMBER}")
    assert portuguese.endswith(TEXTS["pt"]) and "Eastleigh" in portuguese
    for number in DEMO_MEMBERS:
        assert world.twilio.bodies(number) == [frame + TEXTS["en"]]
    assert world.twilio.bodies(STOPPED_MEMBER) == []

    figures = await world.progress(broadcast_id)
    assert figures == {
        "status": "done", "queued": 6, "waiting": 0, "sent": 5, "delivered": 0, "failed": 0,
        "held": 0, "skipped": {"contact stopped": 1}, "done_share": 1.0,
    }  # fmt: skip
    assert await world.outbox(broadcast_id) == Counter(
        {("sent", None): 5, ("skipped", "contact stopped"): 1}
    )

    # Twilio reports the French SMS delivered: the progress counts it.
    [sent] = world.twilio.to(SMS_MEMBER)
    callback = world.twilio.set_status(sent.sid, "delivered")
    path = "/webhooks/twilio/status"
    headers = signed(PUBLIC + path, callback, world.twilio.auth_token)
    answer = await world.client.post(path, content=urlencode(callback), headers=headers)
    assert answer.status_code == 204
    assert (await world.progress(broadcast_id))["delivered"] == 1


async def test_cancel_stops_what_has_not_gone(world: World) -> None:
    broadcast_id = await broadcast(world, "kakuma-cpf")
    await world.services.dispatcher().tick()  # all seven queued
    first = urn_hash(parse(f"tel:{KAKUMA[0]}"))
    assert await world.services.sender().drain_once("sms", first) == 1  # one is out
    cancelled = await world.admin.post(f"/api/v1/broadcasts/{broadcast_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    await world.deliver()

    reached = [n for n in (*KAKUMA, NIGHT_OWL) if world.twilio.bodies(n)]
    assert reached == [KAKUMA[0]]
    figures = await world.progress(broadcast_id)
    assert (figures["queued"], figures["sent"], figures["waiting"]) == (7, 1, 0)
    assert figures["skipped"] == {"cancelled": 6} and figures["done_share"] == 1.0
    assert await world.outbox(broadcast_id) == Counter(
        {("sent", None): 1, ("skipped", "cancelled"): 6}
    )
    again = await world.admin.post(f"/api/v1/broadcasts/{broadcast_id}/cancel")
    assert again.status_code == 409


async def test_a_scheduled_broadcast_waits_for_its_time(world: World) -> None:
    due = utcnow() + timedelta(seconds=1.5)
    broadcast_id = await broadcast(world, send_at=due.isoformat())
    await world.deliver()
    assert world.telegram.texts(TELEGRAM_MEMBER) == []
    assert (await world.progress(broadcast_id))["status"] == "scheduled"
    await asyncio.sleep(max(0.0, (due - utcnow()).total_seconds()) + 0.1)
    await world.deliver()
    assert len(world.telegram.texts(TELEGRAM_MEMBER)) == 1
    assert (await world.progress(broadcast_id))["sent"] == 5


async def test_quiet_hours_hold_a_message_and_an_urgent_one_goes(world: World) -> None:
    async with world.services.sessions() as db:
        kakuma = await db.scalar(select(Area.id).where(Area.key == "ke-kakuma"))
    await set_contact(world.services, f"tel:{NIGHT_OWL}", area_id=kakuma)
    calm = await broadcast(world, "kakuma-cpf")
    await world.deliver_once()
    figures = await world.progress(calm)
    assert (figures["queued"], figures["sent"], figures["waiting"]) == (7, 6, 1)
    assert world.twilio.bodies(NIGHT_OWL) == []
    async with world.services.sessions() as db:
        waiting = await db.scalar(
            select(OutboxMessage.next_attempt_at).where(
                OutboxMessage.dispatch_id.in_(
                    select(Dispatch.id).where(Dispatch.broadcast_id == calm)
                ),
                OutboxMessage.status == "pending",
            )
        )
    assert waiting is not None and waiting > utcnow() + timedelta(minutes=90)  # the morning
    urgent = await broadcast(world, "kakuma-cpf", urgent=True)
    await world.deliver_once()
    assert len(world.twilio.bodies(NIGHT_OWL)) == 1
    assert (await world.progress(urgent))["sent"] == 7
