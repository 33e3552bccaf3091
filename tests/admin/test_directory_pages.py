"""The directory pages over HTTP: admins add and edit areas, forums, units, categories and
staff accounts with forms (CSRF checked), each change audited and marked as a web edit;
other roles read the directory and are refused the forms.

Rows are made with fresh keys, in a fresh area, so the shared demo routes as before.
"""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select

from bot.models import Area, AuditEntry, Forum, StaffUser
from bot.services import Services
from tests.admin.conftest import token_for
from tests.admin.test_outbound_pages import Browser, app, signed_in  # noqa: F401 (fixtures)


async def audited(services: Services, target: str) -> list[tuple[str | None, str, str | None]]:
    async with services.sessions() as db:
        rows = await db.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.detail)
            .where(AuditEntry.target == target)
            .order_by(AuditEntry.id)
        )
        return [(actor, action, detail) for actor, action, detail in rows.all()]


async def test_an_admin_adds_and_edits_an_area_a_forum_and_a_category(
    signed_in: dict[str, Browser],  # noqa: F811
    services: Services,
) -> None:
    admin = signed_in["admin"]
    tag = uuid.uuid4().hex[:6]
    area, forum, category = f"ward-{tag}", f"forum-{tag}", f"cat-{tag}"
    listing = await admin.get("/admin/directory")
    assert 'href="/admin/directory/forums/eastleigh-cpf"' in listing.text
    assert "Add a staff account" in listing.text
    made = await admin.post("/admin/directory/areas/new", {
        "key": area, "name_en": "Ward Nine", "parent": "ke-nairobi", "level": "ward",
        "timezone": "Africa/Nairobi", "quiet_hours": "22:00-06:00",
    })  # fmt: skip
    assert made.status_code == 303 and made.headers["location"].startswith(
        f"/admin/directory/areas/{area}?done=Created"
    )
    bad_zone = await admin.post(f"/admin/directory/areas/{area}", {
        "name_en": "Ward Nine", "level": "ward", "timezone": "Mars/Olympus",
    })  # fmt: skip
    assert bad_zone.status_code == 422 and "unknown time zone" in bad_zone.text
    made = await admin.post("/admin/directory/forums/new", {
        "key": forum, "name_en": "Ward Nine Forum", "areas": [area], "active": "on",
    })  # fmt: skip
    assert made.status_code == 303
    again = await admin.post("/admin/directory/forums/new", {
        "key": forum, "name_en": "Twice", "areas": [area], "active": "on",
    })  # fmt: skip
    assert again.status_code == 409 and "exists" in again.text
    page = await admin.get(f"/admin/directory/forums/{forum}")
    assert 'value="Ward Nine Forum"' in page.text and f'value="{area}" checked' in page.text
    assert f'action="/admin/directory/forums/{forum}"' in page.text  # posts back here
    edited = await admin.post(f"/admin/directory/forums/{forum}", {
        "name_en": "Ward Nine Policing Forum", "name_fr": "Forum du quartier neuf",
        "areas": [area],  # "active" unticked: deactivated
    })  # fmt: skip
    assert edited.status_code == 303
    forums = {f["key"]: f for f in (await admin.get("/api/v1/forums")).json()}
    assert forums[forum]["names"]["fr"] == "Forum du quartier neuf"
    assert forums[forum]["active"] is False
    made = await admin.post("/admin/directory/categories/new", {
        "key": category, "name_en": "Stray dogs", "routes_to": "forum",  # not offered yet
    })  # fmt: skip
    assert made.status_code == 303
    async with services.sessions() as db:
        row = await db.scalar(select(Forum).where(Forum.key == forum))
        assert row is not None and set(row.web_edits) == {"created", "names", "active"}
        ward = await db.scalar(select(Area).where(Area.key == area))
        assert ward is not None and ward.quiet_hours == "22:00-06:00"
    actions = await audited(services, f"forum:{forum}")
    assert [a for _, a, _ in actions] == ["directory_change"] * 2
    assert actions[0][0] == "programme@baraza.example" and actions[0][2] == "created"
    assert (await audited(services, f"area:{area}"))[0][1] == "directory_change"


async def test_other_roles_read_the_directory_but_get_no_forms(
    signed_in: dict[str, Browser],  # noqa: F811
) -> None:
    chair = signed_in["chair"]
    listing = await chair.get("/admin/directory")
    assert listing.status_code == 200 and "Eastleigh" in listing.text
    assert "/admin/directory/forums/eastleigh-cpf" not in listing.text
    assert "Add a staff account" not in listing.text
    assert (await chair.get("/admin/directory/forums/eastleigh-cpf")).status_code == 403
    refused = await chair.post("/admin/directory/forums/eastleigh-cpf", {"name_en": "Mine"})
    assert refused.status_code == 403
    forged = await signed_in["admin"].client.post(  # the admin's cookie, no form token
        "/admin/directory/forums/eastleigh-cpf", data={"name_en": "Forged"}
    )
    assert forged.status_code == 403


async def test_staff_accounts_are_made_given_forums_deactivated_and_reset(
    api: httpx.AsyncClient,  # first: its accounts fixture ends every session
    signed_in: dict[str, Browser],  # noqa: F811
    services: Services,
) -> None:
    admin = signed_in["admin"]
    email = f"new.chair.{uuid.uuid4().hex[:6]}@baraza.example"
    made = await admin.post("/admin/directory/staff/new", {
        "email": email, "name": "Neema Chair", "role": "forum_chair", "language": "en",
        "password": "a good long password", "forum_kakuma-cpf": "chair",
    })  # fmt: skip
    assert made.status_code == 303
    staff_id = made.headers["location"].split("/")[-1].split("?")[0]
    token = await token_for(api, email, "a good long password")
    me = await api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and len(me.json()["forum_ids"]) == 1
    page = await admin.get(f"/admin/directory/staff/{staff_id}")
    assert email in page.text and '<option value="chair" selected>' in page.text
    # Another forum instead, a new password, and deactivated: the token stops at once.
    saved = await admin.post(f"/admin/directory/staff/{staff_id}", {
        "name": "Neema Chair", "role": "focal_point", "language": "en",
        "forum_eastleigh-cpf": "focal_point", "password": "another long password",
    })  # fmt: skip
    assert saved.status_code == 303
    gone = await api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 401
    signing_in = await api.post(
        "/api/v1/auth/token", data={"username": email, "password": "another long password"}
    )
    assert signing_in.status_code == 401  # inactive: the right password does not open it
    people = {p["email"]: p for p in (await admin.get("/api/v1/staff")).json()}
    assert people[email]["forums"] == {"eastleigh-cpf": "focal_point"}
    assert people[email]["role"] == "focal_point" and people[email]["active"] is False
    [created, changed] = await audited(services, email)
    assert created[1:] == ("staff_change", "created")
    assert changed[2] is not None and "active=False" in changed[2]
    assert "forums=eastleigh-cpf:focal_point" in changed[2] and "password reset" in changed[2]
    assert "another long password" not in changed[2]
    async with services.sessions() as db:
        user = await db.scalar(select(StaffUser).where(StaffUser.email == email))
        assert user is not None and {"memberships", "role", "active"} <= set(user.web_edits)
    # Serving nowhere again: the deployment file lists no such person, and a later import
    # of it into this shared database must find no web edit to undo.
    cleared = await admin.post(f"/admin/directory/staff/{staff_id}", {
        "name": "Neema Chair", "role": "focal_point", "language": "en",
    })  # fmt: skip
    assert cleared.status_code == 303
    # An admin cannot lock themselves out.
    me_admin = (await admin.get("/api/v1/auth/me")).json()
    locked = await admin.post(f"/admin/directory/staff/{me_admin['id']}", {
        "name": me_admin["name"], "role": "admin", "language": "en",
    })  # fmt: skip
    assert locked.status_code == 409 and "lock yourself out" in locked.text
