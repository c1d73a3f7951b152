"""Who is calling the API: the user of the bearer token, and nobody else.

A session cookie never authenticates an API call: for /api/ paths the caller is set from the
`Authorization` header before the access rules run, so Flask-Login never reads the cookie. Without CSRF
cookies to ride on, the API blueprint is exempt from CSRF checks.
"""
from __future__ import annotations

import logging

from flask import current_app, g, request
from flask_limiter.util import get_remote_address

from portal.api import tokens
from portal.api.models import ApiToken
from portal.core import audit
from portal.extensions import db

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
DEFAULT_RATE_LIMIT = "600 per minute;20000 per hour"


def bearer_text() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def current_token() -> ApiToken | None:
    """The usable token of this request (looked up once per request), or None."""
    if "api_token" not in g:
        g.api_token = None
        text = bearer_text()
        if text is not None:
            token = tokens.authenticate(text, request.remote_addr)
            if token is None:
                log.info("API call with an unusable token refused on %s %s", request.method, request.endpoint)
                audit.record_refusal("api_token")  # the token itself is never recorded
            g.api_token = token
    return g.api_token


def load_api_caller() -> None:
    """before_request (ahead of policy.enforce_access): for API paths the caller is the token's user."""
    if not request.path.startswith(API_PREFIX):
        return
    token = current_token()
    # Flask-Login reads g._login_user before it would look at the session cookie.
    g._login_user = token.user if token is not None else current_app.login_manager.anonymous_user()


def rate_limit_key() -> str:
    """One budget per token; calls without a usable token (guesses included) share their address's."""
    token = current_token()
    if token is not None:
        return f"api-token:{token.id}"
    return f"api-address:{get_remote_address()}"


def rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT)
