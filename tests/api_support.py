"""Helpers of the API tests: tokens made through the service, and calls that carry them."""
from __future__ import annotations

from portal.accounts.models import User
from portal.api import tokens
from portal.api.models import SCOPES
from portal.extensions import db


def token_for(app, user, scopes=SCOPES, valid_days: int = 90) -> str:
    """A new token of `user` (a factory's Made); returns its text."""
    with app.test_request_context():
        _row, text = tokens.create_token(db.session.get(User, user.id), "test", list(scopes), valid_days)
        db.session.commit()
        return text


def bearer(text: str) -> dict:
    return {"Authorization": f"Bearer {text}"}


class Api:
    """A test client speaking as one token: api.get("/requests"), api.post("/requests/1/submit", json=...)."""

    def __init__(self, client, text: str):
        self.client, self.text = client, text

    def _call(self, method, path, **kwargs):
        headers = {**bearer(self.text), **kwargs.pop("headers", {})}
        return self.client.open("/api/v1" + path, method=method, headers=headers, **kwargs)

    def get(self, path, **kwargs):
        return self._call("GET", path, **kwargs)

    def post(self, path, **kwargs):
        if "data" not in kwargs:
            kwargs.setdefault("json", {})
        return self._call("POST", path, **kwargs)

    def patch(self, path, **kwargs):
        return self._call("PATCH", path, **kwargs)


def api_as(app, client, user, scopes=SCOPES) -> Api:
    return Api(client, token_for(app, user, scopes))
