"""Key rotation, on SQLite and PostgreSQL: every case stays readable, every contact is
found again by its address, old data still opens, nothing is ever in clear, and a
rotation that fails leaves the database exactly as it was."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import ValidationError
from sqlalchemy import LargeBinary, column, insert, select, update
from sqlalchemy import table as table_clause

from bot import privacy
from bot.contacts import urn_hash
from bot.keyrotation import RotationError, rotate_keys, sealed_tables
from bot.messages import OutboundMessage
from bot.models import AuditEntry, Case, CaseMessage, Contact, OutboxMessage, StaffUser
from bot.models.base import utcnow
from bot.outbox import to_address
from bot.privacy import DecryptionError, Vault
from bot.services import Services
from bot.settings import Settings, decode_key, encode_key, generate_key
from bot.urns import URN, parse
from channels.collecting import CollectingChannel
from tests.flows.test_protection import NARRATIVE, answer_all, enter
from tests.support import (
    DEMO,
    ROOT,
    Person,
    count_rows,
    create_database,
    drop_database,
    open_services,
)
from tests.support import test_settings as settings_for

BARAZA = ROOT / ".venv" / "bin" / "baraza"
GROUP = "telegram:-100555"
CHAIR_TELEGRAM = "telegram:5550001"


@pytest.fixture(autouse=True)
def keep_the_vault() -> Iterator[None]:
    """Rotation tests install vaults of their own: put back the shared databases' one."""
    saved = privacy._vault
    yield
    privacy._vault = saved


@pytest.fixture
async def own(backend: str, tmp_path: Path) -> AsyncIterator[Services]:
    """A database of its own, with the demo deployment: a rotation changes every row."""
    url = await create_database(backend, tmp_path)
    services = await open_services(settings_for(url, tmp_path))
    try:
        yield services
    finally:
        await services.close()
        await drop_database(url)


def seal_v1(key: bytes, text: str) -> bytes:
    """A value as the vault sealed it before rotation existed (format 0x01, no key id)."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"baraza/seal/v1")
    nonce = os.urandom(12)
    return b"\x01" + nonce + AESGCM(derived.derive(key)).encrypt(nonce, text.encode(), None)


def new_key() -> bytes:
    return decode_key(generate_key())


async def protection_case(services: Services) -> tuple[Person, Case]:
    """A referred protection case, through the whole flow: case, timeline, outbox, count."""
    person = Person(services, CollectingChannel(name="console"))
    await enter(person)
    await answer_all(person, consent="yes", help_choice="3")
    await person.send("yes")
    [case] = await person.cases()
    return person, case


async def raw_sealed(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    """Every sealed value and look-up hash of the database, as stored."""
    hash_columns = {
        "contacts": ["urn_hash"],
        "staff_users": ["telegram_hash"],
        "outbox": ["recipient_hash"],
    }
    found: dict[str, list[tuple[Any, ...]]] = {}
    async with services.engine.connect() as connection:
        for model_table, sealed in sealed_tables():
            [key] = model_table.primary_key.columns
            names = [key.name, *hash_columns.get(model_table.name, [])]
            raw = table_clause(
                model_table.name,
                *(column(name) for name in names),
                *(column(c.name, LargeBinary()) for c in sealed),
            )
            rows = await connection.execute(select(*raw.c).order_by(raw.c[key.name]))
            found[model_table.name] = [
                tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in rows
            ]
    return found


def database_bytes(services: Services) -> bytes:
    path = Path(services.settings.database_url.removeprefix("sqlite:///"))
    return b"".join(
        candidate.read_bytes()
        for candidate in (path, path.with_name(path.name + "-wal"))
        if candidate.exists()
    )


# --- the vault as a keyring ----------------------------------------------------------


def test_previous_keys_only_open_and_old_format_values_still_open() -> None:
    old_key, current_key = new_key(), new_key()
    sealed_before = Vault.from_key(old_key).seal(NARRATIVE)
    legacy = seal_v1(old_key, NARRATIVE)
    ring = Vault.from_key(current_key, [old_key])
    assert ring.open(sealed_before) == ring.open(legacy) == NARRATIVE
    assert Vault.from_key(old_key).open(legacy) == NARRATIVE
    for stranger in (Vault.from_key(current_key), Vault.from_key(new_key())):
        with pytest.raises(DecryptionError):
            stranger.open(sealed_before)
        with pytest.raises(DecryptionError):
            stranger.open(legacy)
    # The current key seals and hashes, and its id is in the header.
    sealed_now = ring.seal(NARRATIVE)
    assert sealed_now[:5] == b"\x02" + bytes.fromhex(ring.key_id)
    assert ring.key_id == Vault.from_key(current_key).key_id != Vault.from_key(old_key).key_id
    assert Vault.from_key(current_key).open(sealed_now) == NARRATIVE
    with pytest.raises(DecryptionError, match="BARAZA_PREVIOUS_DATA_KEYS"):
        Vault.from_key(old_key).open(sealed_now)
    assert ring.lookup_hash("tel:+254700000001") == (
        Vault.from_key(current_key).lookup_hash("tel:+254700000001")
    )
    # The header is authenticated: another key id does not open it.
    with pytest.raises(DecryptionError):
        Vault.from_key(current_key).open(sealed_now[:1] + b"\0\0\0\0" + sealed_now[5:])


def test_previous_keys_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    first, second = generate_key(), generate_key()
    settings = Settings(
        BARAZA_DATA_KEY=generate_key(),
        BARAZA_PREVIOUS_DATA_KEYS=f" {first}, {second},",
        BARAZA_VAR_DIR=tmp_path,
    )
    assert settings.resolve_previous_keys() == [decode_key(first), decode_key(second)]
    with pytest.raises(ValidationError, match="each of BARAZA_PREVIOUS_DATA_KEYS"):
        Settings(BARAZA_PREVIOUS_DATA_KEYS=f"{first},short", BARAZA_VAR_DIR=tmp_path)


# --- rotating a database -------------------------------------------------------------


async def test_rotation_keeps_everything_readable_and_findable(own: Services) -> None:
    services = own
    person, case = await protection_case(services)
    old_key = services.settings.resolve_data_key()
    async with services.sessions() as db, db.begin():
        # A timeline entry sealed before rotation existed, a chair known by Telegram id
        # (re-hashable from their address), one whose id only the deployment file knows,
        # and a notification to a group chat.
        legacy = await db.scalar(
            insert(CaseMessage)
            .values(case_id=case.id, direction="note", body="placeholder", created_at=utcnow())
            .returning(CaseMessage.id)
        )
        raw = table_clause("case_messages", column("id"), column("body", LargeBinary()))
        await db.execute(
            update(raw).where(raw.c.id == legacy).values(body=seal_v1(old_key, "legacy note"))
        )
        await db.execute(
            update(StaffUser)
            .where(StaffUser.email == "peter@baraza.example")
            .values(address=CHAIR_TELEGRAM, telegram_hash=urn_hash(parse(CHAIR_TELEGRAM)))
        )
        await db.execute(
            update(StaffUser)
            .where(StaffUser.email == "daniel@baraza.example")
            .values(telegram_hash=urn_hash(URN("telegram", "5550002")))
        )
        await to_address(db, GROUP, OutboundMessage(text="new case"), case_id=case.id)
        timeline = [
            m.body
            for m in await db.scalars(
                select(CaseMessage).where(CaseMessage.case_id == case.id).order_by(CaseMessage.id)
            )
        ]
    assert timeline[0] == NARRATIVE and timeline[-1] == "legacy note"  # format 0x01 opens
    contacts = await count_rows(services, Contact)
    if services.settings.database_url.startswith("sqlite"):
        assert NARRATIVE.encode() not in database_bytes(services)
    before = await raw_sealed(services)

    key = new_key()
    report = await rotate_keys(services.engine, old=privacy.vault(), new=Vault.from_key(key))
    vault = privacy.configure(key, [old_key])
    services.runtime.directories.invalidate()  # it caches chairs by their Telegram hash

    assert report.sealed["cases"] >= 1 and report.sealed["case_messages"] == len(timeline)
    assert report.rows["contacts"] == contacts and report.telegram_hashes_left == 1
    after = await raw_sealed(services)
    for name, rows in after.items():  # every value re-sealed, none left as it was
        assert len(rows) == len(before[name]), name
        for row in rows:
            sealed = [value for value in row if isinstance(value, bytes)]
            assert all(value[:5] == b"\x02" + bytes.fromhex(vault.key_id) for value in sealed)
            assert not sealed or row not in before[name], name
    if services.settings.database_url.startswith("sqlite"):
        assert NARRATIVE.encode() not in database_bytes(services)

    async with services.sessions() as db:
        again = await db.get(Case, case.id)
        assert again is not None and again.description == NARRATIVE
        assert again.contact_time == "weekdays after 2 pm"
        bodies = await db.scalars(
            select(CaseMessage.body).where(CaseMessage.case_id == case.id).order_by(CaseMessage.id)
        )
        assert list(bodies) == timeline
        staff = {s.email: s for s in await db.scalars(select(StaffUser))}
        assert staff["peter@baraza.example"].telegram_hash == urn_hash(parse(CHAIR_TELEGRAM))
        daniel_hash = staff["daniel@baraza.example"].telegram_hash  # left for `baraza import`
        assert daniel_hash == Vault.from_key(old_key).lookup_hash("telegram:5550002")
        outbox = list(await db.scalars(select(OutboxMessage)))
        addresses = {s.id: s.address for s in staff.values()}
        for row in outbox:
            if row.contact_id is not None:
                contact = await db.get(Contact, row.contact_id)
                assert contact is not None and row.recipient_hash == contact.urn_hash
            elif row.staff_id is not None:
                assert row.recipient_hash == urn_hash(parse(addresses[row.staff_id] or ""))
            else:
                assert row.address == GROUP and row.recipient_hash == urn_hash(parse(GROUP))
        [audit] = await db.scalars(select(AuditEntry).where(AuditEntry.action == "keys_rotated"))
        assert audit.detail is not None and "contacts" in audit.detail
        assert audit.actor is None and audit.case_id is None
        for secret in (key, old_key):  # no key material, in any form
            assert encode_key(secret) not in audit.detail and secret.hex() not in audit.detail

    # The person writes again: found by their address, no second contact, answered.
    answer = await person.send("hello")
    assert answer
    assert await count_rows(services, Contact) == contacts
    assert (await person.contact()).id == case.contact_id


async def test_a_failed_rotation_changes_nothing(own: Services) -> None:
    services = own
    await protection_case(services)
    async with services.sessions() as db, db.begin():
        row = await db.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1))
        assert row is not None
        raw = table_clause("outbox", column("id"), column("payload", LargeBinary()))
        stranger = Vault.from_key(new_key()).seal("sealed under a key nobody kept")
        await db.execute(update(raw).where(raw.c.id == row.id).values(payload=stranger))
    before = await raw_sealed(services)
    audits = await count_rows(services, AuditEntry)

    with pytest.raises(RotationError, match=rf"outbox\.payload of row id={row.id}"):
        await rotate_keys(services.engine, old=privacy.vault(), new=Vault.from_key(new_key()))

    assert await raw_sealed(services) == before
    assert await count_rows(services, AuditEntry) == audits
    async with services.sessions() as db:
        [case] = await db.scalars(select(Case))
        assert case.description == NARRATIVE  # still under the old key


# --- the command ---------------------------------------------------------------------


def baraza(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BARAZA_", "DATABASE_"))}
    clean.update({"BARAZA_VAR_DIR": str(tmp_path / "var"), **env})
    return subprocess.run(
        [str(BARAZA), *args],
        cwd=tmp_path,  # never the repository: no .env, no var/
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_cli_rotate_with_keys_from_the_environment(tmp_path: Path) -> None:
    url = await create_database("sqlite", tmp_path)
    old_key = generate_key()
    services = await open_services(settings_for(url, tmp_path, BARAZA_DATA_KEY=old_key))
    try:
        person, case = await protection_case(services)
        contacts = await count_rows(services, Contact)
        sealed_before = (await raw_sealed(services))["case_messages"][0][1]  # the narrative
    finally:
        await services.close()
    env = {"DATABASE_URL": url, "BARAZA_ENV": "production", "BARAZA_DATA_KEY": old_key}
    fresh = generate_key()

    result = baraza(tmp_path, "keys", "rotate", BARAZA_NEW_DATA_KEY=fresh, **env)

    assert result.returncode == 0, result.stderr
    assert "stop" in baraza(tmp_path, "keys", "rotate", "--help").stdout.lower()
    assert re.search(r"^  cases: \d+ value\(s\) in 1 row\(s\)$", result.stdout, re.MULTILINE)
    assert f"  BARAZA_DATA_KEY={fresh}\n" in result.stdout
    assert f"  BARAZA_PREVIOUS_DATA_KEYS={old_key}\n" in result.stdout
    # Started as told, the app reads the case, finds the person, and opens old values.
    settings = settings_for(url, tmp_path, BARAZA_DATA_KEY=fresh, BARAZA_PREVIOUS_DATA_KEYS=old_key)
    services = await open_services(settings, deployment=None)
    try:
        async with services.sessions() as db:
            again = await db.get(Case, case.id)
            assert again is not None and again.description == NARRATIVE
        assert privacy.vault().open(sealed_before) == NARRATIVE  # a backup's value
        returning = Person(services, person.channel, name=person.name)
        assert await returning.send("hello")
        assert await count_rows(services, Contact) == contacts
    finally:
        await services.close()
    # The new key is now the current one: giving it again is refused.
    env.update(BARAZA_DATA_KEY=fresh, BARAZA_PREVIOUS_DATA_KEYS=old_key)
    refused = baraza(tmp_path, "keys", "rotate", BARAZA_NEW_DATA_KEY=fresh, **env)
    assert refused.returncode == 2 and "is the current" in refused.stderr
    # No new key given: one is made, and shown once, with the whole chain of old ones.
    made = baraza(tmp_path, "keys", "rotate", **env)
    assert made.returncode == 0, made.stderr
    assert "generated now" in made.stdout
    [newest] = re.findall(r"^  BARAZA_DATA_KEY=(\S+)$", made.stdout, re.MULTILINE)
    assert decode_key(newest) and newest not in (fresh, old_key)
    assert f"  BARAZA_PREVIOUS_DATA_KEYS={fresh},{old_key}\n" in made.stdout


def test_cli_rotate_in_development_updates_the_key_files(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'dev.db'}", "BARAZA_ENV": "development"}
    assert baraza(tmp_path, "import", str(DEMO), **env).returncode == 0
    var = tmp_path / "var"
    first = (var / "data.key").read_text().strip()

    rotated = baraza(tmp_path, "keys", "rotate", **env)

    assert rotated.returncode == 0, rotated.stderr
    assert "Nothing to set" in rotated.stdout and "BARAZA_DATA_KEY=" not in rotated.stdout
    second = (var / "data.key").read_text().strip()
    assert second != first and decode_key(second)
    assert (var / "previous-data.keys").read_text().split() == [first]
    for name in ("data.key", "previous-data.keys"):
        assert stat.S_IMODE((var / name).stat().st_mode) == 0o600
    # The staff addresses open under the new key: importing again changes nothing.
    imported = baraza(tmp_path, "import", str(DEMO), **env)
    assert imported.returncode == 0 and "no changes" in imported.stdout, imported.stderr

    given = tmp_path / "next.key"
    third = generate_key()
    given.write_text(third + "\n")
    again = baraza(tmp_path, "keys", "rotate", "--new-key-file", str(given), **env)
    assert again.returncode == 0, again.stderr
    assert (var / "data.key").read_text().strip() == third
    assert (var / "previous-data.keys").read_text().split() == [second, first]
