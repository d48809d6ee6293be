"""get_platform(): the Platform for this OS (override with VIGIE_PLATFORM=linux|windows|macos)."""

from __future__ import annotations

import os
import sys

from vigie.platform.base import (
    IdleState,
    LockPolicy,
    NotSupported,
    PendingUpdate,
    Platform,
    PlatformError,
    ToolFailed,
    ToolMissing,
    ToolTimeout,
    UpdateStatus,
    Volume,
)

__all__ = [
    "IdleState", "LockPolicy", "NotSupported", "PendingUpdate", "Platform", "PlatformError", "ToolFailed",
    "ToolMissing", "ToolTimeout", "UpdateStatus", "Volume", "get_platform", "platform_name",
]


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
