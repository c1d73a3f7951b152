"""Thread, internal notes and attachments of a request."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.accounts.models import User
from portal.core import audit, clock, events, policy, workflow
from portal.core.exceptions import Conflict, NotFound, ValidationError
from portal.extensions import db
from portal.i18n import Number
from portal.requests import attachments as files
from portal.requests.models import CLOSED, UNISSUED, WITHDRAWN, Attachment, InternalNote, Request, RequestMessage
from portal.requests.services.common import MAX_TEXT, _event
from portal.requests.services.recipients import _agency_followers, _notify, _platform_users


def _body(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError("body", _l("Write a message."))
    if len(text) > MAX_TEXT:
        raise ValidationError("body", _l("Keep this under %(max)s characters.", max=Number(MAX_TEXT)))
    return text


def post_message(by: User, req: Request, body: str) -> RequestMessage:
    """A message both sides read. Once issued; before that the platform does not know the request."""
    policy.require(by, "request.message", req)
    if req.status in UNISSUED:
        raise Conflict(_l("Messages can be exchanged once the request is issued."))
    from_agency = by.organisation_id == req.agency_id
    message = RequestMessage(request_id=req.id, author_id=by.id, organisation_id=by.organisation_id,
                             recipient_organisation_id=req.platform_id if from_agency else req.agency_id,
                             body=_body(body), created_at=clock.now())
    db.session.add(message)
    db.session.flush()
    audit.record("request.message_posted", req, actor=by, details={"message": message.id})
    recipients = _platform_users(req) if from_agency else _agency_followers(req)
    for user in recipients:
        _notify("message_posted", user, req, by=by)
    events.emit("request.message", req=req, message=message, by=by)
    return message


def add_note(by: User, req: Request, body: str) -> InternalNote:
    policy.require(by, "request.note", req)
    note = InternalNote(request_id=req.id, author_id=by.id, body=_body(body), created_at=clock.now())
    db.session.add(note)
    db.session.flush()
    audit.record("request.note_added", req, actor=by, details={"note": note.id})
    return note


def add_attachment(by: User, req: Request, stream, filename: str) -> Attachment:
    """Store a document attached to the request (PDF, plain text or CSV, checked by its bytes)."""
    policy.require(by, "request.attach", req)
    workflow.lock(req)  # an attachment added before the issue is part of what the approver approves
    if req.status in (CLOSED, WITHDRAWN):
        raise Conflict(_l("Nothing can be attached to a closed or withdrawn request."))
    if by.organisation_id == req.platform_id and req.status in UNISSUED:
        raise Conflict(_l("Nothing can be attached to this request now."))
    checked = files.check(stream, filename)
    stored = files.store(checked)
    attachment = Attachment(request_id=req.id, uploaded_by_id=by.id, organisation_id=by.organisation_id,
                            filename=checked.label, stored_name=stored,
                            content_type=checked.content_type, size=checked.size, sha256=checked.sha256,
                            created_at=clock.now())
    db.session.add(attachment)
    db.session.flush()
    if req.status in UNISSUED:
        _event(by, req, "attachment_added", internal=True, at=attachment.created_at)
    audit.record("request.attachment_added", req, actor=by,
                 details={"attachment": attachment.id, "sha256": checked.sha256, "size": checked.size})
    return attachment


def open_attachment(by: User, req: Request, attachment_id: int):
    """The attachment and its file, after the access check; the download is audited."""
    policy.require(by, "request.view", req)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.request_id != req.id:
        raise NotFound(_l("Attachment not found."))
    audit.record("request.attachment_downloaded", req, actor=by,
                 details={"attachment": attachment.id, "sha256": attachment.sha256})
    return attachment, files.path_of(attachment.stored_name)
