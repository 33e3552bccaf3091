"""The detector's rules one by one: script, lexicon, the deployment's languages only,
the same answer every time, and "not sure" where a person should get the menu."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.i18n.detect import LanguageDetector, Lexicon, langdetect_probabilities

ALL = ["en", "fr", "ar", "pt", "sw", "so", "ckb", "ha"]


def detect(text: str, languages: list[str] = ALL) -> str | None:
    found = LanguageDetector(languages).detect(text)
    return found.language if found.confident else None


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("ژنەکەم نەخۆشە", "ckb"),  # ە ۆ: Sorani's own letters
        ("وێنەکەم", "ckb"),
        ("الشرطة ما جات", "ar"),  # the article, and no Sorani letter
        ("زوجتي مريضة", "ar"),  # ة
    ],
)
def test_arabic_script_is_arabic_or_sorani_by_their_letters(text: str, language: str) -> None:
    assert detect(text) == language


def test_arabic_script_in_a_deployment_without_it_is_not_guessed_at() -> None:
    assert detect("زوجتي مريضة", ["en", "fr"]) is None
    assert detect("ژنەکەم نەخۆشە", ["en", "ar"]) == "ar"  # the one it may be read in


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("habari", "sw"),
        ("sannu", "ha"),
        ("nabad", "so"),
        ("bonjour", "fr"),
        ("ola", "pt"),
        ("Olá!", "pt"),
        ("hello", "en"),
        ("slaw", "ckb"),
        ("marhaba", "ar"),
        ("ina kwana", "ha"),
    ],
)
def test_openers_are_known(text: str, language: str) -> None:
    assert detect(text) == language


@pytest.mark.parametrize("text", ["ok", "1", "?", "👍", "Eastleigh", "menu", "salam", "привет"])
def test_what_could_be_anything_gets_the_menu(text: str) -> None:
    assert detect(text) is None


def test_only_the_deployment_s_languages_are_answered() -> None:
    swahili = "tafadhali nisaidie wezi wamevunja nyumba yangu usiku"
    assert detect(swahili) == "sw"
    assert detect(swahili, ["en", "fr", "pt"]) is None  # not guessed as something else
    assert detect("habari", ["en", "fr"]) is None
    assert detect("sannu da aiki", ["en", "ha"]) == "ha"


def test_hausa_and_kurdish_are_not_langdetect_s_to_answer() -> None:
    assert langdetect_probabilities("an sace min waya a kasuwa", ["ha", "ckb"]) == {}
    hausa = "an sace min waya a kasuwa yau da safe"
    assert set(langdetect_probabilities(hausa, ["en", "sw", "so"])) <= {"en", "sw", "so"}
    assert detect(hausa) == "ha"  # though langdetect would say Somali or Swahili


def test_the_same_text_gets_the_same_answer_every_time() -> None:
    texts = ["ok ok", "na rasa takardu na", "pls help", "una pregunta por favor"]
    first = [LanguageDetector(ALL).detect(t) for t in texts]
    for _ in range(5):
        assert [LanguageDetector(ALL).detect(t) for t in texts] == first


def test_a_lexicon_entry_yaml_reads_as_a_boolean_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.yaml"
    path.write_text("pt:\n  words: [nao, no]\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"pt\.words"):
        Lexicon.load(path)
