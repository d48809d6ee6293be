"""Mount changes, waited for by the volume watch.

Linux: MountinfoWatch sleeps in poll() on /proc/self/mountinfo, which the kernel flags on every
mount change; no thread.

Windows, macOS: an OS callback thread. The OS-specific part is one `watch(on_change, ready)`
function that sets up its event source on the calling thread, calls ready() once listening, then
runs the OS loop for ever, calling on_change() from that loop. EventSource runs it on a daemon
thread started by the first wait(); ChangeSignal hands the events to the waiter. Any failure
becomes NotSupported: the watch then polls instead.
"""

from __future__ import annotations

import logging
import select
import threading
import time
from collections.abc import Callable

from vigie.model import T
from vigie.platform.base import MountChange, NotSupported, PlatformError

log = logging.getLogger(__name__)

# One plug-in is several events (the disk, then its mount; one per partition): they are waited out
# so that the volume list is read once, after the burst. A steady stream cannot delay it for ever.
SETTLE_SECONDS = 0.25
MAX_SETTLE_SECONDS = 1.0
START_SECONDS = 5.0

Watch = Callable[[Callable[[], None], Callable[[], None]], None]
MOUNTINFO = "/proc/self/mountinfo"
MAX_REREADS = 100  # changes arriving while the table is read: read again, but not for ever


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

    def wait(self, timeout: float | None) -> MountChange:
        """CHANGED once something changed (and the burst it belongs to is over), NONE on timeout."""
        with self._condition:
            if not self._condition.wait_for(self._woken, timeout):
                return MountChange.NONE
            if self._failure is not None and not self._pending:
                raise self._failure
            deadline = time.monotonic() + self._max_settle
            while True:
                self._pending = False
                quiet = min(self._settle, deadline - time.monotonic())
                if quiet <= 0 or self._failure is not None or not self._condition.wait_for(self._woken, quiet):
                    return MountChange.CHANGED  # a failure meanwhile is raised by the next wait

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

    def wait(self, timeout: float | None) -> MountChange:
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


class MountinfoWatch:
    """Linux: the kernel flags /proc/self/mountinfo (POLLPRI) on every mount change. One flag may
    stand for several changes: when the table then reads exactly as at the last look, mounts came
    and went in between, and that is said (UNSEEN) rather than nothing. One waiter (the volume watch)."""

    def __init__(self, path: str = MOUNTINFO) -> None:
        self._path = path
        self._file = None  # opened on the first wait(), kept open to be polled
        self._poller = select.poll()
        self._last = b""

    def wait(self, timeout: float | None) -> MountChange:
        if self._file is None:
            self._file = open(self._path, "rb")  # noqa: SIM115 - kept open to be polled
            self._poller.register(self._file, select.POLLPRI | select.POLLERR)
            self._last = self._read()
        if not self._poller.poll(None if timeout is None else int(timeout * 1000)):
            return MountChange.NONE
        table = self._read()
        if table == self._last:
            return MountChange.UNSEEN
        self._last = table
        return MountChange.CHANGED

    def _read(self) -> bytes:
        """The table, read again while changes are flagged meanwhile: the next flag then means a
        change after this read, never one it already holds."""
        for _ in range(MAX_REREADS):
            self._file.seek(0)
            table = self._file.read()
            if not self._poller.poll(0):
                return table
        return table
