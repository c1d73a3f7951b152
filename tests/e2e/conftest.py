"""Browser fixtures: Debian's Chromium driven by Playwright, and the real app served on a free local port.

The browser is the system's `/usr/bin/chromium` (never `playwright install`). Without it the browser tests
are skipped, unless PORTAL_REQUIRE_BROWSER=1 (CI), where a missing browser is a failure.
"""
import os
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Generous for a loaded CI machine; a page of this app answers in milliseconds.
TIMEOUT_MS = 15_000


@pytest.fixture
def app_config():
    """The app as users meet it: CSRF on and the default rate limits (the unit tests turn both off)."""
    return {"WTF_CSRF_ENABLED": True, "RATELIMIT_ENABLED": True}


@pytest.fixture
def live_server(app):
    """The app served by werkzeug in a background thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)  # port 0: the system picks a free one
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def browser():
    # Per test, not per session: Playwright's sync API keeps an asyncio loop running in the main thread while
    # it is started, and code run by later tests (pyHanko's asyncio.run()) cannot start its own meanwhile.
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)"
        if os.environ.get("PORTAL_REQUIRE_BROWSER") == "1":
            pytest.fail(message + " -- PORTAL_REQUIRE_BROWSER=1 makes this a failure", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def browser_language():
    """The browser's language (Accept-Language); override per test module or parametrise."""
    return "ko-KR"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test, so fixtures can tell in their teardown whether it failed.
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


def _open_tab(browser, live_server: str, language: str, failures: list):
    """A fresh browser profile (its own cookies) with one tab that notes our own URLs answering an error."""
    context = browser.new_context(base_url=live_server, locale=language, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    tab.on("response", lambda r: failures.append(f"{r.status} {r.url}")
           if r.url.startswith(live_server) and r.status >= 400 else None)
    tab.on("requestfailed", lambda r: failures.append(f"failed {r.url}") if r.url.startswith(live_server) else None)
    return context, tab


def _close_tabs(request, opened: list, failures: list) -> None:
    """Close the profiles; when the test failed, first save what each tab showed under test-artifacts/."""
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        for number, (_context, tab) in enumerate(opened, 1):
            try:
                screenshot(tab, f"failed-{name}-{number}")
            except Exception:  # a crashed tab must not hide the test's own failure
                pass
    for context, _tab in opened:
        context.close()
    assert failures == [], "requests to the portal that failed"


@pytest.fixture
def page(request, browser, live_server, browser_language):
    """A fresh browser profile per test; fails the test when one of our own URLs answers an error."""
    failures = []
    opened = [_open_tab(browser, live_server, browser_language, failures)]
    yield opened[0][1]
    _close_tabs(request, opened, failures)


@pytest.fixture
def open_tab(request, browser, live_server, browser_language):
    """Opens a browser profile of its own for each person of a test (`open_tab()` returns its tab), with
    the same checks as `page`."""
    failures, opened = [], []

    def open_():
        opened.append(_open_tab(browser, live_server, browser_language, failures))
        return opened[-1][1]

    yield open_
    _close_tabs(request, opened, failures)


def screenshot(page, name: str) -> Path:
    """Saves a full-page screenshot under test-artifacts/ (git-ignored) for a human to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
