"""The commitment's documents rendered for real (WeasyPrint, pyHanko): the canonical document in both
languages, Korean first, and the evidence certificate with the signatures and the audit trail; both
verifiable at /verify by their hash."""
from __future__ import annotations

import shutil
import subprocess

import pytest
import time_machine

from portal.commitments.models import Commitment
from portal.core import documents
from portal.extensions import db
from tests.commitments_support import NOW, STEP, code_at, commitment, world
from tests.documents_support import pdf_text

pytestmark = pytest.mark.real_documents


def test_commitment_document_and_certificate_render_and_verify(app, make, client, auth, tmp_path):
    with time_machine.travel(NOW, tick=False):
        w = world(make)
        cid = commitment(make, w)
        auth.login(w.parties.platform_admin)
        assert client.get(f"/commitments/{cid}").status_code == 200
        with app.app_context():
            sha = db.session.get(Commitment, cid).document_sha256
        assert client.post(f"/commitments/{cid}/sign", data={
            "sign-name": "홍길동", "sign-title": "법무 책임자", "sign-consent": "y", "sign-document_sha256": sha,
            "sign-code": code_at(w.parties.platform_admin.totp_secret, STEP + 1)}).status_code == 303
        auth.logout()
        auth.login(w.parties.supervisor)
        assert client.post(f"/commitments/{cid}/countersign", data={
            "countersign-document_sha256": sha,
            "countersign-code": code_at(w.parties.supervisor.totp_secret, STEP + 1)}).status_code == 303
    with app.app_context():
        c = db.session.get(Commitment, cid)
        assert c.status == "in_force"
        files = {}
        for name, doc in (("commitment", c.document), ("certificate", c.certificate)):
            path = tmp_path / f"{name}.pdf"
            path.write_bytes(documents.read_document(doc))
            files[name] = path
            assert documents.verify_file(path.read_bytes()) is not None
        reference = c.reference
    body = pdf_text(files["commitment"])
    assert "24시간" in body and "24 hours" in body and reference in body
    assert body.index("24시간") < body.index("24 hours")  # Korean first, authoritative
    certificate = pdf_text(files["certificate"])
    for expected in ("홍길동", "법무 책임자", sha[:32], f"TOTP {STEP + 1}", "commitment.sign",
                     "commitment.countersign", "commitment.viewed"):
        assert expected in certificate.replace("\n", " ") or expected in certificate, expected
    if shutil.which("pdfsig"):  # poppler: the portal's signature on each document is intact
        for path in files.values():
            out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
            assert "Signature is Valid" in out, out
