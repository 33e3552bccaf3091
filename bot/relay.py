"""The bot's half of the anonymous relay: a reporter's answers land on their case.

Staff write on a case; the reporter gets the words through the bot, prefixed with
the case code, and never learns who wrote, as staff never learn who reported. An
answer lands on the case's timeline when the reporter writes back in the
conversation the staff message opened (``bot.outreach``), or starts any message
with the code. The satisfaction question at resolution is answered here too.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases import find_own_case
from bot.contacts import ContactRecord
from bot.models import Case, CaseMessage
from bot.models.base import table, utcnow
from bot.text import fold
from flows.answers import REFERENCE_ALPHABET, REFERENCE_LENGTH, format_reference
from flows.ports import ActionResult

if TYPE_CHECKING:
    from bot.actions import ActionContext

# "ACD-EFG thank you", "acd efg: thanks", "ACDEFG thanks": a code, then words.
_HALF = REFERENCE_LENGTH // 2
CODE_THEN_WORDS = re.compile(
    rf"^\s*([{REFERENCE_ALPHABET}]{{{_HALF}}})[\s\-_.]?([{REFERENCE_ALPHABET}]{{{_HALF}}})"
    r"(?![A-Za-z0-9])[\s:,.\-]*(\S.*)$",
    re.IGNORECASE | re.DOTALL,
)
RELAY_FLOW = "case_reply"
_WORD_BREAK = re.compile(r"[^\w]+")
MAX_ANSWER = 3000
SCORES = {f"score_{n}": n for n in range(1, 6)}


def code_then_words(text: str) -> tuple[str, str] | None:
    """The reference code a message starts with and the words after it, if it has both."""
    found = CODE_THEN_WORDS.match(text or "")
    if found is None:
        return None
    return (found.group(1) + found.group(2)).upper(), found.group(3).strip()


async def answer_for_case(
    db: AsyncSession, contact: ContactRecord, text: str
) -> tuple[str, dict[str, Any]] | None:
    """The relay flow to start when a message opens with the code of the sender's own case
    (one look-up, only for messages shaped that way); None for anything else."""
    found = code_then_words(text)
    if found is None:
        return None
    reference, words = found
    if await find_own_case(db, contact, reference) is None:
        return None
    return RELAY_FLOW, {"reference": reference, "answer": words}


_MESSAGES = insert(table(CaseMessage))


async def append_case_reply(ctx: ActionContext) -> ActionResult:
    """The reporter's words go on the case's timeline (sealed), nowhere else."""
    answer = (ctx.vars.pop("answer", None) or "").strip()
    ctx.vars.pop("answer_short", None)
    if not answer:
        return ActionResult(outcome="ask")
    case = await find_own_case(ctx.db, ctx.contact, ctx.vars.get("reference", ""))
    if case is None or case.content_purged_at is not None:
        return ActionResult(outcome="not_found")
    now = utcnow()
    await ctx.db.execute(
        _MESSAGES,
        {
            "case_id": case.id,
            "direction": "inbound",
            "body": answer[:MAX_ANSWER],
            "created_at": now,
        },
    )
    await ctx.db.execute(update(Case).where(Case.id == case.id).values(updated_at=now))
    return ActionResult(vars={"reference_label": format_reference(case.reference)})


async def save_satisfaction(ctx: ActionContext) -> ActionResult:
    """The answer to "how satisfied are you", 1 to 5, and an optional comment."""
    case = await find_own_case(ctx.db, ctx.contact, ctx.vars.get("reference", ""))
    score = ctx.vars.get("score")
    if case is None:
        return ActionResult(outcome="not_found")
    values: dict[str, Any] = {}
    if score in SCORES:  # the option values score_1 .. score_5
        values["satisfaction"] = SCORES[score]
    comment = (ctx.vars.pop("comment", None) or "").strip()
    ctx.vars.pop("comment_short", None)
    if comment:
        values["satisfaction_comment"] = comment[:MAX_ANSWER]
    if values:
        await ctx.db.execute(update(Case).where(Case.id == case.id).values(**values))
    return ActionResult()


def mentions_subject(text: str, words: set[str]) -> str | None:
    """The first word of ``words`` that ``text`` contains (folded, whole words), if any."""
    folded = " " + " ".join(_WORD_BREAK.split(fold(text))) + " "
    return next((word for word in sorted(words) if f" {word} " in folded), None)
