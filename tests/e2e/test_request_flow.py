"""In a real browser, four people in four browsers: an officer drafts a request and pastes its items, a
supervisor of the same agency issues it, the platform's agent acknowledges it and answers every item, and
the officer closes it. Each logs in through the real password and TOTP pages."""
import re

import pyotp
import pytest
from playwright.sync_api import expect

from portal.accounts.models import Organisation
from portal.extensions import db
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e

REPORTED = (
    "https://victim-site.example/private/alice-123",
    "https://cdn.example.net/v/abcdef",
)


@pytest.fixture
def browser_language():
    return "en-US"


def settled(tab):
    """Let the page shown finish loading (its fonts) before the next click leaves it: an aborted load would
    count as a failed request of the portal."""
    tab.wait_for_load_state()


def heading_is(tab, text: str):
    expect(tab.get_by_role("heading", level=1)).to_contain_text(text)
    settled(tab)


def log_in(tab, user):
    tab.goto("/login")
    tab.get_by_label("E-mail address").fill(user.email)
    tab.get_by_label("Password").fill(user.password)
    tab.get_by_role("button", name="Continue").click()
    heading_is(tab, "Enter your verification code")
    tab.get_by_label("Verification code").fill(pyotp.TOTP(user.totp_secret).now())
    tab.get_by_role("button", name="Verify").click()
    heading_is(tab, "Welcome")


def go_to(tab, entry: str, heading: str):
    """Follow an entry of the main menu to the page of that heading."""
    tab.get_by_role("navigation", name="Main menu").get_by_role("link", name=entry, exact=True).click()
    heading_is(tab, heading)


def status_is(tab, status: str):
    """The status badge beside the request's name."""
    expect(tab.get_by_role("heading", level=1).locator(".portal-status")).to_have_text(status)
    settled(tab)


def outcomes_are(tab, *outcomes: str):
    """The outcome shown in the row of each reported address, in order."""
    for url, outcome in zip(REPORTED, outcomes, strict=True):
        expect(tab.get_by_role("row").filter(has_text=url).get_by_role("cell").nth(-2)).to_have_text(outcome)


def click(tab, button: str):
    tab.get_by_role("button", name=button, exact=True).click()


def confirm(tab, button: str):
    """Click a button of a formal step and accept the question portal.js asks first."""
    tab.once("dialog", lambda dialog: dialog.accept())
    click(tab, button)


def test_officer_drafts_supervisor_issues_platform_answers_officer_closes(app, make, open_tab):
    platform = make.organisation("platform", code="VIDSTREAM", name_en="VidStream Inc.")
    parties = make.parties(agency_code="KCSC", platform=platform)
    with app.app_context():
        platform_label = f"{db.session.get(Organisation, platform).name_en} (VIDSTREAM)"

    # The officer drafts the request and pastes its addresses (one twice, and with a fragment).
    officer = open_tab()
    log_in(officer, parties.officer)
    go_to(officer, "New request", "Draft a new request")
    officer.get_by_label("Platform").select_option(label=platform_label)
    officer.get_by_label("Type").select_option(label="Removal")
    officer.get_by_label("Category").select_option(label="Sexual deepfake")
    officer.get_by_label("Priority").select_option(label="Urgent")
    officer.get_by_label("Legal basis, in your words").fill("Act on Special Cases concerning Sexual Crimes, Art. 14-2")
    officer.get_by_label("Summary in Korean (authoritative)").fill("허위영상물 2건의 삭제를 요청합니다.")
    officer.get_by_label("Summary in English").fill("Please remove two deepfake videos.")
    click(officer, "Save the draft")
    heading_is(officer, "Add items to")
    officer.get_by_label("Addresses, one per line").fill("\n".join((*REPORTED, REPORTED[0] + "#t=10")))
    click(officer, "Add the items")
    expect(officer.get_by_role("status")).to_have_text("2 items added. 1 duplicate merged.")
    status_is(officer, "Draft")
    expect(officer.get_by_role("heading", name="2 items")).to_be_visible()
    click(officer, "Submit for approval")
    status_is(officer, "Awaiting approval")
    draft_label = re.search(r"Draft \d+", officer.get_by_role("heading", level=1).inner_text()).group(0)

    # A supervisor of the same agency finds it among the requests awaiting approval and issues it.
    supervisor = open_tab()
    log_in(supervisor, parties.supervisor)
    go_to(supervisor, "Requests", "Requests")
    supervisor.get_by_role("link", name=draft_label, exact=True).click()
    status_is(supervisor, "Awaiting approval")
    confirm(supervisor, "Approve and issue")
    status_is(supervisor, "Issued")
    reference = re.search(r"KCSC-\d{4}-\d{6}", supervisor.get_by_role("heading", level=1).inner_text()).group(0)

    # The platform's agent finds it in the inbox, acknowledges it and answers each item.
    agent = open_tab()
    log_in(agent, parties.agent)
    go_to(agent, "Requests", "Inbox of requests")
    agent.get_by_role("link", name=reference).click()
    status_is(agent, "Issued")
    for url in REPORTED:  # inert text, never a link
        expect(agent.locator("code.portal-inert-url", has_text=url)).to_be_visible()
        expect(agent.get_by_role("link", name=url)).to_have_count(0)
    click(agent, "Acknowledge receipt")
    status_is(agent, "Acknowledged")
    agent.get_by_label("Select item 1").check()
    agent.get_by_label("Outcome", exact=True).select_option(label="Removed")
    click(agent, "Record the outcome")
    expect(agent.get_by_role("status")).to_have_text("Outcome recorded for 1 item.")
    settled(agent)
    agent.get_by_label("for every item without an outcome").check()
    agent.get_by_label("Outcome", exact=True).select_option(label="Blocked in Korea")
    click(agent, "Record the outcome")
    outcomes_are(agent, "Removed", "Blocked in Korea")
    settled(agent)
    confirm(agent, "Submit the response")
    status_is(agent, "Fully answered")

    # The officer sees the answer and closes the request.
    officer.reload()
    status_is(officer, "Fully answered")
    expect(officer.get_by_role("heading", level=1)).to_contain_text(reference)
    confirm(officer, "Close the request")
    status_is(officer, "Closed")
    outcomes_are(officer, "Removed", "Blocked in Korea")
    screenshot(officer, "request-closed-en")
