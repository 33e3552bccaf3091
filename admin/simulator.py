"""The simulator: staff talk to the bot as a Telegram, WhatsApp or SMS user would.

Each staff member gets one simulated person per channel (``console:sim-<channel>-<id>``)
whose messages go through the real pipeline (receipt, contact, engine, outbox)
against the real database; the replies are drained by a sender that owns that
address only, through a channel that renders them as the chosen channel would:
buttons on Telegram, numbered menus and segment counts on SMS.
"""

from __future__ import annotations

import uuid

from bot.contacts import urn_hash
from bot.conversation import handle_inbound
from bot.messages import InboundMessage
from bot.services import Services
from bot.urns import parse
from channels.base import Capabilities
from channels.collecting import CollectingChannel
from channels.sms_segments import count_segments

LOOKS = {
    "telegram": Capabilities(buttons=True, max_text=4096),
    "whatsapp": Capabilities(buttons=False, max_text=1600),
    "sms": Capabilities(buttons=False, max_text=1600),
}


def simulated_urn(channel: str, staff_id: int) -> str:
    return str(parse(f"console:sim-{channel}-{staff_id}"))


async def simulate(
    services: Services, staff_id: int, channel: str, text: str, button: str | None
) -> list[dict[str, object]]:
    """One message from the simulated person; the bot's replies as they would appear."""
    urn = simulated_urn(channel, staff_id)
    message = InboundMessage(
        channel="console", urn=urn, provider_id=uuid.uuid4().hex, text=text, button=button
    )
    async with services.sessions() as db, db.begin():
        await handle_inbound(db, services.runtime, message)
    looks = CollectingChannel(name="console", capabilities=LOOKS[channel])
    await services.sender({"console": looks}).drain(urn_hash(parse(urn)))
    replies: list[dict[str, object]] = []
    for sent in looks.sent:
        buttons = LOOKS[channel].buttons and bool(sent.message.choices)
        shown = sent.message.text if buttons else sent.text
        replies.append(
            {
                "text": shown,
                "choices": [{"label": c.label, "value": c.value} for c in sent.message.choices]
                if buttons
                else [],
                "segments": count_segments(shown).count if channel == "sms" else None,
            }
        )
    return replies
