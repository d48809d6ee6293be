"""One X connection for the X11 questions Linux asks (idle time, keyboard grab, xscreensaver's status,
the screen saver's timeout), kept open and reused.

A connection per question left garbage behind: python-xlib builds classes for each connection's
extensions, and those stay until Python's next full collection, about 3 KiB a question. In a soak with
the lock cycling, 4–5 MB of the agent's memory was that garbage at any moment (issue 21).

Questions take turns on one connection, each within its time limit (bounded_call). One that does not
answer in time is left to its thread with its connection: the next question opens a fresh one. A
connection that fails (the X server went, DISPLAY changed) is dropped, and the question asked once more
on a new one.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from vigie.bounded import CallTimeout, bounded_call

if TYPE_CHECKING:
    from Xlib.display import Display

R = TypeVar("R")


class _Shared:
    """The connection, the DISPLAY it was opened on, and the lock questions take turns on."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.connection: Display | None = None
        self.display_name = ""


_shared = _Shared()
_swap = threading.Lock()  # guards replacing _shared after a question that did not answer


def ask(question: Callable[[Display], R], timeout: float, name: str) -> R:
    """`question(connection)` on the shared connection, within `timeout` seconds (CallTimeout beyond)."""
    shared = _shared
    try:
        return bounded_call(lambda: _ask_on(shared, question, timeout), timeout, name)
    except CallTimeout:
        _abandon(shared)
        raise


def _ask_on(shared: _Shared, question: Callable[[Display], R], timeout: float) -> R:
    if not shared.lock.acquire(timeout=timeout):
        raise CallTimeout("x11: an earlier question still holds the connection")
    try:
        try:
            return _answer(shared, question)
        except Exception as exc:
            if not _connection_lost(exc):
                raise
        return _answer(shared, question)  # once more, on a new connection
    finally:
        shared.lock.release()


def _answer(shared: _Shared, question: Callable[[Display], R]) -> R:
    """The question on the shared connection; a connection that raised is closed (the next one is new)."""
    connection = _connection(shared)
    try:
        answer = question(connection)
        _drain(connection)
        return answer
    except Exception:
        _close(shared)
        raise


def _connection(shared: _Shared) -> Display:
    wanted = os.environ.get("DISPLAY", "")
    if shared.connection is not None and shared.display_name != wanted:
        _close(shared)
    if shared.connection is None:
        from Xlib import display

        shared.connection, shared.display_name = display.Display(), wanted
    return shared.connection


def _drain(connection: Display) -> None:
    """Events that came to it (keys pressed during a grab probe) are never read: drop them."""
    while connection.pending_events():
        connection.next_event()


def _close(shared: _Shared) -> None:
    connection, shared.connection = shared.connection, None
    if connection is not None:
        with contextlib.suppress(Exception):  # already broken: nothing left to close
            connection.close()


def _connection_lost(exc: Exception) -> bool:
    from Xlib import error

    return isinstance(exc, (error.ConnectionClosedError, ConnectionError, BrokenPipeError))


def _abandon(shared: _Shared) -> None:
    """A question did not answer: its thread keeps that connection; the next ones get a new one."""
    global _shared
    with _swap:
        if _shared is shared:
            _shared = _Shared()
