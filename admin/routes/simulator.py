"""Talk to the bot as a Telegram, WhatsApp or SMS user, without a provider account."""

from __future__ import annotations

from fastapi import APIRouter

from admin.deps import ScopeDep, ServicesDep, SessionDep
from admin.schemas import SimulatedReply, SimulatorMessage, SimulatorReplies
from admin.simulator import simulate

router = APIRouter(prefix="/simulator", tags=["simulator"])


@router.post("/messages", response_model=SimulatorReplies)
async def send(
    body: SimulatorMessage, scope: ScopeDep, services: ServicesDep, db: SessionDep
) -> SimulatorReplies:
    """Send one message as your simulated person on that channel; the bot's replies come
    back as that channel would show them (buttons on Telegram, numbered menus on SMS)."""
    await db.close()  # the message gets a transaction of its own, as a webhook's would
    replies = await simulate(services, scope.staff.id, body.channel, body.text, body.button)
    return SimulatorReplies(replies=[SimulatedReply.model_validate(r) for r in replies])
