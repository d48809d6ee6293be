"""`vigie autostart` on Windows, under Wine: the real HKCU Run key through winreg."""

from __future__ import annotations

import subprocess
import sys
import winreg
from pathlib import Path

from vigie import autostart

WAIT = 180


def run_value() -> str | None:
    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, autostart.RUN_KEY) as key:
            return winreg.QueryValueEx(key, autostart.RUN_VALUE_NAME)[0]
    except FileNotFoundError:
        return None


def test_from_source_the_run_value_starts_pythonw_not_a_console():
    """Issue 17: from source, the Run value named python.exe: a console window at every login (and
    closing it ended Vigie). It must name pythonw.exe, beside the interpreter."""
    out = subprocess.run([sys.executable, "-m", "vigie", "autostart", "enable"], capture_output=True, timeout=WAIT)
    try:
        assert out.returncode == 0, out.stderr
        command = autostart.split_windows_command(run_value())
        assert Path(command[0]).name.lower() == "pythonw.exe" and Path(command[0]).is_file()
        assert Path(command[0]).parent == Path(sys.executable).parent
        assert command[1:] == ["-m", "vigie"]
        assert autostart.WindowsRunKey().status().enabled
    finally:
        subprocess.run([sys.executable, "-m", "vigie", "autostart", "disable"], capture_output=True, timeout=WAIT)
    assert run_value() is None


def test_the_windowless_twin_only_replaces_python_exe(tmp_path: Path):
    (tmp_path / "python.exe").write_bytes(b"")
    (tmp_path / "pythonw.exe").write_bytes(b"")
    assert autostart.windowless_interpreter(str(tmp_path / "python.exe")) == str(tmp_path / "pythonw.exe")
    assert autostart.windowless_interpreter(str(tmp_path / "vigie.exe")) == str(tmp_path / "vigie.exe")
    (tmp_path / "pythonw.exe").unlink()
    assert autostart.windowless_interpreter(str(tmp_path / "python.exe")) == str(tmp_path / "python.exe")


def test_the_installers_machine_wide_value_is_read_and_kept():
    """The installer writes HKLM's Run value (64-bit view): `vigie autostart status` says « on » from it,
    and `disable` is refused (only an administrator removes a start for every user)."""
    access = winreg.KEY_SET_VALUE | winreg.KEY_WOW64_64KEY
    installed = r'"C:\Program Files\Vigie\vigie.exe"'
    with winreg.CreateKeyEx(winreg.HKEY_LOCAL_MACHINE, autostart.RUN_KEY, 0, access) as key:
        winreg.SetValueEx(key, autostart.RUN_VALUE_NAME, 0, winreg.REG_SZ, installed)
    try:
        state = autostart.WindowsRunKey().status()
        assert state.enabled and state.location.startswith("HKLM\\")
        assert state.command == [r"C:\Program Files\Vigie\vigie.exe"]
        refused = subprocess.run([sys.executable, "-m", "vigie", "--lang", "fr", "autostart", "disable"],
                                 capture_output=True, timeout=WAIT)
        assert refused.returncode == autostart.EXIT_ERROR
        assert "administrateur" in refused.stderr.decode("utf-8")
        assert autostart.WindowsRunKey().status().enabled
    finally:
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, autostart.RUN_KEY, 0, access) as key:
            winreg.DeleteValue(key, autostart.RUN_VALUE_NAME)
    assert not autostart.WindowsRunKey().status().enabled
