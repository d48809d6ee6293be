"""Issue 15, point 15: an agent that is not running is visible to the IT provider.

The real agent runs on the test desktop; `vigie check --json` (the real CLI) says whether it runs and
since when, and how the previous run ended: a stop recorded in the journal (menu, code, SIGTERM) or
none at all (SIGKILL, a crash)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import jsonschema
import psutil
import pytest

import harness
from vigie import instance
from vigie.config import policy
from vigie.journal import Journal

SCHEMA = json.loads((harness.ROOT / "agent/vigie/schemas/check-report.schema.json").read_text())
CODE = "4321"


def check_json(env: dict[str, str]) -> tuple[dict, dict]:
    """The whole report (validated against its schema) and its "agent" row."""
    result = harness.run_vigie(env, "check", "--json")
    report = json.loads(result.stdout)
    jsonschema.validate(report, SCHEMA)
    assert report["exit_code"] == result.returncode
    (row,) = [c for c in report["checks"] if c["id"] == "agent"]
    assert row["facts"] == report["agent"]
    return report, row


def check_text(env: dict[str, str]) -> str:
    """The French table on one line: wrapped cells joined, no-break spaces made plain."""
    return " ".join(harness.run_vigie(env, "check").stdout.replace("\u00a0", " ").split())


def protected(env: dict[str, str], policy_dir: Path) -> dict[str, str]:
    path = harness.policy_file(f'[agent]\nquit_code = "{policy.hash_code(CODE, iterations=20_000)}"\n', policy_dir)
    return dict(env, VIGIE_POLICY=str(path))


def journal_events(env: dict[str, str]) -> list[tuple[str, dict]]:
    journal = Journal(Path(env["XDG_DATA_HOME"]) / "Vigie" / "journal.sqlite3")
    try:
        return [(kind, data) for _at, kind, data in journal.events() if kind.startswith("agent_")]
    finally:
        journal.close()


def test_check_sees_the_running_agent_then_notices_an_unannounced_kill(desktop_env, start_agent):
    assert harness.run_vigie(desktop_env, "autostart", "enable").returncode == 0
    before = datetime.now().astimezone()
    proc, env = start_agent(desktop_env)
    started = datetime.now().astimezone()
    report, row = check_json(env)
    agent = report["agent"]
    assert (agent["running"], agent["pid"], agent["autostart"], agent["expected"]) == (True, proc.pid, True, True)
    since = datetime.fromisoformat(agent["since"])
    assert before - timedelta(seconds=1) <= since <= started  # seconds precision: `before` rounded down
    process_start = datetime.fromtimestamp(psutil.Process(proc.pid).create_time()).astimezone()
    assert abs(since - process_start) < timedelta(seconds=2)  # the start of this very process
    assert row["severity"] == "ok"
    assert "Vigie est en marche depuis le " + since.strftime("%d/%m/%Y %H:%M") in check_text(env)

    proc.kill()  # SIGKILL: no chance to say anything
    proc.wait(10)
    report, row = check_json(env)
    assert report["agent"]["running"] is False and report["agent"]["pid"] is None
    assert report["agent"]["last_end"] == {"clean": False, "started_at": agent["since"], "stopped_at": None,
                                           "reason": None, "detail": None}
    assert row["severity"] == "warning" and report["exit_code"] >= 1
    text = check_text(env)
    assert "ATTENTION Vigie en marche Vigie n’est pas en marche : il ne surveille plus ce poste." in text
    assert "s’est arrêté sans prévenir : arrêt forcé, plantage, ou session fermée sans l’avertir." in text
    assert "→ Relancez Vigie depuis le menu des applications" in text


def test_sigterm_is_recorded_and_a_protected_agent_is_missed(desktop_env, start_agent, policy_dir):
    """With a quit code the agent is expected even when it does not start at login."""
    proc, env = start_agent(protected(desktop_env, policy_dir))
    proc.terminate()  # what `kill PID` sends
    assert proc.wait(15) == 0
    report, row = check_json(env)
    agent = report["agent"]
    assert (agent["running"], agent["autostart"], agent["protected"], agent["expected"]) == (False, False, True, True)
    end = agent["last_end"]
    assert (end["clean"], end["reason"], end["detail"]) == (True, "signal", "SIGTERM")
    assert datetime.fromisoformat(end["stopped_at"]) >= datetime.fromisoformat(end["started_at"])
    assert row["severity"] == "warning"
    assert "arrêté par le système ou par une commande (SIGTERM)" in check_text(env)
    (started, stopped) = journal_events(env)
    assert started[0] == "agent_started" and started[1]["pid"] == proc.pid
    assert stopped == ("agent_stopped", {"session": started[1]["session"], "reason": "signal", "detail": "SIGTERM"})
    assert "agent stopped reason=signal detail=SIGTERM" in harness.vigie_log(env)


def test_quit_with_the_code_is_recorded(desktop_env, start_agent, policy_dir):
    proc, env = start_agent(protected(desktop_env, policy_dir))
    assert harness.sni_menu(env, "click", "Quitter").returncode == 0
    (wid,) = harness.wait_for(lambda: harness.window_ids(env, "vigie-quit"), what="the code window")
    harness.wait_for(lambda: harness.focused_window(env) == wid, timeout=5, what="the focus")
    harness.xdo(env, "type", CODE)
    harness.xdo(env, "key", "Return")
    assert proc.wait(15) == 0
    report, row = check_json(env)
    assert report["agent"]["last_end"]["reason"] == "quit_code" and report["agent"]["last_end"]["clean"] is True
    assert row["severity"] == "warning"  # quit with the code, yet protected: the IT provider is told
    assert "quitté depuis son menu avec le code du prestataire" in check_text(env)


def test_quit_from_the_menu_is_recorded_and_not_a_warning_when_not_expected(desktop_env, start_agent, tmp_path):
    # No machine-wide autostart entry (a .deb being tested at the same time installs one).
    proc, env = start_agent(dict(desktop_env, XDG_CONFIG_DIRS=str(tmp_path / "no-system-entry")))
    assert harness.sni_menu(env, "click", "Quitter").returncode == 0
    assert proc.wait(15) == 0
    report, row = check_json(env)
    assert report["agent"]["expected"] is False  # no autostart, no quit code
    assert (report["agent"]["last_end"]["clean"], report["agent"]["last_end"]["reason"]) == (True, "quit")
    assert row["severity"] == "info"
    assert "Vigie n’est pas en marche et ne démarre pas à l’ouverture de session." in check_text(env)


# --- the single-instance file against recycled pids ---------------------------------------------


@pytest.fixture
def other_process():
    """A live process that is not Vigie, as a pid the dead agent's may have been given to."""
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    yield proc
    proc.stdin.close()
    proc.wait(10)


def write_info(runtime: Path, **fields: object) -> None:
    path = runtime / "Vigie" / "agent.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"session": "s1", "since": "2026-01-01T08:00:00+01:00", **fields}))


def test_a_recycled_pid_is_not_taken_for_the_agent(tmp_path, monkeypatch, other_process):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    live = instance.process_identity(other_process.pid)
    assert live is not None
    record = {"pid": live.pid, "created": live.created, "since_boot": live.since_boot, "command": list(live.command)}
    write_info(tmp_path, **record)
    assert instance.running_agent().running is True  # the same process: believed
    write_info(tmp_path, **dict(record, created=live.created - 3600, since_boot=live.since_boot - 3600))
    assert instance.running_agent().running is False  # same pid, started an hour earlier: another process
    write_info(tmp_path, **dict(record, command=[sys.executable, "-m", "vigie"]))
    assert instance.running_agent().running is False  # same pid and start, another program
    write_info(tmp_path, **dict(record, created=live.created + 120))  # the wall clock stepped since
    assert instance.running_agent().running is True
    other_process.stdin.close()
    other_process.wait(10)
    write_info(tmp_path, **record)
    assert instance.running_agent().running is False  # gone


def test_an_unreadable_instance_file_is_unknown_not_stopped(home_env):
    path = Path(home_env["XDG_RUNTIME_DIR"]) / "Vigie" / "agent.json"
    path.parent.mkdir(mode=0o700)
    path.write_text('{"pid": ')
    report, row = check_json(home_env)
    assert report["agent"]["running"] is None
    assert row["severity"] == "unknown"
    assert "agent.json unreadable" in harness.vigie_log(home_env)


def test_the_instance_file_is_private_and_goes_with_a_clean_stop(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    held = instance.acquire_single_instance()
    assert held is not None
    path = tmp_path / "Vigie" / "agent.json"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    info = json.loads(path.read_text())
    assert (info["pid"], info["session"]) == (os.getpid(), held.session)
    assert instance.running_agent().running is True
    assert instance.acquire_single_instance() is None  # one agent per session
    held.release()
    assert not path.exists()
    assert instance.running_agent().running is False
