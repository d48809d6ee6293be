"""« Je pense être attaqué » from the real tray menu of the running agent: the detection time is
recorded, the guide window opens, and the tray tooltip counts down the two 72-hour deadlines."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

import harness
from support.small_disk import SmallDisk
from vigie.features.incident.state import IncidentStore


def journal_kinds(env) -> list[str]:
    db = sqlite3.connect(Path(env["XDG_DATA_HOME"]) / "Vigie" / "journal.sqlite3")
    try:
        return [kind for (kind,) in db.execute("SELECT kind FROM events ORDER BY id")]
    finally:
        db.close()


def test_the_guide_opens_from_the_tray_and_the_tooltip_counts_down(desktop_env, start_agent):
    _, env = start_agent(desktop_env)
    assert harness.sni_menu(env, "click", "Je pense être attaqué").returncode == 0
    harness.wait_for(lambda: harness.window_ids(env, "vigie-incident"), what="the guide window")
    assert "incident_opened" in journal_kinds(env)
    title = harness.wait_for(lambda: [t for t in [harness.sni_menu(env, "title").stdout.strip()]
                                      if "Incident en cours" in t], what="the countdown in the tooltip")[0]
    assert title.startswith("Vigie\u00a0: ") and "— Incident en cours — plainte\u00a0: 71\u00a0h" in title
    assert "CNIL\u00a0: 71\u00a0h" in title
    harness.screenshot(env, Path("/tmp/incident-from-tray.png"))
    incidents = list((Path(env["XDG_DATA_HOME"]) / "Vigie" / "incidents").glob("*/incident.json"))
    assert len(incidents) == 1 and (incidents[0].stat().st_mode & 0o777) == 0o600
    assert json.loads(incidents[0].read_text())["detected_at"]


@pytest.fixture
def small_disk(tmp_path):
    """Set up before the agent, so it is unmounted after the agent stopped (the agent keeps its journal open)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    disk = SmallDisk(tmp_path / "small disk")
    try:
        yield disk
    finally:
        disk.remove()


def notified(env, title: str) -> list[dict]:
    return [n for n in harness.dunst_history(env) if n.get("summary") == title]


def tooltip(env) -> str:
    return harness.sni_menu(env, "title").stdout.strip()


def test_on_a_full_disk_the_agent_keeps_the_detection_time_and_saves_it_once_there_is_room(
        small_disk, desktop_env, start_agent):
    """Vigie's data folder on a real tmpfs, filled up while the agent runs: « Je pense être attaqué » gives a
    French notification (disk full, what to do), no guide that could save nothing, and a tooltip that
    already counts down; once a file is deleted the agent saves the incident by itself, with the time of
    the click, and says so."""
    _, env = start_agent(dict(desktop_env, XDG_DATA_HOME=str(small_disk.path)))
    small_disk.fill()
    clicked = datetime.now().astimezone()
    assert harness.sni_menu(env, "click", "Je pense être attaqué").returncode == 0
    [message] = harness.wait_for(lambda: notified(env, "Vigie n’a pas pu enregistrer l’incident"),
                                 what="the disk-full notification")
    answered = datetime.now().astimezone()
    assert message["body"].startswith("Le disque est plein.\nVigie n’a pas pu enregistrer l’incident, mais il garde "
                                      "son heure de détection"), message["body"]
    assert "Libérez de la place" in message["body"]
    harness.wait_for(lambda: "Incident non enregistré (disque plein) — plainte\u00a0: 71\u00a0h" in tooltip(env),
                     what="the countdown of the incident not saved yet")
    assert harness.window_ids(env, "vigie-incident") == set()
    assert "features/incident/" not in harness.vigie_log(env)  # no traceback through the incident's code

    small_disk.free()
    incidents = small_disk.path / "Vigie" / "incidents"
    harness.wait_for(lambda: list(incidents.glob("*/incident.json")), timeout=30, what="the incident saved")
    incident = IncidentStore(incidents).find_open()
    assert incident is not None and clicked <= incident.detected_at <= answered
    harness.wait_for(lambda: notified(env, "L’incident est enregistré"), what="the saved notification")
    harness.wait_for(lambda: "— Incident en cours — plainte\u00a0: 71\u00a0h" in tooltip(env), what="the countdown")
    assert list(incidents.glob("detected-*")) == []
