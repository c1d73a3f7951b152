"""Domain events: a service says what happened; subscribers (webhooks, e-mail notifications) decide who
hears of it, so a domain never calls another domain's notifications.

Events are dispatched at once, in the unit of work of the change: what a subscriber queues in the outbox
commits or rolls back with it. Subscribers flush, never commit, and receive only keyword arguments.
Built on blinker, the signal library Flask itself uses.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def listening(*names: str) -> Iterator[list[tuple[str, dict]]]:
    """Record `(name, data)` of each of the events `names` emitted inside the block (tests, diagnostics);
    the recorder is disconnected when the block ends."""
    heard: list[tuple[str, dict]] = []

    def record(sender, **data):
        heard.append((sender, data))

    signals = [_events.signal(name) for name in names]
    for signal in signals:
        signal.connect(record, weak=False)
    try:
        yield heard
    finally:
        for signal in signals:
            signal.disconnect(record)
