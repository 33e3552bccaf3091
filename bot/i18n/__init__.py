"""Every word a person reads, looked up by message id in the gettext catalogs.

Flows and code name message ids (``report.ask_area``); ``locales/<lang>`` holds
the words. A missing translation falls back to English rather than showing an id,
and ``baraza flows check`` plus the test suite make sure that never ships.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations

import bot
from bot.i18n.bidi import isolate

FALLBACK_LANGUAGE = "en"
RTL_LANGUAGES = {"ar", "ckb", "fa", "ur", "he"}


def default_locales_dir() -> Path:
    return Path(bot.__file__).resolve().parent.parent / "locales"


def msg(message_id: str) -> str:
    """Mark a message id used in code so `make i18n` extracts it."""
    return message_id


class _SafeDict(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _values(language: str, values: dict[str, Any]) -> _SafeDict:
    """Placeholder values as the text takes them: in a right-to-left language, each
    one isolated (``bot.i18n.bidi``) so codes and numbers keep their order."""
    if language not in RTL_LANGUAGES:
        return _SafeDict(values)
    return _SafeDict(
        {
            key: isolate(str(value))
            if isinstance(value, str | int) and not isinstance(value, bool)
            else value
            for key, value in values.items()
        }
    )


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class Catalogs:
    """The compiled catalogs of every language found in a locales directory."""

    def __init__(self, locales_dir: Path) -> None:
        self.locales_dir = locales_dir
        self._translations: dict[str, NullTranslations] = {}
        for mo in sorted(locales_dir.glob("*/LC_MESSAGES/messages.mo")):
            language = mo.parent.parent.name
            with mo.open("rb") as handle:
                self._translations[language] = Translations(handle, domain="messages")

    @property
    def languages(self) -> list[str]:
        return sorted(self._translations)

    def has(self, language: str, message_id: str) -> bool:
        translations = self._translations.get(language)
        return translations is not None and translations.gettext(message_id) != message_id

    def raw(self, language: str, message_id: str) -> str:
        for candidate in (language, FALLBACK_LANGUAGE):
            translations = self._translations.get(candidate)
            if translations is not None:
                text = translations.gettext(message_id)
                if text != message_id:
                    return text
        return message_id

    def text(self, language: str, message_id: str, /, **values: Any) -> str:
        return self.raw(language, message_id).format_map(_values(language, values))

    def plural(self, language: str, message_id: str, count: int, /, **values: Any) -> str:
        """Plural forms: the id names the singular, ``<id>.plural`` the plural."""
        plural_id = f"{message_id}.plural"
        for candidate in (language, FALLBACK_LANGUAGE):
            translations = self._translations.get(candidate)
            if translations is not None and translations.gettext(message_id) != message_id:
                text = translations.ngettext(message_id, plural_id, count)
                return text.format_map(_values(language, {"count": count, **values}))
        return message_id

    def words(self, language: str, message_id: str) -> list[str]:
        """A catalog entry that lists accepted words, comma-separated (keywords, yes/no)."""
        return [w.strip() for w in self.raw(language, message_id).split(",") if w.strip()]

    def words_in(self, languages: Iterable[str], message_id: str) -> dict[str, str]:
        """Accepted words of several languages, mapped to the language they belong to."""
        found: dict[str, str] = {}
        for language in languages:
            if self.has(language, message_id):
                for word in self.words(language, message_id):
                    found.setdefault(word, language)
        return found

    def ids(self, language: str) -> Mapping[str, str]:
        translations = self._translations.get(language)
        catalog = getattr(translations, "_catalog", {})
        return {k: v for k, v in catalog.items() if isinstance(k, str) and k}


@lru_cache(maxsize=4)
def load_catalogs(locales_dir: Path | None = None) -> Catalogs:
    return Catalogs(locales_dir or default_locales_dir())
