"""The outbound side end to end: broadcasts, quiet hours, reminders, answers, moves and
campaigns, from the services through the real sender and twilio client to the fake
Twilio server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.broadcasts import BroadcastDraft, broadcast_progress, cancel_broadcast, create_broadcast
from bot.campaigns import (
    CampaignPlan,
    create_campaign,
    pause_campaign,
    resume_campaign,
    send_next_part_now,
)
from bot.contacts import urn_hash
from bot.dispatch_texts import format_when
from bot.meetings import MeetingPlan, answer_counts, reschedule_meeting, schedule_meeting
from bot.models import (
    Area,
    Campaign,
    Contact,
    Dispatch,
    Forum,
    Meeting,
    OutboxMessage,
    Topic,
    TopicSubscription,
)
from bot.models.base import utcnow
from bot.urns import parse
from tests.channels.test_twilio import Phone, World
from tests.outbound.conftest import MEMBERS, WHATSAPP_MEMBER

TEXTS = {
    "en": "Forum meeting on Friday at the chief's camp",
    "fr": "Réunion du forum vendredi au camp du chef",
    "pt": "Reunião do fórum na sexta-feira no campo do chefe",
}


async def forum_id(world: World, key: str = "eastleigh-cpf") -> int:
    async with world.services.sessions() as db:
        found = await db.scalar(select(Forum.id).where(Forum.key == key))
    assert found is not None
    return int(found)


async def broadcast(world: World, **changes: object) -> int:
    services = world.services
    forum = await forum_id(world)
    async with services.sessions() as db, db.begin():
        directory = await services.runtime.directories.get(db)
        values: dict[str, object] = {
            "audience": "forum",
            "forum_id": forum,
            "texts": TEXTS,
            "fallback_language": "en",
        }
        values.update(changes)
        created = await create_broadcast(
            db,
            BroadcastDraft(**values),
            directory=directory,
            staff_id=None,  # type: ignore[arg-type]
        )
        return created.id


async def set_contact(number: str, world: World, **values: object) -> None:
    async with world.services.sessions() as db, db.begin():
        await db.execute(
            update(Contact)
            .where(Contact.urn_hash == urn_hash(parse(f"tel:{number}")))
            .values(**values)
        )


async def test_a_broadcast_in_three_languages_reaches_each_member_once_in_theirs(
    world: World,
) -> None:
    broadcast_id = await broadcast(world)
    await world.deliver()
    await world.deliver()  # a second pass (a retry, a second tick) sends nothing more
    for number, language in MEMBERS.items():
        bodies = world.fake.bodies(number)
        assert len(bodies) == 1, (number, bodies)
        assert TEXTS[language] in bodies[0]
    whatsapp = world.fake.bodies(f"whatsapp:{WHATSAPP_MEMBER}")
    assert len(whatsapp) == 1 and TEXTS["en"] in whatsapp[0]
    async with world.services.sessions() as db:
        progress = await broadcast_progress(db, broadcast_id=broadcast_id)
        status = await db.scalar(
            select(Dispatch.status).where(Dispatch.broadcast_id == broadcast_id)
        )
    assert (progress.queued, progress.sent, progress.waiting) == (4, 4, 0)
    assert progress.done_share == 1.0 and status == "done"


async def test_a_language_without_a_text_gets_the_fallback_in_its_own_frame(world: World) -> None:
    await broadcast(world, texts={"en": TEXTS["en"], "pt": TEXTS["pt"]}, fallback_language="en")
    await world.deliver()
    french = world.fake.bodies(next(n for n, lang in MEMBERS.items() if lang == "fr"))
    assert len(french) == 1
    assert TEXTS["en"] in french[0] and "Forum de police de proximité d'Eastleigh" in french[0]


async def test_a_stopped_member_is_skipped_and_counted(world: World) -> None:
    stopped = next(iter(MEMBERS))
    await set_contact(stopped, world, opted_out=True, opted_out_at=utcnow())
    broadcast_id = await broadcast(world)
    await world.deliver()
    assert world.fake.bodies(stopped) == []
    async with world.services.sessions() as db:
        progress = await broadcast_progress(db, broadcast_id=broadcast_id)
    assert progress.skipped == {"contact stopped": 1} and progress.sent == 3


@asynccontextmanager
async def quiet_now(world: World, number: str) -> AsyncIterator[datetime]:
    """Puts `number` in an area whose quiet hours began an hour ago; yields when they end."""
    services = world.services
    zone = ZoneInfo("Africa/Nairobi")
    local = utcnow().astimezone(zone)
    start, end = local - timedelta(hours=1), local + timedelta(hours=2)
    async with services.sessions() as db, db.begin():
        area = await db.scalar(select(Area).where(Area.key == "ke-kamukunji"))
        assert area is not None
        area.quiet_hours = f"{start:%H:%M}-{end:%H:%M}"
        area.timezone = "Africa/Nairobi"
        area_id = area.id
    services.runtime.directories.invalidate()
    try:
        await set_contact(number, world, area_id=area_id)
        yield end
    finally:
        async with services.sessions() as db, db.begin():
            await db.execute(
                update(Area).where(Area.key == "ke-kamukunji").values(quiet_hours=None)
            )
        services.runtime.directories.invalidate()


def contact_of(number: str) -> Any:
    return select(Contact.id).where(Contact.urn_hash == urn_hash(parse(f"tel:{number}")))


async def test_quiet_hours_delay_a_broadcast_until_the_morning_but_not_an_urgent_one(
    world: World,
) -> None:
    """A member in an area whose quiet hours cover now gets it when they end; urgent
    news goes at once."""
    services = world.services
    quiet_number = next(iter(MEMBERS))
    async with quiet_now(world, quiet_number) as end:
        broadcast_id = await broadcast(world)
        dispatcher, sender = services.dispatcher(), services.sender()
        await dispatcher.tick()
        await sender.drain()
        assert world.fake.bodies(quiet_number) == []  # asleep
        others = [n for n in MEMBERS if n != quiet_number]
        assert all(len(world.fake.bodies(n)) == 1 for n in others)
        async with services.sessions() as db:
            row = await db.scalar(
                select(OutboxMessage).where(
                    OutboxMessage.dispatch_id.in_(
                        select(Dispatch.id).where(Dispatch.broadcast_id == broadcast_id)
                    ),
                    OutboxMessage.contact_id.in_(contact_of(quiet_number)),
                )
            )
        assert row is not None and row.status == "pending"
        wakes = row.next_attempt_at.astimezone(end.tzinfo)
        assert (wakes.hour, wakes.minute) == (end.hour, end.minute)
        # Urgent news does not wait for the morning.
        await broadcast(world, urgent=True, texts={"en": "Flooding: avoid the river road"})
        await dispatcher.tick()
        await sender.drain()
        assert any("Flooding" in body for body in world.fake.bodies(quiet_number))


async def test_cancelling_stops_what_is_not_yet_sent(world: World) -> None:
    broadcast_id = await broadcast(world)
    await world.services.dispatcher().tick()  # queued, not sent
    async with world.services.sessions() as db, db.begin():
        skipped = await cancel_broadcast(db, broadcast_id=broadcast_id)
    await world.deliver()
    assert skipped == 4
    assert all(world.fake.bodies(n) == [] for n in MEMBERS)
    async with world.services.sessions() as db:
        progress = await broadcast_progress(db, broadcast_id=broadcast_id)
    assert progress.skipped == {"cancelled": 4} and progress.status == "cancelled"


async def schedule(world: World, starts_in: timedelta, minutes: tuple[int, ...]) -> Meeting:
    services = world.services
    forum = await forum_id(world)
    async with services.sessions() as db, db.begin():
        directory = await services.runtime.directories.get(db)
        meeting = await schedule_meeting(
            db,
            MeetingPlan(
                forum_id=forum,
                starts_at=(utcnow() + starts_in).replace(microsecond=0),
                place="Chief's camp",
                agenda={"en": "Street lighting", "fr": "Éclairage public"},
                reminder_minutes=minutes,
            ),
            directory=directory,
            staff_id=None,
        )
        db.expunge(meeting)
    return meeting


async def make_due(world: World, meeting_id: int) -> None:
    """Bring a meeting's reminders forward to now (the tick's timing is tested apart)."""
    async with world.services.sessions() as db, db.begin():
        await db.execute(
            update(Dispatch)
            .where(Dispatch.meeting_id == meeting_id, Dispatch.status == "scheduled")
            .values(due_at=utcnow())
        )


async def test_a_reminder_is_in_each_member_s_language_and_answered_by_number_or_word(
    world: World,
) -> None:
    meeting = await schedule(world, timedelta(days=1), (60,))
    await make_due(world, meeting.id)
    await world.deliver()
    english, french, portuguese = (Phone(world, number=n) for n in MEMBERS)
    when_fr = format_when(meeting.starts_at, "fr", "Africa/Nairobi")
    (reminder_fr,) = world.fake.bodies(french.number)
    assert when_fr in reminder_fr and "Rappel" in reminder_fr and "Éclairage public" in reminder_fr
    assert "1 Oui" in reminder_fr and "2 Non" in reminder_fr  # numbered answers on SMS
    (reminder_en,) = world.fake.bodies(english.number)
    assert format_when(meeting.starts_at, "en", "Africa/Nairobi") in reminder_en
    french.seen = english.seen = portuguese.seen = 1
    await english.text("1")
    assert "see you there" in await english.last()
    await french.text("non")
    assert "prévenus" in await french.last()
    await portuguese.text("sim")
    await portuguese.replies()
    await english.text("2")  # a change of mind replaces the first answer
    await english.replies()
    async with world.services.sessions() as db:
        assert await answer_counts(db, meeting.id) == {"yes": 1, "no": 2}


async def test_a_bare_number_long_after_no_reminder_is_not_an_answer(world: World) -> None:
    phone = Phone(world, number=next(iter(MEMBERS)))
    await phone.text("1")
    assert "Welcome to Baraza" in await phone.last()  # the menu, not an answer


async def test_a_moved_meeting_tells_those_reminded_and_reminds_again(world: World) -> None:
    meeting = await schedule(world, timedelta(days=2), (60, 24 * 60))
    async with world.services.sessions() as db, db.begin():  # only the 24-hour one falls due
        await db.execute(
            update(Dispatch)
            .where(
                Dispatch.meeting_id == meeting.id,
                Dispatch.detail["minutes_before"].as_integer() == 1440,
            )
            .values(due_at=utcnow())
        )
    await world.deliver()
    number = next(iter(MEMBERS))
    assert len(world.fake.bodies(number)) == 1
    new_start = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    async with world.services.sessions() as db, db.begin():
        row = await db.get(Meeting, meeting.id)
        assert row is not None
        await reschedule_meeting(db, row, starts_at=new_start, place="Mosque hall")
    await world.deliver()
    moved = world.fake.bodies(number)[1:]
    assert len(moved) == 1 and "has moved" in moved[0] and "Mosque hall" in moved[0]
    assert format_when(new_start, "en", "Africa/Nairobi") in moved[0]
    await world.services.dispatcher().tick()  # marks what has nothing left to send done
    async with world.services.sessions() as db:
        statuses = sorted(
            (d.detail.get("minutes_before"), d.status)
            for d in (
                await db.execute(
                    select(Dispatch).where(
                        Dispatch.meeting_id == meeting.id, Dispatch.kind == "reminder"
                    )
                )
            ).scalars()
        )
    # the hour-before reminder of the old time is cancelled; both are planned anew
    assert statuses == [(60, "cancelled"), (60, "scheduled"), (1440, "done"), (1440, "scheduled")]


async def test_a_reminder_too_late_to_matter_is_skipped_and_counted(world: World) -> None:
    meeting = await schedule(world, timedelta(hours=3), (60,))
    async with world.services.sessions() as db, db.begin():  # the server was down until after
        await db.execute(
            update(Dispatch)
            .where(Dispatch.meeting_id == meeting.id)
            .values(
                due_at=utcnow() - timedelta(hours=2), expires_at=utcnow() - timedelta(minutes=1)
            )
        )
    report = await world.services.dispatcher().tick()
    await world.deliver()
    assert report.expired == 1
    assert all(world.fake.bodies(n) == [] for n in MEMBERS)


async def start_campaign(
    world: World, name: str, parts: list[dict[str, str]], followers: tuple[str, ...] = ()
) -> int:
    """A weekly campaign to the followers of Safety tips (adding `followers` to them)."""
    services = world.services
    async with services.sessions() as db, db.begin():
        topic_id = await db.scalar(select(Topic.id).where(Topic.key == "safety-tips"))
        assert topic_id is not None
        for number in followers:
            db.add(
                TopicSubscription(topic_id=topic_id, contact_id=await db.scalar(contact_of(number)))
            )
        plan = CampaignPlan(
            topic_id=topic_id,
            name=name,
            parts=parts,
            fallback_language="en",
            weekday=0,
            minute_of_day=9 * 60,
        )
        directory = await services.runtime.directories.get(db)
        campaign = await create_campaign(db, plan, directory=directory, staff_id=None)
        return campaign.id


async def send_next_part(world: World, campaign_id: int) -> None:
    """ "Send the next part now", then everything the sender has."""
    services = world.services
    async with services.sessions() as db, db.begin():
        row = await db.get(Campaign, campaign_id)
        assert row is not None
        await send_next_part_now(db, row, directory=await services.runtime.directories.get(db))
    await world.deliver()


async def test_a_campaign_delivers_its_series_in_order_from_where_each_person_joined(
    world: World,
) -> None:
    early, late = (Phone(world, number=n) for n in list(MEMBERS)[:2])
    for phone in (early, late):  # subscribe through the bot: menu, news, the topic
        phone.seen = len(world.fake.bodies(phone.number))
    for answer in ("menu", "6"):
        await early.text(answer)
        await early.replies()
    choices = (await early.replies()) or world.fake.bodies(early.number)[-1:]
    assert "Safety tips" in choices[-1]
    topic_number = next(
        line.split(" ", 1)[0] for line in choices[-1].splitlines() if "Safety tips" in line
    )
    await early.text(topic_number)
    assert "You will now get news from Safety tips" in await early.last()
    parts = [{"en": f"Tip {n}: stay safe", "fr": f"Conseil {n}"} for n in (1, 2, 3)]
    campaign_id = await start_campaign(world, "Rainy season", parts)

    async def next_part() -> None:
        await send_next_part(world, campaign_id)

    await next_part()
    for answer in ("menu", "6", topic_number):  # the second person joins after part 1
        await late.text(answer)
        await late.replies()
    await next_part()
    await next_part()
    await next_part()  # the series is over for the first: nothing more

    def tips(phone: Phone) -> list[str]:
        return [b for b in world.fake.bodies(phone.number) if "Tip " in b or "Conseil " in b]

    assert [t.split(":")[1].strip() for t in tips(early)] == ["Tip 1", "Tip 2", "Tip 3"]
    assert [t.split(":", 1)[1].strip() for t in tips(late)] == [
        "Conseil 1",
        "Conseil 2",
        "Conseil 3",
    ]


async def test_the_tick_plans_each_campaign_s_next_weekly_slot_in_local_time(world: World) -> None:
    services = world.services
    async with services.sessions() as db, db.begin():
        directory = await services.runtime.directories.get(db)
        topic_id = await db.scalar(select(Topic.id).where(Topic.key == "safety-tips"))
        assert topic_id is not None
        await create_campaign(
            db,
            CampaignPlan(topic_id, "Weekly", [{"en": "Hello"}], "en", weekday=2, minute_of_day=600),
            directory=directory,
            staff_id=None,
        )
    first = await services.dispatcher().tick()
    again = await services.dispatcher().tick()
    assert first.planned >= 1 and again.planned == 0  # planned once, whoever ticks
    async with services.sessions() as db:
        slots = (
            (await db.execute(select(Dispatch).where(Dispatch.kind == "campaign"))).scalars().all()
        )
    for slot in slots:
        local = slot.due_at.astimezone(ZoneInfo(slot.timezone or "UTC"))
        assert (local.weekday(), local.hour, local.minute) == (2, 10, 0)
        assert timedelta(0) <= slot.due_at - utcnow() <= timedelta(days=7)


def test_format_when_is_localized() -> None:
    moment = datetime(2026, 12, 5, 11, 0, tzinfo=ZoneInfo("UTC"))
    assert format_when(moment, "fr", "Africa/Nairobi") == "samedi 5 décembre 2026, 14:00"
    assert format_when(moment, "en", "Africa/Nairobi").startswith(
        "Saturday, December 5, 2026, 2:00"
    )
    assert format_when(moment, "sw", "Africa/Nairobi") == "Jumamosi, 5 Desemba 2026 14:00"


async def test_a_paused_campaign_holds_back_what_waits_and_resumes_where_each_person_was(
    world: World,
) -> None:
    """Pausing stops the part still held for quiet hours; after resuming, that person
    gets the part they missed, the others the next one."""
    services = world.services
    sleeper, *awake = list(MEMBERS)
    parts = [{"en": f"Tip {n}: water points"} for n in (1, 2)]
    campaign_id = await start_campaign(world, "Dry season", parts, followers=tuple(MEMBERS))

    async def send_now() -> None:
        await send_next_part(world, campaign_id)

    def tips(number: str) -> list[str]:  # each framed by the topic's name in their language
        return [f"Tip {b.split('Tip ')[1][0]}" for b in world.fake.bodies(number) if "Tip " in b]

    async with quiet_now(world, sleeper):
        await send_now()
        assert tips(sleeper) == [] and all(tips(n) == ["Tip 1"] for n in awake)
        async with services.sessions() as db, db.begin():
            row = await db.get(Campaign, campaign_id)
            assert row is not None
            held_back = await pause_campaign(db, row)
    assert held_back == 1
    await world.deliver()  # the morning comes: nothing for the sleeper while paused
    assert tips(sleeper) == []
    async with services.sessions() as db:
        reasons = (
            await db.execute(
                select(OutboxMessage.last_error).where(
                    OutboxMessage.contact_id.in_(contact_of(sleeper)),
                    OutboxMessage.status == "skipped",
                )
            )
        ).scalars()
        assert list(reasons) == ["campaign paused"]
    async with services.sessions() as db, db.begin():
        row = await db.get(Campaign, campaign_id)
        assert row is not None
        resume_campaign(row)
    await send_now()
    assert tips(sleeper) == ["Tip 1"]
    assert all(tips(n) == ["Tip 1", "Tip 2"] for n in awake)
