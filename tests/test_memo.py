"""core/memo: values made once per key, the least recently used dropped past the bound."""
import threading

from portal.core.memo import Memo


def test_a_value_is_built_once_per_key():
    built = []
    memo = Memo(4)

    def build(key):
        built.append(key)
        return key * 2

    assert memo.get("a", lambda: build("a")) == "aa"
    assert memo.get("a", lambda: build("a")) == "aa"
    assert memo.get("b", lambda: build("b")) == "bb"
    assert built == ["a", "b"]


def test_the_least_recently_used_key_is_dropped_past_the_bound():
    memo = Memo(2)
    memo.get(1, lambda: "one")
    memo.get(2, lambda: "two")
    memo.get(1, lambda: "one")  # 1 is now the most recent
    memo.get(3, lambda: "three")  # drops 2
    assert memo.get(1, lambda: "rebuilt") == "one"
    assert memo.get(2, lambda: "rebuilt") == "rebuilt"
    assert len(memo._values) == 2


def test_a_failed_build_keeps_nothing():
    memo = Memo(2)

    def fail():
        raise ValueError("no")

    for _ in range(2):
        try:
            memo.get("k", fail)
        except ValueError:
            pass
    assert memo.get("k", lambda: "made") == "made"


def test_threads_share_it_safely():
    memo = Memo(64)
    errors = []

    def work(offset):
        try:
            for i in range(2000):
                key = (i + offset) % 100
                assert memo.get(key, lambda: key * 3) == key * 3
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(memo._values) <= 64
