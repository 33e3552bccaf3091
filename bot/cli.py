"""The ``baraza`` command: serve, chat, migrate, import, manage staff, check flows, keys,
retention, and check a whole deployment (doctor)."""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from bot.logs import configure_logging
from bot.settings import Settings, SettingsError, describe_invalid, generate_key, get_settings


def _settings() -> Settings:
    from pydantic import ValidationError

    try:
        return get_settings()
    except ValidationError as exc:
        _fail(f"bad setting: {describe_invalid(exc)}")


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def main(verbose: bool) -> None:
    """Baraza: a reporting and feedback channel for community policing."""
    log_format = os.environ.get("BARAZA_LOG_FORMAT", "text")  # before settings: they may fail
    configure_logging(log_format, logging.DEBUG if verbose else logging.INFO)
    if not verbose:  # schema upgrades are silent unless something is wrong
        logging.getLogger("alembic").setLevel(logging.WARNING)
    # httpx logs each request URL at INFO: noise at this rate (and redacted anyway).
    for chatty in ("httpx", "httpcore", "twilio.http_client"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Run the web server, the sender and the scheduler."""
    import uvicorn

    from bot.app import create_app

    settings = _settings()
    try:
        settings.resolve_data_key()
    except SettingsError as exc:
        _fail(str(exc))
    if settings.environment.value == "development":
        _announce_staff_access(settings, f"http://{host}:{port}")
    # log_config=None: uvicorn's loggers go through ours (redacted, JSON if asked).
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", log_config=None)


def _announce_staff_access(settings: Settings, base: str) -> None:
    """Say where staff sign in and where the simulator is; on a development server whose
    admins have no password yet, make one for the first admin and show it once."""
    from bot.services import Services
    from bot.staff import first_admin_access

    password_file = settings.var_dir / "admin-password.txt"

    async def run() -> tuple[str, str | None] | None:
        services = await Services.open(settings)
        try:
            async with services.sessions() as db, db.begin():
                return await first_admin_access(db)
        finally:
            await services.close()

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


@main.command()
@click.option("--as", "name", default=None, help="Who you are (console:NAME); default: your login.")
def chat(name: str | None) -> None:
    """Talk to the bot in this terminal, as an SMS user would."""
    from bot.chat import run_chat

    run_chat(_settings(), (name or getpass.getuser() or "me").lower())


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date (the server also does this at start)."""
    from bot import privacy
    from bot.db import create_engine, upgrade_schema

    settings = _settings()
    privacy.configure(settings.resolve_data_key())

    async def run() -> None:
        engine = create_engine(settings.database_url)
        await upgrade_schema(engine)
        await engine.dispose()

    asyncio.run(run())
    click.echo("database schema is up to date")


@main.command("import")
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
    from bot.services import Services

    if overwrite_web_edits and keep_web_edits:
        raise click.UsageError("give --overwrite-web-edits or --keep-web-edits, not both")

    async def run() -> None:
        services = await Services.open(_settings())
        try:
            async with services.sessions() as session:
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
        finally:
            await services.close()
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
        _fail(f"{path}: nothing imported")
    except ImportConflicts as exc:
        click.echo(f"{path} would undo {len(exc.conflicts)} edit(s) made on the web:", err=True)
        click.echo("\n".join(f"  {line}" for line in exc.conflicts), err=True)
        _fail(
            f"{path}: nothing imported. Put the web edits into the file (see "
            "`baraza export-deployment`), or run again with --overwrite-web-edits (the "
            "file wins) or --keep-web-edits (the web edits stay)"
        )


@main.command("export-deployment")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), required=False)
def export_deployment(path: Path | None) -> None:
    """Write the directory as it is now (web edits included) as a deployment file
    (to PATH, or to the terminal), which `baraza import` takes back unchanged."""
    from bot.deployment.exporter import export_deployment as export
    from bot.services import Services

    async def run() -> str:
        services = await Services.open(_settings())
        try:
            async with services.sessions() as session:
                return await export(session)
        finally:
            await services.close()

    try:
        text = asyncio.run(run())
    except LookupError as exc:
        _fail(str(exc))
    if path is None:
        click.echo(text, nl=False)
    else:
        path.write_text(text, encoding="utf-8")
        click.echo(f"wrote {path}", err=True)


@main.group()
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
    from bot.services import Services
    from bot.staff import PasswordTooWeak, upsert_staff_user

    async def run() -> bool:
        services = await Services.open(_settings())
        try:
            async with services.sessions() as session, session.begin():
                return await upsert_staff_user(
                    session, email=email, name=name, role=role, language=language, password=password
                )
        finally:
            await services.close()

    try:
        created = asyncio.run(run())
    except PasswordTooWeak as exc:
        _fail(str(exc))
    click.echo(f"{'created' if created else 'updated'} {role} {email.lower()}")


@main.group()
def flows() -> None:
    """Conversation flows."""


@flows.command("check")
def flows_check() -> None:
    """Validate every flow, its message ids in every catalog, and its diagram."""
    from bot.flowcheck import check_flows

    problems = check_flows(_settings())
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        _fail(f"{len(problems)} problem(s) in the flows")
    click.echo("flows are valid, translated and drawn")


@flows.command("diagram")
def flows_diagram() -> None:
    """Write the Mermaid diagram (.mmd) beside each flow."""
    from flows.diagram import write_all
    from flows.loader import FLOWS_DIR, load_flows

    directory = _settings().flows_dir or FLOWS_DIR
    for path in write_all(load_flows(directory), directory):
        click.echo(f"wrote {path}")


@main.command()
def doctor() -> None:
    """Check this deployment's settings, database, catalogs, flows and providers, and say
    what to fix; exits 1 if anything fails."""
    from bot.doctor import examine, render

    checks = asyncio.run(examine())
    click.echo(render(checks))
    if any(check.status == "fail" for check in checks):
        sys.exit(1)


@main.group()
def i18n() -> None:
    """Translations: how complete each language is, for translators and reviewers."""


def _locales(locales: Path | None) -> Path:
    from bot.i18n import default_locales_dir

    return locales or _settings().locales_dir or default_locales_dir()


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
            _fail(f"{deployment}: no catalog for {', '.join(unknown)}")
    statuses = catalog_status(directory, found)
    click.echo("\n".join(report(statuses, enabled)))
    incomplete = [s.language for s in statuses if s.language in enabled and not s.complete]
    if incomplete:
        _fail(f"incomplete: {', '.join(incomplete)}")


def _deployment_languages(path: Path) -> list[str]:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    languages = (data.get("deployment") or {}).get("languages")
    if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
        _fail(f"{path}: deployment.languages is not a list of language codes")
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
            _fail(f"no catalog for {language} in {directory}")
        click.echo(f"{language}: {stamp(directory, language)} entries stamped")


@main.group()
def telegram() -> None:
    """The Telegram bot: webhook registration and state."""


def _with_bot(work: Any) -> Any:
    from bot.services import Services

    async def run() -> Any:
        services = await Services.open(_settings(), upgrade=False)
        try:
            if services.telegram_bot is None:
                _fail("TELEGRAM_BOT_TOKEN is not set")
            return await work(services)
        finally:
            await services.close()

    return asyncio.run(run())


@telegram.command("set-webhook")
def telegram_set_webhook() -> None:
    """Register {PUBLIC_BASE_URL}/webhooks/telegram with Telegram, with the secret token."""
    from telegram.error import TelegramError

    async def work(services: Any) -> str:
        return str(await services.register_telegram_webhook())

    try:
        url = _with_bot(work)
    except (RuntimeError, TelegramError) as exc:
        _fail(f"webhook not set: {exc}")
    click.echo(f"Telegram will deliver updates to {url}")


@telegram.command("info")
def telegram_info() -> None:
    """Show the bot and its webhook as Telegram sees them (pending updates, last error)."""
    from telegram.error import TelegramError

    async def work(services: Any) -> list[str]:
        bot = services.telegram_bot
        me = await bot.get_me()
        info = await bot.get_webhook_info()
        lines = [
            f"bot: @{me.username} (id {me.id})",
            f"webhook: {info.url or 'none (updates are polled)'}",
            f"pending updates: {info.pending_update_count}",
        ]
        if info.last_error_message:
            lines.append(f"last error: {info.last_error_message} at {info.last_error_date}")
        if info.allowed_updates:
            lines.append(f"allowed updates: {', '.join(info.allowed_updates)}")
        return lines

    try:
        click.echo("\n".join(_with_bot(work)))
    except TelegramError as exc:
        _fail(f"Telegram did not answer: {exc}")


@main.group()
def keys() -> None:
    """Data encryption keys."""


@keys.command("generate")
def keys_generate() -> None:
    """Print a new BARAZA_DATA_KEY (keep it secret; without it the data cannot be read)."""
    click.echo(generate_key())


@keys.command("rotate")
@click.option(
    "--new-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the new key from this file. Default: BARAZA_NEW_DATA_KEY, else a new one.",
)
def keys_rotate(new_key_file: Path | None) -> None:
    """Re-encrypt all data under a new key. Stop the app first.

    Every sealed value is re-sealed and every look-up hash recomputed under the new
    key, in one transaction: if anything fails, nothing changes. The current key and
    BARAZA_PREVIOUS_DATA_KEYS open the old data. The new key comes from
    --new-key-file, or BARAZA_NEW_DATA_KEY, or is generated. In development (key in
    var/) the key files are updated; otherwise the command prints the keys to set.
    """
    import os

    from bot import privacy
    from bot.keyrotation import RotationError, rotate_keys
    from bot.privacy import Vault
    from bot.settings import decode_key, encode_key

    settings = _settings()
    generated = False
    try:
        old_key = settings.resolve_data_key()
        previous = settings.resolve_previous_keys()
        if new_key_file is not None:
            new_raw = decode_key(new_key_file.read_text().strip(), str(new_key_file))
        elif os.environ.get("BARAZA_NEW_DATA_KEY", "").strip():
            new_raw = decode_key(os.environ["BARAZA_NEW_DATA_KEY"].strip(), "BARAZA_NEW_DATA_KEY")
        else:
            new_raw, generated = decode_key(generate_key()), True
    except SettingsError as exc:
        _fail(str(exc))
    if new_raw == old_key:
        _fail("the new key is the current BARAZA_DATA_KEY: give another one")
    old = privacy.configure(old_key, previous)  # a schema upgrade may read sealed values
    new = Vault.from_key(new_raw)

    async def run() -> Any:
        from bot.db import create_engine, upgrade_schema

        engine = create_engine(settings.database_url)
        try:
            await upgrade_schema(engine)
            return await rotate_keys(engine, old=old, new=new)
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(run())
    except RotationError as exc:
        _fail(f"{exc}. Nothing was changed.")
    click.echo(f"re-sealed under the new key (id {report.key_id}):")
    for name, count in report.sealed.items():
        click.echo(f"  {name}: {count} value(s) in {report.rows[name]} row(s)")
    for name, count in report.hashes.items():
        click.echo(f"  {name}: {count} look-up hash(es) recomputed")
    if report.telegram_hashes_left:
        click.echo(
            f"warning: {report.telegram_hashes_left} staff Telegram id(s) could not be "
            "re-hashed: run `baraza import DEPLOYMENT.yaml` before starting the app, or "
            "those chairs are not recognised.",
            err=True,
        )
    new_text = encode_key(new_raw)
    old_texts = list(dict.fromkeys(encode_key(k) for k in (old_key, *previous) if k != new_raw))
    if settings.key_in_var:
        try:
            settings.keep_rotated_development_key(new_text, old_texts[0])
        except OSError as exc:
            _fail(
                f"the data is sealed under the new key, but {settings.key_file} could not be "
                f"written ({exc}): set BARAZA_DATA_KEY={new_text} and "
                f"BARAZA_PREVIOUS_DATA_KEYS={','.join(old_texts)}"
            )
        click.echo(
            f"{settings.key_file} now holds the new key; the old one is kept in "
            f"{settings.previous_keys_file}. Nothing to set."
        )
        return
    if generated:
        click.echo("\nThe new key was generated now: it is shown here and stored nowhere.")
    click.echo(
        "\nBefore starting the app again, set exactly:\n"
        f"  BARAZA_DATA_KEY={new_text}\n"
        f"  BARAZA_PREVIOUS_DATA_KEYS={','.join(old_texts)}\n"
        "The previous keys only open backups taken before now; after restoring one, run "
        "`baraza keys rotate` on it.\nKeep the new key in your secret store: without it "
        "the data cannot be read."
    )


@main.group()
def retention() -> None:
    """How long protection case content is kept."""


@retention.command("purge")
def retention_purge() -> None:
    """Erase the content of protection cases closed more than
    BARAZA_PROTECTION_RETENTION_DAYS ago (the server does it hourly); counts stay."""
    from bot.retention import purge_protection_content
    from bot.services import Services

    settings = _settings()
    days = settings.protection_retention_days

    async def run() -> int:
        services = await Services.open(settings)
        try:
            return await purge_protection_content(services.sessions, retention_days=days)
        finally:
            await services.close()

    purged = asyncio.run(run())
    click.echo(f"purged the content of {purged} protection case(s) closed over {days} days ago")


if __name__ == "__main__":
    main()
