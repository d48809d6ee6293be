"""Start at login: the XDG entry for real (desktop-file-validate), the plist and Run value as generated,
the Windows registry and launchctl replaced only at their one small function each."""

from __future__ import annotations

import argparse
import logging
import os
import plistlib
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import harness
from vigie import autostart
from vigie.autostart import (
    AutostartStatus,
    LaunchAgent,
    WindowsRunKey,
    XdgAutostart,
    agent_command,
    get_autostart,
    launch_agent_plist,
    parse_exec,
    split_windows_command,
    windows_run_value,
    xdg_desktop_entry,
)
from vigie.config import policy
from vigie.i18n import translator
from vigie.model import T
from vigie.platform import ToolMissing
from vigie.platform import macos as macos_os
from vigie.platform import windows as windows_os

TRICKY = ["/opt/Vigie App/bin/vigie", "--label", 'say "hi"', "100%"]


@pytest.fixture
def xdg(tmp_path, monkeypatch) -> Path:
    config = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "no-system-entry"))  # whatever the machine has
    monkeypatch.setenv("VIGIE_PLATFORM", "linux")
    return config


@pytest.fixture
def registry(monkeypatch) -> dict[str, object]:
    """HKCU as a dict, HKLM as registry["machine"]: only the five one-call registry functions are
    replaced (tests/windows/test_autostart_win32.py runs them for real under Wine)."""
    store = _Registry()
    machine = store.machine
    keys = {autostart.RUN_KEY: "Run", autostart.APPROVED_KEY: "StartupApproved"}
    assert autostart.RUN_VALUE_NAME == "Vigie"

    def read(key: str, name: str):
        return store.get(keys[key]) if name == "Vigie" else None

    def delete(key: str, name: str) -> bool:
        return store.pop(keys[key], None) is not None

    monkeypatch.setattr(windows_os, "read_user_value", read)
    monkeypatch.setattr(windows_os, "write_user_string", lambda key, name, value: store.__setitem__(keys[key], value))
    monkeypatch.setattr(windows_os, "delete_user_value", delete)
    monkeypatch.setattr(windows_os, "read_machine_value",
                        lambda key, name: machine.get(keys[key]) if name == "Vigie" else None)
    return store


class _Registry(dict):
    """The user's values as items, the machine's in .machine."""

    def __init__(self) -> None:
        super().__init__()
        self.machine: dict[str, object] = {}


def cli(argv: list[str]) -> argparse.Namespace:
    from vigie.cli import build_parser

    return build_parser().parse_args(argv)


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    code = autostart.run_command(cli(argv), translator("en"))
    out, err = capsys.readouterr()
    return code, out, err


def exec_line_argv(path: Path) -> list[str]:
    """Exec read back independently of the module: string escapes, %%, then shlex (POSIX quoting)."""
    (line,) = [x for x in path.read_text(encoding="utf-8").splitlines() if x.startswith("Exec=")]
    value = re.sub(r"\\(.)", lambda m: {"s": " ", "n": "\n", "t": "\t", "r": "\r"}.get(m[1], m[1]), line[5:])
    return [arg.replace("%%", "%") for arg in shlex.split(value)]


def validate(path: Path) -> None:
    result = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True, timeout=30)
    errors = [x for x in result.stdout.splitlines() if x.startswith(f"{path}: error")]
    assert result.returncode == 0, result.stdout + result.stderr
    assert errors == []


def test_agent_command_from_source_and_frozen(monkeypatch):
    assert agent_command() == [sys.executable, "-m", "vigie"]
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/Applications/Vigie.app/Contents/MacOS/Vigie")
    assert agent_command() == ["/Applications/Vigie.app/Contents/MacOS/Vigie"]


# --- Linux, for real ----------------------------------------------------------------------------


def test_xdg_enable_validate_status_disable(xdg):
    entry = XdgAutostart()
    command = agent_command()
    path = entry.enable(command)
    assert path == xdg / "autostart" / "vigie.desktop"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644 & ~_umask()
    assert [p.name for p in path.parent.iterdir()] == ["vigie.desktop"]  # no temporary file left
    validate(path)
    assert exec_line_argv(path) == command
    assert entry.status() == AutostartStatus(True, str(path), command)
    assert entry.disable() is True
    assert not path.exists()
    assert entry.disable() is False
    assert entry.status() == AutostartStatus(False, str(path))


def test_desktop_entry_content():
    text = xdg_desktop_entry(["/usr/bin/vigie"])
    lines = text.splitlines()
    assert lines[0] == "[Desktop Entry]"
    for expected in ("Type=Application", "Name=Vigie", "Icon=vigie", "Terminal=false", "NoDisplay=true",
                     "Categories=Utility;Security;", "X-GNOME-Autostart-enabled=true", "Exec=/usr/bin/vigie",
                     "Comment[fr]=Veille sur la sécurité du poste du cabinet"):
        assert expected in lines
    assert any(x.startswith("Name[fr]=") for x in lines)


def test_space_percent_and_double_quote_round_trip(xdg):
    entry = XdgAutostart()
    path = entry.enable(TRICKY)
    validate(path)
    exec_line = next(x for x in path.read_text().splitlines() if x.startswith("Exec="))
    assert exec_line == r'Exec="/opt/Vigie App/bin/vigie" --label "say \\"hi\\"" 100%%'
    assert exec_line_argv(path) == TRICKY
    assert entry.status().command == TRICKY


@pytest.mark.parametrize("arg", ["cost$HOME", "back`tick`", "C:\\dir\\", "two\nlines", "tab\there", "", "~/x",
                                 "%%u"])
def test_every_reserved_character_round_trips(xdg, arg):
    command = ["/usr/bin/vigie", arg]
    path = XdgAutostart().enable(command)
    validate(path)
    assert parse_exec(path.read_text().split("Exec=", 1)[1].splitlines()[0]) == command
    assert XdgAutostart().status().command == command


@pytest.mark.parametrize("line", ["Hidden=true", "X-GNOME-Autostart-enabled=false"])
def test_an_entry_switched_off_reads_back_as_disabled(xdg, line):
    path = XdgAutostart().enable(["/usr/bin/vigie"])
    path.write_text(path.read_text() + f"{line}\n")
    state = XdgAutostart().status()
    assert state.enabled is False
    assert state.command == ["/usr/bin/vigie"]


def test_a_damaged_entry_reads_back_as_disabled(xdg, caplog):
    path = xdg / "autostart" / "vigie.desktop"
    path.parent.mkdir(parents=True)
    path.write_text('[Desktop Entry]\nExec="/usr/bin/vigie\n')
    with caplog.at_level(logging.WARNING, logger="vigie.autostart"):
        assert XdgAutostart().status() == AutostartStatus(False, str(path))
    assert "unreadable autostart entry" in caplog.text


def test_relative_xdg_config_home_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/config")
    assert XdgAutostart().path == tmp_path / ".config" / "autostart" / "vigie.desktop"


# --- macOS --------------------------------------------------------------------------------------


def test_launch_agent_plist_keys():
    plist = plistlib.loads(launch_agent_plist(TRICKY))
    assert plist == {
        "Label": "fr.vigie.agent",
        "ProgramArguments": TRICKY,
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "LimitLoadToSessionType": "Aqua",
        "ProcessType": "Interactive",
    }


def test_launch_agent_enable_status_disable(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("VIGIE_AUTOSTART_NO_LAUNCHCTL", "1")

    def forbidden(*_args):
        raise AssertionError("launchctl must not run when VIGIE_AUTOSTART_NO_LAUNCHCTL is set")

    monkeypatch.setattr(macos_os, "launchctl_bootstrap", forbidden)
    monkeypatch.setattr(macos_os, "launchctl_bootout", forbidden)
    agent = LaunchAgent()
    path = agent.enable(TRICKY)
    assert path == tmp_path / "Library" / "LaunchAgents" / "fr.vigie.agent.plist"
    assert plistlib.loads(path.read_bytes())["ProgramArguments"] == TRICKY
    assert agent.status() == AutostartStatus(True, str(path), TRICKY)
    assert agent.disable() is True
    assert not path.exists()
    assert agent.disable() is False
    assert agent.status().enabled is False


def test_launchctl_is_best_effort(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("VIGIE_AUTOSTART_NO_LAUNCHCTL", raising=False)
    calls: list[str] = []

    def bootstrap(plist: Path) -> None:
        calls.append(f"bootstrap {plist.name}")
        raise ToolMissing(T("The program {tool} is not installed.", tool="launchctl"))

    monkeypatch.setattr(macos_os, "launchctl_bootstrap", bootstrap)
    monkeypatch.setattr(macos_os, "launchctl_bootout", lambda label: calls.append(f"bootout {label}"))
    agent = LaunchAgent()
    with caplog.at_level(logging.WARNING, logger="vigie.autostart"):
        path = agent.enable(["/Applications/Vigie.app/Contents/MacOS/Vigie"])
    assert path.exists()
    assert "launchctl (best effort) failed" in caplog.text
    assert agent.disable() is True
    assert calls == ["bootstrap fr.vigie.agent.plist", "bootout fr.vigie.agent"]


def test_a_damaged_plist_reads_back_as_disabled(tmp_path):
    path = tmp_path / "fr.vigie.agent.plist"
    path.write_bytes(b"<?xml version='1.0'?><plist><dict><key>Label")
    assert LaunchAgent(path).status() == AutostartStatus(False, str(path))


# --- Windows ------------------------------------------------------------------------------------


def test_windows_run_value_quotes_a_path_with_spaces():
    assert windows_run_value([r"C:\Program Files\Vigie\vigie.exe"]) == r'"C:\Program Files\Vigie\vigie.exe"'
    assert windows_run_value([r"C:\Python\python.exe", "-m", "vigie"]) == r"C:\Python\python.exe -m vigie"


@pytest.mark.parametrize("command", [
    [r"C:\Program Files\Vigie\vigie.exe"],
    [r"C:\Users\Dr Martin\AppData\Local\Programs\Python\python.exe", "-m", "vigie"],
    ["a b", 'c"d', "e\\", 'f\\"g', "", "tab\there", "x\\y\\\\", 'q "x\\" y\\'],
])
def test_run_value_splits_back(command):
    assert split_windows_command(windows_run_value(command)) == command


def test_windows_run_key_round_trip(registry):
    key = WindowsRunKey()
    command = [r"C:\Program Files\Vigie\vigie.exe"]
    assert key.status() == AutostartStatus(False, key.location)
    assert key.enable(command) == r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run\Vigie"
    assert registry["Run"] == r'"C:\Program Files\Vigie\vigie.exe"'
    assert key.status() == AutostartStatus(True, key.location, command)
    assert key.disable() is True
    assert "Run" not in registry
    assert key.disable() is False
    assert key.status().enabled is False


@pytest.mark.parametrize(("first_byte", "vetoed"), [(0x02, False), (0x06, False), (0x03, True), (0x07, True)])
def test_startup_approved_says_whether_the_user_switched_it_off(registry, first_byte, vetoed):
    registry["Run"] = r'"C:\Program Files\Vigie\vigie.exe"'
    registry["StartupApproved"] = bytes([first_byte]) + bytes(11)
    state = WindowsRunKey().status()
    assert state.disabled_by_user is vetoed
    assert state.enabled is not vetoed


INSTALLED = r'"C:\Program Files\Vigie\vigie.exe"'


def test_the_installers_machine_wide_value_is_read(registry):
    """The installer writes HKLM's Run value: an installed Vigie starts at login, and says so (it
    used to read HKCU only: « off » on every installed machine)."""
    registry.machine["Run"] = INSTALLED
    state = WindowsRunKey().status()
    assert state == AutostartStatus(True, WindowsRunKey.machine_location, [r"C:\Program Files\Vigie\vigie.exe"])
    registry.machine["StartupApproved"] = bytes([0x03]) + bytes(11)  # switched off in Task Manager
    assert WindowsRunKey().status().disabled_by_user and not WindowsRunKey().status().enabled


def test_enable_over_the_installers_value_adds_no_second_start(registry):
    registry.machine["Run"] = INSTALLED
    registry["Run"] = r"C:\Python311\pythonw.exe -m vigie"  # from an earlier run from source
    assert WindowsRunKey().enable([r"C:\Python311\pythonw.exe", "-m", "vigie"]) == WindowsRunKey.machine_location
    assert "Run" not in registry


def test_disable_of_the_installers_value_is_refused_in_french(registry, capsys, monkeypatch):
    registry.machine["Run"] = INSTALLED
    monkeypatch.setattr(autostart, "get_autostart", WindowsRunKey)
    code = autostart.run_command(cli(["autostart", "disable"]), translator("fr"))
    err = capsys.readouterr().err
    assert code == autostart.EXIT_ERROR
    assert "pour tous les utilisateurs" in err and "administrateur" in err
    assert registry.machine["Run"] == INSTALLED


def test_get_autostart_follows_vigie_platform(monkeypatch):
    for name, kind in (("linux", XdgAutostart), ("windows", WindowsRunKey), ("macos", LaunchAgent)):
        monkeypatch.setenv("VIGIE_PLATFORM", name)
        assert isinstance(get_autostart(), kind)


# --- Command line -------------------------------------------------------------------------------


def test_cli_enable_status_disable(xdg, capsys):
    path = xdg / "autostart" / "vigie.desktop"
    assert run_cli(["autostart", "enable"], capsys) == (0, "Vigie will start every time you log in.\n", "")
    assert exec_line_argv(path) == agent_command()
    assert run_cli(["autostart", "status"], capsys) == (0, f"Start at login: on ({path})\n", "")
    assert run_cli(["autostart", "disable"], capsys) == (0, "Vigie will no longer start when you log in.\n", "")
    assert run_cli(["autostart", "status"], capsys) == (0, "Start at login: off\n", "")
    assert run_cli(["autostart", "disable"], capsys) == (
        0, "Vigie was not set to start at login; nothing to change.\n", "")


def test_cli_reports_a_windows_veto(registry, monkeypatch, capsys):
    monkeypatch.setenv("VIGIE_PLATFORM", "windows")
    registry["StartupApproved"] = b"\x03" + bytes(11)
    code, out, _ = run_cli(["autostart", "enable"], capsys)
    assert code == 0
    assert out.splitlines() == ["Vigie will start every time you log in.",
                                "Windows still blocks it: switch Vigie back on in Task Manager, Startup tab."]
    assert run_cli(["autostart", "status"], capsys) == (0, "Start at login: off, by the user in Task Manager\n", "")


def test_cli_needs_an_action(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli(["autostart"])
    assert exit_info.value.code == 64  # a usage error: 2 would read as « urgent » to an RMM
    with pytest.raises(SystemExit):
        cli(["autostart", "--help"])
    assert "ouverture de session" in capsys.readouterr().out


@pytest.mark.parametrize(("action", "message"), [
    ("enable", "Vigie could not change its start at login: {} cannot be written.\n"),
    ("disable", "Vigie could not change its start at login: {} cannot be written.\n"),
    ("status", "Vigie could not find out whether it starts at login: {} cannot be read.\n"),
])
def test_cli_unwritable_config_exits_2_without_traceback(xdg, capsys, caplog, action, message):
    xdg.mkdir()
    (xdg / "autostart").write_text("not a directory")  # root ignores chmod; a file makes mkdir fail
    with caplog.at_level(logging.ERROR, logger="vigie.autostart"):
        code, out, err = run_cli(["autostart", action], capsys)
    assert code == 2
    assert out == ""
    assert err == message.format(xdg / "autostart" / "vigie.desktop")
    assert "Traceback" not in err
    assert f"autostart {action} failed" in caplog.text


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_a_machine_wide_entry_is_on_and_each_user_can_switch_it_off(xdg, tmp_path, monkeypatch, capsys):
    """The .deb installs /etc/xdg/autostart/vigie.desktop; a user entry with Hidden=true hides it
    for that user only (XDG autostart spec), and `enable` lifts that override."""
    system = tmp_path / "etc-xdg" / "autostart" / "vigie.desktop"
    system.parent.mkdir(parents=True)
    system.write_text(autostart.xdg_desktop_entry(["/usr/bin/vigie"]), encoding="utf-8")
    monkeypatch.setenv("XDG_CONFIG_DIRS", f"{tmp_path / 'none'}:{tmp_path / 'etc-xdg'}")
    user = xdg / "autostart" / "vigie.desktop"
    assert run_cli(["autostart", "status"], capsys) == (0, f"Start at login: on ({system})\n", "")
    assert run_cli(["autostart", "disable"], capsys) == (0, "Vigie will no longer start when you log in.\n", "")
    assert "Hidden=true" in user.read_text(encoding="utf-8")
    validate(user)
    assert run_cli(["autostart", "status"], capsys) == (0, "Start at login: off\n", "")
    assert system.exists()  # the package's file is never touched
    assert run_cli(["autostart", "enable"], capsys) == (0, "Vigie will start every time you log in.\n", "")
    assert not user.exists()
    assert run_cli(["autostart", "status"], capsys) == (0, f"Start at login: on ({system})\n", "")


# --- the IT provider's quit code protects the start at login (issue 15, point 15) ------------------


def protected_env(home_env: dict[str, str], tmp_path: Path, policy_dir: Path, code: str = "4321") -> dict[str, str]:
    policy_file = harness.policy_file(f'[agent]\nquit_code = "{policy.hash_code(code, iterations=20_000)}"\n',
                                      policy_dir)
    return dict(home_env, VIGIE_POLICY=str(policy_file), XDG_CONFIG_DIRS=str(tmp_path / "no-system-entry"))


def plain(text: str) -> str:
    """French typography puts a no-break space before « : »."""
    return text.replace("\u00a0", " ")


def vigie_with_input(env: dict[str, str], typed: str | None, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*harness.vigie_argv(), *args], env=env, input=typed, capture_output=True, text=True,
                          timeout=60)


def test_a_quit_code_refuses_autostart_disable_without_the_code(home_env, tmp_path, policy_dir):
    env = protected_env(home_env, tmp_path, policy_dir)
    entry = Path(env["XDG_CONFIG_HOME"]) / "autostart" / "vigie.desktop"
    assert harness.run_vigie(env, "autostart", "enable").returncode == 0  # starting is always allowed
    refused = harness.run_vigie(env, "autostart", "disable")
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert plain(refused.stderr) == ("Votre prestataire informatique protège Vigie : il démarre à chaque ouverture de "
                              "session. Pour changer cela, demandez-lui, ou tapez son code après : "
                              "vigie autostart disable --code\n")
    assert entry.exists()
    status = plain(harness.run_vigie(env, "autostart", "status").stdout)
    assert status == f"Démarrage à l’ouverture de session : activé ({entry})\n"
    assert "autostart disable refused: protected by the IT provider's quit code" in harness.vigie_log(env)


def test_the_quit_code_lets_autostart_be_disabled_and_never_goes_on_the_command_line(home_env, tmp_path, policy_dir):
    env = protected_env(home_env, tmp_path, policy_dir)
    entry = Path(env["XDG_CONFIG_HOME"]) / "autostart" / "vigie.desktop"
    assert harness.run_vigie(env, "autostart", "enable").returncode == 0
    as_argument = harness.run_vigie(env, "autostart", "disable", "--code", "4321")
    assert as_argument.returncode == 64 and "arguments inconnus\u00a0: 4321" in as_argument.stderr
    wrong = vigie_with_input(env, "1111\n", "autostart", "disable", "--code")
    assert (wrong.returncode, wrong.stdout, plain(wrong.stderr)) == (2, "", "Code incorrect : rien n’a été changé.\n")
    nothing = vigie_with_input(env, "", "autostart", "disable", "--code")  # no input at all
    assert nothing.returncode == 2 and entry.exists()
    right = vigie_with_input(env, "4321\n", "autostart", "disable", "--code")
    assert (right.returncode, right.stdout) == (0, "Vigie ne démarrera plus à l’ouverture de session.\n")
    assert not entry.exists()
    log = harness.vigie_log(env)
    assert "autostart disable: quit code refused" in log and "autostart disable: quit code accepted" in log
    assert "4321" not in log and "1111" not in log


def test_without_a_policy_the_code_is_not_asked(home_env, tmp_path):
    env = dict(home_env, VIGIE_POLICY=str(tmp_path / "none.toml"), XDG_CONFIG_DIRS=str(tmp_path / "no-system-entry"))
    assert harness.run_vigie(env, "autostart", "enable").returncode == 0
    done = vigie_with_input(env, None, "autostart", "disable")
    assert (done.returncode, done.stdout) == (0, "Vigie ne démarrera plus à l’ouverture de session.\n")
