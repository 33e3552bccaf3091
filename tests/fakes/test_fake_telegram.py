"""The fake Telegram Bot API against the real python-telegram-bot client, and the
recorded update fixtures against python-telegram-bot's parser."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    TelegramObject,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from tests.fakes.telegram_api import (
    DEFAULT_TOKEN,
    DEFAULT_USER,
    FIXTURES_DIR,
    NOT_MODIFIED,
    FakeTelegram,
    Upload,
    fixture_names,
    load_update,
)

USER = DEFAULT_USER["id"]
GROUP = -1001234567890
ignore_ptb_deprecations = pytest.mark.filterwarnings(
    "ignore::telegram.warnings.PTBDeprecationWarning"
)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture(autouse=True)
def clean(fake: FakeTelegram) -> None:
    fake.reset()


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(DEFAULT_TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url) as b:
        yield b


def keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Kibera", callback_data="1")],
            [InlineKeyboardButton("Mathare", callback_data="2")],
        ]
    )


# -- the real client ------------------------------------------------------------------


async def test_get_me(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.username == "baraza_test_bot" and me.id == 123456
    assert me.can_join_groups is True and me.api_kwargs == {}
    # Bot.__aenter__ (initialize) already called getMe once.
    assert [call.status for call in fake.calls_of("getMe")] == [200, 200]


async def test_send_message_decodes_nested_json(fake: FakeTelegram, bot: Bot) -> None:
    message = await bot.send_message(USER, "Choose a forum", reply_markup=keyboard())

    assert message.chat.type == "private" and message.chat.id == USER
    assert message.from_user is not None and message.from_user.is_bot
    assert message.reply_markup == keyboard()
    call = fake.sent(USER)[0]
    assert call.encoding == "form"
    assert call.params["chat_id"] == USER  # an int, not "777000111"
    markup = call.params["reply_markup"]
    assert isinstance(markup, dict)
    assert markup["inline_keyboard"][0][0] == {"text": "Kibera", "callback_data": "1"}
    assert fake.texts(USER) == ["Choose a forum"]

    second = await bot.send_message(USER, "And again")
    assert second.message_id == message.message_id + 1
    group = await bot.send_message(GROUP, "[1, 2] is not JSON here")
    assert group.chat.type == "supergroup" and group.chat.title
    assert fake.texts(GROUP) == ["[1, 2] is not JSON here"]


async def test_reply_keyboard_is_not_echoed(fake: FakeTelegram, bot: Bot) -> None:
    message = await bot.send_message(USER, "Share?", reply_markup=ReplyKeyboardMarkup([["Yes"]]))
    assert message.reply_markup is None
    # python-telegram-bot leaves out the False flags.
    assert fake.sent()[0].params["reply_markup"] == {"keyboard": [[{"text": "Yes"}]]}


@ignore_ptb_deprecations
async def test_429_is_retry_after(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", 429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "one")
    assert caught.value.retry_after in (3, dtm.timedelta(seconds=3))
    await bot.send_message(USER, "one")
    assert [call.status for call in fake.sent(include_failed=True)] == [429, 200]
    assert fake.sent(include_failed=True)[0].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert fake.texts() == ["one"]


async def test_blocked_user_is_forbidden(fake: FakeTelegram, bot: Bot) -> None:
    fake.block(USER)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(USER, "hello")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(USER, "typing")
    await bot.send_message(GROUP, "others still get messages")
    fake.unblock(USER)
    await bot.send_message(USER, "hello")
    assert fake.texts(USER) == ["hello"]


async def test_server_errors_and_targeted_faults(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", 500, times=2)
    for _ in range(2):
        with pytest.raises(NetworkError) as caught:
            await bot.send_message(USER, "x")
        assert type(caught.value) is NetworkError
        assert "Internal Server Error" in str(caught.value)
    await bot.send_message(USER, "x")

    fake.fail_next("sendmessage", 400, chat_id=GROUP)
    await bot.send_message(USER, "not this chat")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(GROUP, "this one")
    assert [c.status for c in fake.calls_of("sendMessage")] == [500, 500, 200, 200, 400]


async def test_get_updates_offset_and_limit(fake: FakeTelegram, bot: Bot) -> None:
    ids = [fake.push_text(f"m{n}")["update_id"] for n in range(3)]
    assert ids == sorted(ids) and len(set(ids)) == 3

    first = await bot.get_updates()
    assert [u.update_id for u in first] == ids
    assert first[0].message is not None and first[0].message.text == "m0"
    # Unconfirmed updates come back again.
    assert [u.update_id for u in await bot.get_updates(limit=2)] == ids[:2]
    # offset confirms everything below it, for good.
    assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
    assert [u.update_id for u in await bot.get_updates()] == ids[1:]
    assert await bot.get_updates(offset=ids[2] + 1) == ()
    assert await bot.get_updates() == ()
    calls = fake.calls_of("getUpdates")
    assert calls[2].params == {"offset": ids[1]}  # timeout=0 is not sent at all


async def test_long_poll_wakes_on_push(fake: FakeTelegram, bot: Bot) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    assert not poll.done()
    pushed = fake.push_update(load_update("text"))
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 1
    assert [u.update_id for u in updates] == [pushed["update_id"]]
    assert fake.calls_of("getUpdates")[0].params["timeout"] == 5


async def test_second_poller_terminates_the_first(fake: FakeTelegram, bot: Bot) -> None:
    # A Bot polls over a pool of one connection, so the rival is another instance,
    # as it would be in production (two deployments with the same token).
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    async with Bot(DEFAULT_TOKEN, base_url=fake.base_url) as rival:
        second = asyncio.create_task(rival.get_updates(timeout=5))
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await asyncio.wait_for(first, 2)
        fake.push_text("hi")
        assert len(await asyncio.wait_for(second, 2)) == 1


async def test_cancelled_poll_is_not_a_conflict(fake: FakeTelegram, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    poll.cancel()
    with pytest.raises(asyncio.CancelledError):
        await poll
    fake.push_text("after the cancel")
    assert len(await bot.get_updates(timeout=1)) == 1
    await fake.wait_for(lambda f: len(f.calls_of("getUpdates")) == 2, timeout=1)
    assert sorted(c.status for c in fake.calls_of("getUpdates")) == [200, 499]


async def test_application_polling_end_to_end(fake: FakeTelegram) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    app = (
        Application.builder()
        .token(DEFAULT_TOKEN)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    fake.push_update(load_update("text"))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=5, poll_interval=0)
        await fake.wait_for(lambda f: f.texts(USER) == ["echo: Hello"], timeout=3)
        fake.push_text("/start")
        await fake.wait_for(lambda f: len(f.texts(USER)) == 2, timeout=3)
        await app.updater.stop()
        await app.stop()
    assert fake.calls_of("deleteWebhook")  # start_polling clears any webhook first
    assert fake.pending_updates == []  # everything was confirmed on the way out
    replies = fake.sent(USER)
    # reply_text only quotes in groups; in a private chat it is a plain send.
    assert replies[0].params == {"chat_id": USER, "text": "echo: Hello"}
    assert all(c.status in (200, 499) for c in fake.calls_of("getUpdates"))


async def test_allowed_updates_filter(fake: FakeTelegram, bot: Bot) -> None:
    fake.push_update(load_update("text"))
    fake.push_update(load_update("callback_query"))
    updates = await bot.get_updates(allowed_updates=["callback_query"])
    assert [u.callback_query is not None for u in updates] == [True]
    assert fake.pending_updates[0]["callback_query"]["data"] == "1"


async def test_webhook_state_and_conflict(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)https url must be provided"):
        await bot.set_webhook("http://example.org/hook")
    assert await bot.set_webhook(
        "https://example.org/telegram/hook",
        secret_token="s3cret-Token_1",
        allowed_updates=["message", "callback_query"],
        drop_pending_updates=True,
    )
    assert fake.webhook["secret_token"] == "s3cret-Token_1"
    assert fake.webhook["drop_pending_updates"] is True
    fake.push_text("queued while the webhook is set")
    fake.set_webhook_error("Wrong response from the webhook: 502 Bad Gateway")

    info = await bot.get_webhook_info()
    assert info.url == "https://example.org/telegram/hook"
    assert info.has_custom_certificate is False
    assert info.pending_update_count == 1
    assert info.allowed_updates == ("message", "callback_query")
    assert info.last_error_message == "Wrong response from the webhook: 502 Bad Gateway"
    assert info.last_error_date is not None
    assert info.api_kwargs == {}

    with pytest.raises(Conflict, match="while webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""
    assert len(await bot.get_updates()) == 1


async def test_unknown_method_and_wrong_token(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", {"chat_id": USER})
    unknown = fake.calls_of("sendTelepathy")[0]
    assert unknown.status == 404
    assert unknown.response["description"] == "Not Found: method not found"

    # Through `async with`: a Bot never initialize()d ignores shutdown() and leaks
    # its httpx clients.
    with pytest.raises(InvalidToken):
        async with Bot("999:wrong", base_url=fake.base_url):
            pass
    assert fake.calls[-1].status == 401
    # Method names are case-insensitive, as on the real API.
    assert (await bot.do_api_request("GETME"))["username"] == "baraza_test_bot"


async def test_raw_encodings(fake: FakeTelegram) -> None:
    base = f"{fake.url}/bot{fake.token}"
    async with httpx.AsyncClient() as client:
        json_reply = await client.post(
            f"{base}/sendMessage",
            json={"chat_id": str(GROUP), "text": "{not json}", "disable_notification": True},
        )
        query_reply = await client.get(f"{base}/sendMessage", params={"chat_id": -5, "text": "q"})
        file_reply = await client.get(f"{fake.url}/file/bot{fake.token}/photos/x.jpg")
        other = await client.get(f"{fake.url}/nowhere")
    assert json_reply.status_code == 200 and query_reply.status_code == 200
    assert query_reply.json()["result"]["chat"]["type"] == "group"
    assert file_reply.status_code == 404 and other.status_code == 404
    json_call, query_call = fake.sent()
    assert json_call.encoding == "json" and query_call.encoding == "query"
    assert json_call.params == {
        "chat_id": GROUP,
        "text": "{not json}",
        "disable_notification": True,
    }
    assert query_call.params == {"chat_id": -5, "text": "q"}


async def test_multipart_upload(fake: FakeTelegram, bot: Bot) -> None:
    blob = bytes(range(256)) * 8 + b"\r\n--boundary-ish\r\n\n\r"
    message = await bot.send_document(
        USER, blob, filename="report.bin", caption="<b>Evidence</b>", parse_mode="HTML"
    )
    call = fake.calls_of("sendDocument")[0]
    assert call.encoding == "multipart"
    upload = call.params["document"]
    assert isinstance(upload, Upload)
    assert upload.data == blob and upload.filename == "report.bin"
    assert call.params["chat_id"] == USER and call.params["caption"] == "<b>Evidence</b>"
    assert message.document is not None and message.document.file_size == len(blob)
    assert message.caption == "Evidence"
    assert [e.type for e in message.caption_entities] == ["bold"]

    photo = await bot.send_photo(USER, b"\x89PNG fake", reply_markup=keyboard())
    assert len(photo.photo) == 3 and photo.reply_markup == keyboard()
    assert fake.calls_of("sendPhoto")[0].params["reply_markup"]["inline_keyboard"]


async def test_html_and_auto_entities(fake: FakeTelegram, bot: Bot) -> None:
    message = await bot.send_message(
        USER,
        '<b>Case 7</b> 👮 <a href="https://example.org/c/7">open</a> &amp; reply /stop',
        parse_mode="HTML",
    )
    assert message.text == "Case 7 👮 open & reply /stop"
    kinds = {(e.type, message.parse_entity(e)) for e in message.entities}
    assert kinds == {("bold", "Case 7"), ("text_link", "open"), ("bot_command", "/stop")}
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(USER, "<b>unclosed", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(USER, "line<br>break", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="y" * 65)]])
        await bot.send_message(USER, "too much data", reply_markup=markup)


async def test_edit_delete_answer_and_actions(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(USER, "Pick one", reply_markup=keyboard())
    edited = await sent.edit_text("Picked Kibera")
    assert not isinstance(edited, bool)
    assert edited.text == "Picked Kibera" and edited.edit_date is not None
    assert edited.reply_markup is None  # no markup in the edit removes the keyboard
    with pytest.raises(BadRequest) as caught:
        await bot.edit_message_text("Picked Kibera", chat_id=USER, message_id=sent.message_id)
    # python-telegram-bot drops "Bad Request: " and capitalize()s the rest.
    assert caught.value.message == NOT_MODIFIED.removeprefix("Bad Request: ").capitalize()
    again = await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=keyboard())
    assert not isinstance(again, bool) and again.reply_markup == keyboard()
    assert fake.messages(USER)[-1]["reply_markup"]["inline_keyboard"]

    pushed = fake.push_update(load_update("callback_query"))
    assert await bot.answer_callback_query(pushed["callback_query"]["id"], text="Noted")
    assert await bot.send_chat_action(USER, "typing")
    assert await bot.delete_message(USER, sent.message_id)
    assert await bot.delete_messages(USER, [1, 2, 3])
    assert fake.calls_of("deleteMessages")[0].params["message_ids"] == [1, 2, 3]
    assert fake.calls_of("answerCallbackQuery")[0].params == {
        "callback_query_id": "3338162279340459874",
        "text": "Noted",
    }


async def test_strict_mode(fake: FakeTelegram, bot: Bot) -> None:
    fake.strict = True
    try:
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("x", chat_id=USER, message_id=424242)
        pushed = fake.push_update(load_update("callback_query"))
        message = pushed["callback_query"]["message"]
        edited = await bot.edit_message_text(
            "Thanks", chat_id=USER, message_id=message["message_id"]
        )
        assert not isinstance(edited, bool) and edited.text == "Thanks"
        query_id = pushed["callback_query"]["id"]
        assert await bot.answer_callback_query(query_id)
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await bot.answer_callback_query(query_id)
        # Bot messages sent in the chat follow the highest id seen there.
        reply = await bot.send_message(USER, "ok", reply_to_message_id=message["message_id"])
        assert reply.message_id > message["message_id"]
        assert reply.reply_to_message is not None
        assert reply.reply_to_message.message_id == message["message_id"]
    finally:
        fake.strict = False


async def test_commands(fake: FakeTelegram, bot: Bot) -> None:
    commands = [BotCommand("start", "Begin"), BotCommand("status", "Check a case")]
    assert await bot.set_my_commands(commands)
    assert await bot.set_my_commands([BotCommand("anza", "Anza")], language_code="sw")
    assert await bot.get_my_commands() == tuple(commands)
    assert [c.command for c in await bot.get_my_commands(language_code="sw")] == ["anza"]
    assert fake.commands() == [
        {"command": "start", "description": "Begin"},
        {"command": "status", "description": "Check a case"},
    ]
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start", "capitals are refused")])
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    assert await bot.close() and await bot.log_out()


@ignore_ptb_deprecations
async def test_enforced_flood_limits(fake: FakeTelegram, bot: Bot) -> None:
    fake.enforce_limits = True
    for n in range(3):
        await bot.send_message(USER, f"burst {n}")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "one too many")
    assert caught.value.retry_after in (1, dtm.timedelta(seconds=1))
    await bot.send_message(GROUP, "other chats are fine")
    assert fake.throttled == 1 and fake.throttled_by_chat[USER] == 1


async def test_delay_and_wait_for(fake: FakeTelegram, bot: Bot) -> None:
    fake.delay(0.2, method="sendMessage")
    task = asyncio.create_task(bot.send_message(USER, "slow"))
    texts = await fake.wait_for(lambda f: f.texts(USER), timeout=2)
    assert texts == ["slow"]
    await task
    with pytest.raises(AssertionError, match="condition not met") as caught:
        await fake.wait_for(lambda f: f.texts(GROUP), timeout=0.05)
    assert "sendMessage" in str(caught.value)


async def test_pushed_fixture_reaches_the_client(fake: FakeTelegram, bot: Bot) -> None:
    fake.push_update(load_update("photo"))
    fake.push_update(load_update("photo"))  # the same recording twice gets a fresh id
    updates = await bot.get_updates()
    assert len({u.update_id for u in updates}) == 2
    assert all(u.effective_message and u.effective_message.photo for u in updates)


# -- the fixtures -------------------------------------------------------------------

# Any, not Update: the fixtures guarantee what the Optional attributes hold.
CHECKS: dict[str, Callable[[Any], Any]] = {
    "text": lambda u: u.message.text == "Hello",
    "command_start": lambda u: (
        u.message.text == "/start"
        and u.message.parse_entities(["bot_command"]) != {}
        and list(u.message.parse_entities().values()) == ["/start"]
    ),
    "command_announce": lambda u: (
        list(u.message.parse_entities(["bot_command"]).values()) == ["/announce"]
    ),
    "callback_query": lambda u: (
        u.callback_query.data == "1"
        and u.callback_query.message.reply_markup.inline_keyboard[0][0].callback_data == "1"
        and u.effective_user.id == USER
    ),
    "location": lambda u: (
        (u.message.location.latitude, u.message.location.longitude) == (-1.2757, 36.851)
    ),
    "photo": lambda u: (
        u.effective_message.photo[-1].width == 1280 and u.effective_message.caption is None
    ),
    "voice": lambda u: u.effective_message.voice.mime_type == "audio/ogg",
    "video": lambda u: u.effective_message.video.thumbnail is not None,
    "document": lambda u: u.effective_message.document.file_name == "incident-report.pdf",
    "sticker": lambda u: (
        u.effective_message.sticker.type == "regular"
        and u.effective_message.sticker.is_animated
        and u.effective_message.sticker.emoji == "👍"
    ),
    "edited_message": lambda u: u.edited_message.edit_date is not None and u.message is None,
    "group_message": lambda u: (
        u.effective_chat.type == "supergroup"
        and u.effective_chat.id == GROUP
        and bool(u.effective_chat.title)
    ),
    "my_chat_member_kicked": lambda u: (
        u.my_chat_member.new_chat_member.status == "kicked"
        and u.my_chat_member.old_chat_member.status == "member"
        and u.my_chat_member.new_chat_member.user.is_bot
        and u.effective_chat.type == "private"
    ),
    "channel_post": lambda u: (
        u.channel_post.chat.type == "channel" and u.channel_post.from_user is None
    ),
}


def test_every_fixture_is_checked() -> None:
    assert sorted(CHECKS) == list(fixture_names())
    assert FIXTURES_DIR.is_dir()


def _unknown_fields(obj: object, path: str = "update") -> list[str]:
    """Paths of objects that received fields python-telegram-bot doesn't know."""
    found: list[str] = []
    if isinstance(obj, TelegramObject):
        if obj.api_kwargs:
            found.append(f"{path}: {sorted(obj.api_kwargs)}")
        for key, value in obj._get_attrs(recursive=False).items():
            found += _unknown_fields(value, f"{path}.{key}")
    elif isinstance(obj, tuple | list):
        for index, item in enumerate(obj):
            found += _unknown_fields(item, f"{path}[{index}]")
    return found


def _without_false_flags(produced: Any, original: Any) -> Any:
    if isinstance(produced, dict) and isinstance(original, dict):
        return {
            key: _without_false_flags(value, original.get(key))
            for key, value in produced.items()
            if key in original or value is not False
        }
    if isinstance(produced, list) and isinstance(original, list):
        return [_without_false_flags(p, o) for p, o in zip(produced, original, strict=False)]
    return produced


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_fixture_parses(name: str) -> None:
    data = json.loads((FIXTURES_DIR / f"{name}.json").read_text(encoding="utf-8"))
    update = Update.de_json(data, Bot(DEFAULT_TOKEN))
    assert CHECKS[name](update)
    assert _unknown_fields(update) == []
    # Nothing lost on the way through (to_dict adds False for absent flags).
    assert _without_false_flags(update.to_dict(), data) == data
    private = [
        chat for chat in (update.effective_chat,) if chat is not None and chat.type == "private"
    ]
    for chat in private:
        assert chat.id == USER
    if update.effective_user is not None and not update.effective_user.is_bot:
        assert update.effective_user.id == USER
