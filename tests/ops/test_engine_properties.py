"""Property-based tests of the conversation as a whole: any sequence of texts, button
presses, locations and media from one person never raises; every message is recorded
once, and is answered unless the person said STOP. And any status callback Twilio
might send (signed) is answered without a server error."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.conversation import handle_inbound
from bot.messages import InboundMessage, Location
from bot.models import InboundReceipt
from bot.services import Services
from tests.ops.conftest import Ops

WORDS = st.sampled_from(
    ["hello", "1", "2", "3", "9", "yes", "no", "skip", "x", "MENU", "BACK", "HELP",
     "LANGUAGE", "STOP", "START", "Eastleigh", "Niamey", "sunflower", "/start", "/announce",
     "ACD-EFG thanks", "", "  ", "0", "-1", "99999999999"]
)  # fmt: skip
TEXTS = WORDS | st.text(max_size=300)
STEPS = st.one_of(
    st.tuples(st.just("text"), TEXTS),
    st.tuples(st.just("button"), st.text(max_size=64) | st.sampled_from(["1", "en", "#2"])),
    st.tuples(
        st.just("location"),
        st.tuples(st.floats(-90, 90), st.floats(-180, 180)),
    ),
    st.tuples(st.just("media"), st.sampled_from(["photo", "voice", "video", "document"])),
)


# Each example here goes through the database: a third of the profile's examples
# (33 in `make test`, 666 in `make soak`).
THROUGH_THE_DATABASE = settings(max_examples=max(20, settings().max_examples // 3))


def message(urn: str, step: tuple[str, Any]) -> InboundMessage:
    kind, value = step
    return InboundMessage(
        channel="console",
        urn=urn,
        provider_id=uuid.uuid4().hex,
        text=value if kind == "text" else "",
        button=value if kind == "button" else None,
        location=Location(*value) if kind == "location" else None,
        media=value if kind == "media" else None,
    )


async def receipts(services: Services) -> int:
    async with services.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(InboundReceipt)) or 0)


@THROUGH_THE_DATABASE
@given(st.lists(STEPS, min_size=1, max_size=8))
async def test_any_sequence_is_handled_and_answered(
    services: Services, steps: list[tuple[str, Any]]
) -> None:
    urn = f"console:h{uuid.uuid4().hex[:12]}"
    stopped = False
    for step in steps:
        before = await receipts(services)
        async with services.sessions() as db, db.begin():
            outcome = await handle_inbound(db, services.runtime, message(urn, step))
        assert await receipts(services) == before + 1
        if step == ("text", "STOP"):
            stopped = True
        elif step == ("text", "START"):
            stopped = False
        assert outcome.replies >= 1 or stopped, step


STATUSES = st.sampled_from(
    ["queued", "sent", "delivered", "undelivered", "failed", "read", "received"]
) | st.text(max_size=20)


@THROUGH_THE_DATABASE
@given(
    st.text(max_size=40) | st.just("SM" + "b" * 32),
    STATUSES,
    st.none() | st.text(max_size=12) | st.sampled_from(["21610", "63016", "30003"]),
)
async def test_any_signed_status_callback_gets_no_server_error(
    ops: Ops, sid: str, status: str, code: str | None
) -> None:
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "0" * 32}
    if code is not None:
        params["ErrorCode"] = code
    response = await ops.twilio.post("/webhooks/twilio/status", params)
    assert response.status_code in (204, 400), response.text
