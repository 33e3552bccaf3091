"""Inbound traffic as a provider sends it: signed Twilio SMS webhooks spread over the
app processes (a load balancer), each retried until it is acknowledged, as Twilio
retries; and the counts that say whether anything was lost or handled twice."""

from __future__ import annotations

import asyncio
import itertools
import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx

from tests.fakes.twilio_api import FakeTwilio, inbound_sms, signed

PUBLIC = "https://bot.example.org"
SMS_FROM = "+254711000000"
PATH = "/webhooks/twilio/sms"


def sender_number(n: int) -> str:
    return f"+25479{n:07d}"


@dataclass
class InboundTraffic:
    """``count`` people each text "hello" once, at ``per_second`` at most, ``parallel``
    requests at a time; every request not answered 200 is sent again."""

    fake: FakeTwilio
    servers: Callable[[], Sequence[str]]  # the base URLs behind the load balancer, now
    count: int
    per_second: float = 50.0
    parallel: int = 10
    acknowledged: dict[str, str] = field(default_factory=dict)  # number: MessageSid
    answers: Counter[int | str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)

    async def _one(
        self, client: httpx.AsyncClient, number: str, turn: itertools.count[int]
    ) -> None:
        params = inbound_sms("hello", from_=number, to=SMS_FROM)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            **signed(PUBLIC + PATH, params, self.fake.auth_token),
        }
        body = urlencode(params)
        while True:  # Twilio retries what was not acknowledged; so do we
            servers = self.servers()
            base = servers[next(turn) % len(servers)]
            started = time.monotonic()
            try:
                response = await client.post(base + PATH, content=body, headers=headers)
                status: int | str = response.status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            self.answers[status] += 1
            if status == 200:
                self.latencies.append(time.monotonic() - started)
                self.acknowledged[number] = params["MessageSid"]
                return
            await asyncio.sleep(0.2)

    async def run(self, first: int = 0) -> None:
        turn = itertools.count()
        limit = asyncio.Semaphore(self.parallel)
        started = time.monotonic()

        async def paced(n: int) -> None:
            await asyncio.sleep(max(0.0, started + n / self.per_second - time.monotonic()))
            async with limit:
                await self._one(client, sender_number(first + n), turn)

        async with httpx.AsyncClient(timeout=10) as client:
            await asyncio.gather(*(paced(n) for n in range(self.count)))


def busiest_second(times: Sequence[float]) -> int:
    """The most events in any half-open 1-second window."""
    ordered = sorted(times)
    return max((bisect_left(ordered, t + 1.0) - i for i, t in enumerate(ordered)), default=0)
