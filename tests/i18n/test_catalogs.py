"""Every language a deployment enables is complete and safe to type in: each message id
translated (not empty, not fuzzy), each placeholder as in English, Babel's plural rule in
each header, dates rendered by Babel, and no word that means one thing in one language
and another thing in another (the keywords of all enabled languages work at once)."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime

import pytest
import yaml
from babel import Locale
from babel.messages.plurals import get_plural

from bot.dispatch_texts import format_when
from bot.i18n import RTL_LANGUAGES, default_locales_dir, load_catalogs
from bot.i18n.status import catalog_status, po_path, read_catalog
from bot.keywords import KEYWORD_MESSAGES
from bot.text import fold
from flows.loader import load_flows
from flows.schema import ChoiceStep
from tests.support import DEMO

DEMO_DATA = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
ENABLED: list[str] = DEMO_DATA["deployment"]["languages"]
ANSWERS = ("yes", "no", "skip", "quick_exit")


def test_the_demo_enables_the_eight_languages() -> None:
    assert sorted(ENABLED) == ["ar", "ckb", "en", "fr", "ha", "pt", "so", "sw"]


@pytest.mark.parametrize("language", ENABLED)
def test_every_enabled_language_is_complete(language: str) -> None:
    [status] = catalog_status(default_locales_dir(), [language])
    assert status.missing == [], f"{language} lacks {status.missing}"
    assert status.fuzzy == [], f"{language} has fuzzy {status.fuzzy}"
    assert status.placeholder_errors == {}, status.placeholder_errors
    assert status.translated == status.total > 100
    assert status.complete


@pytest.mark.parametrize("language", ENABLED)
def test_plural_forms_and_dates_follow_babel(language: str) -> None:
    catalog = read_catalog(po_path(default_locales_dir(), language))
    assert catalog.plural_forms == get_plural(language).plural_forms
    assert Locale.parse(language).language == language  # Babel knows it: no fallback
    when = format_when(datetime(2026, 12, 5, 11, 0, tzinfo=UTC), language, "Africa/Nairobi")
    assert "2026" in when and "5" in when and ("14" in when or "2:00" in when)


def words(kind: str) -> dict[str, set[str]]:
    """Each folded word of ``keyword.<kind>`` with the enabled languages that use it."""
    catalogs, found = load_catalogs(), {}
    for language in ENABLED:
        for word in catalogs.words(language, f"keyword.{kind}"):
            found.setdefault(fold(word), set()).add(language)
    return found


def test_a_global_word_means_one_keyword_in_every_language() -> None:
    meaning: dict[str, str] = {}
    for keyword, message_id in KEYWORD_MESSAGES.items():
        for word in words(message_id.removeprefix("keyword.")):
            assert meaning.setdefault(word, keyword) == keyword, (
                f"{word!r} is {meaning[word]} and {keyword}"
            )


def test_no_answer_word_is_a_keyword_or_another_answer_anywhere() -> None:
    """Keywords are read before answers, at every step, in every enabled language; and
    meeting answers read yes and no in all of them: a yes in one language must be no
    keyword (STOP!) and no no in another."""
    keywords = set().union(*(words(k.removeprefix("keyword.")) for k in KEYWORD_MESSAGES.values()))
    answers = {kind: set(words(kind)) for kind in ANSWERS}
    for kind, found in answers.items():
        assert not found & keywords, f"{kind} words that are keywords: {found & keywords}"
    for a, b in itertools.combinations(ANSWERS, 2):
        assert not answers[a] & answers[b], f"both {a} and {b}: {answers[a] & answers[b]}"
    entry = {fold(w) for ws in DEMO_DATA["protection"]["entry_words"].values() for w in ws}
    assert not entry & (keywords | set().union(*answers.values()))


def test_no_option_a_person_may_type_is_swallowed_by_a_keyword() -> None:
    """Typing an option's label ("Habari" for news) must pick the option, not a keyword
    that means something else ("Ajuda" may open the help: it is what the option does)."""
    catalogs = load_catalogs()
    meaning = {
        word: keyword
        for keyword, message_id in KEYWORD_MESSAGES.items()
        for word in words(message_id.removeprefix("keyword."))
    }
    same = {"menu.help": "help", "menu.language": "language"}
    labels = {
        option.label
        for flow in load_flows().flows.values()
        for step in flow.steps.values()
        if isinstance(step, ChoiceStep)
        for option in step.options
    } | {"language.name", "common.yes", "common.no"}
    clashes = {
        (language, label, catalogs.text(language, label))
        for language in ENABLED
        for label in labels
        if meaning.get(fold(catalogs.text(language, label)), same.get(label)) != same.get(label)
    }
    assert clashes == set()


CAPITALS = re.compile(r"\b[A-Z][A-Z']*[A-Z](?: [A-Z][A-Z']*[A-Z])*\b|\bX\b")
CODE_EXAMPLE = re.compile(r"\b[A-Z]{3}-[A-Z]{3}\b")


@pytest.mark.parametrize("language", [code for code in ENABLED if code not in RTL_LANGUAGES])
def test_a_word_a_text_tells_people_to_send_is_one_the_bot_understands(language: str) -> None:
    """ "Send SKIP", "tuma MENYU": each word in capitals is one of the language's keywords
    or answers (Arabic script has no capitals; its texts are checked end to end)."""
    catalogs = load_catalogs()
    understood = {
        fold(word)
        for kind in (*(m.removeprefix("keyword.") for m in KEYWORD_MESSAGES.values()), *ANSWERS)
        for word in catalogs.words(language, f"keyword.{kind}")
    }
    told = {
        (message_id, word)
        for message_id, text in catalogs.ids(language).items()
        for word in CAPITALS.findall(CODE_EXAMPLE.sub("", text))
    }
    assert len(told) >= 8
    assert {(mid, word) for mid, word in told if fold(word) not in understood} == set()
