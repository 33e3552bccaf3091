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
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram import Bot
from twilio.rest import Client as TwilioClient

from bot import privacy
from bot.conversation import (
    InboundOutcome,
    contact_blocked_us,
    handle_inbound,
    purge_expired_sessions,
)
from bot.db import create_engine, session_factory, upgrade_schema
from bot.dispatch_texts import DispatchTexts
from bot.dispatcher import Dispatcher
from bot.limiter import Limiter, make_limiter
from bot.logs import register_secrets
from bot.messages import InboundMessage
from bot.metrics import MESSAGES_IN
from bot.models.base import utcnow
from bot.retention import purge_protection_content
from bot.runtime import Runtime
from bot.sender import Sender
from bot.settings import Settings
from channels import twilio
from channels.base import Channel
from channels.telegram import (
    ALLOWED_UPDATES,
    OVERALL,
    TelegramChannel,
    TelegramClient,
    TelegramPoller,
    TelegramUpdates,
    make_client,
)

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    runtime: Runtime
    limiter: Limiter
    channels: dict[str, Channel] = field(default_factory=dict)
    telegram: TelegramClient | None = None
    twilio: TwilioClient | None = None
    telegram_updates: TelegramUpdates | None = None
    _sender: Sender | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _scheduler: AsyncIOScheduler | None = None
    _dispatcher: Dispatcher | None = None
    _dispatching: asyncio.Lock = field(default_factory=asyncio.Lock)

    @classmethod
    async def open(cls, settings: Settings, *, upgrade: bool = True) -> Services:
        privacy.configure(settings.resolve_data_key(), settings.resolve_previous_keys())
        engine = create_engine(settings.database_url, timeout=settings.db_timeout_seconds)
        register_secrets(
            (
                settings.telegram_bot_token,
                settings.telegram_webhook_secret,
                settings.twilio_auth_token,
                settings.metrics_token,
                settings.data_key,
            )
        )
        if upgrade:
            await upgrade_schema(engine)
        runtime = Runtime.load(
            settings.flows_dir,
            settings.locales_dir,
            settings.session_idle_minutes,
            settings.inbound_per_minute,
        )
        limiter = make_limiter(engine, settings.redis_url)
        services = cls(settings, engine, session_factory(engine), runtime, limiter)
        if settings.telegram_bot_token:
            client = make_client(settings.telegram_bot_token, settings.telegram_api_url)
            services.telegram = client
            services.channels["telegram"] = TelegramChannel(client.bot, shared=limiter)
            services.telegram_updates = TelegramUpdates(services.receive, services.blocked)
        if settings.twilio_account_sid and settings.twilio_auth_token:
            services._open_twilio()
        return services

    def _open_twilio(self) -> None:
        settings = self.settings
        assert settings.twilio_account_sid and settings.twilio_auth_token
        client = self.twilio = twilio.make_client(
            settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_api_url
        )
        base = settings.public_base_url
        callback = f"{base}/webhooks/twilio/status" if base else None
        for name, sender, rate in (
            ("sms", settings.twilio_sms_from, settings.twilio_sms_rate),
            ("whatsapp", settings.twilio_whatsapp_from, settings.twilio_whatsapp_rate),
        ):
            if sender:
                config = twilio.TwilioConfig(sender, rate, callback, settings.sms_gsm7_only)
                self.channels[name] = twilio.TwilioChannel(name, client, config, self.limiter)

    async def receive(self, message: InboundMessage) -> InboundOutcome:
        """Handle one inbound message and commit its effects; raises if they could not
        be committed, so the channel does not acknowledge it to the provider."""
        async with self.sessions() as db, db.begin():
            outcome = await handle_inbound(db, self.runtime, message)
        if not outcome.duplicate:
            MESSAGES_IN.labels(message.channel).inc()
        if outcome.replies:
            self.wake_sender()
        return outcome

    def wake_sender(self) -> None:
        """Something was queued (replies, a staff message): the sender need not wait its poll."""
        if self._sender is not None:
            self._sender.wake()

    async def blocked(self, urn: str) -> None:
        async with self.sessions() as db, db.begin():
            await contact_blocked_us(db, urn)

    @property
    def telegram_bot(self) -> Bot | None:
        return self.telegram.bot if self.telegram else None

    @property
    def telegram_webhook_url(self) -> str | None:
        base = self.settings.public_base_url
        return f"{base}/webhooks/telegram" if base else None

    async def register_telegram_webhook(self) -> str:
        """Point Telegram at ``{PUBLIC_BASE_URL}/webhooks/telegram`` with the secret token."""
        url, secret = self.telegram_webhook_url, self.settings.telegram_webhook_secret
        if self.telegram_bot is None or url is None or not secret:
            raise RuntimeError(
                "set TELEGRAM_BOT_TOKEN, PUBLIC_BASE_URL and TELEGRAM_WEBHOOK_SECRET first"
            )
        await self.telegram_bot.set_webhook(
            url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, max_connections=40
        )
        return url

    def sender(self, channels: Mapping[str, Channel] | None = None) -> Sender:
        return Sender(
            self.sessions,
            self.channels if channels is None else channels,
            max_attempts=self.settings.send_max_attempts,
            claim_timeout=timedelta(seconds=self.settings.claim_timeout_seconds),
            directories=self.runtime.directories,
            texts=DispatchTexts(self.runtime.catalogs),
            quiet_hours=self.settings.quiet_hours,
            rates=self.send_rates(),
            longest_probe=self.settings.outage_probe_seconds,
        )

    def send_rates(self) -> dict[str, float]:
        """Messages per second each provider takes from us, for a broadcast's estimated
        time to send: Telegram's overall limit, Twilio's per sending number."""
        return {
            "telegram": OVERALL.count / OVERALL.per_seconds,
            "sms": self.settings.twilio_sms_rate,
            "whatsapp": self.settings.twilio_whatsapp_rate,
        }

    def dispatcher(self) -> Dispatcher:
        return Dispatcher(
            self.sessions,
            self.runtime.directories,
            quiet_hours=self.settings.quiet_hours,
            claim_timeout=timedelta(seconds=min(60.0, self.settings.claim_timeout_seconds)),
            on_queued=self.wake_sender,
        )

    async def dispatch(self) -> None:
        """The scheduler's tick: send what is due; then, if the next item falls due before
        the next tick, look again at that moment (reminders are not a tick late)."""
        async with self._dispatching:  # one tick at a time in a process
            if self._dispatcher is None:
                self._dispatcher = self.dispatcher()
            try:
                await self._dispatcher.tick()
                soonest = await self._dispatcher.next_due()
            except Exception:  # the database may be away: the next tick tries again
                log.exception("dispatch tick failed")
                return
        if soonest is not None and soonest < utcnow() + timedelta(
            seconds=self.settings.tick_seconds
        ):
            self._tick_at(soonest)

    def wake_dispatcher(self) -> None:
        """Something is due now (a broadcast sent at once): tick now, not at the next tick."""
        self._tick_at(utcnow())

    def _tick_at(self, when: datetime) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.add_job(
                self.dispatch,
                "date",
                run_date=max(when, utcnow()),
                id="dispatch-soon",
                replace_existing=True,
                misfire_grace_time=None,
            )

    async def purge(self) -> None:
        async with self.sessions() as db, db.begin():
            scrubbed = await purge_expired_sessions(db)
        if scrubbed:
            log.info("scrubbed %d idle conversation sessions", scrubbed)

    def start_workers(self) -> None:
        """The sender per configured channel, and the scheduler's housekeeping tick."""
        sender = self._sender = self.sender()
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
        scheduler.add_job(
            self.dispatch,
            "interval",
            seconds=self.settings.tick_seconds,
            id="dispatch",
            next_run_time=utcnow(),  # catch up on what fell due while the process was down
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        scheduler.add_job(
            purge_protection_content,
            "interval",
            hours=1,
            kwargs={
                "sessions": self.sessions,
                "retention_days": self.settings.protection_retention_days,
            },
            id="retention",
            next_run_time=utcnow() + timedelta(minutes=1),  # restarts do not put it off
            max_instances=1,
            coalesce=True,
        )
        scheduler.start()
        self._scheduler = scheduler
        if self.telegram_bot is not None and self.telegram_updates is not None:
            if self.telegram_webhook_url is None:  # no public URL: poll, for local use
                poller = TelegramPoller(self.telegram_bot, self.telegram_updates)
                self._tasks.append(asyncio.create_task(poller.run(self._stop), name="poller"))
            else:
                self._tasks.append(
                    asyncio.create_task(self._register_webhook(), name="telegram-webhook")
                )

    async def _register_webhook(self) -> None:
        try:
            log.info("Telegram webhook set to %s", await self.register_telegram_webhook())
        except Exception as exc:  # the bot still serves; `baraza telegram info` tells more
            log.error("could not register the Telegram webhook: %s", exc)

    async def close(self) -> None:
        self._stop.set()
        if self._sender is not None:
            self._sender.wake()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
        for task in self._tasks:
            if task.get_name() in ("poller", "telegram-webhook"):
                task.cancel()  # a long poll would hold shutdown for its whole timeout
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.telegram is not None:
            await self.telegram.close()
        if self.twilio is not None:
            await twilio.close_client(self.twilio)
        await self.limiter.close()
        await self.engine.dispose()
