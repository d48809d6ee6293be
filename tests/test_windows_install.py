"""vigie-setup-<version>.exe, built on Linux (installer/windows/build.sh), installed, upgraded over a
running agent and uninstalled, silently, in a fresh Windows under Wine (issue 17, point 3).

The installer is built once per version of its sources and kept in ~/.cache/vigie-wine/installers/
(the key is the hash of agent/, installer/, assets/ and the locks): a CI run whose sources did not
change reuses it, one that changed them builds it (about 5 minutes on 2 cores).

Under Wine, what the installer does to ACLs (icacls on %ProgramData%\\Vigie) cannot be checked: Wine
keeps no ACLs on files. The test checks that Setup ran icacls and logged its exit code, nothing more.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import harness
import wine
from vigie.platform.windows_mutex import APP_USER_MODEL_ID

WAIT = 600
ROOT = wine.ROOT
PROGRAM = r"C:\Program Files\Vigie"
RUN_KEY = r"HKLM\Software\Microsoft\Windows\CurrentVersion\Run"
AUMID_KEY = rf"HKLM\Software\Classes\AppUserModelId\{APP_USER_MODEL_ID}"
POLICY = '[contacts]\nit_provider_name = "InfoSanté 35"\n'


@pytest.fixture(scope="module")
def setup_exe() -> Path:
    """The installer of these sources: built early in the session beside the other tests (conftest,
    wine.prepare_in_background), else now."""
    return wine.installer()


@pytest.fixture(scope="module")
def windows(tmp_path_factory: pytest.TempPathFactory) -> Iterator[wine.Wine]:
    """A Windows with nothing of Vigie's, no Python: the bare prefix."""
    running = wine.Wine(tmp_path_factory.mktemp("wine-install"), wine.template_prefix("bare"))
    try:
        running.start_display()
        yield running
    finally:
        running.close()


def _install(windows: wine.Wine, setup_exe: Path, policy: Path, log: Path) -> subprocess.CompletedProcess:
    return windows.run(str(setup_exe), "/VERYSILENT", "/SUPPRESSMSGBOXES", "/NORESTART",
                       f"/POLICY={wine.win_path(policy)}", f"/LOG={wine.win_path(log)}", timeout=WAIT)


def _program_dir(windows: wine.Wine) -> Path:
    return windows.drive_c / "Program Files" / "Vigie"


def _agent_running(windows: wine.Wine) -> bool:
    out = windows.run("tasklist", timeout=120)  # Wine's tasklist lists every process of this prefix
    return b"vigie.exe" in out.stdout.lower()


def test_silent_install_upgrade_over_a_running_agent_and_uninstall(windows, setup_exe, tmp_path):
    print(f"installer: {setup_exe} ({setup_exe.stat().st_size / 2**20:.1f} MiB)")
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")

    # 1. Install, silently, as an RMM does.
    done = _install(windows, setup_exe, policy, tmp_path / "install.log")
    log = (tmp_path / "install.log").read_text(encoding="utf-8", errors="replace")
    assert done.returncode == 0, log[-3000:]
    program = _program_dir(windows)
    for name in ("vigie.exe", "vigie-cli.exe", "unins000.exe", "vigie.png"):
        assert (program / name).is_file(), name
    assert windows.reg_query(RUN_KEY, "Vigie") == f'"{PROGRAM}\\vigie.exe"'
    assert windows.reg_query(AUMID_KEY, "DisplayName") == "Vigie"  # toasts named "Vigie" for every user
    assert (windows.drive_c / "ProgramData" / "Vigie" / "policy.toml").read_text(encoding="utf-8") == POLICY
    assert "icacls on the policy folder: exit code" in log  # the ACL itself: not provable under Wine

    # 2. What an IT provider's script reads: UTF-8 JSON from the console program.
    checked = windows.run(f"{PROGRAM}\\vigie-cli.exe", "check", "--json", timeout=WAIT)
    document = json.loads(checked.stdout.decode("utf-8"))
    assert document["platform"] == "windows" and checked.returncode == document["exit_code"]

    # The installed Vigie knows it starts at every login (it used to read HKCU only: « off »).
    status = windows.run(f"{PROGRAM}\\vigie-cli.exe", "autostart", "status", timeout=WAIT)
    assert RUN_KEY + "\\Vigie" in status.stdout.decode("utf-8"), status.stdout

    # 3. The agent as the Run value starts it, at login: its icon appears.
    agent = windows.services.start(["wine", f"{PROGRAM}\\vigie.exe"], windows.env, stdin=subprocess.DEVNULL)
    harness.wait_for(lambda: "tray visible backend=pystray._win32" in windows.vigie_log(), WAIT,
                     "the installed agent's icon")
    windows.screenshot(tmp_path / "installed-agent.png")

    # 4. Upgrade over the running agent: Setup stops it (silent mode), replaces the files, succeeds.
    again = _install(windows, setup_exe, policy, tmp_path / "upgrade.log")
    log = (tmp_path / "upgrade.log").read_text(encoding="utf-8", errors="replace")
    assert again.returncode == 0, log[-3000:]
    assert "Vigie is running: stopping it (silent mode)" in log
    harness.wait_for(lambda: agent.poll() is not None, WAIT, "the running agent to be stopped by Setup")
    assert (program / "vigie.exe").is_file()

    # 5. Uninstall: nothing left but the user's data.
    user_data = windows.local_appdata / "Vigie"
    assert user_data.is_dir()
    gone = windows.run(f"{PROGRAM}\\unins000.exe", "/VERYSILENT", "/SUPPRESSMSGBOXES", "/NORESTART", timeout=WAIT)
    assert gone.returncode == 0
    harness.wait_for(lambda: not (program / "vigie.exe").exists(), WAIT, "the program files to go")
    assert not program.exists() or not any(program.iterdir())
    assert windows.reg_query(RUN_KEY, "Vigie") is None
    assert windows.reg_query(AUMID_KEY, "DisplayName") is None
    assert not (windows.drive_c / "ProgramData" / "Vigie" / "policy.toml").exists()
    assert user_data.is_dir() and any(user_data.rglob("vigie.log"))
