"""Telegram, through python-telegram-bot: updates in, messages with inline keyboards out.

Everything Telegram-specific stays here. An update becomes one ``InboundMessage``
(commands such as /menu become channel-neutral commands, a pressed button its
choice value, a photo or voice note a media kind); an ``OutboundMessage`` becomes
one or more ``sendMessage`` calls, its choices an inline keyboard. The same
``TelegramUpdates`` serves the webhook and the local poller, so both behave alike.

Rate limits are Telegram's published ones: about 30 messages a second overall
(kept across every process by ``bot.limiter``), one a second in a private chat (a
burst of three is tolerated), 20 a minute in a group (kept in this process: a chat
is written to by one process at a time). When a chat's slot is not free the message
is handed back to the sender as ``Throttled``, so the sender serves other people
meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatType, MessageEntityType, MessageLimit
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from bot.limiter import Limiter, LocalLimiter
from bot.messages import Choice, InboundMessage, Location, MediaKind, OutboundMessage
from bot.ratelimit import KeyedLimiter, Limit
from bot.urns import URN, parse
from channels.base import (
    DIRECT,
    ERASE,
    POSITION_PREFIX,
    Capabilities,
    Channel,
    ConnectionFailed,
    ContactStopped,
    Envelope,
    PermanentFailure,
    SendResult,
    Throttled,
    read_button,
    split_text,
)

log = logging.getLogger(__name__)
# python-telegram-bot 22 gives retry_after as a timedelta when asked to (its future
# default), and warns on every 429 otherwise; we read both forms.
os.environ.setdefault("PTB_TIMEDELTA", "1")

COMMANDS = ("start", "menu", "help", "language", "stop", "announce", "members")
# What the bot asks Telegram for: nothing else is handled, so nothing else is sent.
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
CALLBACK_DATA_BYTES = 64
MEDIA: tuple[tuple[str, MediaKind], ...] = (
    ("photo", "image"),
    ("sticker", "sticker"),
    ("voice", "audio"),
    ("audio", "audio"),
    ("video", "video"),
    ("video_note", "video"),
    ("animation", "video"),
    ("document", "document"),
    ("contact", "other"),
    ("poll", "other"),
    ("dice", "other"),
)
OVERALL = Limit(30, 1.0)
PRIVATE_CHAT = Limit(1, 1.0, burst=3)
GROUP_CHAT = Limit(20, 60.0, burst=3)
LONGEST_INLINE_WAIT = 0.25  # seconds worth waiting for a chat's slot rather than deferring
POLL_TIMEOUT = 25


@dataclass(frozen=True)
class TelegramClient:
    """A Bot talking to ``{api_url}/bot{token}/{method}`` (TELEGRAM_API_URL), and its
    two HTTP connection pools, which we close ourselves: a Bot never ``initialize``d
    (we do not call getMe at start, Telegram may be away) ignores ``shutdown``."""

    bot: Bot
    pools: tuple[HTTPXRequest, HTTPXRequest]

    async def close(self) -> None:
        await asyncio.gather(*(pool.shutdown() for pool in self.pools))


def make_client(token: str, api_url: str, *, connections: int = 16) -> TelegramClient:
    root = api_url.rstrip("/")
    requests = HTTPXRequest(
        connection_pool_size=connections,
        connect_timeout=5.0,
        read_timeout=10.0,
        write_timeout=10.0,
        pool_timeout=5.0,
    )
    polling = HTTPXRequest(read_timeout=POLL_TIMEOUT + 10.0)
    bot = Bot(
        token,
        base_url=f"{root}/bot",
        base_file_url=f"{root}/file/bot",
        request=requests,
        get_updates_request=polling,
    )
    return TelegramClient(bot, (requests, polling))


def telegram_limiter() -> KeyedLimiter:
    """Each chat's own limit; the overall one is the shared ``Limiter``'s."""
    return KeyedLimiter(None, lambda chat: GROUP_CHAT if chat.startswith("-") else PRIVATE_CHAT)


# ------------------------------------------------------------------ inbound


@dataclass(frozen=True)
class ParsedUpdate:
    """What one update asks of us; every field may be empty (an update we ignore)."""

    update_id: int
    message: InboundMessage | None = None
    callback_query_id: str | None = None
    blocked_by: str | None = None  # the URN of a person who blocked the bot


def _urn(user_id: int) -> str:
    return str(parse(f"telegram:{user_id}"))  # a user id that is not a number: InvalidURN


def _command(message: Message) -> tuple[str, str] | None:
    """("menu", "rest of the text") for "/menu@OurBot rest", if it is a command we know."""
    text = message.text or ""
    entity = next(iter(message.entities or ()), None)
    if entity is None or entity.type != MessageEntityType.BOT_COMMAND or entity.offset != 0:
        return None
    name = text[1 : entity.length].split("@", 1)[0].lower()
    return (name, text[entity.length :].strip()) if name in COMMANDS else None


def _media(message: Message) -> MediaKind | None:
    return next((kind for attribute, kind in MEDIA if getattr(message, attribute, None)), None)


def _location(message: Message) -> Location | None:
    where = message.location or (message.venue.location if message.venue else None)
    if where is None:
        return None
    try:
        return Location(where.latitude, where.longitude)
    except ValueError:
        return None


def _from_callback(update_id: int, query: CallbackQuery) -> ParsedUpdate:
    chat = query.message.chat if query.message else None
    if query.data is None or (chat is not None and chat.type != ChatType.PRIVATE):
        return ParsedUpdate(update_id, callback_query_id=query.id)
    # A choice too long for callback data travels as its number, which every step reads.
    text, button = read_button(query.data)
    inbound = InboundMessage(
        channel="telegram",
        urn=_urn(query.from_user.id),
        provider_id=str(update_id),
        text=text,
        button=button,
    )
    return ParsedUpdate(update_id, inbound, callback_query_id=query.id)


def _from_message(update_id: int, message: Message, edited: bool) -> ParsedUpdate:
    if message.chat.type != ChatType.PRIVATE or message.from_user is None:
        return ParsedUpdate(update_id)  # groups and channels are for notifications only
    if edited and message.location is not None:
        return ParsedUpdate(update_id)  # a live location moving: not a correction to answer
    command = _command(message)
    text = command[1] if command else (message.text or message.caption or "")
    location = _location(message)
    media = None if location else _media(message)
    if not (command or text or location or media or edited):
        return ParsedUpdate(update_id)  # a service message (pinned, joined...): nothing to say
    inbound = InboundMessage(
        channel="telegram",
        urn=_urn(message.from_user.id),
        provider_id=str(update_id),
        text=text,
        location=location,
        media=media,
        command=command[0] if command else None,
        edited=edited,
        message_ref=str(message.message_id),
    )
    return ParsedUpdate(update_id, inbound)


def parse_update(update: Update) -> ParsedUpdate:
    if update.callback_query is not None:
        return _from_callback(update.update_id, update.callback_query)
    if update.message is not None:
        return _from_message(update.update_id, update.message, edited=False)
    if update.edited_message is not None:
        return _from_message(update.update_id, update.edited_message, edited=True)
    member = update.my_chat_member
    if (
        member is not None
        and member.chat.type == ChatType.PRIVATE
        and member.new_chat_member.status == "kicked"
    ):
        return ParsedUpdate(update.update_id, blocked_by=_urn(member.from_user.id))
    return ParsedUpdate(update.update_id)


class NotAnUpdate(ValueError):
    """The body is JSON but not a Telegram update."""


def decode_update(data: Any, bot: Bot) -> Update:
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise NotAnUpdate("an update is an object with an integer update_id")
    try:
        update = Update.de_json(data, bot)
    except Exception as exc:  # any shape python-telegram-bot cannot read is a bad request
        raise NotAnUpdate(f"malformed update: {type(exc).__name__}") from exc
    if update is None:
        raise NotAnUpdate("empty update")
    return update


def read_update(update: Update) -> ParsedUpdate:
    """``parse_update``, with any field of an unexpected type reported as a bad update."""
    try:
        return parse_update(update)
    except Exception as exc:
        raise NotAnUpdate(f"malformed update: {type(exc).__name__}") from exc


@dataclass
class TelegramUpdates:
    """Hands parsed updates to the core; the webhook and the poller share it.

    ``receive`` commits the message's effects (raising if it cannot); only then is
    the update acknowledged to Telegram (the webhook's 200, the poller's offset).
    """

    receive: Callable[[InboundMessage], Awaitable[object]]
    blocked: Callable[[str], Awaitable[object]]

    async def handle(self, update: Update) -> ParsedUpdate:
        """Raises ``NotAnUpdate`` for an update we cannot read (answered 400, or skipped by
        the poller), and whatever ``receive`` raises when the database is away."""
        parsed = read_update(update)
        if parsed.message is not None:
            await self.receive(parsed.message)
        elif parsed.blocked_by is not None:
            await self.blocked(parsed.blocked_by)
        return parsed


def answer_callback(callback_query_id: str) -> dict[str, str]:
    """The webhook reply that answers a button press at once, with no extra request."""
    return {"method": "answerCallbackQuery", "callback_query_id": callback_query_id}


class TelegramPoller:
    """getUpdates in a loop, for running locally without a public URL."""

    def __init__(self, bot: Bot, updates: TelegramUpdates, *, timeout: int = POLL_TIMEOUT) -> None:
        self.bot = bot
        self.updates = updates
        self.timeout = timeout

    async def run(self, stop: asyncio.Event) -> None:
        offset: int | None = None
        pause = 1.0
        webhook_removed = False
        while not stop.is_set():
            try:
                if not webhook_removed:  # getUpdates is refused while a webhook is set
                    await self.bot.delete_webhook(drop_pending_updates=False)
                    webhook_removed = True
                batch = await self.bot.get_updates(
                    offset=offset, timeout=self.timeout, allowed_updates=ALLOWED_UPDATES
                )
                for update in batch:
                    try:
                        parsed = await self.updates.handle(update)
                    except NotAnUpdate:  # it will not get better by asking again
                        log.warning("skipped unreadable update %s", update.update_id)
                        offset = update.update_id + 1
                        continue
                    offset = update.update_id + 1  # acknowledged: its effects are committed
                    if parsed.callback_query_id:
                        with contextlib.suppress(TelegramError):
                            await self.bot.answer_callback_query(parsed.callback_query_id)
                pause = 1.0
            except asyncio.CancelledError:
                raise
            except Exception:  # Telegram or the database away: the same updates come again
                log.exception("polling Telegram failed; retrying in %.0f s", pause)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
                pause = min(pause * 2, 60.0)


# ----------------------------------------------------------------- outbound


def callback_data(choice: Choice, position: int) -> str:
    if len(choice.value.encode()) <= CALLBACK_DATA_BYTES and not choice.value.startswith(
        POSITION_PREFIX
    ):
        return choice.value
    return f"{POSITION_PREFIX}{position}"


def keyboard(choices: tuple[Choice, ...]) -> InlineKeyboardMarkup | None:
    """One button per row: labels are whole sentences in some languages."""
    if not choices:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(choice.label[:64], callback_data=callback_data(choice, n))]
            for n, choice in enumerate(choices, 1)
        ]
    )


def _seconds(retry_after: int | float | timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)


def _retry_after(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        return _seconds(exc.retry_after)


class TelegramChannel(Channel):
    name = "telegram"
    capabilities = Capabilities(buttons=True, max_text=MessageLimit.MAX_TEXT_LENGTH, erase=True)

    def __init__(
        self, bot: Bot, limiter: KeyedLimiter | None = None, shared: Limiter | None = None
    ) -> None:
        self.bot = bot
        self.limiter = limiter or telegram_limiter()
        self.shared = shared or LocalLimiter()
        self.shared_key = f"telegram:{bot.token.split(':', 1)[0]}"  # per bot, not per token

    async def _slot(self, chat: str, *, may_defer: bool) -> None:
        """The chat's slot (handed back as ``Throttled`` when it is far and the message
        may wait), then the bot's next slot overall, shared by every process."""
        wait = self.limiter.reserve(chat) if may_defer else 0.0
        if wait > LONGEST_INLINE_WAIT:
            raise Throttled(wait, "chat rate limit")
        if not may_defer or wait > 0:
            await self.limiter.acquire(chat)
        await self.shared.acquire(self.shared_key, OVERALL.count / OVERALL.per_seconds)

    async def _erase(self, chat_id: int, refs: list[str]) -> SendResult:
        """Delete messages of a private chat (both sides, 48 hours at most), 100 at a time.
        Those Telegram no longer lets us delete are gone from our reach: not an error."""
        ids = [int(ref) for ref in refs if str(ref).isdigit()]
        for start in range(0, len(ids), 100):
            await self._slot(str(chat_id), may_defer=start == 0)
            try:
                await self.bot.delete_messages(chat_id, ids[start : start + 100])
            except RetryAfter as exc:
                raise Throttled(_retry_after(exc), str(exc)) from exc
            except Forbidden as exc:
                raise ContactStopped(str(exc)) from exc
            except BadRequest as exc:
                log.info("could not erase messages in a private chat: %s", exc)
            except TelegramError as exc:
                raise ConnectionFailed(f"{type(exc).__name__}: {exc}") from exc
        return SendResult()

    async def deliver(
        self, urn: URN, message: OutboundMessage, envelope: Envelope = DIRECT
    ) -> SendResult:
        chat_id = int(urn.path)
        if ERASE in message.meta:
            return await self._erase(chat_id, message.meta[ERASE])
        parts = split_text(message.text, self.capabilities.max_text)
        sent: Message | None = None
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            # Once a part is out, the rest must follow rather than be deferred whole.
            await self._slot(urn.path, may_defer=index == 0)
            try:
                sent = await self.bot.send_message(
                    chat_id, part, reply_markup=keyboard(message.choices) if last else None
                )
            except RetryAfter as exc:
                raise Throttled(_retry_after(exc), str(exc)) from exc
            except Forbidden as exc:
                raise ContactStopped(str(exc)) from exc
            except ChatMigrated as exc:
                raise PermanentFailure(f"group moved to {exc.new_chat_id}") from exc
            except BadRequest as exc:
                raise PermanentFailure(str(exc)) from exc
            except TelegramError as exc:  # network, timeouts, 5xx, a bad token: try later
                raise ConnectionFailed(f"{type(exc).__name__}: {exc}") from exc
        return SendResult(provider_message_id=str(sent.message_id) if sent else None)
