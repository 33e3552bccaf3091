"""A provider's outage, as the sender sees it: stop, probe with one message, open up.

When Telegram or Twilio answers 5xx or times out for minutes, retrying every
message on its own backoff would both hammer a dead provider and fail messages
after a few attempts, although nothing was wrong with them. So each channel has a
gate: a few failures in a row (with no success between) mean an outage; then
nothing is sent on the channel but one probe now and then (1 s, 2 s, 4 s ... at most
a minute apart), and messages that meet the outage go back to the queue as they
were, not counted as attempts. The first probe that goes through closes the gate,
and the queue drains in its usual order: replies first, oldest first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class OutageGate:
    trip_after: int = 3  # failures in a row that mean the provider is down
    first_probe: float = 1.0
    longest_probe: float = 60.0
    clock: Callable[[], float] = time.monotonic
    failures: int = field(default=0, init=False)
    down_since: float | None = field(default=None, init=False)
    probe_in: float = field(default=0.0, init=False)
    probe_at: float = field(default=0.0, init=False)
    probing: bool = field(default=False, init=False)

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def admits(self) -> bool:
        """Whether a message may go now: always while the provider is up; when it is
        down, one probe at a time once the probe is due (taking the probe's turn)."""
        if not self.down:
            return True
        if self.probing or self.clock() < self.probe_at:
            return False
        self.probing = True
        return True

    def wait(self) -> float:
        """Seconds until the next probe is due (0 while the provider is up)."""
        return max(0.0, self.probe_at - self.clock()) if self.down else 0.0

    def succeeded(self) -> None:
        self.failures, self.down_since, self.probing = 0, None, False
        self.probe_in = 0.0

    def failed(self) -> bool:
        """Count a failure to reach the provider; True when that means it is down."""
        self.failures += 1
        if self.down:
            if self.probing:  # the probe failed: wait twice as long for the next one
                self.probing = False
                self.probe_in = min(self.longest_probe, self.probe_in * 2)
                self.probe_at = self.clock() + self.probe_in
            return True
        if self.failures < self.trip_after:
            return False
        self.down_since = self.clock()
        self.probe_in = self.first_probe
        self.probe_at = self.down_since + self.probe_in
        return True

    def released(self) -> None:
        """A probe's message did not go after all (deferred, not failed): probe again."""
        self.probing = False
