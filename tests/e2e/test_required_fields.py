"""In a real browser: a required box left empty shows an error under it in the page's language (portal.js, the
text translated by the server in data-required-message), not the browser's own English bubble, and nothing is
sent. The server refuses an empty box too (tests/test_requests_pages.py)."""
import pytest
from playwright.sync_api import expect

from tests.e2e.test_request_flow import click, log_in, settled

pytestmark = pytest.mark.e2e


@pytest.fixture
def browser_language():
    return "en-US"  # the browser's own bubble would be English: the page must say it in Korean


def test_empty_extension_reason_shows_the_korean_error_in_the_page(make, page):
    parties = make.parties()
    request_id = make.request(parties, "issued")
    log_in(page, parties.agent)
    page.goto(f"/requests/{request_id}?lang=ko")
    settled(page)
    posted = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    click(page, "기한 연장 요청")
    error = page.locator("#extension-reason-required-error")
    expect(error).to_have_text("사유를 입력하십시오.")
    expect(error).to_be_visible()
    box = page.locator("#extension-reason")
    expect(box).to_have_attribute("aria-invalid", "true")
    assert "extension-reason-required-error" in box.get_attribute("aria-describedby")
    expect(box).to_be_focused()
    assert posted == []
    box.fill("법무 검토가 필요합니다")  # typing clears the error
    expect(error).to_be_hidden()


def test_empty_message_shows_the_pages_required_error(make, page):
    parties = make.parties()
    request_id = make.request(parties, "issued")
    log_in(page, parties.agent)
    page.goto(f"/requests/{request_id}?lang=ko")
    settled(page)
    click(page, "메시지 전송")
    expect(page.locator("#message-body-required-error")).to_have_text("이 항목은 필수입니다.")  # the words WTForms uses on the server
    expect(page).to_have_url(f"{page.url.split('?')[0]}?lang=ko")
