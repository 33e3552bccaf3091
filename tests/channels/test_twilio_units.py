"""The pure parts of the Twilio adapter: segment counting, transliteration, and reading
Twilio's form fields one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.messages import Location, OutboundMessage
from channels.base import Envelope, Template, read_button
from channels.sms_segments import count_segments, is_gsm7, transliterate
from channels.twilio import BadRequest, parse_inbound, window_open

SID = "SM" + "0123456789abcdef" * 2


@pytest.mark.parametrize(
    ("text", "encoding", "units", "count"),
    [
        ("Hello", "GSM-7", 5, 1),
        ("x" * 160, "GSM-7", 160, 1),
        ("x" * 161, "GSM-7", 161, 2),
        ("x" * 306, "GSM-7", 306, 2),
        ("x" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # the extension table costs two septets
        ("€" * 81, "GSM-7", 162, 2),
        ("Café à Niamey", "GSM-7", 13, 1),  # é and à are in GSM-7
        ("Olá", "UCS-2", 3, 1),  # á is not
        ("ã" * 70, "UCS-2", 70, 1),
        ("ã" * 71, "UCS-2", 71, 2),
        ("ã" * 134, "UCS-2", 134, 2),
        ("ã" * 135, "UCS-2", 135, 3),
        ("🙂", "UCS-2", 2, 1),  # a surrogate pair
        ("", "GSM-7", 0, 1),
    ],
)
def test_segments_are_counted_as_the_network_counts_them(
    text: str, encoding: str, units: int, count: int
) -> None:
    segments = count_segments(text)
    assert (segments.encoding, segments.units, segments.count) == (encoding, units, count)


def test_transliteration_makes_portuguese_and_french_gsm7() -> None:
    text = "Não há ação sem informação. Ça va, l’équipe ? Où êtes-vous – «ici»…"
    plain = transliterate(text)
    assert is_gsm7(plain)
    assert plain == 'Nao ha acao sem informacao. Ça va, l\'équipe ? Où etes-vous - "ici"...'


def test_transliteration_leaves_scripts_without_a_latin_stand_in() -> None:
    assert transliterate("مرحبا 🙂") == "مرحبا 🙂"
    assert not is_gsm7(transliterate("مرحبا"))


def form(**fields: str) -> dict[str, str]:
    base = {"MessageSid": SID, "From": "+254722000111", "To": "+254711000000", "Body": "Hello"}
    return {**base, **fields}


def test_an_sms_becomes_an_inbound_message_from_a_tel_address() -> None:
    message = parse_inbound("sms", form())
    assert (message.channel, message.urn, message.text, message.provider_id) == (
        "sms",
        "tel:+254722000111",
        "Hello",
        SID,
    )


def test_whatsapp_reads_location_media_and_buttons() -> None:
    whatsapp = {"From": "whatsapp:+258841234567", "To": "whatsapp:+14155238886"}
    located = parse_inbound(
        "whatsapp", form(**whatsapp, Body="", Latitude="-25.9", Longitude="32.6")
    )
    assert located.urn == "whatsapp:+258841234567" and located.location == Location(-25.9, 32.6)
    media = parse_inbound(
        "whatsapp", form(**whatsapp, Body="", NumMedia="1", MediaContentType0="audio/ogg")
    )
    assert media.media == "audio"
    button = parse_inbound("whatsapp", form(**whatsapp, ButtonPayload="report", Body="Report"))
    assert button.button == "report"


@pytest.mark.parametrize(
    ("channel", "fields", "problem"),
    [
        ("sms", {"MessageSid": ""}, "MessageSid"),
        ("sms", {"MessageSid": "SM123"}, "MessageSid"),
        ("sms", {"From": ""}, "From"),
        ("sms", {"From": "whatsapp:+254722000111"}, "From"),
        ("whatsapp", {"From": "+254722000111"}, "From"),
        ("sms", {"From": "+12"}, "From"),
        ("sms", {"To": ""}, "To"),
        ("sms", {"NumMedia": "many"}, "NumMedia"),
        ("sms", {"NumMedia": "99"}, "NumMedia"),
        ("sms", {"Latitude": "91", "Longitude": "0"}, "Latitude"),
        ("sms", {"Latitude": "north"}, "Latitude"),
        ("sms", {"ButtonPayload": "x" * 300}, "ButtonPayload"),
    ],
)
def test_malformed_fields_are_named(channel: str, fields: dict[str, str], problem: str) -> None:
    if channel == "whatsapp" and "From" not in fields:
        fields = {"From": "whatsapp:+258841234567", **fields}
    with pytest.raises(BadRequest, match=problem):
        parse_inbound(channel, form(**fields))


# ------------------------------------------------ WhatsApp's window and templates

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("envelope", "expected"),
    [
        (Envelope(tracked=True, last_inbound_at=NOW - timedelta(hours=1)), True),
        (Envelope(tracked=True, last_inbound_at=NOW - timedelta(hours=23, minutes=54)), True),
        # last_inbound_at is kept to the minute: the last minutes are not trusted
        (Envelope(tracked=True, last_inbound_at=NOW - timedelta(hours=23, minutes=56)), False),
        (Envelope(tracked=True, last_inbound_at=NOW - timedelta(hours=30)), False),
        (Envelope(tracked=True, last_inbound_at=None), False),  # never wrote
        (Envelope(tracked=False), None),  # a staff or group address: nobody knows
    ],
)
def test_the_window_is_open_for_24_hours_after_the_person_wrote(
    envelope: Envelope, expected: bool | None
) -> None:
    assert window_open(envelope, NOW) is expected


def test_a_template_takes_its_variables_from_the_message() -> None:
    message = OutboundMessage(text="Whole text", meta={"forum": "Eastleigh", "when": 3})
    template = Template("HX" + "0" * 32, {"1": "forum", "2": "when", "3": "text", "4": "gone"})
    assert template.values(message) == {"1": "Eastleigh", "2": "3", "3": "Whole text", "4": ""}


def test_a_button_position_reads_as_the_typed_number() -> None:
    assert read_button("#2") == ("2", None)
    assert read_button("anonymous") == ("", "anonymous")
    form = {
        "MessageSid": SID,
        "From": "whatsapp:+254700000001",
        "To": "whatsapp:+14155238886",
        "Body": "Stay anonymous",
        "ButtonPayload": "#1",
    }
    tapped = parse_inbound("whatsapp", form)
    assert (tapped.text, tapped.button) == ("1", None)
    form["ButtonPayload"] = "anonymous"
    assert parse_inbound("whatsapp", form).button == "anonymous"
