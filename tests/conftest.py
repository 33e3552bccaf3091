"""Fixtures: every database test runs on SQLite and on PostgreSQL, with real services.

The network guard (pytest-socket, ``--allow-hosts`` in pyproject) fails any test
that tries to reach anything but this machine.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from bot import privacy
from bot.services import Services
from channels.collecting import CollectingChannel
from tests.support import (
    BACKENDS,
    Person,
    create_database,
    drop_database,
    open_services,
    test_settings,
    wipe_activity,
)

# Property-based tests: modest in `make test`; `--hypothesis-profile=soak` digs deeper.
# Function-scoped fixtures (a fresh person, the app) are shared by a test's examples on
# purpose: each example makes its own contact.
_QUIET = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
hypothesis_settings.register_profile(
    "default", max_examples=100, deadline=None, suppress_health_check=_QUIET
)
hypothesis_settings.register_profile(
    "soak", max_examples=2000, deadline=None, suppress_health_check=_QUIET
)
hypothesis_settings.load_profile("default")


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
async def demo_services(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Services]:
    """One database per backend for the whole run, with the demo deployment imported."""
    tmp = tmp_path_factory.mktemp(f"demo-{backend}")
    url = await create_database(backend, tmp)
    services = await open_services(test_settings(url, tmp))
    try:
        yield services
    finally:
        await services.close()
        await drop_database(url)


@pytest.fixture
async def services(demo_services: Services) -> AsyncIterator[Services]:
    # Other fixtures open services with keys of their own; the vault is process-wide.
    privacy.configure(demo_services.settings.resolve_data_key())
    await wipe_activity(demo_services)
    yield demo_services


@pytest.fixture
async def blank_database(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database of the current backend, for tests that import deployments."""
    url = await create_database(backend, tmp_path)
    try:
        yield url
    finally:
        await drop_database(url)


@pytest.fixture
def channel() -> CollectingChannel:
    return CollectingChannel(name="console")


@pytest.fixture
def person(services: Services, channel: CollectingChannel) -> Person:
    return Person(services, channel)


@pytest.fixture
def make_person(services: Services, channel: CollectingChannel):  # type: ignore[no-untyped-def]
    def make(name: str | None = None) -> Person:
        return Person(services, channel, name=name) if name else Person(services, channel)

    return make
