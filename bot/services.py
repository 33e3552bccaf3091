"""Starting and stopping what one process needs: keys, database, runtime, workers.

The web app, ``baraza chat``, the benchmark and the tests all start the same way,
so what runs in tests is what runs in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import privacy
from bot.conversation import purge_expired_sessions
from bot.db import create_engine, session_factory, upgrade_schema
from bot.runtime import Runtime
from bot.sender import Sender
from bot.settings import Settings
from channels.base import Channel

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    runtime: Runtime
    channels: dict[str, Channel] = field(default_factory=dict)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _scheduler: AsyncIOScheduler | None = None

    @classmethod
    async def open(cls, settings: Settings, *, upgrade: bool = True) -> Services:
        privacy.configure(settings.resolve_data_key())
        engine = create_engine(settings.database_url)
        if upgrade:
            await upgrade_schema(engine)
        runtime = Runtime.load(
            settings.flows_dir, settings.locales_dir, settings.session_idle_minutes
        )
        return cls(settings, engine, session_factory(engine), runtime)

    def sender(self, channels: Mapping[str, Channel] | None = None) -> Sender:
        return Sender(
            self.sessions,
            self.channels if channels is None else channels,
            max_attempts=self.settings.send_max_attempts,
        )

    async def purge(self) -> None:
        async with self.sessions() as db, db.begin():
            scrubbed = await purge_expired_sessions(db)
        if scrubbed:
            log.info("scrubbed %d idle conversation sessions", scrubbed)

    def start_workers(self) -> None:
        """The sender per configured channel, and the scheduler's housekeeping tick."""
        sender = self.sender()
        self._tasks.append(
            asyncio.create_task(
                sender.run(self._stop, self.settings.sender_poll_seconds), name="sender"
            )
        )
        scheduler = AsyncIOScheduler()
        scheduler.add_job(
            self.purge,
            "interval",
            seconds=self.settings.tick_seconds,
            id="purge-sessions",
            max_instances=1,
            coalesce=True,
        )
        scheduler.start()
        self._scheduler = scheduler

    async def close(self) -> None:
        self._stop.set()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.engine.dispose()
