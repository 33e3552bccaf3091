"""What every ``baraza`` command shares: the settings, read once and explained when they
are wrong; the app's services, opened for one command and closed after it; and one way
to stop with a message (exit status 2)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, NoReturn

import click

from bot.settings import Settings, get_settings
from bot.validation import describe_invalid

if TYPE_CHECKING:
    from bot.services import Services


def load_settings() -> Settings:
    from pydantic import ValidationError

    try:
        return get_settings()
    except ValidationError as exc:
        fail(f"bad setting: {describe_invalid(exc)}")


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@asynccontextmanager
async def opened_services(
    settings: Settings | None = None, *, upgrade: bool = True
) -> AsyncIterator[Services]:
    """The services (database, channels) for one command, closed whatever happens."""
    from bot.services import Services  # the app's imports only for commands that need it

    services = await Services.open(settings or load_settings(), upgrade=upgrade)
    try:
        yield services
    finally:
        await services.close()
