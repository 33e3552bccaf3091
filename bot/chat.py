"""``baraza chat``: talk to the bot in a terminal, through the real pipeline.

Each line typed goes through ``handle_inbound`` against the configured database
(the running server's, if there is one), and the replies are delivered from the
outbox by a sender that owns this terminal's address only, so what you see is
what an SMS user would receive.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

from bot.contacts import urn_hash
from bot.conversation import handle_inbound
from bot.services import Services
from bot.settings import Settings
from bot.urns import parse
from channels.console import ConsoleChannel

BANNER = "Baraza chat as {urn}. Type a message; Ctrl-D or /quit to leave."


async def chat(
    settings: Settings,
    name: str,
    lines: Callable[[], str | None],
    write: Callable[[str], None],
) -> None:
    services = await Services.open(settings)
    try:
        urn = parse(f"console:{name}")
        channel = ConsoleChannel(
            write=lambda text: write(f"\nbot> {text.replace(chr(10), chr(10) + '     ')}\n")
        )
        sender = services.sender({"console": channel})
        me = urn_hash(urn)
        write(BANNER.format(urn=urn))
        await sender.drain(me)  # anything that waited for this address (notifications)
        while True:
            line = lines()
            if line is None or line.strip() in {"/quit", "/exit"}:
                break
            async with services.sessions() as db, db.begin():
                await handle_inbound(db, services.runtime, ConsoleChannel.inbound(urn, line))
            await sender.drain(me)
    finally:
        await services.close()


def _read_line() -> str | None:
    try:
        return input("you> ")
    except EOFError:
        return None


def run_chat(settings: Settings, name: str) -> None:
    asyncio.run(chat(settings, name, _read_line, lambda text: print(text, file=sys.stdout)))
