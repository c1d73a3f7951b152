"""Trusted timestamps on the signatures of a commitment: with `TIMESTAMP_URL` set, the platform's signature
and the agency's countersignature each carry an RFC 3161 timestamp from that authority. The authority here
is real HTTP on the loopback, answered by pyHanko's test timestamper with a certificate made for the test."""
from __future__ import annotations

import io
import socket
import subprocess
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine

from portal.commitments.models import Commitment
from portal.core import documents
from portal.extensions import db
from tests.commitments_support import NOW, STEP, code_at, commitment, in_force, world
from tests.documents_support import pyhanko_cli, qpdf_check


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _tsa_pair():
    """An RSA key (pyHanko's test timestamper signs with RSA only) and a certificate for time stamping."""
    from asn1crypto import keys, x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test timestamp authority")])
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime(2020, 1, 1, tzinfo=timezone.utc))
        .not_valid_after(datetime(2040, 1, 1, tzinfo=timezone.utc))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    der_key = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return (asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER)),
            keys.PrivateKeyInfo.load(der_key))


class _Authority:
    def __init__(self):
        from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

        self.certificate, key = _tsa_pair()
        self.stamper = DummyTimeStamper(tsa_cert=self.certificate, tsa_key=key)
        self.answered = 0
        authority = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 -- the name http.server calls
                from asn1crypto import tsp

                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Type") != "application/timestamp-query":
                    self.send_error(415)
                    return
                answer = authority.stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
                authority.answered += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tsa"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def authority(app):
    running = _Authority()
    app.config["TIMESTAMP_URL"] = running.url
    yield running
    running.close()


def _signatures(app, data: bytes, authority: _Authority | None = None):
    from asn1crypto import x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    with app.app_context():
        portal = x509.Certificate.load(documents.signing_identity().certificate_der)
    context = ValidationContext(trust_roots=[portal] + ([authority.certificate] if authority else []))
    reader = PdfFileReader(io.BytesIO(data))
    return {s.field_name: validate_pdf_signature(s, context, ts_validation_context=context)
            for s in reader.embedded_signatures}


def _signed_document(app, commitment_id: int) -> bytes:
    with app.app_context():
        return documents.read_document(db.session.get(Commitment, commitment_id).signed_document)


@pytest.mark.real_documents
def test_both_signatures_carry_a_timestamp_of_the_configured_authority(app, make, frozen, authority, tmp_path):
    w = world(make)
    cid = in_force(make, w)
    data = _signed_document(app, cid)
    (tmp_path / "signed.pdf").write_bytes(data)
    statuses = _signatures(app, data, authority)
    assert list(statuses) == ["PortalSignature", "PlatformSignature", "AgencyCountersignature"]
    for field in ("PlatformSignature", "AgencyCountersignature"):
        status = statuses[field]
        assert status.intact and status.valid and status.trusted, field
        stamp = status.timestamp_validity
        assert stamp is not None and stamp.intact and stamp.valid and stamp.trusted, field
        assert abs(stamp.timestamp - NOW) < timedelta(seconds=1)
    # The portal's own signature of the canonical document, made when it was sent, is not timestamped.
    assert statuses["PortalSignature"].timestamp_validity is None
    assert authority.answered == 2
    # The same, as an expert sees it with pyHanko's command line, poppler and qpdf.
    status, judgments, report = pyhanko_cli(app, tmp_path / "signed.pdf", tmp_path, authority.certificate.dump())
    assert status == 0 and set(judgments.values()) == {"VALID"} and len(judgments) == 3, report
    assert report.count("Signature timestamp token:") == 2 and report.count("The TSA certificate is trusted.") == 2
    pdfsig = subprocess.run(["pdfsig", str(tmp_path / "signed.pdf")], capture_output=True, text=True).stdout
    assert pdfsig.count("Signature Validation: Signature is Valid.") == 3, pdfsig
    qpdf_check(tmp_path / "signed.pdf")


@pytest.mark.real_documents
def test_without_an_authority_the_signatures_carry_no_timestamp(app, make, frozen):
    assert not app.config["TIMESTAMP_URL"]
    w = world(make)
    cid = in_force(make, w)
    with app.app_context():
        assert documents.timestamper() is None
    statuses = _signatures(app, _signed_document(app, cid))
    assert len(statuses) == 3
    assert all(status.intact and status.timestamp_validity is None for status in statuses.values())


def test_an_authority_that_does_not_answer_leaves_the_commitment_unsigned(app, make, client, auth, frozen):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.config["TIMESTAMP_URL"] = f"http://127.0.0.1:{port}/tsa"
    w = world(make)
    cid = commitment(make, w)
    with app.app_context():
        sha = db.session.get(Commitment, cid).document_sha256
    auth.login(w.parties.platform_admin)
    data = {"sign-name": "Jane Doe", "sign-title": "General Counsel", "sign-consent": "y",
            "sign-document_sha256": sha, "sign-code": code_at(w.parties.platform_admin.totp_secret, STEP + 1)}
    answer = client.post(f"/commitments/{cid}/sign?lang=en", data=data, follow_redirects=True)
    assert "The timestamp authority did not answer" in answer.data.decode()
    with app.app_context():
        c = db.session.get(Commitment, cid)
        assert c.status == "awaiting_signature" and not c.signatures and c.signed_document_id is None
    # Nothing was kept, not even the code's step: once the authority answers, the same code signs.
    running = _Authority()
    try:
        app.config["TIMESTAMP_URL"] = running.url
        assert client.post(f"/commitments/{cid}/sign", data=data).status_code == 303
    finally:
        running.close()
    with app.app_context():
        assert db.session.get(Commitment, cid).status == "signed"
