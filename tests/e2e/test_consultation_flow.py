"""In a real browser, a whole consultation: an officer proposes a bilateral consultation with two times,
the platform's agent picks one, the officer fixes it (invitations go out), the agent accepts, the officer
moves it, then cancels it. Each person logs in through the real password and TOTP pages."""
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.consultations.models import Consultation
from portal.core import clock
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from tests.e2e.conftest import screenshot
from tests.e2e.test_request_flow import click, go_to, heading_is, log_in, settled

pytestmark = pytest.mark.e2e
SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture
def browser_language():
    return "en-US"


def _local(days: int, hour: int) -> str:
    day = (clock.now().astimezone(SEOUL) + timedelta(days=days)).date()
    return f"{day.isoformat()}T{hour:02d}:00"


def status_is(tab, status: str):
    expect(tab.get_by_role("heading", level=1).locator(".portal-status")).to_have_text(status)
    settled(tab)


def test_propose_choose_schedule_rsvp_reschedule_cancel(app, make, open_tab):
    platform = make.organisation("platform", code="GLOBCHAT", name_en="GlobChat Ltd.", timezone="Europe/London")
    parties = make.parties(agency_code="KCSC", platform=platform, platform_timezone="Europe/London")

    officer = open_tab()
    log_in(officer, parties.officer)
    go_to(officer, "Consultations", "Consultations")
    officer.get_by_role("link", name="New consultation").click()
    heading_is(officer, "New consultation")
    officer.get_by_label("Bilateral consultation").check()
    officer.get_by_label("Title in Korean").fill("삭제 지연 협의")
    officer.get_by_label("Title in English").fill("Removal delays")
    officer.get_by_label("Video call").check()
    officer.get_by_label("Video link (video or hybrid)").fill("https://meet.example.org/kcsc")
    officer.get_by_label("Duration in minutes").fill("60")
    officer.get_by_label("Platforms invited").select_option(label="GlobChat Ltd.")
    click(officer, "Save")
    status_is(officer, "Draft")
    for days in (10, 11):
        officer.get_by_label("Start").fill(_local(days, 10))
        click(officer, "Propose this time")
        settled(officer)
    expect(officer.locator("#times tbody tr")).to_have_count(2)
    click(officer, "Send the proposed times to the invitees")
    status_is(officer, "Finding a time")

    # The agent, in London, sees each time in its zone and in KST, and picks the second.
    agent = open_tab()
    log_in(agent, parties.agent)
    go_to(agent, "Consultations", "Consultations")
    agent.get_by_role("link", name="Removal delays").click()
    status_is(agent, "Finding a time")
    expect(agent.locator("#times")).to_contain_text("Europe/London")
    expect(agent.locator("#times")).to_contain_text("KST")
    agent.locator("#times tbody tr").nth(1).get_by_role("checkbox").check()
    click(agent, "Send our choice")
    settled(agent)

    # The officer sees the choice and fixes that time.
    officer.reload()
    row = officer.locator("#times tbody tr").nth(1)
    expect(row).to_contain_text("GLOBCHAT")
    row.get_by_role("button", name="Fix this time and invite").click()
    status_is(officer, "Scheduled")
    with app.app_context():
        invitations = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == "consultation_invitation")).all()
        assert {m.recipient for m in invitations} >= {parties.agent.email, parties.platform_admin.email}

    # The agent accepts.
    agent.reload()
    status_is(agent, "Scheduled")
    agent.get_by_label("Attends").check()
    click(agent, "Send my answer")
    expect(agent.locator("#participants tbody")).to_contain_text("Attends")
    expect(agent.get_by_role("link", name="Add to my calendar (.ics)")).to_be_visible()

    # The officer moves it, then cancels it.
    officer.reload()
    expect(officer.locator("#participants tbody")).to_contain_text("Attends")
    officer.get_by_label("New start").fill(_local(14, 15))
    officer.get_by_label("Reason", exact=True).fill("The minister attends")
    click(officer, "Reschedule and notify everyone")
    status_is(officer, "Scheduled")
    expect(officer.locator("#participants tbody")).not_to_contain_text("Attends")  # everyone is asked again
    officer.get_by_label("Reason for cancelling").fill("Resolved in writing")
    click(officer, "Cancel the consultation")
    status_is(officer, "Cancelled")
    screenshot(officer, "consultation-cancelled-en")
    with app.app_context():
        consultation = db.session.scalar(select(Consultation))
        assert consultation.sequence == 2
