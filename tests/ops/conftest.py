"""One app per backend with Telegram, SMS and WhatsApp on the fake providers, for the
tests of hostile input and operations. The Telegram token has a real token's shape,
so that the log redaction is tested on what production logs would carry."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from bot import privacy
from bot.models import StaffUser
from bot.ratelimit import KeyedLimiter, Limit
from bot.services import Services
from bot.staff import hash_password
from channels.telegram import TelegramChannel
from tests import support
from tests.channels import test_telegram, test_twilio
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio

TOKEN = "7312345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9"


@pytest.fixture(scope="session")
def ops_telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(TOKEN) as fake:
        yield fake


@pytest.fixture(scope="session")
def ops_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture(scope="session")
async def ops_app(
    backend: str,
    ops_telegram: FakeTelegram,
    ops_twilio: FakeTwilio,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[FastAPI]:
    tmp = tmp_path_factory.mktemp(f"ops-{backend}")
    async with support.serving(
        backend,
        tmp,
        support.DEMO,
        TELEGRAM_BOT_TOKEN=ops_telegram.token,
        TELEGRAM_API_URL=ops_telegram.url,
        TELEGRAM_WEBHOOK_SECRET=test_telegram.SECRET,
        BARAZA_INBOUND_PER_MINUTE=12,
        **test_twilio.twilio_settings(ops_twilio),
    ) as app:
        yield app


@dataclass
class Ops:
    """The app, its services, and a client speaking as Telegram and as Twilio."""

    app: FastAPI
    services: Services
    client: httpx.AsyncClient
    telegram: test_telegram.World
    twilio: test_twilio.World


@pytest.fixture
async def ops(
    ops_app: FastAPI, ops_telegram: FakeTelegram, ops_twilio: FakeTwilio
) -> AsyncIterator[Ops]:
    services: Services = ops_app.state.services
    privacy.configure(services.settings.resolve_data_key())
    await support.wipe_activity(services)
    ops_telegram.reset()
    ops_twilio.reset()
    channel = services.channels["telegram"]
    assert isinstance(channel, TelegramChannel)
    real_limiter = channel.limiter
    channel.limiter = KeyedLimiter(Limit(10_000, 1.0), lambda _: Limit(10_000, 1.0))
    transport = httpx.ASGITransport(app=ops_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://10.0.0.5:8000") as client:
        yield Ops(
            ops_app,
            services,
            client,
            test_telegram.World(ops_app, services, ops_telegram, client),
            test_twilio.World(services, ops_twilio, client),
        )
    channel.limiter = real_limiter


ADMIN = "programme@baraza.example"
PASSWORD = "correct horse battery"


async def admin_token(ops: Ops) -> str:
    """A bearer token of the demo's programme admin, through the real sign-in."""
    async with ops.services.sessions() as db, db.begin():
        await db.execute(
            update(StaffUser)
            .where(StaffUser.email == ADMIN)
            .values(password_hash=hash_password(PASSWORD), active=True)
        )
    response = await ops.client.post(
        "/api/v1/auth/token", data={"username": ADMIN, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])
