"""The staff API end to end: sign-in, who sees which case, the relay, closing the loop."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from sqlalchemy import select, text, update

from bot.models import AuditEntry, OutboxMessage, StaffUser
from bot.services import Services
from bot.staff import hash_password
from tests.admin.conftest import PASSWORD, Staff, audit_actions, last_audit_id
from tests.flows.test_protection import NARRATIVE, answer_all, enter
from tests.support import Person, restore_demo_directory

CODE = re.compile(r"\b([A-Z]{3}-[A-Z]{3})\b")


async def report(
    person: Person, place: str = "Eastleigh", words: str = "My shop was robbed."
) -> str:
    """A concern through the whole console pipeline; returns its code (ABC-DEF)."""
    await person.send("hello")  # English, detected
    await person.send("1")  # report
    await person.send("1")  # theft
    await person.send(place)
    await person.send(words)
    await person.send("1")  # anonymous
    found = CODE.search(await person.send("yes"))
    assert found
    return found.group(1)


async def protection_case(person: Person) -> str:
    await enter(person)
    await answer_all(person, consent="yes")
    found = CODE.search(await person.send("yes"))  # and to the service
    assert found
    return found.group(1)


# ------------------------------------------------------------------ signing in


async def test_sign_in_gives_a_token_and_wrong_passwords_are_throttled(
    api: httpx.AsyncClient, accounts: dict[str, str], services: Services
) -> None:
    good = await api.post(
        "/api/v1/auth/token", data={"username": accounts["focal"], "password": PASSWORD}
    )
    assert good.status_code == 200 and good.json()["token_type"] == "bearer"
    me = await api.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {good.json()['access_token']}"}
    )
    assert me.json()["email"] == accounts["focal"] and me.json()["forum_ids"]
    assert (await api.get("/api/v1/auth/me")).status_code == 401
    email = f"temp-{uuid.uuid4().hex[:8]}@baraza.example"  # failures stay in the audit log
    async with services.sessions() as db, db.begin():
        db.add(StaffUser(email=email, name="Temp", role="viewer", language="en",
                         password_hash=hash_password(PASSWORD), active=True))  # fmt: skip
    bad = {"username": email, "password": "wrong password!"}
    codes = [(await api.post("/api/v1/auth/token", data=bad)).status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    # Even the right password waits now: the limit is per account, checked first.
    right = {"username": email, "password": PASSWORD}
    assert (await api.post("/api/v1/auth/token", data=right)).status_code == 429
    actions = [a for actor, a in await audit_actions(services) if actor == email]
    assert actions == ["login_failed"] * 5 + ["login_throttled"] * 2


async def test_the_audit_log_cannot_be_edited_or_deleted(services: Services) -> None:
    async with services.sessions() as db, db.begin():
        db.add(AuditEntry(action="probe", actor="test"))
    for statement in (
        update(AuditEntry).values(actor="someone else"),
        text("DELETE FROM audit_log"),
    ):
        async with services.sessions() as db:
            with pytest.raises(Exception, match="append-only"):
                await db.execute(statement)
                await db.commit()


# ------------------------------------------------------------------ the permission matrix

OK, NO, NF = 200, 403, 404  # allowed, forbidden (403), not found (404)
# Who reads what: a case of their forum, a case of another forum, a protection case of
# Grace's unit; then the inbox, the audit log, the staff list, the stats, the cases export.
MATRIX = {
    "admin": (OK, OK, NF, OK, OK, OK, OK, OK),
    "chair": (OK, NF, NF, OK, NO, NO, OK, OK),
    "focal": (OK, NF, NF, OK, NO, NO, OK, OK),
    "other_focal": (NF, OK, NF, OK, NO, NO, OK, OK),
    "officer": (NF, NF, OK, OK, NO, NO, OK, OK),
    "other_officer": (NF, NF, NF, OK, NO, NO, OK, OK),
    "viewer": (NO, NO, NO, NO, NO, NO, OK, NO),
}  # fmt: skip


async def test_every_role_against_every_resource(
    staff: dict[str, Staff], make_person, services: Services
) -> None:
    eastleigh = await report(make_person())
    kakuma = await report(make_person(), place="Kakuma")
    protection = await protection_case(make_person())
    paths = (
        f"/api/v1/cases/{eastleigh}",
        f"/api/v1/cases/{kakuma}",
        f"/api/v1/cases/{protection}",
        "/api/v1/cases",
        "/api/v1/audit",
        "/api/v1/staff",
        "/api/v1/stats",
        "/api/v1/exports/cases.csv",
    )
    seen = {
        role: tuple([(await staff[role].get(path)).status_code for path in paths])
        for role in MATRIX
    }
    assert seen == MATRIX
    # The lists agree with the reads: nobody's inbox holds a case they could not open.
    for role, expected in MATRIX.items():
        if expected[3] != OK:
            continue
        listed = {c["reference"] for c in (await staff[role].get("/api/v1/cases")).json()["items"]}
        codes = (eastleigh, kakuma, protection)
        readable = {code for code, s in zip(codes, expected[:3], strict=True) if s == OK}
        assert listed == readable, role
    # Writes follow the same scope: a chair cannot touch another forum's case.
    other = await staff["chair"].post(f"/api/v1/cases/{kakuma}/notes", json={"text": "mine?"})
    assert other.status_code == 404
    assert (
        await staff["viewer"].post(f"/api/v1/cases/{eastleigh}/notes", json={"text": "x"})
    ).status_code == 403
    assert (
        await staff["focal"].patch("/api/v1/categories/theft", json={"active": False})
    ).status_code == 403


async def test_each_read_of_a_protection_case_is_audited_and_nothing_names_the_reporter(
    staff: dict[str, Staff], person: Person, services: Services
) -> None:
    code = await protection_case(person)
    before = await last_audit_id(services)
    first = await staff["officer"].get(f"/api/v1/cases/{code}")
    second = await staff["officer"].get(f"/api/v1/cases/{code}")
    assert first.status_code == second.status_code == 200
    body = first.json()
    assert body["description"] == NARRATIVE and body["kind"] == "protection"
    assert body["may_contact"] is True and body["contact_time"] == "weekdays after 2 pm"
    assert person.name not in first.text  # no address, no chat id, anywhere in the answer
    [case] = await person.cases()
    reads = [a for a in await audit_actions(services, case.id, after=before) if a[1] == "case_read"]
    assert reads == [("grace@baraza.example", "case_read")] * 2
    # The protection case is in nobody's export; its count is in the aggregates.
    export = await staff["admin"].get("/api/v1/exports/cases.csv")
    assert code not in export.text and NARRATIVE not in export.text
    aggregates = await staff["viewer"].get("/api/v1/exports/aggregates.csv")
    assert "protection_outcome,12 weeks,referred,1" in aggregates.text
    stats = (await staff["chair"].get("/api/v1/stats")).json()
    assert stats["protection"] is None  # forum staff do not see protection counts


# ------------------------------------------------------------------ working a case


async def test_status_assignment_notes_and_the_reporter_hears_what_matters(
    staff: dict[str, Staff], person: Person, services: Services
) -> None:
    code = await report(person)
    focal = staff["focal"]
    ack = await focal.post(
        f"/api/v1/cases/{code}/status", json={"status": "acknowledged", "reason": "seen"}
    )
    assert ack.status_code == 204
    assert f"Your concern {code} has been read by the team" in await person.collect()
    again = await focal.post(f"/api/v1/cases/{code}/status", json={"status": "acknowledged"})
    assert again.status_code == 409
    bad = await focal.post(f"/api/v1/cases/{code}/status", json={"status": "done"})
    assert bad.status_code == 422
    note = await focal.post(f"/api/v1/cases/{code}/notes", json={"text": "Call the OCS."})
    assert note.status_code == 201
    assert await person.collect() == ""  # a note is never sent
    me = (await focal.get("/api/v1/auth/me")).json()
    assert (
        await focal.post(f"/api/v1/cases/{code}/assign", json={"staff_id": me["id"]})
    ).status_code == 204
    officer_id = (await staff["officer"].get("/api/v1/auth/me")).json()["id"]
    refused = await focal.post(f"/api/v1/cases/{code}/assign", json={"staff_id": officer_id})
    assert refused.status_code == 422  # not staff of this forum
    detail = (await focal.get(f"/api/v1/cases/{code}")).json()
    assert detail["assigned_to"] == "Amina Yusuf" and detail["acknowledged_at"]
    kinds = [(e["kind"], e["text"]) for e in detail["timeline"]]
    assert ("inbound", "My shop was robbed.") in kinds
    assert ("event", "new → acknowledged: seen") in kinds and ("note", "Call the OCS.") in kinds
    listed = (await focal.get("/api/v1/cases", params={"status": "acknowledged"})).json()
    assert [c["reference"] for c in listed["items"]] == [code]
    assert (
        await focal.get("/api/v1/cases", params={"status": "new", "area": "ke-eastleigh"})
    ).json()["total"] == 0


async def test_the_relay_goes_both_ways_without_names(
    staff: dict[str, Staff], person: Person, services: Services
) -> None:
    code = await report(person)
    sent = await staff["focal"].post(
        f"/api/v1/cases/{code}/replies", json={"text": "Which shop was it?"}
    )
    assert sent.status_code == 201 and sent.json()["delivered_as"] == "conversation"
    relayed = await person.collect()
    assert relayed.startswith(f"{code}: Which shop was it?") and "Amina" not in relayed
    assert "Thank you. Your message was added to" in await person.send("The pharmacy on 3rd street")
    # Later, any message that starts with the code goes to the same timeline.
    await person.send("menu")
    assert code in await person.send(f"{code.lower()} they came back last night")
    timeline = (await staff["focal"].get(f"/api/v1/cases/{code}")).json()["timeline"]
    texts = [(e["kind"], e["text"], e["by"]) for e in timeline]
    assert ("outbound", "Which shop was it?", "Amina Yusuf") in texts
    assert ("inbound", "The pharmacy on 3rd street", None) in texts
    assert ("inbound", "they came back last night", None) in texts
    # A code of someone else's case is just text to the bot.
    stranger_reply = await Person(services, person.channel).send(f"{code} hello")
    assert "added to" not in stranger_reply


async def test_resolution_asks_one_satisfaction_question(
    staff: dict[str, Staff], person: Person, services: Services
) -> None:
    code = await report(person)
    done = await staff["focal"].post(
        f"/api/v1/cases/{code}/status", json={"status": "resolved", "reason": "recovered"}
    )
    assert done.status_code == 204
    question = await person.collect()
    assert f"Your concern {code} has been resolved" in question and "5 Very satisfied" in question
    assert "Anything you would like to add" in await person.send("4")
    assert "Thank you. Your answer helps" in await person.send("Quick and kind.")
    [case] = await person.cases()
    assert case.satisfaction == 4 and case.satisfaction_comment == "Quick and kind."
    stats = (await staff["focal"].get("/api/v1/stats")).json()
    assert stats["satisfaction"]["distribution"]["4"] == 1 and stats["hours_to_resolve"] is not None


async def test_a_protection_officer_writes_only_with_consent_and_never_names_the_subject_on_sms(
    staff: dict[str, Staff], make_person, services: Services
) -> None:
    survivor = make_person()
    code = await protection_case(survivor)
    officer = staff["officer"]
    sent = await officer.post(
        f"/api/v1/cases/{code}/replies", json={"text": "We can meet on Friday."}
    )
    assert sent.status_code == 201
    assert (await survivor.collect()).startswith(f"{code}: We can meet on Friday.")
    async with services.sessions() as db:
        kinds = set(
            await db.scalars(select(OutboxMessage.kind).where(OutboxMessage.case_id.is_not(None)))
        )
    assert "protection" in kinds  # erased by a quick exit, scrubbed once sent
    # On SMS, words that name the subject are refused.
    [case] = await survivor.cases()
    async with services.sessions() as db, db.begin():
        await db.execute(
            text("UPDATE contacts SET channel = 'sms' WHERE id = :id"), {"id": case.contact_id}
        )
    named = await officer.post(
        f"/api/v1/cases/{code}/replies", json={"text": "About the violence you reported"}
    )
    assert named.status_code == 409 and "violence" in named.json()["detail"]
    # Recording actions: contacted, referred to a service, closed.
    for action in (
        {"action": "contacted"},
        {"action": "referred", "service": "health"},
        {"action": "closed"},
    ):
        assert (await officer.post(f"/api/v1/cases/{code}/actions", json=action)).status_code == 204
    detail = (await officer.get(f"/api/v1/cases/{code}")).json()
    assert detail["status"] == "closed" and detail["closed_at"]
    assert "referred to health" in [e["text"] for e in detail["timeline"]]
    # A survivor who asked not to be contacted cannot be written to.
    quiet = make_person()
    await enter(quiet)
    await quiet.send("1")
    await quiet.send("1")
    await quiet.send("Eastleigh")
    await quiet.send("skip")
    consent = await quiet.send("3")  # do not contact me
    found = CODE.search(await quiet.send("1") if "receive" in consent else consent)
    if found:
        refused = await officer.post(
            f"/api/v1/cases/{found.group(1)}/replies", json={"text": "Hello"}
        )
        assert refused.status_code == 409


async def test_cookie_sessions_need_the_csrf_token(
    api: httpx.AsyncClient, accounts: dict[str, str], person: Person
) -> None:
    code = await report(person)
    signed_in = await api.post(
        "/admin/login", data={"email": accounts["focal"], "password": PASSWORD}
    )
    assert signed_in.status_code == 303
    cookie = signed_in.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    page = await api.get(f"/admin/cases/{code}")
    assert page.status_code == 200 and "My shop was robbed." in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    forged = await api.post(f"/admin/cases/{code}", data={"action": "note", "text": "x"})
    assert forged.status_code == 403
    noted = await api.post(
        f"/admin/cases/{code}", data={"action": "note", "text": "ok", "csrf": csrf.group(1)}
    )
    assert noted.status_code == 303
    no_header = await api.post(f"/api/v1/cases/{code}/notes", json={"text": "x"})
    assert no_header.status_code == 403  # the cookie alone does not authorise a change
    with_header = await api.post(
        f"/api/v1/cases/{code}/notes", json={"text": "y"}, headers={"X-CSRF-Token": csrf.group(1)}
    )
    assert with_header.status_code == 201


async def test_directory_edits_are_admin_only_and_audited(
    staff: dict[str, Staff], services: Services
) -> None:
    admin = staff["admin"]
    before = await last_audit_id(services)
    try:
        renamed = await admin.patch(
            "/api/v1/categories/theft", json={"names": {"en": "Theft", "fr": "Vol"}}
        )
        assert renamed.status_code == 200 and renamed.json()["names"]["en"] == "Theft"
        created = await admin.post("/api/v1/staff", json={
            "email": "new.officer@baraza.example", "name": "New Officer",
            "role": "protection_officer", "password": "a long enough password",
            "units": {"nairobi-gbv": "officer"},
        })  # fmt: skip
        assert created.status_code == 201
        assert (
            await admin.post(
                "/api/v1/staff", json={**created.json(), "password": "x" * 12, "role": "viewer"}
            )
        ).status_code == 409
        assert [
            a for _, a in await audit_actions(services, after=before) if a.endswith("_change")
        ] == [
            "directory_change",
            "staff_change",
        ]
        units = {u["key"]: u for u in (await admin.get("/api/v1/units")).json()}
        assert "ke-nairobi" in units["nairobi-gbv"]["areas"]
    finally:
        await restore_demo_directory(services)


async def test_the_simulator_talks_like_each_channel(staff: dict[str, Staff]) -> None:
    admin = staff["admin"]
    telegram = (
        await admin.post("/api/v1/simulator/messages", json={"channel": "telegram", "text": "ok"})
    ).json()
    [menu] = telegram["replies"]
    assert {"label": "English", "value": "en"} in menu["choices"] and menu["segments"] is None
    english = (
        await admin.post("/api/v1/simulator/messages", json={"channel": "telegram", "button": "en"})
    ).json()
    assert any(c["label"] == "Report a concern" for r in english["replies"] for c in r["choices"])
    sms = (
        await admin.post("/api/v1/simulator/messages", json={"channel": "sms", "text": "ok"})
    ).json()
    [menu] = sms["replies"]
    assert "1 English" in menu["text"] and menu["choices"] == [] and menu["segments"] >= 1


async def test_the_openapi_document_describes_every_staff_route(api: httpx.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()
    paths = document["paths"]
    for path in (
        "/api/v1/auth/token", "/api/v1/cases", "/api/v1/cases/{reference}",
        "/api/v1/cases/{reference}/status", "/api/v1/cases/{reference}/replies",
        "/api/v1/cases/{reference}/notes", "/api/v1/cases/{reference}/assign",
        "/api/v1/cases/{reference}/actions", "/api/v1/stats", "/api/v1/exports/cases.csv",
        "/api/v1/audit", "/api/v1/staff", "/api/v1/areas", "/api/v1/simulator/messages",
    ):  # fmt: skip
        assert path in paths, path
    assert not any(p.startswith("/admin") for p in paths)  # pages are not API
    assert "OAuth2PasswordBearer" in document["components"]["securitySchemes"]
    assert (await api.get("/docs")).status_code == 200
