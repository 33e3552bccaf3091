"""An awareness campaign in a real browser against the real server: a resident follows
"Safety tips" over SMS (signed webhooks, as Twilio sends them), an admin writes a
two-message series, sends the first at once, sees who started it, and pauses it.

Screenshots go to ``tests/browser/artifacts/``.
"""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ADMIN_EMAIL, Server, screenshot, sign_in, twilio_env
from tests.fakes.twilio_api import FakeTwilio, inbound_sms, signed

RESIDENT = "+254722000777"
TIPS = ("Lock your door at night and keep a torch by the bed.", "Walk home in a group.")


@pytest.fixture(scope="module")
def server_env(fake_twilio: FakeTwilio) -> dict[str, str]:
    return twilio_env(fake_twilio, sms_rate=5)


def _reply_to(fake: FakeTwilio, server: Server, text: str) -> str:
    """The resident texts `text`; the bot's answer as their phone shows it."""
    before = len(fake.bodies(RESIDENT))
    url = f"{server.base_url}/webhooks/twilio/sms"
    params = inbound_sms(text, from_=RESIDENT)
    answer = httpx.post(url, data=params, headers=signed(url, params, fake.auth_token))
    assert answer.status_code == 200, answer.text
    return _next_body(fake, before)


def _next_body(fake: FakeTwilio, before: int) -> str:
    deadline = time.monotonic() + 20
    while len(bodies := fake.bodies(RESIDENT)) <= before:
        assert time.monotonic() < deadline, f"no message after {bodies[-1:]}"
        time.sleep(0.1)
    return bodies[-1]


def test_an_admin_runs_a_campaign_to_a_follower_and_pauses_it(
    page: Page, server: Server, fake_twilio: FakeTwilio
) -> None:
    if "Choose your language" in _reply_to(fake_twilio, server, "Hello, I want the news"):
        _reply_to(fake_twilio, server, "1")  # English, when the first message did not tell
    _reply_to(fake_twilio, server, "menu")
    topics = _reply_to(fake_twilio, server, "6")
    number = re.search(r"^(\d+)\D+Safety tips", topics, re.MULTILINE)
    assert number, topics
    assert "Safety tips" in _reply_to(fake_twilio, server, number.group(1))

    sign_in(page, ADMIN_EMAIL, server.admin_password)
    page.get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name=re.compile("New campaign")).click()
    page.get_by_label("Name").fill("Safe at night")
    page.get_by_label("To the subscribers of").select_option("safety-tips")
    page.get_by_label("Every week on").select_option(label="Monday")
    page.get_by_label("Time").fill("09:00")
    page.locator("#part_0_en").fill(TIPS[0])
    page.get_by_role("button", name="Add a message").click()
    page.locator("#part_1_en").fill(TIPS[1])
    screenshot(page, "campaign-new")
    page.get_by_role("button", name="Create").click()

    expect(page.locator("#state")).to_have_text("running")
    expect(page.locator("#subscribers")).to_have_text("1")
    expect(page.locator("#messages li")).to_have_count(2)
    before = len(fake_twilio.bodies(RESIDENT))
    page.get_by_role("button", name="Send the next message now").click()
    assert TIPS[0] in _next_body(fake_twilio, before)
    page.reload()
    expect(page.locator("#started")).to_have_text("1")
    expect(page.locator("#finished")).to_have_text("0")
    slots = page.locator("table#slots tbody tr")
    sent_now = slots.filter(has_text="Africa/Nairobi").filter(has_not_text="scheduled")
    expect(sent_now.locator("td").nth(4)).to_have_text("1")  # the Sent column
    expect(slots.filter(has_text="scheduled").first).to_be_visible()  # next week's
    screenshot(page, "campaign")

    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#state")).to_have_text("paused")
    expect(page.get_by_role("button", name="Send the next message now")).to_have_count(0)
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    expect(slots.filter(has_text="scheduled")).to_have_count(0)  # next week's is off
    page.get_by_role("link", name="Campaigns").click()
    expect(page.locator("body")).to_contain_text("Safe at night")
    screenshot(page, "campaigns")
    assert not any(TIPS[1] in body for body in fake_twilio.bodies(RESIDENT))
