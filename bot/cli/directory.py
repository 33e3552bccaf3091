"""The directory from the command line: ``baraza import`` and ``baraza export-deployment``
move it between the database and a deployment file, ``baraza users add`` makes a staff
account (the first admin, before anyone can sign in to the pages)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from bot.cli.common import fail, opened_services


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Say what would change; write nothing.")
@click.option(
    "--overwrite-web-edits",
    is_flag=True,
    help="Let the file win over edits made in the staff pages since the last import.",
)
@click.option(
    "--keep-web-edits",
    is_flag=True,
    help="Import the rest of the file and keep the edits made in the staff pages (each "
    "one kept is listed).",
)
def import_(path: Path, dry_run: bool, overwrite_web_edits: bool, keep_web_edits: bool) -> None:
    """Load or update a deployment (areas, forums, units, categories, staff) from YAML.

    Stops, writing nothing, when the file would undo edits made on the web, and
    lists them: change the file to match (see `baraza export-deployment`), or give
    --overwrite-web-edits to let the file win, or --keep-web-edits to keep them."""
    from bot.deployment import DeploymentError, ImportConflicts, import_file

    if overwrite_web_edits and keep_web_edits:
        raise click.UsageError("give --overwrite-web-edits or --keep-web-edits, not both")

    async def run() -> None:
        async with opened_services() as services, services.sessions() as session:
            languages = set(services.runtime.catalogs.languages)
            report = await import_file(
                session,
                path,
                languages,
                overwrite_web_edits=overwrite_web_edits,
                keep_web_edits=keep_web_edits,
            )
            if dry_run:
                await session.rollback()
            else:
                await session.commit()
        summary = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in report.counts.items())
        state = f"{report.changes} change(s)" if report.changes else "no changes"
        for line in report.lines(dry_run=dry_run):
            click.echo(f"  {line}")
        verb = "dry run, nothing written:" if dry_run else "imported"
        click.echo(f"{verb} {path}: {summary}; {state}")

    try:
        asyncio.run(run())
    except DeploymentError as exc:
        click.echo("\n".join(exc.problems), err=True)
        fail(f"{path}: nothing imported")
    except ImportConflicts as exc:
        click.echo(f"{path} would undo {len(exc.conflicts)} edit(s) made on the web:", err=True)
        click.echo("\n".join(f"  {line}" for line in exc.conflicts), err=True)
        fail(
            f"{path}: nothing imported. Put the web edits into the file (see "
            "`baraza export-deployment`), or run again with --overwrite-web-edits (the "
            "file wins) or --keep-web-edits (the web edits stay)"
        )


@click.command("export-deployment")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), required=False)
def export_deployment(path: Path | None) -> None:
    """Write the directory as it is now (web edits included) as a deployment file
    (to PATH, or to the terminal), which `baraza import` takes back unchanged."""
    from bot.deployment.exporter import export_deployment as export

    async def run() -> str:
        async with opened_services() as services, services.sessions() as session:
            return await export(session)

    try:
        text = asyncio.run(run())
    except LookupError as exc:
        fail(str(exc))
    if path is None:
        click.echo(text, nl=False)
    else:
        path.write_text(text, encoding="utf-8")
        click.echo(f"wrote {path}", err=True)


@click.group()
def users() -> None:
    """Staff accounts."""


@users.command("add")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role",
    default="admin",
    show_default=True,
    type=click.Choice(["admin", "forum_chair", "focal_point", "protection_officer", "viewer"]),
)
@click.option("--language", default="en", show_default=True)
@click.password_option(help="Asked for when not given.")
def users_add(email: str, name: str, role: str, language: str, password: str) -> None:
    """Create a staff account (or reset its password), e.g. the first admin."""
    from bot.staff import PasswordTooWeak, upsert_staff_user

    async def run() -> bool:
        async with (
            opened_services() as services,
            services.sessions() as session,
            session.begin(),
        ):
            return await upsert_staff_user(
                session, email=email, name=name, role=role, language=language, password=password
            )

    try:
        created = asyncio.run(run())
    except PasswordTooWeak as exc:
        fail(str(exc))
    click.echo(f"{'created' if created else 'updated'} {role} {email.lower()}")
