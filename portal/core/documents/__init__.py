"""Every PDF the portal issues: rendered once from plain data in a sandbox, signed, stored immutably, and
checkable by anyone.

A domain registers its kinds (`register_kind`) and issues a document when the thing it records happens (a
request is issued, a meeting is called, minutes are published), with a template under `templates/pdf/` and
a context of plain data it builds itself -- dicts or frozen dataclasses, never ORM objects (see
`portal/requests/notices.py`). The package, by concern:

- `kinds`   -- the registry of kinds, and the errors (`DocumentError`, `DocumentRenderError`, `UnsafeContext`);
- `render`  -- the sandboxed Jinja environment and what it holds, the plain-data check, WeasyPrint
               (PDF/A-3b, no network, no missing glyph);
- `sign`    -- the PAdES signature, the portal's signing identity, the timestamp authority's client;
- `store`   -- write-once storage by hash, removed again when the transaction rolls back;
- `issue`   -- `prepare_document` (render and sign, no database), `record_document` (store, row, audit),
               and `issue_document` (both, inside the transaction);
- `codes`, `verify` -- verification codes (only their hash is stored) and the public checks, which tell
               the facts of a document (never its content) or None, the same for every kind of miss;
- `access`  -- who may reach which document, and the audit of each download;
- `models`  -- the `Document` row.

When: a document that may be large (a request's notice lists up to 10,000 addresses) is prepared after
the change it records has committed, outside any transaction, and recorded in a short one of its own
(README, "Documents"); small ones may be issued inside the transaction of their change.

Other settings: `PUBLIC_BASE_URL` (the verification address printed in documents), `DOCUMENTS_PATH`.
"""
from portal.core import clock  # noqa: F401  (reachable as documents.clock, as before the package)
from portal.core.documents.access import documents_for, get_document, record_download
from portal.core.documents.codes import (
    CODE_ALPHABET,
    CODE_LENGTH,
    code_hash,
    new_verification_code,
    normalise_code,
    verification_url,
)
from portal.core.documents.issue import (
    DocumentFacts,
    Party,
    Prepared,
    Replaced,
    issue_document,
    prepare_document,
    record_document,
)
from portal.core.documents.kinds import (
    KINDS,
    DocumentError,
    DocumentKind,
    DocumentRenderError,
    UnsafeContext,
    kind_of,
    register_kind,
)
from portal.core.documents.models import LANGUAGE_PAIR, Document
from portal.core.documents.render import (
    PDF_VARIANT,
    check_plain,
    format_in_zone,
    format_kst,
    printable,
    render_html,
    render_pdf,
    renderer_status,
)
from portal.core.documents.sign import (
    CREATOR,
    SIGNATURE_FIELD,
    SigningIdentity,
    TimestampUnavailable,
    _self_signed_pair,
    sign_pdf,
    signing_identity,
    timestamper,
)
from portal.core.documents.store import check_store, documents_root, read_document
from portal.core.documents.verify import (
    VerifiedDocument,
    record_verification,
    verify_code,
    verify_file,
    verify_reference,
)
