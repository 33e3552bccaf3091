"""A flood from one address slows that address only.

Over ``BARAZA_INBOUND_PER_MINUTE`` messages in a minute from one contact, further
messages are acknowledged and recorded as received (the provider stops retrying)
but not answered one by one: the contact gets one "slow down" notice per minute, in
their language, and nothing else until the minute is over. The first messages of
the minute are handled as usual, so nothing a person meant is lost to a burst, and
STOP and START always work. The count lives on the contact's row, which the inbound
path already reads and (on PostgreSQL) locks, so it holds across processes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from bot.contacts import ContactRecord

WINDOW = timedelta(minutes=1)
Verdict = Literal["answer", "notice", "quiet"]


def admit(contact: ContactRecord, now: datetime, per_minute: int) -> Verdict:
    """Count this message against the contact's minute: answer it, answer it with
    the one notice of the minute, or keep quiet."""
    started = contact.flood_started_at
    if started is None or now - started >= WINDOW or now < started:
        contact.flood_started_at, contact.flood_count, contact.flood_noticed = now, 1, False
        return "answer"
    contact.flood_count += 1
    if contact.flood_count <= per_minute:
        return "answer"
    if contact.flood_noticed:
        return "quiet"
    contact.flood_noticed = True
    return "notice"
