"""Schemathesis against the staff API's own OpenAPI document: every operation under
/api/v1, with generated valid and invalid inputs, signed in with a real admin token, on
a real ``baraza serve`` with the demo deployment. No input may cause a server error,
and documented responses must match their schema."""

from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from bot.app import create_app
from bot.settings import Settings, generate_key
from tests.processes import Served, baraza
from tests.support import DEMO

EMAIL, PASSWORD = "fuzz-admin@baraza.example", "a long fuzzing passphrase"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A server on a fresh SQLite database with the demo imported; its URL and a token."""
    tmp = tmp_path_factory.mktemp("schemathesis")
    env = {
        "DATABASE_URL": f"sqlite:///{tmp / 'baraza.db'}",
        "BARAZA_DATA_KEY": generate_key(),
        "BARAZA_VAR_DIR": str(tmp),
        "BARAZA_ENV": "test",
        "BARAZA_QUIET_HOURS": "00:00-00:00",
    }
    env = {**os.environ, **env}
    baraza(env, "import", str(DEMO))
    baraza(env, "users", "add", "--email", EMAIL, "--name", "Fuzz", "--password", PASSWORD)
    server = Served.start(env, tmp / "server.log")
    try:
        form = urllib.parse.urlencode({"username": EMAIL, "password": PASSWORD}).encode()
        with urllib.request.urlopen(f"{server.base_url}/api/v1/auth/token", form) as answer:
            token = json.load(answer)["access_token"]
        yield server.base_url, token
    finally:
        server.stop()


def staff_api() -> Any:
    """The staff API's operations, from the OpenAPI document the app serves at /docs."""
    document = create_app(Settings(BARAZA_ENV="test"), workers=False).openapi()
    schema = schemathesis.openapi.from_dict(document).include(path_regex="^/api/v1/")
    # Signing out would end the token every other operation uses.
    return schema.exclude(path="/api/v1/auth/logout")


OPERATIONS = {result.ok().label: result.ok() for result in staff_api().get_all_operations()}


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_input_causes_a_server_error(label: str, served: tuple[str, str]) -> None:
    base, token = served

    @given(OPERATIONS[label].as_strategy())
    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
    def call(case: Any) -> None:
        case.call_and_validate(
            base_url=base,
            headers={"Authorization": f"Bearer {token}"},
            checks=[not_a_server_error, response_schema_conformance],
            timeout=30,
        )

    call()
