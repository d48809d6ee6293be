"""The os_updates check on real apt (a private repository), with an injected clock."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import psutil
import pytest

import harness
from vigie.check import CheckContext
from vigie.config.schema import Config, OsUpdates
from vigie.events import Tick
from vigie.features.os_updates.check import OsUpdatesCheck
from vigie.journal import Journal
from vigie.model import Severity
from vigie.platform.base import ToolFailed, ToolTimeout
from vigie.platform.linux import LinuxPlatform

FIXTURES = Path(__file__).resolve().parent / "fixtures"
START = datetime(2026, 11, 2, 9, 0).astimezone()


def apt_counts(apt_config: str) -> tuple[int, int]:
    """Counted straight from apt-get, independently of Vigie's parser."""
    out = subprocess.run(["apt-get", "-s", "upgrade"], env={**os.environ, "APT_CONFIG": apt_config},
                         capture_output=True, text=True, check=True, timeout=60).stdout
    inst = [line for line in out.splitlines() if line.startswith("Inst ")]
    return len(inst), sum("Debian-Security:" in line or "-security " in line for line in inst)


def test_check_json_reports_the_same_counts_as_apt_get(home_env, apt_config):
    env = dict(home_env, APT_CONFIG=apt_config)
    result = harness.run_vigie(env, "check", "--json")
    assert result.returncode == 1, result.stderr  # WARNING
    report = json.loads(result.stdout)
    (finding,) = [c for c in report["checks"] if c["id"] == "os_updates"]
    pending, security = apt_counts(apt_config)
    assert (pending, security) == (2, 1)
    assert finding["facts"] == {"source": "apt", "pending": pending, "security": security,
                                "oldest_security_days": 0}
    assert finding["severity"] == "warning"
    assert finding["title"] == "2 mises à jour attendent d’être installées."
    assert finding["detail"].startswith("1 d’entre elles corrige des failles de sécurité")


def test_check_table_in_french_without_a_screen(home_env, apt_config):
    result = harness.run_vigie(dict(home_env, APT_CONFIG=apt_config), "check")
    assert result.returncode == 1
    assert re.search(r"^ATTENTION +Mises à jour du système +2 mises à jour attendent d’être installées\.$",
                     result.stdout, re.M)
    assert "2 points à vérifier." in result.stdout  # the updates, and no backup known


def make_context(journal: Journal, now: list[datetime], **settings) -> CheckContext:
    config = Config(os_updates=OsUpdates(**settings))
    return CheckContext(LinuxPlatform(), config, journal, clock=lambda: now[0])


def test_security_update_waiting_past_the_grace_period_is_critical(apt_config, monkeypatch, tmp_path):
    monkeypatch.setenv("APT_CONFIG", apt_config)
    journal = Journal(tmp_path / "journal.sqlite3")
    now = [START]
    ctx = make_context(journal, now)
    check = OsUpdatesCheck()
    assert check.evaluate(Tick(), ctx).severity == Severity.WARNING
    now[0] = START + timedelta(days=7)
    assert check.evaluate(Tick(), ctx).severity == Severity.WARNING  # "more than 7 days"
    now[0] = START + timedelta(days=8)
    finding = check.evaluate(Tick(), ctx)
    assert finding.severity == Severity.CRITICAL
    assert finding.facts["oldest_security_days"] == 8
    # The first-seen date survives a restart: it lives in the journal, not in memory.
    journal.close()
    reopened = make_context(Journal(tmp_path / "journal.sqlite3"), now)
    assert check.evaluate(Tick(), reopened).severity == Severity.CRITICAL


def test_installing_the_security_update_clears_it(apt_config, monkeypatch, tmp_path):
    monkeypatch.setenv("APT_CONFIG", apt_config)
    journal = Journal(tmp_path / "journal.sqlite3")
    now = [START]
    check = OsUpdatesCheck()
    check.evaluate(Tick(), make_context(journal, now))
    status = Path(apt_config).parent / "status"
    original = status.read_text()
    try:
        # "Install" both updates in the private dpkg database.
        status.write_text(original.replace("Version: 1.0", "Version: 1.1"))
        now[0] = START + timedelta(days=9)
        finding = check.evaluate(Tick(), make_context(journal, now))
        assert finding.severity == Severity.OK
        assert finding.facts["pending"] == 0
        assert journal.first_seen("os_updates", [], now[0]) == {}
    finally:
        status.write_text(original)


def test_no_package_manager_is_unknown_with_the_reason(home_env, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    result = harness.run_vigie(dict(home_env, PATH=str(empty)), "check")
    assert result.returncode == 1  # a problem (no backup known) outranks "could not check" (3)
    assert "INCONNU" in result.stdout
    assert "Vigie n’a pas pu vérifier les mises à jour." in result.stdout
    assert "Aucun gestionnaire de mises à jour connu (apt ou dnf) n’a été trouvé." in result.stdout


def fake_tool(directory: Path, name: str, script: str) -> Path:
    directory.mkdir(exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return path


def test_a_hanging_apt_is_killed_with_its_children(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    pidfile = tmp_path / "child.pid"
    fake_tool(bin_dir, "apt-get", f"sleep 300 & echo $! > {pidfile}\nwait\n")
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    started = time.monotonic()
    with pytest.raises(ToolTimeout) as caught:
        LinuxPlatform().pending_updates(timeout=1)
    assert time.monotonic() - started < 5
    assert caught.value.reason.params == {"tool": "apt-get", "seconds": 1}
    child = int(pidfile.read_text())
    harness.wait_for(lambda: not psutil.pid_exists(child) or psutil.Process(child).status() == "zombie",
                     timeout=5, what="the hung child to be killed")


def test_the_check_turns_a_timeout_into_unknown_in_french(tmp_path, monkeypatch):
    fake_tool(tmp_path / "bin", "apt-get", "exec sleep 300\n")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    ctx = make_context(Journal.in_memory(), [START], timeout_seconds=1)
    finding = OsUpdatesCheck().evaluate(Tick(), ctx)
    assert finding.severity == Severity.UNKNOWN
    from vigie.i18n import render, translator

    assert render(finding.detail, translator("fr")) == "Le programme apt-get n’a pas répondu en 1 secondes."


def test_a_failing_apt_is_unknown_not_a_crash(tmp_path, monkeypatch):
    fake_tool(tmp_path / "bin", "apt-get", "echo 'E: Could not open lock file' >&2\nexit 100\n")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    with pytest.raises(ToolFailed) as caught:
        LinuxPlatform().pending_updates(timeout=10)
    assert caught.value.reason.params["code"] == 100
    assert "Could not open lock file" in caught.value.log_detail


def test_dnf_path_parses_check_update_and_security_list(tmp_path, monkeypatch):
    """dnf is not installed here: a stand-in prints the captured Fedora 42 outputs, exit code 100."""
    updates = FIXTURES / "linux-dnf-list-upgrades-fedora42.txt"
    security = FIXTURES / "linux-dnf-updateinfo-list-fedora42.txt"
    grep = shutil.which("grep")  # PATH below holds no apt-get, hence no grep either
    script = (f'case "$*" in *updateinfo*) {grep} -v "^# " {security}; exit 0;; esac\n'
              f'{grep} -v "^# " {updates}\nexit 100\n')
    fake_tool(tmp_path / "bin", "dnf", script)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{Path(sys.executable).parent}")
    status = LinuxPlatform().pending_updates(timeout=10)
    assert status.source == "dnf"
    assert [(u.name, u.version, u.security) for u in status.updates] == [
        ("vim-data", "2:9.2.280-1.fc42", True), ("vim-minimal", "2:9.2.280-1.fc42", True)]
