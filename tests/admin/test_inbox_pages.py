"""The inbox's filters and paging in the API and the page, and assignment from the case
page: only to someone who could open the case, audited."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from bot.models import AuditEntry, StaffUser
from bot.models.base import utcnow
from bot.services import Services
from tests.admin.conftest import Staff
from tests.admin.test_cases_api import report
from tests.admin.test_outbound_pages import Browser, app, signed_in  # noqa: F401 (fixtures)

CODES = re.compile(r'href="/admin/cases/([A-Z]{3}-[A-Z]{3})"')


async def test_every_filter_and_paging_in_the_api_and_the_page(
    staff: dict[str, Staff],
    signed_in: dict[str, Browser],  # noqa: F811
    make_person,
) -> None:
    eastleigh = [await report(make_person()) for _ in range(2)]
    kakuma = await report(make_person(), place="Kakuma")
    admin = staff["admin"]

    async def listed(**params: object) -> list[str]:
        answer = await admin.get("/api/v1/cases", params=params)
        assert answer.status_code == 200, answer.text
        return [c["reference"] for c in answer.json()["items"]]

    assert set(await listed()) == {*eastleigh, kakuma}
    assert set(await listed(forum="eastleigh-cpf")) == set(eastleigh)
    assert await listed(forum="kakuma-cpf", category="theft", status="new") == [kakuma]
    assert set(await listed(area="ke-nairobi")) == set(eastleigh)  # an area and below
    assert await listed(category="gbv") == []
    tomorrow = (utcnow() + timedelta(days=1)).isoformat()
    yesterday = (utcnow() - timedelta(days=1)).isoformat()
    assert len(await listed(since=yesterday, until=tomorrow)) == 3
    assert await listed(since=tomorrow) == [] and await listed(until=yesterday) == []
    pages = [await listed(per_page=2, page=n) for n in (1, 2, 3)]
    assert [len(p) for p in pages] == [2, 1, 0] and set(pages[0] + pages[1]) == {*eastleigh, kakuma}
    assert (await admin.get("/api/v1/cases", params={"per_page": 500})).status_code == 422

    page = await signed_in["admin"].get("/admin/cases?forum=kakuma-cpf")
    assert CODES.findall(page.text) == [kakuma] and 'value="kakuma-cpf" selected' in page.text
    today = utcnow().date()
    dated = await signed_in["admin"].get(f"/admin/cases?since={today}&until={today}")
    assert set(CODES.findall(dated.text)) == {*eastleigh, kakuma}
    later = await signed_in["admin"].get(f"/admin/cases?since={today + timedelta(days=1)}")
    assert CODES.findall(later.text) == [] and "No cases match." in later.text
    second = await signed_in["admin"].get("/admin/cases?status=new&forum=eastleigh-cpf&page=2")
    assert 'href="?status=new&amp;forum=eastleigh-cpf&amp;page=1"' in second.text
    # A focal point's filter cannot reach past their forums.
    other = await signed_in["focal"].get("/admin/cases?forum=kakuma-cpf")
    assert CODES.findall(other.text) == []


async def test_a_case_is_assigned_from_its_page_to_someone_who_may_open_it(
    signed_in: dict[str, Browser],  # noqa: F811
    make_person,
    services: Services,
) -> None:
    code = await report(make_person())
    focal = signed_in["focal"]
    page = await focal.get(f"/admin/cases/{code}")
    offered = re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', page.text)
    names = {name.split(" (")[0] for _, name in offered}
    assert {"Amina Yusuf", "Peter Mwangi"} <= names  # the forum's people
    assert "Grace Achieng" not in names and "Joseph Ekal" not in names  # not theirs
    peter = next(i for i, name in offered if name.startswith("Peter"))
    done = await focal.post(f"/admin/cases/{code}", {"action": "assign", "assignee": peter})
    assert done.status_code == 303 and "Assigned%20to%20Peter" in done.headers["location"]
    shown = await focal.get(f"/admin/cases/{code}")
    assert "Assigned to Peter Mwangi." in shown.text
    assert f'<option value="{peter}" selected>' in shown.text
    grace = await staff_id(services, "grace@baraza.example")
    refused = await focal.post(f"/admin/cases/{code}", {"action": "assign", "assignee": grace})
    assert "cannot%20work%20this%20case" in refused.headers["location"]
    async with services.sessions() as db:
        entries = (
            await db.execute(
                select(AuditEntry.actor, AuditEntry.target).where(
                    AuditEntry.action == "case_assign"
                )
            )
        ).all()
    assert ("amina@baraza.example", "peter@baraza.example") in entries


async def staff_id(services: Services, email: str) -> str:
    async with services.sessions() as db:
        return str(await db.scalar(select(StaffUser.id).where(StaffUser.email == email)))
