"""Key rotation: every sealed value re-sealed, every look-up hash recomputed, under a new key.

``baraza keys rotate`` runs this with the app stopped. The sealed columns are found
by walking the models' metadata, so a column added later is rotated without anyone
remembering to list it. Rows are read by primary key in batches, so memory stays
flat however large the tables; everything happens in one transaction, so a failure
(a value no configured key opens) leaves the database exactly as it was.

Look-up hashes are keyed too, and are recomputed from the values they hash:

- ``contacts.urn_hash``: the contact's normalised address;
- ``outbox.recipient_hash``: the contact's new hash, the staff member's address, or
  the row's own sealed address (a forum's group chat);
- ``staff_users.telegram_hash``: from the staff address when that is the same
  Telegram id; otherwise only the deployment file knows it, and ``baraza import``
  must be run again (the report says how many).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Column,
    LargeBinary,
    Table,
    bindparam,
    column,
    insert,
    select,
    update,
)
from sqlalchemy import table as table_clause
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.expression import TableClause

from bot.models import AuditEntry, Base, Contact, OutboxMessage
from bot.models.base import Sealed, table, utcnow
from bot.privacy import DecryptionError, Vault
from bot.urns import InvalidURN, parse

BATCH = 500


class RotationError(RuntimeError):
    """The rotation stopped; nothing was changed. The message says where and why."""


@dataclass
class RotationReport:
    key_id: str
    sealed: dict[str, int] = field(default_factory=dict)  # table -> values re-sealed
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows read
    hashes: dict[str, int] = field(default_factory=dict)  # "table.column" -> recomputed
    telegram_hashes_left: int = 0  # staff whose Telegram hash needs `baraza import`

    def summary(self) -> str:
        """One line, no key material: what the audit entry says."""
        sealed = ", ".join(f"{name} {count}" for name, count in self.sealed.items())
        hashed = ", ".join(f"{name} {count}" for name, count in self.hashes.items())
        left = f"; telegram hashes to re-import {self.telegram_hashes_left}"
        return f"new key {self.key_id}; values re-sealed: {sealed}; hashes: {hashed}" + (
            left if self.telegram_hashes_left else ""
        )


def sealed_tables() -> list[tuple[Table, list[Column[Any]]]]:
    """Every table with sealed columns, parents before children, and those columns."""
    found = []
    for model_table in Base.metadata.sorted_tables:
        sealed = [c for c in model_table.columns if isinstance(c.type, Sealed)]
        if sealed:
            found.append((model_table, sealed))
    return found


def _normalised(address: str) -> str:
    """The address as its hash was computed (``bot.contacts.urn_hash``)."""
    try:
        return str(parse(address))
    except InvalidURN:
        return address


Hook = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class _Rotation:
    """One pass over the database; the hooks know each table's look-up hashes."""

    connection: AsyncConnection
    old: Vault
    new: Vault
    report: RotationReport
    staff_hashes: dict[int, str] = field(default_factory=dict)

    def _count(self, name: str, n: int = 1) -> None:
        self.report.hashes[name] = self.report.hashes.get(name, 0) + n

    def _contacts(self, row: dict[str, Any]) -> dict[str, Any]:
        self._count("contacts.urn_hash")
        return {"urn_hash": self.new.lookup_hash(_normalised(row["urn"]))}

    def _staff(self, row: dict[str, Any]) -> dict[str, Any]:
        address = row["address"]
        if address:
            self.staff_hashes[row["id"]] = self.new.lookup_hash(_normalised(address))
        old_hash = row["telegram_hash"]
        if old_hash is None:
            return {"telegram_hash": None}
        telegram = _normalised(address) if address else ""
        # Recomputed only when the address is the very Telegram id that was hashed.
        if telegram.startswith("telegram:") and self.old.hashed_by_any_key(telegram, old_hash):
            self._count("staff_users.telegram_hash")
            return {"telegram_hash": self.new.lookup_hash(telegram)}
        self.report.telegram_hashes_left += 1
        return {"telegram_hash": old_hash}

    def _outbox(self, row: dict[str, Any]) -> dict[str, Any]:
        if row["contact_id"] is not None:
            return {"recipient_hash": row["recipient_hash"]}  # set from contacts at the end
        self._count("outbox.recipient_hash")
        if row["staff_id"] is not None:
            staff_id = row["staff_id"]
            hashed = self.staff_hashes.get(staff_id) or self.new.lookup_hash(f"staff:{staff_id}")
        elif row["address"]:
            hashed = self.new.lookup_hash(_normalised(row["address"]))
        else:  # nowhere to send it; the sender skips it. No hash under the old key stays.
            hashed = self.new.lookup_hash(f"outbox:{row['id']}")
        return {"recipient_hash": hashed}

    def hooks(self) -> dict[str, tuple[tuple[str, ...], Hook]]:
        return {
            "contacts": (("urn_hash",), self._contacts),
            "staff_users": (("telegram_hash",), self._staff),
            "outbox": (("contact_id", "staff_id", "recipient_hash"), self._outbox),
        }

    async def rotate_table(self, model_table: Table, sealed: list[Column[Any]]) -> None:
        [key] = model_table.primary_key.columns
        extra, hook = self.hooks().get(model_table.name, ((), None))
        raw = _raw_view(model_table, [key.name, *extra], [c.name for c in sealed])
        pk = raw.c[key.name]
        read = select(*raw.c).order_by(pk).limit(BATCH)
        write = update(raw).where(pk == bindparam("_key"))
        last: Any = None
        rows = resealed = 0
        while True:
            batch = (
                await self.connection.execute(read if last is None else read.where(pk > last))
            ).all()
            if not batch:
                break
            changes = []
            for found in batch:
                values = dict(found._mapping)
                for name in (c.name for c in sealed):
                    values[name] = self._open(model_table.name, name, values, key.name)
                change = {
                    name: None if values[name] is None else self.new.seal(values[name])
                    for name in (c.name for c in sealed)
                }
                resealed += sum(1 for value in change.values() if value is not None)
                if hook is not None:
                    change.update(hook(values))
                changes.append({"_key": values[key.name], **change})
            await self.connection.execute(write, changes)
            rows += len(batch)
            last = batch[-1]._mapping[key.name]
        self.report.rows[model_table.name] = rows
        self.report.sealed[model_table.name] = resealed

    def _open(self, table_name: str, name: str, values: dict[str, Any], key: str) -> str | None:
        sealed = values[name]
        if sealed is None:
            return None
        try:
            return self.old.open(bytes(sealed))
        except DecryptionError as exc:
            raise RotationError(
                f"{table_name}.{name} of row {key}={values[key]} cannot be opened ({exc}): "
                "is a key missing from BARAZA_PREVIOUS_DATA_KEYS?"
            ) from exc

    async def contact_rows_of_the_outbox(self) -> None:
        outbox, contacts = table(OutboxMessage), table(Contact)
        new_hash = (
            select(contacts.c.urn_hash)
            .where(contacts.c.id == outbox.c.contact_id)
            .scalar_subquery()
        )
        done = await self.connection.execute(
            update(outbox).where(outbox.c.contact_id.is_not(None)).values(recipient_hash=new_hash)
        )
        self._count("outbox.recipient_hash", max(done.rowcount or 0, 0))


def _raw_view(model_table: Table, plain: list[str], sealed: list[str]) -> TableClause:
    """The table as bytes: the same columns, with sealed ones read and written raw."""
    columns = [column(name, model_table.c[name].type) for name in plain]
    columns += [column(name, LargeBinary()) for name in sealed]
    return table_clause(model_table.name, *columns)


async def rotate_keys(engine: AsyncEngine, *, old: Vault, new: Vault) -> RotationReport:
    """Re-seal every sealed value and recompute every look-up hash under ``new``,
    opening with ``old`` (a keyring: current and previous keys), in one transaction.
    Raises ``RotationError`` with nothing changed if any value cannot be opened."""
    report = RotationReport(key_id=new.key_id)
    async with engine.begin() as connection:
        rotation = _Rotation(connection, old, new, report)
        for model_table, sealed in sealed_tables():
            await rotation.rotate_table(model_table, sealed)
        await rotation.contact_rows_of_the_outbox()
        await connection.execute(
            insert(table(AuditEntry)).values(
                at=utcnow(), action="keys_rotated", detail=report.summary()[:500]
            )
        )
    return report
