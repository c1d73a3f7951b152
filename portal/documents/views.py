"""Download of an issued document: the stored bytes exactly as issued, never rendered again."""
from urllib.parse import quote

from flask import Response, abort
from flask_login import current_user

from portal.core import documents, policy
from portal.core.exceptions import NotFound
from portal.documents import bp
from portal.extensions import db
from portal.i18n import current_language


@bp.get("/documents/<int:document_id>/download")
@policy.access("document.download")
def download(document_id: int):
    try:
        document = documents.get_document(current_user, document_id)
    except NotFound:
        abort(404)
    data = documents.read_document(document)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(document.download_name(current_language()),
                                                                  fallback=f"{document.reference}.pdf")
    response.headers["ETag"] = f'"{document.sha256}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Last: after the commit the row and the user would be loaded again just to name the file.
    documents.record_download(current_user, document)
    return response


def content_disposition(filename: str, fallback: str) -> str:
    """`attachment` with an ASCII `fallback` name for old clients and the exact UTF-8 name (RFC 6266 with
    RFC 5987 encoding), which every current browser prefers."""
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in fallback)
    if filename == fallback:
        return f'attachment; filename="{fallback}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
