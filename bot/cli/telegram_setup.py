"""``baraza telegram``: register the webhook with Telegram and show what Telegram knows of
the bot, so an operator can set up and debug the channel without writing code."""

from __future__ import annotations

import asyncio
from typing import Any

import click

from bot.cli.common import fail, opened_services


@click.group()
def telegram() -> None:
    """The Telegram bot: webhook registration and state."""


def _with_bot(work: Any) -> Any:

    async def run() -> Any:
        async with opened_services(upgrade=False) as services:
            if services.telegram_bot is None:
                fail("TELEGRAM_BOT_TOKEN is not set")
            return await work(services)

    return asyncio.run(run())


@telegram.command("set-webhook")
def telegram_set_webhook() -> None:
    """Register {PUBLIC_BASE_URL}/webhooks/telegram with Telegram, with the secret token."""
    from telegram.error import TelegramError

    async def work(services: Any) -> str:
        return str(await services.register_telegram_webhook())

    try:
        url = _with_bot(work)
    except (RuntimeError, TelegramError) as exc:
        fail(f"webhook not set: {exc}")
    click.echo(f"Telegram will deliver updates to {url}")


@telegram.command("info")
def telegram_info() -> None:
    """Show the bot and its webhook as Telegram sees them (pending updates, last error)."""
    from telegram.error import TelegramError

    async def work(services: Any) -> list[str]:
        bot = services.telegram_bot
        me = await bot.get_me()
        info = await bot.get_webhook_info()
        lines = [
            f"bot: @{me.username} (id {me.id})",
            f"webhook: {info.url or 'none (updates are polled)'}",
            f"pending updates: {info.pending_update_count}",
        ]
        if info.last_error_message:
            lines.append(f"last error: {info.last_error_message} at {info.last_error_date}")
        if info.allowed_updates:
            lines.append(f"allowed updates: {', '.join(info.allowed_updates)}")
        return lines

    try:
        click.echo("\n".join(_with_bot(work)))
    except TelegramError as exc:
        fail(f"Telegram did not answer: {exc}")
