"""Compliance commitments: templates in a sandbox, the document's hash fixed before signing, signing by the
authorised signatory only after a fresh TOTP code, countersigning, evidence, reminders once, expiry, and
the public registry that shows only what it should."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.commitments import followup, services, text
from portal.commitments.models import Commitment, Signature
from portal.core import documents, outbox
from portal.core.exceptions import ValidationError
from portal.extensions import db
from tests.commitments_support import NOW, STEP, code_at, commitment, template, world


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _commitment(app, commitment_id) -> Commitment:
    with app.app_context():
        c = db.session.get(Commitment, commitment_id)
        c.signatures  # noqa: B018 -- loaded before leaving the session
        db.session.expunge_all()
        return c


def _sign(client, commitment_id, secret, step, **overrides):
    c = client.application
    with c.app_context():
        sha = db.session.get(Commitment, commitment_id).document_sha256
    data = {"sign-name": "Jane Doe", "sign-title": "General Counsel", "sign-consent": "y",
            "sign-document_sha256": sha, "sign-code": code_at(secret, step), **overrides}
    return client.post(f"/commitments/{commitment_id}/sign", data=data)


# --- The template sandbox ---------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    "{{ config }}", "{{ config.SECRET_KEY }}", "{{ request.environ }}", "{{ self }}",
    "{{ cycler.__init__.__globals__ }}", "{{ namespace }}", "{{ range(10) }}",
    "{{ url_for('site.index') }}", "{% import 'base.html' as b %}", "{% include 'pdf/base.html' %}",
    "{{ db }}", "{{ User }}", "{{ urlopen('http://example.com') }}",
])
def test_template_naming_anything_but_a_placeholder_is_refused(ctx, body):
    with pytest.raises(ValidationError):
        text.check("body_ko", body)


@pytest.mark.parametrize("body", [
    "{{ platform_name_en.__class__.__mro__[1].__subclasses__() }}",
    "{{ platform_name_en.__class__ }}",
    "{{ platform_name_en.format.__globals__ }}",
    "{{ platform_name_en.upper.__self__ }}",
    "{{ (platform_name_en|attr('__class__')) }}",
])
def test_template_cannot_walk_from_a_placeholder_to_anything(ctx, body):
    with pytest.raises(ValidationError):
        text.render("body_en", body, {"platform_name_en": "Example"})


def test_placeholders_are_filled_in(ctx):
    assert text.render("body_en", "{{ platform_name_en|upper }} until {{ valid_until }}",
                       {"platform_name_en": "Example", "valid_until": "2027-05-31"}) == "EXAMPLE until 2027-05-31"


def test_sandbox_output_holds_no_secret(app, make, frozen):
    w = world(make)
    with pytest.raises(ValidationError):
        template(make, w.secretariat, body_en="{{ config['SECRET_KEY'] }}")
    with app.app_context():
        assert app.config["SECRET_KEY"] not in "".join(db.session.scalars(select(Commitment.text_en)))


def test_a_revision_makes_a_new_version_and_the_old_commitment_keeps_its_own(app, make, frozen):
    w = world(make)
    cid = commitment(make, w)
    from portal.core.transaction import unit_of_work

    with app.test_request_context(), unit_of_work():
        by = db.session.get(User, w.secretariat.id)
        old = services.get_template(w.template_id)
        new = services.revise_template(by, old, title_ko="개정", title_en="Revised", body_ko="{{ reference }}",
                                       body_en="{{ reference }}")
        assert (new.code, new.version) == (old.code, old.version + 1)
    c = _commitment(app, cid)
    assert c.template_id == w.template_id and "24" in c.text_en


# --- The document, fixed before anyone signs -------------------------------------------------------------

def test_sending_fixes_the_documents_hash(app, make, frozen):
    w = world(make)
    draft = commitment(make, w, send=False)
    assert _commitment(app, draft).document_sha256 is None
    cid = commitment(make, w)
    c = _commitment(app, cid)
    assert c.status == "awaiting_signature"
    with app.app_context():
        doc = db.session.get(documents.Document, c.document_id)
        assert hashlib.sha256(documents.read_document(doc)).hexdigest() == c.document_sha256 == doc.sha256
        assert doc.kind == "commitment"


def test_signature_refused_when_the_offered_hash_is_not_the_fixed_one(app, make, client, auth, frozen):
    w = world(make)
    cid = commitment(make, w)
    auth.login(w.parties.platform_admin)
    _sign(client, cid, w.parties.platform_admin.totp_secret, STEP + 1, **{"sign-document_sha256": "0" * 64})
    assert _commitment(app, cid).status == "awaiting_signature"


def test_signature_refused_when_the_stored_document_changed(app, make, client, auth, frozen):
    w = world(make)
    cid = commitment(make, w)
    with app.app_context():
        doc = db.session.get(documents.Document, _commitment(app, cid).document_id)
        path = documents.documents_root() / doc.storage_path
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[100] ^= 1
    path.write_bytes(bytes(data))
    auth.login(w.parties.platform_admin)
    _sign(client, cid, w.parties.platform_admin.totp_secret, STEP + 1)
    assert _commitment(app, cid).status == "awaiting_signature"


# --- Signing with a fresh second factor ------------------------------------------------------------------

def test_authorised_signatory_signs_with_a_fresh_code_and_the_record_holds_everything(app, make, client, auth,
                                                                                      frozen):
    w = world(make)
    cid = commitment(make, w)
    auth.login(w.parties.platform_admin)
    assert client.get(f"/commitments/{cid}").status_code == 200
    response = client.post(
        f"/commitments/{cid}/sign", headers={"User-Agent": "SignerBrowser/1.0"},
        data={"sign-name": "Jane Doe", "sign-title": "General Counsel", "sign-consent": "y",
              "sign-document_sha256": _commitment(app, cid).document_sha256,
              "sign-code": code_at(w.parties.platform_admin.totp_secret, STEP + 1)})
    assert response.status_code == 303
    c = _commitment(app, cid)
    assert c.status == "signed"
    (s,) = c.signatures
    assert (s.name, s.title, s.side, s.totp_step, s.document_sha256) == (
        "Jane Doe", "General Counsel", "platform", STEP + 1, c.document_sha256)
    assert s.user_agent == "SignerBrowser/1.0" and s.ip == "127.0.0.1" and s.signed_at is not None
    assert c.document_sha256 in s.consent_text and s.language == "en"
    with app.app_context():
        assert db.session.get(User, w.parties.platform_admin.id).totp_last_step == STEP + 1


@pytest.mark.parametrize("offset", [0, -1])
def test_code_used_for_login_or_an_earlier_step_is_refused(app, make, client, auth, frozen, offset):
    w = world(make)
    cid = commitment(make, w)
    auth.login(w.parties.platform_admin)  # uses the code of STEP
    _sign(client, cid, w.parties.platform_admin.totp_secret, STEP + offset)
    c = _commitment(app, cid)
    assert c.status == "awaiting_signature" and not c.signatures
    with app.app_context():
        assert db.session.get(User, w.parties.platform_admin.id).totp_last_step == STEP


def test_a_signing_code_cannot_be_used_again(app, make, client, auth, frozen):
    w = world(make)
    cid = commitment(make, w)
    auth.login(w.parties.platform_admin)
    secret = w.parties.platform_admin.totp_secret
    assert _sign(client, cid, secret, STEP + 1).status_code == 303
    # The same code once more, for the API this time: refused and nothing changes.
    with app.app_context():
        from portal.core.transaction import unit_of_work
        with app.test_request_context(), unit_of_work():
            from portal.accounts import services as accounts
            user = db.session.get(User, w.parties.platform_admin.id)
            with pytest.raises(ValidationError):
                accounts.verify_fresh_code(user, code_at(secret, STEP + 1), "test")


def test_wrong_code_is_refused(app, make, client, auth, frozen):
    w = world(make)
    cid = commitment(make, w)
    auth.login(w.parties.platform_admin)
    _sign(client, cid, w.parties.platform_admin.totp_secret, STEP + 1, **{"sign-code": "000000"})
    assert _commitment(app, cid).status == "awaiting_signature"


def test_only_the_authorised_signatory_signs(app, make, client, auth, frozen):
    w = world(make)
    cid = commitment(make, w)
    auth.login(w.parties.agent)  # same platform, not named signatory
    response = _sign(client, cid, w.parties.agent.totp_secret, STEP + 1)
    assert response.status_code in (403, 404)
    assert _commitment(app, cid).status == "awaiting_signature"


def test_platform_admin_names_a_signatory(app, make, client, auth, frozen):
    w = world(make)
    auth.login(w.parties.platform_admin)
    assert client.get("/commitments/signatories").status_code == 200
    response = client.post(f"/commitments/signatories/{w.parties.agent.id}", data={"authorised": "1"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(User, w.parties.agent.id).authorised_signatory


def test_platform_admin_cannot_name_another_platforms_user(app, make, client, auth, frozen):
    w = world(make)
    other = make.user("platform_agent")
    auth.login(w.parties.platform_admin)
    assert client.post(f"/commitments/signatories/{other.id}", data={"authorised": "1"}).status_code == 404
    with app.app_context():
        assert not db.session.get(User, other.id).authorised_signatory


@pytest.mark.parametrize("role", ["platform_admin", "regulator_supervisor"])
def test_another_organisations_commitment_is_not_found(app, make, client, auth, frozen, role):
    w = world(make)
    cid = commitment(make, w)
    stranger = make.user(role)
    with app.app_context():
        db.session.get(User, stranger.id).authorised_signatory = True
        db.session.commit()
    auth.login(stranger)
    assert client.get(f"/commitments/{cid}").status_code == 404
    assert client.get(f"/commitments/{cid}/evidence").status_code == 404
    action = "sign" if role == "platform_admin" else "countersign"
    assert client.post(f"/commitments/{cid}/{action}", data={}).status_code == 404


def test_platform_does_not_see_a_draft(app, make, client, auth, frozen):
    w = world(make)
    cid = commitment(make, w, send=False)
    auth.login(w.parties.platform_admin)
    assert client.get(f"/commitments/{cid}").status_code == 404


# --- Countersigning and evidence -------------------------------------------------------------------------

def _signed_and_countersigned(app, make, client, auth, w):
    cid = commitment(make, w)
    auth.login(w.parties.platform_admin)
    assert client.get(f"/commitments/{cid}").status_code == 200  # the signatory views the document
    assert _sign(client, cid, w.parties.platform_admin.totp_secret, STEP + 1).status_code == 303
    auth.logout()
    auth.login(w.parties.supervisor)
    sha = _commitment(app, cid).document_sha256
    response = client.post(f"/commitments/{cid}/countersign", data={
        "countersign-document_sha256": sha,
        "countersign-code": code_at(w.parties.supervisor.totp_secret, STEP + 1)})
    assert response.status_code == 303
    return cid


def test_countersignature_puts_it_in_force_with_a_certificate(app, make, client, auth, frozen):
    w = world(make)
    cid = _signed_and_countersigned(app, make, client, auth, w)
    c = _commitment(app, cid)
    assert c.status == "in_force" and {s.side for s in c.signatures} == {"platform", "agency"}
    with app.app_context():
        cert = db.session.get(documents.Document, c.certificate_id)
        assert cert.kind == "commitment_certificate" and cert.reference == c.reference
        from portal.commitments.evidence import certificate_context

        context = certificate_context(db.session.get(Commitment, cid))
        actions = [e["action"] for e in context["events"]]
        assert actions[:1] == ["commitment.created"] and "commitment.viewed" in actions
        assert "commitment.sign" in actions and "commitment.countersign" in actions
        seqs = [e["seq"] for e in context["events"]]
        assert seqs == sorted(seqs)
        assert context["platform_signature"]["totp_step"] == STEP + 1
        assert context["document_sha256"] == c.document_sha256


def test_countersigning_refuses_a_reused_code(app, make, client, auth, frozen):
    w = world(make)
    cid = commitment(make, w)
    auth.login(w.parties.platform_admin)
    _sign(client, cid, w.parties.platform_admin.totp_secret, STEP + 1)
    auth.logout()
    auth.login(w.parties.supervisor)
    client.post(f"/commitments/{cid}/countersign", data={
        "countersign-document_sha256": _commitment(app, cid).document_sha256,
        "countersign-code": code_at(w.parties.supervisor.totp_secret, STEP)})
    assert _commitment(app, cid).status == "signed"


def test_evidence_pack_lists_each_files_hash(app, make, client, auth, frozen):
    w = world(make)
    cid = _signed_and_countersigned(app, make, client, auth, w)
    response = client.get(f"/commitments/{cid}/evidence")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    manifest = json.loads(archive.read("manifest.json"))
    assert len(manifest["files"]) == 4
    for name, sha in manifest["files"].items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == sha
    assert manifest["document_sha256"] == _commitment(app, cid).document_sha256


def test_withdrawal_needs_a_reason(app, make, client, auth, frozen):
    w = world(make)
    cid = commitment(make, w)
    auth.login(w.parties.supervisor)
    client.post(f"/commitments/{cid}/withdraw", data={"withdraw-reason": ""})
    assert _commitment(app, cid).status == "awaiting_signature"
    client.post(f"/commitments/{cid}/withdraw", data={"withdraw-reason": "Replaced by a statute"})
    assert _commitment(app, cid).status == "withdrawn"


# --- Registry ----------------------------------------------------------------------------------------------

def test_registry_is_public_and_shows_only_what_it_should(app, make, client, auth, frozen):
    w = world(make)
    cid = _signed_and_countersigned(app, make, client, auth, w)
    commitment(make, w)  # awaiting signature: not in the registry
    auth.logout()
    anonymous = app.test_client()
    page = anonymous.get("/registry")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    c = _commitment(app, cid)
    assert "Jane Doe" in html and "General Counsel" in html and c.reference in html
    assert html.count("<tr>") == 2  # the head and one entry
    for hidden in (w.parties.platform_admin.email, c.document_sha256, "127.0.0.1", str(STEP + 1)):
        assert hidden not in html


# --- Jobs -------------------------------------------------------------------------------------------------

def test_renewal_reminders_are_sent_once_each(app, make, client, auth, frozen):
    w = world(make)
    cid = _signed_and_countersigned(app, make, client, auth, w)
    end = _commitment(app, cid).valid_until
    from portal.core.transaction import unit_of_work

    def run(day):
        with time_machine.travel(NOW.replace(year=day.year, month=day.month, day=day.day), tick=False):
            with app.app_context(), unit_of_work():
                return followup.send_renewal_reminders()["reminders"]

    assert run(end - timedelta(days=61)) == 0
    first = run(end - timedelta(days=60))
    assert first >= 2  # the platform admin and the secretariat
    assert run(end - timedelta(days=59)) == 0
    assert run(end - timedelta(days=30)) == first
    assert run(end - timedelta(days=30)) == 0
    assert run(end - timedelta(days=7)) == first
    assert run(end - timedelta(days=3)) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(outbox.OutboxMessage).where(
            outbox.OutboxMessage.template == "commitment_renewal")) == 3 * first


def test_expiry_job_ends_commitments_past_their_term(app, make, client, auth, frozen):
    w = world(make)
    cid = _signed_and_countersigned(app, make, client, auth, w)
    from portal.core.transaction import unit_of_work

    end = _commitment(app, cid).valid_until
    with time_machine.travel(NOW.replace(year=end.year, month=end.month, day=end.day), tick=False):
        with app.app_context(), unit_of_work():
            assert followup.expire_commitments()["expired"] == 0
    day_after = end + timedelta(days=1)
    with time_machine.travel(NOW.replace(year=day_after.year, month=day_after.month, day=day_after.day), tick=False):
        with app.app_context(), unit_of_work():
            assert followup.expire_commitments()["expired"] == 1
    assert _commitment(app, cid).status == "expired"


# --- Pages ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("language", ["ko", "en"])
def test_pages_render_in_both_languages(app, make, client, auth, frozen, language):
    w = world(make)
    cid = commitment(make, w)
    auth.login(w.secretariat)
    for url in ("/commitments/", "/commitments/new", "/commitments/templates/new", f"/commitments/{cid}"):
        assert client.get(f"{url}?lang={language}").status_code == 200, url
    assert app.test_client().get(f"/registry?lang={language}").status_code == 200


def test_template_page_creates_a_version(app, make, client, auth, frozen):
    w = world(make)
    auth.login(w.secretariat)
    response = client.post("/commitments/templates/new", data={
        "title_ko": "월간 보고", "title_en": "Monthly reporting", "body_ko": "{{ platform_name_ko }} 보고",
        "body_en": "{{ platform_name_en }} reports"})
    assert response.status_code == 303
    bad = client.post("/commitments/templates/new", data={
        "title_ko": "x", "title_en": "x", "body_ko": "{{ config }}", "body_en": "x"})
    assert bad.status_code == 303
    with app.app_context():
        from portal.commitments.models import CommitmentTemplate

        assert db.session.scalar(select(func.count()).select_from(CommitmentTemplate)) == 2


def test_demo_seed_names_signatories_and_adds_a_template(app, runner):
    from portal.commitments.models import CommitmentTemplate

    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    with app.app_context():
        admins = db.session.scalars(select(User).where(User.role == "platform_admin")).all()
        assert admins and all(a.authorised_signatory for a in admins)
        assert db.session.scalar(select(func.count()).select_from(CommitmentTemplate)) == 1


def test_platform_endpoint_hears_that_a_commitment_awaits_signature(app, make, frozen):
    from portal.webhooks.models import WebhookEndpoint

    w = world(make)
    with app.app_context():
        db.session.add(WebhookEndpoint(organisation_id=w.parties.platform, url="https://hooks.example.test/in",
                                       secret="s" * 32, events="commitment.awaiting_signature", active=True,
                                       created_by_id=w.parties.platform_admin.id, created_at=NOW))
        db.session.commit()
    cid = commitment(make, w)
    with app.app_context():
        bodies = [m.body_text for m in db.session.scalars(select(outbox.OutboxMessage).where(
            outbox.OutboxMessage.channel == "webhook"))]
    assert len(bodies) == 1
    payload = json.loads(bodies[0])
    assert payload["event"] == "commitment.awaiting_signature" and payload["commitment"]["id"] == cid
