"""An SMS and WhatsApp world for the outbound side: the app with the fake Twilio server,
and a forum whose members read English, French and Portuguese."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from bot import privacy
from bot.contacts import urn_hash
from bot.models import Contact
from bot.models.base import utcnow
from bot.services import Services
from bot.urns import parse
from channels.twilio import TwilioChannel
from tests import support
from tests.channels.test_twilio import World, twilio_settings
from tests.fakes.twilio_api import FakeTwilio
from tests.support import wipe_activity

# Eastleigh forum members: (address, language)
MEMBERS = {
    "+254788000001": "en",
    "+254788000002": "fr",
    "+254788000003": "pt",
}
WHATSAPP_MEMBER = "+254788000009"


def with_members(data: dict[str, Any]) -> None:
    for forum in data["forums"]:
        if forum["key"] == "eastleigh-cpf":
            forum["members"] = [f"tel:{n}" for n in MEMBERS] + [f"whatsapp:{WHATSAPP_MEMBER}"]


@pytest.fixture(scope="session")
def outbound_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture(scope="session")
async def outbound_app(
    backend: str, outbound_twilio: FakeTwilio, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FastAPI]:
    tmp = tmp_path_factory.mktemp(f"outbound-{backend}")
    async with support.serving(
        backend,
        tmp,
        support.demo_with(tmp, with_members),
        **twilio_settings(outbound_twilio),
    ) as app:
        yield app


async def reset_members(services: Services) -> None:
    """Members as the test starts: their languages, none stopped, all seen just now on
    WhatsApp (inside the 24-hour window), no answers."""
    async with services.sessions() as db, db.begin():
        for number, language in MEMBERS.items():
            await db.execute(
                update(Contact)
                .where(Contact.urn_hash == urn_hash(parse(f"tel:{number}")))
                .values(language=language, opted_out=False, opted_out_at=None, area_id=None)
            )
        await db.execute(
            update(Contact)
            .where(Contact.urn_hash == urn_hash(parse(f"whatsapp:{WHATSAPP_MEMBER}")))
            .values(language="en", opted_out=False, last_inbound_at=utcnow())
        )


@pytest.fixture
async def world(outbound_app: FastAPI, outbound_twilio: FakeTwilio) -> AsyncIterator[World]:
    services: Services = outbound_app.state.services
    privacy.configure(services.settings.resolve_data_key())
    await wipe_activity(services)
    await reset_members(services)
    outbound_twilio.reset()
    for name in ("sms", "whatsapp"):
        channel = services.channels[name]
        assert isinstance(channel, TwilioChannel)
        channel.throttle_seconds = 0.2
    transport = httpx.ASGITransport(app=outbound_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://10.0.0.5:8000") as client:
        yield World(services, outbound_twilio, client)
