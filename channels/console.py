"""The terminal as a channel: ``baraza chat`` lets anyone talk to the bot locally.

Inbound lines become ``InboundMessage``s with a fresh id each; outbound messages
are printed with their choices numbered, exactly as an SMS user would see them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from bot.messages import InboundMessage, OutboundMessage
from bot.urns import URN
from channels.base import DIRECT, Capabilities, Channel, Envelope, SendResult


class ConsoleChannel(Channel):
    name = "console"
    capabilities = Capabilities(buttons=False, max_text=100_000)

    def __init__(self, write: Callable[[str], None] = print) -> None:
        self.write = write

    @staticmethod
    def inbound(urn: URN, line: str) -> InboundMessage:
        return InboundMessage(
            channel="console", urn=str(urn), provider_id=uuid.uuid4().hex, text=line
        )

    async def deliver(
        self, urn: URN, message: OutboundMessage, envelope: Envelope = DIRECT
    ) -> SendResult:
        self.write(self.render(message))
        return SendResult(provider_message_id=None)
