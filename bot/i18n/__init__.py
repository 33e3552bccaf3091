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


def msg_plural(message_id: str, plural_id: str) -> str:
    """Mark a message with plural forms (``<id>`` and ``<id>.plural``) so `make i18n`
    extracts it as one (``-k msg_plural:1,2``); each catalog then holds as many forms as
    its language's plural rule has (two in English, six in Arabic)."""
    return message_id


# Messages that show a number of things, and the placeholder that counts them: the
# form shown is chosen by that value, in the reader's language's plural rule.
PLURALS: dict[str, str] = {
    msg_plural("announce.confirm", "announce.confirm.plural"): "members",
    msg_plural("announce.sent", "announce.sent.plural"): "queued",
}


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

    def _lookup(self, language: str, message_id: str, count: int | None) -> str | None:
        """The translation in one language, None when it has none; a plural entry gives
        the form for ``count`` (the singular when no count is known)."""
        translations = self._translations.get(language)
        if translations is None:
            return None
        if (message_id, 0) in getattr(translations, "_catalog", {}):
            n = 1 if count is None else count
            return translations.ngettext(message_id, f"{message_id}.plural", n) or None
        text = translations.gettext(message_id)
        return text if text != message_id else None

    def has(self, language: str, message_id: str) -> bool:
        return self._lookup(language, message_id, None) is not None

    def raw(self, language: str, message_id: str, count: int | None = None) -> str:
        for candidate in (language, FALLBACK_LANGUAGE):
            text = self._lookup(candidate, message_id, count)
            if text is not None:
                return text
        return message_id

    def text(self, language: str, message_id: str, /, **values: Any) -> str:
        counted = values.get(PLURALS.get(message_id, ""))
        count = counted if isinstance(counted, int) and not isinstance(counted, bool) else None
        return self.raw(language, message_id, count).format_map(_values(language, values))

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
        found = {k: v for k, v in catalog.items() if isinstance(k, str) and k}
        found.update({k[0]: v for k, v in catalog.items() if isinstance(k, tuple) and k[1] == 0})
        return found


@lru_cache(maxsize=4)
def load_catalogs(locales_dir: Path | None = None) -> Catalogs:
    return Catalogs(locales_dir or default_locales_dir())
