"""API v1: compliance commitments and the public signatory registry, over the same services as the pages
(portal/commitments). Each body is checked against the schema the OpenAPI document publishes (bounded
fields, no others: an unknown field answers 422 naming it); the answers are wrapped `{"commitment": ...}`.

A reused or stale TOTP code on `sign` or `countersign` answers 422 and changes nothing (the unit of work
rolls back). Scopes: reading needs `requests:read`; making templates, commitments and renewals `requests:write`;
signing and countersigning `requests:write` or `requests:respond`.
"""
from __future__ import annotations

from datetime import date

from flask import Response, jsonify
from flask_babel import gettext as _
from flask_login import current_user

from portal.api import answers, bp
from portal.api.spec import operation
from portal.commitments import evidence
from portal.commitments import registry as signatory_registry
from portal.commitments import services as commitments
from portal.commitments.models import STATUSES, Commitment
from portal.commitments.text import MAX_BODY
from portal.core import policy
from portal.core.exceptions import ValidationError
from portal.i18n import current_language

READ, WRITE, SIGN = ("requests:read",), ("requests:write",), ("requests:write", "requests:respond")
ID = "<int(max=2147483647):commitment_id>"
MAX_INT = 2147483647

_TEXT300 = {"type": "string", "minLength": 1, "maxLength": 300}
_CODE = {"type": "string", "minLength": 6, "maxLength": 8, "pattern": "^[0-9 ]{6,8}$"}
_SHA = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_ORG_CODE = {"type": "string", "minLength": 1, "maxLength": 20}
_DATE = {"type": "string", "format": "date", "maxLength": 10}

NEW_TEMPLATE = {
    "type": "object", "additionalProperties": False,
    "required": ["title_ko", "title_en", "body_ko", "body_en"],
    "properties": {
        "title_ko": _TEXT300, "title_en": _TEXT300,
        "body_ko": {"type": "string", "minLength": 1, "maxLength": MAX_BODY},
        "body_en": {"type": "string", "minLength": 1, "maxLength": MAX_BODY},
        "code": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{1,39}$",
                 "description": "Given the code of an existing template, the next version of it."},
    },
}
TEMPLATE = {
    "type": "object", "additionalProperties": False,
    "required": ["template"],
    "properties": {"template": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "code", "version", "title_ko", "title_en"],
        "properties": {"id": {"type": "integer"}, "code": {"type": "string"}, "version": {"type": "integer"},
                       "title_ko": {"type": "string"}, "title_en": {"type": "string"}, "created_at": {
                           "type": "string", "format": "date-time"}},
    }},
}
NEW_COMMITMENT = {
    "type": "object", "additionalProperties": False,
    "required": ["template", "platform", "effective_from", "valid_until", "countersigning_agency"],
    "properties": {
        "template": {"type": "integer", "minimum": 1, "maximum": MAX_INT},
        "platform": _ORG_CODE, "countersigning_agency": _ORG_CODE,
        "effective_from": _DATE, "valid_until": _DATE,
        "send": {"type": "boolean", "description": "Send for signature at once (default true)."},
    },
}
SIGNATURE = {
    "type": "object", "additionalProperties": False,
    "required": ["side", "name", "title", "signed_at", "document_sha256"],
    "properties": {"side": {"type": "string", "enum": ["platform", "agency"]}, "name": {"type": "string"},
                   "title": {"type": "string"}, "signed_at": {"type": "string", "format": "date-time"},
                   "document_sha256": _SHA},
}
COMMITMENT = {
    "type": "object", "additionalProperties": False,
    "required": ["commitment", "documents"],
    "properties": {
        "commitment": {
            "type": "object", "additionalProperties": False,
            "required": ["id", "reference", "status", "template", "template_version", "platform",
                         "countersigning_agency", "effective_from", "valid_until", "document_sha256", "documents"],
            "properties": {
                "id": {"type": "integer"}, "reference": {"type": "string"},
                "status": {"type": "string", "enum": list(STATUSES)},
                "template": {"type": "integer"}, "template_version": {"type": "integer"},
                "platform": {"type": "string"}, "countersigning_agency": {"type": "string"},
                "effective_from": _DATE, "valid_until": _DATE,
                "document_sha256": {"type": ["string", "null"], "pattern": "^[0-9a-f]{64}$"},
                "documents": {"type": "array", "items": {"type": "integer"}},
                "signatures": {"type": "array", "items": SIGNATURE},
                "signed_at": {"type": ["string", "null"], "format": "date-time"},
                "in_force_at": {"type": ["string", "null"], "format": "date-time"},
                "renews": {"type": ["integer", "null"], "description": "The commitment this one renews."},
            },
        },
        "documents": {"type": "array", "items": {"type": "object"}},
    },
}
SIGN_BODY = {
    "type": "object", "additionalProperties": False,
    "required": ["name", "title", "consent", "code"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "title": {"type": "string", "minLength": 1, "maxLength": 200},
        "consent": {"type": "boolean", "const": True},
        "code": _CODE,
        "document_sha256": {**_SHA, "description": "The hash of the document the signer was shown."},
    },
}
COUNTERSIGN_BODY = {
    "type": "object", "additionalProperties": False, "required": ["code"],
    "properties": {"code": _CODE, "document_sha256": _SHA},
}
RENEW_BODY = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "effective_from": {**_DATE, "description": "Default: the day after the renewed commitment ends."},
        "valid_until": {**_DATE, "description": "Default: as long a term as the renewed commitment's."},
        "send": {"type": "boolean", "description": "Send the renewal for signature at once (default false)."},
    },
}
REGISTRY = {
    "type": "object", "additionalProperties": False, "required": ["entries"],
    "properties": {"entries": {"type": "array", "items": {
        "type": "object", "additionalProperties": False,
        "required": ["platform", "signatory_name", "signatory_title", "template_version", "signed_at",
                     "valid_until", "status"],
        "properties": {
            "reference": {"type": "string"}, "platform": {"type": "string"},
            "platform_name_ko": {"type": "string"}, "platform_name_en": {"type": "string"},
            "template_title_ko": {"type": "string"}, "template_title_en": {"type": "string"},
            "signatory_name": {"type": "string"}, "signatory_title": {"type": "string"},
            "template_version": {"type": "integer"}, "signed_at": {"type": "string", "format": "date-time"},
            "in_force_at": {"type": ["string", "null"], "format": "date-time"},
            "valid_until": _DATE, "status": {"type": "string", "enum": list(STATUSES)},
        },
    }}},
}


def _checked(schema: dict) -> dict:
    """The body, refused (422 naming the field) when it holds a field the schema does not declare or a
    field of the wrong type or size. The full check against the schema is the API's (portal/api)."""
    data = answers.body()
    allowed = schema["properties"]
    for name in data:
        if name not in allowed:
            raise ValidationError(name, _("Unknown field: %(name)s.", name=name))
    for name in schema.get("required", ()):
        if name not in data:
            raise ValidationError(name, _("This field is required."))
    for name, value in data.items():
        kind = allowed[name].get("type")
        ok = {"string": isinstance(value, str), "integer": isinstance(value, int) and not isinstance(value, bool),
              "boolean": isinstance(value, bool)}.get(kind, True)
        if not ok or (isinstance(value, str) and len(value) > allowed[name].get("maxLength", MAX_BODY)):
            raise ValidationError(name, _("This field is not valid."))
    return data


def _date(data: dict, name: str) -> date:
    try:
        return date.fromisoformat(data[name])
    except ValueError:
        raise ValidationError(name, _("Give a date as YYYY-MM-DD.")) from None


def represent(c: Commitment) -> dict:
    return {
        "id": c.id, "reference": c.reference, "status": c.status, "template": c.template_id,
        "template_version": c.template.version, "platform": c.platform.code,
        "countersigning_agency": c.agency.code, "effective_from": c.effective_from.isoformat(),
        "valid_until": c.valid_until.isoformat(), "document_sha256": c.document_sha256,
        "documents": [d for d in (c.document_id, c.signed_document_id, c.certificate_id) if d is not None],
        "signatures": [{"side": s.side, "name": s.name, "title": s.title, "signed_at": answers.iso(s.signed_at),
                        "document_sha256": s.document_sha256} for s in c.signatures],
        "signed_at": answers.iso(c.signed_at), "in_force_at": answers.iso(c.in_force_at), "renews": c.renews_id,
    }


def _answer(c: Commitment, status: int = 200):
    reachable = [d for d in (c.document, c.signed_document, c.certificate)
                 if d is not None and policy.can(current_user, "document.download", d)]
    return jsonify({"commitment": represent(c), "documents": [answers.document(d) for d in reachable]}), status


@bp.post("/commitment-templates")
@policy.access("commitment_template.manage")
@operation("Store a commitment template (a new version when `code` names an existing one)", scopes=WRITE,
           body=NEW_TEMPLATE, responses={201: TEMPLATE}, errors=(403,), tag="commitments")
def create_commitment_template():
    data = _checked(NEW_TEMPLATE)
    t = commitments.create_template(current_user, title_ko=data["title_ko"], title_en=data["title_en"],
                                    body_ko=data["body_ko"], body_en=data["body_en"], code=data.get("code"))
    return jsonify({"template": {"id": t.id, "code": t.code, "version": t.version, "title_ko": t.title_ko,
                                 "title_en": t.title_en, "created_at": answers.iso(t.created_at)}}), 201


@bp.post("/commitments")
@policy.access("commitment.create")
@operation("Make a commitment for a platform from one template version (sent for signature by default)",
           scopes=WRITE, body=NEW_COMMITMENT, responses={201: COMMITMENT}, errors=(403, 409), tag="commitments")
def create_commitment():
    data = _checked(NEW_COMMITMENT)
    c = commitments.create(current_user, template_id=data["template"], platform_code=data["platform"],
                           agency_code=data["countersigning_agency"], effective_from=_date(data, "effective_from"),
                           valid_until=_date(data, "valid_until"))
    if data.get("send", True):
        commitments.send_for_signature(current_user, c)
    return _answer(c, 201)


@bp.get(f"/commitments/{ID}")
@policy.access("commitment.view")
@operation("A commitment, its status, the hash of its document and its documents", scopes=READ,
           responses={200: COMMITMENT}, tag="commitments")
def commitment(commitment_id: int):
    return _answer(commitments.get(current_user, commitment_id))


@bp.post(f"/commitments/{ID}/sign")
@policy.access("commitment.sign")
@operation("Sign as the platform's authorised signatory, with a fresh TOTP code (a reused or earlier one: 422)",
           scopes=SIGN, body=SIGN_BODY, responses={200: COMMITMENT}, errors=(403, 409), tag="commitments")
def sign_commitment(commitment_id: int):
    c = commitments.get(current_user, commitment_id)
    data = _checked(SIGN_BODY)
    commitments.sign(current_user, c, name=data["name"], title=data["title"], consent=data["consent"],
                     code=data["code"], language=current_language(), document_sha256=data.get("document_sha256"))
    return _answer(c)


@bp.post(f"/commitments/{ID}/countersign")
@policy.access("commitment.countersign")
@operation("Countersign as a supervisor of the countersigning agency, with a fresh TOTP code", scopes=SIGN,
           body=COUNTERSIGN_BODY, responses={200: COMMITMENT}, errors=(403, 409), tag="commitments")
def countersign_commitment(commitment_id: int):
    c = commitments.get(current_user, commitment_id)
    data = _checked(COUNTERSIGN_BODY)
    commitments.countersign(current_user, c, code=data["code"], language=current_language(),
                            document_sha256=data.get("document_sha256"))
    return _answer(c)


@bp.post(f"/commitments/{ID}/renew")
@policy.access("commitment.create")
@operation("Renew a commitment in force: a new draft from the newest template version, which supersedes it "
           "once countersigned", scopes=WRITE, body=RENEW_BODY, responses={201: COMMITMENT}, errors=(403, 409),
           tag="commitments")
def renew_commitment(commitment_id: int):
    c = commitments.get(current_user, commitment_id)
    data = _checked(RENEW_BODY)
    renewal = commitments.renew(current_user, c,
                                effective_from=_date(data, "effective_from") if "effective_from" in data else None,
                                valid_until=_date(data, "valid_until") if "valid_until" in data else None)
    if data.get("send", False):
        commitments.send_for_signature(current_user, renewal)
    return _answer(renewal, 201)


@bp.get(f"/commitments/{ID}/evidence")
@policy.access("commitment.view")
@operation("The evidence pack (ZIP): signed document, certificate, signing certificate, manifest of hashes",
           scopes=READ, responses={200: None}, content_type="application/zip", tag="commitments")
def commitment_evidence(commitment_id: int):
    c = commitments.get(current_user, commitment_id)
    return Response(evidence.evidence_pack(c), mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{c.reference}-evidence.zip"'})


@bp.get("/registry")
@policy.access(policy.PUBLIC)
@operation("The public signatory registry (no token)", responses={200: REGISTRY}, tag="commitments")
def registry():
    return jsonify({"entries": [{
        "reference": e.reference, "platform": e.platform, "platform_name_ko": e.platform_name_ko,
        "platform_name_en": e.platform_name_en, "template_title_ko": e.template_title_ko,
        "template_title_en": e.template_title_en, "signatory_name": e.signatory_name,
        "signatory_title": e.signatory_title, "template_version": e.template_version,
        "signed_at": answers.iso(e.signed_at), "in_force_at": answers.iso(e.in_force_at), "valid_until": e.valid_until.isoformat(),
        "status": e.status} for e in signatory_registry.entries()]})


