"""A server killed with SIGKILL in the middle of inbound load, then restarted where it
was: the provider sends again whatever was not acknowledged, as Twilio does. Printed:
messages lost (acknowledged but not handled, or never answered; target 0) and
handled or answered twice (target 0 beyond those in flight at the kill). The short run
is in ``make test``, a long one with two kills in ``make soak``."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from bot.models import InboundReceipt
from bot.settings import generate_key
from tests import support
from tests.fakes.twilio_api import FakeTwilio
from tests.outbound.test_processes import server_env, wait_for
from tests.processes import Served, free_port
from tests.scale.test_processes import SOAK
from tests.scale.traffic import InboundTraffic, sender_number


async def handled_sids(url: str, tmp: Path, key: str) -> list[str]:
    settings = support.test_settings(url, tmp, BARAZA_DATA_KEY=key)
    services = await support.open_services(settings, deployment=None)
    try:
        async with services.sessions() as db:
            return list((await db.execute(select(InboundReceipt.provider_id))).scalars())
    finally:
        await services.close()


async def kill_under_inbound_load(tmp: Path, count: int, kills: int, parallel: int) -> None:
    url = await support.create_database("postgresql", tmp)
    key = generate_key()
    server: Served | None = None
    demo = await support.open_services(support.test_settings(url, tmp, BARAZA_DATA_KEY=key))
    await demo.close()  # the schema and the demo deployment
    try:
        with FakeTwilio() as fake:
            env = server_env(url, tmp, key, fake, rate=200)
            port, log = free_port(), tmp / "server.log"
            server = Served.start(env, log, port)
            base = server.base_url
            traffic = InboundTraffic(fake, lambda: [base], count, per_second=40, parallel=parallel)
            began = time.monotonic()
            stream = asyncio.create_task(traffic.run())
            in_flight_at_kills = 0
            for kill in range(1, kills + 1):
                await wait_for(
                    lambda k=kill: len(traffic.acknowledged) >= k * count // (kills + 1), within=60
                )
                server.kill()
                in_flight_at_kills += parallel
                await asyncio.sleep(0.5)  # the provider meets a closed port meanwhile
                down = time.monotonic()
                server = await asyncio.to_thread(Served.start, env, log, port)
                print(
                    f"\nkilled at +{down - began:.1f} s, back after {time.monotonic() - down:.1f} s"
                )
            await asyncio.wait_for(stream, 120)
            print(f"stream acknowledged at +{time.monotonic() - began:.1f} s")
            numbers = {sender_number(n) for n in range(count)}

            def replies() -> Counter[str]:
                return Counter(m.to for m in fake.messages if m.to in numbers)

            await wait_for(lambda: len(replies()) == count, within=60)
            await asyncio.sleep(1.0)  # anything sent twice would have arrived by now
            answered = replies()
    finally:
        if server is not None:
            server.stop()
    sids = await handled_sids(url, tmp, key)
    await support.drop_database(url)
    handled = Counter(sids)
    acknowledged = set(traffic.acknowledged.values())
    lost_inbound = len(acknowledged - set(handled)) + (count - len(traffic.acknowledged))
    twice_inbound = sum(c - 1 for c in handled.values())
    lost_replies = count - len(answered)
    twice_replies = sum(c - 1 for c in answered.values())
    print(
        f"\n{count} inbound SMS, {kills} SIGKILL(s), {parallel} requests in flight at most: "
        f"inbound lost {lost_inbound}, handled twice {twice_inbound}; "
        f"replies lost {lost_replies}, sent twice {twice_replies}; "
        f"answers {dict(traffic.answers)}"
    )
    assert lost_inbound == 0 and twice_inbound == 0
    assert lost_replies == 0
    assert twice_replies <= in_flight_at_kills  # at most what was in flight at the kills
    assert not [status for status in traffic.answers if isinstance(status, int) and status >= 500]


async def test_sigkill_under_inbound_load_loses_nothing(tmp_path: Path) -> None:
    await kill_under_inbound_load(tmp_path, count=120, kills=1, parallel=10)


@SOAK
async def test_sigkill_twice_under_long_inbound_load_loses_nothing(tmp_path: Path) -> None:
    await kill_under_inbound_load(tmp_path, count=3000, kills=2, parallel=20)
