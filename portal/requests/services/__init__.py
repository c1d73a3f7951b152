"""Formal requests: every rule of drafting, issuing, answering and following up a request.

Services flush and never commit; the unit of work (`core/transaction`) commits once. Each refusal is a
domain error: `PermissionDenied` (outside the user's reach: answered 404), `Conflict` (the action does not
fit the request's state), `ValidationError` (bad input). Each state change, view and download is audited,
e-mails go to the outbox in the same transaction. Changes the platform hears of are announced as domain
events (`core/events`: request.issued, request.deadline_approaching, request.overdue, request.message,
request.closed, each with `req=`); portal/webhooks subscribes to them, so this package never imports it.

One module per concern; this package re-exports what views, the API, the CLI and tests call.
"""
from portal.requests import notices  # noqa: F401  (kept reachable as services.notices)
from portal.requests.models import CATEGORIES, PRIORITIES, TYPES  # noqa: F401
from portal.requests.services.common import (  # noqa: F401
    MAX_REASON,
    MAX_TEXT,
    ItemsRefused,
    get_request,
    record_item_view,
    record_view,
)
from portal.requests.services.drafting import (  # noqa: F401
    AUTHORING,
    ItemsAdded,
    add_items,
    authors,
    create_draft,
    delete_draft,
    legal_bases,
    platforms,
    remove_items,
    update_draft,
)
from portal.requests.services.extensions import (  # noqa: F401
    get_extension,
    grant_extension,
    refuse_extension,
    request_extension,
)
from portal.requests.services.lifecycle import (  # noqa: F401
    acknowledge,
    allocate_reference,
    close,
    issue_request,
    reopen,
    send_back,
    set_outcomes,
    submit_for_approval,
    submit_response,
    withdraw,
)
from portal.requests.services.queries import (  # noqa: F401
    ITEM_COLUMNS,
    PAGE_SIZE,
    SORTS,
    Filters,
    address_hashes,
    Page,
    attachments_of,
    earlier_requests,
    item_neighbours,
    extensions_of,
    get_item,
    history,
    item_rows,
    items_page,
    list_requests,
    messages,
    next_sort,
    notes,
    outcome_counts,
    read_cursor,
    sort_direction,
    sort_of,
    unissued_requests,
)
from portal.requests.services.reads import last_read, mark_read, unread_request_ids  # noqa: F401
from portal.requests.services.recipients import request_link  # noqa: F401
from portal.requests.services.settings import (  # noqa: F401
    add_legal_basis,
    deadline_policies,
    set_deadline_policy,
    set_legal_basis_active,
)
from portal.requests.services.states import (  # noqa: F401
    OUTCOME_STATES,
    REQUESTS,
    STATUS_ACTIONS,
    TRANSITIONS,
    Transition,
    allowed_actions,
    step,
)
from portal.requests.services.thread import add_attachment, add_note, open_attachment, post_message  # noqa: F401
from portal.requests.services.tick import tick  # noqa: F401
