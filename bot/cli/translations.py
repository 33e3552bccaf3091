"""``baraza i18n``: how complete each language's catalog is, and stamping a reviewed one,
for translators and reviewers (and for CI, which fails on an incomplete enabled language)."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.common import fail, load_settings


@click.group()
def i18n() -> None:
    """Translations: how complete each language is, for translators and reviewers."""


def _locales(locales: Path | None) -> Path:
    from bot.i18n import default_locales_dir

    return locales or load_settings().locales_dir or default_locales_dir()


@i18n.command("status")
@click.option(
    "--deployment",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Its languages are the enabled ones (default: every catalog).",
)
@click.option("--locales", type=click.Path(file_okay=False, path_type=Path), default=None)
def i18n_status(deployment: Path | None, locales: Path | None) -> None:
    """Completeness per language; fails when an enabled language is incomplete."""
    from bot.i18n.status import catalog_status, languages_in, report

    directory = _locales(locales)
    found = languages_in(directory)
    enabled = set(found)
    if deployment is not None:
        enabled = set(_deployment_languages(deployment))
        if unknown := sorted(enabled - set(found)):
            fail(f"{deployment}: no catalog for {', '.join(unknown)}")
    statuses = catalog_status(directory, found)
    click.echo("\n".join(report(statuses, enabled)))
    incomplete = [s.language for s in statuses if s.language in enabled and not s.complete]
    if incomplete:
        fail(f"incomplete: {', '.join(incomplete)}")


def _deployment_languages(path: Path) -> list[str]:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    languages = (data.get("deployment") or {}).get("languages")
    if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
        fail(f"{path}: deployment.languages is not a list of language codes")
    return languages


@i18n.command("stamp")
@click.argument("languages", nargs=-1, required=True)
@click.option("--locales", type=click.Path(file_okay=False, path_type=Path), default=None)
def i18n_stamp(languages: tuple[str, ...], locales: Path | None) -> None:
    """Record that LANGUAGES' translations match today's English (after a review)."""
    from bot.i18n.status import po_path, stamp

    directory = _locales(locales)
    for language in languages:
        if not po_path(directory, language).exists():
            fail(f"no catalog for {language} in {directory}")
        click.echo(f"{language}: {stamp(directory, language)} entries stamped")
