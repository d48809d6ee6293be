"""The Platform contract: what Vigie asks of the operating system, and how it says no.

Per-OS modules only fetch data (each OS call in one small function); parsing lives in
`parsers` and is tested on real captured outputs. Every method exists on every OS: an OS that
cannot do something raises NotSupported with a reason the user can read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from vigie.model import Text


class Capability(Enum):
    PENDING_UPDATES = "pending_updates"
    LOCK_SCREEN = "lock_screen"


class PlatformError(Exception):
    """Root of every error a platform call raises; `reason` is shown to the user (translated)."""

    def __init__(self, reason: Text, log_detail: str = "") -> None:
        super().__init__(reason.msgid if not log_detail else f"{reason.msgid} ({log_detail})")
        self.reason = reason
        self.log_detail = log_detail


class NotSupported(PlatformError):
    """This OS, or this machine, cannot do that."""


class ToolMissing(PlatformError):
    """A program Vigie needs is not installed."""


class ToolTimeout(PlatformError):
    """A program did not answer in time; it was stopped."""


class ToolFailed(PlatformError):
    """A program ran but failed, or said something we cannot read."""


@dataclass(frozen=True)
class PendingUpdate:
    name: str
    version: str = ""
    security: bool = False


@dataclass(frozen=True)
class UpdateStatus:
    source: str  # "apt", "dnf", "windows_update", "softwareupdate"
    updates: tuple[PendingUpdate, ...]

    @property
    def security_updates(self) -> tuple[PendingUpdate, ...]:
        return tuple(u for u in self.updates if u.security)


class Platform(Protocol):
    name: str  # "linux", "windows" or "macos"

    def capabilities(self) -> frozenset[Capability]: ...

    def pending_updates(self, timeout: float) -> UpdateStatus: ...

    def lock_screen(self, locker_command: Sequence[str] = ()) -> str:
        """Lock the session now; return how it was done. Raise PlatformError when nothing worked."""
        ...

    def screen_locked(self) -> bool | None:
        """True when the session is locked, False when not, None when this cannot be told."""
        ...
