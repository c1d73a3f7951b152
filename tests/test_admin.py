"""Administration pages: organisations, users and invitations, the audit log and its CSV export, the outbox."""
import csv
import io
import re
from datetime import datetime, timezone

import pytest
import time_machine
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from portal.accounts import services as accounts
from portal.accounts.models import Invitation, Organisation, User, UserSession
from portal.admin.services import AUDIT_PER_PAGE
from portal.core import audit, policy
from portal.core.audit import AuditEvent
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from tests.factories import Auth

BOM = b"\xef\xbb\xbf"
NOT_SYSTEM_ADMIN = sorted(set(policy.ROLES) - {"system_admin"})


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
        db.session.expunge_all()
        return rows


def _record(app, action: str, n: int = 1, actor_id: int | None = None, **fields) -> None:
    """Audit events as a service would write them (actor, organisation, object) without a page."""
    with app.test_request_context():
        actor = db.session.get(User, actor_id) if actor_id else None
        for _ in range(n):
            audit.record(action, actor=actor, **fields)
        db.session.commit()


def _seqs(html: str) -> list[int]:
    return [int(seq) for seq in re.findall(r'<th scope="row">(\d+)</th>', html)]


def _csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.data[len(BOM):].decode("utf-8"))))


# --- Organisations ----------------------------------------------------------------------------------------

ORGANISATION = {"code": "kcc", "kind": "agency", "name_ko": "방송통신위원회", "name_en": "Korea Communications Commission",
                "country": "kr", "timezone": "Asia/Seoul"}


def test_system_admin_creates_an_organisation(app, auth, client):
    auth.as_role("system_admin")
    response = client.post("/admin/organisations/new", data=ORGANISATION)
    assert response.status_code == 302 and response.location.endswith("/admin/organisations")
    with app.app_context():
        organisation = db.session.scalar(select(Organisation).where(Organisation.code == "KCC"))
        assert (organisation.kind, organisation.country, organisation.name_ko) == ("agency", "KR", "방송통신위원회")
    assert len(_events(app, "organisation.created")) == 1
    page = client.get("/admin/organisations").data.decode()
    assert "KCC" in page and "방송통신위원회" in page and "Korea Communications Commission" in page


@pytest.mark.parametrize("change, field", [
    ({"code": "DUP"}, "code"),  # a code another organisation already uses
    ({"country": "Korea"}, "country"),
    ({"country": "K1"}, "country"),
    ({"code": "K-C"}, "code"),
])
def test_bad_organisation_shows_the_error_on_its_field_and_creates_nothing(app, auth, client, make, change, field):
    make.organisation("agency", code="DUP")
    auth.as_role("system_admin")
    before = _count(app, Organisation)
    response = client.post("/admin/organisations/new", data={**ORGANISATION, **change})
    body = response.data.decode()
    assert response.status_code == 200
    assert f'id="{field}-error"' in body and re.search(f'aria-describedby="[^"]*{field}-error"', body)
    assert _count(app, Organisation) == before
    assert _events(app, "organisation.created") == []


def test_organisations_page_counts_users(app, auth, client, make):
    platform = make.organisation("platform", code="PLT")
    make.user("platform_agent", platform)
    make.user("platform_admin", platform)
    auth.as_role("secretariat")
    body = client.get("/admin/organisations").data.decode()
    row = re.search(r"<th scope=\"row\">PLT</th>(.*?)</tr>", body, re.S).group(1)
    assert re.search(r">2</a></td>\s*$", row)


# --- Invitations --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("language", ["ko", "en"])
def test_secretariat_invites_to_any_organisation_in_the_invitees_language(app, auth, client, make, language):
    agency = make.organisation("agency")
    auth.as_role("secretariat")
    response = client.post("/admin/users/invite", data={
        "email": "Officer@Agency.test", "name": "New Officer", "organisation": agency,
        "role": "regulator_officer", "language": language}, follow_redirects=True)
    assert response.status_code == 200
    with app.test_request_context():
        invitation = db.session.scalar(select(Invitation).where(Invitation.email == "officer@agency.test"))
        assert invitation.organisation_id == agency
        assert (invitation.role, invitation.language) == ("regulator_officer", language)
        message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "officer@agency.test"))
        with force_locale(language):
            expected_subject = gettext("Invitation to the Platform Cooperation Portal")
    token = re.search(r"/invitation/(\S+)", message.body_text).group(1)
    assert message.language == language and message.subject == expected_subject
    assert token not in message.subject
    page = response.data.decode()
    assert "officer@agency.test" in page and token not in page  # the flash names the address, not the link
    assert len(_events(app, "user.invited")) == 1


def test_platform_admin_cannot_invite_to_another_organisation(app, auth, client, make):
    admin = auth.as_role("platform_admin")
    other = make.organisation("platform")
    response = client.post("/admin/users/invite", data={
        "email": "x@other.test", "name": "X", "organisation": other, "role": "platform_agent", "language": "en"})
    assert response.status_code == 200 and 'id="organisation-error"' in response.data.decode()
    assert _count(app, Invitation) == 0 and _count(app, OutboxMessage) == 0
    # Their own organisation is the only one offered.
    page = client.get("/admin/users/invite").data.decode()
    offered = re.findall(r'<option[^>]*value="(\d+)"', page.split('name="organisation"')[1].split("</select>")[0])
    assert offered == [str(admin.organisation_id)]


@pytest.mark.parametrize("role", sorted(set(policy.ROLES) - policy.PLATFORM))
def test_platform_admin_cannot_give_a_non_platform_role(app, auth, client, role):
    admin = auth.as_role("platform_admin")
    response = client.post("/admin/users/invite", data={
        "email": "x@own.test", "name": "X", "organisation": admin.organisation_id, "role": role, "language": "en"})
    assert response.status_code == 200 and 'id="role-error"' in response.data.decode()
    assert _count(app, Invitation) == 0


def test_platform_admin_invites_an_agent_to_own_organisation(app, auth, client):
    admin = auth.as_role("platform_admin")
    response = client.post("/admin/users/invite", data={
        "email": "agent@own.test", "name": "Agent", "organisation": admin.organisation_id,
        "role": "platform_agent", "language": "en"})
    assert response.status_code == 302
    assert _count(app, Invitation, Invitation.organisation_id == admin.organisation_id) == 1


def test_withdrawn_invitation_link_stops_working(app, auth, client, make):
    auth.as_role("system_admin")
    platform = make.organisation("platform")
    client.post("/admin/users/invite", data={"email": "late@x.test", "name": "Late", "organisation": platform,
                                             "role": "platform_agent", "language": "en"})
    with app.app_context():
        invitation_id = db.session.scalar(select(Invitation.id))
        body = db.session.scalar(select(OutboxMessage.body_text))
    link = re.search(r"http://portal\.test(/invitation/\S+)", body).group(1)
    assert "late@x.test" in client.get("/admin/users").data.decode()
    assert client.post(f"/admin/invitations/{invitation_id}/revoke").status_code == 302
    assert app.test_client().get(link).status_code == 404
    assert len(_events(app, "invitation.revoked")) == 1


def test_platform_admin_gets_404_for_another_organisations_invitation(app, auth, client, make):
    other = make.organisation("platform")
    with app.test_request_context():
        admin = db.session.get(User, make.user("system_admin").id)
        invitation = accounts.invite(admin, email="p@other.test", name="P", role="platform_agent", language="en",
                                     organisation=db.session.get(Organisation, other))
        db.session.commit()
        invitation_id = invitation.id
    auth.as_role("platform_admin")
    assert client.post(f"/admin/invitations/{invitation_id}/revoke").status_code == 404
    assert _count(app, Invitation, Invitation.revoked_at.is_(None)) == 1


# --- Users ------------------------------------------------------------------------------------------------------

def test_platform_admin_lists_only_own_organisations_users(app, auth, client, make):
    admin = auth.as_role("platform_admin")
    colleague = make.user("platform_agent", admin.organisation_id, name="Colleague Kim")
    stranger = make.user("platform_agent", name="Stranger Lee")
    page = client.get("/admin/users").data.decode()
    assert colleague.email in page and stranger.email not in page
    # Asking for the other organisation by its id shows nothing of it either.
    assert stranger.email not in client.get(f"/admin/users?organisation={stranger.organisation_id}").data.decode()


def test_users_filter_by_role_status_and_search(app, auth, client, make):
    auth.as_role("system_admin")
    platform = make.organisation("platform")
    agent = make.user("platform_agent", platform, name="Park Agent")
    admin = make.user("platform_admin", platform, name="Choi Admin")
    gone = make.user("platform_agent", platform, name="Gone Agent", active=False)
    by_role = client.get("/admin/users?role=platform_admin").data.decode()
    assert admin.email in by_role and agent.email not in by_role
    inactive = client.get(f"/admin/users?active=no&organisation={platform}").data.decode()
    assert gone.email in inactive and agent.email not in inactive
    search = client.get("/admin/users?q=park").data.decode()
    assert agent.email in search and admin.email not in search


def test_users_page_number_is_kept_in_range(auth, client):
    auth.as_role("system_admin")
    body = client.get("/admin/users?page=999").data.decode()
    assert "Page 1 of 1" in body


def _other_platform_user(make):
    return make.user("platform_agent", make.organisation("platform"))


@pytest.mark.parametrize("method, suffix, data", [
    ("GET", "", {}),
    ("POST", "/deactivate", {}),
    ("POST", "/reactivate", {}),
    ("POST", "/reset-2fa", {}),
    ("POST", "/role", {"role": "platform_admin"}),
])
def test_platform_admin_gets_404_for_a_user_of_another_organisation(app, auth, client, make, method, suffix, data):
    stranger = _other_platform_user(make)
    auth.as_role("platform_admin")
    response = client.open(f"/admin/users/{stranger.id}{suffix}", method=method, data=data)
    assert response.status_code == 404
    with app.app_context():
        user = db.session.get(User, stranger.id)
        assert user.active and user.role == "platform_agent" and user.totp_confirmed_at is not None


@pytest.mark.parametrize("suffix", ["/deactivate", "/reactivate", "/reset-2fa", "/role"])
def test_state_changes_refuse_get(auth, client, make, suffix):
    target = make.user("platform_agent")
    auth.as_role("system_admin")
    assert client.get(f"/admin/users/{target.id}{suffix}").status_code == 405


@pytest.mark.parametrize("role", ["system_admin", "platform_admin"])
def test_deactivation_ends_the_users_sessions_and_is_audited(app, auth, client, make, role):
    admin = make.user(role, make.organisation("platform") if role == "platform_admin" else None)
    victim = make.user("platform_agent", admin.organisation_id if role == "platform_admin" else None)
    victim_client = app.test_client()
    Auth(victim_client, make).login(victim, client=victim_client)
    assert victim_client.get("/home").status_code == 200
    auth.login(admin)
    assert client.post(f"/admin/users/{victim.id}/deactivate").status_code == 302
    response = victim_client.get("/home")
    assert response.status_code == 302 and "/login" in response.location
    assert _count(app, UserSession, UserSession.user_id == victim.id, UserSession.revoked_at.is_(None)) == 0
    [event] = _events(app, "user.deactivated")
    assert (event.actor_id, event.object_id) == (admin.id, str(victim.id))


def test_deactivated_user_is_reactivated(app, auth, client, make):
    target = make.user("platform_agent", active=False)
    auth.as_role("system_admin")
    assert client.post(f"/admin/users/{target.id}/reactivate").status_code == 302
    with app.app_context():
        assert db.session.get(User, target.id).active


def test_admin_cannot_deactivate_themselves_and_sees_why(app, auth, client):
    admin = auth.as_role("system_admin")
    response = client.post(f"/admin/users/{admin.id}/deactivate")
    assert response.status_code == 200 and "portal-alert-error" in response.data.decode()
    with app.app_context():
        assert db.session.get(User, admin.id).active


def test_reset_2fa_sends_the_next_login_to_enrolment(app, auth, client, make):
    target = make.user("platform_agent")
    auth.as_role("system_admin")
    assert client.post(f"/admin/users/{target.id}/reset-2fa").status_code == 302
    assert len(_events(app, "2fa.reset")) == 1
    other = app.test_client()
    response = other.post("/login", data={"email": target.email, "password": target.password})
    assert response.status_code == 302 and response.location.endswith("/login/enrol")


def test_change_role_offers_only_roles_the_actor_may_give(app, auth, client, make):
    admin = auth.as_role("platform_admin")
    colleague = make.user("platform_agent", admin.organisation_id)
    page = client.get(f"/admin/users/{colleague.id}").data.decode()
    form = page.split('action="/admin/users/%d/role"' % colleague.id)[1].split("</form>")[0]
    assert sorted(re.findall(r'<option[^>]*value="(\w+)"', form)) == ["platform_admin", "platform_agent"]
    assert client.post(f"/admin/users/{colleague.id}/role", data={"role": "platform_admin"}).status_code == 302
    assert client.post(f"/admin/users/{colleague.id}/role", data={"role": "system_admin"}).status_code == 200
    with app.app_context():
        assert db.session.get(User, colleague.id).role == "platform_admin"
    [event] = _events(app, "user.role_changed")
    assert event.details == {"from": "platform_agent", "to": "platform_admin"}


# --- Audit log ----------------------------------------------------------------------------------------------------

def test_audit_log_filters_by_actor_organisation_and_action_prefix(app, auth, client, make):
    someone = make.user("regulator_officer")
    _record(app, "test.alpha", actor_id=someone.id, object_type="thing", object_id=1)
    _record(app, "test.beta", organisation_id=someone.organisation_id)
    _record(app, "other.alpha")
    auth.as_role("system_admin")

    def actions(query):
        body = client.get(f"/admin/audit?{query}").data.decode()
        return set(re.findall(r'<code class="portal-action-code">([\w.]+)</code>', body))

    assert actions(f"actor={someone.email.upper()}") == {"test.alpha"}
    assert actions(f"organisation={someone.organisation_id}") == {"test.alpha", "test.beta"}
    assert actions("action=test.") == {"test.alpha", "test.beta"}


def test_audit_period_is_read_in_kst(app, auth, client):
    # 2026-03-01 23:30 KST is 14:30 UTC; 2026-03-02 00:30 KST is 2026-03-01 15:30 UTC.
    with time_machine.travel(datetime(2026, 3, 1, 14, 30, tzinfo=timezone.utc), tick=False):
        _record(app, "test.first_of_march")
    with time_machine.travel(datetime(2026, 3, 1, 15, 30, tzinfo=timezone.utc), tick=False):
        _record(app, "test.second_of_march")
    auth.as_role("system_admin")
    body = client.get("/admin/audit?date_from=2026-03-02&date_to=2026-03-02&action=test.").data.decode()
    assert "test.second_of_march" in body and "test.first_of_march" not in body
    body = client.get("/admin/audit?date_to=2026-03-01&action=test.").data.decode()
    assert "test.first_of_march" in body and "test.second_of_march" not in body


def test_audit_period_with_a_bad_date_shows_the_error(auth, client):
    auth.as_role("system_admin")
    body = client.get("/admin/audit?date_from=2026-13-45").data.decode()
    assert 'id="date_from-error"' in body and "<table" not in body


def test_audit_log_pages_by_sequence_number(app, auth, client):
    _record(app, "test.page", n=AUDIT_PER_PAGE + 30)
    auth.as_role("system_admin")
    first = client.get("/admin/audit?action=test.page").data.decode()
    first_seqs = _seqs(first)
    assert len(first_seqs) == AUDIT_PER_PAGE and first_seqs == sorted(first_seqs, reverse=True)
    before = re.search(r'href="/admin/audit\?[^"]*before=(\d+)', first).group(1)
    assert int(before) == first_seqs[-1]
    second = client.get(f"/admin/audit?action=test.page&before={before}").data.decode()
    second_seqs = _seqs(second)
    assert len(second_seqs) == 30 and max(second_seqs) < min(first_seqs)
    assert "Older events" not in second and "Newest events" in second


def test_viewing_and_exporting_the_audit_log_are_audited(app, auth, client):
    auth.as_role("system_admin")
    client.get("/admin/audit?action=login")
    client.get("/admin/audit.csv?action=login").close()
    [viewed] = _events(app, "audit.viewed")
    [exported] = _events(app, "audit.exported")
    assert viewed.details == {"filters": {"action": "login"}}
    assert exported.details["filters"] == {"action": "login"}


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://evil.test\")", "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_csv_export_neutralises_formula_cells(app, auth, client, value):
    _record(app, "test.formula", object_type="thing", object_id=value)
    auth.as_role("system_admin")
    response = client.get("/admin/audit.csv?action=test.formula")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(BOM)
    header, row = _csv_rows(response)
    assert row[header.index("object_id")] == "'" + value


def test_csv_export_neutralises_an_actor_address_that_looks_like_a_formula(app, auth, client, make):
    schemer = make.user("platform_agent", email="=cmd@evil.test")
    auth.login(schemer, client=app.test_client())  # their login is audited under that address
    auth.as_role("system_admin")
    response = client.get("/admin/audit.csv?action=login.success")
    actors = [row[2] for row in _csv_rows(response)[1:]]
    assert "'=cmd@evil.test" in actors and "=cmd@evil.test" not in actors


def test_csv_export_keeps_korean_readable(app, auth, client):
    _record(app, "test.korean", details={"name": "방송통신위원회"})
    auth.as_role("system_admin")
    header, row = _csv_rows(client.get("/admin/audit.csv?action=test.korean"))
    assert row[header.index("details")] == '{"name":"방송통신위원회"}'


@pytest.mark.parametrize("app_config", [{"AUDIT_CSV_MAX_ROWS": 3}])
def test_csv_export_is_capped(app, auth, client):
    _record(app, "test.capped", n=10)
    auth.as_role("system_admin")
    rows = _csv_rows(client.get("/admin/audit.csv?action=test.capped"))
    assert len(rows) == 1 + 3


@pytest.mark.parametrize("role", NOT_SYSTEM_ADMIN)
@pytest.mark.parametrize("path", ["/admin/audit", "/admin/audit.csv", "/admin/outbox", "/admin/outbox/1"])
def test_non_admins_get_403_on_audit_and_outbox_pages(auth, client, role, path):
    auth.as_role(role)
    assert client.get(path).status_code == 403


# --- Outbox ---------------------------------------------------------------------------------------------------------

def _queue_invitation(app, make, name: str = "Queued Person") -> int:
    platform = make.organisation("platform")
    with app.test_request_context():
        admin = db.session.get(User, make.user("system_admin").id)
        accounts.invite(admin, email="queued@example.test", name=name, role="platform_agent",
                        organisation=db.session.get(Organisation, platform), language="en")
        db.session.commit()
        return db.session.scalar(select(OutboxMessage.id))


def test_outbox_page_lists_a_queued_message(app, auth, client, make):
    message_id = _queue_invitation(app, make)
    auth.as_role("system_admin")
    body = client.get("/admin/outbox").data.decode()
    assert "queued@example.test" in body and f"/admin/outbox/{message_id}" in body
    assert "queued@example.test" in client.get("/admin/outbox?status=pending").data.decode()
    assert "queued@example.test" not in client.get("/admin/outbox?status=sent").data.decode()


def test_outbox_message_shows_its_text_escaped_and_the_reading_is_audited(app, auth, client, make):
    message_id = _queue_invitation(app, make, name="<b>Bold</b>")
    auth.as_role("system_admin")
    body = client.get(f"/admin/outbox/{message_id}").data.decode()
    assert "&lt;b&gt;Bold&lt;/b&gt;" in body and "<b>Bold</b>" not in body
    assert '<pre class="portal-pre"' in body and "/invitation/" in body
    assert len(_events(app, "outbox.viewed")) == 1


def test_unknown_outbox_message_answers_404(auth, client):
    auth.as_role("system_admin")
    assert client.get("/admin/outbox/999999").status_code == 404


def test_csv_export_reads_in_batches_without_losing_or_repeating_rows(app, auth, client, monkeypatch):
    monkeypatch.setattr("portal.admin.services.CSV_BATCH", 3)
    _record(app, "test.batched", n=10)
    auth.as_role("system_admin")
    rows = _csv_rows(client.get("/admin/audit.csv?action=test.batched"))[1:]
    seqs = [int(row[0]) for row in rows]
    assert len(seqs) == 10 and seqs == sorted(set(seqs), reverse=True)


@pytest.mark.parametrize("suffix, data", [("deactivate", {}), ("reset-2fa", {}), ("role", {"role": "platform_agent"})])
def test_platform_admin_cannot_act_on_a_system_administrator_in_their_organisation(app, auth, client, make, suffix, data):
    admin = auth.as_role("platform_admin")
    sysadmin = make.user("system_admin", admin.organisation_id)
    with app.test_request_context():
        paths = [r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith("admin.") and suffix in r.rule]
    assert paths, suffix
    response = client.post(paths[0].replace("<int:user_id>", str(sysadmin.id)), data=data)
    assert response.status_code == 404
    with app.app_context():
        target = db.session.get(User, sysadmin.id)
        assert target.active and target.role == "system_admin" and target.totp_confirmed_at is not None
