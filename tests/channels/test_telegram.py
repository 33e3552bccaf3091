"""Telegram end to end: real webhook requests in, the real python-telegram-bot client out,
against a fake Bot API server, on SQLite and PostgreSQL.

Each test talks as its own Telegram user (ids never repeat), so contacts left by one
test never meet another's.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from bot import privacy
from bot.contacts import urn_hash
from bot.models import Case, Contact, InboundReceipt, OutboxMessage
from bot.ratelimit import KeyedLimiter, Limit
from bot.services import Services
from bot.urns import parse
from channels.telegram import TelegramChannel, TelegramPoller
from tests import support
from tests.fakes.telegram_api import FakeTelegram, load_update, text_update
from tests.support import wipe_activity

SECRET = "test-secret-0123456789abcdef"
CHAIR = 4242420
GROUP = -1001234567890
MEMBERS = (5550010, 5550020)
_users = itertools.count(880000001)
_updates = itertools.count(500000001)


def with_telegram_people(data: dict[str, Any]) -> None:
    """A Telegram chair, a forum group and Telegram members in the demo deployment."""
    for staff in data["staff"]:
        if staff["email"] == "peter@baraza.example":
            staff["telegram_user_id"] = CHAIR
    for forum in data["forums"]:
        if forum["key"] == "eastleigh-cpf":
            forum["notify"] = f"telegram:{GROUP}"
            forum["members"] = [*forum["members"], *(f"telegram:{m}" for m in MEMBERS)]


@pytest.fixture(scope="session")
def fake_telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture(scope="session")
async def telegram_app(
    backend: str, fake_telegram: FakeTelegram, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FastAPI]:
    tmp = tmp_path_factory.mktemp(f"telegram-{backend}")
    async with support.serving(
        backend,
        tmp,
        support.demo_with(tmp, with_telegram_people),
        TELEGRAM_BOT_TOKEN=fake_telegram.token,
        TELEGRAM_API_URL=fake_telegram.url,
        TELEGRAM_WEBHOOK_SECRET=SECRET,
    ) as app:
        yield app


@dataclass
class World:
    app: FastAPI
    services: Services
    fake: FakeTelegram
    client: httpx.AsyncClient

    @property
    def channel(self) -> TelegramChannel:
        channel = self.services.channels["telegram"]
        assert isinstance(channel, TelegramChannel)
        return channel

    async def post(
        self, update: dict[str, Any], *, secret: str | None = SECRET, raw: bytes | None = None
    ) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        if raw is not None:
            return await self.client.post(
                "/webhooks/telegram",
                content=raw,
                headers={**headers, "Content-Type": "application/json"},
            )
        return await self.client.post("/webhooks/telegram", json=update, headers=headers)

    async def deliver(self) -> None:
        await support.deliver_all(self.services, ("telegram",))

    async def count(self, model: Any) -> int:
        return await support.count_rows(self.services, model)


@pytest.fixture
async def world(telegram_app: FastAPI, fake_telegram: FakeTelegram) -> AsyncIterator[World]:
    services: Services = telegram_app.state.services
    privacy.configure(services.settings.resolve_data_key())
    await wipe_activity(services)
    fake_telegram.reset()
    channel = services.channels["telegram"]
    assert isinstance(channel, TelegramChannel)
    real_limiter = channel.limiter
    # Conversations in these tests go faster than a person types; the limits have their
    # own tests (unit, and one end to end below).
    channel.limiter = KeyedLimiter(Limit(10_000, 1.0), lambda _: Limit(10_000, 1.0))
    transport = httpx.ASGITransport(app=telegram_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as client:
        yield World(telegram_app, services, fake_telegram, client)
    channel.limiter = real_limiter


@dataclass
class TelegramUser:
    world: World
    user_id: int = field(default_factory=lambda: next(_users))
    seen: int = 0

    @property
    def user(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "is_bot": False,
            "first_name": "Halima",
            "last_name": "Abdi",
            "username": f"halima{self.user_id}",
            "language_code": "en",
        }

    @property
    def urn(self) -> str:
        return f"telegram:{self.user_id}"

    def update(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"update_id": next(_updates), **body}

    async def say(self, text: str) -> httpx.Response:
        response = await self.world.post(self.update(text_update(text, user=self.user)))
        assert response.status_code == 200, response.text
        return response

    async def press(self, data: str) -> httpx.Response:
        update = load_update("callback_query")
        query = update["callback_query"]
        query["from"] = self.user
        query["message"]["chat"] = {"id": self.user_id, "first_name": "Halima", "type": "private"}
        query["id"] = f"cb{next(_updates)}"
        query["data"] = data
        update["update_id"] = next(_updates)
        response = await self.world.post(update)
        assert response.status_code == 200, response.text
        return response

    async def send_fixture(self, name: str) -> httpx.Response:
        update = load_update(name)
        for key in ("message", "edited_message"):
            if key in update:
                update[key]["from"] = self.user
                update[key]["chat"] = {"id": self.user_id, "first_name": "H", "type": "private"}
        update["update_id"] = next(_updates)
        return await self.world.post(update)

    async def replies(self) -> list[dict[str, Any]]:
        """The messages the bot sent this user since the last call (params of sendMessage)."""
        await self.world.deliver()
        sent = [call.params for call in self.world.fake.sent(self.user_id)]
        new, self.seen = sent[self.seen :], len(sent)
        return new

    async def texts(self) -> str:
        return "\n---\n".join(m["text"] for m in await self.replies())

    async def contact(self) -> Contact | None:
        async with self.world.services.sessions() as db:
            found: Contact | None = await db.scalar(
                select(Contact).where(Contact.urn_hash == urn_hash(parse(self.urn)))
            )
            return found


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """label -> callback data of a sent message's inline keyboard."""
    markup = message.get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}


REFERENCE = re.compile(r"\b([A-Z]{3}-[A-Z]{3})\b")


async def report_with_buttons(user: TelegramUser) -> str:
    """A whole report, pressing buttons wherever the bot offers them; returns the code."""
    await user.say("/start")
    language = (await user.replies())[-1]
    await user.press(buttons(language)["English"])
    menu = (await user.replies())[-1]
    await user.press(buttons(menu)["Report a concern"])
    categories = (await user.replies())[-1]
    await user.press(next(v for k, v in buttons(categories).items() if "Theft" in k))
    await user.replies()
    await user.say("Eastleigh")
    await user.replies()
    await user.say("Two shops broken into on First Avenue last night.")
    anonymity = (await user.replies())[-1]
    await user.press(next(v for k, v in buttons(anonymity).items() if "anonymous" in k.lower()))
    confirm = (await user.replies())[-1]
    await user.press(buttons(confirm)["Yes"])
    done = await user.texts()
    found = REFERENCE.search(done)
    assert found, done
    return found.group(1)


# ---------------------------------------------------------------- the webhook gate


async def test_a_wrong_or_missing_secret_gets_403_and_nothing_is_stored(world: World) -> None:
    user = TelegramUser(world)
    update = user.update(text_update("hello", user=user.user))
    for secret in ("wrong-secret-0123456789abcdef", None, ""):
        response = await world.post(update, secret=secret)
        assert response.status_code == 403
    assert await world.count(InboundReceipt) == 0
    assert await user.contact() is None
    assert world.fake.calls == []


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"{not json", 400),
        (b"[]", 400),
        (b'{"message": {"text": "no update id"}}', 400),
        (b'{"update_id": 1, "message": "not an object"}', 400),
        (b'{"update_id": 1, "pad": "' + b"x" * 300_000 + b'"}', 413),
    ],
)
async def test_malformed_bodies_get_a_clear_4xx(world: World, raw: bytes, status: int) -> None:
    response = await world.post({}, raw=raw)
    assert response.status_code == status
    assert "detail" in response.json()
    assert await world.count(InboundReceipt) == 0


async def test_a_duplicate_update_is_answered_once(world: World) -> None:
    user = TelegramUser(world)
    update = user.update(text_update("hello", user=user.user))
    for _ in range(3):  # Telegram retries when it did not see our 200 in time
        assert (await world.post(copy.deepcopy(update))).status_code == 200
    assert len(await user.replies()) == 1
    assert await world.count(InboundReceipt) == 1


async def test_a_button_press_is_answered_in_the_webhook_reply(world: World) -> None:
    user = TelegramUser(world)
    await user.say("/start")
    await user.replies()
    response = await user.press("en")
    assert response.json()["method"] == "answerCallbackQuery"
    assert response.json()["callback_query_id"].startswith("cb")


# ----------------------------------------------------------------- conversations


async def test_a_telegram_user_reports_through_buttons_and_the_forum_group_is_told(
    world: World,
) -> None:
    user = TelegramUser(world)
    code = await report_with_buttons(user)

    async with world.services.sessions() as db:
        case = await db.scalar(select(Case).where(Case.reference == code.replace("-", "")))
    assert case is not None and case.channel == "telegram" and case.queue == "forum"

    group = world.fake.texts(GROUP)
    assert len(group) == 1 and code in group[0]
    for secret in ("Halima", "Abdi", f"halima{user.user_id}", str(user.user_id), "First Avenue"):
        assert secret not in group[0]


async def test_a_quick_exit_erases_the_protection_conversation_from_the_chat(
    world: World,
) -> None:
    user = TelegramUser(world)
    typed = itertools.count(700)

    async def say(text: str) -> int:
        message_id = next(typed)
        update = user.update(text_update(text, user=user.user, message_id=message_id))
        assert (await world.post(update)).status_code == 200
        return message_id

    await say("/start")
    await user.press(buttons((await user.replies())[-1])["English"])
    menu = (await user.replies())[-1]
    before = {call.result["message_id"] for call in world.fake.sent(user.user_id)}
    await user.press(buttons(menu)["Private support"])
    asked = (await user.replies())[-1]
    assert "Send X at any time to leave" in asked["text"]
    await user.press(buttons(asked)["Yes, I can talk"])
    await user.replies()
    described = await say("He took my papers and my phone.")  # typed at the help question
    await user.replies()
    leaving = await say("x")
    assert [m["text"] for m in await user.replies()] == ["Thank you. Have a good day."]

    [erase] = world.fake.calls_of("deleteMessages")
    erased = set(erase.params["message_ids"])
    protection = {call.result["message_id"] for call in world.fake.sent(user.user_id)}
    protection -= before
    protection -= {world.fake.sent(user.user_id)[-1].result["message_id"]}  # the neutral one
    assert protection and protection <= erased  # every question the bot asked in the flow
    assert {described, leaving} <= erased  # and what she typed
    assert not erased & before  # the menus before it stay
    async with world.services.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Case)) == 0


async def test_menus_are_inline_keyboards_in_the_contact_s_language(world: World) -> None:
    user = TelegramUser(world)
    await user.say("/start")
    language = (await user.replies())[-1]
    assert list(buttons(language)) == [
        "English", "Français", "Português", "العربية", "کوردی سۆرانی", "Soomaali", "Kiswahili",
        "Hausa",
    ]  # fmt: skip
    await user.press(buttons(language)["Français"])
    menu = (await user.replies())[-1]
    assert "Signaler une préoccupation" in buttons(menu)
    assert all(len(data.encode()) <= 64 for data in buttons(menu).values())
    assert "1 Signaler" not in menu["text"]  # no numbered copy where there are buttons


async def test_typed_answers_work_beside_the_buttons(world: World) -> None:
    user = TelegramUser(world)
    await user.say("ok")  # no telling which language: the menu
    await user.replies()
    await user.say("1")  # English, typed
    await user.replies()
    await user.say("report")
    assert "Theft" in str(buttons((await user.replies())[-1]))


@pytest.mark.parametrize("media", ["photo", "voice", "video", "document", "sticker"])
async def test_media_gets_a_text_only_reply_and_the_conversation_goes_on(
    world: World, media: str
) -> None:
    user = TelegramUser(world)
    await user.say("/start")
    await user.press("en")
    await user.press("report")
    before = (await user.replies())[-1]
    response = await user.send_fixture(media)
    assert response.status_code == 200
    after = await user.replies()
    assert "only reads text" in after[0]["text"]
    assert buttons(after[-1]) == buttons(before)  # asked the same question again
    await user.press(next(iter(buttons(before).values())))
    assert "Where" in await user.texts()


async def test_an_edited_message_is_ignored_politely(world: World) -> None:
    user = TelegramUser(world)
    await user.say("/start")
    await user.press("en")
    await user.replies()
    await user.send_fixture("edited_message")
    reply = await user.texts()
    assert "Edited messages are not read" in reply


async def test_a_shared_location_answers_where(world: World) -> None:
    user = TelegramUser(world)
    await user.say("/start")
    await user.press("en")
    await user.press("report")
    categories = (await user.replies())[-1]
    await user.press(next(v for k, v in buttons(categories).items() if "Theft" in k))
    await user.replies()
    await user.send_fixture("location")  # -1.2757, 36.8510: Eastleigh
    assert "what happened" in await user.texts()


async def test_slash_language_mid_report_asks_again_and_resumes_the_question(
    world: World,
) -> None:
    user = TelegramUser(world)
    await user.say("/start")
    await user.press("en")
    await user.press("report")
    await user.press("theft")
    assert "Where did it happen" in await user.texts()
    await user.say("/language")
    assert "Français" in buttons((await user.replies())[-1])
    await user.press("fr")
    answer = await user.texts()
    assert "Je vous répondrai dans cette langue" in answer and "Où cela s'est-il passé" in answer
    await user.say("Eastleigh")
    assert "Dites-nous" in await user.texts()  # the report goes on, in French


async def test_commands_work_at_every_step(world: World) -> None:
    user = TelegramUser(world)
    await user.say("/start")
    await user.press("en")
    await user.press("report")
    await user.replies()
    await user.say("/help")
    assert "MENU" in await user.texts()
    await user.say("/menu")
    assert "Report a concern" in buttons((await user.replies())[-1])
    await user.say("/language")
    assert "Français" in buttons((await user.replies())[-1])
    await user.say("/stop")
    assert "no more messages" in (await user.texts()).lower()
    contact = await user.contact()
    assert contact is not None and contact.opted_out
    await user.say("hello")
    assert await user.replies() == []  # stopped: silence
    await user.say("/start")  # /start brings them back
    replies = await user.replies()
    contact = await user.contact()
    assert contact is not None and not contact.opted_out
    assert "Welcome back" in replies[0]["text"] and "Report a concern" in buttons(replies[-1])


async def test_a_group_message_is_not_a_conversation(world: World) -> None:
    response = await world.post(load_update("group_message"))
    assert response.status_code == 200
    await world.deliver()
    assert world.fake.sent() == []


async def test_long_texts_are_split_at_line_breaks(world: World) -> None:
    from bot.messages import OutboundMessage

    user = TelegramUser(world)
    text = "\n".join(f"Line {n}: " + "word " * 30 for n in range(60))  # ~9,500 characters
    await world.channel.deliver(parse(user.urn), OutboundMessage(text=text))
    parts = world.fake.texts(user.user_id)
    assert len(parts) == 3 and all(len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == text


# ------------------------------------------------------------ provider trouble


async def test_a_429_storm_delays_but_loses_nothing(world: World) -> None:
    user = TelegramUser(world)
    world.fake.fail_next("sendMessage", 429, times=3, retry_after=1)
    started = time.monotonic()
    await user.say("/start")
    replies = await user.replies()
    assert len(replies) == 1 and "language" in replies[0]["text"].lower()
    assert time.monotonic() - started >= 2.5  # waited as told, three times
    async with world.services.sessions() as db:
        row = await db.scalar(select(OutboxMessage).where(OutboxMessage.kind == "reply"))
    assert row is not None and row.status == "sent" and row.attempts == 1


async def test_a_500_is_retried_with_backoff(world: World) -> None:
    user = TelegramUser(world)
    world.fake.fail_next("sendMessage", 500, times=1)
    await user.say("/start")
    await user.replies()
    async with world.services.sessions() as db:
        row = await db.scalar(select(OutboxMessage).where(OutboxMessage.kind == "reply"))
    assert row is not None
    if row.status == "pending":  # backoff is 1 to 2 s: make it due rather than wait
        async with world.services.sessions() as db, db.begin():
            fresh = await db.get(OutboxMessage, row.id)
            assert fresh is not None
            fresh.next_attempt_at = fresh.created_at
        assert len(await user.replies()) == 1
    async with world.services.sessions() as db:
        row = await db.get(OutboxMessage, row.id)
    assert row is not None and row.status == "sent" and row.attempts == 2


async def test_an_outage_keeps_every_reply_queued_and_sends_each_once_when_telegram_is_back(
    world: World,
) -> None:
    """Telegram answering 502 for seconds: nothing fails, a probe now and then, not a
    retry per message; when it is back every reply goes, once."""
    sender = world.services.sender()
    for gate in sender.gates.values():
        gate.longest_probe = 0.5
    stop = asyncio.Event()
    world.fake.down(502)
    worker = asyncio.create_task(sender.run(stop, poll_seconds=0.2))
    users = [TelegramUser(world) for _ in range(12)]
    try:
        for user in users:
            await user.say("/start")
            sender.wake()
        await asyncio.sleep(3)
        tried = len(world.fake.calls_of("sendMessage"))
        async with world.services.sessions() as db:
            failed = await db.scalar(select(func.count()).where(OutboxMessage.status == "failed"))
        world.fake.up()
        await world.fake.wait_for(lambda f: len(f.sent()) >= len(users), timeout=20)
        await asyncio.sleep(0.3)
    finally:
        world.fake.up()
        stop.set()
        sender.wake()
        await worker
    assert failed == 0
    assert tried <= 8 + 7  # a batch in flight when it went down, then a probe at a time
    assert sorted(call.chat_id for call in world.fake.sent()) == sorted(u.user_id for u in users)


async def test_a_blocked_bot_stops_the_contact(world: World) -> None:
    user = TelegramUser(world)
    await user.say("/start")
    await user.replies()
    world.fake.block(user.user_id)
    await user.press("en")
    await user.replies()
    contact = await user.contact()
    assert contact is not None and contact.opted_out
    world.fake.unblock(user.user_id)
    await user.say("hello")  # a stopped contact hears nothing until /start
    assert await user.replies() == []


async def test_blocking_the_bot_in_telegram_stops_the_contact(world: World) -> None:
    user = TelegramUser(world)
    await user.say("/start")
    await user.replies()
    update = load_update("my_chat_member_kicked")
    update["my_chat_member"]["from"] = user.user
    update["my_chat_member"]["chat"] = {"id": user.user_id, "first_name": "H", "type": "private"}
    update["update_id"] = next(_updates)
    assert (await world.post(update)).status_code == 200
    contact = await user.contact()
    assert contact is not None and contact.opted_out


async def test_one_chat_gets_at_most_its_burst_then_one_a_second(world: World) -> None:
    from bot.contacts import find_or_create_contact
    from bot.messages import OutboundMessage
    from bot.outbox import to_contact

    channel = world.channel
    channel.limiter = KeyedLimiter(Limit(30, 1.0), lambda _: Limit(1, 1.0, burst=3))
    user = TelegramUser(world)
    await user.say("/start")
    await user.replies()
    async with world.services.sessions() as db, db.begin():
        record, _, _ = await find_or_create_contact(db, parse(user.urn))
        await to_contact(db, record, [OutboundMessage(text=f"news {n}") for n in range(5)])
    await user.replies()
    calls = [c for c in world.fake.sent(user.user_id) if (c.text or "").startswith("news")]
    assert [c.text for c in calls] == [f"news {n}" for n in range(5)]  # all, in order
    gaps = [b.at - a.at for a, b in itertools.pairwise(calls)]
    assert sum(gaps) >= 1.5  # the burst was spent on /start's reply and two news


# ------------------------------------------------------------------------ chairs


def chair() -> dict[str, Any]:
    return {"id": CHAIR, "is_bot": False, "first_name": "Peter", "username": "peter_m"}


async def test_a_chair_announces_to_the_forum_s_members_after_confirming(world: World) -> None:
    peter = TelegramUser(world, user_id=CHAIR)
    await world.post(
        peter.update(text_update("/announce Forum meeting on Friday at 10", user=chair()))
    )
    confirm = (await peter.replies())[-1]
    assert "members of Eastleigh Community Policing Forum" in confirm["text"]
    assert "Forum meeting on Friday at 10" in confirm["text"]
    assert world.fake.texts(MEMBERS[0]) == []  # nothing before the yes
    await peter.press(buttons(confirm)["Yes"])
    assert "on its way to 4 members" in await peter.texts()
    for member in MEMBERS:
        texts = world.fake.texts(member)
        assert len(texts) == 1 and "Forum meeting on Friday at 10" in texts[0]
    async with world.services.sessions() as db:
        sms = await db.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "announcement", OutboxMessage.channel == "sms")
        )
    assert sms == 2  # the two SMS members wait for the SMS channel, in the outbox


async def test_a_chair_can_ask_for_the_text_and_cancel(world: World) -> None:
    peter = TelegramUser(world, user_id=CHAIR)
    await world.post(peter.update(text_update("/announce", user=chair())))
    assert "What is the announcement" in await peter.texts()
    await world.post(peter.update(text_update("Patrols start Monday", user=chair())))
    confirm = (await peter.replies())[-1]
    await peter.press(buttons(confirm)["No"])
    assert "Nothing was sent" in await peter.texts()
    for member in MEMBERS:
        assert world.fake.texts(member) == []


async def test_members_gives_counts_never_identities(world: World) -> None:
    peter = TelegramUser(world, user_id=CHAIR)
    await world.post(peter.update(text_update("/members", user=chair())))
    text = await peter.texts()
    assert "Eastleigh Community Policing Forum: 4 in all" in text
    assert "+254" not in text and str(MEMBERS[0]) not in text


async def test_a_non_chair_gets_the_menu_and_no_hint(world: World) -> None:
    user = TelegramUser(world)
    await user.say("/start")
    await user.press("en")
    await user.replies()
    for command in ("/announce Free money", "/members"):
        await user.say(command)
        reply = (await user.replies())[-1]
        assert "Report a concern" in buttons(reply)
        assert "announce" not in reply["text"].lower() and "chair" not in reply["text"].lower()
    for member in MEMBERS:
        assert world.fake.texts(member) == []


# ------------------------------------------------------------------------ polling


async def poll_until_known(world: World, user: TelegramUser) -> None:
    """Run the poller until the fake's queue is drained and the user is a contact."""
    assert world.services.telegram_bot is not None
    assert world.services.telegram_updates is not None
    poller = TelegramPoller(world.services.telegram_bot, world.services.telegram_updates, timeout=1)
    stop = asyncio.Event()
    task = asyncio.create_task(poller.run(stop))
    try:
        await world.fake.wait_for(lambda fake: fake.pending_updates == [], timeout=5)
        for _ in range(50):
            if await user.contact() is not None:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_polling_hands_updates_to_the_same_pipeline_and_confirms_them(
    world: World,
) -> None:
    user = TelegramUser(world)
    world.fake.push_update(text_update("/start", user=user.user))
    await poll_until_known(world, user)
    assert "language" in (await user.texts()).lower()
    assert world.fake.calls_of("deleteWebhook")  # getUpdates needs no webhook


# ------------------------------------------------------- regressions from review


@pytest.mark.parametrize(
    "update",
    [
        {"update_id": 1, "callback_query": {"id": "1", "chat_instance": "1", "data": "x"}},
        {"update_id": 2, "message": {"message_id": 1, "date": 1, "text": "hi"}},
        {
            "update_id": 3,
            "message": {"message_id": 1, "date": 10**20, "chat": {"id": 1, "type": "private"}},
        },
        {
            "update_id": 4,
            "message": {
                "message_id": 1,
                "date": 1,
                "chat": {"id": 5, "type": "private"},
                "from": {"id": "five", "is_bot": False, "first_name": "x"},
                "text": "hi",
            },
        },
        {
            "update_id": 5,
            "message": {
                "message_id": 1,
                "date": 1,
                "chat": {"id": 5, "type": "private"},
                "from": {"id": 5, "is_bot": False, "first_name": "x"},
                "location": {"latitude": "north", "longitude": None},
            },
        },
    ],
)
async def test_odd_update_shapes_get_400_not_500(world: World, update: dict[str, Any]) -> None:
    response = await world.post(update)
    assert response.status_code == 400, response.text
    assert await world.count(InboundReceipt) == 0


async def test_deeply_nested_json_gets_400(world: World) -> None:
    response = await world.post({}, raw=b"[" * 100_000)
    assert response.status_code in (400, 413)


async def test_a_moving_live_location_is_not_answered(world: World) -> None:
    user = TelegramUser(world)
    await user.say("/start")
    await user.replies()
    update = load_update("location")
    update["edited_message"] = update.pop("message")
    update["edited_message"]["from"] = user.user
    update["edited_message"]["chat"] = {"id": user.user_id, "first_name": "H", "type": "private"}
    update["edited_message"]["edit_date"] = update["edited_message"]["date"] + 30
    for _ in range(3):
        update["update_id"] = next(_updates)
        assert (await world.post(copy.deepcopy(update))).status_code == 200
    assert await user.replies() == []


async def test_an_announcement_too_short_to_mean_anything_is_asked_for_again(
    world: World,
) -> None:
    peter = TelegramUser(world, user_id=CHAIR)
    await world.post(peter.update(text_update("/announce x", user=chair())))
    assert "What is the announcement" in await peter.texts()


async def test_the_poller_skips_an_unreadable_update_and_goes_on(world: World) -> None:
    user = TelegramUser(world)
    world.fake.push_update({"message": {"message_id": 1, "date": 1, "text": "no chat"}})
    world.fake.push_update(text_update("/start", user=user.user))
    await poll_until_known(world, user)
    assert "language" in (await user.texts()).lower()
