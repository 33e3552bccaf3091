"""Engine benchmark: full report conversations through the real pipeline on SQLite.

Each step is what a webhook does for one message: build the ``InboundMessage``,
open a transaction, de-duplicate, load the contact and its session, advance the
flow, write the case and the outbox rows, commit. The sender is not included (it
runs apart from the webhook). Prints steps per second and p50/p99 latency, overall
and for the step that writes the case. Target (issue 2): 1,000 steps/s on one core.

    make bench            # pinned to one core with taskset when available
    python bench/engine_bench.py --conversations 500
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.demo import open_demo  # noqa: E402
from bot.conversation import handle_inbound  # noqa: E402
from bot.messages import InboundMessage  # noqa: E402
from bot.settings import generate_key  # noqa: E402

SCRIPT = ("hello", "1", "1", "1", "Eastleigh", "Two shops broken into last night.", "1", "yes")
CASE_STEP = len(SCRIPT) - 1


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run(conversations: int, warmup: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="baraza-bench-"))
    services = await open_demo(tmp / "bench.db", generate_key())

    async def step(urn: str, text: str) -> float:
        started = time.perf_counter()
        message = InboundMessage(
            channel="console", urn=urn, provider_id=uuid.uuid4().hex, text=text
        )
        async with services.sessions() as db, db.begin():
            await handle_inbound(db, services.runtime, message)
        return time.perf_counter() - started

    for _ in range(warmup):
        urn = f"console:warm{uuid.uuid4().hex[:8]}"
        for text in SCRIPT:
            await step(urn, text)

    latencies: list[float] = []
    case_latencies: list[float] = []
    by_step: list[list[float]] = [[] for _ in SCRIPT]
    started = time.perf_counter()
    for n in range(conversations):
        urn = f"console:bench{n}"
        for index, text in enumerate(SCRIPT):
            elapsed = await step(urn, text)
            latencies.append(elapsed)
            by_step[index].append(elapsed)
            if index == CASE_STEP:
                case_latencies.append(elapsed)
    wall = time.perf_counter() - started
    await services.close()

    steps = len(latencies)
    print(f"engine on SQLite: {conversations} full report conversations, {steps} steps")
    print(f"  throughput     {steps / wall:8.0f} steps/s   (target >= 1000 on one core)")
    print(
        f"  all steps      p50 {percentile(latencies, 0.50) * 1000:6.2f} ms   "
        f"p99 {percentile(latencies, 0.99) * 1000:6.2f} ms   "
        f"mean {statistics.fmean(latencies) * 1000:6.2f} ms"
    )
    print(
        f"  case-writing   p50 {percentile(case_latencies, 0.50) * 1000:6.2f} ms   "
        f"p99 {percentile(case_latencies, 0.99) * 1000:6.2f} ms   "
        f"({len(case_latencies)} cases, each with its focal-point notification)"
    )
    print(
        "  p50 by step    "
        + "  ".join(
            f"{text[:10]!r} {percentile(values, 0.5) * 1000:.2f}"
            for text, values in zip(SCRIPT, by_step, strict=True)
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.conversations, args.warmup))


if __name__ == "__main__":
    main()
