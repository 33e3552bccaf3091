"""Builders and drivers shared by the tests: databases, services, a person to chat as.

``Person`` goes through the real pipeline: ``handle_inbound`` in a committed
transaction, then the real sender draining the outbox into a collecting channel,
so a test reads exactly what a person would receive.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import yaml
from fastapi import FastAPI
from sqlalchemy import delete, func, select

from bot.app import create_app
from bot.contacts import urn_hash
from bot.conversation import handle_inbound
from bot.deployment import import_file
from bot.messages import InboundMessage, Location
from bot.models import (
    Broadcast,
    Campaign,
    Case,
    CaseMessage,
    Contact,
    ConversationSession,
    Dispatch,
    ForumMember,
    InboundReceipt,
    Meeting,
    OutboxMessage,
    ProtectionCount,
    TopicSubscription,
)
from bot.services import Services
from bot.settings import Environment, Settings, generate_key
from bot.urns import parse
from channels.collecting import CollectingChannel

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "deployments" / "demo.yaml"
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
BACKENDS = ("sqlite", "postgresql")
_counter = itertools.count(1)


async def create_database(backend: str, tmp: Path) -> str:
    """A brand-new empty database; returns its DATABASE_URL."""
    if backend == "sqlite":
        return f"sqlite:///{tmp / f'baraza-{next(_counter)}.db'}"
    name = f"baraza_test_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


async def drop_database(url: str) -> None:
    if not url.startswith("postgresql://"):
        return
    name = url.rsplit("/", 1)[1]
    connection = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def test_settings(database_url: str, tmp: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "BARAZA_ENV": Environment.test,
        "DATABASE_URL": database_url,
        "BARAZA_DATA_KEY": generate_key(),
        "BARAZA_VAR_DIR": tmp,
        # No quiet hours unless a test asks: the suite runs at any hour, anywhere.
        "BARAZA_QUIET_HOURS": "00:00-00:00",
        # Tests talk faster than people: the flood gate only where a test asks for it.
        "BARAZA_INBOUND_PER_MINUTE": 10_000,
    }
    values.update(overrides)
    return Settings(**values)


async def open_services(settings: Settings, deployment: Path | None = DEMO) -> Services:
    services = await Services.open(settings)
    if deployment is not None:
        async with services.sessions() as db, db.begin():
            await import_file(db, deployment, set(services.runtime.catalogs.languages))
    return services


def demo_with(tmp: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """The demo deployment with a change of the test's (a chair's Telegram id, members...)."""
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    change(data)
    path = tmp / "deployment.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@asynccontextmanager
async def serving(
    backend: str, tmp: Path, deployment: Path, **settings: Any
) -> AsyncIterator[FastAPI]:
    """The web app on a fresh database of ``backend``, started, with ``deployment`` imported."""
    url = await create_database(backend, tmp)
    app = create_app(test_settings(url, tmp, **settings), workers=False)
    try:
        async with app.router.lifespan_context(app):
            services: Services = app.state.services
            async with services.sessions() as db, db.begin():
                await import_file(db, deployment, set(services.runtime.catalogs.languages))
            yield app
    finally:
        await drop_database(url)


async def deliver_all(services: Services, channels: tuple[str, ...], within: float = 8.0) -> None:
    """Run the dispatcher and the sender until nothing waits on ``channels`` (deferred
    messages included)."""
    sender = services.sender()
    dispatcher = services.dispatcher()
    deadline = time.monotonic() + within
    while True:
        await dispatcher.tick()
        await sender.drain()
        async with services.sessions() as db:
            waiting = await db.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.status.in_(("pending", "sending")),
                    OutboxMessage.channel.in_(channels),
                )
            )
        if not waiting or time.monotonic() > deadline:
            return
        await asyncio.sleep(0.05)


async def count_rows(services: Services, model: Any) -> int:
    async with services.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def wipe_activity(services: Services) -> None:
    """Remove what conversations created, keep the directory (and its member contacts)."""
    async with services.sessions() as db, db.begin():
        for model in (
            OutboxMessage,
            Dispatch,
            Broadcast,
            Meeting,
            Campaign,
            TopicSubscription,
            CaseMessage,
            Case,
            ConversationSession,
            InboundReceipt,
            ProtectionCount,
        ):
            await db.execute(delete(model))
        # Who joined a forum's news through the bot is activity; the file's members stay.
        await db.execute(delete(ForumMember).where(ForumMember.source == "bot"))
    services.runtime.directories.invalidate()


async def restore_demo_directory(services: Services) -> None:
    """The demo's directory as the file has it, for a test that edited it on the web: the
    edits undone and their marks gone, so later imports in the run are not refused."""
    languages = set(services.runtime.catalogs.languages)
    async with services.sessions() as db, db.begin():
        await import_file(db, DEMO, languages, overwrite_web_edits=True)
    services.runtime.directories.invalidate()


@dataclass
class Person:
    """Someone texting the bot on the console channel, through the whole pipeline."""

    services: Services
    channel: CollectingChannel
    name: str = field(default_factory=lambda: f"p{uuid.uuid4().hex[:10]}")
    received: list[str] = field(default_factory=list)

    @property
    def urn(self) -> str:
        return f"console:{self.name}"

    async def send(
        self,
        text: str = "",
        *,
        button: str | None = None,
        location: tuple[float, float] | None = None,
        media: Any = None,
        provider_id: str | None = None,
    ) -> str:
        """Send one message; returns everything the bot answered, joined."""
        message = InboundMessage(
            channel="console",
            urn=self.urn,
            provider_id=provider_id or uuid.uuid4().hex,
            text=text,
            button=button,
            location=Location(*location) if location else None,
            media=media,
        )
        async with self.services.sessions() as db, db.begin():
            await handle_inbound(db, self.services.runtime, message)
        return await self.collect()

    async def collect(self) -> str:
        before = len(self.channel.texts_to(self.urn))
        sender = self.services.sender({"console": self.channel})
        await sender.drain(urn_hash(parse(self.urn)))
        new = self.channel.texts_to(self.urn)[before:]
        self.received += new
        return "\n---\n".join(new)

    async def contact(self) -> Contact:
        async with self.services.sessions() as db:
            found = await db.scalar(
                select(Contact).where(Contact.urn_hash == urn_hash(parse(self.urn)))
            )
            assert found is not None
            return found

    async def cases(self) -> list[Case]:
        contact = await self.contact()
        async with self.services.sessions() as db:
            rows = await db.execute(select(Case).where(Case.contact_id == contact.id))
            return list(rows.scalars())
