"""Global keywords: the words that work at every step, in every deployment language.

The words come from the catalogs (``keyword.menu`` lists "menu, main menu" in
English, "menu, accueil" in French...), so translators own them, and a French
speaker typing STOP or an English speaker typing "aide" is still understood.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import get_args

from bot.i18n import Catalogs, msg
from bot.text import fold
from flows.ports import Keyword

KEYWORDS: tuple[Keyword, ...] = get_args(Keyword)
KEYWORD_MESSAGES: dict[str, str] = {
    "menu": msg("keyword.menu"),
    "back": msg("keyword.back"),
    "help": msg("keyword.help"),
    "language": msg("keyword.language"),
    "stop": msg("keyword.stop"),
    "start": msg("keyword.start"),
}


class KeywordMatcher:
    def __init__(self, catalogs: Catalogs, languages: Iterable[str]) -> None:
        self._words: dict[str, Keyword] = {}
        languages = list(dict.fromkeys([*languages, "en"]))
        for keyword in KEYWORDS:
            # Someone answered in a language they cannot read must be able to say so
            # in theirs: the language words of every catalog work, enabled or not.
            among = catalogs.languages if keyword == "language" else languages
            for word in catalogs.words_in(among, KEYWORD_MESSAGES[keyword]):
                self._words.setdefault(fold(word), keyword)

    def match(self, text: str) -> Keyword | None:
        if len(text) > 40:
            return None
        return self._words.get(fold(text))
