"""Inbound webhook benchmark: Telegram updates through ``POST /webhooks/telegram`` under uvicorn.

Two servers run in turn, each pinned to core 0 when ``taskset`` is there: Baraza
(SQLite, the demo deployment, each update a real step of a report conversation:
secret check, parse, de-duplicate, contact, session, flow, case and outbox writes,
commit) and a bare FastAPI endpoint that only reads the JSON body. The load runs on
core 1 with a small keep-alive HTTP/1.1 client (httpx would be the bottleneck).

Printed: updates per second for each, and their ratio (target: Baraza at least 40%
of the bare endpoint), then p50/p99 latency at a steady 100 updates per second
(target: p99 under 50 ms). The sender is not running: this measures inbound only.

    make bench
    python bench/webhook_bench.py --updates 3000 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret-0123456789abcdef"
TOKEN = "123456:BENCH-token"
SCRIPT = ("/start", "1", "1", "1", "Eastleigh", "Two shops broken into last night.", "1", "yes")


# ------------------------------------------------------------------- servers


def bare_app() -> FastAPI:
    app = FastAPI()

    @app.post("/webhooks/telegram")
    async def webhook(request: Request) -> Response:
        await request.json()
        return Response(status_code=200)

    return app


def serve(kind: str, port: int, database: str) -> None:
    import uvicorn

    if kind == "bare":
        app = bare_app()
    else:
        from bench.demo import bench_settings
        from bot.app import create_app

        settings = bench_settings(
            Path(database),
            os.environ["BENCH_KEY"],
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_WEBHOOK_SECRET=SECRET,
            TELEGRAM_API_URL="http://127.0.0.1:9",  # never called: the sender is off
        )
        app = create_app(settings, workers=False)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def prepare_database(database: str, key: str) -> None:
    from bench.demo import open_demo

    await (await open_demo(Path(database), key)).close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(kind: str, database: str, key: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    command = [sys.executable, __file__, "--serve", kind, "--port", str(port), "--db", database]
    if shutil.which("taskset"):
        command = ["taskset", "-c", "0", *command]
    process = subprocess.Popen(command, env={**os.environ, "BENCH_KEY": key})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{kind} server did not start")


# -------------------------------------------------------------------- client


class Connection:
    """One keep-alive HTTP/1.1 connection that posts JSON and reads the status."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        head = (
            f"POST /webhooks/telegram HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        if not status_line:  # the server closed it while idle (keep-alive timeout): again
            self.writer.close()
            self.writer = None
            return await self.post(body)
        status = int(status_line.split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        if length:
            await self.reader.readexactly(length)
        return status


def connections(ports: int | Sequence[int]) -> Callable[[], Connection]:
    """New connections spread over the servers' ports in turn, as a load balancer would."""
    turn = itertools.cycle([ports] if isinstance(ports, int) else list(ports))
    return lambda: Connection(next(turn))


class Users:
    """Telegram users each walking through a report, one update at a time."""

    def __init__(self, prefix: int) -> None:
        self.prefix = prefix
        self.next_user = 0
        self.update_id = prefix * 10_000_000

    def conversation(self) -> list[bytes]:
        self.next_user += 1
        user = {"id": self.prefix * 1_000_000 + self.next_user, "is_bot": False, "first_name": "B"}
        bodies = []
        for text in SCRIPT:
            self.update_id += 1
            message: dict[str, Any] = {
                "message_id": self.update_id,
                "from": user,
                "chat": {"id": user["id"], "first_name": "B", "type": "private"},
                "date": int(time.time()),
                "text": text,
            }
            if text.startswith("/"):
                message["entities"] = [{"offset": 0, "length": len(text), "type": "bot_command"}]
            bodies.append(json.dumps({"update_id": self.update_id, "message": message}).encode())
        return bodies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def saturate(
    port: int | Sequence[int],
    users: Users,
    total: int,
    concurrency: int,
    failures: Counter[int] | None = None,
) -> float:
    """Closed loop: ``concurrency`` users in flight at once; returns updates per second."""
    done = 0
    failures = Counter() if failures is None else failures
    connect = connections(port)

    async def worker() -> None:
        nonlocal done
        connection = connect()
        while done < total:
            for body in users.conversation():
                status = await connection.post(body)
                done += 1
                if status != 200:
                    failures[status] += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    if failures:
        print(f"  non-200 answers: {dict(failures)}")
    return done / elapsed


async def steady(
    port: int | Sequence[int],
    users: Users,
    rate: float,
    seconds: float,
    statuses: Counter[int] | None = None,
) -> list[float]:
    """Open loop at ``rate`` updates per second; a user's next step waits for the last."""
    latencies: list[float] = []
    statuses = Counter() if statuses is None else statuses
    connect = connections(port)
    queue: asyncio.Queue[list[bytes]] = asyncio.Queue()
    for _ in range(int(rate * seconds / len(SCRIPT)) + 8):
        queue.put_nowait(users.conversation())
    tick = 1.0 / rate
    idle: list[Connection] = [connect() for _ in range(64)]

    async def one(body: bytes) -> None:
        connection = idle.pop() if idle else connect()
        started = time.perf_counter()
        statuses[await connection.post(body)] += 1
        latencies.append(time.perf_counter() - started)
        idle.append(connection)

    # users in flight: each sends its next step only once the previous one is answered
    walking: list[tuple[list[bytes], asyncio.Task[None] | None]] = []
    start = time.perf_counter()
    sent = 0
    tasks: list[asyncio.Task[None]] = []
    while time.perf_counter() - start < seconds:
        target = start + sent * tick
        delay = target - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        ready = next((i for i, (_, t) in enumerate(walking) if t is None or t.done()), None)
        if ready is None or not walking[ready][0]:
            if ready is not None:
                walking.pop(ready)
            # slow answers keep more users mid-conversation: start new ones as needed
            walking.append(
                (queue.get_nowait() if not queue.empty() else users.conversation(), None)
            )
            ready = len(walking) - 1
        steps, _ = walking[ready]
        task = asyncio.create_task(one(steps.pop(0)))
        walking[ready] = (steps, task)
        tasks.append(task)
        sent += 1
    await asyncio.gather(*tasks)
    return latencies


async def measure(args: argparse.Namespace, key: str, tmp: Path) -> None:
    results: dict[str, float] = {}
    for kind in ("bare", "baraza"):
        database = str(tmp / f"{kind}.db")
        if kind == "baraza":
            await prepare_database(database, key)
        process, port = start_server(kind, database, key)
        try:
            await saturate(port, Users(90), 400, args.concurrency)  # warm-up
            results[kind] = await saturate(port, Users(91), args.updates, args.concurrency)
            if kind == "baraza":
                latencies = await steady(port, Users(92), args.rate, args.seconds)
        finally:
            process.terminate()
            process.wait(10)
    ratio = results["baraza"] / results["bare"]
    print(f"inbound Telegram webhook under uvicorn, one core, {args.concurrency} connections")
    print(f"  bare FastAPI endpoint  {results['bare']:7.0f} updates/s")
    print(
        f"  Baraza on SQLite       {results['baraza']:7.0f} updates/s  (each a conversation step)"
    )
    print(f"  ratio                  {ratio:7.0%}   (target >= 40%)")
    ms = [x * 1000 for x in latencies]
    print(
        f"  steady {args.rate:.0f} updates/s for {args.seconds:.0f} s: "
        f"p50 {percentile(ms, 0.5):.1f} ms   p99 {percentile(ms, 0.99):.1f} ms   "
        f"max {max(ms):.1f} ms   (target p99 < 50 ms, {len(ms)} updates)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--serve", choices=["bare", "baraza"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--db")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.db)
        return
    if shutil.which("taskset"):  # the client on the other core
        os.sched_setaffinity(0, {1 % (os.cpu_count() or 1)})
    from bot.settings import generate_key

    with tempfile.TemporaryDirectory(prefix="baraza-webhook-bench-") as tmp:
        asyncio.run(measure(args, generate_key(), Path(tmp)))


if __name__ == "__main__":
    main()
