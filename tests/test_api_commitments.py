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
