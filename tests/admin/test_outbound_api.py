"""The broadcasts, meetings and campaigns API: who may do what (the permission matrix),
the preview's figures, meetings in the forum's time zone with their answers, campaigns
and their reach, audited changes, and a complete OpenAPI description.

Delivery to the providers' fake servers is in ``test_broadcast_delivery.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import delete, select, update

from admin.security import issue_token
from bot.contacts import find_or_create_contact
from bot.models import (
    Area,
    Contact,
    Forum,
    ForumMember,
    ForumStaff,
    StaffUser,
    Topic,
    TopicSubscription,
)
from bot.models.base import utcnow
from bot.services import Services
from bot.urns import parse
from tests.admin.conftest import ACCOUNTS, Staff, audit_actions, last_audit_id
from tests.support import Person

OK, NO, NF = 200, 403, 404


@pytest.fixture
async def team(api: httpx.AsyncClient, services: Services) -> dict[str, Staff]:
    """The programme admin, Eastleigh's chair and its focal point, with API tokens issued
    straight away: signing in is tested with the cases, and each one is an argon2 check."""
    tokens = {}
    async with services.sessions() as db, db.begin():
        for role in ("admin", "chair", "focal"):
            user = await db.scalar(select(StaffUser).where(StaffUser.email == ACCOUNTS[role]))
            assert user is not None
            user.active = True
            tokens[role], _ = await issue_token(db, user, "api")
    return {role: Staff(api, token) for role, token in tokens.items()}


def ok(code: int) -> int:
    return OK if code in (200, 201) else code


async def join(
    services: Services,
    urn: str,
    *,
    forum: str | None = "kakuma-cpf",
    topic: str | None = None,
    language: str | None = None,
    area: str | None = None,
    stopped: bool = False,
) -> int:
    """A contact as a test needs it, a member of ``forum`` and follower of ``topic``
    (joined "through the bot", so the next test's wipe removes the membership)."""
    async with services.sessions() as db, db.begin():
        contact, _, _ = await find_or_create_contact(db, parse(urn))
        area_id = await db.scalar(select(Area.id).where(Area.key == area)) if area else None
        await db.execute(
            update(Contact)
            .where(Contact.id == contact.id)
            .values(language=language, area_id=area_id, opted_out=stopped)
        )
        if forum:
            forum_id = await db.scalar(select(Forum.id).where(Forum.key == forum))
            db.add(ForumMember(forum_id=forum_id, contact_id=contact.id, source="bot"))
        if topic:
            topic_id = await db.scalar(select(Topic.id).where(Topic.key == topic))
            db.add(TopicSubscription(topic_id=topic_id, contact_id=contact.id))
    return contact.id


def later(**delta: float) -> str:
    return (utcnow() + timedelta(**delta)).isoformat()


def announcement(forum: str = "eastleigh-cpf", **extra: Any) -> dict[str, Any]:
    return {
        "audience": "forum",
        "forum": forum,
        "texts": {"en": "Patrols start on Monday.", "fr": "Les patrouilles commencent lundi."},
        "fallback_language": "en",
        "send_at": later(days=2),  # not sent while the test runs
        **extra,
    }


def meeting(forum: str = "eastleigh-cpf", **extra: Any) -> dict[str, Any]:
    return {"forum": forum, "starts_at": later(days=3), "place": "Chief's camp", **extra}


# ------------------------------------------------------------------ the permission matrix

# Preview to their forum's members, preview to all subscribers, the list, Eastleigh's
# broadcast, Kakuma's; schedule an Eastleigh meeting, the list, Eastleigh's meeting,
# Kakuma's; topics, campaigns, one campaign.
MATRIX = {
    "admin": (OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK),
    "chair": (OK, NO, OK, OK, NF, OK, OK, OK, NF, NO, NO, NO),
    "focal": (NO, NO, OK, OK, NF, OK, OK, OK, NF, NO, NO, NO),
    "other_focal": (NO, NO, OK, NF, OK, NO, OK, NF, OK, NO, NO, NO),
    "officer": (NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO),
    "other_officer": (NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO),
    "viewer": (NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO),
}  # fmt: skip


async def test_every_role_against_broadcasts_meetings_and_campaigns(
    staff: dict[str, Staff],
) -> None:
    admin = staff["admin"]
    eastleigh = (await staff["chair"].post("/api/v1/broadcasts", json=announcement())).json()
    kakuma = (await admin.post("/api/v1/broadcasts", json=announcement("kakuma-cpf"))).json()
    east_meeting = (await staff["focal"].post("/api/v1/meetings", json=meeting())).json()
    kakuma_meeting = (await admin.post("/api/v1/meetings", json=meeting("kakuma-cpf"))).json()
    campaign = await admin.post("/api/v1/campaigns", json=series())
    assert campaign.status_code == 201, campaign.text
    everyone = {**announcement(), "audience": "all", "forum": None}

    async def row(person: Staff) -> tuple[int, ...]:
        calls = (
            person.post("/api/v1/broadcasts/preview", json=announcement()),
            person.post("/api/v1/broadcasts/preview", json=everyone),
            person.get("/api/v1/broadcasts"),
            person.get(f"/api/v1/broadcasts/{eastleigh['id']}"),
            person.get(f"/api/v1/broadcasts/{kakuma['id']}"),
            person.post("/api/v1/meetings", json=meeting()),
            person.get("/api/v1/meetings"),
            person.get(f"/api/v1/meetings/{east_meeting['id']}"),
            person.get(f"/api/v1/meetings/{kakuma_meeting['id']}"),
            person.get("/api/v1/topics"),
            person.get("/api/v1/campaigns"),
            person.get(f"/api/v1/campaigns/{campaign.json()['id']}"),
        )
        return tuple([ok((await call).status_code) for call in calls])

    assert {role: await row(staff[role]) for role in MATRIX} == MATRIX
    # The lists agree with the reads.
    both = {"eastleigh-cpf", "kakuma-cpf"}
    for role, forums in (
        ("admin", both),
        ("chair", {"eastleigh-cpf"}),
        ("focal", {"eastleigh-cpf"}),
        ("other_focal", {"kakuma-cpf"}),
    ):
        listed = (await staff[role].get("/api/v1/broadcasts")).json()["items"]
        assert {b["forum"] for b in listed} == forums and len(listed) == len(forums), role
        meetings = (await staff[role].get("/api/v1/meetings")).json()["upcoming"]
        assert {m["forum"] for m in meetings} == forums, role
    # Writes follow the same rules.
    chair, focal = staff["chair"], staff["focal"]
    assert (await chair.post("/api/v1/broadcasts", json=everyone)).status_code == 403
    area = {**announcement(), "audience": "area", "forum": None, "area": "ke-nairobi"}
    assert (await chair.post("/api/v1/broadcasts", json=area)).status_code == 403
    other = await chair.post("/api/v1/broadcasts", json=announcement("kakuma-cpf"))
    assert other.status_code == 403
    assert (await focal.post("/api/v1/broadcasts", json=announcement())).status_code == 403
    assert (await chair.post(f"/api/v1/broadcasts/{kakuma['id']}/cancel")).status_code == 404
    assert (await focal.post(f"/api/v1/broadcasts/{eastleigh['id']}/cancel")).status_code == 403
    moved = {"starts_at": later(days=4)}
    path = f"/api/v1/meetings/{kakuma_meeting['id']}"
    assert (await focal.post(f"{path}/reschedule", json=moved)).status_code == 404
    assert (await focal.post(f"{path}/cancel")).status_code == 404
    assert (await staff["viewer"].post(f"{path}/cancel")).status_code == 403
    for action in ("send-now", "pause", "resume"):
        response = await chair.post(f"/api/v1/campaigns/{campaign.json()['id']}/{action}")
        assert response.status_code == 403
    assert (await chair.post("/api/v1/campaigns", json=series())).status_code == 403
    assert (await admin.get("/api/v1/broadcasts/999999")).status_code == 404
    assert (await admin.get("/api/v1/meetings/999999")).status_code == 404
    assert (await admin.get("/api/v1/campaigns/999999")).status_code == 404


async def test_a_chair_broadcasts_only_to_the_forums_they_chair(
    team: dict[str, Staff], services: Services
) -> None:
    """Peter, chair of Eastleigh, is made a focal point of Kakuma too: he reads Kakuma's
    broadcasts and runs its meetings, but broadcasts only where he chairs (as /announce)."""
    async with services.sessions() as db, db.begin():
        kakuma = await db.scalar(select(Forum.id).where(Forum.key == "kakuma-cpf"))
        peter = await db.scalar(select(StaffUser.id).where(StaffUser.email == ACCOUNTS["chair"]))
        assert kakuma is not None and peter is not None
        db.add(ForumStaff(forum_id=kakuma, staff_id=peter, role="focal_point"))
    try:
        theirs = await team["admin"].post("/api/v1/broadcasts", json=announcement("kakuma-cpf"))
        chair = team["chair"]
        assert (await chair.get(f"/api/v1/broadcasts/{theirs.json()['id']}")).status_code == 200
        refused = await chair.post("/api/v1/broadcasts", json=announcement("kakuma-cpf"))
        assert refused.status_code == 403 and "forums they chair" in refused.json()["detail"]
        preview = await chair.post("/api/v1/broadcasts/preview", json=announcement("kakuma-cpf"))
        assert preview.status_code == 403
        assert (
            await chair.post(f"/api/v1/broadcasts/{theirs.json()['id']}/cancel")
        ).status_code == 403
        met = await chair.post("/api/v1/meetings", json=meeting("kakuma-cpf"))
        assert met.status_code == 201
    finally:
        async with services.sessions() as db, db.begin():
            await db.execute(
                delete(ForumStaff).where(
                    ForumStaff.forum_id == kakuma, ForumStaff.staff_id == peter
                )
            )


# ------------------------------------------------------------------ broadcasts


async def test_the_preview_counts_people_languages_channels_segments_and_time(
    team: dict[str, Staff], services: Services
) -> None:
    for urn, language, area in (
        ("telegram:7100001", "en", "ke-kakuma"),
        ("telegram:7100002", "en", "ke-kakuma"),
        ("tel:+254711000301", "fr", "ke-kakuma"),
        ("tel:+254711000302", None, None),  # no language chosen: the deployment's default
        ("whatsapp:+254711000303", "pt", "ke-kakuma"),
    ):
        await join(services, urn, language=language, area=area)
    await join(services, "tel:+254711000304", language="fr", stopped=True)
    body = {
        **announcement("kakuma-cpf"),
        "texts": {
            "en": "The water point on Road 4 opens on Monday at 8.",
            "fr": "Le point d'eau de la route 4 ouvre lundi à 8 h. Apportez vos bidons, les "
            "volontaires du forum seront là pour organiser la file d'attente dans le calme.",
        },
    }
    response = await team["admin"].post("/api/v1/broadcasts/preview", json=body)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "recipients": 5,
        "stopped": 1,
        "by_language": {"en": 3, "fr": 1, "pt": 1},
        "by_channel": {"telegram": 2, "sms": 2, "whatsapp": 1},
        "fallback_readers": 1,  # Portuguese: the English text, in a Portuguese frame
        "sms_segments": {"en": 1, "fr": 2, "pt": 2},
        "seconds_to_send": 2.0,  # two SMS at one a second; Telegram and WhatsApp go meanwhile
    }
    only = await team["admin"].post(
        "/api/v1/broadcasts/preview", json={**body, "languages": ["fr"], "channels": ["sms"]}
    )
    assert (only.json()["recipients"], only.json()["stopped"]) == (1, 1)
    area = {**body, "audience": "area", "forum": None, "area": "ke-turkana-west"}
    below = (await team["admin"].post("/api/v1/broadcasts/preview", json=area)).json()
    assert below["recipients"] == 4  # the subscribers of Kakuma, below Turkana West
    assert (await team["admin"].get("/api/v1/broadcasts")).json()["total"] == 0  # none stored


async def test_a_broadcast_that_cannot_go_as_asked_is_refused_with_the_reason(
    team: dict[str, Staff],
) -> None:
    admin = team["admin"]
    for change, reason in (
        ({"forum": "nowhere"}, "no forum with the key 'nowhere'"),
        ({"texts": {"en": "  "}}, "write the announcement in at least one language"),
        ({"fallback_language": "pt"}, "the fallback language must have a text"),
        ({"texts": {"en": "x" * 1001}}, "at most 1000 characters"),
        ({"texts": {"am": "ሰላም"}, "fallback_language": "am"}, "not a language"),
        ({"languages": ["xx"]}, "not a language of this deployment: xx"),
        ({"send_at": later(hours=-2)}, "the sending time is in the past"),
        ({"audience": "area", "area": "atlantis"}, "no area with the key 'atlantis'"),
    ):
        response = await admin.post("/api/v1/broadcasts", json=announcement(**change))
        assert response.status_code == 422, (change, response.text)
        assert reason in response.json()["detail"], (change, response.text)
    bad_channel = await admin.post("/api/v1/broadcasts", json=announcement(channels=["fax"]))
    assert bad_channel.status_code == 422
    assert (await admin.get("/api/v1/broadcasts")).json()["total"] == 0


async def test_a_local_sending_time_is_the_audience_s_and_the_broadcast_reads_back(
    team: dict[str, Staff], services: Services
) -> None:
    day = (utcnow() + timedelta(days=2)).date()
    created = await team["chair"].post(
        "/api/v1/broadcasts", json=announcement(send_at=f"{day}T09:30", urgent=True)
    )
    assert created.status_code == 201, created.text
    body = created.json()
    nairobi = datetime(day.year, day.month, day.day, 9, 30, tzinfo=ZoneInfo("Africa/Nairobi"))
    assert datetime.fromisoformat(body["send_at"]) == nairobi
    assert body["status"] == "scheduled" and body["to"] == (
        "members of Eastleigh Community Policing Forum"
    )
    assert body["created_by"] == "Peter Mwangi" and body["urgent"] is True
    assert body["texts"]["fr"] == "Les patrouilles commencent lundi."
    assert body["progress"] == {
        "status": "scheduled", "queued": 0, "waiting": 0, "sent": 0, "delivered": 0,
        "failed": 0, "held": 0, "skipped": {}, "done_share": 0.0,
    }  # fmt: skip
    # Cancelled before its time: nothing will go, and it says so.
    cancelled = await team["chair"].post(f"/api/v1/broadcasts/{body['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (await team["chair"].post(f"/api/v1/broadcasts/{body['id']}/cancel")).status_code == 409
    report = await services.dispatcher().tick()
    assert report.queued == {}


# ------------------------------------------------------------------ meetings


async def test_a_meeting_in_the_forum_s_time_with_reminders_moves_and_cancels(
    team: dict[str, Staff], services: Services
) -> None:
    focal = team["focal"]
    day = (utcnow() + timedelta(days=5)).date()
    created = await focal.post(
        "/api/v1/meetings",
        json=meeting(starts_at=f"{day}T18:00", agenda={"en": "Street lights", "fr": "Éclairage"}),
    )
    assert created.status_code == 201, created.text
    body = created.json()
    start = datetime(day.year, day.month, day.day, 15, 0, tzinfo=UTC)  # 18:00 in Nairobi
    assert datetime.fromisoformat(body["starts_at"]) == start
    assert body["timezone"] == "Africa/Nairobi" and "18:00" in body["local_time"]
    assert body["reminder_minutes"] == [1440, 120]  # BARAZA_REMINDER_MINUTES
    assert body["answers"] == {"yes": 0, "no": 0} and body["status"] == "scheduled"
    reminders = [(n["kind"], n["minutes_before"], n["progress"]["status"]) for n in body["notices"]]
    assert reminders == [("reminder", 1440, "scheduled"), ("reminder", 120, "scheduled")]

    path = f"/api/v1/meetings/{body['id']}"
    moved = await focal.post(f"{path}/reschedule", json={"starts_at": f"{day}T19:30"})
    assert moved.status_code == 200, moved.text
    assert "19:30" in moved.json()["local_time"] and moved.json()["place"] == "Chief's camp"
    notices = [(n["kind"], n["minutes_before"], n["progress"]["status"])
               for n in moved.json()["notices"]]  # fmt: skip
    assert sorted(notices, key=str) == sorted([
        ("reminder", 1440, "cancelled"), ("reminder", 120, "cancelled"),
        ("moved", None, "scheduled"),  # to those already reminded: nobody yet
        ("reminder", 1440, "scheduled"), ("reminder", 120, "scheduled"),
    ], key=str)  # fmt: skip
    past = await focal.post(f"{path}/reschedule", json={"starts_at": later(hours=-1)})
    assert past.status_code == 422 and "future" in past.json()["detail"]

    cancelled = await focal.post(f"{path}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (await focal.post(f"{path}/cancel")).status_code == 409
    assert (
        await focal.post(f"{path}/reschedule", json={"starts_at": later(days=6)})
    ).status_code == 409
    listed = (await focal.get("/api/v1/meetings")).json()
    assert [(m["id"], m["status"]) for m in listed["upcoming"]] == [(body["id"], "cancelled")]
    assert listed["past"] == []

    for change, reason in (
        ({"starts_at": later(hours=-3)}, "a meeting is scheduled in the future"),
        ({"reminder_minutes": [0]}, "reminders are sent before the meeting"),
        ({"forum": "nowhere"}, "no forum with the key 'nowhere'"),
        ({"agenda": {"xx": "?"}}, "not a language of this deployment: xx"),
    ):
        refused = await focal.post("/api/v1/meetings", json=meeting(**change))
        assert refused.status_code == 422 and reason in refused.json()["detail"], refused.text


async def test_members_answer_a_reminder_and_the_chair_sees_the_count(
    team: dict[str, Staff], services: Services, make_person: Any
) -> None:
    coming, not_coming = make_person(), make_person()
    for person in (coming, not_coming):
        await join(services, person.urn, forum="eastleigh-cpf", language="en")
    starts = utcnow() + timedelta(minutes=30)
    created = await team["chair"].post(
        "/api/v1/meetings",
        json=meeting(starts_at=starts.isoformat(), reminder_minutes=[30], place="Hall 2"),
    )
    assert created.status_code == 201, created.text
    await services.dispatcher().tick()  # the reminder is due now
    for person, answer in ((coming, "1"), (not_coming, "2")):
        reminder = await person.collect()
        assert "Reminder: Eastleigh Community Policing Forum meets on" in reminder, reminder
        assert "Hall 2" in reminder
        await person.send(answer)
    one = (await team["chair"].get(f"/api/v1/meetings/{created.json()['id']}")).json()
    assert one["answers"] == {"yes": 1, "no": 1}
    [notice] = one["notices"]
    # The demo's two SMS members are reminded too: here, without an SMS channel, they wait.
    figures = notice["progress"]
    assert (figures["queued"], figures["sent"], figures["waiting"]) == (4, 2, 2)
    assert figures["done_share"] == 0.5
    listed = (await team["chair"].get("/api/v1/meetings")).json()["upcoming"]
    assert [m["answers"] for m in listed] == [{"yes": 1, "no": 1}]


# ------------------------------------------------------------------ campaigns


def series(**extra: Any) -> dict[str, Any]:
    return {
        "topic": "safety-tips",
        "name": "Safe at night",
        "parts": [
            {"en": "Walk in groups after dark.", "fr": "Marchez en groupe la nuit."},
            {"en": "Save the police number: 999.", "fr": "Notez le numéro de la police : 999."},
        ],
        "fallback_language": "en",
        "weekday": 0,
        "time": "10:00",
        **extra,
    }


async def test_a_campaign_goes_part_by_part_and_its_reach_is_counted(
    team: dict[str, Staff], services: Services, make_person: Any
) -> None:
    admin = team["admin"]
    readers = [make_person(), make_person()]
    for person in readers:
        await join(services, person.urn, forum=None, topic="safety-tips", language="fr")
    topics = {t["key"]: t for t in (await admin.get("/api/v1/topics")).json()}
    assert topics["safety-tips"]["subscribers"] == 2
    assert topics["smuggling-warnings"]["names"]["en"] == "Warnings about smuggling and trafficking"

    created = await admin.post("/api/v1/campaigns", json=series())
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["parts"], body["weekday"], body["time"], body["active"]) == (2, 0, "10:00", True)
    assert body["reach"] == {"subscribers": 2, "started": 0, "finished": 0}
    path = f"/api/v1/campaigns/{body['id']}"

    for number, words in enumerate(("Marchez en groupe", "Notez le numéro"), 1):
        sent = await admin.post(f"{path}/send-now")
        assert sent.status_code == 200 and sent.json()["slots"] == 3  # Nairobi, Niamey, Maputo
        await services.dispatcher().tick()
        for person in readers:
            assert words in await person.collect()
        reach = (await admin.get(path)).json()["reach"]
        assert reach == {"subscribers": 2, "started": 2, "finished": 2 if number == 2 else 0}
    slots = (await admin.get(path)).json()["slots"]
    assert sum(s["progress"]["sent"] for s in slots) == 4  # two people, two parts, once each

    paused = await admin.post(f"{path}/pause")
    assert paused.status_code == 200 and paused.json()["active"] is False
    assert (await admin.post(f"{path}/pause")).status_code == 409
    refused = await admin.post(f"{path}/send-now")
    assert refused.status_code == 409 and "paused" in refused.json()["detail"]
    assert (await admin.post(f"{path}/resume")).json()["active"] is True
    assert [c["name"] for c in (await admin.get("/api/v1/campaigns")).json()] == ["Safe at night"]

    for change, reason in (
        ({"topic": "gardening"}, "no topic with the key 'gardening'"),
        ({"parts": []}, "a campaign has at least one message"),
        ({"parts": [{"fr": "Seulement en français"}]}, "no text in the fallback language"),
        ({"parts": [{"en": "x" * 1001}]}, "at most 1000 characters"),
    ):
        refused = await admin.post("/api/v1/campaigns", json=series(**change))
        assert refused.status_code == 422 and reason in refused.json()["detail"], refused.text
    assert (await admin.post("/api/v1/campaigns", json=series(time="25:00"))).status_code == 422
    assert (await admin.post("/api/v1/campaigns", json=series(weekday=7))).status_code == 422


# ------------------------------------------------------------------ audit and OpenAPI


async def test_every_change_is_audited_and_reads_are_not(
    team: dict[str, Staff], services: Services
) -> None:
    before = await last_audit_id(services)
    admin, chair = team["admin"], team["chair"]
    broadcast = (await chair.post("/api/v1/broadcasts", json=announcement())).json()
    await chair.get(f"/api/v1/broadcasts/{broadcast['id']}")
    await chair.post("/api/v1/broadcasts/preview", json=announcement())
    await chair.post(f"/api/v1/broadcasts/{broadcast['id']}/cancel")
    one = (await chair.post("/api/v1/meetings", json=meeting())).json()
    await chair.post(f"/api/v1/meetings/{one['id']}/reschedule", json={"starts_at": later(days=4)})
    await chair.post(f"/api/v1/meetings/{one['id']}/cancel")
    campaign = (await admin.post("/api/v1/campaigns", json=series())).json()
    for action in ("send-now", "pause", "resume"):
        await admin.post(f"/api/v1/campaigns/{campaign['id']}/{action}")
    actions = [a for a in await audit_actions(services, after=before) if a[1] != "login"]
    peter, programme = "peter@baraza.example", "programme@baraza.example"
    assert actions == [
        (peter, "broadcast_create"), (peter, "broadcast_cancel"),
        (peter, "meeting_create"), (peter, "meeting_reschedule"), (peter, "meeting_cancel"),
        (programme, "campaign_create"), (programme, "campaign_send_now"),
        (programme, "campaign_pause"), (programme, "campaign_resume"),
    ]  # fmt: skip


async def test_openapi_describes_every_new_operation(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    operations = {
        ("/api/v1/broadcasts/preview", "post"): "BroadcastPreview",
        ("/api/v1/broadcasts", "post"): "BroadcastDetail",
        ("/api/v1/broadcasts", "get"): "BroadcastPage",
        ("/api/v1/broadcasts/{broadcast_id}", "get"): "BroadcastDetail",
        ("/api/v1/broadcasts/{broadcast_id}/cancel", "post"): "BroadcastDetail",
        ("/api/v1/meetings", "post"): "MeetingDetail",
        ("/api/v1/meetings", "get"): "MeetingList",
        ("/api/v1/meetings/{meeting_id}", "get"): "MeetingDetail",
        ("/api/v1/meetings/{meeting_id}/reschedule", "post"): "MeetingDetail",
        ("/api/v1/meetings/{meeting_id}/cancel", "post"): "MeetingDetail",
        ("/api/v1/topics", "get"): "TopicPublic",
        ("/api/v1/campaigns", "post"): "CampaignDetail",
        ("/api/v1/campaigns", "get"): "CampaignSummary",
        ("/api/v1/campaigns/{campaign_id}", "get"): "CampaignDetail",
        ("/api/v1/campaigns/{campaign_id}/send-now", "post"): "SendNow",
        ("/api/v1/campaigns/{campaign_id}/pause", "post"): "CampaignDetail",
        ("/api/v1/campaigns/{campaign_id}/resume", "post"): "CampaignDetail",
    }
    for (path, method), schema in operations.items():
        operation = spec["paths"][path][method]
        assert operation["description"], (path, method)
        [success] = [code for code in operation["responses"] if code.startswith("2")]
        content = str(operation["responses"][success]["content"]["application/json"]["schema"])
        assert f"#/components/schemas/{schema}" in content, (path, method, content)
    preview = spec["components"]["schemas"]["BroadcastPreview"]["properties"]
    assert all(field.get("description") for field in preview.values())
    audience = spec["components"]["schemas"]["BroadcastWrite"]["properties"]["audience"]
    assert "in the area and every area below it" in audience["description"]


async def test_a_person_is_not_reached_twice_by_one_meeting_reminder(
    team: dict[str, Staff], services: Services, person: Person
) -> None:
    """Ticks that run again (a restart, a second process) do not send a reminder twice."""
    await join(services, person.urn, forum="eastleigh-cpf", language="fr")
    starts = utcnow() + timedelta(minutes=10)
    await team["chair"].post(
        "/api/v1/meetings", json=meeting(starts_at=starts.isoformat(), reminder_minutes=[10])
    )
    for _ in range(3):
        await services.dispatcher().tick()
    first = await person.collect()
    assert first.startswith("Rappel : Forum de police de proximité d'Eastleigh se réunit le")
    assert await person.collect() == ""
