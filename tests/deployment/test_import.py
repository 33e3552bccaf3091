"""The deployment importer: the demo loads, re-imports are no-ops, bad files write nothing.

Every test that touches a database runs on SQLite and on PostgreSQL (``blank_database``).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select, text

from bot.deployment import DeploymentError, import_file, parse_deployment
from bot.i18n import load_catalogs
from bot.models import (
    Area,
    Category,
    Contact,
    Deployment,
    Forum,
    ForumArea,
    ForumMember,
    ForumStaff,
    ProtectionUnit,
    RoutingRule,
    StaffUser,
    UnitArea,
    UnitStaff,
)
from bot.services import Services
from bot.settings import generate_key
from tests.support import DEMO, ROOT, open_services
from tests.support import test_settings as make_settings

DIRECTORY_MODELS = (
    Deployment,
    Area,
    StaffUser,
    Forum,
    ForumArea,
    ForumStaff,
    ForumMember,
    ProtectionUnit,
    UnitArea,
    UnitStaff,
    Category,
    RoutingRule,
    Contact,
)

# A small valid deployment; the bad variants below are one edit away from it.
BASE = """\
deployment:
  name: Test deployment
  languages: [en, fr]
  default_language: en
areas:
  - key: a
    level: country
    names: {en: Alpha}
  - key: b
    parent: a
    level: district
    names: {en: Beta}
staff:
  - {email: fp@baraza.example, name: Focal Point, role: focal_point}
forums:
  - key: f1
    names: {en: Forum One}
    areas: [b]
    focal_points: [fp@baraza.example]
    members: ["tel:+254 700 000 009"]
categories:
  - {key: theft, routes_to: forum, names: {en: Theft}}
routing:
  - {category: theft, area: a, forum: f1}
"""


def line_of(text_: str, needle: str) -> int:
    """The 1-based number of the only line of ``text_`` containing ``needle``."""
    found = [n for n, line in enumerate(text_.splitlines(), 1) if needle in line]
    assert len(found) == 1, (needle, found)
    return found[0]


def edit(old: str, new: str) -> str:
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


SID = "HX" + "0f" * 16  # a Twilio Content SID

# (id, file text, the needle on the offending line, field path, message fragment)
BAD_FILES: list[tuple[str, str, str, str, str]] = [
    (
        "rule-unknown-forum",
        edit("forum: f1}", "forum: nowhere}"),
        "forum: nowhere",
        "routing[0].forum",
        "unknown forum 'nowhere'",
    ),
    (
        "forum-unknown-area",
        edit("areas: [b]", "areas: [b, atlantis]"),
        "areas: [b, atlantis]",
        "forums[0].areas[1]",
        "unknown area 'atlantis'",
    ),
    (
        "focal-point-not-staff",
        edit("focal_points: [fp@baraza.example]", "focal_points: [ghost@baraza.example]"),
        "ghost@baraza.example",
        "forums[0].focal_points[0]",
        "unknown staff 'ghost@baraza.example'",
    ),
    (
        "area-cycle",
        edit("  - key: a\n    level: country", "  - key: a\n    parent: b\n    level: country"),
        "parent: b",
        "areas[0].parent",
        "cycle in areas: a > b > a",
    ),
    (
        "unknown-top-level-field",
        BASE + "surprise: 1\n",
        "surprise",
        "surprise",
        "Extra inputs are not permitted",
    ),
    (
        "language-without-catalog",
        edit("languages: [en, fr]", "languages: [en, fr, xx]"),
        "languages: [en, fr, xx]",
        "deployment.languages[2]",
        "no catalog for language 'xx'",
    ),
    (
        "template-in-a-language-not-spoken",
        BASE
        + "whatsapp:\n  templates:\n    - kind: announcement\n      language: sw\n"
        + "      content_sid: "
        + SID
        + "\n",
        "language: sw",
        "whatsapp.templates[0].language",
        "must be one of the deployment's languages",
    ),
    (
        "template-twice",
        BASE
        + "whatsapp:\n  templates:\n"
        + "    - {kind: announcement, language: en, content_sid: "
        + SID
        + "}\n"
        + "    - {kind: announcement,  language: en, content_sid: "
        + SID
        + "}\n",
        "- {kind: announcement,  language: en",
        "whatsapp.templates[1]",
        "a second template for announcement/en",
    ),
    (
        "template-sid-malformed",
        BASE + "whatsapp:\n  quick_replies: {2: SM123}\n",
        "quick_replies",
        "whatsapp.quick_replies[2]",
        "String should match pattern",
    ),
    (
        "invalid-yaml",
        edit("  name: Test deployment\n", "  name: [Test deployment\n"),
        "languages: [en, fr]",  # where the parser notices the unclosed '['
        "",
        "not valid YAML",
    ),
    (
        "unknown-time-zone",
        edit("    level: country\n", "    level: country\n    timezone: Africa/Atlantis\n"),
        "timezone: Africa/Atlantis",
        "areas[0].timezone",
        "Africa/Atlantis",
    ),
    (
        "area-key-twice",
        edit("  - key: b\n    parent: a", "  - key: b\n    key: c\n    parent: a"),
        "key: c",
        "",
        "duplicate key 'key'",
    ),
    (
        "topic-twice",
        edit(
            "routing:",
            "topics:\n  - {key: tips, names: {en: Tips}}\n  - {key: tips, names: {en: Again}}\n"
            "routing:",
        ),
        "Again",
        "topics[1].key",
        "duplicate key 'tips'",
    ),
]


def languages() -> set[str]:
    return set(load_catalogs().languages)


async def row_counts(services: Services) -> dict[str, int]:
    async with services.sessions() as db:
        return {
            model.__tablename__: int(await db.scalar(select(func.count()).select_from(model)) or 0)
            for model in DIRECTORY_MODELS
        }


def test_base_file_is_valid() -> None:
    spec = parse_deployment(BASE, "base.yaml", languages())
    assert [a.key for a in spec.areas] == ["a", "b"]
    assert spec.routing[0].forum == "f1"


@pytest.mark.parametrize(
    ("body", "needle", "where", "message"),
    [case[1:] for case in BAD_FILES],
    ids=[case[0] for case in BAD_FILES],
)
def test_bad_file_names_line_and_field(body: str, needle: str, where: str, message: str) -> None:
    with pytest.raises(DeploymentError) as caught:
        parse_deployment(body, "bad.yaml", languages())
    expected = f"bad.yaml:{line_of(body, needle)}: {where + ': ' if where else ''}"
    matching = [p for p in caught.value.problems if p.startswith(expected)]
    assert matching, (expected, caught.value.problems)
    assert any(message in p for p in matching), caught.value.problems


def test_cycle_is_reported_on_both_areas() -> None:
    body = BAD_FILES[3][1]
    with pytest.raises(DeploymentError) as caught:
        parse_deployment(body, "cycle.yaml", languages())
    assert caught.value.problems == [
        f"cycle.yaml:{line_of(body, 'parent: b')}: areas[0].parent: cycle in areas: a > b > a",
        f"cycle.yaml:{line_of(body, 'parent: a')}: areas[1].parent: cycle in areas: b > a > b",
    ]


async def test_demo_imports_everything_in_the_file(blank_database: str, tmp_path: Path) -> None:
    demo = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    services = await open_services(make_settings(blank_database, tmp_path), deployment=None)
    try:
        async with services.sessions() as db, db.begin():
            report = await import_file(db, DEMO, set(services.runtime.catalogs.languages))
        counts = await row_counts(services)
        assert counts["areas"] == len(demo["areas"]) == report.counts["areas"]
        assert counts["forums"] == len(demo["forums"]) == report.counts["forums"]
        assert counts["protection_units"] == len(demo["protection_units"])
        assert counts["categories"] == len(demo["categories"]) == report.counts["categories"]
        assert counts["staff_users"] == len(demo["staff"]) == report.counts["staff"]
        assert counts["routing_rules"] == len(demo["routing"])
        assert counts["forum_members"] == sum(len(f.get("members", [])) for f in demo["forums"])
        assert counts["forum_staff"] == sum(
            len(f.get("chairs", [])) + len(f.get("focal_points", [])) for f in demo["forums"]
        )
        assert counts["deployment"] == 1
        async with services.sessions() as db:
            deployment = await db.scalar(select(Deployment))
            assert deployment is not None and deployment.revision == 1
            assert deployment.languages == ["en", "fr", "pt", "ar", "ckb", "so", "sw", "ha"]
            eastleigh = await db.scalar(select(Area).where(Area.key == "ke-eastleigh"))
            kamukunji = await db.scalar(select(Area).where(Area.key == "ke-kamukunji"))
            assert eastleigh is not None and kamukunji is not None
            assert eastleigh.parent_id == kamukunji.id
            assert "Little Mogadishu" in eastleigh.aliases
            keys = (await db.execute(select(Category.key).order_by(Category.position))).scalars()
            assert list(keys) == [c["key"] for c in demo["categories"]]
    finally:
        await services.close()


async def test_reimport_changes_nothing_then_edits_and_removals_apply(
    blank_database: str, tmp_path: Path
) -> None:
    services = await open_services(make_settings(blank_database, tmp_path), deployment=None)
    langs = set(services.runtime.catalogs.languages)

    async def load(path: Path) -> int:
        async with services.sessions() as db, db.begin():
            return (await import_file(db, path, langs)).changes

    async def revision() -> int:
        async with services.sessions() as db:
            return int(await db.scalar(select(Deployment.revision)) or 0)

    async def forum(key: str) -> Forum:
        async with services.sessions() as db:
            found = await db.scalar(select(Forum).where(Forum.key == key))
            assert found is not None
            return found

    try:
        assert await load(DEMO) > 0
        first = await revision()
        assert await load(DEMO) == 0
        assert await revision() == first

        demo_text = DEMO.read_text(encoding="utf-8")
        renamed = tmp_path / "renamed.yaml"
        old_name = "en: Eastleigh Community Policing Forum,"
        assert demo_text.count(old_name) == 1
        renamed.write_text(demo_text.replace(old_name, "en: Eastleigh Safety Forum,"), "utf-8")
        assert await load(renamed) == 1
        assert await revision() == first + 1
        assert (await forum("eastleigh-cpf")).names["en"] == "Eastleigh Safety Forum"
        assert await load(renamed) == 0

        start = demo_text.index("  - key: kakuma-cpf")
        end = demo_text.index("  - key: niamey-csc")
        removed = tmp_path / "removed.yaml"
        removed.write_text(demo_text[:start] + demo_text[end:], "utf-8")
        assert await load(removed) > 0
        assert await revision() == first + 2
        kakuma = await forum("kakuma-cpf")
        assert kakuma.active is False
        assert (await forum("niamey-csc")).active is True
        assert await load(removed) == 0

        assert await load(DEMO) > 0  # back in the file: active again, old name back
        assert (await forum("kakuma-cpf")).active is True
        assert (await forum("eastleigh-cpf")).names["en"] == "Eastleigh Community Policing Forum"
        assert await revision() == first + 3
    finally:
        await services.close()


async def test_staff_addresses_are_sealed_at_rest(blank_database: str, tmp_path: Path) -> None:
    services = await open_services(make_settings(blank_database, tmp_path))
    try:
        async with services.sessions() as db:
            raw = (await db.execute(text("SELECT email, address FROM staff_users"))).all()
            by_email = {email: address for email, address in raw}
            assert by_email["peter@baraza.example"] is None
            sealed = by_email["amina@baraza.example"]
            assert isinstance(sealed, bytes | memoryview)
            assert b"amina" not in bytes(sealed) and b"console" not in bytes(sealed)
            amina = await db.scalar(
                select(StaffUser).where(StaffUser.email == "amina@baraza.example")
            )
            assert amina is not None
            assert amina.address == "console:amina" and amina.address_channel == "console"
            contact_urns = (await db.execute(text("SELECT urn FROM contacts"))).scalars()
            assert all(b"254700000101" not in bytes(urn) for urn in contact_urns)
    finally:
        await services.close()


async def test_failing_files_write_nothing(blank_database: str, tmp_path: Path) -> None:
    services = await open_services(make_settings(blank_database, tmp_path), deployment=None)
    langs = set(services.runtime.catalogs.languages)
    empty = await row_counts(services)
    assert set(empty.values()) == {0}
    try:
        for name, body, needle, where, _ in BAD_FILES:
            path = tmp_path / f"{name}.yaml"
            path.write_text(body, encoding="utf-8")
            async with services.sessions() as db:
                with pytest.raises(DeploymentError) as caught:
                    await import_file(db, path, langs)
                # Commit whatever the importer may have staged: there must be nothing.
                await db.commit()
            assert any(
                p.startswith(f"{path}:{line_of(body, needle)}: {where}")
                for p in caught.value.problems
            ), caught.value.problems
            assert await row_counts(services) == empty, name

        # A bad edit of a live deployment leaves the previous one untouched too.
        good = tmp_path / "base.yaml"
        good.write_text(BASE, encoding="utf-8")
        async with services.sessions() as db, db.begin():
            await import_file(db, good, langs)
        before = await row_counts(services)
        async with services.sessions() as db:
            revision = await db.scalar(select(Deployment.revision))
        bad = tmp_path / "bad-edit.yaml"
        bad.write_text(
            BASE.replace("{en: Forum One}", "{en: Renamed}").replace("forum: f1}", "forum: x}"),
            encoding="utf-8",
        )
        with pytest.raises(DeploymentError):
            async with services.sessions() as db, db.begin():
                await import_file(db, bad, langs)
        assert await row_counts(services) == before
        async with services.sessions() as db:
            assert await db.scalar(select(Deployment.revision)) == revision
            assert await db.scalar(select(Forum.names).where(Forum.key == "f1")) == {
                "en": "Forum One"
            }
    finally:
        await services.close()


def _run_cli(tmp_path: Path, *args: str, key: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "BARAZA_DATA_KEY": key or generate_key(),
        "BARAZA_VAR_DIR": str(tmp_path / "var"),
        "BARAZA_ENV": "test",
    }
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "baraza"), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("case", [BAD_FILES[0], BAD_FILES[3]], ids=lambda c: c[0])
def test_cli_import_of_a_bad_file_fails_with_file_and_line(
    tmp_path: Path, case: tuple[str, str, str, str, str]
) -> None:
    _, body, needle, where, message = case
    bad = tmp_path / "BAD.yaml"
    bad.write_text(body, encoding="utf-8")
    result = _run_cli(tmp_path, "import", str(bad))
    assert result.returncode == 2, result.stderr
    assert f"{bad}:{line_of(body, needle)}: {where}: " in result.stderr
    assert message in result.stderr
    assert f"error: {bad}: nothing imported" in result.stderr
    assert "imported" not in result.stdout
    connection = sqlite3.connect(tmp_path / "cli.db")
    try:
        for table in ("deployment", "areas", "forums", "staff_users", "routing_rules"):
            assert connection.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
    finally:
        connection.close()


def test_cli_import_of_the_demo_succeeds_then_changes_nothing(tmp_path: Path) -> None:
    demo = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    key = generate_key()
    first = _run_cli(tmp_path, "import", str(DEMO), key=key)
    assert first.returncode == 0, first.stderr
    assert f"{len(demo['areas'])} areas" in first.stdout
    assert f"{len(demo['forums'])} forums" in first.stdout
    assert "change(s)" in first.stdout
    again = _run_cli(tmp_path, "import", str(DEMO), key=key)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().endswith("; no changes")
