"""Absolute links for e-mails, documents and webhooks, built outside any HTTP request (the worker, the CLI)
from `PUBLIC_BASE_URL` and the URL map, without a fake request context."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def absolute(endpoint: str, **values) -> str:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    parts = urlsplit(base)
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme)
    return adapter.build(endpoint, values, force_external=True)
