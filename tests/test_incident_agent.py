"""« Je pense être attaqué » from the real tray menu of the running agent: the detection time is
recorded, the guide window opens, and the tray tooltip counts down the two 72-hour deadlines."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import harness


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
