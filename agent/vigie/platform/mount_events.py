"""Mount changes reported by an OS callback thread (Windows, macOS), waited for by the volume watch.

The OS-specific part is one `watch(on_change, ready)` function that sets up its event source on the
calling thread, calls ready() once listening, then runs the OS loop for ever, calling on_change()
from that loop. EventSource runs it on a daemon thread started by the first wait(); ChangeSignal
hands the events to the waiter. Any failure becomes NotSupported: the watch then polls instead.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from vigie.model import T
from vigie.platform.base import NotSupported, PlatformError

log = logging.getLogger(__name__)

# One plug-in is several events (the disk, then its mount; one per partition): they are waited out
# so that the volume list is read once, after the burst. A steady stream cannot delay it for ever.
SETTLE_SECONDS = 0.25
MAX_SETTLE_SECONDS = 1.0
START_SECONDS = 5.0

Watch = Callable[[Callable[[], None], Callable[[], None]], None]


def unavailable(detail: str) -> NotSupported:
    return NotSupported(T("Vigie is not told here when a USB drive is plugged in; it looks every few seconds instead."),
                        detail)


class ChangeSignal:
    """signal() from any thread; wait() in one waiter. Events that arrive while nobody waits are
    kept (as one), so none is lost between two looks at the volume list."""

    def __init__(self, settle: float = SETTLE_SECONDS, max_settle: float = MAX_SETTLE_SECONDS) -> None:
        self._condition = threading.Condition()
        self._pending = False
        self._failure: PlatformError | None = None
        self._settle = settle
        self._max_settle = max_settle

    def signal(self) -> None:
        with self._condition:
            self._pending = True
            self._condition.notify_all()

    def fail(self, error: PlatformError) -> None:
        """The event source is gone: every wait from now on raises `error`."""
        with self._condition:
            self._failure = error
            self._condition.notify_all()

    def wait(self, timeout: float | None) -> bool:
        """True once something changed (and the burst it belongs to is over), False on timeout."""
        with self._condition:
            if not self._condition.wait_for(self._woken, timeout):
                return False
            if self._failure is not None and not self._pending:
                raise self._failure
            deadline = time.monotonic() + self._max_settle
            while True:
                self._pending = False
                quiet = min(self._settle, deadline - time.monotonic())
                if quiet <= 0 or self._failure is not None or not self._condition.wait_for(self._woken, quiet):
                    return True  # a failure meanwhile is raised by the next wait

    def _woken(self) -> bool:
        return self._pending or self._failure is not None


class EventSource:
    """Runs `watch` on a daemon thread, started by the first wait(). A source that cannot start is
    not tried again: every wait() raises the same NotSupported."""

    def __init__(self, watch: Watch, thread_name: str, *, start_seconds: float = START_SECONDS,
                 signal: ChangeSignal | None = None) -> None:
        self._watch = watch
        self._thread_name = thread_name
        self._start_seconds = start_seconds
        self._signal = signal or ChangeSignal()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._failure: NotSupported | None = None
        self._startup_error: NotSupported | None = None

    def wait(self, timeout: float | None) -> bool:
        self._start()
        return self._signal.wait(timeout)

    def _start(self) -> None:
        with self._lock:
            if self._failure is None and self._thread is None:
                started = threading.Event()
                self._thread = threading.Thread(target=self._run, args=(started,), name=self._thread_name, daemon=True)
                self._thread.start()
                if not started.wait(self._start_seconds):
                    self._failure = unavailable(f"{self._thread_name}: not listening after {self._start_seconds} s")
                elif self._startup_error is not None:
                    self._failure = self._startup_error
                if self._failure is not None:
                    log.warning("mount events unavailable, polling instead: %s", self._failure)
            if self._failure is not None:
                raise self._failure

    def _run(self, started: threading.Event) -> None:
        listening = False

        def ready() -> None:
            nonlocal listening
            listening = True
            started.set()

        try:
            self._watch(self._signal.signal, ready)
            error = unavailable(f"{self._thread_name}: the event loop ended")
        except NotSupported as exc:
            error = exc
        except Exception as exc:  # each OS fails its own way (OSError, ImportError, a pyobjc error...)
            error = unavailable(f"{self._thread_name}: {type(exc).__name__}: {exc}")
        if listening:
            log.warning("mount events stopped, polling instead: %s", error)
            self._signal.fail(error)
        else:
            self._startup_error = error
            started.set()
