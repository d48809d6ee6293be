"""One source for what every installer says about Vigie: names, paths, identifiers, and the files
generated from vigie.autostart (the XDG desktop entries, the macOS LaunchAgent).

Read by installer/vigie.spec, installer/linux/build-deb.sh, installer/windows/build_installer.py,
installer/macos/build-pkg.sh and the tests. `python installer/vigie_meta.py KEY` prints one value.
"""

from __future__ import annotations

import plistlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "agent") not in sys.path:
    sys.path.insert(0, str(ROOT / "agent"))  # the checkout wins over whatever is installed

import vigie  # noqa: E402
from vigie import autostart  # noqa: E402

APP_NAME = vigie.APP_NAME  # also desktop-notifier's app_name, hence the Windows AppUserModelID
VERSION = vigie.__version__
BUNDLE_ID = autostart.LAUNCH_AGENT_LABEL  # fr.vigie.agent: macOS bundle id and LaunchAgent label
PUBLISHER = "Vigie"
DESCRIPTION_FR = "Veille sur la sécurité du poste du cabinet"
MAINTAINER = "Vigie <contact@vigie.fr>"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
ASSETS = ROOT / "assets"

# Linux (.deb)
LINUX_PREFIX = "/opt/vigie"
LINUX_EXECUTABLE = f"{LINUX_PREFIX}/vigie"
LINUX_COMMAND = "/usr/bin/vigie"
XDG_AUTOSTART = f"/etc/xdg/autostart/{autostart.DESKTOP_FILE}"
XDG_MENU_ENTRY = f"/usr/share/applications/{autostart.DESKTOP_FILE}"

# macOS (.pkg)
MACOS_APP = "/Applications/Vigie.app"
MACOS_EXECUTABLE = f"{MACOS_APP}/Contents/MacOS/vigie"
MACOS_LAUNCH_AGENT = f"/Library/LaunchAgents/{BUNDLE_ID}.plist"
MACOS_MIN_VERSION = "11.0"

# Where the IT provider's policy goes (vigie.config.policy.policy_path reads the same places).
POLICY_PATHS = {
    "linux": "/etc/vigie/policy.toml",
    "windows": r"%ProgramData%\Vigie\policy.toml",
    "macos": "/Library/Application Support/Vigie/policy.toml",
}


def icon_png(size: int = 256) -> Path:
    return ROOT / "agent" / "vigie" / "ui" / "icon_png" / f"vigie-ok-{size}.png"  # shipped in the package too


def icon_ico() -> Path:
    return ASSETS / "vigie.ico"


def xdg_autostart_entry() -> str:
    """/etc/xdg/autostart/vigie.desktop: autostart's own entry, run through the /usr/bin command.
    TryExec makes a session skip it once the package is removed (the file is a conffile and
    outlives `dpkg -r` until the purge)."""
    return _add_keys(autostart.xdg_desktop_entry([LINUX_COMMAND]), {"TryExec": LINUX_EXECUTABLE})


def xdg_menu_entry() -> str:
    """/usr/share/applications/vigie.desktop: the same entry, shown in the menu so a user can start
    Vigie again after « Quitter »."""
    lines = [line for line in autostart.xdg_desktop_entry([LINUX_COMMAND]).splitlines()
             if not line.startswith(("NoDisplay=", "X-GNOME-Autostart"))]
    return _add_keys("\n".join(lines) + "\n", {"TryExec": LINUX_EXECUTABLE, "StartupNotify": "false",
                                               "Keywords": "security;sécurité;backup;sauvegarde;"})


def _add_keys(entry: str, keys: dict[str, str]) -> str:
    head, sep, rest = entry.partition("\n")  # keys go right after the [Desktop Entry] header
    if head != "[Desktop Entry]":
        raise ValueError(f"not a desktop entry: {head!r}")
    return head + sep + "".join(f"{k}={v}\n" for k, v in keys.items()) + rest


def macos_launch_agent() -> bytes:
    """/Library/LaunchAgents/fr.vigie.agent.plist: autostart's plist, for every user at login."""
    return autostart.launch_agent_plist([MACOS_EXECUTABLE])


def macos_info_plist() -> dict:
    """Info.plist keys for Vigie.app (PyInstaller's BUNDLE adds the executable and icon keys)."""
    return {
        "CFBundleName": APP_NAME,
        "CFBundleDisplayName": APP_NAME,
        "CFBundleIdentifier": BUNDLE_ID,
        "CFBundleShortVersionString": VERSION,
        "CFBundleVersion": VERSION,
        "CFBundleDevelopmentRegion": "fr",
        "CFBundleLocalizations": ["fr", "en"],
        "LSUIElement": True,  # menu bar only: no Dock icon, no app menu
        "LSMinimumSystemVersion": MACOS_MIN_VERSION,
        "NSHighResolutionCapable": True,
        "NSHumanReadableCopyright": f"© {PUBLISHER}",
    }


def macos_info_plist_bytes() -> bytes:
    return plistlib.dumps(macos_info_plist())


def windows_app_mutex() -> str:
    """Inno Setup's AppMutex value: the names the agent holds (vigie.platform.windows_mutex)."""
    from vigie.platform import windows_mutex

    return ",".join(windows_mutex.MUTEX_NAMES)


def windows_aumid() -> str:
    from vigie.platform import windows_mutex

    return windows_mutex.APP_USER_MODEL_ID


VALUES = {
    "version": lambda: VERSION,
    "app-name": lambda: APP_NAME,
    "bundle-id": lambda: BUNDLE_ID,
    "maintainer": lambda: MAINTAINER,
    "linux-prefix": lambda: LINUX_PREFIX,
    "icon-sizes": lambda: " ".join(map(str, ICON_SIZES)),
    "xdg-autostart": xdg_autostart_entry,
    "xdg-menu": xdg_menu_entry,
    "macos-launch-agent": lambda: macos_launch_agent().decode(),
}


if __name__ == "__main__":
    sys.stdout.write(VALUES[sys.argv[1]]().rstrip("\n") + "\n")
