"""In a real browser: axe-core (node_modules/axe-core, pinned in package.json) finds no violation on any page
each role can reach, in Korean and English, at a desk's width: every page of the walk that differs in its
markup (each endpoint as each role sees it in Korean, and each endpoint in English; `representatives`).

The pages are the walk of tests/pages.py, shown in Chromium at the live server's address as in
test_layout.py, so the portal's own stylesheets and script apply. Every rule axe runs by default counts,
best practices included (`region`: all content inside a landmark).
"""
from collections import defaultdict
from pathlib import Path

import pytest

from tests.e2e.test_layout import DESK
from tests.pages import representatives, walk

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

STILL = "*, *::before, *::after { transition: none !important; animation: none !important; }"


@pytest.fixture
def app_config():
    # The walker logs in and posts through the test client without CSRF tokens; the browser only shows pages.
    return {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}


def _violations(tab) -> list[dict]:
    return tab.evaluate("""async () => {
        const results = await axe.run(document, {resultTypes: ['violations']});
        return results.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' '))}));
    }""")


def test_axe_finds_no_violation_on_any_page(app, make, browser, live_server):
    assert AXE.exists(), f"{AXE} missing: run `make install` (npm ci)"
    pages = representatives(app, walk(app, make))
    assert {page.language for page in pages} == {"ko", "en"} and len(pages) > 50
    # The pages are shown with set_content, where the portal's CSP (no inline script) would refuse axe.
    context = browser.new_context(base_url=live_server, viewport=DESK, bypass_csp=True)
    tab = context.new_page()
    tab.goto("/login")
    found = defaultdict(list)  # (rule, impact, help, elements) -> pages
    try:
        for page in pages:
            tab.set_content(page.html, wait_until="load")
            # Colours are checked as they end, not halfway through a button's transition.
            tab.add_style_tag(content=STILL)
            tab.add_script_tag(path=str(AXE))
            for v in _violations(tab):
                found[(v["id"], v["impact"], v["help"], ", ".join(v["nodes"]))].append(str(page))
    finally:
        context.close()
    listed = [f"{rule} ({impact}) {text} at {elements}: {len(where)} pages, e.g. {where[0]}"
              for (rule, impact, text, elements), where in sorted(found.items())]
    assert not found, f"{len(listed)} kinds of violation:\n" + "\n".join(listed)
