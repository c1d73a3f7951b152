"""Hand-made requests for the reports' tests: made through the real services, then given the exact times
a test needs, so every figure has a known answer."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

from portal.core import clock
from portal.extensions import db
from portal.requests.models import ExtensionRequest, Request, RequestItem


def kst(*parts) -> datetime:
    return datetime(*parts, tzinfo=clock.KST)


def shaped(make, parties, *, issued: datetime, status: str = "issued", acknowledged: datetime | None = None,
           outcomes: list[tuple[str | None, datetime | None]] | None = None, deadline: datetime | None = None,
           very_overdue_from: datetime | None = None, extension: str | None = None,
           request_type: str = "removal") -> int:
    """A request of `parties` in `status` with the given times; `outcomes` one (outcome, at) per item."""
    outcomes = outcomes or [(None, None)]
    urls = tuple(f"https://example.com/{i}-{datetime.now().timestamp()}" for i in range(len(outcomes)))
    request_id = make.request(parties, status, urls=urls, request_type=request_type)
    deadline = deadline or issued + timedelta(hours=72)
    with make.app.app_context():
        req = db.session.get(Request, request_id)
        req.issued_at, req.acknowledged_at, req.deadline = issued, acknowledged, deadline
        req.deadline_start = issued
        req.very_overdue_from = very_overdue_from or deadline + (deadline - issued)
        items = sorted(db.session.query(RequestItem).filter_by(request_id=request_id), key=lambda i: i.position)
        for item, (outcome, at) in zip(items, outcomes):
            item.outcome, item.outcome_at = outcome, at
        if extension is not None:
            db.session.add(ExtensionRequest(request_id=request_id, requested_by_id=parties.agent.id,
                                            reason="more time", status=extension, created_at=issued))
        db.session.commit()
    return request_id


def record_outcome(app, request_id: int, outcome: str, at: datetime) -> None:
    """A late correction: every item of the request gets `outcome` at `at`."""
    with app.app_context():
        db.session.execute(update(RequestItem).where(RequestItem.request_id == request_id)
                           .values(outcome=outcome, outcome_at=at))
        db.session.commit()
