"""The status window's buttons, pressed for real in the running agent (issue 18, point 2): each card's
action goes back to the agent, which opens the distribution's updater (a real program of that name on
PATH), starts a restore test (its proof in the journal) or ejects the enrolled loop drive."""

from __future__ import annotations

import os
import time
from pathlib import Path

import harness
from test_backup_agent import enrolled_drive, journal
from vigie.platform.linux import linux_updater
from vigie.platform.macos import mac_updater
from vigie.platform.windows import windows_updater
from vigie.ui import status_window

SHOTS = Path("/tmp/vigie-status-actions")  # screenshots to look at after a run (like /tmp/vigie-packaging)


def fake_updater(bin_dir: Path, called: Path) -> None:
    """A real program named like GNOME's updater: it records its arguments and exits."""
    bin_dir.mkdir()
    program = bin_dir / "gnome-software"
    program.write_text(f"#!/bin/sh\necho \"$@\" > '{called}'\n")
    program.chmod(0o755)


def snapshot_path(env) -> Path:
    return Path(env["XDG_RUNTIME_DIR"]) / "Vigie" / "status.json"


def settled_snapshot(env) -> status_window.Report:
    """The snapshot once unchanged for longer than the window's poll: the window shows this one."""
    path = snapshot_path(env)

    def quiet() -> bool:
        return time.time() - path.stat().st_mtime > status_window.POLL_MS / 1000 + 1.5

    harness.wait_for(quiet, timeout=40, what="the status snapshot to settle")
    report = status_window.load_snapshot(path)
    assert isinstance(report, status_window.Report)
    return report


def open_status(env) -> int:
    assert harness.sni_menu(env, "click", "État de la sécurité…").returncode == 0
    return harness.wait_for(lambda: harness.window_ids(env, "vigie-status"), what="the status window").pop()


def press_button(env, command: str) -> None:
    """In a newly opened window, Tab to the card's button (the buttons' order is the cards' order), press
    it with the keyboard, then close the window."""
    report = settled_snapshot(env)
    commands = [c.action.command for c in status_window.sorted_checks(report) if c.action is not None]
    assert command in commands, commands
    wid = open_status(env)
    harness.xdo(env, "windowfocus", "--sync", str(wid))
    time.sleep(0.5)
    for _ in range(commands.index(command) + 1):
        harness.xdo(env, "key", "Tab")
    harness.xdo(env, "key", "space")
    harness.wait_for(lambda: f"status window: {command} asked" in harness.vigie_log(env), what="the click")
    harness.xdo(env, "key", "Escape")
    harness.wait_for(lambda: not harness.window_ids(env, "vigie-status"), what="the window closed")


def test_the_status_windows_buttons_act(desktop_env, start_agent, make_stick, tmp_path):
    stick = enrolled_drive(desktop_env, make_stick, tmp_path)
    called = tmp_path / "updater-called"
    fake_updater(tmp_path / "bin", called)
    env_path = f"{tmp_path / 'bin'}{os.pathsep}{desktop_env['PATH']}"
    _, env = start_agent(desktop_env, PATH=env_path)
    harness.wait_for(lambda: journal(env, "restore_drill"), timeout=30, what="the first drill, due at start")
    report = settled_snapshot(env)
    wid = open_status(env)
    labels = {c.id: c.action.label for c in report.checks if c.action is not None}
    assert labels == {"os_updates": "Ouvrir les mises à jour", "backup_drive": "Éjecter",
                      "restore_drill": "Tester ma sauvegarde maintenant"}
    harness.screenshot(env, SHOTS / "status-buttons-fr.png")
    harness.xdo(env, "key", "--window", str(wid), "Escape")
    harness.wait_for(lambda: not harness.window_ids(env, "vigie-status"), what="the window closed")

    press_button(env, "os_updates:open_updater")
    harness.wait_for(called.exists, what="the updater to be started")
    assert called.read_text().strip() == "--mode=updates"

    drills = len(journal(env, "restore_drill"))
    press_button(env, "backup:drill")
    harness.wait_for(lambda: len(journal(env, "restore_drill")) > drills, timeout=30, what="the drill asked")
    assert journal(env, "restore_drill")[-1]["outcome"] == "passed"

    assert stick.is_mounted()
    press_button(env, "backup:eject_drive")
    harness.wait_for(lambda: not stick.is_mounted(), what="the drive to be unmounted")
    harness.wait_for(lambda: "backup drive ejected" in harness.vigie_log(env), what="the agent's word on it")


def test_the_updater_is_the_distributions_installed_one(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    assert linux_updater() is None  # none installed: no button
    for name in ("plasma-discover", "update-manager"):
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    assert linux_updater() == [str(bin_dir / "update-manager")]  # GNOME's first, then Ubuntu's, then KDE's


def test_the_windows_and_mac_updater_commands(monkeypatch):
    """An OS edge we cannot run here: the commands built."""
    monkeypatch.setenv("SYSTEMROOT", "C:\\Windows")
    assert windows_updater()[1:] == ["ms-settings:windowsupdate"]
    assert windows_updater()[0].endswith("explorer.exe")
    assert mac_updater() == ["/usr/bin/open", "x-apple.systempreferences:com.apple.preferences.softwareupdate"]


def test_the_incident_card_is_on_top_and_resumes_the_guide(desktop_env, start_agent):
    import psutil

    proc, env = start_agent(desktop_env)
    assert harness.sni_menu(env, "click", "Vous pensez être victime d’une attaque\u00a0?").returncode == 0
    harness.wait_for(lambda: harness.window_ids(env, "vigie-incident"), what="the guide window")
    guides = [p for p in psutil.Process(proc.pid).children() if "incident" in p.cmdline()]
    assert len(guides) == 1
    guides[0].terminate()  # closed: only the status window's button can bring it back now
    harness.wait_for(lambda: not harness.window_ids(env, "vigie-incident"), what="the guide closed")
    wid = open_status(env)
    time.sleep(1)
    harness.screenshot(env, SHOTS / "status-incident-fr.png")
    harness.xdo(env, "windowfocus", "--sync", str(wid))
    time.sleep(0.5)
    harness.xdo(env, "key", "Tab")  # the incident card's button comes first: its card is on top
    harness.xdo(env, "key", "space")
    harness.wait_for(lambda: harness.window_ids(env, "vigie-incident"), what="the guide opened again")
    assert "status window: incident:open asked" in harness.vigie_log(env)



def test_buttons_are_labelled_in_the_windows_language(gui_env, tmp_path, apt_config):
    """English: a real `vigie check --json --lang en` (an updater on PATH) gives the cards their buttons;
    a click says its command on stdout, the line the agent reads (ui.children.asked_command)."""
    import json
    import subprocess
    import sys

    from test_status_window import CODE, write_snapshot
    from vigie.ui.children import asked_command

    fake_updater(tmp_path / "bin", tmp_path / "updater-called")
    env = harness.isolated_env(tmp_path / "check")
    env = dict(env, APT_CONFIG=apt_config, PATH=f"{tmp_path / 'bin'}{os.pathsep}{env['PATH']}")
    report = json.loads(harness.run_vigie(env, "check", "--json", "--lang", "en").stdout)
    actions = {c["id"]: c["action"] for c in report["checks"] if c["action"]}
    assert actions["os_updates"] == {"command": "os_updates:open_updater", "label": "Open the updates"}
    assert actions["backup_age"] == {"command": "first_run:backup", "label": "Set up a backup"}
    snapshot = tmp_path / "status.json"
    write_snapshot(snapshot, report)
    proc = subprocess.Popen([sys.executable, "-c", CODE, "--snapshot", str(snapshot), "--lang", "en"], env=gui_env,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        wid = harness.wait_for(lambda: harness.window_ids(gui_env, "vigie-status"), what="the window").pop()
        time.sleep(1)
        harness.screenshot(gui_env, SHOTS / "status-buttons-en.png")
        harness.xdo(gui_env, "windowfocus", "--sync", str(wid))
        time.sleep(0.5)
        harness.xdo(gui_env, "key", "Tab")
        harness.xdo(gui_env, "key", "space")
        assert asked_command(proc.stdout.readline().strip()) == "os_updates:open_updater"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_set_up_a_backup_opens_the_assistant_at_its_backup_step(desktop_env, start_agent):
    _, env = start_agent(desktop_env)
    harness.wait_for(lambda: "check=backup_age severity=WARNING" in harness.vigie_log(env), what="no backup known")
    press_button(env, "first_run:backup")
    harness.wait_for(lambda: harness.window_ids(env, "vigie-first-run"), what="the setup assistant")
    harness.wait_for(lambda: "setup assistant: page backup_folder" in harness.vigie_log(env), what="its backup step")
    assert "setup assistant: page welcome" not in harness.vigie_log(env)
    harness.screenshot(env, SHOTS / "assistant-from-status-fr.png")


def test_only_a_features_command_goes_back_to_the_agent():
    from vigie.ui.children import asked_command

    assert asked_command("action backup:drill") == "backup:drill"
    assert asked_command("action os_updates:open_updater") == "os_updates:open_updater"
    for line in ("backup:drill", "action lock_now", "action backup:drill now", "action Backup:drill",
                 "page backup_folder", "action "):
        assert asked_command(line) is None, line
