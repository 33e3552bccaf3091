"""Several ``baraza serve`` processes on one PostgreSQL database behave as one: under a
broadcast and a stream of inbound messages spread over them, every inbound message is
handled once, every outbound message is sent once, and together they never send faster
than the provider's limit (the busiest 1-second window at the fake provider counts
every process's messages). Two processes run in ``make test``, three in ``make soak``."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from bot.models import InboundReceipt
from bot.settings import generate_key
from tests import support
from tests.fakes.twilio_api import FakeTwilio
from tests.outbound.test_processes import (
    announce_and_remind,
    prepare,
    received,
    server_env,
    wait_for,
)
from tests.processes import Served
from tests.scale.traffic import InboundTraffic, busiest_second, sender_number

SOAK = pytest.mark.skipif(not os.environ.get("BARAZA_SOAK"), reason="a long run: make soak")


async def receipts(url: str, tmp: Path, key: str) -> int:
    services = await support.open_services(
        support.test_settings(url, tmp, BARAZA_DATA_KEY=key), deployment=None
    )
    try:
        async with services.sessions() as db:
            return int(await db.scalar(select(func.count()).select_from(InboundReceipt)) or 0)
    finally:
        await services.close()


async def several_processes(
    tmp: Path,
    processes: int,
    *,
    members: int,
    inbound: int,
    rate: int,
    outage: float = 0.0,
    uvicorn_workers: bool = False,
) -> None:
    """``outage`` seconds: the provider answers 503, slowly, from before the broadcast
    and the inbound stream until that long after; then everything must go once, the
    replies first. ``uvicorn_workers``: the processes are one ``uvicorn --workers``
    behind one port (its counters summed in ``PROMETHEUS_MULTIPROC_DIR``), not
    ``baraza serve`` processes behind the test's balancing."""
    url = await support.create_database("postgresql", tmp)
    key = generate_key()
    servers: list[Served] = []
    counted = 0.0
    try:
        await prepare(url, tmp, key, members)
        with FakeTwilio() as fake:
            env = server_env(url, tmp, key, fake, rate=rate)
            env["BARAZA_OUTAGE_PROBE_SECONDS"] = "5"
            if uvicorn_workers:
                (metrics := tmp / "metrics").mkdir()
                env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
                log = tmp / "uvicorn.log"
                servers = [await asyncio.to_thread(Served.uvicorn, env, log, processes, 90)]
            else:
                servers = await asyncio.gather(
                    *(
                        asyncio.to_thread(Served.start, env, tmp / f"server-{n}.log", None, 90)
                        for n in range(processes)
                    )
                )
            traffic = InboundTraffic(fake, lambda: [s.base_url for s in servers], inbound)
            started = time.monotonic()
            if outage:
                fake.down(503, hang=1.0)
            await announce_and_remind(url, tmp, key, remind_in=3600)
            await traffic.run()
            if outage:
                await asyncio.sleep(max(0.0, started + outage - time.monotonic()))
                tried_while_down = len(fake.requests)
                fake.up()
            numbers = {sender_number(n) for n in range(inbound)}

            def replies() -> Counter[str]:
                return Counter(m.to for m in fake.messages if m.to in numbers)

            await wait_for(
                lambda: (
                    len(received(fake, "Patrols", members)) == members and len(replies()) == inbound
                ),
                within=120,
            )
            await asyncio.sleep(1.0)  # anything sent twice would have arrived by now
            news, answered, times = received(fake, "Patrols", members), replies(), fake.messages
            elapsed = time.monotonic() - started
            if uvicorn_workers:
                counted = await counted_in_metrics(servers[0].base_url)
        handled = await receipts(url, tmp, key)
    finally:
        for server in servers:
            server.stop()
        await support.drop_database(url)
    sent_at = [m.at for m in times]
    busiest = busiest_second(sent_at)
    print(
        f"\n{processes} processes: {len(times)} messages sent in {elapsed:.1f} s, "
        f"{(len(sent_at) - 1) / (max(sent_at) - min(sent_at)):.1f}/s overall; "
        f"busiest 1-second window {busiest} (limit {rate}/s); "
        f"{inbound} inbound: {handled} handled, answers {dict(traffic.answers)}; "
        f"news twice: {sum(c - 1 for c in news.values())}, "
        f"replies twice: {sum(c - 1 for c in answered.values())}"
    )
    assert len(traffic.acknowledged) == inbound and handled == inbound  # each handled once
    assert set(traffic.answers) == {200}  # no 5xx, nothing refused
    assert len(news) == members and set(news.values()) == {1}  # each announcement once
    assert len(answered) == inbound and set(answered.values()) == {1}  # each reply once
    if uvicorn_workers:  # every worker's count, summed: not the one that answered
        assert counted == inbound
    # All processes together within the provider's limit. The slots are 1/49 s apart; at
    # the fake provider, a slot's message arrives after a database round trip and each
    # process's turn on the shared cores, which on a loaded machine can bunch two or
    # three: hence 10%
    # (two processes keeping the limit apart would measure 200%, a burst 150% and more).
    assert busiest <= rate * 1.1
    if outage:
        order = [m.to for m in times]
        last_reply = max(i for i, to in enumerate(order) if to in answered)
        print(
            f"{tried_while_down} requests during {outage:.0f} s of outage; last reply #{last_reply}"
        )
        assert last_reply < inbound + processes * 50  # replies first, bar a batch each


async def counted_in_metrics(base_url: str) -> float:
    """Inbound SMS counted at /metrics, by whichever worker the kernel hands the scrape."""
    async with httpx.AsyncClient(base_url=base_url) as client:
        text = (await client.get("/metrics")).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith('baraza_messages_in_total{channel="sms"}')
    )


async def test_two_processes_on_one_database_are_one_bot(tmp_path: Path) -> None:
    await several_processes(tmp_path, 2, members=300, inbound=120, rate=50)


async def test_uvicorn_with_two_workers_is_one_bot(tmp_path: Path) -> None:
    await several_processes(tmp_path, 2, members=150, inbound=60, rate=50, uvicorn_workers=True)


@SOAK
async def test_three_processes_on_one_database_are_one_bot(tmp_path: Path) -> None:
    await several_processes(tmp_path, 3, members=2000, inbound=600, rate=50)


@SOAK
async def test_a_long_outage_with_two_processes_delivers_everything_once_replies_first(
    tmp_path: Path,
) -> None:
    seconds = float(os.environ.get("BARAZA_SOAK_OUTAGE_SECONDS", "120"))
    await several_processes(tmp_path, 2, members=1000, inbound=200, rate=50, outage=seconds)
