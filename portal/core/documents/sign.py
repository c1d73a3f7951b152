"""Signing: a PAdES signature (pyHanko) with the portal's key, configured by path in production
(`DOCUMENT_SIGNING_KEY`, `DOCUMENT_SIGNING_CERT`, optional `DOCUMENT_SIGNING_KEY_PASSPHRASE` and
`DOCUMENT_SIGNING_CHAIN`), generated into `instance/signing/` on first use elsewhere; with an RFC 3161
timestamp from the authority at `TIMESTAMP_URL` where a caller asks for one (`timestamper()`)."""
from __future__ import annotations

import asyncio
import fcntl
import hashlib
import io
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app

from portal.core import clock
from portal.core.documents.kinds import DocumentError

log = logging.getLogger(__name__)

SIGNATURE_FIELD = "PortalSignature"
CREATOR = "Platform Cooperation Portal"
LOCATION = "Seoul, Republic of Korea"
# Room for a timestamp token in the signature: the authority's signed answer and the certificates it embeds.
TIMESTAMP_BYTES = 16384


class TimestampUnavailable(DocumentError):
    """The timestamp authority did not answer, or not with a timestamp: nothing was signed."""


@dataclass(frozen=True)
class SigningIdentity:
    signer: object  # pyhanko.sign.signers.SimpleSigner
    certificate_der: bytes
    subject: str
    not_after: datetime
    # Room for the CMS signature in the file. Given, it spares pyHanko a trial signature per document
    # (a fifth of a second); the certificates embedded in the signature are most of its size.
    bytes_reserved: int = 16384

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.certificate_der).hexdigest()

    @property
    def fingerprint_colons(self) -> str:
        return ":".join(self.fingerprint[i:i + 2] for i in range(0, 64, 2)).upper()


def signing_identity() -> SigningIdentity:
    """The portal's signing key and certificate, loaded once per application."""
    cache = current_app.extensions.setdefault("portal.documents", {})
    if "identity" not in cache:
        cache["identity"] = _load_identity()
    return cache["identity"]


def _load_identity() -> SigningIdentity:
    from cryptography import x509
    from pyhanko.sign import signers

    config = current_app.config
    key_path, cert_path = config.get("DOCUMENT_SIGNING_KEY"), config.get("DOCUMENT_SIGNING_CERT")
    if not key_path or not cert_path:
        if config["PORTAL_ENV"] == "production":
            raise DocumentError("PORTAL_DOCUMENT_SIGNING_KEY and PORTAL_DOCUMENT_SIGNING_CERT must be set "
                                "when PORTAL_ENV=production")
        key_path, cert_path = _development_key_pair()
    passphrase = config.get("DOCUMENT_SIGNING_KEY_PASSPHRASE")
    chain = config.get("DOCUMENT_SIGNING_CHAIN") or ()
    if isinstance(chain, str):
        chain = [p for p in chain.split(os.pathsep) if p]
    signer = signers.SimpleSigner.load(str(key_path), str(cert_path), ca_chain_files=list(chain) or None,
                                       key_passphrase=passphrase.encode() if passphrase else None)
    if signer is None:
        raise DocumentError("the document signing key or certificate cannot be read")
    certificate = x509.load_der_x509_certificate(signer.signing_cert.dump())
    embedded = sum(len(c.dump()) for c in signer.cert_registry)
    return SigningIdentity(signer=signer, certificate_der=signer.signing_cert.dump(),
                           subject=certificate.subject.rfc4514_string(),
                           not_after=certificate.not_valid_after_utc, bytes_reserved=8192 + 2 * embedded)


def _development_key_pair() -> tuple[Path, Path]:
    """A self-signed ECDSA P-256 key and certificate in instance/signing/, made once (under a lock)."""
    folder = Path(current_app.instance_path) / "signing"
    folder.mkdir(mode=0o700, exist_ok=True)
    key_path, cert_path = folder / "document-signing-key.pem", folder / "document-signing-cert.pem"
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two workers starting together make one key, not two
        if not (key_path.exists() and cert_path.exists()):
            key_pem, cert_pem = _self_signed_pair()
            for path, data, mode in ((key_path, key_pem, 0o600), (cert_path, cert_pem, 0o644)):
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
                with os.fdopen(descriptor, "wb") as handle:
                    handle.write(data)
            log.warning("generated a self-signed document signing key in %s (development only)", folder)
    return key_path, cert_path


def _self_signed_pair() -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "KR"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Platform Cooperation Portal"),
        x509.NameAttribute(NameOID.COMMON_NAME, "Platform Cooperation Portal document signing (development)"),
    ])
    now = clock.now()
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)


def timestamper():
    """The client of the timestamp authority at `TIMESTAMP_URL` (pyHanko's RFC 3161 HTTP client), or None
    when none is configured."""
    config = current_app.config
    url = (config.get("TIMESTAMP_URL") or "").strip()
    if not url:
        return None
    from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

    return RequestsHTTPTimeStamper(url, timeout=config.get("TIMESTAMP_TIMEOUT") or 10)


def sign_pdf(pdf: bytes, identity: SigningIdentity, *, title: str, author: str, subject: str,
             issued_at: datetime, reason: str, field_name: str = SIGNATURE_FIELD, location: str = LOCATION,
             timestamper=None) -> bytes:
    """A PAdES baseline signature over the whole file, as an incremental update (PDF/A survives it, and the
    signatures already in the file stay valid): in the signature field `field_name` (made if missing), with
    `reason` and `location`, and an RFC 3161 timestamp from `timestamper` when one is given (a
    `TimestampUnavailable` when its authority fails). Title, author, subject and date are the document's
    metadata, written again the same so that the info dictionary and the XMP packet agree."""
    arguments = dict(title=title, author=author, subject=subject, issued_at=issued_at, reason=reason,
                     field_name=field_name, location=location, timestamper=timestamper)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _sign_pdf(pdf, identity, **arguments)
    # pyHanko's synchronous API calls asyncio.run(), which a thread already running an event loop cannot
    # (a caller that drives another library's loop, e.g. Playwright's sync API): sign in a thread of its own.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pdf-sign") as pool:
        return pool.submit(_sign_pdf, pdf, identity, **arguments).result()


def _sign_pdf(pdf: bytes, identity: SigningIdentity, *, title: str, author: str, subject: str,
              issued_at: datetime, reason: str, field_name: str, location: str, timestamper) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    # pyHanko rewrites the XMP metadata; the same values on both sides keep the info dictionary and the
    # XMP packet in agreement, as PDF/A requires.
    meta = writer.document_meta
    meta.title, meta.author, meta.subject = title, author, subject
    meta.created = meta.last_modified = issued_at
    signature = signers.PdfSignatureMetadata(
        field_name=field_name, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
        reason=reason, location=location, name=CREATOR,
    )
    reserved = identity.bytes_reserved + (TIMESTAMP_BYTES if timestamper is not None else 0)
    try:
        output = signers.PdfSigner(signature, identity.signer, timestamper=timestamper).sign_pdf(
            writer, bytes_reserved=reserved)
    except TimestampRequestError as exc:
        log.warning("the timestamp authority failed: %s", exc)
        raise TimestampUnavailable("the timestamp authority did not answer with a timestamp") from exc
    return output.getvalue()
