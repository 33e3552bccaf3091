"""The fake Twilio Messages API against the real twilio client, and the recorded
webhook fixtures against twilio's RequestValidator."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.rest.api.v2010.account.message import MessageInstance

from tests.fakes.twilio_api import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    ERROR_MESSAGES,
    FakeTwilio,
    async_client_for,
    client_for,
    encoding,
    fixture_names,
    inbound_sms,
    inbound_whatsapp,
    load_params,
    segments,
    signed,
)

SMS_FROM = "+254711000000"
USER = "+254722000111"
WA_FROM = "whatsapp:+14155238886"
WA_USER = "whatsapp:+258841234567"
TEMPLATE = "HX" + "b" * 32
WINDOW = ERROR_MESSAGES[63016]
SID = re.compile(r"SM[0-9a-f]{32}")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture(autouse=True)
def clean(fake: FakeTwilio) -> None:
    fake.reset()


@pytest.fixture(scope="module")
def client(fake: FakeTwilio) -> Client:
    return client_for(fake)


def sms(client: Client, body: str = "Hello", to: str = USER) -> MessageInstance:
    return client.messages.create(to=to, from_=SMS_FROM, body=body)


def failure(client: Client, **kwargs: Any) -> TwilioRestException:
    kwargs.setdefault("to", USER)
    kwargs.setdefault("from_", SMS_FROM)
    kwargs.setdefault("body", "Hello")
    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(**kwargs)
    return caught.value


# -- creating and fetching --------------------------------------------------------------


def test_create_message(fake: FakeTwilio, client: Client) -> None:
    message = client.messages.create(
        to=USER, from_=SMS_FROM, body="Hello", status_callback="https://bot.example/status"
    )

    assert SID.fullmatch(message.sid or "")
    assert message.account_sid == DEFAULT_ACCOUNT_SID
    assert (message.to, message.from_, message.body) == (USER, SMS_FROM, "Hello")
    assert message.status == "queued" and message.direction == "outbound-api"
    assert message.num_segments == "1" and message.num_media == "0"
    assert message.api_version == "2010-04-01"
    assert isinstance(message.date_created, datetime) and message.date_created.tzinfo
    assert message.price is None and message.error_code is None and message.error_message is None
    assert message.uri == f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages/{message.sid}.json"
    assert message.subresource_uris == {"media": message.uri.removesuffix(".json") + "/Media.json"}
    assert message.messaging_service_sid is None

    [sent] = fake.messages
    assert sent.sid == message.sid and sent.to == USER and sent.from_ == SMS_FROM
    assert sent.status_callback == "https://bot.example/status"
    assert sent.content_sid is None and sent.content_variables is None
    assert sent.params == {
        "To": USER,
        "From": SMS_FROM,
        "Body": "Hello",
        "StatusCallback": "https://bot.example/status",
    }
    assert fake.bodies(USER) == ["Hello"] and fake.to(USER) == [sent] and fake.bodies("+1") == []
    [call] = fake.requests
    assert call.method == "POST" and call.status == 201 and call.ok
    assert call.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in call.headers

    fetched = client.messages(message.sid).fetch()
    assert fetched.body == "Hello" and fetched.status == "queued"


def test_edge_and_region_hosts_are_redirected_too(fake: FakeTwilio) -> None:
    http_client = client_for(fake).http_client
    client = Client(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, edge="sydney", http_client=http_client)
    assert client.get_hostname("https://api.twilio.com/x") == "https://api.sydney.us1.twilio.com/x"
    assert sms(client).status == "queued"


def test_fetch_unknown_message_is_404(client: Client) -> None:
    with pytest.raises(TwilioRestException) as caught:
        client.messages("SM" + "0" * 32).fetch()
    assert caught.value.status == 404 and caught.value.code == 20404


def test_wrong_auth_token_is_401(fake: FakeTwilio) -> None:
    error = failure(client_for(fake, auth_token="f" * 32))
    assert (error.status, error.code) == (401, 20003)
    assert error.msg == "Unable to create record: Authenticate"
    assert fake.messages == []
    [call] = fake.requests
    assert call.status == 401 and call.code == 20003
    assert call.response == {
        "code": 20003,
        "detail": "Your AccountSid or AuthToken was incorrect.",
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }


def test_another_accounts_path_is_404(fake: FakeTwilio) -> None:
    other = Client(
        DEFAULT_ACCOUNT_SID,
        DEFAULT_AUTH_TOKEN,
        account_sid="AC" + "1" * 32,
        http_client=client_for(fake).http_client,
    )
    error = failure(other)
    assert (error.status, error.code) == (404, 20404)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"to": ""}, 21604),
        ({"from_": None}, 21603),
        ({"body": None}, 21602),
        ({"body": "x" * 1601}, 21617),
        ({"to": "0722000111"}, 21211),
        ({"to": WA_USER}, 21910),
        ({"content_sid": TEMPLATE, "content_variables": "{not json"}, 21656),
    ],
)
def test_validation(client: Client, kwargs: dict[str, object], code: int) -> None:
    error = failure(client, **kwargs)
    assert (error.status, error.code) == (400, code)


def test_messaging_service_without_from_is_accepted(fake: FakeTwilio, client: Client) -> None:
    service = "MG" + "a" * 32
    message = client.messages.create(to=USER, messaging_service_sid=service, body="Hi")
    assert message.status == "accepted" and message.from_ is None and message.num_segments == "0"
    assert message.messaging_service_sid == service
    assert fake.to(USER)[0].messaging_service_sid == service


def test_media_message(fake: FakeTwilio, client: Client) -> None:
    urls = ["https://bot.example/a.jpg", "https://bot.example/b.jpg"]
    message = client.messages.create(to=WA_USER, from_=WA_FROM, media_url=urls)
    assert (message.sid or "").startswith("MM") and message.num_media == "2"
    sent = fake.to(WA_USER)[0]
    assert sent.media_urls == tuple(urls) and sent.params["MediaUrl"] == urls


def test_list_messages_pages(fake: FakeTwilio, client: Client) -> None:
    sids = [sms(client, f"n{i}").sid for i in range(3)]
    sms(client, "elsewhere", to="+254733000222")
    listed = client.messages.list(to=USER, page_size=2)
    assert [m.sid for m in listed] == sids[::-1]
    assert [c.status for c in fake.requests[-2:]] == [200, 200]  # two pages


def test_set_status_and_callback_params(fake: FakeTwilio, client: Client) -> None:
    message = client.messages.create(
        to=WA_USER, from_=WA_FROM, body="Hi", status_callback="https://bot.example/s"
    )
    params = fake.set_status(message.sid or "", "undelivered", error_code=63024)
    assert params["MessageStatus"] == params["SmsStatus"] == "undelivered"
    assert params["ErrorCode"] == "63024" and params["ChannelPrefix"] == "whatsapp"
    assert params["MessageSid"] == message.sid and params["To"] == WA_USER
    fetched = client.messages(message.sid).fetch()
    assert fetched.status == "undelivered" and fetched.error_code == 63024
    assert fetched.date_sent is not None


# -- failures -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "expected_code", "text"),
    [
        (429, None, 20429, "Too Many Requests"),
        (500, None, 500, "Internal Server Error"),  # no "code": the library uses the status
        (400, 21610, 21610, "Attempt to send to unsubscribed recipient"),
        (400, 63016, 63016, WINDOW),
    ],
)
def test_injected_failures(
    fake: FakeTwilio, client: Client, status: int, code: int | None, expected_code: int, text: str
) -> None:
    fake.fail_next(status, code=code)
    error = failure(client)
    assert (error.status, error.code) == (status, expected_code)
    assert error.msg == f"Unable to create record: {text}"
    body = fake.requests[-1].response
    assert body["status"] == status and body["message"] == text
    if code is None and status == 500:
        assert "code" not in body and body["more_info"] == "https://www.twilio.com/docs/errors"
    else:
        assert body["more_info"] == f"https://www.twilio.com/docs/errors/{expected_code}"
    # only the next one
    assert sms(client).status == "queued"


def test_fail_next_times_to_and_message(fake: FakeTwilio, client: Client) -> None:
    fake.fail_next(503, code=20503, message="Service Unavailable", times=2, to=USER)
    assert sms(client, to="+254733000222").status == "queued"
    for _ in range(2):
        error = failure(client)
        assert (error.status, error.code) == (503, 20503)
    assert sms(client).status == "queued"
    assert [c.status for c in fake.requests] == [201, 503, 503, 201]
    assert fake.bodies(USER) == ["Hello"]


def test_unsubscribe(fake: FakeTwilio, client: Client) -> None:
    fake.unsubscribe(USER)
    for _ in range(2):
        error = failure(client)
        assert (error.status, error.code) == (400, 21610)
    fake.resubscribe(USER)
    assert sms(client).status == "queued"


def test_whatsapp_window(fake: FakeTwilio, client: Client) -> None:
    assert client.messages.create(to=WA_USER, from_=WA_FROM, body="Olá").status == "queued"
    fake.whatsapp_window("+258841234567", open=False)

    error = failure(client, to=WA_USER, from_=WA_FROM, body="Olá de novo")
    assert (error.status, error.code) == (400, 63016) and error.msg.endswith(WINDOW)

    fake.template(TEMPLATE, "Hello {{1}}, your report {{2}} was received.")
    template = client.messages.create(
        to=WA_USER,
        from_=WA_FROM,
        content_sid=TEMPLATE,
        content_variables=json.dumps({"1": "Ana", "2": "R-17"}),
    )
    assert template.status == "queued" and template.num_segments == "1"
    assert template.body == "Hello Ana, your report R-17 was received."
    sent = fake.to(WA_USER)[-1]
    assert sent.content_sid == TEMPLATE and sent.content_variables == {"1": "Ana", "2": "R-17"}
    # SMS to the same person has no window.
    assert sms(client, to="+258841234567").status == "queued"

    fake.whatsapp_window(WA_USER, open=True)
    assert client.messages.create(to=WA_USER, from_=WA_FROM, body="Again").status == "queued"
    assert fake.bodies("+258841234567") == [
        "Olá",
        "Hello Ana, your report R-17 was received.",
        "Hello",
        "Again",
    ]
    assert fake.bodies(WA_USER) == ["Olá", "Hello Ana, your report R-17 was received.", "Again"]


def test_whatsapp_window_deferred(fake: FakeTwilio, client: Client) -> None:
    fake.window_errors = "deferred"
    fake.whatsapp_window(WA_USER, open=False)
    message = client.messages.create(to=WA_USER, from_=WA_FROM, body="Olá")
    assert message.status == "queued"
    fetched = client.messages(message.sid).fetch()
    assert fetched.status == "failed" and fetched.error_code == 63016
    assert fetched.error_message == WINDOW


def test_client_timeout_surfaces_as_requests_error(fake: FakeTwilio) -> None:
    fake.delay(0.2)
    with pytest.raises(requests.exceptions.ReadTimeout):
        sms(client_for(fake, timeout=0.05))
    # As with the real API, the request the client gave up on still sends the message.
    deadline = time.monotonic() + 2
    while not fake.messages and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake.bodies(USER) == ["Hello"] and fake.requests[0].status == 201


# -- segments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected_encoding", "expected_segments"),
    [
        ("Hello", "GSM-7", 1),
        ("", "GSM-7", 1),
        ("€", "GSM-7", 1),
        ("€" * 80, "GSM-7", 1),  # 160 septets
        ("€" * 81, "GSM-7", 2),  # 162 septets
        ("a" * 159 + "€", "GSM-7", 2),  # 161 septets
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 3),  # 306 septets, but ESC+€ is never split
        ("Olà, é ù ì ò Ç ÄÖÑÜ äöñü ß Δ¡¿§", "GSM-7", 1),
        ("Olá", "UCS-2", 1),  # á is not in GSM 03.38
        ("ç", "UCS-2", 1),  # only capital Ç is
        ("a" * 69 + "á", "UCS-2", 1),
        ("a" * 70 + "á", "UCS-2", 2),
        ("😀" * 35, "UCS-2", 1),  # 70 UTF-16 code units
        ("😀" * 36, "UCS-2", 2),
        ("a" * 134, "GSM-7", 1),
        ("á" * 134, "UCS-2", 2),
        ("á" * 135, "UCS-2", 3),
        ("a" * 66 + "😀" + "a" * 66, "UCS-2", 3),  # 134 units; the pair is never split
    ],
)
def test_segments(text: str, expected_encoding: str, expected_segments: int) -> None:
    assert encoding(text) == expected_encoding
    assert segments(text) == expected_segments


@pytest.mark.parametrize(
    ("body", "expected"),
    [("Hello", "1"), ("€" * 81, "2"), ("Olá", "1"), ("a" * 161, "2"), ("á" * 71, "2")],
)
def test_num_segments_over_the_api(client: Client, body: str, expected: str) -> None:
    assert sms(client, body).num_segments == expected


# -- async -----------------------------------------------------------------------------


async def test_wait_for_with_the_sync_client_in_a_thread(fake: FakeTwilio, client: Client) -> None:
    task = asyncio.create_task(asyncio.to_thread(sms, client, "later"))
    sent = await fake.wait_for(lambda f: f.to(USER), timeout=2)
    assert sent[0].body == "later"
    await task
    with pytest.raises(AssertionError, match="condition not met"):
        await fake.wait_for(lambda f: f.bodies("+1"), timeout=0.05)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # aiohttp 3.14 deprecates BasicAuth
async def test_async_client(fake: FakeTwilio) -> None:
    client = async_client_for(fake)
    try:
        message = await client.messages.create_async(to=WA_USER, from_=WA_FROM, body="Olá")
        assert message.status == "queued"
        fake.fail_next(429)
        with pytest.raises(TwilioRestException) as caught:
            await client.messages.create_async(to=WA_USER, from_=WA_FROM, body="Olá")
        assert (caught.value.status, caught.value.code) == (429, 20429)
    finally:
        await client.http_client.close()


# -- webhook fixtures --------------------------------------------------------------------

WEBHOOK = "https://baraza.example.org/webhooks/twilio"


def test_fixture_set() -> None:
    assert list(fixture_names()) == [
        "sms",
        "status_delivered",
        "status_undelivered",
        "status_whatsapp_failed",
        "whatsapp_button",
        "whatsapp_location",
        "whatsapp_media",
        "whatsapp_text",
    ]


@pytest.mark.parametrize("name", list(fixture_names()))
def test_fixture_signs_and_validates(name: str) -> None:
    params = load_params(name)
    assert all(isinstance(v, str) for v in params.values())
    assert params["AccountSid"] == DEFAULT_ACCOUNT_SID and params["ApiVersion"] == "2010-04-01"
    assert re.fullmatch(r"(SM|MM)[0-9a-f]{32}", params["MessageSid"])
    assert params["SmsSid"] == params["MessageSid"]

    headers = signed(WEBHOOK, params, DEFAULT_AUTH_TOKEN)
    signature = headers["X-Twilio-Signature"]
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    validator = RequestValidator(DEFAULT_AUTH_TOKEN)
    assert validator.validate(WEBHOOK, params, signature)
    assert validator.validate(WEBHOOK.replace(".org/", ".org:443/"), params, signature)
    assert not validator.validate(WEBHOOK + "?x=1", params, signature)
    assert not validator.validate(WEBHOOK, {**params, "Body": "tampered"}, signature)
    assert not RequestValidator("0" * 32).validate(WEBHOOK, params, signature)


def test_fixture_contents() -> None:
    assert load_params("sms")["Body"] == "Hello" and load_params("sms")["FromCountry"] == "KE"
    text = load_params("whatsapp_text")
    assert text["From"] == WA_USER and text["WaId"] == "258841234567" and text["Body"] == "Olá"
    location = load_params("whatsapp_location")
    assert location["MessageType"] == "location" and float(location["Latitude"]) < 0
    media = load_params("whatsapp_media")
    assert media["NumMedia"] == "1" and media["MediaContentType0"] == "image/jpeg"
    assert media["MediaUrl0"].startswith(
        f"https://api.twilio.com/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages/"
        f"{media['MessageSid']}/Media/ME"
    )
    button = load_params("whatsapp_button")
    assert button["ButtonPayload"] == "report" and button["MessageType"] == "button"
    assert load_params("status_undelivered")["ErrorCode"] == "30003"
    assert load_params("status_delivered")["ChannelPrefix"] == "whatsapp"


def test_inbound_builders() -> None:
    first, second = inbound_sms("Habari"), inbound_sms("Habari")
    assert first["Body"] == "Habari" and first["MessageSid"] != second["MessageSid"]
    assert first["SmsSid"] == first["MessageSid"] and first["From"] == USER
    wa = inbound_whatsapp("Oi", from_="whatsapp:+258849999999", profile_name="Rui")
    assert wa["WaId"] == "258849999999" and wa["ProfileName"] == "Rui" and wa["Body"] == "Oi"
