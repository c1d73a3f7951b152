"""API v1 of compliance commitments: templates, commitments, signing with a fresh code (a reused one: 422
and nothing changes), countersigning, evidence, the public registry, and the schemas in the OpenAPI
document."""
from __future__ import annotations

import pytest
import time_machine
from sqlalchemy import select

from portal.accounts.models import Organisation
from portal.commitments.models import Commitment
from portal.extensions import db
from tests.api_support import Api, token_for
from tests.commitments_support import BODY_EN, BODY_KO, NOW, STEP, code_at, world


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _codes(app, w):
    with app.app_context():
        return (db.session.get(Organisation, w.parties.platform).code,
                db.session.get(Organisation, w.parties.agency).code)


def _setup(app, client, make):
    w = world(make)
    secretariat = Api(client, token_for(app, w.secretariat))
    platform_code, agency_code = _codes(app, w)
    made = secretariat.post("/commitment-templates", json={
        "title_ko": "서약", "title_en": "Commitment", "body_ko": BODY_KO, "body_en": BODY_EN})
    assert made.status_code == 201, made.json
    assert made.json["template"]["version"] == 1
    created = secretariat.post("/commitments", json={
        "template": made.json["template"]["id"], "platform": platform_code, "effective_from": "2026-06-01",
        "valid_until": "2027-05-31", "countersigning_agency": agency_code})
    assert created.status_code == 201, created.json
    return w, created.json["commitment"]


def test_the_whole_walk_through_the_api(app, client, make, frozen):
    w, c = _setup(app, client, make)
    assert c["status"] == "awaiting_signature" and len(c["document_sha256"]) == 64
    signer = Api(client, token_for(app, w.parties.platform_admin))
    answer = signer.post(f"/commitments/{c['id']}/sign", json={
        "name": "Jane Doe", "title": "General Counsel", "consent": True,
        "code": code_at(w.parties.platform_admin.totp_secret, STEP + 1)})
    assert answer.status_code == 200, answer.json
    assert answer.json["commitment"]["status"] == "signed"
    supervisor = Api(client, token_for(app, w.parties.supervisor))
    answer = supervisor.post(f"/commitments/{c['id']}/countersign",
                             json={"code": code_at(w.parties.supervisor.totp_secret, STEP)})
    assert answer.status_code == 200, answer.json
    assert answer.json["commitment"]["status"] == "in_force" and len(answer.json["commitment"]["documents"]) == 3
    assert supervisor.get(f"/commitments/{c['id']}/evidence").mimetype == "application/zip"
    registry = app.test_client().get("/api/v1/registry")
    assert registry.status_code == 200
    (entry,) = registry.json["entries"]
    assert entry["signatory_name"] == "Jane Doe" and entry["status"] == "in_force"
    assert set(entry) >= {"platform", "signatory_name", "signatory_title", "template_version", "signed_at",
                          "valid_until", "status"}
    assert "ip" not in str(entry) and "@" not in str(entry)


def test_a_reused_code_answers_422_and_changes_nothing(app, client, make, frozen):
    w, c = _setup(app, client, make)
    secret = w.parties.platform_admin.totp_secret
    signer = Api(client, token_for(app, w.parties.platform_admin))
    body = {"name": "Jane Doe", "title": "General Counsel", "consent": True, "code": code_at(secret, STEP + 1)}
    assert signer.post(f"/commitments/{c['id']}/sign", json=body).status_code == 200
    # A second commitment, the same code: refused.
    w2_commitment = Api(client, token_for(app, w.secretariat)).post("/commitments", json={
        "template": c["template"], "platform": c["platform"], "effective_from": "2026-06-01",
        "valid_until": "2027-05-31", "countersigning_agency": c["countersigning_agency"]}).json["commitment"]
    again = signer.post(f"/commitments/{w2_commitment['id']}/sign", json=body)
    assert again.status_code == 422 and again.json["field"] == "code"
    earlier = signer.post(f"/commitments/{w2_commitment['id']}/sign", json={**body, "code": code_at(secret, STEP)})
    assert earlier.status_code == 422
    with app.app_context():
        assert db.session.get(Commitment, w2_commitment["id"]).status == "awaiting_signature"


def test_unknown_field_is_refused_naming_it(app, client, make, frozen):
    w, c = _setup(app, client, make)
    signer = Api(client, token_for(app, w.parties.platform_admin))
    answer = signer.post(f"/commitments/{c['id']}/sign", json={
        "name": "x", "title": "y", "consent": True, "code": "123456", "extra": 1})
    assert answer.status_code == 422 and answer.json["field"] == "extra"


def test_other_organisations_commitment_is_404(app, client, make, frozen):
    w, c = _setup(app, client, make)
    stranger = make.user("platform_admin")
    assert Api(client, token_for(app, stranger)).get(f"/commitments/{c['id']}").status_code == 404


def test_openapi_declares_the_commitment_operations_with_closed_schemas(app, client):
    spec = client.get("/api/v1/openapi.json").json
    for path in ("/commitment-templates", "/commitments", "/commitments/{commitment_id}",
                 "/commitments/{commitment_id}/sign", "/commitments/{commitment_id}/countersign",
                 "/commitments/{commitment_id}/evidence", "/registry"):
        assert "/api/v1" + path in spec["paths"], path
    sign = spec["paths"]["/api/v1/commitments/{commitment_id}/sign"]["post"]
    schema = sign["requestBody"]["content"]["application/json"]["schema"]
    assert schema["additionalProperties"] is False and schema["properties"]["name"]["maxLength"] == 200


def _in_force(app, client, make):
    from tests.commitments_support import in_force

    w = world(make)
    return w, in_force(make, w)


def test_renewal_through_the_api_answers_201_with_the_new_draft(app, client, make, frozen):
    w, cid = _in_force(app, client, make)
    supervisor = Api(client, token_for(app, w.parties.supervisor))
    answer = supervisor.post(f"/commitments/{cid}/renew", json={})
    assert answer.status_code == 201, answer.json
    renewal = answer.json["commitment"]
    assert renewal["status"] == "draft" and renewal["id"] != cid and renewal["document_sha256"] is None
    assert (renewal["effective_from"], renewal["valid_until"]) == ("2027-06-01", "2028-05-31")
    assert renewal["renews"] == cid
    with app.app_context():
        assert db.session.get(Commitment, renewal["id"]).renews_id == cid
    again = supervisor.post(f"/commitments/{cid}/renew", json={})
    assert again.status_code == 409 and again.json["error"] == "conflict"


def test_renewal_through_the_api_takes_dates_and_may_send_at_once(app, client, make, frozen):
    w, cid = _in_force(app, client, make)
    secretariat = Api(client, token_for(app, w.secretariat))
    answer = secretariat.post(f"/commitments/{cid}/renew", json={
        "effective_from": "2027-06-01", "valid_until": "2027-12-31", "send": True})
    assert answer.status_code == 201, answer.json
    renewal = answer.json["commitment"]
    assert renewal["status"] == "awaiting_signature" and renewal["valid_until"] == "2027-12-31"
    assert len(renewal["document_sha256"]) == 64


@pytest.mark.parametrize("who", ["platform_admin", "agent"])
def test_platform_token_cannot_renew(app, client, make, frozen, who):
    w, cid = _in_force(app, client, make)
    answer = Api(client, token_for(app, getattr(w.parties, who))).post(f"/commitments/{cid}/renew", json={})
    assert answer.status_code == 403 and answer.json["error"] == "forbidden"
    with app.app_context():
        assert db.session.scalar(select(Commitment).where(Commitment.renews_id == cid)) is None


def test_renewing_a_commitment_not_in_force_answers_409(app, client, make, frozen):
    w, c = _setup(app, client, make)  # awaiting signature
    answer = Api(client, token_for(app, w.secretariat)).post(f"/commitments/{c['id']}/renew", json={})
    assert answer.status_code == 409 and answer.json["error"] == "conflict"
    with app.app_context():
        assert db.session.scalar(select(Commitment).where(Commitment.renews_id == c["id"])) is None


def test_another_agencys_supervisor_renewing_gets_404(app, client, make, frozen):
    w, cid = _in_force(app, client, make)
    stranger = make.parties().supervisor
    assert Api(client, token_for(app, stranger)).post(f"/commitments/{cid}/renew", json={}).status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"valid_until": "2027-13-01"}, "valid_until"), ({"effective_from": 20270601}, "effective_from"),
    ({"renews": 1}, "renews"),
])
def test_renewal_body_is_validated_against_its_schema(app, client, make, frozen, body, field):
    w, cid = _in_force(app, client, make)
    answer = Api(client, token_for(app, w.secretariat)).post(f"/commitments/{cid}/renew", json=body)
    assert answer.status_code == 422 and answer.json["field"] == field


def test_openapi_declares_the_renewal_with_a_closed_schema(app, client):
    spec = client.get("/api/v1/openapi.json").json
    renew = spec["paths"]["/api/v1/commitments/{commitment_id}/renew"]["post"]
    schema = renew["requestBody"]["content"]["application/json"]["schema"]
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {"effective_from", "valid_until", "send"}
    assert {"201", "403", "404", "409", "422"} <= set(renew["responses"])
