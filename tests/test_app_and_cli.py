"""The web app's health endpoints, and the ``baraza`` command as an operator runs it."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot import privacy
from bot.app import create_app
from bot.db import create_engine, ping
from bot.settings import generate_key
from tests.support import DEMO
from tests.support import test_settings as settings_for

BARAZA = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "baraza"
CLOSED_PORT_URL = "postgresql://postgres@127.0.0.1:1/baraza"


# ------------------------------------------------------------------ the app


@pytest.fixture(autouse=True)
def keep_the_vault() -> Iterator[None]:
    """Starting an app configures the process-wide vault with its own key: put back the
    one the session's shared databases were sealed with, or later tests cannot read them."""
    saved = privacy._vault
    yield
    privacy._vault = saved


async def test_health_and_readiness(blank_database: str, tmp_path: Path) -> None:
    app = create_app(settings_for(blank_database, tmp_path), workers=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://baraza") as client:
            health = await client.get("/healthz")
            assert health.status_code == 200 and health.json() == {"status": "ok"}
            ready = await client.get("/readyz")
            assert ready.status_code == 200 and ready.json() == {"status": "ready"}


async def test_readiness_fails_when_the_database_is_away(
    blank_database: str, tmp_path: Path
) -> None:
    app = create_app(settings_for(blank_database, tmp_path), workers=False)
    async with app.router.lifespan_context(app):
        services = app.state.services
        good, away = services.engine, create_engine(CLOSED_PORT_URL)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://baraza") as client:
            services.engine = away
            try:
                ready = await client.get("/readyz")
                health = await client.get("/healthz")
            finally:
                services.engine = good
                await away.dispose()
            assert ready.status_code == 503
            assert ready.json() == {"status": "database unreachable"}
            assert health.status_code == 200  # the process itself is fine
            assert (await client.get("/readyz")).status_code == 200  # and it recovers


async def test_ping_and_startup_fail_on_a_closed_port(tmp_path: Path) -> None:
    engine = create_engine(CLOSED_PORT_URL)
    try:
        with pytest.raises(OSError):
            await ping(engine)
    finally:
        await engine.dispose()
    app = create_app(settings_for(CLOSED_PORT_URL, tmp_path), workers=False)
    with pytest.raises(OSError):
        async with app.router.lifespan_context(app):
            pass


# ------------------------------------------------------------------ the CLI


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("BARAZA_", "DATABASE_", "TELEGRAM_", "TWILIO_"))
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
        BARAZA_DATA_KEY=generate_key(),
        BARAZA_VAR_DIR=str(tmp_path / "var"),
        PYTHONUNBUFFERED="1",
    )
    return env


def baraza(
    env: dict[str, str], *args: str, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    cwd = Path(env["BARAZA_VAR_DIR"]).parent  # never the repository: no .env, no var/
    result = subprocess.run(
        [str(BARAZA), *args],
        env=env,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def database(env: dict[str, str]) -> sqlite3.Connection:
    return sqlite3.connect(env["DATABASE_URL"].removeprefix("sqlite:///"))


def test_help_lists_every_command(cli_env: dict[str, str]) -> None:
    out = baraza(cli_env, "--help").stdout
    listed = set(re.findall(r"^  (\w+)\s", out.split("Commands:")[1], re.MULTILINE))
    assert listed == {
        "serve", "chat", "db", "import", "users", "flows", "i18n", "keys", "telegram",
        "retention", "doctor",
    }  # fmt: skip


def test_keys_generate_prints_a_fresh_32_byte_key(cli_env: dict[str, str]) -> None:
    keys = {baraza(cli_env, "keys", "generate").stdout.strip() for _ in range(2)}
    assert len(keys) == 2
    for key in keys:
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}=", key) and len(key) == 44
        assert len(base64.urlsafe_b64decode(key)) == 32


def test_db_upgrade_creates_the_tables(cli_env: dict[str, str]) -> None:
    result = baraza(cli_env, "db", "upgrade")
    assert "database schema is up to date" in result.stdout
    with database(cli_env) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert {"contacts", "outbox", "cases", "staff_users", "conversation_sessions"} <= tables
    assert "alembic_version" in tables
    baraza(cli_env, "db", "upgrade")  # again: nothing to do, still fine


def test_flows_check_passes_once_the_diagrams_are_drawn(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(Path(__file__).resolve().parent.parent / "flows", flows)
    env = {**cli_env, "BARAZA_FLOWS_DIR": str(flows)}  # never draws into the repository
    for mmd in flows.glob("*.mmd"):
        mmd.unlink()
    missing = baraza(env, "flows", "check", check=False)
    assert missing.returncode != 0 and "menu.mmd is out of date" in missing.stderr
    drawn = baraza(env, "flows", "diagram").stdout
    assert drawn.count("wrote ") == len(list(flows.glob("*.yaml")))
    assert "flows are valid" in baraza(env, "flows", "check").stdout


def test_flows_check_passes_on_the_repository(cli_env: dict[str, str]) -> None:
    assert "flows are valid" in baraza(cli_env, "flows", "check").stdout


def test_import_twice_changes_nothing_the_second_time(cli_env: dict[str, str]) -> None:
    first = baraza(cli_env, "import", str(DEMO)).stdout
    assert "imported" in first and "change(s)" in first and "no changes" not in first
    second = baraza(cli_env, "import", str(DEMO)).stdout
    assert second.strip().endswith("no changes")
    with database(cli_env) as db:
        [(forums,)] = db.execute("SELECT count(*) FROM forums")
    assert forums == 4


def test_import_of_a_broken_deployment_fails(cli_env: dict[str, str], tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("deployment: {name: x}\nareas: [{key: a, parent: nowhere}]\n")
    result = baraza(cli_env, "import", str(broken), check=False)
    assert result.returncode != 0 and "nothing imported" in result.stderr


def test_users_add_stores_an_argon2_hash(cli_env: dict[str, str]) -> None:
    args = ("users", "add", "--email", "A@B.org", "--name", "A")
    created = baraza(cli_env, *args, "--password", "longenoughpw")
    assert "created admin" in created.stdout
    with database(cli_env) as db:
        [(email, role, password_hash)] = db.execute(
            "SELECT email, role, password_hash FROM staff_users"
        )
    assert (email, role) == ("a@b.org", "admin")
    assert password_hash.startswith("$argon2id$") and "longenoughpw" not in password_hash

    short = baraza(cli_env, *args, "--password", "short", check=False)
    assert short.returncode != 0 and "at least 10 characters" in short.stderr
    with database(cli_env) as db:
        [(unchanged,)] = db.execute("SELECT password_hash FROM staff_users")
    assert unchanged == password_hash


def test_chat_shows_the_language_menu_then_the_english_main_menu(
    cli_env: dict[str, str],
) -> None:
    baraza(cli_env, "import", str(DEMO))
    out = baraza(cli_env, "chat", "--as", "tester", stdin="ok\n1\n/quit\n").stdout
    assert "Baraza chat as console:tester" in out
    language = out.index("Choose your language")
    assert "1 English" in out and "2 Français" in out
    changed = out.index("I will write to you in English")
    menu = out.index("Welcome to Baraza, the community safety line")
    assert language < changed < menu
    assert "1 Report a concern" in out[menu:]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_serve_answers_health_checks_and_stops_cleanly(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    log = (tmp_path / "serve.log").open("w+")
    server = await asyncio.create_subprocess_exec(
        str(BARAZA),
        *("serve", "--port", str(port)),
        env=cli_env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        status, deadline = None, time.monotonic() + 30
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            while status != 200 and time.monotonic() < deadline and server.returncode is None:
                try:
                    status = (await client.get("/healthz", timeout=2)).status_code
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
            assert status == 200, (tmp_path / "serve.log").read_text()
            assert (await client.get("/readyz")).json() == {"status": "ready"}
        server.terminate()
        # uvicorn shuts down gracefully, then re-raises the signal it caught
        assert await asyncio.wait_for(server.wait(), 20) in (0, -signal.SIGTERM)
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
        log.close()
    output = (tmp_path / "serve.log").read_text()
    assert "Application startup complete" in output
    assert "Application shutdown complete" in output and "Finished server process" in output
    assert "Traceback" not in output


def test_serve_refuses_to_start_in_production_without_a_data_key(
    cli_env: dict[str, str],
) -> None:
    env = {**cli_env, "BARAZA_ENV": "production"}
    del env["BARAZA_DATA_KEY"]
    result = baraza(env, "serve", "--port", str(free_port()), check=False)
    assert result.returncode != 0
    assert "BARAZA_DATA_KEY" in result.stderr
    assert not (Path(env["BARAZA_VAR_DIR"]) / "data.key").exists()
