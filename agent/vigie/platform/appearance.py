"""What the OS says about how windows should look: dark mode and the screen's scale, one small function
per OS read, each with a timeout. Apart from linux.py, macos.py and windows.py on purpose: every window
process reads these before it shows, and importing a whole OS module there would cost the USB pop-up
40-70 ms and a few MB (bench/look_cost.py). Imports nothing but proc."""

from __future__ import annotations

from vigie.platform import proc

TIMEOUT = 1.0
PERSONALIZE = r"Software\Microsoft\Windows\CurrentVersion\Themes\Personalize"


def gnome_prefers_dark() -> bool:
    """The desktop's colour scheme (GNOME 42+, and the desktops that read GNOME's setting): dark or not."""
    argv = ["gsettings", "get", "org.gnome.desktop.interface", "color-scheme"]
    return "prefer-dark" in proc.run(argv, TIMEOUT).stdout


def xft_dpi() -> float | None:
    """The desktop's font DPI (Xft.dpi: what GNOME, KDE and XFCE set for their scale), None when unset."""
    for line in proc.run(["xrdb", "-query"], TIMEOUT).stdout.splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "Xft.dpi":
            return float(value.strip())
    return None


def macos_prefers_dark() -> bool:
    """macOS's appearance: `defaults` prints Dark in dark mode and fails (key absent) in light mode."""
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
