"""Fixtures for the browser tests: the real server in a subprocess, and Chromium.

The server is started as an operator would start it (``baraza import``, ``baraza
users add``, ``baraza serve``) on a fresh SQLite database and a free port of
127.0.0.1; the browser is Debian's Chromium, driven by Playwright (its own browser
download is not used). CI installs Chromium (``.ci/run``): without it these tests
fail, they do not skip.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.fakes.twilio_api import FakeTwilio
from tests.processes import BIN, ROOT, baraza, free_port, wait_ready

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"

ADMIN_EMAIL = "programme@baraza.example"
FOCAL_POINT_EMAIL = "amina@baraza.example"
CHAIR_EMAIL = "peter@baraza.example"  # chairs the Eastleigh forum


@dataclass(frozen=True)
class Server:
    base_url: str
    log: Path
    admin_password: str = "admin-pass-4821"
    focal_point_password: str = "amina-pass-7305"
    chair_password: str = "peter-pass-5150"


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    """What a test module adds to the server's environment (a provider, timings)."""
    return {}


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, server_env: dict[str, str]
) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("browser")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp}/b.db",
        "BARAZA_VAR_DIR": str(tmp / "var"),
        **server_env,
    }
    env["BARAZA_DATA_KEY"] = baraza(env, "keys", "generate").splitlines()[-1]
    baraza(env, "import", "deployments/demo.yaml")
    port = free_port()
    running = Server(base_url=f"http://127.0.0.1:{port}", log=tmp / "server.log")
    # The accounts exist in the demo deployment: `users add` sets their passwords.
    baraza(env, "users", "add", "--email", ADMIN_EMAIL, "--name", "Programme team",
            "--role", "admin", "--password", running.admin_password)  # fmt: skip
    baraza(env, "users", "add", "--email", FOCAL_POINT_EMAIL, "--name", "Amina Yusuf",
            "--role", "focal_point", "--password", running.focal_point_password)  # fmt: skip
    baraza(env, "users", "add", "--email", CHAIR_EMAIL, "--name", "Peter Mwangi",
            "--role", "forum_chair", "--password", running.chair_password)  # fmt: skip
    with running.log.open("wb") as log:
        process = subprocess.Popen(
            [str(BIN / "baraza"), "serve", "--port", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_ready(running.base_url, process, running.log)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def fake_twilio() -> Iterator[FakeTwilio]:
    """A fake Twilio in this process, for modules whose server sends SMS."""
    with FakeTwilio() as fake:
        yield fake


def twilio_env(fake: FakeTwilio, *, sms_rate: float) -> dict[str, str]:
    """The server's environment to send SMS through `fake` at `sms_rate` a second, at
    any hour of the day the test runs, with a one-second tick."""
    return {
        **fake.app_env(),
        "TWILIO_SMS_RATE": str(sms_rate),
        "BARAZA_QUIET_HOURS": "00:00-00:00",
        "BARAZA_TICK_SECONDS": "1",
    }


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium "
            "(`make test` installs it: `make chromium`)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        # CI runs as root, where Chromium's sandbox cannot start.
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    """A fresh browser context (no cookies) per test."""
    context = browser.new_context(base_url=server.base_url, viewport={"width": 1100, "height": 800})
    try:
        yield context.new_page()
    finally:
        context.close()


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/admin/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
