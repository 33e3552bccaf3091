"""Every bad input gets a clear answer, the conversation stays where it was, nothing is lost."""

from __future__ import annotations

import pytest

from tests.support import Person


async def at_place(person: Person) -> None:
    await person.send("hi")  # English, detected
    await person.send("1")  # report
    await person.send("1")  # theft


async def at_description(person: Person) -> None:
    await at_place(person)
    assert "Tell us briefly" in await person.send("Eastleigh")


async def test_empty_and_whitespace_only_text_is_asked_again(person: Person) -> None:
    await at_description(person)
    for nothing in ("", "   \t  ", "\n\n"):
        answer = await person.send(nothing)
        assert "Your message was empty" in answer and "Tell us briefly" in answer


async def test_twenty_thousand_characters_are_refused_with_the_limit(person: Person) -> None:
    await at_description(person)
    answer = await person.send("a" * 20_000)
    assert "too long (20000 characters)" in answer and "under 3000" in answer
    assert "anonymous" in await person.send("Stolen goats near the mosque.")


async def test_emoji_only_is_not_a_description(person: Person) -> None:
    await at_description(person)
    answer = await person.send("😡😡🔥")
    assert "answer in words" in answer and "Tell us briefly" in answer


async def test_control_characters_and_nul_bytes_are_removed(person: Person) -> None:
    await at_description(person)
    await person.send("Broken\x00 window\x07 at the\u202e shop")
    await person.send("1")
    await person.send("yes")
    [case] = await person.cases()
    assert case.description == "Broken window at the shop"


async def test_a_reply_that_matches_no_option_is_answered_and_asked_again(person: Person) -> None:
    await person.send("hi")
    answer = await person.send("9")
    assert "reply with a number from 1 to 6" in answer and "1 Report a concern" in answer
    answer = await person.send("purple elephant")
    assert "did not understand" in answer
    third = await person.send("0")
    assert "Having trouble? Send MENU" in third  # a hint after three misses
    assert "Theft" in await person.send("report a concern")


async def test_an_unknown_place_is_asked_again(person: Person) -> None:
    await at_place(person)
    answer = await person.send("Xqzvbnm")
    assert 'could not find a place called "Xqzvbnm"' in answer
    assert "Where did it happen" in answer


async def test_a_place_that_matches_several_asks_which_one(person: Person) -> None:
    await at_place(person)
    answer = await person.send("Majengo")
    assert "Several places match" in answer
    assert "Majengo (Kamukunji)" in answer and "Majengo (Turkana West)" in answer
    assert "None of these" in answer
    assert "Tell us briefly" in await person.send("2")
    await person.send("Cattle taken at night.")
    assert "Majengo (Turkana West)" in await person.send("1")


async def test_none_of_these_asks_for_the_place_again(person: Person) -> None:
    await at_place(person)
    await person.send("Majengo")
    assert "Where did it happen" in await person.send("3")
    assert "Tell us briefly" in await person.send("Pumwani")


@pytest.mark.parametrize("media", ["image", "audio", "sticker"])
async def test_media_gets_a_text_only_answer_and_the_step_goes_on(
    person: Person, media: str
) -> None:
    await at_description(person)
    answer = await person.send(media=media)
    assert "only reads text" in answer and "Tell us briefly" in answer
    assert "anonymous" in await person.send("Motorbike stolen.")


async def test_a_yes_or_no_question_accepts_words_and_refuses_others(person: Person) -> None:
    await at_description(person)
    await person.send("Fight outside the bar.")
    await person.send("1")
    assert "Please answer yes or no" in await person.send("maybe")
    assert "reference code" in await person.send("OK")
