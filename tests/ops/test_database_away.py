"""PostgreSQL going away for a while, for real: the app reaches it through a TCP proxy
that the test cuts and restores.

While it is away the webhooks answer 503 with Retry-After within the database timeout
(they do not hang), nothing is half-stored, /readyz says not ready and the log holds one
line, not one per request. When it is back the app recovers by itself, and the
provider's retry of the refused message is handled exactly once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from bot.app import create_app
from bot.deployment import import_file
from bot.services import Services
from tests import support
from tests.channels.test_twilio import Phone, World, twilio_settings
from tests.fakes.tcp_proxy import TcpProxy
from tests.fakes.twilio_api import FakeTwilio

TIMEOUT = 1.0


@dataclass
class Outage:
    proxy: TcpProxy
    direct: str  # the database's own URL, not through the proxy
    client: httpx.AsyncClient
    world: World

    async def count(self, table: str) -> int:
        connection = await asyncpg.connect(self.direct)
        try:
            return int(await connection.fetchval(f"SELECT count(*) FROM {table}"))
        finally:
            await connection.close()


@pytest.fixture
async def outage(tmp_path: Path) -> AsyncIterator[Outage]:
    direct = await support.create_database("postgresql", tmp_path)
    proxy = TcpProxy()
    await proxy.start()
    with FakeTwilio() as fake:
        settings = support.test_settings(
            proxy.url_for(direct),
            tmp_path,
            BARAZA_DB_TIMEOUT_SECONDS=TIMEOUT,
            **twilio_settings(fake),
        )
        app = create_app(settings, workers=False)
        try:
            async with app.router.lifespan_context(app):
                services: Services = app.state.services
                async with services.sessions() as db, db.begin():
                    languages = set(services.runtime.catalogs.languages)
                    await import_file(db, support.DEMO, languages)
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://10.0.0.5:8000"
                ) as client:
                    yield Outage(
                        proxy, direct.replace("postgresql://", "postgres://"), client,
                        World(services, fake, client),
                    )  # fmt: skip
        finally:
            await proxy.close()
            await support.drop_database(direct)


async def test_webhooks_answer_503_while_the_database_is_away_and_recover_after(
    outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    phone = Phone(outage.world)
    await phone.text("ok")  # no telling which language: the menu
    assert (await outage.client.get("/readyz")).status_code == 200
    assert await outage.count("inbound_receipts") == 1
    outbox_before = await outage.count("outbox")

    outage.proxy.cut()
    refused = phone.params("1")
    caplog.set_level(logging.ERROR, "bot.webhooks")
    for attempt in range(4):  # the first message, then Twilio's retries, all refused
        started = time.monotonic()
        response = await outage.world.post("/webhooks/twilio/sms", refused)
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"].isdigit()
        assert time.monotonic() - started < 6 * TIMEOUT + 5  # bounded, not hanging
        if attempt == 0:
            ready = await outage.client.get("/readyz")
            assert ready.status_code == 503
    away = [r for r in caplog.records if "database unavailable" in r.getMessage()]
    assert len(away) <= 1  # one line a minute, not one per request
    assert await outage.count("inbound_receipts") == 1  # nothing half-stored
    assert await outage.count("outbox") == outbox_before

    outage.proxy.restore()
    deadline = time.monotonic() + 20
    while (await outage.client.get("/readyz")).status_code != 200:
        assert time.monotonic() < deadline, "the app did not recover by itself"
    for _ in range(2):  # Twilio's retry arrives, and once more for good measure
        response = await outage.world.post("/webhooks/twilio/sms", refused)
        assert response.status_code == 200, response.text
    assert await outage.count("inbound_receipts") == 2
    replies = await phone.replies()
    assert len(replies) == 2 and "Welcome" in replies[1]  # "1" chose English, answered once
