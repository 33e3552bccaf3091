"""How complete each catalog is: what ``baraza i18n status`` prints and the suite checks.

It reads the ``.po`` sources, not the compiled ``.mo``, because what a translator
needs to know lives there: entries marked fuzzy ("needs work" in Poedit), the
previous id ``pybabel update`` records when it guessed a match (``#| msgid``),
and the header's ``Review-Status`` line (who, if anyone, reviewed the language).

Message ids are keys (``report.done``), so editing the English text changes no
id, and no tool would notice that a translation now says something else. Each
translated entry therefore carries a stamp of the English it was translated from,
a translator comment ``# source: <hash>``; ``baraza i18n stamp`` writes it once a
translator has updated or reviewed the entries, and ``status`` lists the entries
whose English changed since.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

from bot.i18n import FALLBACK_LANGUAGE, placeholders

STAMP = "source: "
REVIEW = "Review-Status:"


@dataclass
class LanguageStatus:
    language: str
    review: str
    total: int
    translated: int = 0
    fuzzy: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    placeholder_errors: dict[str, str] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)  # the English changed since translated

    @property
    def complete(self) -> bool:
        """Every id translated, none fuzzy, every placeholder as in English."""
        return not (self.fuzzy or self.missing or self.placeholder_errors)


def po_path(locales_dir: Path, language: str) -> Path:
    return locales_dir / language / "LC_MESSAGES" / "messages.po"


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def source_stamp(english: tuple[str, ...]) -> str:
    return hashlib.sha1("\x00".join(english).encode("utf-8")).hexdigest()[:10]


def _key(message: Message) -> str | None:
    """A message's id; a plural entry's is its singular id."""
    key = message.id if isinstance(message.id, str) else message.id[0]
    return key or None


def _forms(message: Message | None) -> tuple[str, ...]:
    """The texts of an entry: one, or one per plural form ("" where missing)."""
    if message is None:
        return ("",)
    string = message.string
    if string is None or isinstance(string, str):
        return (string or "",)
    return tuple(str(s or "") for s in string)


def _stamp_of(message: Message) -> str | None:
    for comment in message.user_comments:
        if comment.startswith(STAMP):
            return comment.removeprefix(STAMP).strip()
    return None


def _has_previous(message: Message) -> bool:
    """``pybabel update`` guessed this entry from another id (``#| msgid``); Babel reads
    that line back as a translator comment starting with "|"."""
    return bool(message.previous_id) or any(c.startswith("|") for c in message.user_comments)


def review_status(catalog: Catalog) -> str:
    """The header's ``# Review-Status: ...`` line: source, unreviewed or reviewed (by whom)."""
    for line in (catalog.header_comment or "").splitlines():
        text = line.lstrip("#").strip()
        if text.startswith(REVIEW):
            return text.removeprefix(REVIEW).strip()
    return "unknown"


def languages_in(locales_dir: Path) -> list[str]:
    return sorted(p.parent.parent.name for p in locales_dir.glob("*/LC_MESSAGES/messages.po"))


def english_texts(locales_dir: Path) -> dict[str, tuple[str, ...]]:
    """The reference: every id ``make i18n`` extracted (messages.pot, or the English
    catalog's ids without one) with its English text (its forms, for a plural entry)."""
    english = read_catalog(po_path(locales_dir, FALLBACK_LANGUAGE))
    texts = {key: _forms(m) for m in english if (key := _key(m))}
    template = locales_dir / "messages.pot"
    if template.exists():
        ids = [key for m in read_catalog(template) if (key := _key(m))]
        return {message_id: texts.get(message_id, ("",)) for message_id in ids}
    return texts


def _names(found: set[str]) -> str:
    return " ".join("{" + name + "}" for name in sorted(found)) or "none"


def language_status(
    locales_dir: Path, language: str, english: dict[str, tuple[str, ...]]
) -> LanguageStatus:
    catalog = read_catalog(po_path(locales_dir, language))
    status = LanguageStatus(language, review_status(catalog), total=len(english))
    for message_id, source in english.items():
        message = catalog.get(message_id)
        forms = _forms(message)
        if message is None or not all(forms):
            status.missing.append(message_id)
            continue
        if message.fuzzy:
            status.fuzzy.append(message_id)
        else:
            status.translated += 1
        wanted = placeholders(source[0])
        for found in map(placeholders, forms):
            if wanted != found:
                status.placeholder_errors[message_id] = (
                    f"has {_names(found)}, English has {_names(wanted)}"
                )
        stamp = _stamp_of(message)
        if _has_previous(message) or (stamp is not None and stamp != source_stamp(source)):
            status.changed.append(message_id)
    return status


def catalog_status(
    locales_dir: Path, languages: Iterable[str] | None = None
) -> list[LanguageStatus]:
    english = english_texts(locales_dir)
    chosen = list(languages) if languages is not None else languages_in(locales_dir)
    return [language_status(locales_dir, language, english) for language in chosen]


def stamp(locales_dir: Path, language: str) -> int:
    """Record that the translated, not fuzzy entries of ``language`` match today's English
    (after a translator updated or reviewed them). Returns how many stamps changed."""
    english = english_texts(locales_dir)
    path = po_path(locales_dir, language)
    catalog = read_catalog(path)
    changed = 0
    for message in catalog:
        key = _key(message)
        source = english.get(key) if key else None
        if source is None or not all(_forms(message)) or message.fuzzy:
            continue
        wanted = STAMP + source_stamp(source)
        kept = [c for c in message.user_comments if not c.startswith((STAMP, "|"))]
        if message.user_comments != [*kept, wanted] or message.previous_id:
            message.user_comments = [*kept, wanted]
            message.previous_id = []
            changed += 1
    with path.open("wb") as handle:
        write_po(handle, catalog, sort_output=True, no_location=True, width=76)
    return changed


def report(statuses: list[LanguageStatus], enabled: set[str]) -> list[str]:
    """The table and, per language, the ids a translator has to look at."""
    lines = [
        "language  enabled  review      translated  fuzzy  missing  placeholders  changed",
    ]
    for s in statuses:
        lines.append(
            f"{s.language:9} {'yes' if s.language in enabled else 'no':8} {s.review.split()[0]:11}"
            f" {f'{s.translated}/{s.total}':>10}  {len(s.fuzzy):5}  {len(s.missing):7}"
            f"  {len(s.placeholder_errors):12}  {len(s.changed):7}"
        )
    for s in statuses:
        for title, ids in (("missing", s.missing), ("fuzzy", s.fuzzy), ("changed", s.changed)):
            if ids:
                lines.append(f"{s.language}: {title}: {', '.join(ids)}")
        for message_id, problem in s.placeholder_errors.items():
            lines.append(f"{s.language}: placeholders of {message_id}: {problem}")
    return lines
