"""« Vous pensez être victime d'une attaque ? » from the real tray menu of the running agent: the detection time is
recorded, the guide window opens, and the tray tooltip counts down the two 72-hour deadlines."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

import harness
from support.small_disk import SmallDisk
from vigie.features.incident.state import IncidentStore

QUESTION, RESUME = "Vous pensez être victime d’une attaque\u00a0?", "Reprendre le guide de l’incident"
COUNTDOWN = "— Incident en cours — plainte\u00a0: 71\u00a0h"


def journal_kinds(env) -> list[str]:
    db = sqlite3.connect(Path(env["XDG_DATA_HOME"]) / "Vigie" / "journal.sqlite3")
    try:
        return [kind for (kind,) in db.execute("SELECT kind FROM events ORDER BY id")]
    finally:
        db.close()


def test_the_guide_opens_from_the_tray_and_the_tooltip_counts_down(desktop_env, start_agent):
    _, env = start_agent(desktop_env)
    assert harness.sni_menu(env, "click", QUESTION).returncode == 0
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
    """Vigie's data folder on a real tmpfs, filled up while the agent runs: « Vous pensez être victime… » gives a
    French notification (disk full, what to do), no guide that could save nothing, and a tooltip that
    already counts down; once a file is deleted the agent saves the incident by itself, with the time of
    the click, and says so."""
    _, env = start_agent(dict(desktop_env, XDG_DATA_HOME=str(small_disk.path)))
    small_disk.fill()
    clicked = datetime.now().astimezone()
    assert harness.sni_menu(env, "click", QUESTION).returncode == 0
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


# --- issue 19: one guide per incident, the agent following it live, a report that says what was verified ---


@pytest.fixture
def netns():
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root (CI runs as root)")
    from support.netns import Namespace
    from vigie.platform import linux

    host_before = linux.read_network()
    ns = Namespace("e")
    try:
        yield ns
    finally:
        ns.remove()
        assert linux.read_network() == host_before  # the machine's own network is as it was


def menu_labels(env) -> list[str]:
    return [label for label in harness.sni_menu(env, "labels").stdout.splitlines() if label]


def report_of(env) -> tuple[Path, str]:
    """`vigie incident report`, and the text of its PDF."""
    made = harness.run_vigie(env, "incident", "report")
    assert made.returncode == 0, made.stderr
    path = Path(made.stdout.splitlines()[0].split("\u00a0: ", 1)[1])
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True,
                          timeout=60).stdout
    return path, " ".join(text.replace("\u00a0", " ").split())


def step_one(text: str) -> str:
    """What the report says of step 1, in « Ce qui a été fait, étape par étape »."""
    start = text.index("1. Coupez le réseau, sans éteindre l’ordinateur")
    return text[start:text.index("2. Laissez-le allumé", start)]


def test_one_guide_per_incident_followed_live_by_the_agent_and_an_honest_report(
        desktop_env, apt_config, services, netns, tmp_path):
    """Issue 19, « done when », as a user would. The agent and `vigie incident` run inside a network namespace
    (the guide may cut the network there, never the machine's own). `vigie incident` from a terminal: the tray
    tooltip counts down within 2 s and the menu says « Reprendre le guide »; that item, used while the guide is
    open, brings the same window forward (one window); « Suivant » on step 1 without cutting, kill -9 on step 2,
    « Reprendre le guide » from the tray resumes at step 2; the report then says step 1 is « non vérifié »;
    back to step 1, « Couper le réseau »: the report says « vérifiée » with the time; the status window shows the
    incident on top; `vigie incident close` in the terminal closes the guide and the agent's countdown."""
    import signal
    import time

    from PIL import Image

    import test_incident_guide as guide_test
    from vigie.model import Severity
    from vigie.platform import linux
    from vigie.ui.colours import COLOURS

    policy = harness.policy_file('[practice]\nname = "Cabinet des Tilleuls"\npractitioner = "Dr Claire Martin"\n'
                                 'rpps = "10101234567"\naddress = "12 rue des Lilas, 33000 Bordeaux"\n')
    env = dict(desktop_env, TZ="Europe/Paris", VIGIE_POLICY=str(policy), APT_CONFIG=apt_config,
               PYSTRAY_BACKEND="appindicator")
    services.start([*netns.prefix, sys.executable, "-m", "vigie"], env)
    harness.wait_for(lambda: "tray visible backend=appindicator" in harness.vigie_log(env), timeout=30,
                     what="the agent's icon")
    harness.wait_for(lambda: QUESTION in menu_labels(env), what="the question in the menu")
    assert RESUME not in menu_labels(env)

    incidents = Path(env["XDG_DATA_HOME"]) / "Vigie" / "incidents"
    with (tmp_path / "terminal.txt").open("w") as out:
        terminal = services.start([*netns.prefix, *harness.vigie_argv(), "incident"], env, stdout=out, stderr=out)
    harness.wait_for(lambda: list(incidents.glob("*/incident.json")), what="the incident saved")
    saved = time.monotonic()
    harness.wait_for(lambda: COUNTDOWN in tooltip(env), timeout=10, what="the countdown in the tooltip")
    latency = time.monotonic() - saved
    assert latency < 2.0, f"the tooltip followed `vigie incident` after {latency:.1f} s"
    (wid,) = harness.wait_for(lambda: harness.window_ids(env, "vigie-incident"), what="the terminal's guide")
    harness.wait_for(lambda: RESUME in menu_labels(env) and QUESTION not in menu_labels(env),
                     what="« Reprendre le guide » in the menu")
    harness.screenshot(env, Path("/tmp/incident-e2e-terminal-guide.png"))

    harness.show_ransom_screen(services, env)  # something in front of the guide
    (other,) = harness.xdo(env, "search", "--onlyvisible", "--name", "vigie-test-ransom").split()
    subprocess.run(["xdotool", "windowraise", other], env=env, check=True, timeout=10)
    harness.wait_for(lambda: (o := harness.stacking(env)).index(int(other)) > o.index(wid), what="covered")
    assert harness.sni_menu(env, "click", RESUME).returncode == 0
    harness.wait_for(lambda: (o := harness.stacking(env)).index(wid) > o.index(int(other)), what="raised")
    harness.wait_for(lambda: "already open" in harness.vigie_log(env), what="the tray's guide giving way")
    assert harness.window_ids(env, "vigie-incident") == {wid}  # one window

    store = guide_test.store_of(env)
    layout = guide_test.inspect(env, tmp_path, ["cut_network", "keep_on"], prefix=netns.prefix)
    guide = guide_test.Guide(terminal, tmp_path / "terminal.txt")
    guide.wid = wid
    guide_test.click(env, guide, layout["cut_network"]["next"])  # read, not done
    harness.wait_for(lambda: store.find_open().step == "keep_on", what="step 2")
    harness.wait_for(lambda: guide_test.unmapped(env, wid) <= 1, what="step 2 shown")
    terminal.send_signal(signal.SIGKILL)  # mid-step
    assert terminal.wait(10) == -signal.SIGKILL
    harness.wait_for(lambda: not harness.window_ids(env, "vigie-incident"), what="the guide gone")
    assert COUNTDOWN in tooltip(env) and RESUME in menu_labels(env)  # the incident is still open

    assert harness.sni_menu(env, "click", RESUME).returncode == 0
    (wid2,) = harness.wait_for(lambda: harness.window_ids(env, "vigie-incident"), what="the guide from the tray")
    harness.wait_for(lambda: guide_test.unmapped(env, wid2) <= 1, what="step 2 shown again")
    assert store.find_open().step == "keep_on"
    guide.wid = wid2
    guide_test.screenshot(env, "e2e-resumed", wid2)

    _, text = report_of(env)
    said = step_one(text)
    assert "Non vérifié" in said and "vérifiée" not in said, said
    assert "Étape 1 lue (« Suivant » appuyé)" in text and "Étape 1 faite" not in text

    guide_test.click(env, guide, layout["keep_on"]["back"])
    harness.wait_for(lambda: store.find_open().step == "cut_network", what="back on step 1")
    harness.wait_for(lambda: guide_test.unmapped(env, wid2) <= 1, what="step 1 shown")
    again = guide_test.inspect(env, tmp_path, ["cut_network"], prefix=netns.prefix)["cut_network"]
    assert again["band"][2]  # step 1 was passed: the countdowns show now, and move the buttons down
    guide_test.click(env, guide, again["buttons"]["cut"])
    mark = harness.wait_for(lambda: (m := store.find_open().step_mark("cut_network")) and m.how == "verified" and m,
                            timeout=30, what="step 1 verified")
    assert linux.read_network(netns.prefix).cut
    guide_test.screenshot(env, "e2e-cut", wid2)
    pdf, text = report_of(env)
    when = mark.at.astimezone(guide_test.ZoneInfo("Europe/Paris"))
    said = step_one(text)
    assert f"Faite et vérifiée : Vigie a constaté que le réseau était coupé, à {when:%H:%M} le {when:%d/%m/%Y}." \
        in said, said
    assert "Non vérifié" not in said
    for old in Path("/tmp").glob("incident-e2e-report-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(pdf), "/tmp/incident-e2e-report"], check=True, timeout=120)

    assert harness.sni_menu(env, "click", "État de la sécurité…").returncode == 0
    (status,) = harness.wait_for(lambda: harness.windows_of_class(env, "vigie-status"), what="the status window")
    red = COLOURS[Severity.CRITICAL]
    shot = harness.screenshot(env, Path("/tmp/incident-e2e-status.png"))
    window = Image.open(shot).convert("RGB").crop((status["X"], status["Y"], status["X"] + status["WIDTH"],
                                                   status["Y"] + 200))
    assert harness.count_near(window, red, 10) > 300  # the incident's red card on top

    closed = harness.run_vigie(env, "incident", "close")
    assert closed.returncode == 0, closed.stderr
    harness.wait_for(lambda: COUNTDOWN not in tooltip(env), timeout=5, what="the countdown gone")
    harness.wait_for(lambda: QUESTION in menu_labels(env) and RESUME not in menu_labels(env), what="the menu back")
    harness.wait_for(lambda: not harness.window_ids(env, "vigie-incident"), what="the guide closed with it")
