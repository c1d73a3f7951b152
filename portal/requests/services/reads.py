"""Read marks of a request's thread: how far each user has read it, so the dashboards can count the
requests with messages from the other side that the user has not seen yet.

A mark is the newest message shown to the user on the request's page. That page is a GET, which only
reads (core/transaction): the mark is written after the page is built, in the short write that also
appends the view's audit row, and only when it moves forward. Two views racing never move it back.

Whose unread messages: a platform user's are those written by the agency on any of the platform's
requests; an agency user's are those written by the platform on the requests they follow (drafted or
issued), the same people the thread's e-mails go to.
"""
from __future__ import annotations

from sqlalchemy import and_, case, or_, select

from portal.accounts.models import User
from portal.core import clock, transaction
from portal.core.database import insert_or_update
from portal.extensions import db
from portal.requests.models import Request, RequestMessage, RequestRead


def last_read(user: User, req: Request) -> int:
    """The id of the newest message `user` has been shown on `req`'s page (0: none)."""
    mark = db.session.get(RequestRead, (user.id, req.id))
    return mark.last_read_message_id if mark is not None else 0


def mark_read(user: User, req: Request, messages: list[RequestMessage]) -> None:
    """`user` has been shown `messages` of `req`: move their mark to the newest, after the page is built."""
    newest = max((m.id for m in messages), default=0)
    if newest <= last_read(user, req):
        return
    user_id, request_id, at = user.id, req.id, clock.now()
    transaction.write(lambda: _advance(user_id, request_id, newest, at))


def _advance(user_id: int, request_id: int, message_id: int, at) -> None:
    statement = insert_or_update(RequestRead, db.session).values(
        user_id=user_id, request_id=request_id, last_read_message_id=message_id, read_at=at)
    newer = statement.excluded.last_read_message_id > RequestRead.last_read_message_id
    db.session.execute(statement.on_conflict_do_update(
        index_elements=[RequestRead.user_id, RequestRead.request_id],
        set_={"last_read_message_id": case((newer, statement.excluded.last_read_message_id),
                                           else_=RequestRead.last_read_message_id),
              "read_at": case((newer, statement.excluded.read_at), else_=RequestRead.read_at)}))


def unread_request_ids(user: User):
    """A select() of the ids of requests with messages to `user`'s side newer than their mark.

    It walks the index of messages by recipient organisation (ix_request_messages_recipient_request),
    looks up the user's mark by its key, and the request by its id."""
    query = (select(RequestMessage.request_id).distinct()
             .join(Request, Request.id == RequestMessage.request_id)
             .outerjoin(RequestRead, and_(RequestRead.user_id == user.id,
                                          RequestRead.request_id == RequestMessage.request_id))
             .where(RequestMessage.recipient_organisation_id == user.organisation_id,
                    or_(RequestRead.last_read_message_id.is_(None),
                        RequestMessage.id > RequestRead.last_read_message_id),
                    Request.scope_clause_for(user)))
    if user.organisation.kind == "agency":
        query = query.where(or_(Request.drafted_by_id == user.id, Request.approved_by_id == user.id))
    return query
