"""SMS and WhatsApp end to end: webhook requests signed with Twilio's real RequestValidator,
replies through the real twilio Client to a fake Twilio REST API, on SQLite and PostgreSQL.

Each test texts from its own phone number, so contacts never meet across tests.
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from bot import privacy
from bot.contacts import urn_hash
from bot.messages import InboundMessage
from bot.models import Case, Contact, Forum, InboundReceipt, OutboxMessage
from bot.models.base import utcnow
from bot.services import Services
from bot.urns import parse
from channels.twilio import TwilioChannel
from tests import support
from tests.fakes.twilio_api import FakeTwilio, signed
from tests.support import wipe_activity

PUBLIC = "https://bot.example.org"
SMS_FROM = "+254711000000"
WHATSAPP_FROM = "whatsapp:+14155238886"
CHAIR = 4343430
_numbers = itertools.count(254733000001)
REFERENCE = re.compile(r"\b([A-Z]{3}-[A-Z]{3})\b")


MEMBER = "+254799000555"
WHATSAPP_MEMBER = "+254799000666"
ANNOUNCEMENT_TEMPLATE = "HX" + "a1" * 16
TWO_BUTTONS = "HX" + "b2" * 16


def with_chair_members_and_templates(data: dict[str, Any]) -> None:
    for staff in data["staff"]:
        if staff["email"] == "peter@baraza.example":
            staff["telegram_user_id"] = CHAIR
    for forum in data["forums"]:
        if forum["key"] == "eastleigh-cpf":
            forum["members"] = [f"tel:{MEMBER}", f"whatsapp:{WHATSAPP_MEMBER}"]
    data["whatsapp"] = {
        "templates": [  # English only: a French member outside the window is held
            {
                "kind": "announcement",
                "language": "en",
                "content_sid": ANNOUNCEMENT_TEMPLATE,
                "variables": {"1": "forum", "2": "announcement"},
            }
        ],
        "quick_replies": {2: TWO_BUTTONS},  # yes/no, anonymous/named
    }


def twilio_settings(fake: FakeTwilio) -> dict[str, Any]:
    """The settings of an app that talks to ``fake`` for SMS and WhatsApp, unthrottled."""
    return {
        "PUBLIC_BASE_URL": PUBLIC,
        **fake.app_env(SMS_FROM),
        "TWILIO_WHATSAPP_FROM": WHATSAPP_FROM,
        "TWILIO_SMS_RATE": 1000,
        "TWILIO_WHATSAPP_RATE": 1000,
    }


@pytest.fixture(scope="session")
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture(scope="session")
async def twilio_app(
    backend: str, fake_twilio: FakeTwilio, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FastAPI]:
    tmp = tmp_path_factory.mktemp(f"twilio-{backend}")
    async with support.serving(
        backend,
        tmp,
        support.demo_with(tmp, with_chair_members_and_templates),
        **twilio_settings(fake_twilio),
    ) as app:
        yield app


@dataclass
class World:
    services: Services
    fake: FakeTwilio
    client: httpx.AsyncClient

    async def post(
        self, path: str, params: dict[str, str], *, token: str | None = None, **headers: str
    ) -> httpx.Response:
        signature = signed(PUBLIC + path, params, token or self.fake.auth_token)
        return await self.client.post(
            path,
            content=urlencode(params),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                **signature,
                **headers,
            },
        )

    async def deliver(self) -> None:
        await support.deliver_all(self.services, ("sms", "whatsapp"))

    async def count(self, model: Any) -> int:
        return await support.count_rows(self.services, model)


@pytest.fixture
async def world(twilio_app: FastAPI, fake_twilio: FakeTwilio) -> AsyncIterator[World]:
    services: Services = twilio_app.state.services
    privacy.configure(services.settings.resolve_data_key())
    await wipe_activity(services)
    fake_twilio.reset()
    # What WhatsApp shows for the templates the deployment names.
    fake_twilio.template(ANNOUNCEMENT_TEMPLATE, "News from {{1}}: {{2}}")
    fake_twilio.template(TWO_BUTTONS, "{{1}}\n\n1 {{2}}\n2 {{3}}")
    for name in ("sms", "whatsapp"):
        channel = services.channels[name]
        assert isinstance(channel, TwilioChannel)
        channel.throttle_seconds = 0.2  # Twilio's 429 has no Retry-After; tests need not wait 2 s
    transport = httpx.ASGITransport(app=twilio_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://10.0.0.5:8000") as client:
        yield World(services, fake_twilio, client)


@dataclass
class Phone:
    world: World
    channel: str = "sms"
    number: str = field(default_factory=lambda: f"+{next(_numbers)}")
    seen: int = 0

    @property
    def address(self) -> str:
        return f"whatsapp:{self.number}" if self.channel == "whatsapp" else self.number

    @property
    def urn(self) -> str:
        return f"whatsapp:{self.number}" if self.channel == "whatsapp" else f"tel:{self.number}"

    def params(self, body: str = "", **extra: str) -> dict[str, str]:
        sid = "SM" + secrets.token_hex(16)
        params = {
            "ToCountry": "KE",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "SmsSid": sid,
            "SmsStatus": "received",
            "Body": body,
            "To": WHATSAPP_FROM if self.channel == "whatsapp" else SMS_FROM,
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": self.world.fake.account_sid,
            "From": self.address,
            "ApiVersion": "2010-04-01",
        }
        if self.channel == "whatsapp":
            params.update(ProfileName="Halima", WaId=self.number.lstrip("+"))
        params.update(extra)
        return params

    async def text(self, body: str = "", **extra: str) -> httpx.Response:
        response = await self.world.post(
            f"/webhooks/twilio/{self.channel}", self.params(body, **extra)
        )
        assert response.status_code == 200, response.text
        return response

    async def replies(self) -> list[str]:
        await self.world.deliver()
        bodies = self.world.fake.bodies(self.address)
        new, self.seen = bodies[self.seen :], len(bodies)
        return new

    async def last(self) -> str:
        replies = await self.replies()
        return replies[-1] if replies else ""

    async def contact(self) -> Contact | None:
        async with self.world.services.sessions() as db:
            found: Contact | None = await db.scalar(
                select(Contact).where(Contact.urn_hash == urn_hash(parse(self.urn)))
            )
            return found


async def announce(world: World, text: str) -> None:
    """The Eastleigh forum's chair announces ``text`` over Telegram, and confirms."""
    for command, body in (("announce", text), (None, "yes")):
        await world.services.receive(
            InboundMessage(
                channel="telegram",
                urn=f"telegram:{CHAIR}",
                provider_id=secrets.token_hex(8),
                text=body,
                command=command,
            )
        )


async def member_state(world: World, number: str, **values: Any) -> None:
    """Set a forum member's contact as a test needs it (they persist across tests)."""
    fresh = {"opted_out": False, "opted_out_at": None, "language": None, "last_inbound_at": None}
    async with world.services.sessions() as db, db.begin():
        await db.execute(
            update(Contact)
            .where(Contact.urn_hash == urn_hash(parse(f"whatsapp:{number}")))
            .values(**{**fresh, **values})
        )


async def report(phone: Phone) -> str:
    """A whole report in English by typed numbers; returns the reference code."""
    for answer in ("hello", "1"):  # English, detected; report
        await phone.text(answer)
        await phone.replies()
    await phone.text("theft")
    await phone.replies()
    await phone.text("Eastleigh")
    await phone.replies()
    await phone.text("Two shops broken into on First Avenue last night.")
    await phone.replies()
    await phone.text("1")  # stay anonymous
    await phone.replies()
    await phone.text("yes")
    done = "\n".join(await phone.replies())
    found = REFERENCE.search(done)
    assert found, done
    return found.group(1)


# ------------------------------------------------------------------ the gate


async def test_unsigned_or_wrongly_signed_requests_get_403_and_nothing_is_stored(
    world: World,
) -> None:
    phone = Phone(world)
    params = phone.params("hello")
    for headers in ({}, {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}):
        response = await world.client.post(
            "/webhooks/twilio/sms",
            content=urlencode(params),
            headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
        )
        assert response.status_code == 403
    wrong = await world.post("/webhooks/twilio/sms", params, token="f" * 32)
    assert wrong.status_code == 403
    tampered = dict(params, Body="something else")
    signature = signed(PUBLIC + "/webhooks/twilio/sms", params, world.fake.auth_token)
    response = await world.client.post(
        "/webhooks/twilio/sms",
        content=urlencode(tampered),
        headers={"Content-Type": "application/x-www-form-urlencoded", **signature},
    )
    assert response.status_code == 403
    assert await world.count(InboundReceipt) == 0
    assert await phone.contact() is None
    assert world.fake.messages == []


async def test_a_signed_message_gets_empty_twiml_and_the_reply_goes_through_the_outbox(
    world: World,
) -> None:
    phone = Phone(world)
    response = await phone.text("ok")  # no telling which language: the menu
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text == '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    replies = await phone.replies()
    assert len(replies) == 1 and "1 English" in replies[0] and "2 Français" in replies[0]


async def test_malformed_fields_get_a_clear_400(world: World) -> None:
    phone = Phone(world)
    response = await world.post("/webhooks/twilio/sms", phone.params("hi", NumMedia="lots"))
    assert response.status_code == 400 and "NumMedia" in response.json()["detail"]
    response = await world.post("/webhooks/twilio/sms", phone.params("hi", From="not-a-number"))
    assert response.status_code == 400 and "From" in response.json()["detail"]
    assert await world.count(InboundReceipt) == 0


async def test_a_duplicate_message_sid_is_answered_once(world: World) -> None:
    phone = Phone(world)
    params = phone.params("hello")
    for _ in range(3):
        assert (await world.post("/webhooks/twilio/sms", params)).status_code == 200
    assert len(await phone.replies()) == 1


# -------------------------------------------------------------- conversations


async def test_a_full_report_over_sms_with_numbered_menus(world: World) -> None:
    phone = Phone(world)
    code = await report(phone)
    async with world.services.sessions() as db:
        case = await db.scalar(select(Case).where(Case.reference == code.replace("-", "")))
        rows = list(
            (
                await db.execute(select(OutboxMessage).where(OutboxMessage.channel == "sms"))
            ).scalars()
        )
    assert case is not None and case.channel == "sms" and case.queue == "forum"
    assert all(r.segments and r.segments >= 1 for r in rows if r.status == "sent")


async def test_a_full_report_over_whatsapp(world: World) -> None:
    phone = Phone(world, channel="whatsapp")
    await report(phone)
    assert all(m.from_ == WHATSAPP_FROM for m in world.fake.to(phone.address))


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
async def test_a_full_report_in_portuguese(world: World, channel: str) -> None:
    """A resident of Pemba reports in Portuguese; the case goes to Pemba's council, whose
    focal point is told in Portuguese."""
    phone = Phone(world, channel=channel)
    await phone.text("Olá")  # Portuguese, detected: no language menu
    assert "1 Comunicar uma preocupação" in await phone.last()
    await phone.text("1")
    assert "Qual é a sua preocupação?" in await phone.last()
    await phone.text("roubo")
    assert "Onde aconteceu?" in await phone.last()
    await phone.text("Cariaco")  # without the accent
    assert "Conte em poucas palavras" in await phone.last()
    await phone.text("Assaltaram duas bancas no mercado ontem à noite.")
    assert "Quer ficar anónimo?" in await phone.last()
    await phone.text("1")
    summary = await phone.last()
    assert "Lugar: Cariacó" in summary and "Roubo ou assalto" in summary
    await phone.text("sim")
    done = await phone.last()
    found = REFERENCE.search(done)
    assert found and done.startswith("Obrigado."), done
    async with world.services.sessions() as db:
        case = await db.scalar(
            select(Case).where(Case.reference == found.group(1).replace("-", ""))
        )
        assert case is not None and case.language == "pt" and case.channel == channel
        forum = await db.scalar(select(Forum).where(Forum.id == case.forum_id))
        notice = await db.scalar(
            select(OutboxMessage).where(
                OutboxMessage.case_id == case.id, OutboxMessage.kind == "notification"
            )
        )
    assert forum is not None and forum.key == "pemba-ccs"
    assert notice is not None and "Nova preocupação" in notice.payload


async def test_stop_and_start_in_portuguese(world: World) -> None:
    phone = Phone(world)
    await phone.text("Olá")  # Portuguese, detected
    await phone.replies()
    await phone.text("PARAR")
    assert "Não receberá mais mensagens do Baraza" in await phone.last()
    contact = await phone.contact()
    assert contact is not None and contact.opted_out
    await phone.text("comecar")
    assert "Bem-vindo de volta" in "\n".join(await phone.replies())
    contact = await phone.contact()
    assert contact is not None and not contact.opted_out


async def test_typos_and_words_pick_options_on_sms(world: World) -> None:
    phone = Phone(world)
    await phone.text("ok")  # no telling which language: the menu
    await phone.replies()
    await phone.text("english")
    assert "1 Report a concern" in await phone.last()
    await phone.text("repot a concern")  # a close misspelling
    assert "Theft" in await phone.last()


async def test_whatsapp_buttons_locations_and_media(world: World) -> None:
    phone = Phone(world, channel="whatsapp")
    await phone.text("ok")  # no telling which language: the menu, as buttons
    await phone.replies()
    await phone.text("English", ButtonPayload="en", ButtonText="English")
    await phone.replies()
    await phone.text("Report", ButtonPayload="report", ButtonText="Report a concern")
    await phone.replies()
    await phone.text("", NumMedia="1", MediaContentType0="image/jpeg", MessageType="image")
    assert "only reads text" in "\n".join(await phone.replies())
    await phone.text("theft")
    await phone.replies()
    await phone.text("", Latitude="-1.2757", Longitude="36.8510", MessageType="location")
    assert "what happened" in await phone.last()


async def test_stop_is_confirmed_once_skips_announcements_and_start_resumes(
    world: World,
) -> None:
    member = Phone(world, number=MEMBER)
    await member.text("STOP")
    assert len(await member.replies()) == 1
    await member.text("stop")
    await member.text("hello")
    assert await member.replies() == []  # confirmed once, then silence
    contact = await member.contact()
    assert contact is not None and contact.opted_out

    # The forum chair announces: the stopped member is skipped.
    await announce(world, "Meeting on Friday")
    async with world.services.sessions() as db:
        announcements = await db.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.kind == "announcement",
                OutboxMessage.recipient_hash == urn_hash(parse(member.urn)),
            )
        )
    assert announcements == 0
    await member.text("START")
    assert "Welcome back" in "\n".join(await member.replies())
    contact = await member.contact()
    assert contact is not None and not contact.opted_out


# ------------------------------------------------------------ provider trouble


async def test_a_429_storm_loses_nothing(world: World) -> None:
    phone = Phone(world)
    world.fake.fail_next(429, code=20429, times=4)
    await phone.text("hello")
    replies = await phone.replies()
    assert len(replies) == 1
    async with world.services.sessions() as db:
        row = await db.scalar(select(OutboxMessage).where(OutboxMessage.channel == "sms"))
    assert row is not None and row.status == "sent" and row.attempts == 1


async def test_error_21610_stops_the_contact(world: World) -> None:
    phone = Phone(world)
    world.fake.unsubscribe(phone.address)
    await phone.text("hello")
    await phone.replies()
    contact = await phone.contact()
    assert contact is not None and contact.opted_out


async def test_a_freeform_whatsapp_message_outside_the_window_is_held_not_dropped(
    world: World,
) -> None:
    phone = Phone(world, channel="whatsapp")
    await phone.text("hello")
    await phone.replies()  # the main menu, in English
    world.fake.whatsapp_window(phone.address, False)  # WhatsApp disagrees with our clock
    await phone.text("1")
    await phone.replies()
    async with world.services.sessions() as db:
        row = await db.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.channel == "whatsapp")
            .order_by(OutboxMessage.id.desc())
        )
    assert row is not None and row.kind == "reply"
    assert row.status == "held" and "63016" in (row.last_error or "")


async def test_an_announcement_to_a_member_last_seen_30_hours_ago_goes_as_a_template(
    world: World,
) -> None:
    member = Phone(world, channel="whatsapp", number=WHATSAPP_MEMBER)
    await member_state(world, WHATSAPP_MEMBER, last_inbound_at=utcnow() - timedelta(hours=30))
    await announce(world, "Meeting on Friday at the chief's camp")
    await world.deliver()
    sent = world.fake.to(member.address)
    assert len(sent) == 1 and sent[0].content_sid == ANNOUNCEMENT_TEMPLATE
    assert sent[0].content_variables == {
        "1": "Eastleigh Community Policing Forum",
        "2": "Meeting on Friday at the chief's camp",
    }
    assert "Body" not in sent[0].params  # a template, not freeform text


async def test_a_member_who_never_wrote_gets_the_template_too(world: World) -> None:
    member = Phone(world, channel="whatsapp", number=WHATSAPP_MEMBER)
    await member_state(world, WHATSAPP_MEMBER)  # imported from the deployment, never wrote
    await announce(world, "Patrol volunteers needed")
    await world.deliver()
    assert [m.content_sid for m in world.fake.to(member.address)] == [ANNOUNCEMENT_TEMPLATE]


async def test_with_no_template_in_their_language_it_is_held_until_they_write(
    world: World,
) -> None:
    member = Phone(world, channel="whatsapp", number=WHATSAPP_MEMBER)
    await member_state(
        world, WHATSAPP_MEMBER, language="fr", last_inbound_at=utcnow() - timedelta(hours=30)
    )
    await announce(world, "Réunion vendredi")
    await world.deliver()
    assert world.fake.to(member.address) == []
    async with world.services.sessions() as db:
        held = (await db.scalars(select(OutboxMessage).where(OutboxMessage.status == "held"))).all()
    assert len(held) == 1 and held[0].kind == "announcement"
    assert "no template for 'announcement' in 'fr'" in (held[0].last_error or "")
    # They write again: the window is open, and what waited goes, freeform, in order.
    await member.text("bonjour")
    replies = await member.replies()
    assert any("Réunion vendredi" in body for body in replies)
    async with world.services.sessions() as db:
        assert await db.scalar(select(func.count()).where(OutboxMessage.status == "held")) == 0


async def test_when_twilio_says_the_window_closed_the_template_goes_instead(
    world: World,
) -> None:
    member = Phone(world, channel="whatsapp", number=WHATSAPP_MEMBER)
    await member_state(world, WHATSAPP_MEMBER, last_inbound_at=utcnow() - timedelta(hours=2))
    world.fake.whatsapp_window(member.address, False)  # our clock disagrees with WhatsApp's
    await announce(world, "Market day moved to Thursday")
    await world.deliver()
    refused, accepted = world.fake.to(member.address), None
    accepted = [m for m in refused if m.content_sid == ANNOUNCEMENT_TEMPLATE]
    assert len(accepted) == 1
    assert accepted[0].content_variables == {
        "1": "Eastleigh Community Policing Forum",
        "2": "Market day moved to Thursday",
    }
    attempts = [call for call in world.fake.requests if call.to == member.address]
    assert [call.code for call in attempts] == [63016, None]


async def test_two_choices_go_as_quick_replies_and_a_tapped_button_answers(
    world: World,
) -> None:
    phone = Phone(world, channel="whatsapp")
    for answer in ("hello", "1", "theft", "Eastleigh"):
        await phone.text(answer)
        await phone.replies()
    await phone.text("Two shops broken into on First Avenue last night.")
    await phone.replies()
    asked = world.fake.to(phone.address)[-1]
    assert asked.content_sid == TWO_BUTTONS and "Body" not in asked.params
    assert asked.content_variables is not None
    assert asked.content_variables["1"].startswith("Do you want to stay anonymous?")
    assert (asked.content_variables["2"], asked.content_variables["3"]) == (
        "Stay anonymous",
        "Give my name",
    )
    # The main menu's labels do not all fit on a button: it stays numbered text.
    first = world.fake.to(phone.address)[0]  # the greeting's language was detected
    assert first.content_sid is None and "1 Report a concern" in (first.body or "")
    await phone.text("Stay anonymous", ButtonPayload="#1", MessageType="button")
    assert "Please check your report" in await phone.last()


async def test_status_callbacks_record_delivery(world: World) -> None:
    phone = Phone(world)
    await phone.text("hello")
    await phone.replies()
    sent = world.fake.to(phone.address)[-1]
    for status in ("sent", "delivered", "sent"):  # a late "sent" does not undo "delivered"
        callback = {
            "MessageSid": sent.sid,
            "MessageStatus": status,
            "To": phone.address,
            "From": SMS_FROM,
            "AccountSid": world.fake.account_sid,
            "ApiVersion": "2010-04-01",
            "SmsSid": sent.sid,
            "SmsStatus": status,
        }
        assert (await world.post("/webhooks/twilio/status", callback)).status_code == 204
    async with world.services.sessions() as db:
        row = await db.scalar(
            select(OutboxMessage).where(OutboxMessage.provider_message_id == sent.sid)
        )
    assert row is not None and row.delivery_status == "delivered"
    undelivered = dict(callback, MessageStatus="undelivered", ErrorCode="21610")
    assert (await world.post("/webhooks/twilio/status", undelivered)).status_code == 204
    contact = await phone.contact()
    assert contact is not None and contact.opted_out
    unsigned = await world.client.post("/webhooks/twilio/status", data=callback)
    assert unsigned.status_code == 403


async def test_forwarded_headers_count_only_when_trusted(world: World) -> None:
    settings = world.services.settings
    phone = Phone(world)
    params = phone.params("hello")
    behind_proxy = signed(
        "https://proxy.example.org/webhooks/twilio/sms", params, world.fake.auth_token
    )
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "proxy.example.org",
        **behind_proxy,
    }
    public, trust = settings.public_base_url, settings.trust_forwarded
    try:
        settings.public_base_url = None
        settings.trust_forwarded = False
        refused = await world.client.post(
            "/webhooks/twilio/sms", content=urlencode(params), headers=headers
        )
        settings.trust_forwarded = True
        accepted = await world.client.post(
            "/webhooks/twilio/sms", content=urlencode(params), headers=headers
        )
    finally:
        settings.public_base_url, settings.trust_forwarded = public, trust
    assert (refused.status_code, accepted.status_code) == (403, 200)
