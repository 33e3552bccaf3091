"""A bad flow edit is refused by ``baraza flows check`` with a plain message naming the
file, before any conversation can meet it: a step that does not exist, a message id no
catalog has, a loop of steps that never waits for an answer, a key written twice."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.settings import get_settings
from flows.loader import FLOWS_DIR


def edited_flows(tmp_path: Path, name: str, old: str, new: str) -> Path:
    for source in FLOWS_DIR.glob("*.yaml"):
        shutil.copy(source, tmp_path / source.name)
    for source in FLOWS_DIR.glob("*.mmd"):
        shutil.copy(source, tmp_path / source.name)
    path = tmp_path / f"{name}.yaml"
    body = path.read_text(encoding="utf-8")
    assert body.count(old) == 1, old
    path.write_text(body.replace(old, new), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        (
            "help",
            "text: help.privacy\n    next: keywords",
            "text: help.privacy\n    next: nowhere",
            "help.yaml: step 'privacy' goes to undefined step 'nowhere'",
        ),
        (
            "help",
            "text: help.privacy",
            "text: help.no_such_words",
            "missing message help.no_such_words",
        ),
        (
            "help",
            "text: help.keywords",
            "text: help.keywords\n    next: about",
            "steps loop without ever asking the person anything: help.about -> help.privacy "
            "-> help.keywords -> help.about",
        ),
        (
            "help",
            "    type: message\n    text: help.privacy",
            "    type: message\n    text: help.privacy\n    type: message",
            "help.yaml:12: duplicate key 'type'",
        ),
    ],
    ids=["missing-step", "missing-message", "silent-loop", "duplicate-key"],
)
def test_flows_check_refuses_a_bad_edit_in_plain_words(
    tmp_path: Path, name: str, old: str, new: str, message: str
) -> None:
    flows = edited_flows(tmp_path, name, old, new)
    get_settings.cache_clear()  # the command reads BARAZA_FLOWS_DIR afresh
    try:
        result = CliRunner().invoke(main, ["flows", "check"], env={"BARAZA_FLOWS_DIR": str(flows)})
    finally:
        get_settings.cache_clear()
    assert result.exit_code != 0
    assert message in result.output, result.output
    assert "Traceback" not in result.output
