"""get_platform(): the Platform for this OS (override with VIGIE_PLATFORM=linux|windows|macos)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vigie.platform.base import IdleState, LockPolicy, PendingUpdate, Platform, UpdateStatus, Volume
    from vigie.platform.errors import NotSupported, PlatformError, ToolFailed, ToolMissing, ToolTimeout

__all__ = [
    "IdleState", "LockPolicy", "NotSupported", "PendingUpdate", "Platform", "PlatformError", "ToolFailed",
    "ToolMissing", "ToolTimeout", "UpdateStatus", "Volume", "get_platform", "platform_name",
]
_ERRORS = frozenset({"NotSupported", "PlatformError", "ToolFailed", "ToolMissing", "ToolTimeout"})


def __getattr__(name: str) -> object:
    """The contract's names, loaded on first use (PEP 562): a window's process imports vigie.platform.proc,
    hence this package, and needs neither the contract's data classes nor an OS module (issue 21)."""
    if name in _ERRORS:
        from vigie.platform import errors

        return getattr(errors, name)
    if name in __all__:
        from vigie.platform import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def platform_name() -> str:
    override = os.environ.get("VIGIE_PLATFORM", "").strip().lower()
    if override in {"linux", "windows", "macos"}:
        return override
    if sys.platform == "win32":
        return "windows"
    if sys.platform == "darwin":
        return "macos"
    return "linux"


def get_platform() -> Platform:
    # Imported here, not at module level: each OS module may import OS-only libraries.
    name = platform_name()
    if name == "windows":
        from vigie.platform.windows import WindowsPlatform

        return WindowsPlatform()
    if name == "macos":
        from vigie.platform.macos import MacPlatform

        return MacPlatform()
    from vigie.platform.linux import LinuxPlatform

    return LinuxPlatform()
