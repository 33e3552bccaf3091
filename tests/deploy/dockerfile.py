"""A reader of docker/Dockerfile for the tests: instructions by stage, ARGs resolved.

No Docker engine and no hadolint on the build machines, so the image's promises
(pinned base, non-root user, health check, plain install) are checked by reading
the file, and tests/deploy/test_wheel.py runs the builder's steps without Docker.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "docker" / "Dockerfile"


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY...
    arguments: str


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [i.arguments for i in self.instructions if i.keyword == keyword]


def _logical_lines(text: str) -> list[str]:
    lines, current = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not current):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    if current:
        lines.append(current)
    return lines


def read_stages(path: Path = DOCKERFILE) -> list[Stage]:
    """The stages of ``path`` in order; ``${ARG}`` in FROM replaced by the ARG's default."""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in _logical_lines(path.read_text(encoding="utf-8")):
        keyword, _, arguments = line.partition(" ")
        keyword, arguments = keyword.upper(), arguments.strip()
        if keyword == "ARG" and not stages:
            name, _, default = arguments.partition("=")
            args[name] = default
            continue
        if keyword == "FROM":
            words = arguments.split()
            image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), words[0])
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(image, name))
            continue
        stages[-1].instructions.append(Instruction(keyword, arguments))
    return stages


def copy_sources(stage: Stage) -> list[str]:
    """The build-context paths a stage's COPY instructions read (not ``--from`` copies)."""
    sources = []
    for arguments in stage.all("COPY"):
        words = shlex.split(arguments)
        if any(word.startswith("--from") for word in words):
            continue
        sources += [word for word in words[:-1] if not word.startswith("--")]
    return sources
