"""Token buckets: how fast one chat may be written to, kept in this process.

Providers publish limits as "N messages per period" (Telegram: one a second in a
private chat, 20 a minute in a group). A bucket of ``capacity`` tokens refilled at
``rate`` per second allows short bursts and holds the average. ``reserve`` never
sleeps: it says how long to wait, so the sender can put a message aside and send to
someone else meanwhile instead of stalling. A chat's messages go out in order from
one process at a time, so its bucket can live in that process; a provider's overall
limit is the whole deployment's, and is kept by ``bot.limiter`` instead.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    rate: float  # tokens per second
    capacity: float
    clock: Callable[[], float] = time.monotonic
    tokens: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = self.capacity
        self.updated = self.clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_time(self) -> float:
        """Seconds until one token is available (0 if one is now)."""
        self._refill()
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self._refill()
        self.tokens -= 1


@dataclass(frozen=True)
class Limit:
    count: int
    per_seconds: float
    burst: int | None = None

    def bucket(self, clock: Callable[[], float]) -> TokenBucket:
        return TokenBucket(self.count / self.per_seconds, float(self.burst or self.count), clock)


class KeyedLimiter:
    """One bucket per key (a chat), the least recently used forgotten, and optionally
    one overall (for tests and single-process tools; services use ``bot.limiter``)."""

    def __init__(
        self,
        overall: Limit | None,
        per_key: Callable[[str], Limit],
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self.clock = clock
        self.overall = overall.bucket(clock) if overall is not None else None
        self.per_key = per_key
        self.max_keys = max_keys
        self._keys: OrderedDict[str, TokenBucket] = OrderedDict()

    def _bucket(self, key: str) -> TokenBucket:
        bucket = self._keys.get(key)
        if bucket is None:
            bucket = self._keys[key] = self.per_key(key).bucket(self.clock)
            if len(self._keys) > self.max_keys:
                self._keys.popitem(last=False)
        else:
            self._keys.move_to_end(key)
        return bucket

    def reserve(self, key: str) -> float:
        """Take a slot for ``key`` and return 0, or return how long to wait and take nothing."""
        bucket = self._bucket(key)
        wait = bucket.wait_time()
        if self.overall is not None:
            wait = max(wait, self.overall.wait_time())
        if wait > 0:
            return wait
        if self.overall is not None:
            self.overall.take()
        bucket.take()
        return 0.0

    async def acquire(self, key: str) -> None:
        """Wait (without blocking the loop) until ``key`` has a slot, and take it."""
        while True:
            wait = self.reserve(key)
            if wait <= 0:
                return
            await asyncio.sleep(wait)
