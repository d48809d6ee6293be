"""Linux: each OS call in one small function; parsing in `parsers`."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path

from vigie.bounded import bounded_call
from vigie.model import T
from vigie.platform import dbus, parsers, proc
from vigie.platform.base import (
    Capability,
    IdleState,
    NotSupported,
    PendingUpdate,
    PlatformError,
    ToolFailed,
    UpdateStatus,
)

log = logging.getLogger(__name__)

# Desktop screen savers that lock on request (KDE and others; GNOME), tried in this order.
SCREENSAVERS = (
    ("org.freedesktop.ScreenSaver", "/ScreenSaver", "org.freedesktop.ScreenSaver"),
    ("org.gnome.ScreenSaver", "/org/gnome/ScreenSaver", "org.gnome.ScreenSaver"),
)
LOCK_COMMANDS = (("loginctl", "lock-session"), ("xdg-screensaver", "lock"))

# apt and dnf output is parsed, so it must not be translated. APT_CONFIG and the rest of the
# caller's environment are kept: an IT provider (or a test) may point apt at its own config.
_C_LOCALE = {"LC_ALL": "C.UTF-8", "LANGUAGE": ""}


def _tool_env() -> dict[str, str]:
    return {**os.environ, **_C_LOCALE}


def apt_simulate_upgrade(timeout: float) -> str:
    # Debug::NoLocking: a simulation needs no lock, so Vigie runs as the user and never waits on dpkg.
    argv = ["apt-get", "-s", "-q", "-o", "Debug::NoLocking=true", "upgrade"]
    return proc.run(argv, timeout, env=_tool_env()).stdout


def dnf_check_update(timeout: float) -> str:
    # -C: use the metadata the system already has; Vigie itself never goes to the network.
    return proc.run(["dnf", "-q", "-C", "check-update"], timeout, ok_codes=(0, 100), env=_tool_env()).stdout


def dnf_security_list(timeout: float) -> str:
    argv = ["dnf", "-q", "-C", "updateinfo", "list", "--available", "--security"]
    return proc.run(argv, timeout, env=_tool_env()).stdout


def screensaver_lock(service: str, path: str, interface: str) -> None:
    dbus.call(service, path, interface, "Lock", timeout=2.0)


def screensaver_active(service: str, path: str, interface: str) -> bool:
    return bool(dbus.call(service, path, interface, "GetActive", timeout=1.0)[0])


def mutter_idle_ms() -> int:
    """GNOME (X11 and Wayland)."""
    return int(dbus.call("org.gnome.Mutter.IdleMonitor", "/org/gnome/Mutter/IdleMonitor/Core",
                         "org.gnome.Mutter.IdleMonitor", "GetIdletime", timeout=1.0)[0])


def kde_idle_ms() -> int:
    """KDE on X11: milliseconds, although the interface calls it seconds; Wayland answers NotSupported."""
    return int(dbus.call("org.freedesktop.ScreenSaver", "/ScreenSaver", "org.freedesktop.ScreenSaver",
                         "GetSessionIdleTime", timeout=1.0)[0])


def x11_idle() -> tuple[int, bool]:
    """Any X11 desktop, through the MIT-SCREEN-SAVER extension: (idle ms, screen saver on)."""
    from Xlib import display
    from Xlib.ext import screensaver

    def query() -> tuple[int, bool]:
        connection = display.Display()
        try:
            info = connection.screen().root.screensaver_query_info()
            return int(info.idle), info.state == screensaver.StateOn
        finally:
            connection.close()

    return bounded_call(query, 2.0, "vigie-x11-idle")


def video_devices_open() -> bool:
    """A process of this user holds a camera (/dev/video*) open."""
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            targets = [os.readlink(fd) for fd in fd_dir.iterdir()]
        except OSError:  # another user's process, or gone meanwhile
            continue
        if any(target.startswith("/dev/video") for target in targets):
            return True
    return False


def audio_recording() -> bool | None:
    """PulseAudio or PipeWire (pulse API): a source output is an application recording sound."""
    try:
        return bool(proc.run(["pactl", "list", "short", "source-outputs"], 2.0, env=_tool_env()).stdout.strip())
    except PlatformError:
        return None


def notification_server_present() -> bool:
    try:
        return bool(dbus.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                              "NameHasOwner", "s", ("org.freedesktop.Notifications",), timeout=1.0)[0])
    except PlatformError:
        return False


def start_locker(argv: Sequence[str]) -> subprocess.Popen:
    """Start a locker program (i3lock -n, xsecurelock...). It may stay in the foreground while it
    holds the screen, or fork and exit 0: both are a success; any other exit is a failure."""
    try:
        # Its own session: the lock must survive whatever happens to Vigie afterwards.
        locker = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, start_new_session=True)
    except OSError as exc:
        raise ToolFailed(T("The screen locker {tool} could not be started.", tool=argv[0]), str(exc)) from exc
    try:
        code = locker.wait(1.0)
    except subprocess.TimeoutExpired:
        threading.Thread(target=_reap, args=(locker,), name="vigie-locker-reaper", daemon=True).start()
        return locker
    if code != 0:
        error = locker.stderr.read().decode(errors="replace").strip()[-300:] if locker.stderr else ""
        raise ToolFailed(T("The screen locker {tool} failed (code {code}).", tool=argv[0], code=code), error)
    return locker


def _reap(locker: subprocess.Popen) -> None:
    locker.communicate()  # drains stderr and reaps it when the user unlocks: no zombie


class LinuxPlatform:
    name = "linux"

    def __init__(self) -> None:
        self._locker: subprocess.Popen | None = None
        self._idle_source: str | None = None  # the first source that answered is kept

    def capabilities(self) -> frozenset[Capability]:
        caps = {Capability.LOCK_SCREEN, Capability.IDLE_TIME}
        if shutil.which("apt-get") or shutil.which("dnf"):
            caps.add(Capability.PENDING_UPDATES)
        return frozenset(caps)

    def pending_updates(self, timeout: float) -> UpdateStatus:
        if shutil.which("apt-get"):
            updates = parsers.parse_apt_simulate(apt_simulate_upgrade(timeout))
            return UpdateStatus("apt", tuple(updates))
        if shutil.which("dnf"):
            return self._dnf_pending(timeout)
        raise NotSupported(T("No supported package manager (apt or dnf) was found."))

    def lock_screen(self, locker_command: Sequence[str] = ()) -> str:
        failures = []
        for service, path, interface in SCREENSAVERS:
            try:
                screensaver_lock(service, path, interface)
                return service
            except PlatformError as exc:
                failures.append(f"{service}: {exc}")
        for argv in LOCK_COMMANDS:
            try:
                proc.run(argv, 5)
                return argv[0]
            except PlatformError as exc:
                failures.append(f"{argv[0]}: {exc}")
        if locker_command:
            self._locker = start_locker(locker_command)
            return locker_command[0]
        log.warning("no way to lock the screen: %s", "; ".join(failures))
        raise NotSupported(T("No way to lock the screen was found on this computer."), "; ".join(failures))

    def screen_locked(self) -> bool | None:
        if self._locker is not None and self._locker.poll() is None:
            return True
        for service, path, interface in SCREENSAVERS:
            try:
                return screensaver_active(service, path, interface)
            except PlatformError:
                continue
        return None

    def idle_state(self) -> IdleState:
        sources = [self._idle_source] if self._idle_source else list(IDLE_SOURCES)
        failures = []
        for name in sources:
            try:
                milliseconds, saver_on = IDLE_SOURCES[name]()
            except Exception as exc:  # each source fails its own way: D-Bus error, Xlib error, timeout
                failures.append(f"{name}: {type(exc).__name__}: {exc}")
                continue
            self._idle_source = name
            return IdleState(milliseconds / 1000, saver_on, name)
        self._idle_source = None
        raise NotSupported(T("Vigie cannot tell how long this computer has been left idle on this desktop."),
                           "; ".join(failures))

    def media_in_use(self) -> bool | None:
        if video_devices_open():
            return True
        return audio_recording()

    @staticmethod
    def _dnf_pending(timeout: float) -> UpdateStatus:
        rows = parsers.parse_dnf_check_update(dnf_check_update(timeout))
        security = parsers.parse_dnf_security_names(dnf_security_list(timeout)) if rows else set()
        updates = tuple(PendingUpdate(name, version, name in security) for name, version in rows)
        return UpdateStatus("dnf", updates)


# Idle sources, most precise first; each answers (milliseconds idle, screen saver on).
IDLE_SOURCES = {
    "gnome": lambda: (mutter_idle_ms(), False),
    "kde": lambda: (kde_idle_ms(), False),
    "x11": x11_idle,
}
