"""The database checks of ``baraza doctor``: reachable, schema at the code's head,
a deployment imported, the data key opening what is sealed in it (the check that
matters after a restore), and the clocks of this machine and the database agreeing.

Nothing is created or changed: a missing SQLite file is reported, not made, and the
schema is compared, not upgraded (``baraza serve`` and ``baraza db upgrade`` do that).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import LargeBinary, func, select, text, type_coerce
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import alembic_config, create_engine
from bot.doctor.checks import Check, fail, ok, warn
from bot.models import Area, Contact, Deployment, Forum, StaffUser
from bot.privacy import DecryptionError, Vault
from bot.settings import Settings, SettingsError

CONNECT_SECONDS = 10.0
SKEW_WARN_SECONDS = 2.0
SKEW_FAIL_SECONDS = 30.0  # claims are taken over after minutes; replicas must roughly agree


@dataclass
class DatabaseFindings:
    checks: list[Check] = field(default_factory=list)
    languages: list[str] | None = None  # the imported deployment's, if any


def shown(database_url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(database_url).render_as_string(hide_password=True)


async def database_checks(settings: Settings) -> DatabaseFindings:
    found = DatabaseFindings()
    url = make_url(settings.database_url)
    missing = _missing_sqlite_file(settings.database_url)
    if missing:
        found.checks.append(
            fail(
                "database",
                f"the SQLite file {missing} does not exist",
                "check DATABASE_URL, or create the database with `baraza db upgrade`",
            )
        )
        return found
    connect_args = {"timeout": CONNECT_SECONDS} if url.get_backend_name() == "postgresql" else {}
    engine = create_engine(settings.database_url, connect_args=connect_args, pool_size=1)
    try:
        try:
            async with asyncio.timeout(CONNECT_SECONDS + 5):
                connection = await engine.connect()
        except Exception as exc:
            found.checks.append(
                fail(
                    "database",
                    f"cannot reach {shown(settings.database_url)}: {_reason(exc)}",
                    "check that the database runs and that DATABASE_URL names its host, "
                    "port, user, password and database",
                )
            )
            return found
        try:
            found.checks.append(ok("database", f"reachable at {shown(settings.database_url)}"))
            found.checks.append(await _clock(connection))
            migrations = await _migrations(connection)
            found.checks.append(migrations)
            if migrations.status == "ok":
                found.checks.append(await _deployment(connection, found))
                found.checks += await _key_opens(connection, settings)
        finally:
            await connection.close()
    finally:
        await engine.dispose()
    return found


def _missing_sqlite_file(database_url: str) -> str | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return None if Path(url.database).is_file() else url.database


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {CONNECT_SECONDS:.0f} s"
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return reason[0] if reason else type(exc).__name__


def _revisions(connection: Connection) -> tuple[str | None, str | None]:
    current = MigrationContext.configure(connection).get_current_revision()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return current, head


async def _migrations(connection: AsyncConnection) -> Check:
    current, head = await connection.run_sync(_revisions)
    fix = "run `baraza db upgrade` (`baraza serve` also upgrades at start)"
    if current is None:
        return fail("schema", "the database is empty: no Baraza tables", fix)
    if current != head:
        return fail("schema", f"at revision {current}, this version of Baraza needs {head}", fix)
    return ok("schema", f"up to date (revision {head})")


async def _deployment(connection: AsyncConnection, found: DatabaseFindings) -> Check:
    fix = "run `baraza import DEPLOYMENT.yaml` with the country's deployment file"
    deployment = (await connection.execute(select(Deployment.name, Deployment.languages))).first()
    areas = await connection.scalar(select(func.count()).select_from(Area))
    forums = await connection.scalar(select(func.count()).select_from(Forum))
    if deployment is None or not areas or not forums:
        return fail(
            "deployment",
            f"not imported: {areas or 0} area(s) and {forums or 0} forum(s): reports "
            "cannot be routed",
            fix,
        )
    found.languages = list(deployment.languages)
    return ok(
        "deployment",
        f"{deployment.name}: {areas} area(s), {forums} forum(s), "
        f"languages {', '.join(found.languages)}",
    )


async def _clock(connection: AsyncConnection) -> Check:
    raw = await connection.scalar(text("SELECT CURRENT_TIMESTAMP"))
    theirs = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
    if theirs.tzinfo is None:  # SQLite answers in UTC without saying so
        theirs = theirs.replace(tzinfo=UTC)
    mine = datetime.now(UTC)
    skew = abs((mine - theirs).total_seconds())
    fix = "keep every machine's clock synchronised (NTP: systemd-timesyncd or chrony)"
    if mine.year < 2025:
        return fail("clock", f"this machine says it is {mine:%Y-%m-%d}", fix)
    if skew > SKEW_FAIL_SECONDS:
        return fail("clock", f"this machine and the database differ by {skew:.0f} s", fix)
    if skew > SKEW_WARN_SECONDS:
        return warn("clock", f"this machine and the database differ by {skew:.1f} s", fix)
    return ok("clock", f"{mine:%Y-%m-%d %H:%M} UTC, the database agrees")


async def _key_opens(connection: AsyncConnection, settings: Settings) -> list[Check]:
    """One sealed value of the database opened with the configured keys: a database
    restored under another key than the one it was sealed with fails here, not later
    in a conversation."""
    if settings.key_in_var and not settings.key_file.exists():
        return []
    try:
        vault = Vault.from_key(settings.resolve_data_key(), settings.resolve_previous_keys())
    except SettingsError:
        return []  # the data key check has said what is wrong
    sealed = None
    for column in (Contact.urn, StaffUser.address, Forum.notify_address):
        raw = type_coerce(column, LargeBinary)
        sealed = await connection.scalar(select(raw).where(raw.is_not(None)).limit(1))
        if sealed is not None:
            break
    if sealed is None:
        return [ok("data key opens the data", "nothing is sealed in the database yet")]
    try:
        vault.open(bytes(sealed))
    except DecryptionError:
        return [
            fail(
                "data key opens the data",
                "the data in this database was sealed with another key: addresses and "
                "narratives cannot be read",
                "set BARAZA_DATA_KEY to the key this database was written with (after a "
                "restore: the key of the backup's time, or add it to BARAZA_PREVIOUS_DATA_KEYS)",
            )
        ]
    return [ok("data key opens the data", "a sealed value opens with it")]
