"""The broadcasts, meetings and campaigns pages over HTTP, without a browser (and so
without scripts): forms with their CSRF token, the preview step, the figures at load,
the same refusals as the API, and the navigation each role gets.

The browser (the live progress bar, a chair scheduling a meeting) is in
``tests/browser/test_outbound_pages.py``.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from admin.deps import COOKIE
from admin.security import issue_token
from bot.app import create_app
from bot.models import Broadcast, Campaign, Meeting, StaffUser
from bot.models.base import utcnow
from bot.services import Services
from tests.admin.conftest import ACCOUNTS
from tests.admin.test_outbound_api import join
from tests.support import count_rows

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
CHECKED = re.compile(r'name="checked" value="([^"]+)"')


@dataclass
class Browser:
    """Someone signed in to the pages: their cookie, and the form token pages carry."""

    client: httpx.AsyncClient
    csrf: str

    async def get(self, path: str) -> httpx.Response:
        return await self.client.get(path)

    async def post(self, path: str, form: dict[str, str | list[str]]) -> httpx.Response:
        return await self.client.post(path, data={"csrf": self.csrf, **form})


@pytest.fixture
async def app(services: Services) -> FastAPI:
    app = create_app(services.settings, workers=False)
    app.state.services = services
    return app


@pytest.fixture
async def signed_in(app: FastAPI, services: Services) -> AsyncIterator[dict[str, Browser]]:
    """A browser per account, each with a web session issued straight away."""
    clients = []
    people = {}
    for role in ("admin", "chair", "focal", "other_focal", "officer"):
        async with services.sessions() as db, db.begin():
            user = await db.scalar(select(StaffUser).where(StaffUser.email == ACCOUNTS[role]))
            assert user is not None
            user.active = True
            token, csrf = await issue_token(db, user, "web")
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )
        client.cookies.set(COOKIE, token)
        clients.append(client)
        people[role] = Browser(client, csrf)
    yield people
    for client in clients:
        await client.aclose()


def text(response: httpx.Response) -> str:
    """The page's words, without tags."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text)))


def broadcast_form(**extra: str | list[str]) -> dict[str, str | list[str]]:
    return {
        "audience": "forum",
        "forum": "eastleigh-cpf",
        "text_en": "Clean-up day on Saturday at 9.",
        "text_fr": "Journée de nettoyage samedi à 9 h.",
        "fallback_language": "en",
        "send_at": "",
        **extra,
    }


async def test_a_chair_previews_then_sends_and_follows_the_figures(
    signed_in: dict[str, Browser], services: Services
) -> None:
    chair = signed_in["chair"]
    form = await chair.get("/admin/broadcasts/new")
    assert form.status_code == 200
    assert 'name="audience" value="all"' not in form.text  # a chair: their forums only
    assert "Eastleigh Community Policing Forum (Africa/Nairobi)" in form.text
    assert "Kakuma" not in form.text

    preview = await chair.post("/admin/broadcasts/new", {**broadcast_form(), "step": "preview"})
    assert preview.status_code == 200
    words = text(preview)
    assert "2 recipients" in words  # the demo's two SMS members of Eastleigh
    assert "Estimated time to send: under a minute" in words
    assert 'id="send"' in preview.text and "Send now" in words
    assert await count_rows(services, Broadcast) == 0  # a preview stores nothing

    # Edited after the preview: previewed again, not sent unseen.
    edited = broadcast_form(text_en="Clean-up day moved to Sunday.")
    checked = CHECKED.search(preview.text)
    assert checked
    again = await chair.post(
        "/admin/broadcasts/new", {**edited, "step": "send", "checked": checked.group(1)}
    )
    assert again.status_code == 200 and "changed after its preview" in text(again)
    assert await count_rows(services, Broadcast) == 0

    checked = CHECKED.search(again.text)
    assert checked
    sent = await chair.post(
        "/admin/broadcasts/new", {**edited, "step": "send", "checked": checked.group(1)}
    )
    assert sent.status_code == 303
    page_url = sent.headers["location"].split("?")[0]
    await services.dispatcher().tick()  # queued: the SMS channel is not configured here
    page = await chair.get(page_url)
    words = text(page)
    assert "Broadcast to members of Eastleigh Community Policing Forum" in words
    assert re.search(r"Queued Waiting Sent Delivered Failed Held Skipped 2 2 0 0 0 0 0", words)
    assert "0% done" in words and "Clean-up day moved to Sunday." in words
    assert '<meta http-equiv="refresh" content="5">' in page.text  # without a script
    assert "fetch(url" in page.text  # with one: the JSON progress

    cancelled = await chair.post(f"{page_url}/cancel", {})
    assert cancelled.status_code == 303
    after = await chair.get(cancelled.headers["location"])
    assert "Cancelled: 2 messages will not be sent." in text(after)
    assert "100% done" in text(after) and 'id="cancel"' not in after.text
    listing = await chair.get("/admin/broadcasts")
    assert "Clean-up day moved to Sunday." in listing.text and "cancelled" in listing.text


async def test_an_admin_reaches_an_area_and_a_form_error_comes_back_on_the_form(
    signed_in: dict[str, Browser], services: Services
) -> None:
    await join(services, "telegram:7300001", forum=None, topic="safety-tips", area="ke-kakuma")
    admin = signed_in["admin"]
    area = broadcast_form(audience="area", area="ke-turkana", channels=["telegram"])
    preview = await admin.post("/admin/broadcasts/new", {**area, "step": "preview"})
    assert "1 recipient " in text(preview)
    bad = await admin.post(
        "/admin/broadcasts/new", {**area, "fallback_language": "pt", "step": "preview"}
    )
    assert bad.status_code == 422
    assert "the fallback language must have a text" in text(bad)
    assert "Journée de nettoyage samedi à 9 h." in html.unescape(bad.text)  # kept as typed


async def test_pages_refuse_what_the_api_refuses(
    signed_in: dict[str, Browser], services: Services
) -> None:
    admin = signed_in["admin"]
    sent = await admin.post(
        "/admin/broadcasts/new",
        {**broadcast_form(forum="kakuma-cpf", send_at="2030-01-01T10:00"), "step": "preview"},
    )
    checked = CHECKED.search(sent.text)
    assert checked
    created = await admin.post(
        "/admin/broadcasts/new",
        {**broadcast_form(forum="kakuma-cpf", send_at="2030-01-01T10:00"), "step": "send",
         "checked": checked.group(1)},
    )  # fmt: skip
    kakuma = created.headers["location"].split("?")[0]
    assert kakuma.startswith("/admin/broadcasts/")
    chair, focal, officer = signed_in["chair"], signed_in["focal"], signed_in["officer"]
    assert (await chair.get(kakuma)).status_code == 404
    assert (await signed_in["other_focal"].get(kakuma)).status_code == 200
    assert (await chair.post(f"{kakuma}/cancel", {})).status_code == 404
    assert (await focal.get("/admin/broadcasts/new")).status_code == 403
    assert (await focal.get("/admin/broadcasts")).status_code == 200
    for path in ("/admin/broadcasts", "/admin/meetings", "/admin/campaigns"):
        assert (await officer.get(path)).status_code == 403, path
    assert (await chair.get("/admin/campaigns")).status_code == 403
    assert (await chair.get("/admin/campaigns/new")).status_code == 403
    for kind in ("broadcasts", "meetings", "campaigns"):  # one item: none, or not yours
        for who, status in ((admin, 404), (officer, 403)):
            page = await who.get(f"/admin/{kind}/999999")
            assert page.status_code == status, (kind, status)
            assert "There is nothing here that you can open." in page.text
    away = await chair.post(
        "/admin/broadcasts/new", {**broadcast_form(forum="kakuma-cpf"), "step": "preview"}
    )
    assert away.status_code == 403
    forged = await chair.client.post("/admin/broadcasts/new", data=broadcast_form())
    assert forged.status_code == 403  # no CSRF token
    # The navigation offers what each role may open.
    nav = {
        role: re.findall(r'<a href="(/admin/\w+)">', (await b.get("/admin/dashboard")).text)
        for role, b in signed_in.items()
    }
    assert {"/admin/broadcasts", "/admin/meetings", "/admin/campaigns"} <= set(nav["admin"])
    assert "/admin/meetings" in nav["focal"] and "/admin/campaigns" not in nav["chair"]
    assert "/admin/broadcasts" not in nav["officer"]


async def test_a_focal_point_schedules_moves_and_cancels_a_meeting(
    signed_in: dict[str, Browser], services: Services
) -> None:
    focal = signed_in["focal"]
    form = await focal.get("/admin/meetings/new")
    assert 'value="1440, 120"' in form.text and "Kakuma" not in form.text
    day = (utcnow() + timedelta(days=4)).astimezone(ZoneInfo("Africa/Nairobi")).date()
    made = await focal.post(
        "/admin/meetings/new",
        {"forum": "eastleigh-cpf", "starts_at": f"{day}T17:00", "place": "Social hall",
         "agenda_en": "Lighting on 2nd Avenue", "reminders": "1440, 120"},
    )  # fmt: skip
    assert made.status_code == 303, made.text
    page = await focal.get(made.headers["location"])
    words = text(page)
    assert f"{day} 17:00 Africa/Nairobi" in words and "Social hall" in words
    assert "Coming: 0 · Not coming: 0" in words
    assert re.findall(r"(\d+) minutes before \d{4}-", words) == ["1440", "120"]  # the table
    url = made.headers["location"].split("?")[0]
    moved = await focal.post(f"{url}/reschedule", {"starts_at": f"{day}T18:30", "place": ""})
    assert moved.status_code == 303
    words = text(await focal.get(moved.headers["location"]))
    assert "Moved" in words and f"{day} 18:30" in words and "Social hall" in words
    cancelled = await focal.post(f"{url}/cancel", {})
    words = text(await focal.get(cancelled.headers["location"]))
    assert "Cancelled: those already reminded are told." in words
    assert 'id="reschedule"' not in (await focal.get(url)).text
    again = await focal.post(f"{url}/cancel", {})
    assert "already cancelled" in text(await focal.get(again.headers["location"]))
    listed = text(await focal.get("/admin/meetings"))
    assert "Social hall cancelled 0 0" in listed
    bad = await focal.post(
        "/admin/meetings/new",
        {"forum": "eastleigh-cpf", "starts_at": f"{day}T17:00", "place": "Hall",
         "reminders": "a day before"},
    )  # fmt: skip
    assert bad.status_code == 422 and "reminder_minutes" in text(bad)
    assert await count_rows(services, Meeting) == 1


async def test_an_admin_builds_a_series_sends_it_and_pauses_it(
    signed_in: dict[str, Browser], services: Services
) -> None:
    admin = signed_in["admin"]
    form = await admin.get("/admin/campaigns/new")
    assert form.text.count('class="card part"') == 3
    series = {
        "name": "Know the signs", "topic": "smuggling-warnings", "weekday": "2",
        "time": "18:00", "fallback_language": "en", "count": "3",
        "part_0_en": "Nobody can promise you a job abroad for a fee.",
        "part_1_en": "Keep your passport yourself.",
        "part_2_en": "Call 1195 if someone is held against their will.",
    }  # fmt: skip
    more = await admin.post("/admin/campaigns/new", {**series, "step": "more"})
    assert more.text.count('class="card part"') == 4
    assert "Keep your passport yourself." in more.text  # what was typed stays
    made = await admin.post("/admin/campaigns/new", {**series, "count": "4", "step": "create"})
    assert made.status_code == 303, made.text
    url = made.headers["location"].split("?")[0]
    words = text(await admin.get(made.headers["location"]))
    assert "Wednesdays at 18:00" in words and "Subscribers 0 · started 0 · finished 0" in words
    assert len(re.findall(r"<li>", (await admin.get(url)).text)) == 3  # the empty 4th left out
    sent = await admin.post(f"{url}/send-now", {})
    assert "next message goes now (3 time zones)" in text(await admin.get(sent.headers["location"]))
    paused = await admin.post(f"{url}/pause", {})
    assert "Paused." in text(await admin.get(paused.headers["location"]))
    refused = await admin.post(f"{url}/send-now", {})
    assert "paused" in text(await admin.get(refused.headers["location"]))
    assert (await admin.post(f"{url}/explode", {})).status_code == 404
    listing = text(await admin.get("/admin/campaigns"))
    assert "Know the signs" in listing and "paused" in listing
    async with services.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Campaign)) == 1
