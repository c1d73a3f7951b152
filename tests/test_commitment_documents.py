"""The commitment's documents rendered for real (WeasyPrint, pyHanko): the canonical document in both
languages, Korean first, and the evidence certificate with the signatures and the audit trail; both
verifiable at /verify by their hash. The signed document is checked as an expert would, with the tools at
hand: pyHanko's validator (its API and its command line, `pyhanko sign validate`), poppler's `pdfsig` and
`pdfinfo -meta` (the PDF/A identification survives signing) and `qpdf --check` (the file's structure)."""
from __future__ import annotations

import subprocess

import pytest
import time_machine

from portal.commitments.models import Commitment
from portal.core import documents
from portal.extensions import db
from tests.commitments_support import NOW, STEP, code_at, commitment, world
from tests.documents_support import pdf_text, pyhanko_cli, qpdf_check

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
    terms = " ".join(body.split())  # the term as every date of the portal reads, in both languages
    assert "2026년 6월 1일 – 2027년 5월 31일" in terms and "1 June 2026 – 31 May 2027" in terms
    certificate = pdf_text(files["certificate"])
    for expected in ("홍길동", "법무 책임자", sha[:32], f"TOTP {STEP + 1}", "commitment.sign",
                     "commitment.countersign", "commitment.viewed"):
        assert expected in certificate.replace("\n", " ") or expected in certificate, expected
    for path in files.values():  # poppler and qpdf: the portal's signature is intact, the file sound
        out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
        assert "Signature is Valid" in out, out
        qpdf_check(path)


def _walk(app, make, client, auth):
    with time_machine.travel(NOW, tick=False):
        w = world(make)
        cid = commitment(make, w)
        auth.login(w.parties.platform_admin)
        with app.app_context():
            sha = db.session.get(Commitment, cid).document_sha256
        client.post(f"/commitments/{cid}/sign", data={
            "sign-name": "Jane Doe", "sign-title": "General Counsel", "sign-consent": "y",
            "sign-document_sha256": sha, "sign-code": code_at(w.parties.platform_admin.totp_secret, STEP + 1)})
        auth.logout()
        auth.login(w.parties.supervisor)
        client.post(f"/commitments/{cid}/countersign", data={
            "countersign-document_sha256": sha,
            "countersign-code": code_at(w.parties.supervisor.totp_secret, STEP + 1)})
    with app.app_context():
        c = db.session.get(Commitment, cid)
        assert c.status == "in_force"
        return documents.read_document(c.signed_document), c.document_sha256


def _statuses(app, data: bytes):
    import io

    from asn1crypto import x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    with app.app_context():
        certificate = x509.Certificate.load(documents.signing_identity().certificate_der)
    reader = PdfFileReader(io.BytesIO(data))
    return [(s.field_name, validate_pdf_signature(s, ValidationContext(trust_roots=[certificate])))
            for s in reader.embedded_signatures]


def _reasons(data: bytes) -> list[str]:
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    return [str(s.sig_object.get("/Reason", "")) for s in PdfFileReader(io.BytesIO(data)).embedded_signatures]


def test_signed_document_carries_the_portal_platform_and_agency_signatures(app, make, client, auth, tmp_path):
    data, canonical_sha = _walk(app, make, client, auth)
    statuses = _statuses(app, data)
    assert [name for name, _ in statuses][1:] == ["PlatformSignature", "AgencyCountersignature"]
    for _name, status in statuses:
        assert status.intact and status.valid and status.trusted
    reasons = _reasons(data)
    assert "Jane Doe" in reasons[1] and "General Counsel" in reasons[1] and f"TOTP step {STEP + 1}" in reasons[1]
    assert "Countersigned" in reasons[2]
    path = tmp_path / "signed.pdf"
    path.write_bytes(data)
    report = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    assert report.count("Signature Validation: Signature is Valid.") == 3, report
    # Incremental updates only: the canonical document's bytes are the start of the signed file.
    import hashlib

    with app.app_context():
        canonical = documents.read_document(db.session.scalar(
            db.select(documents.Document).where(documents.Document.sha256 == canonical_sha)))
    assert data.startswith(canonical) and hashlib.sha256(canonical).hexdigest() == canonical_sha
    meta = subprocess.run(["pdfinfo", "-meta", str(path)], capture_output=True, text=True).stdout
    assert "pdfaid:part" in meta
    qpdf_check(path)


def test_pyhankos_command_line_judges_every_signature_valid(app, make, client, auth, tmp_path):
    data, _sha = _walk(app, make, client, auth)
    path = tmp_path / "signed.pdf"
    path.write_bytes(data)
    status, judgments, report = pyhanko_cli(app, path, tmp_path)
    assert status == 0, report
    assert judgments == {"PortalSignature": "VALID", "PlatformSignature": "VALID",
                         "AgencyCountersignature": "VALID"}


def test_one_changed_byte_breaks_the_signatures(app, make, client, auth, tmp_path):
    data, _sha = _walk(app, make, client, auth)
    changed = bytearray(data)
    changed[changed.index(b"/MediaBox") + 1] ^= 0x01
    statuses = _statuses(app, bytes(changed))
    assert not all(status.intact for _name, status in statuses)
    path = tmp_path / "changed.pdf"
    path.write_bytes(bytes(changed))
    report = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    assert report.count("Signature Validation: Signature is Valid.") < 3
    status, judgments, report = pyhanko_cli(app, path, tmp_path)
    assert status != 0 and "VALID" not in judgments.values(), report
