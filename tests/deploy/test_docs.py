"""The deployment docs stay true: every `baraza` command, compose service and file
that README's "Deploy with Docker" and "Backup and restore" and docker/README.md
name exists."""

from __future__ import annotations

import re

import click
import yaml

from bot.cli import main
from tests.deploy.dockerfile import ROOT

SECTIONS = ("Deploy with Docker", "Backup and restore")


def deployment_docs() -> str:
    readme = (ROOT / "README.md").read_text()
    parts = []
    for title in SECTIONS:
        start = readme.index(f"\n## {title}\n")
        end = readme.find("\n## ", start + 1)
        parts.append(readme[start : end if end != -1 else None])
    return "\n".join(parts) + (ROOT / "docker" / "README.md").read_text()


def test_every_baraza_command_named_exists() -> None:
    named = re.findall(r"\bbaraza ([a-z][\w-]*)(?: ([a-z][\w-]*))?", deployment_docs())
    assert any(name == "doctor" for name, _ in named)
    for name, sub in named:
        command = main.commands.get(name)
        assert command is not None, f"`baraza {name}` does not exist"
        if isinstance(command, click.Group):
            assert sub in command.commands, f"`baraza {name} {sub}` does not exist"


def test_every_compose_service_and_file_named_exists() -> None:
    docs = deployment_docs()
    services = set(yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())["services"])
    for verb, rest in re.findall(r"compose -f docker/compose\.yaml (run|exec|stop)([^\n]*)", docs):
        words = [w for w in rest.split() if not w.startswith("-")]
        named = words if verb == "stop" else words[:1]
        assert set(named) <= services, f"compose {verb}{rest}: no such service"
    for path in re.findall(r"`((?:docker/|\.\./)[\w./-]+)`", docs):
        if path.endswith("/.env"):
            continue  # made by whoever deploys, from .env.example
        assert (ROOT / path).exists() or (ROOT / "docker" / path).exists(), path
