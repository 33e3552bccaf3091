"""Broadcasts and meetings in a real browser against the real server: an admin previews
and sends a broadcast and watches its progress bar fill (the page polls the JSON
progress, no reload), and a forum chair schedules a meeting in the forum's time.

The server sends SMS through the real twilio client to a fake Twilio in this process,
at 0.3 messages a second, so the bar has time to move. Screenshots go to
``tests/browser/artifacts/``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    ADMIN_EMAIL,
    CHAIR_EMAIL,
    Server,
    screenshot,
    sign_in,
    twilio_env,
)
from tests.fakes.twilio_api import FakeTwilio

EASTLEIGH_MEMBERS = ("+254700000101", "+254700000102")  # the demo's, on SMS
ENGLISH = "Clean-up day on Saturday at 9, meet at the chief's camp."
FULL_BAR = """() => {
    const bar = document.querySelector("#progress .bar");
    const width = (e) => e.getBoundingClientRect().width;
    return Math.abs(width(bar.firstElementChild) - width(bar)) < 1;
}"""
FRENCH = "Journée de nettoyage samedi à 9 h, rendez-vous au camp du chef."


@pytest.fixture(scope="module")
def server_env(fake_twilio: FakeTwilio) -> dict[str, str]:
    return twilio_env(fake_twilio, sms_rate=0.3)


def test_an_admin_previews_sends_and_watches_the_bar_fill(
    page: Page, server: Server, fake_twilio: FakeTwilio
) -> None:
    sign_in(page, ADMIN_EMAIL, server.admin_password)
    page.get_by_role("link", name="Broadcasts").click()
    page.get_by_role("link", name="New broadcast").click()
    page.get_by_label("Forum", exact=True).select_option("eastleigh-cpf")
    page.locator("#text_en").fill(ENGLISH)
    page.locator("#text_fr").fill(FRENCH)
    page.get_by_role("button", name="Preview").click()

    expect(page.locator("#recipients")).to_have_text("2")
    expect(page.locator("#stopped")).to_have_text("0")
    expect(page.locator("#by-channel")).to_contain_text("sms")
    expect(page.locator("#by-language tbody tr td")).to_have_text(["en", "2", "1"])
    expect(page.locator("#estimate")).to_have_text("under a minute")
    screenshot(page, "broadcast-preview")

    with page.expect_response(re.compile(r"/api/v1/broadcasts/\d+$")) as polled:
        page.get_by_role("button", name="Send now").click()
        expect(page).to_have_url(re.compile(r"/admin/broadcasts/\d+\?done="))
        page.evaluate("window.notReloaded = true")
    assert polled.value.ok
    bar = page.locator("#progress .bar")
    expect(page.locator("#share")).to_have_text("100%", timeout=20_000)
    expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#sent")).to_have_text("2")
    expect(page.locator("#status")).to_have_text("done", timeout=10_000)
    expect(page.locator("#cancel")).to_have_count(0)  # nothing left to cancel
    assert page.evaluate("window.notReloaded") is True  # the script moved it, in place
    page.wait_for_function(FULL_BAR)  # drawn full width (once its transition ends)
    screenshot(page, "broadcast-progress")
    for number in EASTLEIGH_MEMBERS:
        assert fake_twilio.bodies(number) == [
            f"Announcement from Eastleigh Community Policing Forum:\n{ENGLISH}"
        ]

    page.get_by_role("link", name="Broadcasts").click()
    row = page.locator("table#broadcasts tbody tr").first
    expect(row).to_contain_text("members of Eastleigh Community Policing Forum")
    expect(row).to_contain_text("done")
    screenshot(page, "broadcasts")


def test_a_chair_schedules_a_meeting_in_the_forum_s_time(page: Page, server: Server) -> None:
    sign_in(page, CHAIR_EMAIL, server.chair_password)
    expect(page.locator("header").get_by_role("link", name="Campaigns")).to_have_count(0)
    page.get_by_role("link", name="Meetings").click()
    page.get_by_role("link", name="Schedule a meeting").click()
    day = (datetime.now(ZoneInfo("Africa/Nairobi")) + timedelta(days=3)).date()
    page.get_by_label("Forum", exact=True).select_option("eastleigh-cpf")
    page.get_by_label("Starts at").fill(f"{day}T18:00")
    page.get_by_label("Place").fill("Eastleigh social hall")
    page.locator("#agenda_en").fill("Street lighting on 2nd Avenue")
    screenshot(page, "meeting-new")
    page.get_by_role("button", name="Schedule").click()

    expect(page.locator("p.done")).to_have_text("Scheduled: members will be reminded.")
    expect(page.locator("#when")).to_have_text(re.compile(f"{day} 18:00 Africa/Nairobi$"))
    expect(page.locator("#yes")).to_have_text("0")
    expect(page.locator("#no")).to_have_text("0")
    expect(page.locator("table#notices tbody tr")).to_have_count(2)  # a day and 2 hours before
    screenshot(page, "meeting")

    page.get_by_role("link", name="Meetings").click()
    upcoming = page.locator("table#upcoming tbody tr").filter(has_text="Eastleigh social hall")
    expect(upcoming).to_contain_text(f"{day} 18:00")
    expect(upcoming.locator("td.yes")).to_have_text("0")
    screenshot(page, "meetings")
