"""Working a case from the staff side: status, assignment, notes, replies to the reporter.

The API and the web pages both call these keyword-only functions, so a rule (who
may be written to, what the reporter is told, what goes on the timeline) lives in
one place. Every change leaves a timeline entry with the staff member's id; the
reporter's address never leaves the contacts table.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases import STATUSES
from bot.contacts import load_contact
from bot.directory import Directory
from bot.i18n import RTL_LANGUAGES, Catalogs, msg
from bot.messages import OutboundMessage
from bot.models import Case, CaseMessage, Contact, StaffUser
from bot.models.base import table, utcnow
from bot.outbox import to_contact
from bot.outreach import start_flow_for
from bot.relay import mentions_subject
from bot.runtime import Runtime
from bot.text import fold
from flows.answers import format_reference

# The status changes a reporter hears about; the rest are the team's business.
TOLD_TO_REPORTER = {"acknowledged": msg("case.update.acknowledged")}
PROTECTION_ACTIONS = ("contacted", "referred", "closed")
# Words that would name what a protection case is about, on a phone someone else may read.
SUBJECT_WORDS = {
    "gbv", "violence", "violences", "violencia", "rape", "viol", "estupro", "violacao",
    "abuse", "abus", "abuso", "assault", "agression", "agressao", "protection", "protecao",
    "survivor", "survivante", "sobrevivente", "sexual", "sexuelle", "sexuel",
}  # fmt: skip
MAX_TEXT = 2000


class CaseworkRefused(ValueError):
    """What was asked cannot be done to this case; the message says why, for staff."""


@dataclass(frozen=True)
class Delivery:
    """How a staff reply went: as a conversation the reporter can answer, or a message."""

    conversation: bool


_TIMELINE = insert(table(CaseMessage))


async def add_event(
    db: AsyncSession, case: Case, staff: StaffUser | None, body: str, direction: str = "event"
) -> None:
    await db.execute(
        _TIMELINE,
        {
            "case_id": case.id,
            "direction": direction,
            "body": body,
            "staff_id": staff.id if staff else None,
            "created_at": utcnow(),
        },
    )
    case.updated_at = utcnow()


def _checked_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise CaseworkRefused("the text is empty")
    if len(text) > MAX_TEXT:
        raise CaseworkRefused(f"the text is longer than {MAX_TEXT} characters")
    return text


async def add_note(db: AsyncSession, *, case: Case, staff: StaffUser, text: str) -> None:
    """An internal note: on the timeline for staff, never sent to the reporter."""
    await add_event(db, case, staff, _checked_text(text), direction="note")


async def assign(
    db: AsyncSession, *, case: Case, staff: StaffUser, assignee: StaffUser | None
) -> None:
    case.assigned_to_id = assignee.id if assignee else None
    await add_event(db, case, staff, f"assigned to {assignee.name}" if assignee else "unassigned")


async def change_status(
    db: AsyncSession,
    runtime: Runtime,
    directory: Directory,
    *,
    case: Case,
    staff: StaffUser,
    status: str,
    reason: str,
) -> None:
    """Move the case on, say why on the timeline, and tell the reporter what matters to
    them: a concern read, a concern resolved (with one satisfaction question)."""
    if status not in STATUSES:
        raise CaseworkRefused(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
    if status == case.status:
        raise CaseworkRefused(f"the case is already {status}")
    now = utcnow()
    previous, case.status = case.status, status
    if status == "acknowledged" and case.acknowledged_at is None:
        case.acknowledged_at = now
    if status == "resolved":
        case.resolved_at = case.resolved_at or now
    if status == "closed":
        case.closed_at = now
        case.resolved_at = case.resolved_at or now
    elif case.closed_at is not None:
        case.closed_at = None  # reopened: the retention clock stops
    reason = reason.strip()[:500]
    await add_event(db, case, staff, f"{previous} → {status}" + (f": {reason}" if reason else ""))
    if case.kind == "protection" or case.contact_id is None:
        return  # a survivor hears only what the unit chooses to write, in words it chose
    language = case.language
    if status == "resolved" and case.satisfaction is None:
        values = {"reference": case.reference, "reference_label": format_reference(case.reference)}
        if await start_flow_for(
            db, runtime, directory, case.contact_id, "satisfaction", values,
            kind="status", case_id=case.id,
        ):  # fmt: skip
            return
        message_id = msg("case.update.resolved")
    else:
        message_id = TOLD_TO_REPORTER.get(status, "")
    if message_id:
        await _tell(db, runtime.catalogs, case, runtime.catalogs.text(
            language, message_id, reference=format_reference(case.reference)
        ), kind="status")  # fmt: skip


async def _tell(db: AsyncSession, catalogs: Catalogs, case: Case, text: str, kind: str) -> bool:
    found = await load_contact(db, case.contact_id) if case.contact_id is not None else None
    if found is None or found[0].opted_out:
        return False
    message = OutboundMessage(text=text, language=case.language, rtl=case.language in RTL_LANGUAGES)
    await to_contact(db, found[0], message, kind=kind, case_id=case.id)
    return True


def why_not_contact(case: Case, contact: Contact | None) -> str:
    """Why the reporter may not be written to on this case ("" if they may): the one rule
    the reply form, the API and the relay itself all follow."""
    if contact is None:
        return "the reporter can no longer be reached through this case"
    if contact.opted_out:
        return "the reporter has stopped all messages (STOP)"
    if case.kind == "protection":
        if case.consent_withdrawn_at is not None:
            return "the survivor withdrew consent: nothing more can be sent"
        if case.contact_method != "this_chat":
            return "the survivor did not agree to be written to in this chat"
    return ""


async def reporter_of(db: AsyncSession, case: Case) -> Contact | None:
    if case.contact_id is None:
        return None
    return await db.scalar(select(Contact).where(Contact.id == case.contact_id))


def subject_words(directory: Directory, catalogs: Catalogs) -> set[str]:
    """The words that name a protection case's subject in any of the deployment's
    languages: the fixed list, the protection categories' names, the help types."""
    words = set(SUBJECT_WORDS)
    names = [
        name
        for category in directory.categories
        if category.routes_to == "protection_unit"
        for name in category.names.values()
    ]
    for language in directory.languages:
        for help_type in ("health", "psychosocial", "legal", "safety", "police"):
            names.append(catalogs.text(language, f"protect.help_{help_type}"))
    for name in names:
        words.update(word for word in fold(name).split() if len(word) >= 4)
    return words


async def reply_to_reporter(
    db: AsyncSession,
    runtime: Runtime,
    directory: Directory,
    *,
    case: Case,
    staff: StaffUser,
    text: str,
) -> Delivery:
    """Relay staff words to the reporter through the bot, prefixed with the case code.

    A survivor is written to only if they agreed to be contacted in this chat and have
    not withdrawn consent; on SMS, where a message shows on the lock screen, words
    that name the subject are refused so staff can rephrase."""
    text = _checked_text(text)
    contact = await reporter_of(db, case)
    refusal = why_not_contact(case, contact)
    if contact is None or refusal:
        raise CaseworkRefused(refusal)
    flow, kind = "staff_message", "relay"
    if case.kind == "protection":
        if contact.channel == "sms":
            word = mentions_subject(text, subject_words(directory, runtime.catalogs))
            if word:
                raise CaseworkRefused(
                    f"on SMS the message must not name the subject: rephrase without {word!r}"
                )
        flow, kind = "protection_message", "protection"
    await add_event(db, case, staff, text, direction="outbound")
    label = format_reference(case.reference)
    values = {"reference": case.reference, "reference_label": label, "staff_text": text}
    if await start_flow_for(
        db, runtime, directory, contact.id, flow, values, kind=kind, case_id=case.id
    ):
        return Delivery(conversation=True)
    plain = runtime.catalogs.text(case.language, msg("relay.plain"), **values)
    await _tell(db, runtime.catalogs, case, plain, kind=kind)
    return Delivery(conversation=False)
