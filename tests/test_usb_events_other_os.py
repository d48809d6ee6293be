"""USB insertion events on Windows and macOS, and the Windows eject confirmation.

The shared waiter (platform/mount_events.py) runs with real threads. Windows messages are real
DEV_BROADCAST_* structures built with ctypes and read back from their address; only the window
and its message loop (device_change_window) are replaced. On macOS the DiskArbitration and
CoreFoundation modules are stand-ins that record the callbacks disk_arbitration_watch registers
and run a "run loop" that blocks like the real one: everything else is the real code path.
"""

from __future__ import annotations

import ctypes
import queue
import sys
import threading
import time
import types

import pytest

from vigie.i18n import render, translator
from vigie.platform import macos, mount_events, proc, windows
from vigie.platform.base import MountChange, NotSupported, ToolFailed, Volume
from vigie.platform.macos import MacPlatform
from vigie.platform.mount_events import ChangeSignal, EventSource
from vigie.platform.windows import WindowsPlatform

EN = translator("en")


def waiter_thread(signal: ChangeSignal | EventSource, timeout: float | None) -> tuple[threading.Thread, list]:
    """wait(timeout) in its own thread; its result (or exception) lands in the returned list."""
    results: list = []

    def run() -> None:
        try:
            results.append(signal.wait(timeout))
        except Exception as exc:
            results.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, results


# --- ChangeSignal --------------------------------------------------------------------------------

def test_nothing_happens_the_wait_times_out() -> None:
    signal = ChangeSignal(settle=0)
    started = time.monotonic()
    assert signal.wait(0.2) is MountChange.NONE
    assert time.monotonic() - started >= 0.19
    assert signal.wait(0) is MountChange.NONE


def test_a_signal_from_another_thread_wakes_the_waiter() -> None:
    signal = ChangeSignal(settle=0)
    thread, results = waiter_thread(signal, None)  # no timeout: only the signal can end it
    signal.signal()
    thread.join(5)
    assert results == [MountChange.CHANGED]


def test_a_signal_before_the_wait_is_not_lost_and_counts_once() -> None:
    signal = ChangeSignal(settle=0)
    for _ in range(5):
        signal.signal()
    assert signal.wait(0) is MountChange.CHANGED
    assert signal.wait(0) is MountChange.NONE  # the five were one change
    signal.signal()  # after the look at the volumes: a new change
    assert signal.wait(0) is MountChange.CHANGED


def test_a_burst_is_waited_out_then_counts_once() -> None:
    signal = ChangeSignal(settle=0.5, max_settle=5)
    thread, results = waiter_thread(signal, None)
    signal.signal()  # the disk...
    signal.signal()  # ...then its mount, well within the settle time
    thread.join(5)
    assert results == [MountChange.CHANGED]
    assert signal.wait(0) is MountChange.NONE


def test_the_quiet_time_comes_before_the_answer() -> None:
    signal = ChangeSignal(settle=0.3, max_settle=5)
    signal.signal()
    started = time.monotonic()
    assert signal.wait(5) is MountChange.CHANGED
    assert 0.29 <= time.monotonic() - started < 2


def test_a_steady_stream_cannot_hold_the_waiter_for_ever() -> None:
    signal = ChangeSignal(settle=0.2, max_settle=0.5)
    stop = threading.Event()

    def stream() -> None:
        while not stop.wait(0.02):
            signal.signal()

    streamer = threading.Thread(target=stream, daemon=True)
    streamer.start()
    try:
        started = time.monotonic()
        assert signal.wait(10) is MountChange.CHANGED
        assert time.monotonic() - started < 2
    finally:
        stop.set()
        streamer.join(5)


def test_a_failed_source_makes_every_wait_raise() -> None:
    signal = ChangeSignal(settle=0)
    thread, results = waiter_thread(signal, None)
    error = mount_events.unavailable("test: loop ended")
    signal.fail(error)
    thread.join(5)
    assert results == [error]
    with pytest.raises(NotSupported):
        signal.wait(0)


def test_a_change_before_the_failure_is_still_reported_once() -> None:
    signal = ChangeSignal(settle=0)
    signal.signal()
    signal.fail(mount_events.unavailable("test"))
    assert signal.wait(0) is MountChange.CHANGED
    with pytest.raises(NotSupported):
        signal.wait(0)


# --- EventSource -----------------------------------------------------------------------------------

class FakeLoop:
    """A watch function: ready() at once, then on_change() for each item put, until None."""

    def __init__(self) -> None:
        self.items: queue.Queue = queue.Queue()
        self.calls = 0
        self.thread_names: list[str] = []

    def __call__(self, on_change, ready) -> None:
        self.calls += 1
        self.thread_names.append(threading.current_thread().name)
        ready()
        while (item := self.items.get()) is not None:
            item(on_change)


def test_event_source_starts_once_on_first_wait() -> None:
    loop = FakeLoop()
    source = EventSource(loop, "vigie-test-events", signal=ChangeSignal(settle=0))
    assert loop.calls == 0  # nothing runs before it is needed
    assert source.wait(0) is MountChange.NONE
    loop.items.put(lambda on_change: on_change())
    assert source.wait(5) is MountChange.CHANGED
    assert source.wait(0) is MountChange.NONE
    assert (loop.calls, loop.thread_names) == (1, ["vigie-test-events"])
    loop.items.put(None)  # the loop ends: the watch has to poll from now on
    with pytest.raises(NotSupported) as caught:
        source.wait(5)
    assert "event loop ended" in caught.value.log_detail


def test_event_source_that_cannot_start_is_not_retried() -> None:
    calls = []

    def broken(on_change, ready) -> None:
        calls.append(1)
        raise OSError("RegisterClassW failed")

    source = EventSource(broken, "vigie-test-events")
    for _ in range(3):
        with pytest.raises(NotSupported) as caught:
            source.wait(None)
        assert "OSError: RegisterClassW failed" in caught.value.log_detail
    assert calls == [1]


def test_event_source_stuck_before_ready() -> None:
    release = threading.Event()
    source = EventSource(lambda on_change, ready: release.wait(10), "vigie-test-events", start_seconds=0.2)
    try:
        with pytest.raises(NotSupported) as caught:
            source.wait(None)
        assert "not listening" in caught.value.log_detail
    finally:
        release.set()


# --- Windows: WM_DEVICECHANGE decoding ------------------------------------------------------------

DBT_DEVNODES_CHANGED, DBT_QUERYREMOVE = 0x0007, 0x8001
DBT_DEVTYP_PORT, DBT_DEVTYP_DEVICEINTERFACE = 3, 5


def broadcast_volume(mask: int, devicetype: int = windows.DBT_DEVTYP_VOLUME, flags: int = 0):
    """A DEV_BROADCAST_VOLUME as Windows sends it: (the structure, its address). The structure is
    bound to a name by the caller so that it stays alive while its address is read."""
    volume = windows.DEV_BROADCAST_VOLUME(ctypes.sizeof(windows.DEV_BROADCAST_VOLUME), devicetype, 0, mask, flags)
    return volume, ctypes.addressof(volume)


def test_volume_arrival_and_removal_give_the_letters() -> None:
    _one, address = broadcast_volume(1 << 4)
    assert windows.volume_change_letters(windows.DBT_DEVICEARRIVAL, address) == ["E:"]
    _two, address = broadcast_volume((1 << 5) | (1 << 6), flags=0x0001)  # DBTF_MEDIA: a card in a reader
    assert windows.volume_change_letters(windows.DBT_DEVICEREMOVECOMPLETE, address) == ["F:", "G:"]


def test_other_device_events_are_ignored() -> None:
    _volume, address = broadcast_volume(1 << 4)
    assert windows.volume_change_letters(DBT_QUERYREMOVE, address) is None
    assert windows.volume_change_letters(DBT_DEVNODES_CHANGED, 0) is None  # no lParam at all
    assert windows.volume_change_letters(windows.DBT_DEVICEARRIVAL, 0) is None
    _port, address = broadcast_volume(1 << 4, devicetype=DBT_DEVTYP_PORT)
    assert windows.volume_change_letters(windows.DBT_DEVICEARRIVAL, address) is None
    _interface, address = broadcast_volume(1 << 4, devicetype=DBT_DEVTYP_DEVICEINTERFACE)
    assert windows.volume_change_letters(windows.DBT_DEVICEARRIVAL, address) is None
    header = windows.DEV_BROADCAST_HDR(ctypes.sizeof(windows.DEV_BROADCAST_HDR), windows.DBT_DEVTYP_VOLUME, 0)
    assert windows.volume_change_letters(windows.DBT_DEVICEARRIVAL, ctypes.addressof(header)) is None  # too short


def test_structures_match_the_windows_layout() -> None:
    assert ctypes.sizeof(windows.DEV_BROADCAST_HDR) == 12
    assert windows.DEV_BROADCAST_VOLUME.dbcv_unitmask.offset == 12
    assert windows.DEV_BROADCAST_VOLUME.dbcv_flags.offset == 16
    assert ctypes.sizeof(windows.DEV_BROADCAST_VOLUME) == 20  # what dbcv_size says


def test_the_window_procedure_signals_only_volume_changes() -> None:
    changes = []
    handle = windows.device_change_handler(lambda: changes.append(1))
    _volume, address = broadcast_volume(1 << 4)
    _port, port_address = broadcast_volume(1 << 4, devicetype=DBT_DEVTYP_PORT)
    handle(0x000F, windows.DBT_DEVICEARRIVAL, address)  # WM_PAINT with the same numbers: not a device change
    handle(windows.WM_DEVICECHANGE, DBT_DEVNODES_CHANGED, 0)
    handle(windows.WM_DEVICECHANGE, windows.DBT_DEVICEARRIVAL, port_address)
    assert changes == []
    handle(windows.WM_DEVICECHANGE, windows.DBT_DEVICEARRIVAL, address)
    handle(windows.WM_DEVICECHANGE, windows.DBT_DEVICEREMOVECOMPLETE, address)
    assert changes == [1, 1]


class FakeWindow:
    """Stands in for device_change_window: the real handler, fed real structures from its thread."""

    def __init__(self) -> None:
        self.messages: queue.Queue = queue.Queue()

    def __call__(self, on_change, ready) -> None:
        handle = windows.device_change_handler(on_change)
        ready()
        while (message := self.messages.get()) is not None:
            kind, event, structure = message
            handle(kind, event, ctypes.addressof(structure) if structure is not None else 0)

    def send(self, kind: int, event: int, structure=None) -> None:
        self.messages.put((kind, event, structure))


def test_windows_waits_for_the_volume_broadcast(monkeypatch) -> None:
    window = FakeWindow()
    monkeypatch.setattr(windows, "device_change_window", window)
    platform = WindowsPlatform()
    try:
        assert platform.wait_for_mount_change(0.1) is MountChange.NONE
        port, _ = broadcast_volume(1 << 4, devicetype=DBT_DEVTYP_PORT)
        window.send(windows.WM_DEVICECHANGE, windows.DBT_DEVICEARRIVAL, port)
        window.send(windows.WM_DEVICECHANGE, DBT_DEVNODES_CHANGED)
        assert platform.wait_for_mount_change(0.3) is MountChange.NONE
        volume, _ = broadcast_volume(1 << 4)
        window.send(windows.WM_DEVICECHANGE, windows.DBT_DEVICEARRIVAL, volume)
        assert platform.wait_for_mount_change(5) is MountChange.CHANGED
        window.send(windows.WM_DEVICECHANGE, windows.DBT_DEVICEREMOVECOMPLETE, volume)
        assert platform.wait_for_mount_change(5) is MountChange.CHANGED
    finally:
        window.messages.put(None)


@pytest.mark.skipif(sys.platform == "win32", reason="off Windows only: on Windows the window is real "
                    "(tests/test_windows_lane.py, the USB pop-up)")
def test_windows_without_a_window_falls_back_to_polling() -> None:
    """Off Windows (user32 cannot be loaded) the real device_change_window fails: NotSupported, and
    the volume watch polls GetLogicalDrives instead."""
    platform = WindowsPlatform()
    with pytest.raises(NotSupported):
        platform.wait_for_mount_change(1.0)
    with pytest.raises(NotSupported):
        platform.wait_for_mount_change(None)  # at once, not tried again


# --- Windows: eject confirmation -------------------------------------------------------------------

USB_E = Volume("E:", "E:\\", "exFAT", "WD Passport", "D44E-9303", 2000, True)
C_AND_E = (1 << 2) | (1 << 4)


@pytest.fixture
def ejecting(monkeypatch):
    """proc.run recorded; GetLogicalDrives answers from a list (its last answer repeats)."""
    runs: list[list[str]] = []
    answers: list[int] = []
    asked: list[int] = []

    def run(argv, timeout, **kwargs):
        runs.append(list(argv))
        return proc.Result(0, "", "")

    def mask() -> int:
        asked.append(1)
        return answers.pop(0) if len(answers) > 1 else answers[0]

    monkeypatch.setattr(proc, "run", run)
    monkeypatch.setattr(windows, "logical_drives_mask", mask)
    monkeypatch.setattr(windows, "EJECT_POLL_SECONDS", 0.01)
    return runs, answers, asked


def test_eject_waits_for_the_letter_to_go(ejecting) -> None:
    runs, answers, asked = ejecting
    answers.extend([C_AND_E, C_AND_E, 1 << 2])
    WindowsPlatform().eject(USB_E)
    assert len(runs) == 1 and runs[0][-1].endswith(".ParseName('E:').InvokeVerb('Eject')")
    assert len(asked) == 3


def test_eject_of_a_drive_still_in_use_fails_with_a_message(ejecting, monkeypatch) -> None:
    _, answers, asked = ejecting
    answers.append(C_AND_E)
    monkeypatch.setattr(windows, "EJECT_CONFIRM_SECONDS", 0.2)
    started = time.monotonic()
    with pytest.raises(ToolFailed) as caught:
        WindowsPlatform().eject(USB_E)
    assert 0.19 <= time.monotonic() - started < 3  # bounded
    assert render(caught.value.reason, EN) == (
        "The drive E: is still in use: close the documents and windows open on it, then eject it again.")
    assert len(asked) > 2


def test_eject_that_fails_outright_is_not_waited_for(ejecting, monkeypatch) -> None:
    _, answers, asked = ejecting

    def failing(argv, timeout, **kwargs):
        raise ToolFailed(windows.T("The program {tool} failed (code {code}).", tool="powershell.exe", code=1), "x")

    monkeypatch.setattr(proc, "run", failing)
    answers.append(C_AND_E)
    with pytest.raises(ToolFailed):
        WindowsPlatform().eject(USB_E)
    assert asked == []


# --- macOS: DiskArbitration ------------------------------------------------------------------------

class FakeDiskArbitration(types.ModuleType):
    """The few DiskArbitration calls disk_arbitration_watch makes, recorded."""

    kDADiskDescriptionWatchVolumePath = ("DAVolumePath",)

    def __init__(self, session: object = "session") -> None:
        super().__init__("DiskArbitration")
        self.session = session
        self.callbacks: dict[str, object] = {}
        self.watched_keys = None
        self.scheduled = None

    def DASessionCreate(self, allocator):
        return self.session

    def DARegisterDiskAppearedCallback(self, session, match, callback, context):
        assert (session, match, context) == (self.session, None, None)
        self.callbacks["appeared"] = callback

    def DARegisterDiskDisappearedCallback(self, session, match, callback, context):
        self.callbacks["disappeared"] = callback

    def DARegisterDiskDescriptionChangedCallback(self, session, match, keys, callback, context):
        self.watched_keys = keys
        self.callbacks["described"] = callback

    def DASessionScheduleWithRunLoop(self, session, loop, mode):
        self.scheduled = (session, loop, mode)


class FakeCoreFoundation(types.ModuleType):
    kCFRunLoopDefaultMode = "kCFRunLoopDefaultMode"

    def __init__(self) -> None:
        super().__init__("CoreFoundation")
        self.stop = threading.Event()
        self.running = threading.Event()

    def CFRunLoopGetCurrent(self):
        return f"run loop of {threading.current_thread().name}"

    def CFRunLoopRun(self):  # blocks, as the real one does while the session is scheduled
        self.running.set()
        self.stop.wait(30)


@pytest.fixture
def disk_arbitration(monkeypatch):
    arbitration, foundation = FakeDiskArbitration(), FakeCoreFoundation()
    monkeypatch.setitem(sys.modules, "DiskArbitration", arbitration)
    monkeypatch.setitem(sys.modules, "CoreFoundation", foundation)
    yield arbitration, foundation
    foundation.stop.set()


def test_mac_mount_and_unmount_wake_the_watch(disk_arbitration) -> None:
    arbitration, foundation = disk_arbitration
    platform = MacPlatform()
    assert platform.wait_for_mount_change(0.1) is MountChange.NONE
    assert foundation.running.is_set()
    assert arbitration.scheduled == ("session", "run loop of vigie-disk-arbitration", "kCFRunLoopDefaultMode")
    assert arbitration.watched_keys == FakeDiskArbitration.kDADiskDescriptionWatchVolumePath
    assert set(arbitration.callbacks) == {"appeared", "disappeared", "described"}

    arbitration.callbacks["appeared"]("disk4", None)  # the stick...
    arbitration.callbacks["described"]("disk4s1", ["DAVolumePath"], None)  # ...then its mount
    assert platform.wait_for_mount_change(5) is MountChange.CHANGED
    assert platform.wait_for_mount_change(0) is MountChange.NONE  # one burst, one look
    arbitration.callbacks["disappeared"]("disk4s1", None)  # pulled out
    assert platform.wait_for_mount_change(5) is MountChange.CHANGED

    foundation.stop.set()  # the run loop ends: polling from then on
    with pytest.raises(NotSupported):
        platform.wait_for_mount_change(5)


def test_mac_without_pyobjc_falls_back_to_polling(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "DiskArbitration", None)  # import fails
    with pytest.raises(NotSupported) as caught:
        MacPlatform().wait_for_mount_change(1.0)
    assert "ImportError" in caught.value.log_detail or "ModuleNotFoundError" in caught.value.log_detail


def test_mac_session_refused(disk_arbitration) -> None:
    arbitration, _ = disk_arbitration
    arbitration.session = None
    with pytest.raises(NotSupported) as caught:
        MacPlatform().wait_for_mount_change(1.0)
    assert "DASessionCreate" in caught.value.log_detail


def test_mac_callbacks_never_raise_into_the_run_loop() -> None:
    def broken() -> None:
        raise RuntimeError("boom")

    appeared, disappeared, described = macos.disk_callbacks(broken)
    appeared("disk4", None)
    disappeared("disk4", None)
    described("disk4s1", ["DAVolumePath"], None)
