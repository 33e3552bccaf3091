"""How long the dashboard takes at 100,000 cases, on SQLite and on PostgreSQL: the
response time of ``GET /api/v1/stats`` and of the ``/admin/dashboard`` page for an
admin (the whole programme), and for a forum's focal point, over ASGI.

The cases are spread over two years by default, as a programme gathers them; with
``--weeks 16`` three quarters of them fall in the dashboard's 12 weeks (the worst
case: every figure counts 75,000 rows).

Run with ``make bench`` (or ``python bench/stats_bench.py [--cases N] [--weeks W]``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from admin.deps import COOKIE
from admin.security import issue_token
from bot.app import create_app
from bot.models import StaffUser
from bot.models.base import utcnow
from tests import support
from tests.admin.case_rows import random_cases

RUNS = 7
TARGET_MS = 1000


async def _timed(client: httpx.AsyncClient, path: str) -> list[float]:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = await client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text[:300]
    return times


async def dashboard(backend: str, tmp: Path, count: int, weeks: int) -> None:
    url = await support.create_database(backend, tmp)
    services = await support.open_services(support.test_settings(url, tmp))
    try:
        started = time.perf_counter()
        async with services.sessions() as db, db.begin():
            await random_cases(db, count, utcnow(), weeks=weeks)
        seeded = time.perf_counter() - started
        app = create_app(services.settings, workers=False)
        app.state.services = services
        transport = httpx.ASGITransport(app=app)
        for email in ("programme@baraza.example", "amina@baraza.example"):
            async with services.sessions() as db, db.begin():
                user = await db.scalar(select(StaffUser).where(StaffUser.email == email))
                assert user is not None
                token, _ = await issue_token(db, user, "web")
            async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
                client.cookies.set(COOKIE, token)
                for path in ("/api/v1/stats", "/admin/dashboard"):
                    times = await _timed(client, path)
                    median = statistics.median(times)
                    verdict = "ok" if median < TARGET_MS else "SLOW"
                    print(
                        f"  {backend:<10} {count:>7,} cases  {email.split('@')[0]:<9} "
                        f"{path:<17} median {median:6.0f} ms  max {max(times):6.0f} ms  "
                        f"(target < {TARGET_MS} ms: {verdict})"
                    )
        print(f"  ({backend}: {count:,} cases written in {seeded:.1f} s)")
    finally:
        await services.close()
        await support.drop_database(url)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--weeks", type=int, default=104, help="spread over this many weeks")
    parser.add_argument("--backend", choices=support.BACKENDS, action="append")
    args = parser.parse_args()
    print(f"The dashboard at {args.cases:,} cases over {args.weeks} weeks ({RUNS} requests each):")
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backend or support.BACKENDS:
            await dashboard(backend, Path(tmp), args.cases, args.weeks)


if __name__ == "__main__":
    asyncio.run(main())
