"""The store lock: questions run side by side; an upload or delete waits for them, alone."""

from __future__ import annotations

import threading
import time

from api.deps import RWLock


def test_readers_share_and_writer_waits_for_them() -> None:
    lock = RWLock()
    lock.acquire_read()
    lock.acquire_read()  # a second reader is not blocked
    wrote = threading.Event()

    def writer() -> None:
        with lock.write():
            wrote.set()

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(0.05)
    assert not wrote.is_set()
    lock.release_read()
    time.sleep(0.05)
    assert not wrote.is_set()
    lock.release_read()
    thread.join(timeout=2)
    assert wrote.is_set()


def test_waiting_writer_holds_back_new_readers() -> None:
    lock = RWLock()
    lock.acquire_read()
    order: list[str] = []
    writer = threading.Thread(
        target=lambda: (lock.acquire_write(), order.append("w"), lock.release_write())
    )
    writer.start()
    time.sleep(0.05)
    reader = threading.Thread(
        target=lambda: (lock.acquire_read(), order.append("r"), lock.release_read())
    )
    reader.start()
    time.sleep(0.05)
    assert order == []
    lock.release_read()
    writer.join(timeout=2)
    reader.join(timeout=2)
    assert order == ["w", "r"]
