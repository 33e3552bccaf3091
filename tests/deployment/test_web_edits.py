"""The deployment file and the staff pages agree: an import does not silently undo web
edits, a dry run writes nothing, and an export re-imports to the same directory.

Edits are made through the real staff API (a signed-in admin over ASGI); imports
run through ``import_file`` on both databases and through the ``baraza`` command.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import create_app
from bot.deployment import ImportConflicts, import_file
from bot.deployment.exporter import export_deployment
from bot.models import Category, Forum, ForumMember, ForumStaff, StaffUser
from bot.services import Services
from bot.settings import generate_key
from bot.staff import hash_password
from tests.admin.conftest import PASSWORD, Staff, token_for
from tests.support import DEMO, create_database, demo_with, drop_database, open_services
from tests.support import test_settings as make_settings
from tests.test_app_and_cli import CLOSED_PORT_URL, baraza, cli_env  # noqa: F401 (a fixture)

ADMIN = "programme@baraza.example"


@asynccontextmanager
async def signed_in_admin(services: Services) -> AsyncIterator[Staff]:
    """The demo's admin, signed in to the staff API of ``services``."""
    async with services.sessions() as db, db.begin():
        admin = await db.scalar(select(StaffUser).where(StaffUser.email == ADMIN))
        assert admin is not None
        admin.password_hash = hash_password(PASSWORD)
    app = create_app(services.settings, workers=False)
    app.state.services = services
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://baraza") as client:
        yield Staff(client, await token_for(client, ADMIN))


async def edit_on_the_web(admin: Staff) -> int:
    """A forum renamed, a new category, a focal point moved to another forum and made
    chair there; returns the moved person's id."""
    renamed = await admin.patch(
        "/api/v1/forums/eastleigh-cpf", json={"names": {"en": "Eastleigh Safety Forum"}}
    )
    assert renamed.status_code == 200, renamed.text
    created = await admin.post(
        "/api/v1/categories", json={"key": "noise", "names": {"en": "Noise at night"}}
    )
    assert created.status_code == 201, created.text
    people = {p["email"]: p for p in (await admin.get("/api/v1/staff")).json()}
    amina = people["amina@baraza.example"]
    moved = await admin.patch(
        f"/api/v1/staff/{amina['id']}", json={"forums": {"kakuma-cpf": "chair"}}
    )
    assert moved.status_code == 200 and moved.json()["forums"] == {"kakuma-cpf": "chair"}
    return int(amina["id"])


async def test_an_import_lists_the_web_edits_it_would_undo_and_writes_nothing(
    blank_database: str, tmp_path: Path
) -> None:
    services = await open_services(make_settings(blank_database, tmp_path))
    languages = set(services.runtime.catalogs.languages)
    try:
        async with signed_in_admin(services) as admin:
            amina = await edit_on_the_web(admin)
            untouched = await admin.patch(  # the file agrees: not a conflict, mark dropped
                "/api/v1/categories/theft", json={"active": False}
            )
            assert untouched.status_code == 200
            await admin.patch("/api/v1/categories/theft", json={"active": True})
        async with services.sessions() as db:
            with pytest.raises(ImportConflicts) as refused:
                await import_file(db, DEMO, languages)
            await db.rollback()
        said = "\n".join(refused.value.conflicts)
        assert len(refused.value.conflicts) == 3, said
        assert "forum:eastleigh-cpf names: edited on the web" in said
        assert "by programme@baraza.example" in said and "Eastleigh Safety Forum" in said
        assert "category:noise created: edited on the web" in said and "deactivate" in said
        assert "staff:amina@baraza.example memberships" in said
        async with services.sessions() as db:  # nothing was written
            forum = await db.scalar(select(Forum).where(Forum.key == "eastleigh-cpf"))
            noise = await db.scalar(select(Category).where(Category.key == "noise"))
            assert forum and forum.names == {"en": "Eastleigh Safety Forum"}
            assert noise and noise.active
        # A dry run with the overwrite says what it would do, and still writes nothing.
        async with services.sessions() as db:
            report = await import_file(db, DEMO, languages, overwrite_web_edits=True)
            await db.rollback()
        lines = "\n".join(report.lines(dry_run=True))
        assert "would deactivate: category:noise" in lines
        assert "forum:eastleigh-cpf (names" in lines
        assert "would overwrite web edits: forum:eastleigh-cpf names" in lines
        async with services.sessions() as db:
            assert (await db.get(Forum, forum.id)).names == {"en": "Eastleigh Safety Forum"}  # type: ignore[union-attr]
        # With the overwrite, the file wins and the marks go: the next import is quiet.
        async with services.sessions() as db, db.begin():
            await import_file(db, DEMO, languages, overwrite_web_edits=True)
        async with services.sessions() as db, db.begin():
            again = await import_file(db, DEMO, languages)
            assert again.changes == 0 and not again.conflicts
            forum = await db.scalar(select(Forum).where(Forum.key == "eastleigh-cpf"))
            assert forum and forum.names["en"] != "Eastleigh Safety Forum"
            assert forum.web_edits == {}
            person = await db.get(StaffUser, amina)
            assert person and "memberships" not in person.web_edits
    finally:
        await services.close()


async def test_an_export_imports_back_to_the_same_directory(
    backend: str, blank_database: str, tmp_path: Path
) -> None:
    key = generate_key()
    first = await open_services(make_settings(blank_database, tmp_path, BARAZA_DATA_KEY=key))
    second_url = await create_database(backend, tmp_path)
    exported = tmp_path / "exported.yaml"
    try:
        async with signed_in_admin(first) as admin:
            await edit_on_the_web(admin)
            zone = await admin.patch(
                "/api/v1/areas/ke-eastleigh",
                json={"timezone": "Africa/Nairobi", "quiet_hours": "22:00-06:00"},
            )
            assert zone.status_code == 200 and zone.json()["quiet_hours"] == "22:00-06:00"
        async with first.sessions() as db:
            exported.write_text(await export_deployment(db), encoding="utf-8")
        text = exported.read_text(encoding="utf-8")
        assert "Eastleigh Safety Forum" in text and "noise" in text and "22:00-06:00" in text
        # Into the same database: nothing to change, and no conflict (the file agrees now).
        async with first.sessions() as db, db.begin():
            same = await import_file(db, exported, set(first.runtime.catalogs.languages))
            assert same.changes == 0 and not same.conflicts
        await first.close()
        # Into a fresh database: the same directory, as its own export shows.
        second = await open_services(
            make_settings(second_url, tmp_path, BARAZA_DATA_KEY=key), deployment=exported
        )
        try:
            async with second.sessions() as db:
                assert await export_deployment(db) == text
        finally:
            await second.close()
    finally:
        await drop_database(second_url)


def test_the_command_stops_on_web_edits_and_dry_runs_write_nothing(
    cli_env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    baraza(cli_env, "import", str(DEMO))
    settings = make_settings(cli_env["DATABASE_URL"], tmp_path,
                             BARAZA_DATA_KEY=cli_env["BARAZA_DATA_KEY"])  # fmt: skip

    async def edit() -> None:
        services = await Services.open(settings)
        try:
            async with signed_in_admin(services) as admin:
                await edit_on_the_web(admin)
        finally:
            await services.close()

    asyncio.run(edit())
    refused = baraza(cli_env, "import", str(DEMO), check=False)
    assert refused.returncode == 2 and "nothing imported" in refused.stderr
    assert "would undo 3 edit(s) made on the web" in refused.stderr
    assert "--overwrite-web-edits" in refused.stderr
    dry = baraza(cli_env, "import", "--dry-run", "--overwrite-web-edits", str(DEMO)).stdout
    assert "dry run, nothing written" in dry and "would deactivate: category:noise" in dry
    assert "would keep:" in dry and "would add: nothing" in dry
    exported = baraza(cli_env, "export-deployment").stdout
    assert "Eastleigh Safety Forum" in exported  # the dry run changed nothing
    done = baraza(cli_env, "import", "--overwrite-web-edits", str(DEMO)).stdout
    assert "deactivated: category:noise" in done
    assert baraza(cli_env, "import", str(DEMO)).stdout.strip().endswith("no changes")


async def test_the_command_keeps_web_edits_and_imports_the_rest(
    blank_database: str,
    cli_env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    """``--keep-web-edits`` (what ``make run`` gives): the web edits stay, marked, and
    are listed; everything else the file says lands; a broken file still fails."""
    env = {**cli_env, "DATABASE_URL": blank_database}

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return baraza(env, "import", *args, check=check)

    await asyncio.to_thread(run, str(DEMO))
    settings = make_settings(blank_database, tmp_path, BARAZA_DATA_KEY=env["BARAZA_DATA_KEY"])
    services = await Services.open(settings)
    try:
        async with signed_in_admin(services) as admin:
            amina = await edit_on_the_web(admin)
    finally:
        await services.close()

    def change(data: dict[str, Any]) -> None:
        forums = {f["key"]: f for f in data["forums"]}
        forums["eastleigh-cpf"]["service_radius_km"] = 8  # names were edited on the web
        forums["eastleigh-cpf"]["members"].append("tel:+254700000103")
        forums["kakuma-cpf"]["names"]["en"] = "Kakuma Safety Forum"
        peter = next(s for s in data["staff"] if s["email"] == "peter@baraza.example")
        peter["name"] = "Peter M. Mwangi"

    changed = str(demo_with(tmp_path, change))
    dry = (await asyncio.to_thread(run, "--dry-run", "--keep-web-edits", changed)).stdout
    assert "would keep 3 web edit(s) the file would undo:" in dry, dry
    done = (await asyncio.to_thread(run, "--keep-web-edits", changed)).stdout
    assert "kept 3 web edit(s) the file would have undone:" in done, done
    assert "forum:eastleigh-cpf names: edited on the web" in done
    assert "Eastleigh Safety Forum" in done and "by programme@baraza.example" in done
    assert "category:noise created: edited on the web" in done
    assert "staff:amina@baraza.example memberships: edited on the web" in done
    assert "forum:eastleigh-cpf (service_radius_km, members)" in done
    assert "forum:kakuma-cpf (names)" in done and "staff:peter@baraza.example (name)" in done
    assert "deactivated: nothing" in done, done

    services = await Services.open(settings)
    try:
        async with services.sessions() as db:
            forums = {f.key: f for f in (await db.execute(select(Forum))).scalars()}
            eastleigh, kakuma = forums["eastleigh-cpf"], forums["kakuma-cpf"]
            assert eastleigh.names == {"en": "Eastleigh Safety Forum"}  # kept
            assert "names" in eastleigh.web_edits  # still the web's, not the file's
            assert eastleigh.service_radius_km == 8  # the rest of the file landed
            assert kakuma.names["en"] == "Kakuma Safety Forum"
            noise = await db.scalar(select(Category).where(Category.key == "noise"))
            assert noise is not None and noise.active
            roles = (await db.execute(select(ForumStaff.forum_id, ForumStaff.role)
                                      .where(ForumStaff.staff_id == amina))).all()  # fmt: skip
            assert [tuple(r) for r in roles] == [(kakuma.id, "chair")]
            peter = await db.scalar(
                select(StaffUser).where(StaffUser.email == "peter@baraza.example")
            )
            assert peter is not None and peter.name == "Peter M. Mwangi"
            members = await db.scalar(
                select(func.count())
                .select_from(ForumMember)
                .where(ForumMember.forum_id == eastleigh.id)
            )
            assert members == 3
    finally:
        await services.close()

    again = (await asyncio.to_thread(run, "--keep-web-edits", changed)).stdout
    assert "kept 3 web edit(s)" in again and again.strip().endswith("no changes")
    broken = tmp_path / "broken.yaml"
    broken.write_text("deployment: {name: x}\nareas: [{key: a, parent: nowhere}]\n")
    failed = await asyncio.to_thread(run, "--keep-web-edits", str(broken), check=False)
    assert failed.returncode == 2 and "nothing imported" in failed.stderr
    both = await asyncio.to_thread(
        run, "--keep-web-edits", "--overwrite-web-edits", changed, check=False
    )
    assert both.returncode == 2 and "not both" in both.stderr


def test_keeping_web_edits_still_fails_when_the_database_is_away(
    cli_env: dict[str, str],  # noqa: F811
) -> None:
    env = {**cli_env, "DATABASE_URL": CLOSED_PORT_URL}
    away = baraza(env, "import", "--keep-web-edits", str(DEMO), check=False)
    assert away.returncode != 0 and "imported" not in away.stdout
