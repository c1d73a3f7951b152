"""Webhooks: a platform's own systems hear about its requests as they happen.

A platform administrator registers HTTPS endpoints for chosen events; the requests services emit domain
events (portal/core/events) that services.py subscribes to, in the same transaction as the change, and the
outbox (portal/core/outbox) delivers them signed, with retries. Payloads carry ids and references only: the receiver fetches the rest with its API token.
"""
from flask import Blueprint

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

from portal.webhooks import models, services, views  # noqa: E402,F401  (services: the event subscribers)
