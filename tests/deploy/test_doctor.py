"""``baraza doctor`` against a real database (the demo deployment imported, the schema
at head) and the fake Telegram and Twilio servers: a healthy production configuration
is all ok and exits 0; each broken part fails with its own plain words."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.doctor import Check, diagnose
from bot.doctor.providers import redis_checks
from bot.i18n import default_locales_dir
from bot.settings import Settings, generate_key
from tests import support
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio
from tests.support import create_database, drop_database, open_services

PUBLIC = "https://bot.example.org"


@pytest.fixture(scope="module")
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture(scope="module")
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


async def healthy_deployment(
    backend: str, tmp: Path, telegram: FakeTelegram, twilio: FakeTwilio
) -> dict[str, Any]:
    """A database of ``backend`` with the demo imported, the webhook registered as
    `baraza serve` registers it, and the production settings of it all."""
    values: dict[str, Any] = {
        "BARAZA_ENV": "production",
        "DATABASE_URL": await create_database(backend, tmp),
        "BARAZA_DATA_KEY": generate_key(),
        "BARAZA_VAR_DIR": str(tmp / "var"),
        "PUBLIC_BASE_URL": PUBLIC,
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_WEBHOOK_SECRET": "s" * 32,
        "TELEGRAM_API_URL": telegram.url,
        **twilio.app_env(),
        "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
        "BARAZA_METRICS_TOKEN": "m" * 32,
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    services = await open_services(support.test_settings(values["DATABASE_URL"], tmp, **values))
    try:
        await services.register_telegram_webhook()
    finally:
        await services.close()
    return values


@pytest.fixture
async def healthy(
    backend: str, tmp_path: Path, telegram: FakeTelegram, twilio: FakeTwilio
) -> AsyncIterator[dict[str, Any]]:
    values = await healthy_deployment(backend, tmp_path, telegram, twilio)
    yield values
    await drop_database(values["DATABASE_URL"])


@pytest.fixture(scope="module")
async def on_postgres(
    tmp_path_factory: pytest.TempPathFactory, telegram: FakeTelegram, twilio: FakeTwilio
) -> AsyncIterator[dict[str, Any]]:
    """One healthy deployment on PostgreSQL, which the tests below only read: each
    breaks one setting of its own copy."""
    tmp = tmp_path_factory.mktemp("doctor")
    values = await healthy_deployment("postgresql", tmp, telegram, twilio)
    yield values
    await drop_database(values["DATABASE_URL"])


async def run(values: dict[str, Any], **changes: Any) -> dict[str, Check]:
    checks = await diagnose(Settings(**{**values, **changes}))
    return {check.name: check for check in checks}


def failures(checks: dict[str, Check]) -> dict[str, str]:
    return {name: check.says for name, check in checks.items() if check.status != "ok"}


async def test_a_healthy_deployment_is_all_ok(healthy: dict[str, Any], backend: str) -> None:
    checks = await run(healthy)
    # In production SQLite works but is worth a word; nothing else is.
    expected = {"database engine"} if backend == "sqlite" else set()
    assert set(failures(checks)) == expected, [c.line() for c in checks.values()]
    assert {
        "settings", "data key", "public URL", "channels", "database", "clock", "schema",
        "deployment", "catalogs", "flows", "telegram token", "telegram webhook",
        "twilio account", "twilio senders", "data key opens the data", "redis",
    } <= set(checks)  # fmt: skip
    assert "@" in checks["telegram token"].says
    assert f"{PUBLIC}/webhooks/telegram" in checks["telegram webhook"].says
    assert "en, fr, pt" in checks["deployment"].says


def test_the_command_exits_0_when_healthy_and_1_on_any_failure(
    on_postgres: dict[str, Any],
) -> None:
    env = {name: str(value) for name, value in on_postgres.items()}
    result = CliRunner().invoke(main, ["doctor"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "-- ready"
    assert all(line.startswith("OK ") for line in result.output.splitlines()[:-1])

    result = CliRunner().invoke(main, ["doctor"], env={**env, "TWILIO_AUTH_TOKEN": "x" * 32})
    assert result.exit_code == 1
    (line,) = [line for line in result.output.splitlines() if line.startswith("FAIL")]
    assert line.startswith("FAIL  twilio account: ") and "refused TWILIO_ACCOUNT_SID" in line
    assert "Fix: copy the Account SID and Auth Token" in line


async def test_a_wrong_telegram_token_is_named(on_postgres: dict[str, Any]) -> None:
    checks = await run(on_postgres, TELEGRAM_BOT_TOKEN="123456:not-the-token")
    assert failures(checks) == {
        "telegram token": f"{on_postgres['TELEGRAM_API_URL']} refused TELEGRAM_BOT_TOKEN "
        "(Unauthorized)"
    }
    assert "@BotFather" in checks["telegram token"].fix


async def test_a_webhook_pointing_elsewhere_fails(
    on_postgres: dict[str, Any], telegram: FakeTelegram
) -> None:
    checks = await run(on_postgres, PUBLIC_BASE_URL="https://new.example.org")
    assert failures(checks) == {
        "telegram webhook": f"points at {PUBLIC}/webhooks/telegram, "
        "not https://new.example.org/webhooks/telegram"
    }
    assert "baraza telegram set-webhook" in checks["telegram webhook"].fix


async def test_an_unreachable_database_fails_and_the_rest_is_still_checked(
    on_postgres: dict[str, Any],
) -> None:
    checks = await run(on_postgres, DATABASE_URL="postgresql://baraza:pw@127.0.0.1:9/baraza")
    assert checks["database"].status == "fail"
    assert checks["database"].says.startswith("cannot reach postgresql://baraza:***@127.0.0.1:9/")
    assert "pw" not in checks["database"].says
    assert "schema" not in checks and "deployment" not in checks
    assert checks["telegram token"].status == checks["flows"].status == "ok"


async def test_a_database_restored_under_another_key_fails(on_postgres: dict[str, Any]) -> None:
    checks = await run(on_postgres, BARAZA_DATA_KEY=generate_key())
    assert list(failures(checks)) == ["data key opens the data"]
    assert "sealed with another key" in checks["data key opens the data"].says
    rotated = await run(
        on_postgres,
        BARAZA_DATA_KEY=generate_key(),
        BARAZA_PREVIOUS_DATA_KEYS=on_postgres["BARAZA_DATA_KEY"],
    )
    assert not failures(rotated)


async def test_a_missing_catalog_is_named(on_postgres: dict[str, Any], tmp_path: Path) -> None:
    locales = tmp_path / "locales"
    shutil.copytree(default_locales_dir(), locales)
    (locales / "pt" / "LC_MESSAGES" / "messages.mo").unlink()
    checks = await run(on_postgres, BARAZA_LOCALES_DIR=str(locales))
    assert list(failures(checks)) == ["catalogs"]
    assert checks["catalogs"].says.startswith(f"no compiled catalog for pt in {locales}")
    assert "pybabel compile" in checks["catalogs"].fix


async def test_an_empty_database_asks_for_the_schema(tmp_path: Path) -> None:
    url = await create_database("postgresql", tmp_path)
    try:
        checks = await run({"DATABASE_URL": url, "BARAZA_VAR_DIR": str(tmp_path)})
    finally:
        await drop_database(url)
    assert checks["schema"].status == "fail" and "empty" in checks["schema"].says
    assert "baraza db upgrade" in checks["schema"].fix


async def test_an_unimported_deployment_and_a_suspended_account_fail(
    tmp_path: Path, twilio: FakeTwilio
) -> None:
    settings = support.test_settings(
        await create_database("postgresql", tmp_path),
        tmp_path,
        TWILIO_ACCOUNT_SID=twilio.account_sid,
        TWILIO_AUTH_TOKEN=twilio.auth_token,
        TWILIO_API_URL=twilio.url,
    )
    services = await open_services(settings, deployment=None)
    await services.close()
    twilio.account_status = "suspended"
    try:
        checks = {check.name: check for check in await diagnose(settings)}
    finally:
        twilio.reset()
        await drop_database(settings.database_url)
    assert checks["deployment"].says.startswith("not imported: 0 area(s) and 0 forum(s)")
    assert "baraza import" in checks["deployment"].fix
    assert checks["twilio account"].says == "Baraza test account is suspended: nothing can be sent"
    assert checks["twilio senders"].status == "warn"


async def test_production_refuses_a_missing_key_and_a_plain_http_url(tmp_path: Path) -> None:
    checks = await run(
        {"BARAZA_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}"},
        BARAZA_ENV="production",
        PUBLIC_BASE_URL="http://bot.example.org",
        TELEGRAM_BOT_TOKEN="123:abc",
        TELEGRAM_API_URL="http://127.0.0.1:9",
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN="secret",
        TWILIO_API_URL="http://127.0.0.1:9",
    )
    assert checks["data key"].status == "fail" and "BARAZA_DATA_KEY" in checks["data key"].says
    assert checks["public URL"].status == "fail" and "not https" in checks["public URL"].says
    assert checks["database"].says.endswith("none.db does not exist")
    assert checks["database engine"].status == "warn"
    assert checks["telegram"].says.startswith("cannot reach http://127.0.0.1:9")
    assert checks["twilio"].says.startswith("cannot reach http://127.0.0.1:9")
    assert not (tmp_path / "data.key").exists() and not (tmp_path / "none.db").exists()


async def test_redis_is_checked_only_when_configured() -> None:
    assert await redis_checks(None) == []
    (answers,) = await redis_checks("redis://127.0.0.1:6379/0")
    assert (answers.status, answers.says) == ("ok", "answers at redis://127.0.0.1:6379/0")
    (down,) = await redis_checks("redis://user:secret@127.0.0.1:9/0")
    assert down.status == "fail" and down.says.startswith("cannot reach redis://***@127.0.0.1:9/0")
    assert "secret" not in down.line()
