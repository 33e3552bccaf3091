"""How `baraza serve` runs Telegram: polling without a public URL, a registered webhook
with one, and the `baraza telegram` commands, all against the fake Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.services import Services
from tests import support
from tests.fakes.telegram_api import FakeTelegram, text_update
from tests.test_app_and_cli import baraza, cli_env  # noqa: F401  (cli_env is a fixture)

SECRET = "serve-secret-0123456789abcdef"


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


async def open_with(fake: FakeTelegram, tmp: Path, **settings: str) -> Services:
    url = f"sqlite:///{tmp / 'serve.db'}"
    values = {"TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_URL": fake.url, **settings}
    return await support.open_services(support.test_settings(url, tmp, **values))


async def test_without_a_public_url_the_server_polls(fake: FakeTelegram, tmp_path: Path) -> None:
    services = await open_with(fake, tmp_path, BARAZA_SENDER_POLL_SECONDS="5")
    try:
        services.start_workers()
        fake.push_update(
            text_update("/start", user={"id": 91000001, "is_bot": False, "first_name": "Z"})
        )
        # The reply arrives well before the sender's 5 s poll: the inbound woke it.
        await fake.wait_for(lambda f: f.texts(91000001), timeout=4)
    finally:
        await services.close()
    assert "language" in fake.texts(91000001)[0].lower()
    assert fake.calls_of("deleteWebhook") and fake.calls_of("getUpdates")
    assert fake.pending_updates == []


async def test_with_a_public_url_the_server_registers_its_webhook(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    services = await open_with(
        fake,
        tmp_path,
        PUBLIC_BASE_URL="https://bot.example.org/",
        TELEGRAM_WEBHOOK_SECRET=SECRET,
    )
    try:
        services.start_workers()
        await fake.wait_for(lambda f: f.webhook.get("url"), timeout=4)
        await asyncio.sleep(0.1)
        assert not fake.calls_of("getUpdates")
    finally:
        await services.close()
    assert fake.webhook["url"] == "https://bot.example.org/webhooks/telegram"
    assert fake.webhook["secret_token"] == SECRET
    assert "callback_query" in fake.webhook["allowed_updates"]


def test_telegram_commands_set_and_show_the_webhook(
    fake: FakeTelegram,
    cli_env: dict[str, str],  # noqa: F811
) -> None:
    cli_env.update(TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_URL=fake.url)
    refused = baraza(cli_env, "telegram", "set-webhook", check=False)
    assert refused.returncode == 2 and "PUBLIC_BASE_URL" in refused.stderr
    cli_env.update(PUBLIC_BASE_URL="https://bot.example.org", TELEGRAM_WEBHOOK_SECRET=SECRET)
    done = baraza(cli_env, "telegram", "set-webhook")
    assert "https://bot.example.org/webhooks/telegram" in done.stdout
    fake.set_webhook_error("Wrong response from the webhook: 503 Service Unavailable")
    info = baraza(cli_env, "telegram", "info").stdout
    assert "@baraza_test_bot" in info
    assert "webhook: https://bot.example.org/webhooks/telegram" in info
    assert "503 Service Unavailable" in info


def test_telegram_commands_need_a_token(cli_env: dict[str, str]) -> None:  # noqa: F811
    result = baraza(cli_env, "telegram", "info", check=False)
    assert result.returncode == 2 and "TELEGRAM_BOT_TOKEN" in result.stderr


def test_a_malformed_webhook_secret_is_refused_at_start(cli_env: dict[str, str]) -> None:  # noqa: F811
    cli_env.update(TELEGRAM_BOT_TOKEN="1:x", TELEGRAM_WEBHOOK_SECRET="short")
    result = baraza(cli_env, "telegram", "info", check=False)
    assert result.returncode != 0 and "TELEGRAM_WEBHOOK_SECRET" in result.stderr
