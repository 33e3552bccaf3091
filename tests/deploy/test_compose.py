"""docker/compose.yaml and docker/.env.example against the code: every variable the
compose file uses and every setting the app reads is documented in the example, so the
example cannot rot when a setting is added; and the stack's wiring (health-gated start,
pinned images, volumes, replicas, the optional Redis) is what the docs say."""

from __future__ import annotations

import re
from typing import Any

import yaml

from bot.settings import Settings
from tests.deploy.dockerfile import ROOT

DOCKER = ROOT / "docker"
COMPOSE: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
# Compose's own variables (https://docs.docker.com/compose/how-tos/environment-variables/).
COMPOSE_VARIABLES = {"COMPOSE_PROFILES"}


def documented() -> dict[str, str]:
    """Each variable of .env.example (set or shown commented out) with the comment above it."""
    found: dict[str, str] = {}
    comment = ""
    for line in (DOCKER / ".env.example").read_text().splitlines():
        entry = re.fullmatch(r"#?([A-Z][A-Z0-9_]*)=.*", line)
        if entry:
            found[entry.group(1)] = comment
        elif line.startswith("# ") and not line.startswith("# ---"):
            comment = line[2:]
        elif not line.strip():
            comment = ""
    return found


def compose_variables() -> set[str]:
    text = (DOCKER / "compose.yaml").read_text() + (DOCKER / "Caddyfile").read_text()
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text)) | set(
        re.findall(r"\{\$([A-Z][A-Z0-9_]*)\}", text)
    )


def variables_the_code_reads() -> set[str]:
    names = {field.alias for field in Settings.model_fields.values() if field.alias}
    for folder in ("bot", "channels", "flows", "admin"):
        for path in (ROOT / folder).rglob("*.py"):
            names |= set(
                re.findall(r"os\.environ(?:\.get)?[\[(]\"([A-Z][A-Z0-9_]+)\"", path.read_text())
            )
    return names - {"PTB_TIMEDELTA"}  # set by channels/telegram.py for the library, not read


def test_every_setting_and_compose_variable_is_documented_with_a_comment() -> None:
    docs = documented()
    missing = (variables_the_code_reads() | compose_variables()) - set(docs)
    assert not missing, f"add to docker/.env.example, with a comment: {sorted(missing)}"
    assert "DATABASE_URL" in docs and "BARAZA_DATA_KEY" in docs and "TELEGRAM_API_URL" in docs
    uncommented = [name for name, comment in docs.items() if not comment]
    assert not uncommented, f"no comment above {uncommented} in docker/.env.example"


def test_no_documented_baraza_variable_is_a_leftover() -> None:
    known = variables_the_code_reads() | compose_variables() | COMPOSE_VARIABLES
    stale = {name for name in documented() if name.startswith("BARAZA_")} - known
    assert not stale, f"documented in docker/.env.example but read by nothing: {sorted(stale)}"


def test_the_example_holds_no_secret_and_the_required_ones_are_blank() -> None:
    text = (DOCKER / ".env.example").read_text()
    for name in ("BARAZA_DATA_KEY", "POSTGRES_PASSWORD", "TELEGRAM_BOT_TOKEN", "TWILIO_AUTH_TOKEN"):
        assert re.search(rf"^{name}=$", text, re.MULTILINE), f"{name} must be blank in the example"
    assert re.search(r"^BARAZA_ENV=production$", text, re.MULTILINE)


def test_images_are_pinned_and_the_app_is_built_from_the_dockerfile() -> None:
    for name, service in SERVICES.items():
        if "build" in service:
            assert (
                ROOT / "docker" / service["build"]["context"] / service["build"]["dockerfile"]
            ).exists()
            continue
        assert re.fullmatch(r"[a-z]+:\d+\.\d+(\.\d+)?(-\w+)?", service["image"]), (
            f"{name}: {service['image']}"
        )


def test_the_app_waits_for_a_healthy_database_and_has_its_own_health_check() -> None:
    app = SERVICES["app"]
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert app["depends_on"]["redis"] == {"condition": "service_healthy", "required": False}
    assert "/readyz" in " ".join(app["healthcheck"]["test"])
    assert "pg_isready" in " ".join(SERVICES["db"]["healthcheck"]["test"])
    assert app["environment"]["DATABASE_URL"].startswith(
        "postgresql://baraza:${POSTGRES_PASSWORD}@db:5432/"
    )
    assert app["env_file"] == ".env" and "ports" not in app  # replicas share no host port
    assert app["deploy"]["replicas"] == "${BARAZA_REPLICAS:-1}"
    assert SERVICES["proxy"]["depends_on"]["app"]["condition"] == "service_healthy"


def test_data_lives_in_named_volumes_and_redis_is_optional() -> None:
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["db"]["volumes"]
    assert set(COMPOSE["volumes"]) >= {"pgdata", "caddy-data"}
    assert SERVICES["redis"]["profiles"] == ["redis"]
    assert all("profiles" not in SERVICES[name] for name in ("db", "app", "proxy"))


def test_every_file_the_stack_mounts_exists() -> None:
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            source = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", volume.split(":")[0])
            if source.startswith("."):
                assert (DOCKER / source).exists(), source
