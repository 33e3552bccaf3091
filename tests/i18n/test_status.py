"""``baraza i18n status`` on real catalogs copied to a temporary folder: complete, broken
in each way a translator can break a catalog, English changed since the translation,
and only the deployment's languages decide the exit code."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from click.testing import CliRunner, Result

from bot.cli import main
from bot.i18n import default_locales_dir
from bot.i18n.status import po_path, read_catalog

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "deployments" / "demo.yaml"
EIGHT = ["ar", "ckb", "en", "fr", "ha", "pt", "so", "sw"]


@pytest.fixture
def locales(tmp_path: Path) -> Path:
    copy = tmp_path / "locales"
    shutil.copytree(default_locales_dir(), copy)
    return copy


def status(locales: Path, *extra: str) -> Result:
    return CliRunner().invoke(main, ["i18n", "status", "--locales", str(locales), *extra])


def edit(locales: Path, language: str, change: Callable[[Catalog], None]) -> None:
    path = po_path(locales, language)
    catalog = read_catalog(path)
    change(catalog)
    with path.open("wb") as handle:
        write_po(
            handle, catalog, sort_output=True, no_location=True, width=76, include_previous=True
        )


def total(locales: Path) -> int:
    return len([m for m in read_catalog(locales / "messages.pot") if m.id])


def test_the_eight_languages_are_complete(locales: Path) -> None:
    result = status(locales, "--deployment", str(DEMO))
    assert result.exit_code == 0, result.output
    n = total(locales)
    rows = result.output.splitlines()[1:]
    assert [row.split()[0] for row in rows] == EIGHT
    for row in rows:
        language, enabled, review, translated, *counts = row.split()
        assert enabled == "yes" and translated == f"{n}/{n}" and counts == ["0"] * 4
        assert review == ("source" if language == "en" else "unreviewed")  # honest headers


def broken(catalog: Catalog) -> None:
    catalog["report.done"].string = ""
    catalog["menu.prompt"].flags.add("fuzzy")
    catalog["status.found"].string = "البلاغ ({category_label})، {reported_on}: {status} {code}"


def test_a_missing_fuzzy_or_misplaced_entry_fails_and_is_named(locales: Path) -> None:
    edit(locales, "ar", broken)
    result = status(locales, "--deployment", str(DEMO))
    assert result.exit_code == 2
    assert "ar: missing: report.done" in result.output
    assert "ar: fuzzy: menu.prompt" in result.output
    assert (
        "ar: placeholders of status.found: has {category_label} {code} {reported_on} {status},"
        " English has {category_label} {reference} {reported_on} {status}"
    ) in result.output
    assert "error: incomplete: ar" in result.output
    n = total(locales)
    [row] = [r for r in result.output.splitlines() if r.startswith("ar ")]
    assert row.split()[3:] == [f"{n - 2}/{n}", "1", "1", "1", "0"]


def test_only_the_deployment_s_languages_decide(locales: Path, tmp_path: Path) -> None:
    edit(locales, "ha", broken)
    deployment = tmp_path / "deployment.yaml"
    deployment.write_text("deployment:\n  languages: [en, fr]\n", encoding="utf-8")
    result = status(locales, "--deployment", str(deployment))
    assert result.exit_code == 0, result.output
    assert "ha: missing: report.done" in result.output  # shown, but not enabled
    assert status(locales).exit_code == 2  # without a deployment, every catalog counts
    deployment.write_text("deployment:\n  languages: [en, xx]\n", encoding="utf-8")
    assert "no catalog for xx" in status(locales, "--deployment", str(deployment)).output


def test_english_changed_since_the_translation_is_listed_until_stamped(locales: Path) -> None:
    def reword(catalog: Catalog) -> None:
        catalog["menu.report"].string = "Report a problem"

    edit(locales, "en", reword)
    result = status(locales)
    assert result.exit_code == 0  # still complete: the old translation still serves
    for language in ("ar", "sw", "fr"):
        assert f"{language}: changed: menu.report" in result.output
    edit(locales, "ha", lambda c: setattr(c["menu.help"], "previous_id", ["menu.about"]))
    assert "ha: changed: menu.help, menu.report" in status(locales).output  # pybabel's guess
    stamped = CliRunner().invoke(main, ["i18n", "stamp", "sw", "--locales", str(locales)])
    assert stamped.output == "sw: 1 entries stamped\n"
    again = status(locales).output
    assert "sw: changed" not in again and "ar: changed: menu.report" in again
