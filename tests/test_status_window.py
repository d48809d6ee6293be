"""The « État de la sécurité » window: a real child process on a real Xvfb, read through pixels and X.

Widget-level checks (texts, wrapping) build the window in this process on the same Xvfb.
Screenshots are kept in /tmp/status-window-*.png.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tkinter as tk
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from tkinter import ttk

import msgspec
import pytest
from PIL import Image

import harness
from vigie.i18n import render, translator
from vigie.model import Severity, Text
from vigie.ui import icons, status_window
from vigie.ui.status_window import (
    COLOURS,
    FAULT_TEXTS,
    MAX_SNAPSHOT_BYTES,
    MAX_TEXT,
    NO_DISPLAY,
    PAD,
    Fault,
    Report,
    StatusWindow,
    headline,
    last_check_line,
    load_snapshot,
    safe_text,
    stat_key,
)

CODE = "from vigie.ui.status_window import main; raise SystemExit(main())"
ORANGE, GREEN, RED = COLOURS[Severity.WARNING], COLOURS[Severity.OK], COLOURS[Severity.CRITICAL]
BLUE = COLOURS[Severity.INFO]
SHOWN = 1000  # pixels of a state colour with its badge, stripe and header dot (1,381 measured for one OK card)
ABSENT = 20
NBSP = "\u00a0"
FR, EN = translator("fr"), translator("en")


# --- fixtures and helpers ---


@pytest.fixture(scope="module")
def warning_report(tmp_path_factory: pytest.TempPathFactory, apt_config: str) -> dict:
    """A real `vigie check --json` on the private apt world: os_updates is a WARNING."""
    env = harness.isolated_env(tmp_path_factory.mktemp("check"))
    result = harness.run_vigie(dict(env, APT_CONFIG=apt_config), "check", "--json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert [c["severity"] for c in report["checks"] if c["id"] == "os_updates"] == ["warning"]
    return report


def ok_report(report: dict) -> dict:
    checks = [dict(c, severity="ok", severity_level=0, title="Le système est à jour.", detail="", fix="")
              for c in report["checks"]]
    return dict(report, exit_code=0, checks=checks)


def write_snapshot(path: Path, content: dict | str) -> None:
    """Like the agent: a new file moved over the old one."""
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def open_window(services: harness.Services, env: dict[str, str], snapshot: Path,
                stderr: Path) -> tuple[subprocess.Popen, int]:
    before = harness.window_ids(env, "vigie-status")
    with stderr.open("w") as sink:
        proc = services.start([sys.executable, "-c", CODE, "--snapshot", str(snapshot)], env, stderr=sink)
    new = harness.wait_for(lambda: harness.window_ids(env, "vigie-status") - before, what="status window mapped")
    (wid,) = new
    return proc, wid


def screenshot(env: dict[str, str], name: str) -> Image.Image:
    shot = Path(f"/tmp/status-window-{name}.{os.getpid()}.png")  # whole, even if two runs share /tmp
    subprocess.run(["import", "-window", "root", str(shot)], env=env, check=True, capture_output=True, timeout=20)
    image = Image.open(shot).convert("RGB")
    os.replace(shot, f"/tmp/status-window-{name}.png")
    return image


def wait_for_colours(env: dict[str, str], name: str, shown: tuple[int, int, int],
                     absent: tuple[tuple[int, int, int], ...] = (), timeout: float = 10) -> None:
    def drawn() -> bool:
        image = screenshot(env, name)
        return harness.count_near(image, shown) >= SHOWN and all(harness.count_near(image, c) <= ABSENT for c in absent)

    harness.wait_for(drawn, timeout=timeout, what=f"{shown} drawn, {absent} gone ({name})")


def stays_alive(proc: subprocess.Popen, seconds: float = 2) -> bool:
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(seconds)
    return proc.poll() is None


def net_wm_name(env: dict[str, str], wid: int) -> str:
    from Xlib import display

    d = display.Display(env["DISPLAY"])
    try:
        prop = d.create_resource_object("window", wid).get_full_property(
            d.intern_atom("_NET_WM_NAME"), d.intern_atom("UTF8_STRING"))
        return prop.value.decode()
    finally:
        d.close()


# --- the window as a child process ---

def test_warning_report_shows_an_orange_badge(gui_env, services, tmp_path, warning_report):
    snapshot = tmp_path / "status.json"
    write_snapshot(snapshot, warning_report)
    proc, wid = open_window(services, gui_env, snapshot, tmp_path / "stderr.txt")
    in_report = {COLOURS[Severity[c["severity"].upper()]] for c in warning_report["checks"]}
    wait_for_colours(gui_env, "warning", ORANGE, absent=tuple({RED, GREEN} - in_report))
    assert net_wm_name(gui_env, wid) == "Vigie — État de la sécurité"
    assert proc.poll() is None


def info_report(report: dict) -> dict:
    """All fine but one check that only informs (one copy of the backups)."""
    ok = ok_report(report)
    info = dict(severity="info", severity_level=1, title="Sauvegarde récente, mais en un seul exemplaire.",
                fix="Gardez deux copies de vos sauvegardes, dont une hors du cabinet.")
    return dict(ok, checks=[dict(c, **info) if c["id"] == "backup_age" else c for c in ok["checks"]])


def test_an_info_card_is_blue_never_a_green_ok(gui_env, services, tmp_path, warning_report):
    snapshot = tmp_path / "status.json"
    write_snapshot(snapshot, info_report(warning_report))
    proc, _wid = open_window(services, gui_env, snapshot, tmp_path / "stderr.txt")
    wait_for_colours(gui_env, "info", BLUE, absent=(ORANGE, RED))  # /tmp/status-window-info.png
    assert proc.poll() is None


def test_live_update_turns_the_badge_green(gui_env, services, tmp_path, warning_report):
    snapshot = tmp_path / "status.json"
    write_snapshot(snapshot, warning_report)
    proc, _wid = open_window(services, gui_env, snapshot, tmp_path / "stderr.txt")
    wait_for_colours(gui_env, "before-update", ORANGE)
    write_snapshot(snapshot, ok_report(warning_report))
    wait_for_colours(gui_env, "after-update", GREEN, absent=(ORANGE,), timeout=5)
    assert proc.poll() is None


def test_missing_snapshot_waits_then_shows_the_first_check(gui_env, services, tmp_path, warning_report):
    snapshot = tmp_path / "not-yet" / "status.json"
    proc, _wid = open_window(services, gui_env, snapshot, tmp_path / "stderr.txt")
    assert stays_alive(proc)
    image = screenshot(gui_env, "missing")
    assert all(harness.count_near(image, c) <= ABSENT for c in (ORANGE, GREEN, RED))  # no state is claimed
    snapshot.parent.mkdir()
    write_snapshot(snapshot, warning_report)
    wait_for_colours(gui_env, "first-check", ORANGE, timeout=5)


@pytest.mark.parametrize("content", [
    '{"schema": "vigie-check/1", "checks": [',  # cut in the middle
    '{"schema": "vigie-check/2", "generated_at": "x", "config": {"problems": []}, "checks": []}',
    '{"schema": "vigie-check/1", "generated_at": "x", "config": {"problems": []}, "checks": [{"id": 3}]}',
    "\x00\xff binary",
], ids=["truncated", "other-schema", "bad-check", "binary"])
def test_corrupt_snapshot_is_reported_without_a_traceback(gui_env, services, tmp_path, content):
    snapshot = tmp_path / "status.json"
    write_snapshot(snapshot, content)
    proc, _wid = open_window(services, gui_env, snapshot, tmp_path / "stderr.txt")
    assert stays_alive(proc)
    image = screenshot(gui_env, "corrupt")
    assert all(harness.count_near(image, c) <= ABSENT for c in (ORANGE, GREEN, RED))
    harness.stop(proc)
    assert "Traceback" not in (tmp_path / "stderr.txt").read_text()
    assert "status snapshot unreadable" in harness.vigie_log(gui_env)


def odd_report(report: dict) -> dict:
    check = report["checks"][0]
    odd = [
        dict(check, id="quotes", severity="critical", severity_level=3,
             label='« guillemets » "doubles" \'simples\' {accolades} [crochets] $x \\ fin\nseconde ligne',
             title="עברית مرحبا — de droite à gauche", detail="Émoji 😀🔒 hors BMP, ☺ ✓ dedans", fix="x" * 300),
        dict(check, id="long", label="L" * 300, title="Mot" + "trèslong" * 60, detail="\t tab \x00 nul \x07", fix=""),
    ]
    problems = [{"code": "section_invalid", "section": "x", "message": "Réglage illisible 🎉\n" + "é" * 300}]
    return dict(report, checks=odd, config={"read_only": False, "problems": problems})


def test_odd_labels_render_without_crashing(gui_env, services, tmp_path, warning_report):
    snapshot = tmp_path / "status.json"
    write_snapshot(snapshot, odd_report(warning_report))
    proc, _wid = open_window(services, gui_env, snapshot, tmp_path / "stderr.txt")
    wait_for_colours(gui_env, "odd-labels", RED)  # the report itself is drawn, not an error message
    assert stays_alive(proc)
    harness.stop(proc)
    assert "Traceback" not in (tmp_path / "stderr.txt").read_text()
    errors = [line for line in harness.vigie_log(gui_env).splitlines() if " ERROR " in line]
    assert errors == []  # no rendering error, no callback error


def test_escape_closes_the_window(gui_env, services, tmp_path, warning_report):
    snapshot = tmp_path / "status.json"
    write_snapshot(snapshot, warning_report)
    proc, wid = open_window(services, gui_env, snapshot, tmp_path / "stderr.txt")
    # Tk takes the focus just after the window maps, and ignores keys sent to an unfocused window.
    harness.wait_for(lambda: harness.focused_window(gui_env) == wid, timeout=5, what="status window focused")
    subprocess.run(["xdotool", "key", "--window", str(wid), "Escape"], env=gui_env, check=True, timeout=10)
    assert proc.wait(5) == 0


def test_close_button_closes_the_window(gui_env, services, tmp_path, warning_report):
    snapshot = tmp_path / "status.json"
    write_snapshot(snapshot, warning_report)
    proc, wid = open_window(services, gui_env, snapshot, tmp_path / "stderr.txt")
    wait_for_colours(gui_env, "close-button", ORANGE)  # drawn: the layout has settled
    out = subprocess.run(["xdotool", "getwindowgeometry", "--shell", str(wid)], env=gui_env, capture_output=True,
                         text=True, check=True, timeout=10).stdout
    size = dict(line.split("=") for line in out.split())
    # « Fermer » sits in the bottom-right corner, PAD px from both edges.
    x, y = int(size["WIDTH"]) - PAD - 20, int(size["HEIGHT"]) - PAD - 10
    subprocess.run(["xdotool", "mousemove", "--window", str(wid), str(x), str(y), "click", "1"], env=gui_env,
                   check=True, timeout=10)
    assert proc.wait(5) == 0


def test_sigusr1_brings_the_window_to_the_front(gui_env, services, tmp_path, warning_report):
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    write_snapshot(first, ok_report(warning_report))
    write_snapshot(second, warning_report)
    proc, wid = open_window(services, gui_env, first, tmp_path / "stderr-1.txt")
    _other, other_wid = open_window(services, gui_env, second, tmp_path / "stderr-2.txt")
    order = harness.stacking(gui_env)
    assert order.index(other_wid) > order.index(wid)  # the second window covers the first
    os.kill(proc.pid, signal.SIGUSR1)
    harness.wait_for(lambda: (o := harness.stacking(gui_env)).index(wid) > o.index(other_wid), timeout=5,
                     what="first window raised")
    wait_for_colours(gui_env, "raised", GREEN)
    assert stays_alive(proc, 0.5)


def test_sigterm_closes_the_window_quietly(gui_env, services, tmp_path, warning_report):
    snapshot = tmp_path / "status.json"
    write_snapshot(snapshot, warning_report)
    proc, wid = open_window(services, gui_env, snapshot, tmp_path / "stderr.txt")
    proc.send_signal(signal.SIGTERM)  # what the agent does on Quit
    assert proc.wait(5) == 0
    assert wid not in harness.window_ids(gui_env, "vigie-status")
    assert "Traceback" not in (tmp_path / "stderr.txt").read_text()


def test_without_a_display_it_says_so_in_french(home_env):
    result = subprocess.run([sys.executable, "-c", CODE, "--snapshot", "/nonexistent"], env=home_env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr == render(NO_DISPLAY, FR) + "\n"
    assert "status window: Tk cannot start" in harness.vigie_log(home_env)


def test_module_does_not_import_the_tray_toolkit(home_env):
    code = "import sys, vigie.ui.status_window; print(sorted(m for m in sys.modules if 'pystray' in m))"
    out = subprocess.run([sys.executable, "-c", code], env=home_env, capture_output=True, text=True, check=True,
                         timeout=30).stdout
    assert out.strip() == "[]"


# --- the widgets, built in this process on the same Xvfb ---

@pytest.fixture
def tk_root(inprocess_display: str) -> Iterator[tk.Tk]:
    root = tk.Tk(screenName=inprocess_display, className="vigie-inprocess")
    yield root
    with contextlib.suppress(tk.TclError):
        root.destroy()


def build(root: tk.Tk, tmp_path: Path, report: dict, language: str = "fr") -> StatusWindow:
    snapshot = tmp_path / "status.json"
    write_snapshot(snapshot, report)
    window = StatusWindow(root, snapshot, translator(language))
    harness.wait_for(lambda: root.update() or root.winfo_ismapped(), what="window mapped")
    root.update()
    return window


def labels(widget: tk.Misc) -> Iterator[tk.Misc]:
    for child in widget.winfo_children():
        if isinstance(child, (tk.Label, ttk.Label, ttk.Button)) and child.winfo_ismapped():
            yield child
        yield from labels(child)


def texts(root: tk.Tk) -> list[str]:
    return [str(label.cget("text")) for label in labels(root)]


def assert_nothing_cut(root: tk.Tk) -> None:
    right = root.winfo_rootx() + root.winfo_width()
    for label in labels(root):
        assert label.winfo_width() >= label.winfo_reqwidth(), label.cget("text")
        assert label.winfo_rootx() + label.winfo_width() <= right, label.cget("text")


def test_texts_are_shown_as_the_agent_wrote_them(tk_root, tmp_path, warning_report):
    build(tk_root, tmp_path, warning_report)
    shown = texts(tk_root)
    when = datetime.fromisoformat(warning_report["generated_at"])
    to_check = sum(c["severity"] in ("warning", "critical") for c in warning_report["checks"])
    assert ("1 point à vérifier" if to_check == 1 else f"{to_check} points à vérifier") in shown
    assert f"Dernière vérification{NBSP}: {when:%d/%m/%Y} à {when:%H:%M}" in shown
    for check in warning_report["checks"]:
        assert {text for text in (check["label"], check["title"], check["detail"], check["fix"]) if text} <= set(shown)
    assert shown.count(f"À faire{NBSP}:") == sum(bool(c["fix"]) for c in warning_report["checks"])
    assert "Attention" in shown and "Fermer" in shown
    problems = [p["message"] for p in warning_report["config"]["problems"]]
    assert ("\n".join(problems) in shown) == bool(problems)
    assert tk_root.title() == "Vigie — État de la sécurité"
    assert_nothing_cut(tk_root)
    assert 600 <= tk_root.winfo_width() <= 680


def test_english_words_come_from_the_module(tk_root, tmp_path, warning_report):
    build(tk_root, tmp_path, warning_report, "en")
    shown = texts(tk_root)
    assert {"2 items to check", "Warning", "What to do:", "Close"} <= set(shown)  # updates, no backup
    assert warning_report["checks"][0]["title"] in shown  # the agent's text is not translated again


def test_info_has_its_own_badge(tk_root, tmp_path, warning_report):
    report = info_report(warning_report)
    build(tk_root, tmp_path, report)
    shown = texts(tk_root)
    assert shown.count("Info") == 1
    assert shown.count("OK") == len(report["checks"]) - 1  # the others only
    assert f"Rien à corriger{NBSP}; à savoir ci-dessous" in shown and "Tout va bien" not in shown


def test_odd_labels_are_shown_safely_and_whole(tk_root, tmp_path, warning_report):
    build(tk_root, tmp_path, odd_report(warning_report))
    shown = texts(tk_root)
    assert all(ord(ch) <= 0xFFFF for text in shown for ch in text)
    assert "Émoji \ufffd\ufffd hors BMP, ☺ ✓ dedans" in shown
    assert "L" * 300 in shown and "x" * 300 in shown
    assert_nothing_cut(tk_root)


def test_live_refresh_rebuilds_the_cards(tk_root, tmp_path, warning_report):
    window = build(tk_root, tmp_path, warning_report)
    write_snapshot(window.snapshot, ok_report(warning_report))
    window.refresh()
    tk_root.update()
    shown = texts(tk_root)
    assert "Tout va bien" in shown and "Attention" not in shown
    assert f"À faire{NBSP}:" not in shown  # empty fix: no « À faire » line
    window.snapshot.unlink()
    window.refresh()
    tk_root.update()
    assert "Vigie n’a pas encore terminé sa première vérification." in texts(tk_root)
    fits = dict(warning_report, checks=warning_report["checks"][:1])
    write_snapshot(window.snapshot, fits)  # from the small notice back to a report that fits
    window.refresh()
    tk_root.update()
    assert not window.scrollbar.winfo_ismapped()
    assert_nothing_cut(tk_root)


def test_many_checks_scroll_within_the_screen(tk_root, tmp_path, warning_report):
    many = dict(warning_report, checks=[dict(warning_report["checks"][0], id=f"c{i}") for i in range(12)])
    window = build(tk_root, tmp_path, many)
    assert window.scrollbar.winfo_ismapped()
    assert tk_root.winfo_height() <= tk_root.winfo_screenheight()
    assert window.close_button.winfo_ismapped()


# --- pure parts ---

def test_state_colours_are_the_tray_icon_colours():
    assert COLOURS == icons.COLOURS


def module_texts() -> list[Text]:
    """Every Text of the module: its constants, alone, in a dict or in a dict of tuples."""
    found = []
    for value in vars(status_window).values():
        for item in value.values() if isinstance(value, dict) else [value]:
            found.extend(v for v in (item if isinstance(item, tuple) else [item]) if isinstance(v, Text))
    return found


def test_every_text_has_french_with_french_typography():
    texts = module_texts()
    assert len(texts) >= 17
    for text in texts:
        assert text.msgid in FR._catalog, text.msgid
        french = render(text, FR)  # a no-break space before : ; ! ? » and after «
        assert not any(f" {mark}" in french for mark in ":;!?»") and "« " not in french, french
    assert render(FAULT_TEXTS[Fault.MISSING][1], FR) == "Vigie n’a pas encore terminé sa première vérification."
    assert render(FAULT_TEXTS[Fault.UNREADABLE][1], FR) == "L’état de la sécurité ne peut pas être lu pour le moment."


def report_of(*severities: str) -> Report:
    checks = [{"id": f"c{i}", "label": "l", "severity": s, "severity_level": 0, "title": "t", "detail": "",
               "fix": "", "facts": {}} for i, s in enumerate(severities)]
    doc = {"schema": "vigie-check/1", "generated_at": "2026-11-22T23:06:41+01:00", "config": {"problems": []},
           "checks": checks}
    return msgspec.convert(doc, type=Report)


@pytest.mark.parametrize(("severities", "expected"), [
    (("ok",), ("Tout va bien", Severity.OK)),
    (("ok", "info"), (f"Rien à corriger{NBSP}; à savoir ci-dessous", Severity.INFO)),
    (("ok", "warning", "unknown"), ("1 point à vérifier", Severity.WARNING)),
    (("warning", "critical", "ok"), ("2 points à vérifier", Severity.CRITICAL)),
    (("ok", "unknown"), ("Vigie n’a pas pu tout vérifier", Severity.UNKNOWN)),
    ((), ("Aucune vérification n’est activée", Severity.UNKNOWN)),
])
def test_headline_in_plain_words(severities, expected):
    assert headline(report_of(*severities), FR) == expected


def test_last_check_is_the_agents_wall_clock():
    assert last_check_line("2026-11-22T23:06:41+01:00", FR) == \
        f"Dernière vérification{NBSP}: 22/11/2026 à 23:06"
    assert last_check_line("2026-11-22T23:06:41-05:00", EN) == "Last check: 2026-11-22 at 23:06"
    assert last_check_line("hier soir", FR) == ""


def test_load_snapshot_faults(tmp_path):
    path = tmp_path / "status.json"
    assert load_snapshot(path) is Fault.MISSING
    path.write_text("{")
    assert load_snapshot(path) is Fault.UNREADABLE
    path.write_bytes(b" " * (MAX_SNAPSHOT_BYTES + 1))
    assert load_snapshot(path) is Fault.UNREADABLE
    doc = {"schema": "vigie-check/1", "generated_at": "", "config": {"problems": [], "later": 1}, "checks": [],
           "added_in_a_later_version": True}
    path.write_text(json.dumps(doc))
    assert isinstance(load_snapshot(path), Report)  # fields added within vigie-check/1 are ignored


def test_replacing_the_snapshot_changes_its_key_even_with_the_same_mtime(tmp_path):
    path = tmp_path / "status.json"
    path.write_text("{}")
    before = stat_key(path)
    write_snapshot(path, "{}")
    os.utime(path, ns=(before[0], before[0]))
    assert stat_key(path) != before
    assert stat_key(tmp_path / "missing.json") is None


def test_safe_text():
    assert safe_text("a😀b\ud83dc") == "a\ufffdb\ufffdc"
    assert safe_text("un\tdeux\x00trois\nquatre") == "un deux trois\nquatre"
    assert safe_text("é" * 300) == "é" * 300
    long = safe_text("x" * (MAX_TEXT + 50))
    assert len(long) == MAX_TEXT and long.endswith("…")
