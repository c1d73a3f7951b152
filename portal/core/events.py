"""Domain events: a service says what happened; subscribers (webhooks, e-mail notifications) decide who
hears of it, so a domain never calls another domain's notifications.

Events are dispatched at once, in the unit of work of the change: what a subscriber queues in the outbox
commits or rolls back with it. Subscribers flush, never commit, and receive only keyword arguments.
Built on blinker, the signal library Flask itself uses.
"""
from __future__ import annotations

from typing import Callable

from blinker import Namespace

_events = Namespace()


def subscribe(name: str) -> Callable:
    """Decorator: call the function each time `name` is emitted (stackable for several events)."""
    def connect(fn: Callable) -> Callable:
        _events.signal(name).connect(lambda sender, **data: fn(event=sender, **data), weak=False)
        return fn
    return connect


def emit(name: str, **data) -> None:
    """Announce that `name` happened; every subscriber runs now, in the caller's transaction."""
    _events.signal(name).send(name, **data)
