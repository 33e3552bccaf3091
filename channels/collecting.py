"""A channel that keeps what it would send, for tests and dry runs.

It goes through the same outbox and sender as every real channel, so a test that
reads it sees exactly what a person would have received, in order, and can make
the next send fail the way a provider would.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.messages import OutboundMessage
from bot.urns import URN
from channels.base import DIRECT, Capabilities, Channel, Envelope, SendError, SendResult


@dataclass
class Sent:
    urn: str
    message: OutboundMessage
    text: str


@dataclass
class CollectingChannel(Channel):
    name: str = "console"
    capabilities: Capabilities = field(default_factory=Capabilities)
    sent: list[Sent] = field(default_factory=list)
    failures: list[SendError] = field(default_factory=list)

    async def deliver(
        self, urn: URN, message: OutboundMessage, envelope: Envelope = DIRECT
    ) -> SendResult:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(Sent(str(urn), message, self.render(message)))
        return SendResult(provider_message_id=f"collected-{len(self.sent)}")

    def texts_to(self, urn: str) -> list[str]:
        return [s.text for s in self.sent if s.urn == urn]

    def clear(self) -> None:
        self.sent.clear()
