"""The public verification page. The answer is the same for every kind of miss (unknown reference,
wrong code, changed file), never echoes what was typed, and shows no content of the document."""
from __future__ import annotations

import io
import logging

from flask import current_app, render_template, request
from flask_babel import gettext as _

from portal.core import documents, policy
from portal.extensions import csrf, db, limiter
from portal.verification import bp
from portal.verification.forms import FileForm, ReferenceForm

log = logging.getLogger(__name__)

DEFAULT_RATE_LIMIT = "20 per minute;200 per hour"
DEFAULT_UPLOAD_MAX_BYTES = 10 * 1024 * 1024
MULTIPART_ROOM = 64 * 1024  # the form's envelope and CSRF token around the file


def _rate_limit() -> str:
    return current_app.config.get("VERIFY_RATE_LIMIT", DEFAULT_RATE_LIMIT)


# One budget per address for every way of asking (code, reference and code, file): guessing codes
# through one route does not leave the others fresh.
def _limited(methods: list[str] | None = None):
    return limiter.shared_limit(_rate_limit, scope="document-verification", methods=methods)


def _upload_max_bytes() -> int:
    return int(current_app.config.get("VERIFY_UPLOAD_MAX_BYTES", DEFAULT_UPLOAD_MAX_BYTES))


def _page(result=None, checked: str | None = None, form=None, file_form=None, status: int = 200):
    try:
        fingerprint = documents.signing_identity().fingerprint_colons
    except documents.DocumentError:  # no signing key configured yet: the page still verifies
        fingerprint = None
    return render_template(
        "verification/verify.html", result=result, checked=checked, fingerprint=fingerprint,
        form=form or ReferenceForm(formdata=None), file_form=file_form or FileForm(formdata=None, prefix="upload"),
        max_megabytes=_upload_max_bytes() // (1024 * 1024),
    ), status


def _answer(result, method: str):
    if result is not None:
        documents.record_verification(result, method)
    else:
        log.info("document verification found no match (by %s)", method)
    return _page(result, checked=method)


@bp.route("/verify", methods=["GET", "POST"])
@policy.access(policy.PUBLIC)
@_limited(methods=["POST"])
def verify():
    form = ReferenceForm()
    if form.validate_on_submit():
        return _answer(documents.verify_reference(form.reference.data, form.code.data), "reference")
    return _page(form=form)


@bp.get("/verify/<code>")
@policy.access(policy.PUBLIC)
@_limited()
def verify_code(code: str):
    """What the QR code in a document opens."""
    return _answer(documents.verify_code(code), "code")


def _in_memory_stream(*_args, **_kwargs):
    # The uploaded file is hashed and dropped: it is kept in memory, never spooled to a temporary file.
    return io.BytesIO()


@bp.post("/verify/file")
@csrf.exempt  # checked below, once the size limit and the in-memory stream are in place
@policy.access(policy.PUBLIC)
@_limited()
def verify_file():
    limit = _upload_max_bytes()
    request.max_content_length = limit + MULTIPART_ROOM
    request._get_file_stream = _in_memory_stream
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()
    file_form = FileForm(prefix="upload")
    if not file_form.validate_on_submit():
        return _page(file_form=file_form)
    data = file_form.file.data.stream.read(limit + 1)
    if len(data) > limit:
        file_form.file.errors = [_("The file is larger than %(size)d MB.", size=limit // (1024 * 1024))]
        return _page(file_form=file_form, status=413)
    result = documents.verify_file(data)
    del data
    return _answer(result, "file")
