"""Logs without personal data or secrets, and the metrics an operator scrapes.

A whole report and a whole protection report go through the real webhooks with every
logger at DEBUG (httpx prints the Bot API URLs, which carry the token): the log holds
no token, no chat id, no phone number, no e-mail and no narrative.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from uvicorn.logging import AccessFormatter

from bot.logs import LogThrottle, RedactingFilter, configure_logging, redact
from tests.channels.test_telegram import TelegramUser, buttons, report_with_buttons
from tests.channels.test_twilio import Phone
from tests.ops.conftest import TOKEN, Ops

NARRATIVE = "He hit me again on Tuesday near the water point in Eastleigh."


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Everything logged, through the production configuration, at DEBUG."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    configure_logging("json", logging.DEBUG, stream)
    chatty = [logging.getLogger(name) for name in ("httpx", "telegram", "twilio", "uvicorn")]
    levels = [logger.level for logger in chatty]
    for logger in chatty:
        logger.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for logger, level in zip(chatty, levels, strict=True):
            logger.setLevel(level)


async def test_a_report_and_a_protection_report_leave_no_personal_data_in_the_log(
    ops: Ops, captured: io.StringIO
) -> None:
    reporter = TelegramUser(ops.telegram)
    await report_with_buttons(reporter)
    survivor = TelegramUser(ops.telegram)
    await survivor.say("/start")
    await survivor.press(buttons((await survivor.replies())[-1])["English"])
    await survivor.replies()
    for answer in ("3", "1", "1", "Eastleigh", NARRATIVE, "2", "weekdays after 2 pm", "yes"):
        await survivor.say(answer)
        await survivor.replies()
    phone = Phone(ops.twilio)
    await phone.text("hello")
    await phone.replies()
    logging.getLogger("uvicorn.access").info(  # the line uvicorn writes per request
        '%s - "%s %s HTTP/%s" %d', "10.0.0.5:5000", "POST", f"/bot{TOKEN}/getMe", "1.1", 200
    )

    log = captured.getvalue()
    lines = [json.loads(line) for line in log.splitlines()]
    assert any("HTTP Request" in line["message"] for line in lines)  # httpx did log the calls
    assert any("<secret>" in line["message"] for line in lines)
    for secret in (
        TOKEN,
        TOKEN.split(":")[1],
        str(reporter.user_id),
        str(survivor.user_id),
        phone.number,
        phone.number.lstrip("+"),
        NARRATIVE,
        "weekdays after 2 pm",
        "First Avenue",
    ):
        assert secret not in log, secret


def test_the_filter_redacts_numbers_addresses_and_tokens_in_any_logger() -> None:
    assert redact("from whatsapp:+254 711 000 111 to tel:+254711000222") == (
        "from whatsapp:<number> to tel:<number>"
    )
    assert redact("chat telegram:880000123 group -1001234567890") == (
        "chat telegram:<number> group -<number>"
    )
    assert redact("mail amina.k@baraza.example now") == "mail <email> now"
    other = "123456789:AAAbbbCCCdddEEEfffGGGhhhIIIjjjKKKlll"  # a token never registered
    assert redact(f"GET https://api.telegram.org/bot{other}/getMe") == (
        "GET https://api.telegram.org/bot<token>/getMe"
    )
    assert redact("outbox row 42 sent in 0.25 s on port 8000") == (
        "outbox row 42 sent in 0.25 s on port 8000"
    )
    record = logging.LogRecord("twilio.http_client", logging.INFO, "", 0, "Body=%s", ("hi",), None)
    assert RedactingFilter().filter(record) is False  # request dumps are dropped whole
    try:
        raise ValueError("no contact for tel:+254711000333")
    except ValueError:
        record = logging.LogRecord("bot", logging.ERROR, "", 0, "failed", (), None)
        record.exc_info = sys.exc_info()
    assert RedactingFilter().filter(record)
    assert record.exc_text and "+254711000333" not in record.exc_text


def test_uvicorn_s_own_access_log_format_still_works_redacted() -> None:
    """Run with uvicorn's default logging (``uvicorn --factory``), the access line is
    formatted by uvicorn's AccessFormatter, which needs the record's arguments."""
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.5:5000", "GET", "/status?chat=880000123&to=+254711000444", "1.1", 200), None,
    )  # fmt: skip
    assert RedactingFilter().filter(record)
    line = AccessFormatter("%(client_addr)s %(request_line)s %(status_code)s").format(record)
    assert "880000123" not in line and "254711000444" not in line
    assert "GET /status?chat=<number>&to=<number> HTTP/1.1" in line and "200" in line


def test_a_repeated_failure_is_logged_once_a_minute_with_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    throttle = LogThrottle(60.0, clock=lambda: now[0])
    logger = logging.getLogger("bot.test")
    with caplog.at_level(logging.ERROR, "bot.test"):
        for second in range(0, 130):
            now[0] = float(second)
            throttle.error(logger, "db", "database unavailable")
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "database unavailable",
        "database unavailable (59 more like it in the last 60 s)",
        "database unavailable (59 more like it in the last 60 s)",
    ]


async def test_metrics_count_messages_and_read_the_outbox(ops: Ops) -> None:
    def value(text: str, line_start: str) -> float:
        found = [ln for ln in text.splitlines() if ln.startswith(line_start)]
        return float(found[0].rsplit(" ", 1)[1]) if found else 0.0

    before = (await ops.client.get("/metrics")).text
    phone = Phone(ops.twilio)
    await phone.text("hello")
    queued = (await ops.client.get("/metrics")).text
    assert value(queued, 'baraza_outbox_depth{channel="sms"}') >= 1
    assert 'baraza_outbox_oldest_seconds{channel="sms"}' in queued
    assert "baraza_scheduler_lag_seconds 0.0" in queued
    await phone.replies()
    after = (await ops.client.get("/metrics")).text
    counted = 'baraza_messages_in_total{channel="sms"}'
    assert value(after, counted) == value(before, counted) + 1
    sent = 'baraza_messages_out_total{channel="sms"}'
    assert value(after, sent) >= value(before, sent) + 1
    latency = 'baraza_webhook_seconds_count{route="/webhooks/twilio/sms",status="200"}'
    assert value(after, latency) >= value(before, latency) + 1
    assert value(after, 'baraza_outbox_depth{channel="sms"}') == 0


async def test_metrics_take_a_bearer_token_when_one_is_set(ops: Ops) -> None:
    settings = ops.services.settings
    settings.metrics_token = "metrics-token-0123456789"
    try:
        assert (await ops.client.get("/metrics")).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert (await ops.client.get("/metrics", headers=wrong)).status_code == 401
        right = {"Authorization": f"Bearer {settings.metrics_token}"}
        response = await ops.client.get("/metrics", headers=right)
        assert response.status_code == 200 and "baraza_outbox_depth" in response.text
    finally:
        settings.metrics_token = None


def test_workers_counters_are_summed_in_multiprocess_mode(tmp_path: Path) -> None:
    """With PROMETHEUS_MULTIPROC_DIR, what two worker processes counted is read as one."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    count = "from bot.metrics import MESSAGES_IN; MESSAGES_IN.labels('sms').inc(3)"
    for _ in range(2):
        subprocess.run([sys.executable, "-c", count], env=env, check=True, timeout=60)
    read = "from bot.metrics import process_metrics; print(process_metrics().decode())"
    shown = subprocess.run(
        [sys.executable, "-c", read],
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    ).stdout
    assert 'baraza_messages_in_total{channel="sms"} 6.0' in shown
