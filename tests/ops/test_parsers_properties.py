"""Property-based tests of the channels' parsers: whatever a provider (or someone
pretending to be one) sends, parsing either gives a message or refuses it with the
parser's own bad-request error, which the webhook answers with a 400. Nothing else
escapes, so nothing becomes a 500."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from telegram import Bot

from bot.messages import InboundMessage
from channels.telegram import NotAnUpdate, ParsedUpdate, decode_update, read_update
from channels.twilio import BadRequest, parse_inbound
from tests.fakes.telegram_api import load_update, text_update

BOT = Bot("123456:TEST-token-abc")  # parsing only: it never calls the network

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
SHAPES = [
    text_update("hello"),
    text_update("/start"),
    load_update("callback_query"),
    *(load_update(name) for name in ("location", "photo", "edited_message")),
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@st.composite
def updates(draw: st.DrawFn) -> Any:
    """A real update's shape with some fields replaced by anything JSON can hold."""
    update = copy.deepcopy(draw(st.sampled_from(SHAPES)))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(update)
        if not paths:
            break
        *parents, last = draw(st.sampled_from(paths))
        target = update
        for step in parents:
            target = target[step]
        target[last] = draw(JSON)
    return update


def parse_telegram(data: Any) -> ParsedUpdate | None:
    try:
        return read_update(decode_update(data, BOT))
    except NotAnUpdate:
        return None


@given(updates())
def test_any_telegram_update_shape_parses_or_is_refused(data: Any) -> None:
    parsed = parse_telegram(data)
    if parsed is not None and parsed.message is not None:
        assert isinstance(parsed.message, InboundMessage)
        assert parsed.message.urn.startswith("telegram:")


@given(JSON)
def test_any_json_body_parses_or_is_refused(data: Any) -> None:
    parse_telegram(data)


TWILIO_FIELDS = [
    "MessageSid", "From", "To", "Body", "NumMedia", "Latitude", "Longitude",
    "ButtonPayload", "ButtonText", "MediaContentType0", "ProfileName", "WaId",
]  # fmt: skip
GOOD_FORM = {
    "MessageSid": "SM" + "a" * 32,
    "From": "+254733000001",
    "To": "+254711000000",
    "Body": "hello",
    "NumMedia": "0",
}


@given(
    st.sampled_from(["sms", "whatsapp"]),
    st.dictionaries(st.sampled_from(TWILIO_FIELDS), st.text(max_size=40), max_size=8),
    st.booleans(),
)
def test_any_twilio_form_parses_or_is_refused(
    channel: str, fields: dict[str, str], from_good: bool
) -> None:
    form = {**GOOD_FORM, **fields} if from_good else fields
    if channel == "whatsapp" and from_good and "From" not in fields:
        form["From"] = "whatsapp:+254733000001"
    try:
        message = parse_inbound(channel, form)
    except BadRequest:
        return
    assert message.channel == channel
    assert message.provider_id == form["MessageSid"]
    if message.location is not None:
        assert -90 <= message.location.latitude <= 90
