"""Renewing a commitment in force, from its page: only the secretariat or a supervisor of the countersigning
agency, only while it is in force and only once; the renewal is a draft from the newest template version,
and its countersignature supersedes the commitment it renews."""
from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.commitments import services
from portal.commitments.models import Commitment
from portal.core.exceptions import Conflict
from portal.core.transaction import unit_of_work
from portal.extensions import db
from tests.commitments_support import NOW, commitment, in_force, template, world


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _renewals(app, commitment_id: int) -> list[Commitment]:
    with app.app_context():
        found = list(db.session.scalars(select(Commitment).where(Commitment.renews_id == commitment_id)))
        for c in found:
            c.template  # noqa: B018 -- loaded before leaving the session
        db.session.expunge_all()
        return found


def _status(app, commitment_id: int) -> str:
    with app.app_context():
        return db.session.get(Commitment, commitment_id).status


def _renew_form(page: str) -> str | None:
    match = re.search(r'<form[^>]*action="/commitments/\d+/renew"[^>]*>', page)
    return match.group(0) if match else None


def _post_renewal(client, commitment_id: int, start: date = date(2027, 6, 1), end: date = date(2028, 5, 31),
                  **options):
    return client.post(f"/commitments/{commitment_id}/renew?lang=en", data={
        "renew-effective_from": start.isoformat(), "renew-valid_until": end.isoformat()}, **options)


@pytest.mark.parametrize("who", ["secretariat", "supervisor"])
@pytest.mark.parametrize("language", ["ko", "en"])
def test_renewal_form_asks_for_confirmation_and_proposes_the_next_term(app, make, client, auth, frozen, who,
                                                                       language):
    w = world(make)
    cid = in_force(make, w)
    auth.login(w.secretariat if who == "secretariat" else w.parties.supervisor)
    page = client.get(f"/commitments/{cid}?lang={language}").data.decode()
    form = _renew_form(page)
    assert form is not None and "data-confirm=" in form
    question = html.unescape(re.search(r'data-confirm="([^"]*)"', form).group(1))
    with app.app_context():
        reference = db.session.get(Commitment, cid).reference
    assert reference in question
    assert ("갱신" in question) if language == "ko" else question.startswith(f"Renew {reference}?")
    # The commitment runs 2026-06-01 to 2027-05-31: the renewal proposes the next year.
    assert 'value="2027-06-01"' in page and 'value="2028-05-31"' in page


@pytest.mark.parametrize("who", ["platform_admin", "agent", "officer"])
def test_renewal_form_is_not_shown_to_those_who_may_not_renew(app, make, client, auth, frozen, who):
    w = world(make)
    cid = in_force(make, w)
    auth.login(getattr(w.parties, who))
    page = client.get(f"/commitments/{cid}")
    assert page.status_code == 200 and _renew_form(page.data.decode()) is None


def test_renewal_form_is_not_shown_for_a_commitment_not_in_force(app, make, client, auth, frozen):
    w = world(make)
    cid = commitment(make, w)
    auth.login(w.secretariat)
    assert _renew_form(client.get(f"/commitments/{cid}").data.decode()) is None


def test_renewal_from_the_page_is_a_draft_from_the_newest_template_version(app, make, client, auth, frozen):
    w = world(make)
    cid = in_force(make, w)
    with app.test_request_context(), unit_of_work():
        services.revise_template(db.session.get(User, w.secretariat.id),
                                 services.get_template(w.template_id), title_ko="24시간 삭제 서약 (2판)",
                                 title_en="24-hour removal commitment (2nd)", body_ko="{{ platform_name_ko }} 삭제",
                                 body_en="{{ platform_name_en }} removes")
    auth.login(w.parties.supervisor)
    response = _post_renewal(client, cid)
    (renewal,) = _renewals(app, cid)
    assert response.status_code == 303 and response.location.endswith(f"/commitments/{renewal.id}")
    assert renewal.status == "draft" and renewal.template.version == 2
    assert (renewal.effective_from, renewal.valid_until) == (date(2027, 6, 1), date(2028, 5, 31))
    assert _status(app, cid) == "in_force"  # until the renewal is countersigned
    page = client.get(response.location).data.decode()
    assert 'id="commitment-renews"' in page and _renew_form(page) is None


@pytest.mark.parametrize("who", ["platform_admin", "agent"])
def test_platform_user_cannot_renew(app, make, client, auth, frozen, who):
    w = world(make)
    cid = in_force(make, w)
    auth.login(getattr(w.parties, who))
    assert _post_renewal(client, cid).status_code == 403
    assert _renewals(app, cid) == []


def test_supervisor_of_another_agency_does_not_find_the_commitment(app, make, client, auth, frozen):
    w = world(make)
    cid = in_force(make, w)
    auth.login(make.parties().supervisor)
    assert _post_renewal(client, cid).status_code == 404
    assert _renewals(app, cid) == []


@pytest.mark.parametrize("state", ["draft", "awaiting_signature"])
def test_commitment_not_in_force_is_not_renewed(app, make, client, auth, frozen, state):
    w = world(make)
    cid = commitment(make, w, send=state == "awaiting_signature")
    auth.login(w.secretariat)
    response = _post_renewal(client, cid, follow_redirects=True)
    assert response.status_code == 200 and "Only a commitment in force can be renewed." in response.data.decode()
    assert _renewals(app, cid) == [] and _status(app, cid) == state


def test_a_commitment_is_renewed_once(app, make, frozen):
    w = world(make)
    cid = in_force(make, w)
    with app.test_request_context():
        with unit_of_work():
            by = db.session.get(User, w.secretariat.id)
            first = services.renew(by, services.get(by, cid)).reference
        with pytest.raises(Conflict) as refused, unit_of_work():
            by = db.session.get(User, w.secretariat.id)
            services.renew(by, services.get(by, cid))
    assert first in str(refused.value.message)
    assert len(_renewals(app, cid)) == 1


def test_the_renewals_countersignature_supersedes_the_renewed_commitment(app, make, frozen):
    w = world(make)
    cid = in_force(make, w)
    with app.test_request_context(), unit_of_work():
        by = db.session.get(User, w.secretariat.id)
        renewal = services.renew(by, services.get(by, cid))
        services.send_for_signature(by, renewal)
        renewal_id = renewal.id
    # Signing the renewal needs codes later than those used for the first commitment.
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        with app.test_request_context():
            for side in ("platform_admin", "supervisor"):
                with unit_of_work():
                    user = db.session.get(User, getattr(w.parties, side).id)
                    c = services.get(user, renewal_id)
                    code = _code_now(getattr(w.parties, side).totp_secret)
                    if side == "platform_admin":
                        services.sign(user, c, name="Jane Doe", title="General Counsel", consent=True, code=code,
                                      language="en")
                    else:
                        services.countersign(user, c, code=code, language="en")
    assert _status(app, renewal_id) == "in_force" and _status(app, cid) == "superseded"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Commitment).where(
            Commitment.status == "in_force", Commitment.platform_id == w.parties.platform)) == 1


def test_renewal_keeps_the_template_when_there_is_no_newer_version(app, make, frozen):
    w = world(make)
    other = template(make, w.secretariat)  # another template's new version does not count
    cid = in_force(make, w)
    with app.test_request_context(), unit_of_work():
        by = db.session.get(User, w.secretariat.id)
        renewal = services.renew(by, services.get(by, cid), effective_from=date(2027, 7, 1),
                                 valid_until=date(2027, 12, 31))
        assert renewal.template_id == w.template_id != other
        assert (renewal.effective_from, renewal.valid_until) == (date(2027, 7, 1), date(2027, 12, 31))


def _code_now(secret: str) -> str:
    import pyotp

    return pyotp.TOTP(secret).now()


@pytest.mark.parametrize("start, end, proposed", [
    (date(2026, 6, 1), date(2027, 5, 31), (date(2027, 6, 1), date(2028, 5, 31))),  # a year, across a leap day
    (date(2026, 1, 1), date(2027, 12, 31), (date(2028, 1, 1), date(2029, 12, 31))),  # two years
    (date(2026, 6, 1), date(2026, 8, 31), (date(2026, 9, 1), date(2026, 12, 1))),  # 91 days: 91 days again
])
def test_renewal_proposes_a_term_as_long_as_the_last(start, end, proposed):
    from types import SimpleNamespace

    assert services.renewal_term(SimpleNamespace(effective_from=start, valid_until=end)) == proposed
