"""Retention, on SQLite and PostgreSQL: a protection case's words are erased once it has
been closed long enough, the anonymous counts stay, and nothing else is touched."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update

from bot import privacy
from bot.contacts import ContactRecord
from bot.messages import OutboundMessage
from bot.models import (
    AuditEntry,
    Case,
    CaseMessage,
    Category,
    OutboxMessage,
    ProtectionCount,
)
from bot.models.base import utcnow
from bot.outbox import to_contact
from bot.retention import EMPTY_PAYLOAD, purge_protection_content
from bot.services import Services
from tests.bot.test_keys import BARAZA, protection_case
from tests.flows.test_protection import NARRATIVE
from tests.support import count_rows, create_database, open_services
from tests.support import test_settings as settings_for

DAYS = 90


@pytest.fixture(autouse=True)
def keep_the_vault() -> Iterator[None]:
    saved = privacy._vault
    yield
    privacy._vault = saved


async def close(services: Services, case_id: int, days_ago: float | None) -> None:
    closed = None if days_ago is None else utcnow() - timedelta(days=days_ago)
    async with services.sessions() as db, db.begin():
        await db.execute(
            update(Case).where(Case.id == case_id).values(status="closed", closed_at=closed)
        )


async def concern_closed_long_ago(services: Services, contact_id: int) -> int:
    """A forum concern, not a protection case: retention is not for it."""
    async with services.sessions() as db, db.begin():
        category = await db.scalar(
            select(Category.id).where(Category.routes_to == "forum").limit(1)
        )
        case_id = await db.scalar(
            insert(Case)
            .values(
                reference="CCCDDD",
                kind="concern",
                category_id=category,
                queue="forum",
                route_reason="test",
                status="closed",
                contact_id=contact_id,
                description="Streetlights out on Third Avenue.",
                language="en",
                channel="console",
                latitude=-1.27,
                longitude=36.85,
                closed_at=utcnow() - timedelta(days=400),
            )
            .returning(Case.id)
        )
        await db.execute(
            insert(CaseMessage).values(case_id=case_id, direction="inbound", body="Streetlights")
        )
        return int(case_id)


async def audits_after(services: Services, first_id: int) -> list[AuditEntry]:
    async with services.sessions() as db:
        found = await db.scalars(
            select(AuditEntry).where(AuditEntry.id > first_id).order_by(AuditEntry.id)
        )
        return list(found)


async def last_audit_id(services: Services) -> int:
    async with services.sessions() as db:
        return int(await db.scalar(select(func.coalesce(func.max(AuditEntry.id), 0))) or 0)


async def test_purge_erases_old_protection_content_and_keeps_the_counts(
    services: Services,
) -> None:
    old_person, old = await protection_case(services)
    _, recent = await protection_case(services)
    _, still_open = await protection_case(services)
    concern = await concern_closed_long_ago(services, old.contact_id or 0)
    await close(services, old.id, DAYS + 1)
    await close(services, recent.id, DAYS - 1)
    await close(services, still_open.id, None)
    contact = await old_person.contact()
    async with services.sessions() as db, db.begin():
        await db.execute(
            update(Case)
            .where(Case.id == old.id)
            .values(reporter_name="Wanjiru", satisfaction=4, satisfaction_comment="She was kind")
        )
        await db.execute(
            insert(CaseMessage).values(case_id=old.id, direction="outbound", body="We called.")
        )
        # A staff reply the sender never got to (held, say): it must not go out now.
        record = ContactRecord(
            contact.id, contact.urn_hash, "console", "en", False, None, None, None
        )
        await to_contact(db, record, OutboundMessage(text="About ABC: we called."), case_id=old.id)
        outbox_rows = list(
            await db.scalars(select(OutboxMessage.id).where(OutboxMessage.case_id == old.id))
        )
        untouched_outbox = list(
            await db.scalars(select(OutboxMessage.id).where(OutboxMessage.case_id != old.id))
        )
    counts = await count_rows(services, ProtectionCount)
    assert counts == 3  # one per referral, written when the case was made
    first_audit = await last_audit_id(services)

    assert await purge_protection_content(services.sessions, retention_days=DAYS) == 1

    async with services.sessions() as db:
        purged = await db.get(Case, old.id)
        assert purged is not None
        assert (purged.description, purged.reporter_name, purged.contact_time) == ("", None, None)
        assert (purged.contact_method, purged.satisfaction_comment) == (None, None)
        assert (purged.latitude, purged.longitude, purged.contact_id) == (None, None, None)
        assert purged.content_purged_at is not None
        # What the aggregates need stays.
        assert (purged.reference, purged.kind, purged.help_type) == (
            old.reference,
            "protection",
            "legal",
        )
        assert (purged.unit_id, purged.area_id, purged.satisfaction) == (
            old.unit_id,
            old.area_id,
            4,
        )
        assert await db.scalar(select(func.count()).where(CaseMessage.case_id == old.id)) == 0
        rows = {
            row.id: row
            for row in await db.scalars(
                select(OutboxMessage).where(OutboxMessage.id.in_(outbox_rows))
            )
        }
        assert rows and all(row.payload == EMPTY_PAYLOAD for row in rows.values())
        for row in rows.values():  # nothing about the case points at the person any more
            assert row.case_id is None if row.contact_id is not None else row.case_id == old.id
        assert rows[max(outbox_rows)].status == "skipped"
        assert rows[max(outbox_rows)].last_error == "retention"
        assert not any(row.status == "pending" for row in rows.values())
        others = await db.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.id.in_(untouched_outbox))
        )
        assert all(payload != EMPTY_PAYLOAD for payload in others)
        for kept in (recent, still_open):
            case = await db.get(Case, kept.id)
            assert case is not None and case.description == NARRATIVE
            assert case.content_purged_at is None and case.contact_id == kept.contact_id
            assert await db.scalar(select(func.count()).where(CaseMessage.case_id == kept.id))
        other = await db.get(Case, concern)
        assert other is not None and other.description.startswith("Streetlights")
        assert other.content_purged_at is None and other.latitude == -1.27
    assert await count_rows(services, ProtectionCount) == counts
    [audit] = await audits_after(services, first_audit)
    assert (audit.action, audit.case_id, audit.actor, audit.staff_id) == (
        "retention_purged",
        old.id,
        None,
        None,
    )
    assert NARRATIVE not in (audit.detail or "")

    # Again: nothing left to do, nothing written. The person is not found by the case.
    assert await purge_protection_content(services.sessions, retention_days=DAYS) == 0
    assert len(await audits_after(services, first_audit)) == 1
    assert [case.id for case in await old_person.cases()] == [concern]


async def test_purge_works_through_many_cases_in_batches(services: Services) -> None:
    cases = [(await protection_case(services))[1] for _ in range(3)]
    for case in cases:
        await close(services, case.id, DAYS * 2)
    first_audit = await last_audit_id(services)

    assert await purge_protection_content(services.sessions, retention_days=DAYS, batch=2) == 3

    async with services.sessions() as db:
        left = await db.scalar(
            select(func.count()).where(Case.kind == "protection", Case.content_purged_at.is_(None))
        )
        assert left == 0
        assert await db.scalar(select(func.count()).select_from(CaseMessage)) == 0
    audits = await audits_after(services, first_audit)
    assert sorted(a.case_id or 0 for a in audits) == sorted(c.id for c in cases)


async def test_the_scheduler_runs_the_purge_hourly(services: Services) -> None:
    opened = await Services.open(services.settings, upgrade=False)
    try:
        opened.start_workers()
        assert opened._scheduler is not None
        job = opened._scheduler.get_job("retention")
        assert job is not None and job.trigger.interval == timedelta(hours=1)
        assert job.func is purge_protection_content
        assert job.kwargs["retention_days"] == DAYS
    finally:
        await opened.close()


async def test_cli_purge_prints_how_many_cases(tmp_path: Path) -> None:
    url = await create_database("sqlite", tmp_path)
    settings = settings_for(url, tmp_path)
    services = await open_services(settings)
    try:
        _, case = await protection_case(services)
        await close(services, case.id, 10)
    finally:
        await services.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BARAZA_", "DATABASE_"))}
    env.update(
        DATABASE_URL=url,
        BARAZA_DATA_KEY=settings.data_key,
        BARAZA_VAR_DIR=str(tmp_path / "var"),
        BARAZA_ENV="production",
    )

    def purge(days: str, *more: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BARAZA), "retention", "purge", *more],
            cwd=tmp_path,
            env={**env, "BARAZA_PROTECTION_RETENTION_DAYS": days},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert "BARAZA_PROTECTION_RETENTION_DAYS" in purge("90", "--help").stdout
    kept = purge("90")
    assert kept.returncode == 0, kept.stderr
    assert "purged the content of 0 protection case(s) closed over 90 days ago" in kept.stdout
    done = purge("7")
    assert done.returncode == 0, done.stderr
    assert "purged the content of 1 protection case(s) closed over 7 days ago" in done.stdout
    services = await open_services(settings, deployment=None)
    try:
        async with services.sessions() as db:
            purged = await db.get(Case, case.id)
            assert purged is not None and purged.description == ""
            assert purged.contact_id is None and purged.content_purged_at is not None
    finally:
        await services.close()
