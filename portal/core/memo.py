"""Values built once per key and kept, up to a bound: statements a page would otherwise build again."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from threading import Lock
from typing import Generic, TypeVar

V = TypeVar("V")


class Memo(Generic[V]):
    """What `build()` made for a key, the least recently used dropped past `size`. The key must name
    everything the value depends on: a value is never checked again."""

    def __init__(self, size: int):
        self.size = size
        self._values: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = Lock()

    def get(self, key: Hashable, build: Callable[[], V]) -> V:
        # Reads take no lock (a list looks up fifty keys a page): each of OrderedDict's operations is atomic,
        # and a key dropped between them by another thread is simply built again.
        try:
            value = self._values[key]
            self._values.move_to_end(key)
            return value
        except KeyError:
            pass
        value = build()  # outside the lock: two threads may both build, the second keeps its own
        with self._lock:
            self._values[key] = value
            if len(self._values) > self.size:
                self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
