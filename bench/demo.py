"""What both benchmarks start from: test settings on a SQLite file, and the demo deployment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.deployment import import_file
from bot.services import Services
from bot.settings import Environment, Settings

ROOT = Path(__file__).resolve().parent.parent


def bench_settings(database: Path, key: str, **extra: Any) -> Settings:
    return Settings(
        BARAZA_ENV=Environment.test,
        DATABASE_URL=f"sqlite:///{database}",
        BARAZA_DATA_KEY=key,
        BARAZA_VAR_DIR=database.parent,
        **extra,
    )


async def open_demo(database: Path, key: str) -> Services:
    """Services on a fresh SQLite file with the demo deployment imported."""
    services = await Services.open(bench_settings(database, key))
    async with services.sessions() as db, db.begin():
        languages = set(services.runtime.catalogs.languages)
        await import_file(db, ROOT / "deployments" / "demo.yaml", languages)
    return services
