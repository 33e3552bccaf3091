"""Edits made on the web, and how ``baraza import`` keeps from undoing them silently.

Admins edit the directory in the staff pages and the API; the deployment file is
edited in a text editor and re-imported. Each web edit is recorded on its row
(``web_edits``: field -> when and by whom; "created" for a row made on the web). An
import that would change such a field to something else is a conflict: the import
stops and lists them, unless told to overwrite. Where the file already agrees with
the web, the mark is dropped: the file is the source again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.models.base import utcnow

KINDS = {
    "areas": "area",
    "staff_users": "staff",
    "forums": "forum",
    "protection_units": "unit",
    "categories": "category",
    "topics": "topic",
    "deployment": "deployment",
}


def label(row: Any) -> str:
    """How a report names a row: ``forum:eastleigh-cpf``, ``staff:ana@example.org``."""
    kind = KINDS.get(row.__tablename__, row.__tablename__)
    key = getattr(row, "key", None) or getattr(row, "email", None) or getattr(row, "name", "")
    return f"{kind}:{key}" if kind != "deployment" else kind


def mark(row: Any, fields: Iterable[str], by: str) -> None:
    """Record that ``fields`` of ``row`` were edited on the web, now, by ``by``."""
    stamp = f"{utcnow():%Y-%m-%d %H:%M} UTC by {by}"
    row.web_edits = {**(row.web_edits or {}), **dict.fromkeys(fields, stamp)}


def unmark(row: Any, field: str) -> None:
    if field in (getattr(row, "web_edits", None) or {}):
        row.web_edits = {k: v for k, v in row.web_edits.items() if k != field}


def marked(row: Any, field: str) -> str | None:
    """When and by whom ``field`` of ``row`` was edited on the web, if it was."""
    edits: dict[str, str] = getattr(row, "web_edits", None) or {}
    return edits.get(field)
