"""What every ``baraza`` command shares: the settings, read once and explained when they
are wrong, and one way to stop with a message (exit status 2)."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from bot.settings import Settings, describe_invalid, get_settings


def load_settings() -> Settings:
    from pydantic import ValidationError

    try:
        return get_settings()
    except ValidationError as exc:
        fail(f"bad setting: {describe_invalid(exc)}")


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)
