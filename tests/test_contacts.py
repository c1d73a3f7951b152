"""Designated contacts: a platform's escalation addresses, managed by its administrators (and by the system
administrators and the secretariat for any platform), and reached by the tick's escalations over SMTP in
their own language and zone, never with a reported address."""
import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from portal.accounts import services as accounts
from portal.accounts.models import DesignatedContact, Organisation, User
from portal.core import clock, outbox
from portal.core.audit import AuditEvent
from portal.core.exceptions import ValidationError
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.requests.models import Request
from tests.smtp import SMTPServer

ISSUED_AT = datetime(2026, 11, 25, 14, 3, tzinfo=clock.KST)
# An urgent request: 24 hours; very overdue (escalated) past twice that.
ESCALATED_AT = ISSUED_AT + timedelta(hours=48, minutes=1)
SECRET_URLS = ("https://victim-site.example/private/alice-123", "https://cdn.example.net/v/abcdef")
CONTACT = {"name": "Trust & Safety on-call", "email": "On-Call@Platform.test", "language": "ko",
           "timezone": "Asia/Dubai", "notes": "24/7 hotline mailbox"}
MANAGERS = ["system_admin", "secretariat", "platform_admin"]


@pytest.fixture
def smtp(app):
    with SMTPServer() as server:
        app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=server.port)
        yield server


def _contact(app, contact_id: int) -> DesignatedContact:
    with app.app_context():
        contact = db.session.get(DesignatedContact, contact_id)
        db.session.expunge_all()
        return contact


def _contacts(app) -> list[DesignatedContact]:
    with app.app_context():
        contacts = db.session.scalars(select(DesignatedContact).order_by(DesignatedContact.id)).all()
        db.session.expunge_all()
        return contacts


def _events(app, prefix: str = "contact.") -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action.startswith(prefix))
                                  .order_by(AuditEvent.seq)).all()
        db.session.expunge_all()
        return rows


def _manager(auth, make, role: str, platform: int):
    return auth.as_role(role, platform if role == "platform_admin" else None)


# --- Managing contacts -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", MANAGERS)
def test_managers_add_a_contact_to_a_platform_and_it_is_audited(app, auth, client, make, role):
    platform = make.organisation("platform")
    actor = _manager(auth, make, role, platform)
    response = client.post("/admin/contacts/new", data={**CONTACT, "organisation": platform})
    assert response.status_code == 302 and response.location.endswith("/admin/contacts")
    [contact] = _contacts(app)
    assert (contact.organisation_id, contact.email, contact.language, contact.timezone, contact.notes, contact.active) \
        == (platform, "on-call@platform.test", "ko", "Asia/Dubai", "24/7 hotline mailbox", True)
    [event] = _events(app)
    assert (event.action, event.actor_id, event.object_id) == ("contact.created", actor.id, str(contact.id))
    page = client.get("/admin/contacts").data.decode()
    assert "on-call@platform.test" in page and "Trust &amp; Safety on-call" in page and "Asia/Dubai" in page


def test_platform_admin_edits_deactivates_and_reactivates_own_contact(app, auth, client, make):
    admin = auth.as_role("platform_admin")
    contact_id = make.contact(admin.organisation_id, email="old@platform.test")
    form = client.get(f"/admin/contacts/{contact_id}").data.decode()
    assert 'value="old@platform.test"' in form
    response = client.post(f"/admin/contacts/{contact_id}", data={
        **CONTACT, "email": "new@platform.test", "timezone": "Europe/Dublin", "language": "en"})
    assert response.status_code == 302
    contact = _contact(app, contact_id)
    assert (contact.email, contact.timezone, contact.name) == ("new@platform.test", "Europe/Dublin", CONTACT["name"])
    assert client.post(f"/admin/contacts/{contact_id}/deactivate").status_code == 302
    assert not _contact(app, contact_id).active
    assert "Deactivated" in client.get("/admin/contacts").data.decode()
    assert client.post(f"/admin/contacts/{contact_id}/reactivate").status_code == 302
    assert _contact(app, contact_id).active
    updated, deactivated, reactivated = _events(app)
    assert (updated.action, deactivated.action, reactivated.action) == (
        "contact.updated", "contact.deactivated", "contact.reactivated")
    # What changed is named, not the values (no addresses in the append-only log).
    assert updated.details["changed"] == ["email", "name", "notes", "timezone"]
    assert "new@platform.test" not in str(updated.details)


def test_platform_admin_lists_only_own_platforms_contacts(app, auth, client, make):
    admin = auth.as_role("platform_admin")
    make.contact(admin.organisation_id, email="ours@platform.test")
    other = make.organisation("platform")
    make.contact(other, email="theirs@other.test")
    page = client.get("/admin/contacts").data.decode()
    assert "ours@platform.test" in page and "theirs@other.test" not in page
    assert "theirs@other.test" not in client.get(f"/admin/contacts?organisation={other}").data.decode()


@pytest.mark.parametrize("method, suffix, data", [
    ("GET", "", {}),
    ("POST", "", {**CONTACT, "email": "hijacked@evil.test"}),
    ("POST", "/deactivate", {}),
    ("POST", "/reactivate", {}),
])
def test_platform_admin_gets_404_for_another_platforms_contact(app, auth, client, make, method, suffix, data):
    contact_id = make.contact(make.organisation("platform"), email="theirs@other.test", active=suffix != "/reactivate")
    auth.as_role("platform_admin")
    response = client.open(f"/admin/contacts/{contact_id}{suffix}", method=method, data=data)
    assert response.status_code == 404
    contact = _contact(app, contact_id)
    assert contact.email == "theirs@other.test" and contact.active == (suffix != "/reactivate")
    assert _events(app) == []
    assert [e.details["permission"] for e in _events(app, "access.denied")] == ["contact.manage"]


def test_platform_admin_cannot_add_a_contact_to_another_platform(app, auth, client, make):
    admin = auth.as_role("platform_admin")
    other = make.organisation("platform")
    response = client.post("/admin/contacts/new", data={**CONTACT, "organisation": other})
    assert response.status_code == 200 and 'id="organisation-error"' in response.data.decode()
    assert _contacts(app) == []
    # Their own platform is the only one offered, and chosen already.
    page = client.get("/admin/contacts/new").data.decode()
    offered = re.findall(r'<option([^>]*)value="(\d+)"', page.split('name="organisation"')[1].split("</select>")[0])
    assert [(value, "selected" in attributes) for attributes, value in offered] == [(str(admin.organisation_id), True)]


@pytest.mark.parametrize("role", ["platform_agent", "regulator_officer", "regulator_supervisor"])
@pytest.mark.parametrize("method, path", [
    ("GET", "/admin/contacts"), ("GET", "/admin/contacts/new"), ("POST", "/admin/contacts/new"),
    ("GET", "/admin/contacts/{id}"), ("POST", "/admin/contacts/{id}"), ("POST", "/admin/contacts/{id}/deactivate"),
])
def test_roles_without_the_permission_cannot_manage_contacts(app, auth, client, make, role, method, path):
    actor = auth.as_role(role)
    # The agent's own platform's contact: even there, an agent does not manage contacts.
    platform = actor.organisation_id if role == "platform_agent" else make.organisation("platform")
    contact_id = make.contact(platform, email="kept@platform.test")
    response = client.open(path.format(id=contact_id), method=method,
                           data={**CONTACT, "organisation": platform})
    assert response.status_code == 403
    contact = _contact(app, contact_id)
    assert (contact.email, contact.active) == ("kept@platform.test", True)
    assert len(_contacts(app)) == 1 and _events(app) == []


def test_agent_does_not_see_contacts_in_the_menu(auth, client):
    auth.as_role("platform_agent")
    assert "/admin/contacts" not in client.get("/home").data.decode()


def test_platform_admin_finds_contacts_in_the_menu(auth, client):
    auth.as_role("platform_admin")
    assert 'href="/admin/contacts"' in client.get("/home").data.decode()


BAD_INPUT = [
    ({"email": "not-an-address"}, "email", "Enter an e-mail address such as name@example.org."),
    ({"email": "two words@platform.test"}, "email", "Enter an e-mail address such as name@example.org."),
    ({"timezone": "Mars/Olympus"}, "timezone", "Choose a time zone from the list."),
    ({"language": "fr"}, "language", "Choose Korean or English."),
]


@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.parametrize("change, field, message", BAD_INPUT)
def test_bad_input_for_a_new_contact_shows_a_translated_field_error_and_adds_nothing(
        app, auth, client, make, change, field, message, language):
    admin = auth.as_role("platform_admin")
    if language == "ko":
        with app.app_context():
            db.session.get(User, admin.id).language = "ko"
            db.session.commit()
    response = client.post("/admin/contacts/new", data={**CONTACT, "organisation": admin.organisation_id, **change})
    body = response.data.decode()
    assert response.status_code == 200 and f'id="{field}-error"' in body
    with app.test_request_context(), force_locale(language):
        expected = gettext(message)
    assert expected in body
    if language == "ko":
        assert expected != message  # the Korean catalogue has it
    assert _contacts(app) == [] and _events(app) == []


@pytest.mark.parametrize("change, field, message", BAD_INPUT)
def test_bad_input_for_an_existing_contact_changes_nothing(app, auth, client, make, change, field, message):
    admin = auth.as_role("platform_admin")
    contact_id = make.contact(admin.organisation_id, name="Kept", email="kept@platform.test", timezone="Asia/Dubai")
    response = client.post(f"/admin/contacts/{contact_id}", data={**CONTACT, **change})
    assert response.status_code == 200 and f'id="{field}-error"' in response.data.decode()
    contact = _contact(app, contact_id)
    assert (contact.name, contact.email, contact.timezone, contact.language) == (
        "Kept", "kept@platform.test", "Asia/Dubai", "en")
    assert _events(app) == []


def test_an_address_is_a_contact_of_a_platform_once(app, auth, client, make):
    admin = auth.as_role("platform_admin")
    make.contact(admin.organisation_id, email="on-call@platform.test")
    response = client.post("/admin/contacts/new", data={**CONTACT, "organisation": admin.organisation_id})
    assert response.status_code == 200 and 'id="email-error"' in response.data.decode()
    assert len(_contacts(app)) == 1


def test_only_platforms_have_designated_contacts(app, make, ctx):
    agency = make.organisation("agency")
    admin = db.session.get(User, make.user("system_admin").id)
    with pytest.raises(ValidationError) as refused:
        accounts.add_contact(admin, db.session.get(Organisation, agency), **{**CONTACT})
    assert refused.value.field == "organisation"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(DesignatedContact)) == 0


# --- Escalations reach the contacts --------------------------------------------------------------------------

def _escalation_case(make, **contacts):
    """An urgent request to a platform with designated contacts, issued at ISSUED_AT."""
    parties = make.parties()
    ids = {key: make.contact(parties.platform, **fields) for key, fields in contacts.items()}
    with time_machine.travel(ISSUED_AT, tick=False):
        request_id = make.request(parties, "issued", urls=SECRET_URLS, priority="urgent")
    return parties, request_id, ids


def _no_reported_address(text: str):
    for url in SECRET_URLS:
        assert url not in text and url.split("/")[2] not in text


def test_escalation_reaches_designated_contacts_over_smtp_in_their_language(app, make, runner, smtp):
    _parties, request_id, _ids = _escalation_case(
        make,
        korean={"email": "desk@platform.test", "language": "ko", "timezone": "Asia/Seoul", "name": "한국 대응팀"},
        english={"email": "oncall@platform.test", "language": "en", "timezone": "Europe/Dublin", "name": "On-call"},
        retired={"email": "retired@platform.test", "active": False},
    )
    other_platform = make.organisation("platform")
    make.contact(other_platform, email="elsewhere@other.test")
    with time_machine.travel(ESCALATED_AT, tick=False):
        assert runner.invoke(args=["tick"]).exit_code == 0
        with app.app_context():
            outbox.send_pending()
            reference = db.session.get(Request, request_id).reference
    mails = {mail["To"]: mail for mail in smtp.inbox.messages if "Escalation" in mail["Subject"]
             or "상향 보고" in mail["Subject"]}
    assert "retired@platform.test" not in mails and "elsewhere@other.test" not in mails
    korean, english = mails["desk@platform.test"], mails["oncall@platform.test"]
    with app.test_request_context():
        with force_locale("ko"):
            korean_subject = gettext("[%(reference)s] Escalation: request very overdue", reference=reference)
            korean_greeting = gettext("Hello %(name)s,", name="한국 대응팀")
    assert korean["Subject"] == korean_subject and korean["Content-Language"] == "ko"
    assert english["Subject"] == f"[{reference}] Escalation: request very overdue"
    assert english["Content-Language"] == "en"
    korean_body, english_body = korean.get_content(), english.get_content()
    assert korean_greeting in korean_body and "Hello On-call," in english_body
    # The deadline (24 h after issue) in the contact's zone: KST alone, or KST beside Dublin's time.
    assert "2026년 11월 26일 14:03 KST" in korean_body and "Asia/Seoul (" not in korean_body
    assert "26 November 2026, 14:03 KST (26 November 2026, 05:03 Europe/Dublin)" in english_body
    for mail in (korean, english):
        _no_reported_address(mail["Subject"] + mail.get_content())
        assert f"http://portal.test/requests/{request_id}" in mail.get_content()


def test_tick_twice_escalates_to_a_contact_once(app, make, runner, smtp):
    _escalation_case(make, desk={"email": "desk@platform.test"})
    with time_machine.travel(ESCALATED_AT, tick=False):
        for _ in range(2):
            assert runner.invoke(args=["tick"]).exit_code == 0
            with app.app_context():
                outbox.send_pending()
    assert [mail["To"] for mail in smtp.inbox.messages].count("desk@platform.test") == 1
    with app.app_context():
        templates = db.session.scalars(select(OutboxMessage.template)
                                       .where(OutboxMessage.recipient == "desk@platform.test")).all()
    # Reminders and overdue notices are the platform users' business; contacts get the escalation only.
    assert templates == ["deadline_escalation"]


def test_contact_with_an_admins_address_gets_one_escalation(app, make, runner):
    parties, _request_id, _ids = _escalation_case(make)
    make.contact(parties.platform, email=parties.platform_admin.email)
    with time_machine.travel(ESCALATED_AT, tick=False):
        runner.invoke(args=["tick"])
    with app.app_context():
        recipients = db.session.scalars(select(OutboxMessage.recipient)
                                        .where(OutboxMessage.template == "deadline_escalation")).all()
    assert sorted(recipients) == sorted([parties.platform_admin.email, parties.supervisor.email])


def test_escalation_to_a_contact_is_queued_with_the_tick(app, make, runner):
    """No SMTP server: the e-mail waits in the outbox, readable, with no reported address."""
    _escalation_case(make, desk={"email": "desk@platform.test", "language": "ko"})
    with time_machine.travel(ESCALATED_AT, tick=False):
        runner.invoke(args=["tick"])
    with app.app_context():
        [message] = db.session.scalars(select(OutboxMessage)
                                       .where(OutboxMessage.recipient == "desk@platform.test")).all()
        assert (message.status, message.language, message.recipient_user_id) == ("pending", "ko", None)
        _no_reported_address(message.subject + message.body_text)


# --- Demo data -------------------------------------------------------------------------------------------------

def test_demo_seed_names_a_designated_contact_for_each_platform(app, runner):
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    with app.app_context():
        platforms = db.session.scalars(select(Organisation.id).where(Organisation.kind == "platform")).all()
        assert platforms and all(accounts.active_contacts(platform) for platform in platforms)
    # The credentials file still lists people who log in, and only them.
    credentials = json.loads((Path(app.instance_path) / "demo-credentials.json").read_text())
    assert set(credentials) == {"users"}
    assert not {u["email"] for u in credentials["users"]} & {c.email for c in _contacts(app)}
