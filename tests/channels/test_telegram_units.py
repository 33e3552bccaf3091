"""The pure parts of the Telegram channel: parsing recorded updates, keyboards, splitting,
and the token buckets that keep us inside Telegram's limits."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot

from bot.messages import Choice, Location
from bot.ratelimit import KeyedLimiter, Limit, TokenBucket
from channels.base import split_text
from channels.telegram import (
    CALLBACK_DATA_BYTES,
    NotAnUpdate,
    callback_data,
    decode_update,
    keyboard,
    parse_update,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "telegram"
USER = "telegram:777000111"
BOT = Bot("123456:TEST-token-abc")


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def parsed(data: dict[str, Any]):  # type: ignore[no-untyped-def]
    return parse_update(decode_update(data, BOT))


def test_a_text_message_becomes_an_inbound_message_from_the_user() -> None:
    result = parsed(fixture("text"))
    assert result.message is not None
    assert result.message.channel == "telegram"
    assert result.message.urn == USER
    assert result.message.text == "Hello"
    assert result.message.provider_id == str(fixture("text")["update_id"])
    assert result.callback_query_id is None


@pytest.mark.parametrize(
    ("text", "command", "rest"),
    [
        ("/start", "start", ""),
        ("/menu", "menu", ""),
        ("/help@baraza_test_bot", "help", ""),
        ("/LANGUAGE", "language", ""),
        ("/stop", "stop", ""),
        ("/announce Meeting on Friday at 10", "announce", "Meeting on Friday at 10"),
        ("/members", "members", ""),
    ],
)
def test_known_commands_become_channel_neutral_commands(text: str, command: str, rest: str) -> None:
    data = fixture("command_start")
    data["message"]["text"] = text
    data["message"]["entities"] = [
        {"offset": 0, "length": len(text.split(" ")[0]), "type": "bot_command"}
    ]
    message = parsed(data).message
    assert message is not None
    assert (message.command, message.text) == (command, rest)


def test_an_unknown_command_is_just_text() -> None:
    data = fixture("command_start")
    data["message"]["text"] = "/weather"
    data["message"]["entities"][0]["length"] = 8
    message = parsed(data).message
    assert message is not None and message.command is None and message.text == "/weather"


def test_the_recorded_announce_command_keeps_its_text() -> None:
    message = parsed(fixture("command_announce")).message
    assert message is not None
    assert message.command == "announce" and message.text == "Meeting on Friday at 10"


def test_a_button_press_is_the_choice_value_and_is_answered() -> None:
    data = fixture("callback_query")
    result = parsed(data)
    assert result.callback_query_id == data["callback_query"]["id"]
    assert result.message is not None
    assert (result.message.button, result.message.text, result.message.urn) == ("1", "", USER)


def test_a_button_carrying_a_position_reads_as_the_typed_number() -> None:
    data = fixture("callback_query")
    data["callback_query"]["data"] = "#3"
    message = parsed(data).message
    assert message is not None and (message.button, message.text) == (None, "3")


def test_a_shared_location_is_a_location() -> None:
    message = parsed(fixture("location")).message
    assert message is not None
    assert message.location == Location(-1.2757, 36.851)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("photo", "image"),
        ("voice", "audio"),
        ("video", "video"),
        ("document", "document"),
        ("sticker", "sticker"),
    ],
)
def test_media_is_named_not_downloaded(name: str, kind: str) -> None:
    message = parsed(fixture(name)).message
    assert message is not None and message.media == kind


def test_an_edited_message_is_marked_edited() -> None:
    message = parsed(fixture("edited_message")).message
    assert message is not None and message.edited


@pytest.mark.parametrize("name", ["group_message", "channel_post"])
def test_groups_and_channels_are_not_conversations(name: str) -> None:
    result = parsed(fixture(name))
    assert result.message is None and result.blocked_by is None


def test_blocking_the_bot_is_reported() -> None:
    assert parsed(fixture("my_chat_member_kicked")).blocked_by == USER


@pytest.mark.parametrize(
    "body",
    [[], "update", {"message": {}}, {"update_id": "7"}, {"update_id": 7, "message": "x"}],
)
def test_what_is_not_an_update_is_refused(body: Any) -> None:
    with pytest.raises(NotAnUpdate):
        decode_update(copy.deepcopy(body), BOT)


def test_callback_data_fits_telegram_s_64_bytes() -> None:
    short = Choice("theft", "Theft")
    long = Choice("é" * 40, "Long")  # 80 bytes in UTF-8
    assert callback_data(short, 1) == "theft"
    assert callback_data(long, 2) == "#2"
    assert callback_data(Choice("#odd", "Odd"), 3) == "#3"
    markup = keyboard((short, long))
    assert markup is not None
    rows = markup.to_dict()["inline_keyboard"]
    assert [len(row) for row in rows] == [1, 1]
    assert all(len(r[0]["callback_data"].encode()) <= CALLBACK_DATA_BYTES for r in rows)
    assert keyboard(()) is None


def test_split_text_keeps_short_texts_whole() -> None:
    assert split_text("hello\nworld", 4096) == ["hello\nworld"]


def test_split_text_cuts_at_line_breaks() -> None:
    lines = [f"line {n:04d} " + "x" * 90 for n in range(100)]  # ~100 chars each
    text = "\n".join(lines)
    parts = split_text(text, 4096)
    assert all(len(p) <= 4096 for p in parts)
    assert len(parts) == 3
    assert "\n".join(parts) == text  # nothing lost, no line cut
    assert all(p.startswith("line ") for p in parts)


def test_split_text_cuts_a_huge_line_at_spaces_then_anywhere() -> None:
    words = " ".join(["word"] * 3000)  # 14,999 characters, one line
    parts = split_text(words, 4096)
    assert all(len(p) <= 4096 for p in parts)
    assert " ".join(parts) == words
    blob = "x" * 10_000
    assert split_text(blob, 4096) == ["x" * 4096, "x" * 4096, "x" * 1808]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1.0, capacity=3.0, clock=clock)
    for _ in range(3):
        assert bucket.wait_time() == 0
        bucket.take()
    assert bucket.wait_time() == pytest.approx(1.0)
    clock.now = 0.5
    assert bucket.wait_time() == pytest.approx(0.5)
    clock.now = 1.0
    assert bucket.wait_time() == 0


def test_the_keyed_limiter_holds_one_chat_without_holding_the_others() -> None:
    clock = Clock()
    limiter = KeyedLimiter(Limit(30, 1.0), lambda _: Limit(1, 1.0, burst=3), clock=clock)
    assert [limiter.reserve("42") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.reserve("42") == pytest.approx(1.0)  # nothing taken
    assert limiter.reserve("43") == 0.0
    clock.now = 1.0
    assert limiter.reserve("42") == 0.0


def test_the_overall_limit_holds_every_chat() -> None:
    clock = Clock()
    limiter = KeyedLimiter(Limit(30, 1.0), lambda _: Limit(1, 1.0, burst=3), clock=clock)
    for chat in range(30):
        assert limiter.reserve(str(chat)) == 0.0
    assert limiter.reserve("999") == pytest.approx(1 / 30)


def test_groups_get_twenty_a_minute() -> None:
    from channels.telegram import telegram_limiter

    limiter = telegram_limiter()
    clock = Clock()
    limiter.clock = clock
    waits = [limiter.reserve("-100123") for _ in range(4)]
    assert waits[:3] == [0.0, 0.0, 0.0] and waits[3] == pytest.approx(3.0)
