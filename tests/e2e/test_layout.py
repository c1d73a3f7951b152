"""In a real browser: every page each role can reach fits a phone's width (390 px), in Korean and English.

The pages are walked with the test client (tests/pages.py) and each one's HTML is shown in Chromium at the
live server's address, so the portal's own stylesheets and script apply as they do for a user.
"""
import pytest

from tests.e2e.conftest import screenshot
from tests.pages import walk

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1366, "height": 768}


@pytest.fixture
def app_config():
    # The walker logs in and posts through the test client without CSRF tokens; the browser only shows pages.
    return {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}


def _overflowing(tab) -> dict:
    """How far the page is wider than the window, and the widest elements that stick out."""
    return tab.evaluate("""() => {
        const root = document.documentElement, width = root.clientWidth;
        const culprits = [...document.querySelectorAll('main *, header *, footer *')]
            .filter((el) => el.getBoundingClientRect().right > width + 1)
            .slice(0, 5).map((el) => el.tagName.toLowerCase() + (el.className ? '.' + el.className : '')
                + ' ' + Math.round(el.getBoundingClientRect().right));
        // A table squeezed into columns (one or two characters a line) instead of stacked as cards.
        const narrow = [...document.querySelectorAll('table.tbl > tbody > tr > td')]
            .filter((td) => td.textContent.trim() && td.getBoundingClientRect().width < width / 2).length;
        return {scroll: root.scrollWidth, client: width, culprits, narrow};
    }""")


def test_no_page_scrolls_sideways_on_a_phone(app, make, browser, live_server):
    pages = walk(app, make)
    assert len(pages) > 50
    context = browser.new_context(base_url=live_server, viewport=PHONE)
    tab = context.new_page()
    tab.goto("/login")
    wide = []
    try:
        for page in pages:
            tab.set_content(page.html, wait_until="load")
            measured = _overflowing(tab)
            if measured["scroll"] > measured["client"] or measured["narrow"]:
                wide.append(f"{page}: {measured['scroll']} > {measured['client']} {measured['culprits']}, squeezed cells: {measured['narrow']}")
                if len(wide) <= 3:
                    screenshot(tab, f"phone-wide-{len(wide)}")
    finally:
        context.close()
    assert wide == [], "\n".join(wide)
