"""Reading ahead: the file is read and cleaned in a thread while the caller writes the batch before.

Reading and cleaning touch no database; the writer spends much of a batch waiting on PostgreSQL (the
COPY, the look-ups, the commit), and the thread runs while it waits. Bounded: at most ``depth``
batches wait in the queue, so a 500,000-row file is still never held whole. An exception in the
thread (a file that stops decoding half-way) is raised in the caller at the point the thread reached;
a caller that stops early (an error, a rollback) stops the thread.

A forked reader process (a core of its own instead of the interpreter lock shared with the writer)
was measured too: slower, 31-34 s against 37-41 s per 50,000 patients on the loaded 2-core machine,
as the writer's own Python work hardly shrank and the batches cost a pickle each way."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

from django.utils import translation

T = TypeVar("T")
_WAIT = 0.2  # seconds between the thread's checks that the caller still wants its items


def ahead(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """``items`` as they are, produced by a thread up to ``depth`` items ahead of the caller."""
    box: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    language = translation.get_language()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=_WAIT)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        with translation.override(language):
            try:
                for item in items:
                    if not put(item):
                        return
            except BaseException as exc:  # handed to the caller, raised there
                put(_Raised(exc))
                return
            finally:
                close = getattr(items, "close", None)
                if close is not None:
                    close()
        put(_Raised(None))

    thread = threading.Thread(target=run, name="import-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = box.get()
            if isinstance(item, _Raised):
                if item.exc is None:
                    return
                raise item.exc
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()


class _Raised:
    """The reader's end: ``exc`` None when the items ran out, else what stopped them."""

    def __init__(self, exc: BaseException | None) -> None:
        self.exc = exc
