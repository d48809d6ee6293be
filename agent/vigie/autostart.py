"""Start Vigie at login: `vigie autostart enable|disable|status`.

One small class per OS, all with the same three methods:
- Linux: `$XDG_CONFIG_HOME/autostart/vigie.desktop` (XDG Autostart spec);
- Windows: the machine-wide Run value the installer writes (HKLM: every user's login) or, from
  source, the per-user one (HKCU); Task Manager may veto either through `StartupApproved\\Run`;
- macOS: `~/Library/LaunchAgents/fr.vigie.agent.plist` (read by launchd at the next login).
The file and value contents come from pure generators, tested on every OS. The registry and
launchctl calls are the platform's (platform/windows.py, platform/macos.py): one small function
each, the only thing the tests replace.
When the IT provider's policy sets a quit code, `disable` is refused unless that code is given
(`--code`: typed without echo, or read from standard input).
"""

from __future__ import annotations

import argparse
import configparser
import getpass
import logging
import os
import plistlib
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from vigie.errors import VigieError
from vigie.i18n import render
from vigie.model import T, Text
from vigie.platform import PlatformError, platform_name
from vigie.platform import macos as macos_os
from vigie.platform import windows as windows_os

log = logging.getLogger(__name__)

DESKTOP_FILE = "vigie.desktop"
LAUNCH_AGENT_LABEL = "fr.vigie.agent"
RUN_VALUE_NAME = "Vigie"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
APPROVED_KEY = r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
NO_LAUNCHCTL_ENV = "VIGIE_AUTOSTART_NO_LAUNCHCTL"


@dataclass(frozen=True)
class AutostartStatus:
    enabled: bool
    location: str
    command: list[str] | None = None
    disabled_by_user: bool = False  # Windows: switched off in Task Manager (StartupApproved)


class Autostart(Protocol):
    location: str

    def enable(self, command: list[str]) -> Path | str: ...

    def disable(self) -> bool: ...

    def status(self) -> AutostartStatus: ...


def agent_command() -> list[str]:
    """What starts the agent: the frozen executable, or this interpreter with `-m vigie` (on Windows
    its windowless twin)."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [windowless_interpreter(sys.executable), "-m", "vigie"]


def windowless_interpreter(executable: str, windows: bool = sys.platform == "win32") -> str:
    """Windows: pythonw.exe beside python.exe (installs and venvs have both). python.exe would open a
    console window at every login, and closing it would end Vigie."""
    path = Path(executable)
    if windows and path.name.lower() == "python.exe":
        twin = path.with_name("pythonw.exe")
        if twin.is_file():
            return str(twin)
        log.warning("no pythonw.exe beside %s: Vigie will start with a console window", executable)
    return executable


def _write_atomic(path: Path, data: bytes) -> None:
    """Replace path in one step (0644: nothing personal inside); a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _remove(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


# --- Linux: XDG autostart desktop entry ---------------------------------------------------------

# Desktop Entry spec, "The Exec key": an argument holding one of these must be quoted.
_EXEC_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")
# An argument is quoted whole or not at all; inside quotes \" \` \$ \\ are escaped.
_EXEC_ARG = re.compile(r'[ \t]*(?:"((?:[^"\\]|\\.)*)"|([^ \t"]+))(?=[ \t]|$)', re.DOTALL)
_STRING_ESCAPES = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}


def _quote_exec_arg(arg: str) -> str:
    if not arg or _EXEC_RESERVED & set(arg):
        arg = '"' + re.sub(r'(["`$\\])', r"\\\1", arg) + '"'
    return arg.replace("%", "%%")


def _escape_string(value: str) -> str:
    """The spec's escapes for string values, applied after the Exec quoting."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")


def _unescape_string(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: _STRING_ESCAPES.get(m.group(1), m.group(0)), value)


def exec_value(command: list[str]) -> str:
    return _escape_string(" ".join(_quote_exec_arg(arg) for arg in command))


def parse_exec(value: str) -> list[str]:
    """The inverse of exec_value: string escapes, then the quoting, then %%."""
    text, args, pos = _unescape_string(value).rstrip(" \t"), [], 0
    while pos < len(text):
        match = _EXEC_ARG.match(text, pos)
        if match is None:
            raise ValueError(f"malformed Exec value at character {pos}")
        quoted, plain = match.groups()
        arg = plain if quoted is None else re.sub(r'\\(["`$\\])', r"\1", quoted)
        args.append(arg.replace("%%", "%"))
        pos = match.end()
    return args


def xdg_desktop_entry(command: list[str]) -> str:
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=Vigie\n"
        "Name[fr]=Vigie\n"
        "Comment=Keeps watch over the security of the practice's computer\n"
        "Comment[fr]=Veille sur la sécurité du poste du cabinet\n"
        f"Exec={exec_value(command)}\n"
        "Icon=vigie\n"
        "Terminal=false\n"
        "NoDisplay=true\n"
        "Categories=Utility;Security;\n"
        "X-GNOME-Autostart-enabled=true\n"
    )


def read_desktop_entry(text: str) -> dict[str, str]:
    """The [Desktop Entry] group, keys kept as written; raises configparser.Error when unreadable."""
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",), strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(text)
    return dict(parser["Desktop Entry"])


def xdg_autostart_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME", "")
    # The spec says to ignore a relative XDG_CONFIG_HOME.
    config = Path(base) if os.path.isabs(base) else Path.home() / ".config"
    return config / "autostart"


def system_autostart_entry() -> Path | None:
    """The machine-wide entry a package installed (/etc/xdg/autostart/vigie.desktop), if any."""
    dirs = os.environ.get("XDG_CONFIG_DIRS", "") or "/etc/xdg"
    for base in dirs.split(":"):
        candidate = Path(base) / "autostart" / DESKTOP_FILE
        if os.path.isabs(base) and candidate.is_file():
            return candidate
    return None


class XdgAutostart:
    """The user's entry; over a machine-wide one (the .deb's), the XDG rule applies: a user entry of
    the same name wins, so `Hidden=true` there switches Vigie off for this user only."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or xdg_autostart_dir() / DESKTOP_FILE
        self.location = str(self.path)

    def enable(self, command: list[str]) -> Path:
        system = system_autostart_entry()
        if system is not None:
            _remove(self.path)  # the machine-wide entry starts it: just lift this user's override
            return system
        _write_atomic(self.path, xdg_desktop_entry(command).encode("utf-8"))
        return self.path

    def disable(self) -> bool:
        if system_autostart_entry() is None:
            return _remove(self.path)
        if not self.status().enabled:
            return False
        hidden = xdg_desktop_entry(agent_command()).replace("[Desktop Entry]\n", "[Desktop Entry]\nHidden=true\n", 1)
        _write_atomic(self.path, hidden.encode("utf-8"))
        return True

    def status(self) -> AutostartStatus:
        system = system_autostart_entry()
        if system is not None and not self.path.exists():
            return XdgAutostart(system).status()
        try:
            entry = read_desktop_entry(self.path.read_text(encoding="utf-8"))
            command = parse_exec(entry["Exec"]) if "Exec" in entry else None
        except FileNotFoundError:
            return AutostartStatus(False, self.location)
        except (configparser.Error, KeyError, UnicodeDecodeError, ValueError) as exc:
            log.warning("unreadable autostart entry %s: %s", self.path, exc)
            return AutostartStatus(False, self.location)
        hidden = entry.get("Hidden", "false").strip() == "true"
        switched_off = entry.get("X-GNOME-Autostart-enabled", "true").strip() == "false"
        return AutostartStatus(not hidden and not switched_off and bool(command), self.location, command)


# --- Windows: HKCU Run key ----------------------------------------------------------------------


def windows_run_value(command: list[str]) -> str:
    return subprocess.list2cmdline(command)


def split_windows_command(line: str) -> list[str]:
    """The inverse of subprocess.list2cmdline (Microsoft C runtime rules)."""
    args: list[str] = []
    current: list[str] = []
    in_arg = quoted = False
    backslashes = 0
    for char in line:
        if char == "\\":
            backslashes += 1
            in_arg = True
            continue
        if char == '"':
            current.append("\\" * (backslashes // 2) + ('"' if backslashes % 2 else ""))
            quoted ^= not backslashes % 2
        else:
            current.append("\\" * backslashes)
            if char in " \t" and not quoted:
                if in_arg:
                    args.append("".join(current))
                current, in_arg, backslashes = [], False, 0
                continue
            current.append(char)
        backslashes, in_arg = 0, True
    if in_arg:
        args.append("".join(current) + "\\" * backslashes)
    return args


def startup_approved_disables(data: bytes | None) -> bool:
    """StartupApproved\\Run holds 12 bytes; a first byte of 03 or 07 means switched off by the user."""
    return bool(data) and data[0] in (0x03, 0x07)


class MachineWideStart(VigieError):
    """Vigie's start at login is the installer's, for every user: only an administrator removes it."""

    def __init__(self, location: str) -> None:
        super().__init__(T("Vigie was installed to start for every user of this computer: only an administrator "
                           "can change that, by uninstalling it."), location)


class WindowsRunKey:
    """The installer's HKLM value when there is one (it starts Vigie at every user's login), otherwise
    the user's HKCU value (`vigie autostart enable` when run from source). Task Manager's veto is kept
    beside the value it vetoes: HKLM's StartupApproved for the installer's, HKCU's for the user's."""

    location = rf"HKCU\{RUN_KEY}\{RUN_VALUE_NAME}"
    machine_location = rf"HKLM\{RUN_KEY}\{RUN_VALUE_NAME}"

    def enable(self, command: list[str]) -> str:
        if self._machine_value() is not None:
            windows_os.delete_user_value(RUN_KEY, RUN_VALUE_NAME)  # a second value would start it twice
            return self.machine_location
        windows_os.write_user_string(RUN_KEY, RUN_VALUE_NAME, windows_run_value(command))
        return self.location

    def disable(self) -> bool:
        if self._machine_value() is not None:
            raise MachineWideStart(self.machine_location)
        return windows_os.delete_user_value(RUN_KEY, RUN_VALUE_NAME)

    def status(self) -> AutostartStatus:
        machine = self._machine_value()
        if machine is not None:
            return self._status(machine, windows_os.read_machine_value(APPROVED_KEY, RUN_VALUE_NAME),
                                self.machine_location)
        value = windows_os.read_user_value(RUN_KEY, RUN_VALUE_NAME)
        if not isinstance(value, str):
            return AutostartStatus(False, self.location)
        return self._status(value, windows_os.read_user_value(APPROVED_KEY, RUN_VALUE_NAME), self.location)

    @staticmethod
    def _machine_value() -> str | None:
        value = windows_os.read_machine_value(RUN_KEY, RUN_VALUE_NAME)
        return value if isinstance(value, str) else None

    @staticmethod
    def _status(value: str, approved: object, location: str) -> AutostartStatus:
        vetoed = startup_approved_disables(approved if isinstance(approved, bytes) else None)
        return AutostartStatus(not vetoed, location, split_windows_command(value), disabled_by_user=vetoed)


# --- macOS: LaunchAgent -------------------------------------------------------------------------


def launch_agent_plist(command: list[str]) -> bytes:
    return plistlib.dumps({
        "Label": LAUNCH_AGENT_LABEL,
        "ProgramArguments": list(command),
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},  # restarted after a crash, not after a clean quit
        "LimitLoadToSessionType": "Aqua",
        "ProcessType": "Interactive",
    })


def _best_effort(call: Callable[..., None], *args: object) -> None:
    """launchctl only applies the change now; the file alone is enough from the next login on."""
    if os.environ.get(NO_LAUNCHCTL_ENV):
        return
    try:
        call(*args)
    except PlatformError as exc:
        log.warning("launchctl (best effort) failed: %s", exc)


class LaunchAgent:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or Path.home() / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"
        self.location = str(self.path)

    def enable(self, command: list[str]) -> Path:
        _write_atomic(self.path, launch_agent_plist(command))
        _best_effort(macos_os.launchctl_bootstrap, self.path)
        return self.path

    def disable(self) -> bool:
        if not self.path.exists():
            return False
        _best_effort(macos_os.launchctl_bootout, LAUNCH_AGENT_LABEL)
        return _remove(self.path)

    def status(self) -> AutostartStatus:
        try:
            with self.path.open("rb") as handle:
                plist = plistlib.load(handle)
        except FileNotFoundError:
            return AutostartStatus(False, self.location)
        except Exception as exc:  # plistlib raises several unrelated types on a damaged file
            log.warning("unreadable launch agent %s: %s", self.path, exc)
            return AutostartStatus(False, self.location)
        arguments = plist.get("ProgramArguments") if isinstance(plist, dict) else None
        command = [str(a) for a in arguments] if isinstance(arguments, list) else None
        return AutostartStatus(bool(command) and not plist.get("Disabled", False), self.location, command)


def get_autostart() -> Autostart:
    name = platform_name()
    if name == "windows":
        return WindowsRunKey()
    if name == "macos":
        return LaunchAgent()
    return XdgAutostart()


# --- Command line -------------------------------------------------------------------------------


EXIT_OK, EXIT_ERROR = 0, 2  # 2: refused or failed, as everywhere in Vigie's command line
PROTECTED_ACTIONS = frozenset({"disable"})  # what would stop Vigie starting
WRONG_CODE_PAUSE = 1.0  # seconds, as in the quit-code window: slows guessing down


def run_command(args: argparse.Namespace, tr) -> int:
    if args.action in PROTECTED_ACTIONS:
        refusal = _refusal(args, tr)
        if refusal is not None:
            print(render(refusal, tr), file=sys.stderr)
            return EXIT_ERROR
    autostart = get_autostart()
    try:
        messages = _ACTIONS[args.action](autostart)
    except MachineWideStart as exc:
        log.warning("autostart %s refused: set for every user by the installer (%s)", args.action, exc.log_detail)
        print(render(exc.reason, tr), file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        log.error("autostart %s failed at %s: %s", args.action, autostart.location, exc)
        print(render(_problem(args.action, autostart.location), tr), file=sys.stderr)
        return EXIT_ERROR
    for message in messages:
        print(render(message, tr))
    return EXIT_OK


def _refusal(args: argparse.Namespace, tr) -> Text | None:
    """Under the IT provider's quit code, only that code lets Vigie stop starting at login. The code
    is asked for (no echo) or read from standard input: never an argument, which `ps` shows."""
    from vigie.config import policy

    found = policy.read_policy(policy.policy_path())
    if found.quit_code is None:
        return None
    if not getattr(args, "code", False):
        log.warning("autostart %s refused: protected by the IT provider's quit code", args.action)
        return T("Your IT provider protects Vigie: it keeps starting at login. To change this, ask them, "
                 "or type their code after: vigie autostart {action} --code", action=args.action)
    if policy.code_matches(_read_code(tr), found.quit_code):
        log.info("autostart %s: quit code accepted", args.action)
        return None
    log.warning("autostart %s: quit code refused", args.action)
    time.sleep(WRONG_CODE_PAUSE)
    return T("Wrong code: nothing was changed.")


def _read_code(tr) -> str:
    if sys.stdin is None:
        return ""
    try:
        if sys.stdin.isatty():
            return getpass.getpass(render(T("Your IT provider's code: "), tr))
        return sys.stdin.readline().rstrip("\r\n")
    except (EOFError, KeyboardInterrupt):
        return ""


def _problem(action: str, location: str) -> Text:
    if action == "status":
        return T("Vigie could not find out whether it starts at login: {location} cannot be read.",
                 location=location)
    return T("Vigie could not change its start at login: {location} cannot be written.", location=location)


def _enable(autostart: Autostart) -> list[Text]:
    where = autostart.enable(agent_command())
    log.info("autostart enabled: %s", where)
    messages = [T("Vigie will start every time you log in.")]
    if autostart.status().disabled_by_user:
        messages.append(T("Windows still blocks it: switch Vigie back on in Task Manager, Startup tab."))
    return messages


def _disable(autostart: Autostart) -> list[Text]:
    if autostart.disable():
        log.info("autostart disabled: %s", autostart.location)
        return [T("Vigie will no longer start when you log in.")]
    return [T("Vigie was not set to start at login; nothing to change.")]


def _status(autostart: Autostart) -> list[Text]:
    state = autostart.status()
    if state.enabled:
        return [T("Start at login: on ({location})", location=state.location)]
    if state.disabled_by_user:
        return [T("Start at login: off, by the user in Task Manager")]
    return [T("Start at login: off")]


_ACTIONS: dict[str, Callable[[Autostart], list[Text]]] = {
    "enable": _enable,
    "disable": _disable,
    "status": _status,
}
