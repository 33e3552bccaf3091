"""How fast a provider lets us send, held across every process of a deployment.

A provider's limit ("50 messages a second from this number", Telegram's 30 a second
per bot) is the deployment's, not a process's: three processes each keeping it on
their own would send three times too fast. So every send first takes the next free
*slot* for its key from one place that all processes share:

* Redis, when ``REDIS_URL`` is set: one Lua script reads and moves the key's next
  free slot atomically, on Redis's clock;
* PostgreSQL otherwise, when the database is PostgreSQL: one ``INSERT ... ON
  CONFLICT DO UPDATE`` per slot on a row per key (``rate_slots``), on the
  database's clock;
* this process's memory on SQLite (one process).

The arithmetic is the same in all three (the generic cell rate algorithm with no
burst): slots are ``1 / rate`` seconds apart, a slot is taken even when it lies
ahead, and the caller sleeps until it comes. No burst means no 1-second window
ever holds more than the limit; ``margin`` (2% by default) leaves room for the
jitter between our clock and the moment a request reaches the provider.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

DEFAULT_MARGIN = 0.02
KEY_PREFIX = "baraza:rate:"


class Limiter(ABC):
    """Slots shared by every process that uses the same store."""

    def __init__(self, margin: float = DEFAULT_MARGIN) -> None:
        if not 0 <= margin < 1:
            raise ValueError("margin is a fraction of the rate, from 0 to below 1")
        self.margin = margin

    def interval(self, rate: float) -> float:
        """Seconds between two slots at ``rate`` per second, less the margin."""
        if rate <= 0:
            raise ValueError("a rate is a positive number of messages per second")
        return 1.0 / (rate * (1.0 - self.margin))

    @abstractmethod
    async def reserve(self, key: str, rate: float) -> float:
        """Take the next free slot of ``key`` at ``rate`` per second; the seconds until
        it comes (0 when it is now)."""

    async def acquire(self, key: str, rate: float) -> None:
        """Take the next slot and wait for it (without blocking the loop). Woken too late
        (the loop was busy), sending now would bunch with the next slot's message: then
        the slot is let go and the next free one taken, once; a loop that is late every
        time is late for every slot alike, which keeps them apart as well as being on
        time does. The wait counts from when the store's answer came: never earlier,
        since the store may have reckoned it any time after it was asked."""
        for _ in range(2):
            wait = await self.reserve(key, rate)
            if wait <= 0:
                return
            due = time.monotonic() + wait
            await asyncio.sleep(wait)
            if time.monotonic() - due <= self.interval(rate) / 2:
                return

    async def close(self) -> None:  # noqa: B027 - most stores hold nothing to let go of
        """Let go of connections to the store, if any."""


def next_slot(next_free: float | None, now: float, interval: float) -> tuple[float, float]:
    """The arithmetic every store runs: (the slot taken, the key's next free slot)."""
    slot = now if next_free is None else max(next_free, now)
    return slot, slot + interval


class LocalLimiter(Limiter):
    """Slots in this process's memory: for SQLite and a single process."""

    def __init__(
        self, margin: float = DEFAULT_MARGIN, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(margin)
        self.clock = clock
        self._next: dict[str, float] = {}

    async def reserve(self, key: str, rate: float) -> float:
        now = self.clock()
        slot, self._next[key] = next_slot(self._next.get(key), now, self.interval(rate))
        return slot - now


_EPOCH = "extract(epoch from clock_timestamp())"
_PG_RESERVE = text(
    f"""
    INSERT INTO rate_slots AS s (key, next_at) VALUES (:key, {_EPOCH} + :interval)
    ON CONFLICT (key) DO UPDATE SET next_at = greatest(s.next_at, {_EPOCH}) + :interval
    RETURNING s.next_at - :interval - {_EPOCH}
    """
)


class PostgresLimiter(Limiter):
    """Slots in a row per key of ``rate_slots``: the row's lock orders the processes,
    and ``clock_timestamp()`` is one clock for all of them."""

    def __init__(self, engine: AsyncEngine, margin: float = DEFAULT_MARGIN) -> None:
        super().__init__(margin)
        self.engine = engine

    async def reserve(self, key: str, rate: float) -> float:
        async with self.engine.begin() as connection:
            wait = await connection.scalar(
                _PG_RESERVE, {"key": key, "interval": self.interval(rate)}
            )
        return max(0.0, float(wait or 0.0))


# KEYS[1]: the key; ARGV[1]: the interval in seconds. Redis's TIME is the clock; the key
# expires once its slots are long past. Floats go back as a string (Lua numbers would
# come back as integers).
_REDIS_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local slot = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
redis.call('SET', KEYS[1], string.format('%.6f', slot + interval),
           'PX', math.ceil((slot + interval - now) * 1000) + 60000)
return string.format('%.6f', slot - now)
"""


class RedisLimiter(Limiter):
    """Slots in Redis: one script call per slot, atomic by Redis's single thread."""

    def __init__(self, url: str, margin: float = DEFAULT_MARGIN, prefix: str = KEY_PREFIX) -> None:
        super().__init__(margin)
        from redis.asyncio import Redis  # only deployments with Redis need the client

        self.prefix = prefix
        self.redis: Any = Redis.from_url(url)
        self._script = self.redis.register_script(_REDIS_RESERVE)

    async def reserve(self, key: str, rate: float) -> float:
        wait = await self._script(keys=[self.prefix + key], args=[repr(self.interval(rate))])
        return max(0.0, float(wait))

    async def close(self) -> None:
        await self.redis.aclose()


def make_limiter(
    engine: AsyncEngine, redis_url: str | None, margin: float = DEFAULT_MARGIN
) -> Limiter:
    """Redis if configured, else PostgreSQL if that is the database, else memory."""
    if redis_url:
        return RedisLimiter(redis_url, margin)
    if engine.dialect.name == "postgresql":
        return PostgresLimiter(engine, margin)
    return LocalLimiter(margin)
