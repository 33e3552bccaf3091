"""What docker/Dockerfile promises, read from the file: a pinned base, a build stage
apart from a slim runtime stage, a non-root user, no editable or dev install, a health
check on /readyz, and only sources that exist and that .dockerignore lets through."""

from __future__ import annotations

import fnmatch
import json
import re

from tests.deploy.dockerfile import ROOT, copy_sources, read_stages

STAGES = read_stages()
RUNTIME = STAGES[-1]


def test_every_base_image_is_pinned_to_a_patch_version() -> None:
    for stage in STAGES:
        repository, _, tag = stage.image.partition(":")
        tag = tag.split("@")[0]
        assert repository == "python", stage.image
        assert re.fullmatch(r"3\.11\.\d+-slim(-\w+)?", tag), f"{stage.image} is not pinned"


def test_wheels_are_built_in_a_builder_stage_and_only_installed_files_reach_the_runtime() -> None:
    assert len(STAGES) >= 2 and STAGES[0].name == "builder"
    assert not copy_sources(RUNTIME), "the runtime stage copies sources from the context"
    assert any("--from=builder" in copy for copy in RUNTIME.all("COPY"))
    runs = " ".join(RUNTIME.all("RUN"))
    assert "pip " not in runs and "apt-get" not in runs


def test_the_app_is_installed_plainly_without_dev_dependencies() -> None:
    runs = " ".join(run for stage in STAGES for run in stage.all("RUN"))
    assert "pip wheel" in runs and "--no-index" in runs
    assert not re.search(r"(^|\s)(-e|--editable)(\s|$)", runs)
    assert "[dev]" not in runs and "pytest" not in runs


def test_catalogs_are_compiled_in_the_image() -> None:
    runs = " ".join(STAGES[0].all("RUN"))
    assert "pybabel compile" in runs and "-d locales" in runs


def test_it_runs_as_an_unprivileged_user() -> None:
    users = RUNTIME.all("USER")
    assert users, "no USER in the runtime stage"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    created = " ".join(RUNTIME.all("RUN"))
    assert f"--uid {user}" in created or f"useradd --system {user}" in created


def test_the_health_check_asks_readyz_and_the_server_listens_on_every_interface() -> None:
    (check,) = RUNTIME.all("HEALTHCHECK")
    assert "/readyz" in check and "--start-period" in check
    command = json.loads(RUNTIME.all("CMD")[-1])
    assert command[:2] == ["baraza", "serve"] and "0.0.0.0" in command
    assert "8000" in RUNTIME.all("EXPOSE")[-1] and "8000" in command
    env = " ".join(RUNTIME.all("ENV"))
    assert "BARAZA_ENV=production" in env


def test_every_copied_source_exists_and_is_not_ignored() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        verdict = False
        for pattern in patterns:  # the last matching line wins, as in Docker
            negated = pattern.startswith("!")
            bare = pattern.lstrip("!").rstrip("/")
            if fnmatch.fnmatch(path, bare) or path.startswith(bare + "/"):
                verdict = not negated
        return verdict

    sources = copy_sources(STAGES[0])
    assert {"pyproject.toml", "bot", "locales", "flows"} <= set(sources)
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
        assert not ignored(source), f"COPY {source}: excluded by .dockerignore"
    assert ignored(".env") and ignored("var") and ignored("tests")
