"""Keeping a deployment in shape: ``baraza db upgrade`` (the schema), ``baraza flows``
(check and draw the conversations), ``baraza doctor`` (everything at once) and
``baraza retention purge`` (erase protection content past its time)."""

from __future__ import annotations

import asyncio
import sys

import click

from bot.cli.common import fail, load_settings, opened_services


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date (the server also does this at start)."""
    from bot import privacy
    from bot.db import create_engine, upgrade_schema

    settings = load_settings()
    privacy.configure(settings.resolve_data_key())

    async def run() -> None:
        engine = create_engine(settings.database_url)
        await upgrade_schema(engine)
        await engine.dispose()

    asyncio.run(run())
    click.echo("database schema is up to date")


@click.group()
def flows() -> None:
    """Conversation flows."""


@flows.command("check")
def flows_check() -> None:
    """Validate every flow, its message ids in every catalog, and its diagram."""
    from bot.flowcheck import check_flows

    problems = check_flows(load_settings())
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        fail(f"{len(problems)} problem(s) in the flows")
    click.echo("flows are valid, translated and drawn")


@flows.command("diagram")
def flows_diagram() -> None:
    """Write the Mermaid diagram (.mmd) beside each flow."""
    from flows.diagram import write_all
    from flows.loader import FLOWS_DIR, load_flows

    directory = load_settings().flows_dir or FLOWS_DIR
    for path in write_all(load_flows(directory), directory):
        click.echo(f"wrote {path}")


@click.command()
def doctor() -> None:
    """Check this deployment's settings, database, catalogs, flows and providers, and say
    what to fix; exits 1 if anything fails."""
    from bot.doctor import examine, render

    checks = asyncio.run(examine())
    click.echo(render(checks))
    if any(check.status == "fail" for check in checks):
        sys.exit(1)


@click.group()
def retention() -> None:
    """How long protection case content is kept."""


@retention.command("purge")
def retention_purge() -> None:
    """Erase the content of protection cases closed more than
    BARAZA_PROTECTION_RETENTION_DAYS ago (the server does it hourly); counts stay."""
    from bot.retention import purge_protection_content

    settings = load_settings()
    days = settings.protection_retention_days

    async def run() -> int:
        async with opened_services(settings) as services:
            return await purge_protection_content(services.sessions, retention_days=days)

    purged = asyncio.run(run())
    click.echo(f"purged the content of {purged} protection case(s) closed over {days} days ago")
