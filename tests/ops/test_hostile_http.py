"""Hostile HTTP: bodies over the cap (declared, chunked or lying) get 413, malformed
JSON and forms get a clear 4xx on every webhook and on the staff API, never a 5xx, and
nothing of them is stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest

from bot.models import InboundReceipt, OutboxMessage
from tests.channels.test_telegram import SECRET
from tests.channels.test_twilio import PUBLIC, Phone
from tests.fakes.twilio_api import signed
from tests.ops.conftest import Ops, admin_token

OVER = 300 * 1024  # the default cap is 256 KiB


async def chunks(total: int, size: int = 16 * 1024) -> AsyncIterator[bytes]:
    """A body sent chunked: no Content-Length to refuse it by."""
    yield b'{"update_id": 1, "pad": "'
    for _ in range(total // size):
        yield b"x" * size
    yield b'"}'


async def nothing_stored(ops: Ops) -> None:
    assert await ops.telegram.count(InboundReceipt) == 0
    assert await ops.telegram.count(OutboxMessage) == 0


async def test_a_chunked_body_over_the_cap_is_refused_as_it_streams(ops: Ops) -> None:
    response = await ops.client.post(
        "/webhooks/telegram",
        content=chunks(OVER),
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["detail"] == f"request body over {256 * 1024} bytes"
    await nothing_stored(ops)


async def test_a_declared_length_over_the_cap_is_refused_before_reading(ops: Ops) -> None:
    phone = Phone(ops.twilio)
    params = phone.params("x" * OVER)
    response = await ops.client.post(
        "/webhooks/twilio/sms",
        content=urlencode(params),
        headers=signed(PUBLIC + "/webhooks/twilio/sms", params, ops.twilio.fake.auth_token),
    )
    assert response.status_code == 413
    await nothing_stored(ops)


async def test_a_body_longer_than_it_says_is_refused(ops: Ops) -> None:
    """A Content-Length under the cap does not let a longer body through."""

    async def receive_lying() -> AsyncIterator[bytes]:
        for _ in range(OVER // 8192 + 1):
            yield b"a" * 8192

    response = await ops.client.post(
        "/api/v1/auth/token",
        content=receive_lying(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Content-Length": "100"},
    )
    assert response.status_code == 413


async def test_the_staff_api_is_capped_too(ops: Ops) -> None:
    async def form() -> AsyncIterator[bytes]:
        yield b"username=a&password="
        for _ in range(OVER // 8192 + 1):
            yield b"p" * 8192

    response = await ops.client.post(
        "/api/v1/auth/token",
        content=form(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    token = await admin_token(ops)
    response = await ops.client.post(
        "/api/v1/broadcasts/preview",
        content=b'{"texts": {"en": "' + b"y" * OVER + b'"}}',
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe not utf-8", b'{"update_id": "\x00"}', b"1e999999", b'{"update_id": 1e400}', b""],
)
async def test_odd_telegram_bodies_get_a_4xx(ops: Ops, raw: bytes) -> None:
    response = await ops.telegram.post({}, raw=raw)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["detail"]
    await nothing_stored(ops)


@pytest.mark.parametrize("path", ["/webhooks/twilio/sms", "/webhooks/twilio/whatsapp"])
@pytest.mark.parametrize(
    "change",
    [
        {"From": ""},
        {"From": "not a number"},
        {"MessageSid": ""},
        {"NumMedia": "many"},
        {"Latitude": "north", "Longitude": "1"},
        {"Latitude": "1e400", "Longitude": "nan"},
    ],
)
async def test_malformed_twilio_forms_get_a_400_naming_the_field(
    ops: Ops, path: str, change: dict[str, str]
) -> None:
    phone = Phone(ops.twilio, channel="whatsapp" if path.endswith("whatsapp") else "sms")
    params = {**phone.params("hello"), **change}
    response = await ops.twilio.post(path, params)
    assert response.status_code == 400, response.text
    assert response.json()["detail"]
    await nothing_stored(ops)


async def test_a_malformed_status_callback_gets_a_400(ops: Ops) -> None:
    sid = "SM" + "c" * 32
    for params in (
        {"MessageStatus": "delivered"},
        {"MessageSid": "SMx"},
        {},
        {"MessageSid": "SM\x00", "MessageStatus": "delivered"},  # found by hypothesis: a 500 on PG
        {"MessageSid": sid + "\n", "MessageStatus": "delivered"},
        {"MessageSid": sid, "MessageStatus": "delivered\x00"},
        {"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": "30003; DROP"},
    ):
        response = await ops.twilio.post("/webhooks/twilio/status", params)
        assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[]", b'"\x00"', b"[" * 5000 + b"]" * 5000, b'{"texts": 12}', b"\xff"],
)
async def test_malformed_json_on_the_staff_api_gets_a_4xx(ops: Ops, body: bytes) -> None:
    token = await admin_token(ops)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for path in ("/api/v1/broadcasts/preview", "/api/v1/meetings", "/api/v1/areas"):
        response = await ops.client.post(path, content=body, headers=headers)
        assert 400 <= response.status_code < 500, (path, response.text)


async def test_numbers_too_big_for_the_database_get_a_422(ops: Ops) -> None:
    """Found by schemathesis: ids and pages past 64 bits overflowed in the driver (500)."""
    token = await admin_token(ops)
    headers = {"Authorization": f"Bearer {token}"}
    huge = 10**30
    for method, path in (
        ("GET", f"/api/v1/audit?page={huge}"),
        ("GET", f"/api/v1/audit?case_id={huge}"),
        ("GET", f"/api/v1/cases?page={huge}"),
        ("GET", f"/api/v1/broadcasts/{huge}"),
        ("POST", f"/api/v1/campaigns/{huge}/pause"),
        ("POST", f"/api/v1/meetings/{huge}/cancel"),
    ):
        response = await ops.client.request(method, path, headers=headers)
        assert response.status_code == 422, (path, response.text)


async def test_an_area_key_that_exists_gets_a_409(ops: Ops) -> None:
    """Found by schemathesis: the audit write flushed the new area early, so the clash
    escaped as a 500 instead of the 409 the commit would have given."""
    token = await admin_token(ops)
    response = await ops.client.post(
        "/api/v1/areas",
        json={"key": "ke-eastleigh", "names": {"en": "Again"}, "parent": "ke", "level": "district"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 409, response.text
