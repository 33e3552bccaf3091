"""The Twilio REST client as the sender uses it (async, on httpx, rooted at
TWILIO_API_URL): what it sends, and how a provider that cannot be reached, answers too
slowly or refuses reads to the sender. Against the fake Twilio server, with the real
twilio library."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from bot.limiter import LocalLimiter
from bot.messages import OutboundMessage
from bot.urns import parse
from channels.base import ConnectionFailed, PermanentFailure, Throttled
from channels.twilio import RootedHttpClient, TwilioChannel, TwilioConfig, close_client, make_client
from tests.fakes.twilio_api import FakeTwilio

FROM = "+254711000000"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


def channel_to(url: str, fake: FakeTwilio, *, timeout: float = 15.0) -> TwilioChannel:
    client = make_client(fake.account_sid, fake.auth_token, url)
    assert isinstance(client.http_client, RootedHttpClient)
    client.http_client.timeout = timeout
    return TwilioChannel("sms", client, TwilioConfig(FROM, 50.0), LocalLimiter())


def closed_port() -> int:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_message_reaches_the_fake_with_its_fields_and_the_connection_is_kept(
    fake: FakeTwilio,
) -> None:
    fake.reset()
    sms = channel_to(fake.url, fake)
    try:
        for n in range(3):
            result = await sms.deliver(parse("tel:+254722000001"), OutboundMessage(text=f"hi {n}"))
            assert result.provider_message_id and result.segments == 1
        sent = fake.messages
        assert [(m.to, m.from_, m.body) for m in sent] == [
            ("+254722000001", FROM, f"hi {n}") for n in range(3)
        ]
    finally:
        await close_client(sms.client)
    # Closed, the client opens new connections when it is used again.
    await sms.deliver(parse("tel:+254722000001"), OutboundMessage(text="again"))
    await close_client(sms.client)
    assert fake.messages[-1].body == "again"


async def test_nobody_listening_is_a_connection_failure(fake: FakeTwilio) -> None:
    sms = channel_to(f"http://127.0.0.1:{closed_port()}", fake)
    with pytest.raises(ConnectionFailed):
        await sms.deliver(parse("tel:+254722000001"), OutboundMessage(text="hello"))
    await close_client(sms.client)


async def test_a_provider_too_slow_to_answer_is_a_connection_failure(fake: FakeTwilio) -> None:
    fake.reset()
    fake.down(503, hang=2.0)
    sms = channel_to(fake.url, fake, timeout=0.3)
    try:
        with pytest.raises(ConnectionFailed, match="Timeout"):
            await sms.deliver(parse("tel:+254722000001"), OutboundMessage(text="hello"))
    finally:
        fake.up()
        await close_client(sms.client)


@pytest.mark.parametrize(
    ("status", "error"), [(503, ConnectionFailed), (500, ConnectionFailed), (429, Throttled)]
)
async def test_what_twilio_answers_maps_onto_the_senders_errors(
    fake: FakeTwilio, status: int, error: type[Exception]
) -> None:
    fake.reset()
    fake.down(status)
    sms = channel_to(fake.url, fake)
    try:
        with pytest.raises(error):
            await sms.deliver(parse("tel:+254722000001"), OutboundMessage(text="hello"))
    finally:
        fake.up()
        await close_client(sms.client)


async def test_a_refused_message_is_a_permanent_failure(fake: FakeTwilio) -> None:
    sms = channel_to(fake.url, fake)
    try:
        with pytest.raises(PermanentFailure):  # a message with no body: Twilio says 400
            await sms.deliver(parse("tel:+254722000001"), OutboundMessage(text=""))
    finally:
        await close_client(sms.client)
