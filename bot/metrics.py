"""Prometheus metrics at ``GET /metrics``: what an operator watches and alerts on.

Counters and the webhook latency histogram live in the process (in
``PROMETHEUS_MULTIPROC_DIR`` when it is set, so that ``uvicorn --workers N`` is
summed over every worker). What the database knows (the outbox's depth and the
age of its oldest waiting message, how late the scheduler is) is read from the
database at scrape time, so every process reports the same truth. The endpoint
takes a bearer token when ``BARAZA_METRICS_TOKEN`` is set.
"""

from __future__ import annotations

import hmac
import os
import time
from datetime import datetime

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.models import Dispatch, OutboxMessage
from bot.models.base import utcnow

MESSAGES_IN = Counter(
    "baraza_messages_in", "Inbound messages handled (retries not counted)", ["channel"]
)
MESSAGES_OUT = Counter("baraza_messages_out", "Messages handed over to a provider", ["channel"])
SEND_FAILURES = Counter(
    "baraza_send_failures",
    "Sends that failed, by the shared send error (or a provider's delivery error code)",
    ["channel", "code"],
)
WEBHOOK_SECONDS = Histogram(
    "baraza_webhook_seconds",
    "Time to answer a provider's webhook request",
    ["route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
WEBHOOK_ROUTES = frozenset(
    (
        "/webhooks/telegram",
        "/webhooks/twilio/sms",
        "/webhooks/twilio/whatsapp",
        "/webhooks/twilio/status",
    )
)


class WebhookTimer:
    """Pure ASGI middleware timing the webhook routes (and only those: a fixed, small set
    of label values)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = scope.get("path", "") if scope["type"] == "http" else ""
        if route not in WEBHOOK_ROUTES:
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), "500"

        async def watching(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = str(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watching)
        finally:
            WEBHOOK_SECONDS.labels(route, status).observe(time.perf_counter() - started)


class _Snapshot(Collector):
    """Gauges read from the database for one scrape."""

    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self.families = families

    def collect(self) -> list[GaugeMetricFamily]:
        return self.families


def _age(now: datetime, then: datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0


async def database_gauges(db: AsyncSession) -> list[GaugeMetricFamily]:
    now = utcnow()
    depth = GaugeMetricFamily(
        "baraza_outbox_depth",
        "Messages waiting to be sent (pending or sending)",
        labels=["channel"],
    )
    oldest = GaugeMetricFamily(
        "baraza_outbox_oldest_seconds",
        "Age of the oldest message due and waiting to be sent",
        labels=["channel"],
    )
    waiting = OutboxMessage.status.in_(("pending", "sending"))
    rows = await db.execute(
        select(OutboxMessage.channel, func.count()).where(waiting).group_by(OutboxMessage.channel)
    )
    for channel, count in rows.all():
        depth.add_metric([channel], count)
    ages = await db.execute(
        select(OutboxMessage.channel, func.min(OutboxMessage.created_at))
        .where(waiting, OutboxMessage.next_attempt_at <= now)
        .group_by(OutboxMessage.channel)
    )
    for channel, created in ages.all():
        oldest.add_metric([channel], _age(now, created))
    lag = GaugeMetricFamily(
        "baraza_scheduler_lag_seconds",
        "How long the oldest due broadcast, reminder or campaign message has waited to be taken",
    )
    due = await db.scalar(
        select(func.min(Dispatch.due_at)).where(
            Dispatch.status == "scheduled", Dispatch.due_at <= now
        )
    )
    lag.add_metric([], _age(now, due))
    return [depth, oldest, lag]


def process_metrics() -> bytes:
    """The counters and histograms: this process's, or every worker's in multi-process mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


router = APIRouter(tags=["health"])


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    services = request.app.state.services
    token = services.settings.metrics_token
    given = request.headers.get("authorization", "")
    if token and not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return Response("unauthorized\n", status_code=401, headers={"WWW-Authenticate": "Bearer"})
    registry = CollectorRegistry()
    async with services.sessions() as db:
        registry.register(_Snapshot(await database_gauges(db)))
    body = process_metrics() + generate_latest(registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
