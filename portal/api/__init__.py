"""API v1 under /api/v1: JSON over the same services as the web pages, authenticated by personal tokens.

`bp` is the API itself (token auth, CSRF exempt, rate-limited per token); `pages_bp` holds the web pages
where people make and revoke their tokens and read the API's documentation.
"""
from flask import Blueprint, Flask

bp = Blueprint("api", __name__, url_prefix="/api/v1")
pages_bp = Blueprint("api_pages", __name__)

from portal.api import auth, commitments, models, pages, reports, views  # noqa: E402,F401
from portal.api import minutes  # noqa: E402,F401  (after views: it uses its error answers)
from portal.api import consultations  # noqa: E402,F401
from portal.extensions import limiter  # noqa: E402

# Once, at import: the limiter and the blueprint are process-wide, like the apps made from them.
limiter.limit(auth.rate_limit, key_func=auth.rate_limit_key)(bp)


def init_app(app: Flask) -> None:
    """Bind the API: the token caller ahead of the access rules, no CSRF, per-token limits."""
    from portal.extensions import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.register_blueprint(pages_bp)
    # before_request functions run in the order registered: this one must precede policy.enforce_access.
    app.before_request(auth.load_api_caller)
