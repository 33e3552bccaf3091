"""The Twilio REST client as the sender uses it (async, on httpx, rooted at
TWILIO_API_URL): what it sends, and how a provider that cannot be reached, answers too
slowly or refuses reads to the sender. Against the fake Twilio server, with the real
twilio library."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from bot.limiter import LocalLimiter
from bot.messages import OutboundMessage
from bot.urns import parse
from channels.base import ConnectionFailed, ContactStopped, PermanentFailure, Throttled
from channels.twilio import RootedHttpClient, TwilioChannel, TwilioConfig, close_client, make_client
from tests.fakes.twilio_api import FakeTwilio
from tests.processes import free_port

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


async def test_messages_reach_the_fake_with_their_fields_and_a_closed_client_reopens(
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
    sms = channel_to(f"http://127.0.0.1:{free_port()}", fake)  # nobody listens there
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


def answering(reply: Callable[[httpx.Request], httpx.Response], fake: FakeTwilio) -> TwilioChannel:
    """A channel whose HTTP answers come from ``reply``: what no fake server says."""
    sms = channel_to("http://twilio.test", fake)
    http = sms.client.http_client
    assert isinstance(http, RootedHttpClient)
    http._http = httpx.AsyncClient(transport=httpx.MockTransport(reply))
    return sms


def problem(status: int, code: int) -> httpx.Response:
    """Twilio's newer error shape (RFC 9457), which the library raises as another class."""
    body = {"type": "https://www.twilio.com/docs/errors/x", "title": "refused", "status": status,
            "code": code, "detail": "refused"}  # fmt: skip
    return httpx.Response(status, json=body, headers={"Content-Type": "application/problem+json"})


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        # a gateway's HTML page, not Twilio's JSON
        (lambda _: httpx.Response(502, text="<html>Bad Gateway</html>"), ConnectionFailed),
        # a body that says gzip and is not: the answer cannot be read
        (
            lambda _: httpx.Response(
                201, content=b"not gzip", headers={"Content-Encoding": "gzip"}
            ),
            ConnectionFailed,
        ),
        (lambda _: problem(429, 20429), Throttled),
        (lambda _: problem(400, 21610), ContactStopped),
        (lambda _: problem(400, 21211), PermanentFailure),
    ],
)
async def test_answers_no_fake_gives_map_onto_the_senders_errors(
    fake: FakeTwilio, reply: Callable[[httpx.Request], httpx.Response], error: type[Exception]
) -> None:
    sms = answering(reply, fake)
    try:
        with pytest.raises(error):
            await sms.deliver(parse("tel:+254722000001"), OutboundMessage(text="hello"))
    finally:
        await close_client(sms.client)


async def test_list_fields_go_as_repeated_form_fields(fake: FakeTwilio) -> None:
    seen: list[httpx.Request] = []

    def reply(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"sid": "SM" + "0" * 32, "status": "queued"})

    sms = answering(reply, fake)
    try:
        await sms.messages.create_async(
            to="+254722000001", from_=FROM, media_url=["https://a.example/1", "https://a.example/2"]
        )
    finally:
        await close_client(sms.client)
    (request,) = seen
    assert request.url.host == "twilio.test"  # api.twilio.com, rooted at TWILIO_API_URL
    form = request.content.decode()
    assert form.count("MediaUrl=") == 2 and "From=%2B254711000000" in form
