"""What the OS says about how windows should look: dark mode and the screen's scale, one small function
per OS read, each with a timeout. Apart from linux.py, macos.py and windows.py on purpose: every window
process reads these before it shows, and importing a whole OS module there would cost the USB pop-up
40-70 ms and a few MB (bench/look_cost.py). Imports proc (hence subprocess) only where a program is run:
Windows reads its registry, and its window processes load no module they do not use (slow under Wine)."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

TIMEOUT = 1.0
PERSONALIZE = r"Software\Microsoft\Windows\CurrentVersion\Themes\Personalize"


def gnome_prefers_dark() -> bool:
    """The desktop's colour scheme (GNOME 42+, and the desktops that read GNOME's setting): dark or not."""
    from vigie.platform import proc

    argv = ["gsettings", "get", "org.gnome.desktop.interface", "color-scheme"]
    return "prefer-dark" in proc.run(argv, TIMEOUT).stdout


def xft_dpi() -> float | None:
    """The desktop's font DPI (Xft.dpi: what GNOME, KDE and XFCE set for their scale), None when unset."""
    from vigie.platform import proc

    for line in proc.run(["xrdb", "-query"], TIMEOUT).stdout.splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "Xft.dpi":
            return float(value.strip())
    return None


def macos_prefers_dark() -> bool:
    """macOS's appearance: `defaults` prints Dark in dark mode and fails (key absent) in light mode."""
    from vigie.platform import proc

    result = proc.run(["defaults", "read", "-g", "AppleInterfaceStyle"], TIMEOUT, ok_codes=(0, 1))
    return result.returncode == 0 and result.stdout.strip() == "Dark"


def windows_prefers_dark() -> bool:
    """Settings > Personalisation > Colours > app mode: AppsUseLightTheme is 0 in dark mode (absent: light)."""
    import winreg

    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, PERSONALIZE) as key:
            value, _kind = winreg.QueryValueEx(key, "AppsUseLightTheme")
    except FileNotFoundError:
        return False
    return value == 0


def windows_make_dpi_aware() -> None:
    """Before Tk starts: per-monitor DPI awareness, so that Windows does not stretch the window blurred and
    Tk reads the real DPI for its scaling (Windows 8.1+; else the system-wide awareness of Vista+)."""
    import ctypes

    try:
        ctypes.windll.shcore.SetProcessDpiAwareness(2)  # PROCESS_PER_MONITOR_DPI_AWARE
    except (AttributeError, OSError):
        ctypes.windll.user32.SetProcessDPIAware()


def prefers_dark() -> bool:
    """This OS's dark mode (raises what its read raises)."""
    from vigie.platform import platform_name

    name = platform_name()
    if name == "windows":
        return windows_prefers_dark()
    if name == "macos":
        return macos_prefers_dark()
    return gnome_prefers_dark()


class Readings:
    """Dark mode and Xft.dpi, read on a thread from the window process's first line, so that the programs
    they run (gsettings, xrdb: 10-40 ms each) overlap the window's imports and Tk's start instead of
    coming after them (issue 21). A read that fails leaves its default and says why in `problems`."""

    def __init__(self) -> None:
        self.dark = False
        self.xft_dpi: float | None = None
        self.problems: list[str] = []
        self._done = threading.Event()
        threading.Thread(target=self._read, name="vigie-look", daemon=True).start()

    def _read(self) -> None:
        try:
            self.dark = self._guarded("dark mode", prefers_dark, False)
            if sys.platform not in ("win32", "darwin") and os.environ.get("DISPLAY"):  # Tk reads it itself there
                self.xft_dpi = self._guarded("Xft.dpi", xft_dpi, None)
        finally:
            self._done.set()

    def _guarded(self, what: str, read: Callable[[], T], default: T) -> T:
        try:
            return read()
        except Exception as exc:  # no gsettings, no key, a timeout: the default
            self.problems.append(f"{what} not readable ({type(exc).__name__})")
            return default

    def wait(self) -> Readings:
        """The readings, once both are done (each program is bounded by TIMEOUT)."""
        if not self._done.wait(2 * TIMEOUT + 1):
            self.problems.append("OS look readings late: defaults used")
        return self


_readings: Readings | None = None
_readings_lock = threading.Lock()


def readings() -> Readings:
    """This process's readings, started at the first call."""
    global _readings
    with _readings_lock:
        if _readings is None:
            _readings = Readings()
        return _readings
