"""Load on PostgreSQL with 1, 2 and 4 ``baraza serve`` processes behind a load balancer.

The database first holds 100,000 contacts and 10,000 open conversation sessions.
Then, for each number of processes: the maximum sustained rate of Telegram webhook
updates (each a real step of a report conversation: secret check, parse,
de-duplicate, contact, session, flow, case and outbox writes, commit), closed loop
over keep-alive connections spread over the processes in turn; then p50/p99 latency
at half that rate; the count of 5xx answers; and each process's memory (RSS now and
at its peak); and, at the maximum, the app's CPU time per update and how busy the
machine's cores were, which say whether the cores or the app were the limit. The
scaling ratio is the 2- and 4-process rate over the 1-process one.

The sender runs but Telegram is unreachable (its outage gate closes at once), so
this measures the inbound side; the figures say what the machine was doing, since
the processes, PostgreSQL and the load client share its cores.

    make bench
    python bench/load_bench.py --processes 1 2 4 --updates 3000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.webhook_bench import SECRET, TOKEN, Users, percentile, saturate, steady
from bot.contacts import urn_hash
from bot.models import Contact, ConversationSession
from bot.models.base import table, utcnow
from bot.settings import generate_key
from bot.urns import parse
from tests import support
from tests.processes import Served


async def seed(url: str, tmp: Path, key: str, contacts: int, sessions: int) -> float:
    """The demo deployment, ``contacts`` SMS contacts and ``sessions`` open sessions."""
    started = time.perf_counter()
    services = await support.open_services(support.test_settings(url, tmp, BARAZA_DATA_KEY=key))
    try:
        now = utcnow()
        for start in range(0, contacts, 10_000):
            async with services.sessions() as db, db.begin():
                rows = [
                    {
                        "urn_hash": urn_hash(parse(f"tel:+25475{n:07d}")),
                        "urn": f"tel:+25475{n:07d}",
                        "channel": "sms",
                        "language": ("en", "fr", "pt")[n % 3],
                        "opted_out": False,
                        "created_at": now,
                    }
                    for n in range(start, min(contacts, start + 10_000))
                ]
                ids = list(
                    (
                        await db.execute(
                            insert(table(Contact)).returning(table(Contact).c.id), rows
                        )
                    ).scalars()
                )
                open_now = ids[: max(0, sessions - start)]
                if open_now:
                    await db.execute(
                        insert(table(ConversationSession)),
                        [
                            {
                                "contact_id": contact_id,
                                "flow": "report",
                                "step": "describe",
                                "state": "{}",
                                "updated_at": now,
                                "expires_at": now + timedelta(days=1),
                            }
                            for contact_id in open_now
                        ],
                    )
    finally:
        await services.close()
    return time.perf_counter() - started


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """Seconds all cores have been busy and in total so far (Linux /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle and iowait
    return (sum(values) - idle) / os.sysconf("SC_CLK_TCK"), sum(values) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> tuple[float, float]:
    """A process's resident memory now and at its peak, in MB (Linux)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def one_setting(
    processes: int, url: str, tmp: Path, key: str, args: argparse.Namespace, prefix: int
) -> float:
    env = {
        "DATABASE_URL": url,
        "BARAZA_DATA_KEY": key,
        "BARAZA_VAR_DIR": str(tmp / "var"),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_API_URL": "http://127.0.0.1:9",  # nobody there: replies stay queued
        "PUBLIC_BASE_URL": "https://bot.example.org",
        "BARAZA_QUIET_HOURS": "00:00-00:00",
    }
    servers = [  # one after the other: starting at once on a busy machine takes minutes
        await asyncio.to_thread(Served.start, env, tmp / f"load-{processes}-{n}.log", None, 120)
        for n in range(processes)
    ]
    ports = [int(server.base_url.rsplit(":", 1)[1]) for server in servers]
    try:
        statuses: Counter[int] = Counter()
        await saturate(ports, Users(prefix), 200 * processes, args.concurrency)  # warm-up
        cpu_before = sum(cpu_seconds(server.process.pid) for server in servers)
        busy_before, total_before = machine_busy()
        rate = await saturate(ports, Users(prefix + 1), args.updates, args.concurrency, statuses)
        busy_after, total_after = machine_busy()
        server_cpu = sum(cpu_seconds(server.process.pid) for server in servers) - cpu_before
        busy = (busy_after - busy_before) / (total_after - total_before)
        half = rate / 2
        latencies = await steady(ports, Users(prefix + 2), half, args.seconds, statuses)
        memory = [rss_mb(server.process.pid) for server in servers]
    finally:
        for server in servers:
            server.stop()
    ms = [x * 1000 for x in latencies]
    errors = sum(count for status, count in statuses.items() if status >= 500)
    print(
        f"  {processes} process{'es' if processes > 1 else '  '}  {rate:6.0f} updates/s   "
        f"at {half:4.0f}/s: p50 {percentile(ms, 0.5):5.1f} ms  p99 {percentile(ms, 0.99):6.1f} ms"
        f"   5xx {errors}   RSS per process "
        + ", ".join(f"{now:.0f} MB (peak {peak:.0f})" for now, peak in memory)
    )
    print(
        f"      at the maximum: the app's processes {1000 * server_cpu / args.updates:.1f} ms "
        f"of CPU per update; all cores {100 * busy:.0f}% busy (the rest is PostgreSQL and "
        "the load client)"
    )
    return rate


async def main(args: argparse.Namespace) -> None:
    key = generate_key()
    with tempfile.TemporaryDirectory(prefix="baraza-load-bench-") as tmp:
        root = Path(tmp)
        url = await support.create_database("postgresql", root)
        try:
            took = await seed(url, root, key, args.contacts, args.sessions)
            load = os.getloadavg()[0]
            print(
                f"inbound Telegram updates on PostgreSQL, {args.concurrency} connections, "
                f"{args.contacts:,} contacts and {args.sessions:,} open sessions "
                f"(seeded in {took:.0f} s); {os.cpu_count()} cores, load average {load:.1f}"
            )
            rates = {}
            for n, processes in enumerate(args.processes):
                rates[processes] = await one_setting(processes, url, root, key, args, 100 + 10 * n)
            one = rates.get(1)
            if one:
                print(
                    "  scaling: "
                    + ", ".join(f"{p} processes {r / one:.2f}x" for p, r in rates.items() if p > 1)
                    + f"   (load average now {os.getloadavg()[0]:.1f})"
                )
        finally:
            await support.drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--updates", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--sessions", type=int, default=10_000)
    asyncio.run(main(parser.parse_args()))
