"""Injection attempts are just text: SQL, HTML and script, format placeholders, right-to-
left overrides, NUL bytes and huge strings, in what a reporter types (the concern, the
place), what staff write (a reply, a broadcast) and what a deployment file names. Each
is stored and shown as written, escaped in the pages, never executed, never a crash."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from admin.deps import COOKIE
from admin.security import issue_token
from bot.app import create_app
from bot.deployment import import_file
from bot.models import Area, Broadcast, StaffUser
from bot.services import Services
from bot.text import clean
from tests.support import Person, demo_with, restore_demo_directory

CODE = re.compile(r"\b([A-Z]{3}-[A-Z]{3})\b")
HOSTILE = [
    "x'); DROP TABLE cases; -- and \" OR 1=1 --",
    "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "{contact_id} {0} {text!r} %s %(name)s %n {{7*7}} ${7*7}",
    "\u202eevil.exe\u202c \u200f\u2067 mirrored \u2069",
    "before\x00after NUL",
]


def stored_as(text: str) -> str:
    """What the bot keeps of what a person types: the text without control characters
    (NUL bytes, bidi overrides that could disguise it in staff views), spaces collapsed."""
    return clean(text)


def strings(value: Any) -> list[str]:
    """Every string in a JSON document."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [found for item in value for found in strings(item)]
    return []


@dataclass
class Admin:
    api: httpx.AsyncClient  # bearer token
    pages: httpx.AsyncClient  # session cookie


@pytest.fixture
async def staff(services: Services) -> AsyncIterator[Admin]:
    """The programme admin, signed in for the API (bearer) and the pages (cookie)."""
    app = create_app(services.settings, workers=False)
    app.state.services = services
    async with services.sessions() as db, db.begin():
        admin = await db.scalar(
            select(StaffUser).where(StaffUser.email == "programme@baraza.example")
        )
        assert admin is not None
        admin.active = True
        bearer, _ = await issue_token(db, admin, "api")
        cookie, _ = await issue_token(db, admin, "web")
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as api,
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as pages,
    ):
        api.headers["Authorization"] = f"Bearer {bearer}"
        pages.cookies.set(COOKIE, cookie)
        yield Admin(api, pages)


async def report(person: Person, concern: str, place: str) -> str:
    await person.send("hello")  # English, detected
    await person.send("1")  # report
    await person.send("1")  # theft
    await person.send(place)  # not a place: asked again, or offered a choice
    await person.send("Eastleigh")
    await person.send(concern)
    await person.send("1")  # anonymous
    found = CODE.search(await person.send("yes"))
    assert found, person.received[-3:]
    return found.group(1)


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_a_hostile_concern_is_stored_and_shown_as_written(
    person: Person, services: Services, staff: Admin, hostile: str
) -> None:
    code = await report(person, f"Concern: {hostile}", hostile)
    [case] = await person.cases()
    assert case.description == stored_as(f"Concern: {hostile}")
    detail = await staff.api.get(f"/api/v1/cases/{code}")
    assert detail.status_code == 200
    assert any(stored_as(hostile) in value for value in strings(detail.json()))
    page = await staff.pages.get(f"/admin/cases/{code}")
    assert page.status_code == 200
    assert stored_as(hostile) in html.unescape(page.text)  # shown, as text
    assert "<script>alert" not in page.text and "<img src=x" not in page.text

    reply = await staff.api.post(f"/api/v1/cases/{code}/replies", json={"text": hostile})
    assert reply.status_code == 201, reply.text
    assert hostile in await person.collect()  # delivered as staff wrote it, not formatted


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_a_hostile_broadcast_is_kept_as_written(
    services: Services, staff: Admin, hostile: str
) -> None:
    body: dict[str, Any] = {
        "audience": "forum",
        "forum": "eastleigh-cpf",
        "texts": {"en": hostile},
        "fallback_language": "en",
    }
    preview = await staff.api.post("/api/v1/broadcasts/preview", json=body)
    assert preview.status_code == 200, preview.text
    created = await staff.api.post("/api/v1/broadcasts", json={**body, "send_at": None})
    assert created.status_code == 201, created.text
    async with services.sessions() as db:
        broadcast = await db.get(Broadcast, created.json()["id"])
        assert broadcast is not None
        assert json.loads(broadcast.texts)["en"] in (hostile, stored_as(hostile))
    page = await staff.pages.get(f"/admin/broadcasts/{created.json()['id']}")
    assert page.status_code == 200 and "<script>alert" not in page.text
    assert stored_as(hostile) in clean(html.unescape(page.text))


async def test_hostile_names_in_a_deployment_file_are_just_names(
    services: Services, staff: Admin, tmp_path: Path
) -> None:
    name = "<script>alert(1)</script> {area} %s \u202eKibera"

    def rename(data: dict[str, Any]) -> None:
        area = next(a for a in data["areas"] if a["key"] == "ke-eastleigh")
        area["names"]["en"] = name

    path = demo_with(tmp_path, rename)
    try:
        async with services.sessions() as db, db.begin():
            await import_file(db, path, set(services.runtime.catalogs.languages))
        services.runtime.directories.invalidate()
        async with services.sessions() as db:
            area = await db.scalar(select(Area).where(Area.key == "ke-eastleigh"))
            assert area is not None and area.names["en"] == name
        page = await staff.pages.get("/admin/directory")
        assert page.status_code == 200
        assert "<script>alert(1)" not in page.text and "&lt;script&gt;" in page.text
    finally:
        await restore_demo_directory(services)


async def test_a_ten_megabyte_message_is_refused_politely(person: Person) -> None:
    """Past the HTTP cap nothing this big arrives; through the pipeline itself (a
    provider's poller, the console) it is still just text that is too long."""
    await person.send("hello")  # English, detected
    await person.send("1")
    await person.send("1")
    await person.send("Eastleigh")
    answer = await person.send("A" * 10_000_000)
    assert answer and len(answer) < 2000
    assert await person.cases() == []
