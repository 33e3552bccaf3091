"""``baraza serve`` and ``baraza chat``: the server (web, sender, scheduler) and the bot
in a terminal, the two ways to run Baraza."""

from __future__ import annotations

import asyncio
import getpass

import click

from bot.cli.common import fail, load_settings, opened_services
from bot.settings import Settings, SettingsError


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Run the web server, the sender and the scheduler."""
    import uvicorn

    from bot.app import create_app

    settings = load_settings()
    try:
        settings.resolve_data_key()
    except SettingsError as exc:
        fail(str(exc))
    if settings.environment.value == "development":
        _announce_staff_access(settings, f"http://{host}:{port}")
    # log_config=None: uvicorn's loggers go through ours (redacted, JSON if asked).
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", log_config=None)


def _announce_staff_access(settings: Settings, base: str) -> None:
    """Say where staff sign in and where the simulator is; on a development server whose
    admins have no password yet, make one for the first admin and show it once."""
    from bot.staff import first_admin_access

    password_file = settings.var_dir / "admin-password.txt"

    async def run() -> tuple[str, str | None] | None:
        async with opened_services(settings) as services, services.sessions() as db, db.begin():
            return await first_admin_access(db)

    access = asyncio.run(run())
    click.echo(f"\nStaff pages:  {base}/admin   (API: {base}/docs)")
    if access is None:
        click.echo("  no admin yet: create one with `baraza users add --role admin`")
    elif access[1] is not None:
        password_file.parent.mkdir(parents=True, exist_ok=True)
        password_file.write_text(f"{access[0]} {access[1]}\n")
        password_file.chmod(0o600)
        click.echo(f"  sign in as {access[0]} with password {access[1]}")
        click.echo(f"  (kept in {password_file}; change it with `baraza users add`)")
    else:
        click.echo(f"  sign in as {access[0]} (password in {password_file} if made here)")
    click.echo(f"Simulator:    {base}/admin/simulator   (or `baraza chat` in a terminal)\n")


@click.command()
@click.option("--as", "name", default=None, help="Who you are (console:NAME); default: your login.")
def chat(name: str | None) -> None:
    """Talk to the bot in this terminal, as an SMS user would."""
    from bot.chat import run_chat

    run_chat(load_settings(), (name or getpass.getuser() or "me").lower())
