"""The pure parts, without a database: addresses, text, answers, keys, settings,
routing and area matching over a hand-built directory, catalogs and flow files."""

from __future__ import annotations

import base64
import os
import re
import shutil
import stat
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from bot.areas import AreaIndex
from bot.db import DatabaseURLError, async_url
from bot.directory import AreaInfo, CategoryInfo, Directory, Rule, ServicePoint
from bot.i18n import default_locales_dir, load_catalogs, placeholders
from bot.messages import Choice, Location
from bot.privacy import DecryptionError, Vault
from bot.routing import Route, route_case
from bot.settings import Settings, SettingsError, decode_key, generate_key
from bot.text import clean, fold, has_words
from bot.urns import InvalidURN, parse
from flows.answers import format_reference, match_choice, normalise_reference
from flows.diagram import stale
from flows.loader import FLOWS_DIR, FlowError, load_flows

# --- addresses -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normal", "channel"),
    [
        ("tel:+254 700 000 001", "tel:+254700000001", "sms"),
        ("tel:00254700000001", "tel:+254700000001", "sms"),
        (" TEL:(+254) 700-000-001 ", "tel:+254700000001", "sms"),
        ("whatsapp:+254 700 000 001", "whatsapp:+254700000001", "whatsapp"),
        ("telegram:-100123", "telegram:-100123", "telegram"),
        ("console:Amina", "console:amina", "console"),
    ],
)  # fmt: skip
def test_urns_are_normalised(raw: str, normal: str, channel: str) -> None:
    urn = parse(raw)
    assert str(urn) == normal
    assert urn.channel == channel


@pytest.mark.parametrize(
    "raw",
    ["hello", "sms:+254700000001", "mailto:a@b.c", "tel:12345", "tel:0700000001", "tel:+0123456",
     "tel:call me", "telegram:abc", "console:two words", ":+254700000001", ""],
)  # fmt: skip
def test_junk_and_unknown_schemes_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidURN):
        parse(raw)


# --- text ----------------------------------------------------------------------


def test_clean_drops_controls_and_bidi_keeps_lines_collapses_spaces() -> None:
    assert clean("a\x00b\x07c") == "abc"
    assert clean("pay \u202eevil\u202c here \u2066x\u2069") == "pay evil here x"
    assert clean("  first   line \t\u00a0 end \r\n\n\n  second\tline  ") == (
        "first line end\nsecond line"
    )
    assert clean("\x00\x01\u202e  ") == ""
    assert clean("family 👨\u200d👩\u200d👧") == "family 👨\u200d👩\u200d👧"


def test_clean_treats_a_lone_carriage_return_as_a_line_break() -> None:
    assert clean("Eastleigh\rmarket") == "Eastleigh\nmarket"


def test_fold_ignores_case_accents_and_punctuation() -> None:
    assert fold("  Éastléigh, NORTH!! ") == "eastleigh north"
    assert fold("Gamkalé") == fold("GAMKALE") == "gamkale"
    assert fold("d'Eastleigh") == "d eastleigh"
    assert fold("Straße") == "strasse"
    assert fold("?!...") == ""


def test_has_words() -> None:
    assert not has_words("😀🎉👍🏽")
    assert not has_words("  ?! ")
    assert has_words("ok 👍")
    assert has_words("٣")  # an Arabic-Indic digit is a word character
    assert has_words("ሰላም")


# --- answers -------------------------------------------------------------------

MENU = (
    Choice("report", "Report a concern"),
    Choice("status", "Check a report"),
    Choice("help", "Get help"),
)


@pytest.mark.parametrize(
    ("text", "button", "expected"),
    [
        ("1", None, "report"), (" 3. ", None, "help"), ("", "status", "status"),
        ("2", "help", "help"),  # the button wins over the text
        ("CHECK A REPORT", None, "status"), ("Status", None, "status"),
        ("repot a concern", None, "report"), ("get hlep", None, "help"),
        ("4", None, None), ("0", None, None), ("", "unknown", None),
        ("xyzzy", None, None), ("🙂", None, None),
        ("concern", None, "report"), ("CHECK", None, "status"),  # one word of one label
        ("a", None, None),  # too short to stand for an option
    ],
)  # fmt: skip
def test_match_choice(text: str, button: str | None, expected: str | None) -> None:
    found = match_choice(text, button, MENU)
    assert (found.value if found else None) == expected


def test_match_choice_refuses_to_guess_between_close_labels() -> None:
    close = (Choice("a", "Report a concern"), Choice("b", "Report a concert"))
    assert match_choice("report a concer", None, close) is None
    assert match_choice("report", None, close) is None  # a word both labels have
    assert match_choice("report a concert", None, close) == close[1]


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("kxm-prt", "KXMPRT"), (" KXM PRT ", "KXMPRT"), ("kxm.prt", "KXMPRT"),
        ("KXB-PRT", None),  # B is not in the alphabet
        ("KX0-PRT", None), ("KXM-PR", None), ("KXM-PRTA", None), ("", None),
    ],
)  # fmt: skip
def test_normalise_reference(typed: str, canonical: str | None) -> None:
    assert normalise_reference(typed) == canonical


def test_format_reference_round_trips() -> None:
    assert format_reference("KXMPRT") == "KXM-PRT"
    assert normalise_reference(format_reference("ACDEFG")) == "ACDEFG"


# --- privacy -------------------------------------------------------------------


def test_vault_seals_opens_and_hashes() -> None:
    key = decode_key(generate_key())
    vault = Vault.from_key(key)
    first, second = vault.seal("tel:+254700000001"), vault.seal("tel:+254700000001")
    assert first != second and first[1:13] != second[1:13]  # a fresh nonce each time
    assert b"254700000001" not in first
    assert vault.open(first) == vault.open(second) == "tel:+254700000001"
    assert Vault.from_key(key).open(first) == "tel:+254700000001"
    with pytest.raises(DecryptionError):
        Vault.from_key(decode_key(generate_key())).open(first)
    with pytest.raises(DecryptionError):
        vault.open(first[:-1] + bytes([first[-1] ^ 1]))
    with pytest.raises(DecryptionError):
        vault.open(b"")
    digest = vault.lookup_hash("tel:+254700000001")
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert Vault.from_key(key).lookup_hash("tel:+254700000001") == digest
    assert vault.lookup_hash("tel:+254700000002") != digest
    assert Vault.from_key(decode_key(generate_key())).lookup_hash("tel:+254700000001") != digest


# --- settings ------------------------------------------------------------------


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("BARAZA_ENV", "BARAZA_DATA_KEY", "BARAZA_VAR_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("key", ["", "changeme", "CHANGEME", " secret "])
def test_production_refuses_missing_or_placeholder_key(
    no_env: None, tmp_path: Path, key: str
) -> None:
    settings = Settings(BARAZA_ENV="production", BARAZA_DATA_KEY=key, BARAZA_VAR_DIR=tmp_path)
    with pytest.raises(SettingsError, match="required in production"):
        settings.resolve_data_key()
    assert not settings.key_file.exists()


def test_production_accepts_a_real_key(no_env: None, tmp_path: Path) -> None:
    key = generate_key()
    settings = Settings(BARAZA_ENV="production", BARAZA_DATA_KEY=key, BARAZA_VAR_DIR=tmp_path)
    assert settings.resolve_data_key() == base64.urlsafe_b64decode(key)


def test_development_generates_a_private_key_file_once(no_env: None, tmp_path: Path) -> None:
    var = tmp_path / "var"
    settings = Settings(BARAZA_ENV="development", BARAZA_DATA_KEY="", BARAZA_VAR_DIR=var)
    key = settings.resolve_data_key()
    assert len(key) == 32
    assert settings.key_file == var / "data.key"
    assert stat.S_IMODE(settings.key_file.stat().st_mode) == 0o600
    again = Settings(BARAZA_ENV="development", BARAZA_DATA_KEY="changeme", BARAZA_VAR_DIR=var)
    assert again.resolve_data_key() == key
    assert decode_key(settings.key_file.read_text().strip()) == key


def test_development_key_file_is_never_readable_by_others(
    no_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    modes: list[int] = []
    real_chmod = os.chmod

    def spy(path: Path, mode: int) -> None:
        modes.append(stat.S_IMODE(Path(path).stat().st_mode))
        real_chmod(path, mode)

    monkeypatch.setattr("bot.settings.os.chmod", spy)
    old = os.umask(0o022)
    try:
        Settings(BARAZA_ENV="development", BARAZA_VAR_DIR=tmp_path).resolve_data_key()
    finally:
        os.umask(old)
    assert all(mode & 0o077 == 0 for mode in modes), [oct(m) for m in modes]
    assert stat.S_IMODE((tmp_path / "data.key").stat().st_mode) == 0o600


@pytest.mark.parametrize("key", [base64.urlsafe_b64encode(b"k" * 16).decode(), "!!!not-base64"])
def test_short_or_malformed_keys_are_rejected(no_env: None, tmp_path: Path, key: str) -> None:
    settings = Settings(BARAZA_ENV="development", BARAZA_DATA_KEY=key, BARAZA_VAR_DIR=tmp_path)
    with pytest.raises(SettingsError, match="BARAZA_DATA_KEY"):
        settings.resolve_data_key()
    assert not settings.key_file.exists()


# --- routing and areas over a hand-built directory ------------------------------


Point = tuple[float, float] | None
KENYA, NAIROBI, EASTLEIGH, PUMWANI, TURKANA, KAKUMA, RIVER_N, RIVER_T = range(1, 9)
EASTLEIGH_AT, PUMWANI_AT = (-1.2737, 36.8509), (-1.2833, 36.8389)
# id, key, parent, level, names, aliases, location
AREAS = [
    (KENYA, "ke", None, "country", {"en": "Kenya"}, (), None),
    (NAIROBI, "nairobi", KENYA, "district", {"en": "Nairobi"}, ("NRB",), (-1.2864, 36.8172)),
    (EASTLEIGH, "eastleigh", NAIROBI, "community", {"en": "Eastleigh"}, ("Little Mogadishu",),
     EASTLEIGH_AT),
    (PUMWANI, "pumwani", NAIROBI, "community", {"en": "Pumwani"}, (), PUMWANI_AT),
    (TURKANA, "turkana", KENYA, "district", {"en": "Turkana"}, (), None),
    (KAKUMA, "kakuma", TURKANA, "community", {"en": "Kakuma", "fr": "Kakouma"}, (),
     (3.719, 34.862)),
    (RIVER_N, "riverside-n", NAIROBI, "community", {"en": "Riverside"}, (), None),
    (RIVER_T, "riverside-t", TURKANA, "community", {"en": "Riverside"}, (), None),
]  # fmt: skip
THEFT = CategoryInfo(1, "theft", {"en": "Theft"}, "forum")
POLICE = CategoryInfo(2, "police-conduct", {"en": "Police conduct"}, "forum")
GBV = CategoryInfo(3, "gbv", {"en": "Gender-based violence"}, "protection_unit")
EASTLEIGH_CPF, KENYA_CPF, GBV_DESK = 10, 11, 20


def _point(id_: int, kind: str, at: Point, km: float | None) -> ServicePoint:
    lat, lon = at or (None, None)
    return ServicePoint(id_, f"{kind}-{id_}", kind, {"en": f"{kind} {id_}"}, lat, lon, km)


def make_directory(rules: tuple[Rule, ...]) -> Directory:
    return Directory(
        revision=1,
        name="test",
        languages=("en", "fr"),
        default_language="en",
        programme_queue="Programme",
        areas={row[0]: AreaInfo(*row[:6], None, *(row[6] or (None, None))) for row in AREAS},
        categories=(THEFT, POLICE, GBV),
        forums={
            EASTLEIGH_CPF: _point(EASTLEIGH_CPF, "forum", EASTLEIGH_AT, 5.0),
            KENYA_CPF: _point(KENYA_CPF, "forum", None, None),
        },
        units={GBV_DESK: _point(GBV_DESK, "unit", None, None)},
        forum_coverage={EASTLEIGH: (EASTLEIGH_CPF,), TURKANA: (KENYA_CPF,)},
        unit_coverage={NAIROBI: (GBV_DESK,)},
        rules=rules,
    )


DIRECTORY = make_directory((Rule(POLICE.id, KENYA, KENYA_CPF, None),))


@pytest.mark.parametrize(
    ("category", "area", "at", "expected"),
    [
        (THEFT, EASTLEIGH, None, Route("forum", forum_id=EASTLEIGH_CPF, reason="coverage")),
        (THEFT, KAKUMA, None, Route("forum", forum_id=KENYA_CPF, reason="parent_coverage")),
        # Pumwani has no forum of its own, but is 1.7 km from Eastleigh's (radius 5 km).
        (THEFT, PUMWANI, PUMWANI_AT, Route("forum", forum_id=EASTLEIGH_CPF, reason="location")),
        (THEFT, PUMWANI, (-1.40, 36.95), Route("programme")),  # ~20 km: out of radius
        (THEFT, PUMWANI, None, Route("programme")),
        (POLICE, EASTLEIGH, EASTLEIGH_AT, Route("forum", forum_id=KENYA_CPF, reason="rule")),
        (POLICE, KAKUMA, None, Route("forum", forum_id=KENYA_CPF, reason="rule")),
        (GBV, EASTLEIGH, EASTLEIGH_AT, Route("unit", unit_id=GBV_DESK, reason="parent_coverage")),
        (GBV, KAKUMA, None, Route("programme")),
        (THEFT, None, None, Route("programme")),
    ],
)  # fmt: skip
def test_route_case(category: CategoryInfo, area: int | None, at: Point, expected: Route) -> None:
    assert route_case(DIRECTORY, category, area, Location(*at) if at else None) == expected


def test_rule_to_an_inactive_forum_falls_through_to_coverage() -> None:
    directory = make_directory((Rule(None, None, 99, None),))
    expected = Route("forum", forum_id=EASTLEIGH_CPF, reason="coverage")
    assert route_case(directory, THEFT, EASTLEIGH) == expected


INDEX = AreaIndex(DIRECTORY)


@pytest.mark.parametrize(
    ("typed", "keys"),
    [
        ("Eastleigh", ["eastleigh"]), ("little mogadishu", ["eastleigh"]), ("nrb", ["nairobi"]),
        ("KAKOUMA", ["kakuma"]),  # a French name
        ("pumwáni!", ["pumwani"]), ("Eastlegh", ["eastleigh"]), ("Kakuma 3", ["kakuma"]),
        ("Riverside", ["riverside-n", "riverside-t"]),
        ("qwzxv", []), ("hello there", []), ("", []),
    ],
)  # fmt: skip
def test_area_matching(typed: str, keys: list[str]) -> None:
    assert [c.key for c in INDEX.match(typed, "en").candidates] == keys


def test_area_candidates_are_labelled_with_their_parent() -> None:
    labels = [c.label for c in INDEX.match("riverside", "en").candidates]
    assert labels == ["Riverside (Nairobi)", "Riverside (Turkana)"]
    assert INDEX.match("riverside", "en").unique is None
    assert INDEX.match("Kakuma", "fr").candidates[0].label == "Kakouma (Turkana)"


def test_nearest_area_by_location() -> None:
    near = INDEX.nearest(Location(-1.2740, 36.8512), "en")
    assert near is not None and near.key == "eastleigh"
    kakuma = INDEX.nearest(Location(3.70, 34.85), "en")
    assert kakuma is not None and kakuma.key == "kakuma"
    assert INDEX.nearest(Location(48.85, 2.35), "en") is None  # Paris: too far from anything


# --- database URLs -------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "driver", "database"),
    [
        ("sqlite:///var/baraza.db", "sqlite+aiosqlite", "var/baraza.db"),
        ("sqlite:////srv/baraza.db", "sqlite+aiosqlite", "/srv/baraza.db"),
        ("postgresql://postgres@127.0.0.1:5432/baraza", "postgresql+asyncpg", "baraza"),
        ("postgres://u@h/db", "postgresql+asyncpg", "db"),
    ],
)  # fmt: skip
def test_async_url_picks_the_asyncio_driver(url: str, driver: str, database: str) -> None:
    converted = async_url(url)
    assert converted.drivername == driver
    assert converted.database == database


@pytest.mark.parametrize("url", ["mysql://u@h/db", "oracle://u@h/db", "not a url", ""])
def test_async_url_refuses_other_databases(url: str) -> None:
    with pytest.raises(DatabaseURLError):
        async_url(url)


# --- catalogs and flows --------------------------------------------------------


def test_every_english_message_is_in_every_catalog_with_the_same_placeholders() -> None:
    catalogs = load_catalogs()
    assert {"en", "fr"} <= set(catalogs.languages)
    english = catalogs.ids("en")
    assert len(english) > 20
    for language in catalogs.languages:
        ids = catalogs.ids(language)
        assert sorted(set(english) - set(ids)) == [], language
        mismatched = {
            mid: (placeholders(english[mid]), placeholders(ids[mid]))
            for mid in english
            if placeholders(english[mid]) != placeholders(ids[mid])
        }
        assert mismatched == {}, language


def test_message_ids_used_in_code_exist_in_english() -> None:
    english = load_catalogs().ids("en")
    used = set()
    root = FLOWS_DIR.parent
    for package in ("bot", "flows", "channels", "admin"):
        for source in (root / package).rglob("*.py"):
            used |= set(re.findall(r'\bmsg\("([a-z0-9_.]+)"\)', source.read_text("utf-8")))
    assert len(used) > 10
    assert sorted(used - set(english)) == []


def test_compiled_catalogs_match_their_sources() -> None:
    sources = sorted(default_locales_dir().glob("*/LC_MESSAGES/messages.po"))
    assert len(sources) >= 2
    for po_path in sources:
        with po_path.open("rb") as handle:
            po = {
                _hashable(m.id): _hashable(m.string) for m in read_po(handle) if m.id and m.string
            }
        with po_path.with_suffix(".mo").open("rb") as handle:
            mo = {_hashable(m.id): _hashable(m.string) for m in read_mo(handle) if m.id}
        assert mo == po, po_path


def _hashable(value: object) -> object:
    """A plural entry's id and forms come as lists from one reader, tuples from the other."""
    return tuple(value) if isinstance(value, list | tuple) else value


def test_flow_diagrams_are_up_to_date() -> None:
    assert stale(load_flows(), FLOWS_DIR) == []


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("step: choose_then_menu", "step: nowhere", "step 'to_language' goes to unknown step"),
        ("next: to_help}", "next: to_nowhere}", "step 'main' goes to undefined step 'to_nowhere'"),
        ("flow: status}", "flow: nosuchflow}", "step 'to_status' goes to unknown flow"),
    ],
)
def test_broken_flow_reference_names_the_file(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    for source in FLOWS_DIR.glob("*.yaml"):
        shutil.copy(source, tmp_path / source.name)
    assert set(load_flows(tmp_path).flows) == set(load_flows().flows)
    menu = tmp_path / "menu.yaml"
    body = menu.read_text(encoding="utf-8")
    assert body.count(old) == 1
    menu.write_text(body.replace(old, new), encoding="utf-8")
    with pytest.raises(FlowError) as caught:
        load_flows(tmp_path)
    assert str(caught.value).startswith("menu.yaml: "), str(caught.value)
    assert message in str(caught.value)
