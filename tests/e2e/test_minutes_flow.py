"""In a real browser, minutes from draft to amendment: the secretariat drafts them from the agenda, writes a
section, circulates them, the platform's agent comments, the secretariat approves, publishes (locked) and
amends them into version 2, while version 1 stays readable."""
import pytest
from playwright.sync_api import expect

from portal.consultations.services import AgendaEntry
from tests.consultations_support import consultation
from tests.e2e.test_request_flow import click, heading_is, log_in, settled

pytestmark = pytest.mark.e2e


@pytest.fixture
def browser_language():
    return "en-US"


def status_is(tab, status: str):
    expect(tab.locator("#minutes-status")).to_have_text(status)
    settled(tab)


def test_draft_circulate_comment_approve_publish_amend(app, make, open_tab):
    parties = make.parties()
    secretariat = make.user("secretariat", make.organisation("secretariat"))
    meeting = consultation(make, parties.officer, [parties.platform],
                           agenda=[AgendaEntry("삭제 지연", "Removal delays")])

    keeper = open_tab()
    log_in(keeper, secretariat)
    keeper.goto(f"/consultations/{meeting.id}")
    keeper.locator("#consultation-minutes-link").click()
    heading_is(keeper, "Minutes")
    click(keeper, "Draft the minutes from the agenda")
    status_is(keeper, "Draft")
    section = keeper.locator("section.portal-minutes-section").first
    expect(section.get_by_role("heading", level=2)).to_contain_text("Removal delays")
    section.get_by_label("Text in Korean").fill("플랫폼은 삭제 절차를 설명했다.")
    section.get_by_label("Text in English").fill("The platform explained its removal process.")
    section.get_by_role("button", name="Save the section").click()
    settled(keeper)
    expect(keeper.locator("section.portal-minutes-section").first).to_contain_text("explained its removal process")
    keeper.get_by_label("Comment period in days").fill("0")
    click(keeper, "Circulate for comments")
    status_is(keeper, "Circulated for comments")

    agent = open_tab()
    log_in(agent, parties.agent)
    agent.goto(f"/consultations/{meeting.id}")
    agent.locator("#consultation-minutes-link").click()
    status_is(agent, "Circulated for comments")
    agent.get_by_label("Comment", exact=True).fill("Please mention the new appeal channel.")
    click(agent, "Send the comment")
    settled(agent)
    expect(agent.locator("#comments-list")).to_contain_text("new appeal channel")

    keeper.reload()
    expect(keeper.locator("#comments-list")).to_contain_text("new appeal channel")
    click(keeper, "Approve the minutes")
    status_is(keeper, "Approved")
    click(keeper, "Publish the minutes")
    status_is(keeper, "Published")
    expect(keeper.locator("#minutes-locked")).to_be_visible()
    expect(keeper.get_by_role("button", name="Save the section")).to_have_count(0)
    click(keeper, "Amend: make a new version")
    status_is(keeper, "Draft")
    expect(keeper.locator("#minutes-version")).to_contain_text("2")
    expect(keeper.locator("#minutes-version")).to_contain_text("version 1")

    agent.reload()
    status_is(agent, "Published")  # version 1 stays readable; version 2 is a draft of the secretariat
