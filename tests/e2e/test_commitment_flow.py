"""In a real browser, a whole compliance commitment: the secretariat writes a template, makes a commitment
for a platform and sends it for signature; the platform admin names themself authorised signatory and signs
with name, title, consent and a fresh code; a supervisor of the agency countersigns; the public registry
shows it to anyone, logged in or not; the supervisor renews it (confirming first). Each person logs in
through the real password and TOTP pages.

A signature needs a code of a step later than the login's. The service accepts one step of clock skew
either side (`accounts.services._matching_step`), so the signer enters the code of the next 30-second step,
as an authenticator running a little ahead would show: no sleeping, no change to the database."""
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.commitments.models import AGENCY_SIDE, IN_FORCE, PLATFORM_SIDE, Commitment
from portal.core import clock
from portal.extensions import db
from tests.e2e.conftest import screenshot
from tests.e2e.test_request_flow import click, go_to, heading_is, log_in, settled

pytestmark = pytest.mark.e2e


@pytest.fixture
def browser_language():
    return "en-US"


def next_code(user) -> str:
    """The code of the step after the current one (the login used the current one)."""
    return pyotp.TOTP(user.totp_secret).at(clock.now().timestamp() + 30)


def status_is(tab, status: str):
    expect(tab.locator("#commitment-status")).to_have_text(status)
    settled(tab)


def test_template_commitment_sign_countersign_registry(app, make, open_tab):
    platform = make.organisation("platform", code="GLOBCHAT", name_en="GlobChat Ltd.")
    parties = make.parties(agency_code="KCSC", platform=platform)
    secretariat_user = make.user("secretariat")
    today = clock.now().date()

    # The secretariat writes a template, makes a commitment from it and sends it for signature.
    secretariat = open_tab()
    log_in(secretariat, secretariat_user)
    go_to(secretariat, "Commitments", "Compliance commitments")
    secretariat.get_by_role("link", name="New template").click()
    heading_is(secretariat, "New commitment template")
    secretariat.get_by_label("Title in Korean").fill("24시간 삭제 서약")
    secretariat.get_by_label("Title in English").fill("24-hour removal commitment")
    secretariat.get_by_label("Text in Korean (authoritative)").fill(
        "{{ platform_name_ko }}은(는) {{ effective_from }}부터 24시간 안에 삭제합니다.")
    secretariat.get_by_label("Text in English").fill(
        "{{ platform_name_en }} removes within 24 hours from {{ effective_from }}.")
    click(secretariat, "Save the template")
    heading_is(secretariat, "Compliance commitments")
    secretariat.get_by_role("link", name="New commitment").click()
    secretariat.get_by_label("Platform", exact=True).select_option("GLOBCHAT")
    secretariat.get_by_label("Countersigning agency").select_option("KCSC")
    secretariat.get_by_label("Effective from").fill(today.isoformat())
    secretariat.get_by_label("Valid until").fill((today + timedelta(days=365)).isoformat())
    click(secretariat, "Create the commitment")
    status_is(secretariat, "Draft")
    click(secretariat, "Send for signature")
    status_is(secretariat, "Awaiting signature")
    expect(secretariat.locator("#document-sha256")).to_have_text(_sha(app))
    detail = secretariat.url

    # The platform admin names themself authorised signatory, then signs.
    admin = open_tab()
    log_in(admin, parties.platform_admin)
    admin.goto("/commitments/signatories")
    heading_is(admin, "Authorised signatories")
    admin.locator(f"#signatory-{parties.platform_admin.id}").click()
    settled(admin)
    expect(admin.get_by_role("row").filter(has_text=parties.platform_admin.email)).to_contain_text("Yes")
    admin.goto(detail)
    status_is(admin, "Awaiting signature")
    expect(admin.locator("#consent-text")).to_contain_text(_sha(app))
    admin.get_by_label("Your full name").fill("Jane Doe")
    admin.get_by_label("Your title").fill("General Counsel")
    admin.get_by_label("I agree to the sentence above").check()
    admin.get_by_label("A new code from your authenticator app").fill(next_code(parties.platform_admin))
    click(admin, "Sign")
    status_is(admin, "Signed by the platform")

    # A supervisor of the agency countersigns.
    supervisor = open_tab()
    log_in(supervisor, parties.supervisor)
    supervisor.goto(detail)
    status_is(supervisor, "Signed by the platform")
    supervisor.get_by_label("A new code from your authenticator app").fill(next_code(parties.supervisor))
    click(supervisor, "Countersign")
    status_is(supervisor, "In force")
    expect(supervisor.locator("#commitment-certificate")).to_be_visible()
    screenshot(supervisor, "commitment-in-force-en")

    # Anyone, not logged in, finds it in the public registry.
    public = open_tab()
    public.goto("/registry")
    settled(public)
    row = public.get_by_role("row").filter(has_text="Jane Doe")
    expect(row).to_contain_text("General Counsel")
    expect(row).to_contain_text("In force")
    with app.app_context():
        commitment = db.session.scalar(select(Commitment))
        assert commitment.status == IN_FORCE
        assert {s.side for s in commitment.signatures} == {PLATFORM_SIDE, AGENCY_SIDE}
        reference = commitment.reference

    # The supervisor renews it, after confirming: a new draft that names the commitment it renews.
    supervisor.goto(detail)
    asked = []
    supervisor.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    click(supervisor, "Renew the commitment")
    status_is(supervisor, "Draft")
    assert asked and asked[0].startswith(f"Renew {reference}?")
    expect(supervisor.locator("#commitment-renews")).to_have_text(reference)


def _sha(app) -> str:
    with app.app_context():
        return db.session.scalar(select(Commitment.document_sha256))
