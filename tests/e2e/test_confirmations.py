"""In a real browser: formal and destructive steps ask first (portal.js, no inline script), say what will happen,
and do nothing when the question is dismissed. Accepting is walked by test_request_flow (issue, respond, close);
the wording of every question, in both languages, by tests/test_confirmations.py."""
import pytest
from playwright.sync_api import expect

from tests.e2e.test_request_flow import click, log_in, settled, status_is

pytestmark = pytest.mark.e2e


@pytest.fixture
def browser_language():
    return "en-US"


def answer(tab, button: str, *, accept: bool) -> str:
    """Click `button`, answer the question asked, and return its text."""
    asked = []

    def on_dialog(dialog):
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    tab.once("dialog", on_dialog)
    click(tab, button)
    settled(tab)
    assert asked, f"{button!r} asked nothing"
    return asked[0]


def test_deleting_a_draft_asks_first(make, page):
    parties = make.parties()
    request_id = make.request(parties, "draft")
    log_in(page, parties.officer)
    page.goto(f"/requests/{request_id}")
    question = answer(page, "Delete the draft", accept=False)
    assert question == "Delete this draft and its 2 items? This cannot be undone."
    status_is(page, "Draft")


def test_approving_asks_in_korean_on_a_korean_page(make, page):
    parties = make.parties()
    request_id = make.request(parties, "awaiting_approval")
    log_in(page, parties.supervisor)
    page.goto(f"/requests/{request_id}?lang=ko")
    question = answer(page, "승인 및 발송", accept=False)
    assert "서명된 통지서" in question
    expect(page.get_by_role("heading", level=1).locator(".portal-status")).to_have_text("승인 대기")


def test_fieldset_titles_are_visible_and_select_all_ticks_every_item(make, page):
    """KRDS hides every legend; ours are shown. "Select all" (portal.js) ticks the items of the form."""
    parties = make.parties()
    request_id = make.request(parties, "draft", urls=("https://a.example/1", "https://a.example/2",
                                                      "https://a.example/3"))
    log_in(page, parties.officer)
    page.goto(f"/requests/{request_id}")
    settled(page)
    legend = page.locator(".portal-internal-note legend")
    assert legend.bounding_box()["width"] > 100
    page.get_by_label("Select all items on this page").check()
    for position in (1, 2, 3):
        expect(page.get_by_label(f"Select item {position}", exact=True)).to_be_checked()
    page.get_by_label("Select all items on this page").uncheck()
    expect(page.get_by_label("Select item 2", exact=True)).not_to_be_checked()
