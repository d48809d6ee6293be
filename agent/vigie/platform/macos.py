"""macOS: each OS call in one small function; parsing in `parsers`."""

from __future__ import annotations

import ctypes
import platform
from collections.abc import Sequence

from vigie.model import T
from vigie.platform import parsers, proc
from vigie.platform.base import Capability, IdleState, ToolFailed, UpdateStatus

_NO_UPDATES = "No new software available"
# Private but stable since 10.13; the CGSession binary used before is gone since Big Sur.
LOGIN_FRAMEWORK = "/System/Library/PrivateFrameworks/login.framework/Versions/Current/login"


def sac_lock_screen() -> None:
    try:
        login = ctypes.CDLL(LOGIN_FRAMEWORK)
    except OSError as exc:
        raise ToolFailed(T("macOS refused to lock the session."), str(exc)) from exc
    status = login.SACLockScreenImmediate()
    if status != 0:
        raise ToolFailed(T("macOS refused to lock the session."), f"SACLockScreenImmediate returned {status}")


def hid_idle_seconds() -> float:
    from Quartz import (  # pyobjc, macOS only
        CGEventSourceSecondsSinceLastEventType,
        kCGAnyInputEventType,
        kCGEventSourceStateHIDSystemState,
    )

    return float(CGEventSourceSecondsSinceLastEventType(kCGEventSourceStateHIDSystemState, kCGAnyInputEventType))


def session_screen_locked() -> bool | None:
    from Quartz import CGSessionCopyCurrentDictionary  # pyobjc, macOS only

    session = CGSessionCopyCurrentDictionary()
    return None if session is None else bool(session.get("CGSSessionScreenIsLocked", 0))


def softwareupdate_list(timeout: float) -> tuple[str, str]:
    result = proc.run(["softwareupdate", "-l"], timeout)
    return result.stdout, result.stderr


def current_major() -> int | None:
    release = platform.mac_ver()[0]
    return int(release.split(".")[0]) if release else None


class MacPlatform:
    name = "macos"

    def capabilities(self) -> frozenset[Capability]:
        return frozenset({Capability.PENDING_UPDATES, Capability.LOCK_SCREEN, Capability.IDLE_TIME})

    def lock_screen(self, locker_command: Sequence[str] = ()) -> str:
        sac_lock_screen()
        return "SACLockScreenImmediate"

    def screen_locked(self) -> bool | None:
        return session_screen_locked()

    def idle_state(self) -> IdleState:
        return IdleState(hid_idle_seconds(), source="CGEventSource")

    def media_in_use(self) -> bool | None:
        return None  # macOS shows its own camera/microphone indicator; no public API to read it here

    def pending_updates(self, timeout: float) -> UpdateStatus:
        stdout, stderr = softwareupdate_list(timeout)
        updates = parsers.parse_softwareupdate(stdout, current_major())
        # "No new software available." arrives on stderr; anything else with no list is a failure.
        if not updates and "* Label:" not in stdout and _NO_UPDATES not in stderr:
            raise ToolFailed(T("The update list from macOS could not be read."), stderr.strip()[-300:])
        return UpdateStatus("softwareupdate", tuple(updates))
