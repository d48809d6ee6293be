"""The backup watch in the running agent: a real loop drive enrolled with `vigie backup enroll`, dunst
showing the notification, its « Éjecter » button pressed for real, « Tester ma sauvegarde » clicked
in the real tray menu, and the status window looked at."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import psutil

import harness
from vigie.features.backup.backup_drive import EJECT_DRIVE

UNPLUG_AFTER_MINUTES = "0.05"  # 3 s


def enrolled_drive(env, make_stick, tmp_path: Path, label: str = "SAUVEGARDE"):
    originals = tmp_path / "Documents"
    originals.mkdir()
    week_ago = (datetime.now() - timedelta(days=7)).timestamp()
    for i in range(6):
        (originals / f"ordonnance {i}.pdf").write_bytes(os.urandom(3000 + i))
        os.utime(originals / f"ordonnance {i}.pdf", (week_ago, week_ago))
    stick = make_stick(label)
    stick.mount()
    subprocess.run(["cp", "-a", f"{originals}/.", str(stick.mount_point)], check=True)
    enrolled = harness.run_vigie(env, "backup", "enroll", str(stick.mount_point), "--originals", str(originals))
    assert enrolled.returncode == 0, enrolled.stderr
    assert harness.run_vigie(env, "backup", "mark", str(stick.mount_point)).returncode == 0
    return stick


def notifications(env, summary: str) -> list[dict]:
    return [n for n in harness.dunst_history(env) if n["summary"] == summary]


def test_a_drive_left_plugged_in_is_flagged_and_eject_really_unmounts_it(desktop_env, start_agent, make_stick,
                                                                         tmp_path):
    stick = enrolled_drive(desktop_env, make_stick, tmp_path)
    assert harness.run_vigie(desktop_env, "config", "set", "backup_drive.unplug_after_minutes",
                             UNPLUG_AFTER_MINUTES).returncode == 0
    _, env = start_agent(desktop_env)
    flagged = "check=backup_drive severity=WARNING"
    harness.wait_for(lambda: "notification shown" in harness.vigie_log(env).partition(flagged)[2], timeout=20,
                     what="the drive to be flagged and the notification shown")
    harness.screenshot(env, Path("/tmp/backup-drive-notification.png"))
    assert stick.is_mounted()
    harness.press_notification_button(env, EJECT_DRIVE)  # « Éjecter », on the notification itself
    harness.wait_for(lambda: not stick.is_mounted(), what="the drive to be unmounted")
    harness.wait_for(lambda: "check=backup_drive severity=OK" in harness.vigie_log(env).partition("ejected")[2],
                     what="the check to be fine again")
    flagged_note = notifications(env, "Débranchez le disque de sauvegarde")
    assert "Cliquez sur «\u00a0Éjecter\u00a0»" in flagged_note[0]["body"]
    assert notifications(env, "Vous pouvez débrancher le disque de sauvegarde")


def test_test_my_backup_from_the_tray_menu_restores_and_records_a_proof(desktop_env, start_agent, make_stick,
                                                                         tmp_path):
    enrolled_drive(desktop_env, make_stick, tmp_path)
    _, env = start_agent(desktop_env)
    labels = [label for label in harness.sni_menu(env, "labels").stdout.splitlines() if label]
    assert "Tester ma sauvegarde" in labels
    harness.dunst_history(env)
    assert harness.sni_menu(env, "click", "Tester ma sauvegarde").returncode == 0
    passed = harness.wait_for(lambda: notifications(env, "Test de sauvegarde réussi"), timeout=30, what="the result")
    assert passed[0]["body"] == "5 fichiers restaurés, identiques aux originaux."
    proofs = journal(env, "restore_drill")  # the scheduled first drill may have run before the click
    assert proofs and {p["outcome"] for p in proofs} == {"passed"} and len(proofs[-1]["files"]) == 5
    snapshot = json.loads((Path(env["XDG_RUNTIME_DIR"]) / "Vigie" / "status.json").read_text())
    drill = next(c for c in snapshot["checks"] if c["id"] == "restore_drill")
    assert drill["title"] == f"Dernier test de restauration réussi le {datetime.now():%d/%m/%Y}"
    backups = next(c for c in snapshot["checks"] if c["id"] == "backup_age")
    assert "• Dossier de sauvegarde «\u00a0mnt point\u00a0»\u00a0: il y a moins d’une heure" in backups["detail"]
    harness.sni_menu(env, "click", "État de la sécurité…")
    harness.wait_for(lambda: harness.window_ids(env, "vigie-status"), what="the status window")
    harness.screenshot(env, Path("/tmp/backup-status-window.png"))


def test_the_monthly_drill_starts_by_itself_when_one_is_due(desktop_env, start_agent, make_stick, tmp_path):
    enrolled_drive(desktop_env, make_stick, tmp_path)
    _, env = start_agent(desktop_env)
    harness.wait_for(lambda: journal(env, "restore_drill"), timeout=30, what="the first drill, due at start")
    assert journal(env, "restore_drill")[0]["outcome"] == "passed"


def journal(env, kind: str) -> list[dict]:
    import sqlite3

    db = sqlite3.connect(Path(env["XDG_DATA_HOME"]) / "Vigie" / "journal.sqlite3")
    try:
        return [json.loads(data) for (data,) in db.execute("SELECT data FROM events WHERE kind = ? ORDER BY id",
                                                           (kind,))]
    finally:
        db.close()


def test_a_drive_enrolled_in_a_subfolder_gets_no_usb_popup(desktop_env, start_agent, make_stick, tmp_path):
    stick = make_stick("DISQUE")
    stick.mount()
    (stick.mount_point / "Sauvegardes" / "Cabinet").mkdir(parents=True)
    assert harness.run_vigie(desktop_env, "backup", "enroll",
                             str(stick.mount_point / "Sauvegardes" / "Cabinet")).returncode == 0
    stick.umount()
    _, env = start_agent(desktop_env)
    harness.wait_for(lambda: "volume watch: started" in harness.vigie_log(env), what="the volume watch")
    stick.mount()
    harness.wait_for(lambda: "enrolled backup drive mounted, no pop-up" in harness.vigie_log(env), what="the mount")
    assert not harness.window_ids(env, "vigie-usb")


def test_a_slow_backup_check_never_delays_a_lock(desktop_env, start_agent, tmp_path):
    """restic that hangs (a repository on a NAS that stopped answering): the check waits beside the
    engine, and « Verrouiller maintenant » still locks at once."""
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "restic").write_text("#!/bin/sh\nsleep 100\n")
    (tools / "restic").chmod(0o755)
    repo = tmp_path / "nas-restic"
    repo.mkdir()
    harness.secret_store(desktop_env, "backup_age", json.dumps({"schema_version": 1, "data": {
        "repositories": [{"kind": "restic", "name": "nas", "repository": str(repo)}]}}))
    env = dict(desktop_env, PATH=f"{tools}:{desktop_env['PATH']}")
    _, env = start_agent(env)
    harness.wait_for(lambda: [p for p in psutil.process_iter(["cmdline"])
                              if p.info["cmdline"] == ["/bin/sh", str(tools / "restic"), "snapshots", "--json",
                                                       "--no-lock"]], what="restic hanging")
    assert harness.sni_menu(env, "click", "Verrouiller maintenant").returncode == 0
    harness.wait_for(lambda: harness.screen_grabbed(env), timeout=5, what="the lock, while restic hangs")
    assert "check=backup_age" not in harness.vigie_log(env)  # still waiting for restic


def test_a_failed_drill_is_one_notification_without_file_names(desktop_env, start_agent, make_stick, tmp_path):
    """Issue 18: a failed drill sent two identical urgent notifications, one listing the patients'
    file names on screen. Now: one per failure, the names only in the status window and the journal."""
    stick = enrolled_drive(desktop_env, make_stick, tmp_path)
    for copy in stick.mount_point.glob("*.pdf"):  # one bit flipped, same time: only the content betrays it
        data, stat = bytearray(copy.read_bytes()), copy.stat()
        data[len(data) // 2] ^= 0x01
        copy.write_bytes(bytes(data))
        os.utime(copy, (stat.st_atime, stat.st_mtime))
    _, env = start_agent(desktop_env)
    title = "Votre sauvegarde ne se restaure pas correctement"
    harness.wait_for(lambda: notifications(env, title), timeout=30, what="the scheduled drill's failure")
    assert journal(env, "restore_drill")[-1]["outcome"] == "failed"
    # The engine's notification comes after the guard would have sent its own: both are in by now.
    (told,) = notifications(env, title)
    assert "ordonnance" not in told["body"]
    assert told["body"].startswith("5 fichiers ne sont pas revenus comme il faut")
    snapshot = json.loads((Path(env["XDG_RUNTIME_DIR"]) / "Vigie" / "status.json").read_text())
    drill = next(c for c in snapshot["checks"] if c["id"] == "restore_drill")
    assert drill["severity"] == "critical" and "ordonnance" in drill["detail"]  # the names stay here
    # Asked again from the menu: a second failure, a second notification (the check was already urgent).
    assert harness.sni_menu(env, "click", "Tester ma sauvegarde").returncode == 0
    again = harness.wait_for(lambda: len(notifications(env, title)) == 2 and notifications(env, title), timeout=30,
                             what="the second drill's answer")
    assert all("ordonnance" not in n["body"] for n in again)
    # « Test de votre sauvegarde… » is news, not a success: the blue « i », never the green tick.
    (progress,) = notifications(env, "Test de votre sauvegarde…")
    assert progress["icon_path"].endswith("vigie-info.png"), progress["icon_path"]
