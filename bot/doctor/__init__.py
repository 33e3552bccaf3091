"""``baraza doctor``: is this deployment set up right, and if not, what to do.

One line per check, ``ok``, ``warn`` or ``fail``, in plain words with the fix, for
the person who installs Baraza in a country office rather than for its developers:
settings and keys, the database and its schema, the imported deployment, catalogs
and flows, the Telegram and Twilio accounts, Redis, the public URL, the clock. A check that
cannot run says so instead of stopping the others. Any fail makes the command exit 1.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from pydantic import ValidationError

from bot.doctor.checks import Check, fail
from bot.doctor.database import DatabaseFindings, database_checks
from bot.doctor.local import catalog_checks, flow_checks, setting_checks
from bot.doctor.providers import redis_checks, telegram_checks, twilio_checks
from bot.settings import Settings
from bot.validation import describe_invalid

__all__ = ["Check", "diagnose", "examine", "render"]


def _could_not(name: str, exc: Exception) -> Check:
    return fail(name, f"could not be checked: {type(exc).__name__}: {exc}", "report it")


async def _guarded(name: str, checks: Awaitable[list[Check]]) -> list[Check]:
    try:
        return await checks
    except Exception as exc:  # a doctor reports what it could not check, and goes on
        return [_could_not(name, exc)]


async def diagnose(settings: Settings) -> list[Check]:
    """Every check, for settings that loaded."""
    checks = setting_checks(settings)
    try:
        database = await database_checks(settings)
    except Exception as exc:
        database = DatabaseFindings([_could_not("database", exc)])
    checks += database.checks
    languages = database.languages
    checks += await _guarded("catalogs", asyncio.to_thread(catalog_checks, settings, languages))
    checks += await _guarded("flows", asyncio.to_thread(flow_checks, settings))
    for found in await asyncio.gather(
        _guarded("telegram", telegram_checks(settings)),
        _guarded("twilio", twilio_checks(settings)),
        _guarded("redis", redis_checks(settings.redis_url)),
    ):
        checks += found
    return checks


async def examine() -> list[Check]:
    """Load the settings from the environment as the server would, then diagnose."""
    try:
        settings = Settings()
    except ValidationError as exc:
        return [
            fail("settings", f"do not load: {describe_invalid(exc)}", "correct the environment")
        ]
    return await diagnose(settings)


def render(checks: list[Check]) -> str:
    failed = sum(check.status == "fail" for check in checks)
    if failed:
        verdict = f"{failed} problem(s) to fix"
    elif any(check.status == "warn" for check in checks):
        verdict = "ready, with warnings"
    else:
        verdict = "ready"
    return "\n".join([*(check.line() for check in checks), f"-- {verdict}"])
