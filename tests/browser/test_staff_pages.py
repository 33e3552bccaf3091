"""The staff pages in a real browser, against the real server: sign-in, the simulator,
the inbox and case page, the dashboard, the audit log and the CSRF guard.

One report is made through the simulator (Telegram look) by Amina, the demo's focal
point for Eastleigh; the tests after it find, work and count that case. Each test
leaves a full-page screenshot in ``tests/browser/artifacts/``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.conftest import (
    ADMIN_EMAIL,
    FOCAL_POINT_EMAIL,
    Server,
    screenshot,
    sign_in,
)

CODE = re.compile(r"\b[A-Z]{3}-[A-Z]{3}\b")
DESCRIPTION = "A phone was taken from a stall at the market yesterday evening."
REPLY = "We are looking into it"


@dataclass(frozen=True)
class Report:
    code: str
    transcript: list[str]  # the bot's words after each step, as the screen showed them


def _bot_answers(page: Page, act: Callable[[], None]) -> str:
    """Do one thing in the simulator; the text of the bubbles the bot answered with."""
    bubbles = page.locator("#chat div.bot")
    before = bubbles.count()
    with page.expect_response("**/api/v1/simulator/messages") as answer:
        act()
    assert answer.value.ok, f"the simulator answered {answer.value.status}"
    after = before + len(answer.value.json()["replies"])
    expect(bubbles).to_have_count(after)
    return "\n".join(bubbles.nth(i).inner_text() for i in range(before, after))


def _type(page: Page, text: str) -> str:
    def act() -> None:
        page.locator("#text").fill(text)
        page.locator("#say").get_by_role("button", name="Send").click()

    return _bot_answers(page, act)


def _choose(page: Page, label: str) -> str:
    last = page.locator("#chat div.bot").last
    button = last.locator("button.choice").filter(has_text=re.compile(f"^{re.escape(label)}$"))
    return _bot_answers(page, button.click)


@pytest.fixture(scope="module")
def report(browser: Browser, server: Server) -> Iterator[Report]:
    """Amina reports a theft in Eastleigh through the simulator, as a Telegram user."""
    context = browser.new_context(base_url=server.base_url, viewport={"width": 1100, "height": 800})
    page = context.new_page()
    try:
        sign_in(page, FOCAL_POINT_EMAIL, server.focal_point_password)
        page.goto("/admin/simulator")
        page.locator("#channel").select_option("telegram")
        transcript = [_type(page, "hello")]  # English, detected: no language menu
        for step in (
            lambda: _choose(page, "Report a concern"),
            lambda: _choose(page, "Theft, burglary or robbery"),
            lambda: _type(page, "Eastleigh"),
            lambda: _type(page, DESCRIPTION),
            lambda: _choose(page, "Stay anonymous"),
            lambda: _choose(page, "Yes"),
        ):
            transcript.append(step())
        screenshot(page, "simulator-report")
        found = CODE.search(transcript[-1])
        assert found, f"no reference code in the last reply: {transcript[-1]!r}"
        yield Report(code=found.group(), transcript=transcript)
    finally:
        context.close()


def test_sign_in_refuses_a_wrong_password_then_opens_the_inbox(page: Page, server: Server) -> None:
    sign_in(page, FOCAL_POINT_EMAIL, "not-her-password")
    expect(page.locator("p.error")).to_have_text("Wrong email or password.")
    expect(page).to_have_url(re.compile(r"/admin/login$"))

    sign_in(page, FOCAL_POINT_EMAIL, server.focal_point_password)
    expect(page).to_have_url(re.compile(r"/admin/cases$"))
    expect(page.get_by_role("heading", name=re.compile("^Inbox"))).to_be_visible()
    expect(page.locator("table#cases")).to_be_visible()
    expect(page.locator("header .who")).to_have_text("Amina Yusuf · focal point")
    screenshot(page, "sign-in-inbox")


def test_a_whole_report_on_telegram_in_the_simulator(report: Report) -> None:
    assert "I will answer in English" in report.transcript[0]  # "hello": detected
    prompts = (
        "What would you like to do?",
        "What is your concern about?",
        "Where did it happen?",
        "Tell us briefly what happened.",
        "Do you want to stay anonymous?",
        "Please check your report:",
        "Your concern has been sent.",
    )
    assert len(report.transcript) == len(prompts)
    for said, prompt in zip(report.transcript, prompts, strict=True):
        assert prompt in said, (prompt, said)
    summary = report.transcript[-2]
    assert "Theft, burglary or robbery" in summary and "Eastleigh" in summary
    assert DESCRIPTION in summary and "Stay anonymous" in summary
    assert f"Your reference code is {report.code}." in report.transcript[-1]


def test_the_case_reaches_the_inbox_and_is_worked(
    page: Page, server: Server, report: Report
) -> None:
    sign_in(page, FOCAL_POINT_EMAIL, server.focal_point_password)
    row = page.locator("table#cases tbody tr").filter(has_text=report.code)
    expect(row).to_contain_text("Eastleigh")
    expect(row.locator(".status")).to_have_text("new")
    row.get_by_role("link", name=report.code).click()

    expect(page).to_have_url(re.compile(f"/admin/cases/{report.code}$"))
    badge = page.locator("h1 .status")
    expect(badge).to_have_text("new")
    expect(page.locator("blockquote")).to_have_text(DESCRIPTION)
    expect(page.locator(".card").first).to_contain_text("an anonymous reporter")

    reply = page.locator("form#reply")
    reply.locator("textarea[name=text]").fill(REPLY)
    reply.get_by_role("button", name="Send reply").click()
    expect(page.locator("p.done")).to_have_text("Sent to the reporter.")
    expect(page.locator("ul.timeline li.outbound")).to_contain_text(REPLY)

    change = page.locator("form#status")
    change.locator("select[name=status]").select_option("acknowledged")
    change.locator("input[name=text]").fill("The stall owner was called")
    change.get_by_role("button", name="Change").click()
    expect(page.locator("p.done")).to_have_text("Status changed to acknowledged.")
    expect(badge).to_have_text("acknowledged")
    expect(badge).to_have_class(re.compile(r"\backnowledged\b"))
    screenshot(page, "case-worked")

    # The reply went to the simulated reporter's outbox: their next message drains it.
    page.goto("/admin/simulator")
    page.locator("#channel").select_option("telegram")
    said = _type(page, "hello")
    screenshot(page, "simulator-relay")
    assert REPLY in said and report.code in said, said


def test_the_dashboard_draws_its_charts(page: Page, server: Server, report: Report) -> None:
    sign_in(page, ADMIN_EMAIL, server.admin_password)
    page.goto("/admin/dashboard")
    assert int(page.locator("#total").inner_text()) >= 1
    expect(page.locator("#by-category svg.chart")).to_have_count(1)
    expect(page.locator("#by-category svg.chart rect").first).to_be_attached()
    columns = page.locator("#by-category svg.chart rect").filter(
        has=page.locator("title", has_text="week of")
    )
    expect(columns.first).to_be_attached()
    expect(page.locator("#by-area svg.chart")).to_have_count(1)
    expect(page.locator("#by-area svg.chart")).to_contain_text("Eastleigh")
    expect(page.locator("#satisfaction svg.chart, #satisfaction p.empty")).to_have_count(1)
    screenshot(page, "dashboard")


def test_the_audit_log_is_for_admins(page: Page, server: Server, report: Report) -> None:
    sign_in(page, ADMIN_EMAIL, server.admin_password)
    page.goto(f"/admin/cases/{report.code}")
    expect(page.locator("blockquote")).to_have_text(DESCRIPTION)
    page.get_by_role("link", name="Audit log").click()

    expect(page).to_have_url(re.compile(r"/admin/audit$"))
    rows = page.locator("table#audit tbody tr").filter(has_text=ADMIN_EMAIL)

    def action(name: str) -> Locator:
        return rows.filter(has=page.locator("td:nth-child(3)", has_text=re.compile(f"^{name}$")))

    expect(action("login").first).to_be_visible()
    read = action("case_read")
    expect(read.first).to_be_visible()
    # The case is named by its code, a link to its page, not by a database id.
    expect(read.first.locator("td:nth-child(4) a")).to_have_text(report.code)
    screenshot(page, "audit")

    page.context.clear_cookies()
    sign_in(page, FOCAL_POINT_EMAIL, server.focal_point_password)
    expect(page.locator("header")).to_contain_text("Amina Yusuf")
    expect(page.locator("header").get_by_role("link", name="Audit log")).to_have_count(0)
    page.goto("/admin/audit")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.locator("table#audit")).to_have_count(0)
    screenshot(page, "audit-refused-focal-point")


def test_refusals_carry_their_status_codes(page: Page, server: Server) -> None:
    wrong = page.request.post(
        "/admin/login", form={"email": FOCAL_POINT_EMAIL, "password": "not-her-password"}
    )
    sign_in(page, FOCAL_POINT_EMAIL, server.focal_point_password)
    audit = page.request.get("/admin/audit")
    missing = page.request.get("/admin/cases/ZZZ-ZZZ")
    assert (wrong.status, audit.status, missing.status) == (401, 403, 404)
    page.goto("/admin/cases/ZZZ-ZZZ")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    screenshot(page, "case-not-found")


def test_a_case_form_without_the_csrf_token_is_refused(
    page: Page, server: Server, report: Report
) -> None:
    sign_in(page, FOCAL_POINT_EMAIL, server.focal_point_password)
    page.goto(f"/admin/cases/{report.code}")
    url = f"/admin/cases/{report.code}"

    forged = page.request.post(url, form={"action": "note", "text": "forged note"}, max_redirects=0)
    assert forged.status == 403, forged.status
    wrong = page.request.post(
        url, form={"action": "note", "text": "forged note", "csrf": "guess"}, max_redirects=0
    )
    assert wrong.status == 403, wrong.status

    # The same request with the page's token goes through: the cookie was sent all along.
    token = page.locator("form#note input[name=csrf]").get_attribute("value")
    assert token
    real = page.request.post(
        url, form={"action": "note", "text": "checked", "csrf": token}, max_redirects=0
    )
    assert real.status == 303 and "done=" in real.headers["location"], real.status

    page.reload()
    expect(page.locator("ul.timeline li.note")).to_contain_text("checked")
    expect(page.locator("ul.timeline")).not_to_contain_text("forged note")
    screenshot(page, "csrf")


def test_an_admin_renames_a_forum_and_widens_its_area(page: Page, server: Server) -> None:
    sign_in(page, ADMIN_EMAIL, server.admin_password)
    page.get_by_role("link", name="Directory").click()
    forums = page.locator("#forums")
    forums.locator("li").filter(has_text="kakuma-cpf").get_by_role("link", name="edit").click()
    expect(page).to_have_url(re.compile(r"/admin/directory/forums/kakuma-cpf$"))
    form = page.locator("form#point")
    form.get_by_label("English").fill("Kakuma Community Safety Forum")
    form.locator("input[name=areas][value=ke-eastleigh]").check()
    form.get_by_role("button", name="Save").click()
    expect(page.locator("p.done")).to_have_text("Saved.")
    expect(form.get_by_label("English")).to_have_value("Kakuma Community Safety Forum")
    expect(form.locator("input[name=areas][value=ke-eastleigh]")).to_be_checked()
    screenshot(page, "directory-forum")
    page.get_by_role("link", name="← Directory").click()
    expect(forums).to_contain_text("Kakuma Community Safety Forum")
    screenshot(page, "directory")


def test_an_admin_makes_a_staff_account_then_deactivates_it(
    browser: Browser, page: Page, server: Server
) -> None:
    sign_in(page, ADMIN_EMAIL, server.admin_password)
    page.goto("/admin/directory/staff/new")
    form = page.locator("form#staff")
    form.get_by_label(re.compile("^Email")).fill("halima@baraza.example")
    form.get_by_label("Name", exact=True).fill("Halima Noor")
    form.get_by_label("Role", exact=True).select_option("focal_point")
    form.get_by_label("role in kakuma-cpf").select_option("focal_point")
    form.get_by_label("Password", exact=True).fill("halima-pass-2207")
    form.get_by_role("button", name="Add the account").click()
    expect(page.locator("p.done")).to_have_text("Created.")
    expect(form.get_by_label("role in kakuma-cpf")).to_have_value("focal_point")
    screenshot(page, "directory-staff")

    other = browser.new_context(base_url=server.base_url)
    halima = other.new_page()
    try:
        sign_in(halima, "halima@baraza.example", "halima-pass-2207")
        expect(halima.locator("header .who")).to_have_text("Halima Noor · focal point")
        # The admin deactivates the account: her open session ends at once.
        form.locator("input[name=active]").uncheck()
        form.get_by_role("button", name="Save").click()
        expect(page.locator("p.done")).to_have_text("Saved.")
        halima.reload()
        expect(halima).to_have_url(re.compile(r"/admin/login"))
        sign_in(halima, "halima@baraza.example", "halima-pass-2207")
        expect(halima.locator("p.error")).to_have_text("Wrong email or password.")
    finally:
        other.close()
    page.goto("/admin/directory")
    expect(page.locator("table#staff tr").filter(has_text="halima@baraza.example")).to_contain_text(
        "focal point of kakuma-cpf"
    )


def test_a_case_is_assigned_from_its_page(page: Page, server: Server, report: Report) -> None:
    sign_in(page, FOCAL_POINT_EMAIL, server.focal_point_password)
    page.goto(f"/admin/cases/{report.code}")
    form = page.locator("form#assign")
    form.get_by_label("assignee").select_option(label="Peter Mwangi (forum chair)")
    form.get_by_role("button", name="Assign").click()
    expect(page.locator("p.done")).to_have_text("Assigned to Peter Mwangi.")
    expect(page.locator(".card").first).to_contain_text("Assigned to Peter Mwangi.")
    expect(page.locator("ul.timeline li.event").last).to_contain_text("assigned to Peter Mwangi")
    screenshot(page, "case-assigned")
