"""Issue 18, point 5: every window in the Sun Valley theme, light or dark as the desktop says, whole on a
1366×768 screen, and its text scaled at 200 % (Xft.dpi 192) with nothing cut.

Each window runs its own `main`, in a process of its own, on a real Xvfb, with the real gsettings reading
the desktop's colour scheme; Tk's main loop is replaced by a probe that writes what is on the screen."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import harness

SCREEN = "1366x768x24"
SNAPSHOT = {"schema": "vigie-check/1", "generated_at": "2026-12-02T21:00:00+01:00", "config": {"problems": []},
            "checks": [{"id": f"check{n}", "label": f"Point {n}", "severity": severity,
                        "title": "Un titre assez long pour passer à la ligne dans une fenêtre étroite " * 2,
                        "detail": "Le détail de ce point, en une phrase.", "fix": "Ce qu'il faut faire."}
                       for n, severity in enumerate(("critical", "warning", "unknown", "info", "ok") * 2)]}
VOLUME = {"label": "CLE_JEAN", "size_bytes": 16_000_000_000, "fs_type": "vfat", "mount_point": "/media/jean/CLE",
          "device": "/dev/sdb1", "uuid": "1234-ABCD", "can_scan": True}
WINDOWS = {  # name: (module, needs)
    "status": ("vigie.ui.status_window", "snapshot"),
    "usb": ("vigie.features.usb.window", "volume"),
    "incident": ("vigie.features.incident.window", None),
    "first-run": ("vigie.features.first_run.window", None),
    "settings": ("vigie.features.settings.window", None),
    "quit-code": ("vigie.ui.quit_code", None),
}

PROBE = r"""
import json, sys, time, tkinter as tk
from tkinter import font as tkfont, ttk

out, module, args = sys.argv[1], sys.argv[2], sys.argv[3:]


def walk(widget):
    for child in widget.winfo_children():
        yield child
        yield from walk(child)


def scrolled(widget):
    while widget is not None:
        if isinstance(widget, tk.Canvas):
            return True
        widget = widget.master
    return False


def probe(root, n=0):
    pages = getattr(built[0], "pages", None) if built else None  # the first-run assistant: each page
    if pages:
        facts = []
        for index in range(len(pages)):
            built[0].show(index)
            facts.append(look(root))
        json.dump(facts, open(out, "w", encoding="utf-8"))
    else:
        json.dump([look(root)], open(out, "w", encoding="utf-8"))


def look(root):
    deadline = time.monotonic() + 10
    while not root.winfo_viewable() and time.monotonic() < deadline:
        root.update()
        time.sleep(0.02)
    for _ in range(5):
        root.update()
        time.sleep(0.05)
    x, y, w, h = root.winfo_rootx(), root.winfo_rooty(), root.winfo_width(), root.winfo_height()
    outside, cut = [], []
    for widget in walk(root):
        if isinstance(widget, tk.Toplevel):
            continue
        if not widget.winfo_ismapped():
            if widget.winfo_manager() and widget.master.winfo_ismapped():  # placed, but no room left for it
                outside.append(f"{widget.winfo_class()} hidden for want of room")
            continue
        wx, wy, ww, wh = widget.winfo_rootx(), widget.winfo_rooty(), widget.winfo_width(), widget.winfo_height()
        across = wx < x or wx + ww > x + w
        down = not scrolled(widget) and (wy < y or wy + wh > y + h)  # a scrolled list goes on below
        if across or down:
            outside.append(f"{widget.winfo_class()} {wx - x},{wy - y} {ww}x{wh}")
        if isinstance(widget, (ttk.Label, ttk.Button, tk.Label, tk.Button)) and str(widget.cget("text")).strip():
            if ww < widget.winfo_reqwidth() - 1 or wh < widget.winfo_reqheight() - 1:
                cut.append(str(widget.cget("text"))[:60])
    facts = {
        "theme": ttk.Style(root).theme_use(),
        "themes": list(ttk.Style(root).theme_names()),
        "tcl_commands": [c for c in root.tk.splitlist(root.tk.call("info", "commands")) if "source" in c],
        "screen": [root.winfo_screenwidth(), root.winfo_screenheight()],
        "geometry": [x, y, w, h],
        "outside": outside, "cut": cut,
        "fonts": {name: [tkfont.nametofont(name, root).actual("size"),
                         tkfont.nametofont(name, root).metrics("linespace")]
                  for name in ("TkDefaultFont", "SunValleyBodyFont")},
    }
    return facts


built = []
window_module = __import__(module, fromlist=["main"])
run_window = window_module.run_window


def keep(label, class_name, no_display, build, *rest, **named):
    return run_window(label, class_name, no_display, lambda root: built.append(build(root)) or built[-1], *rest,
                      **named)


window_module.run_window = keep
tk.Misc.mainloop = probe
raise SystemExit(window_module.main(args))
"""


def window_args(name: str, work: Path, lang: str = "fr") -> list[str]:
    """The window's module and its arguments, with the files it shows (status: the snapshot; USB: the
    stick) written into `work`. Also used by tests/support/gallery.py."""
    module, needs = WINDOWS[name]
    args = [module, "--lang", lang]
    if needs == "snapshot":
        (work / "snapshot.json").write_text(json.dumps(SNAPSHOT), encoding="utf-8")
        args += ["--snapshot", str(work / "snapshot.json")]
    elif needs == "volume":
        (work / "volume.json").write_text(json.dumps(VOLUME), encoding="utf-8")
        args += ["--volume", str(work / "volume.json")]
    return args


def open_window(env: dict[str, str], tmp_path: Path, name: str) -> list[dict]:
    """What the window shows (for the first-run assistant: each of its pages in turn)."""
    out = tmp_path / f"{name}.json"
    result = subprocess.run([sys.executable, "-c", PROBE, str(out), *window_args(name, tmp_path)], env=env,
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert "Traceback" not in result.stderr, result.stderr
    assert out.exists(), result.stderr
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=[96, 192], ids=["100%", "200%"])
def screen(request, tmp_path_factory: pytest.TempPathFactory):
    running = harness.Services()
    try:
        env = harness.isolated_env(tmp_path_factory.mktemp("xvfb-look"))
        yield request.param, harness.start_xvfb(running, env, SCREEN, dpi=request.param)
    finally:
        running.close()


def whole_on_screen(facts: dict, page: int) -> None:
    x, y, width, height = facts["geometry"]
    screen_w, screen_h = facts["screen"]
    assert (screen_w, screen_h) == (1366, 768)
    assert x >= 0 and x + width <= screen_w and y >= 0 and y + height <= screen_h, facts["geometry"]
    assert (page, facts["outside"], facts["cut"]) == (page, [], [])


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("scheme, theme", [("prefer-light", "sun-valley-light"), ("prefer-dark", "sun-valley-dark"),
                                           ("default", "sun-valley-light")])
def test_window_is_themed_as_the_desktop_and_whole(screen, tmp_path, name, scheme, theme):
    dpi, display = screen
    env = harness.desktop_colour_scheme(dict(harness.isolated_env(tmp_path), DISPLAY=display), scheme)
    pages = open_window(env, tmp_path, name)
    assert len(pages) == (8 if name == "first-run" else 1)  # the assistant: each of its pages
    for page, facts in enumerate(pages):
        assert facts["theme"] == theme
        unused = "sun-valley-light" if theme == "sun-valley-dark" else "sun-valley-dark"
        assert unused not in facts["themes"], facts["themes"]  # the variant in use alone
        assert facts["tcl_commands"] == ["source"]  # Tcl's own, back in place
        whole_on_screen(facts, page)
        for font, (points, linespace) in facts["fonts"].items():  # the window's fonts and the theme's own
            em = points * dpi / 72  # px: twice as many at 200 %
            assert em <= linespace <= 1.5 * em, (font, points, linespace)


def test_without_gsettings_the_look_is_light(screen, tmp_path):
    """No way to read the desktop's scheme (no gsettings on PATH): light, the default, and still themed."""
    _dpi, display = screen
    env = dict(harness.isolated_env(tmp_path), DISPLAY=display, PATH=str(Path(sys.executable).parent))
    assert open_window(env, tmp_path, "usb")[0]["theme"] == "sun-valley-light"


def test_the_desktops_scale_alone_scales_the_text(tmp_path, services):
    """A desktop set to 200 % on a screen that says 96 DPI (GNOME, KDE and XFCE set Xft.dpi, not the X
    server's DPI): the text is twice as large all the same."""
    env = harness.isolated_env(tmp_path)
    env["DISPLAY"] = harness.start_xvfb(services, env, SCREEN, dpi=96)
    subprocess.run(["xrdb", "-merge"], input="Xft.dpi: 192\n", text=True, env=env, check=True, timeout=10)
    assert "192" in subprocess.run(["xrdb", "-query"], env=env, capture_output=True, text=True, timeout=10).stdout
    (facts,) = open_window(env, tmp_path, "usb")
    points, linespace = facts["fonts"]["TkDefaultFont"]
    assert points * 192 / 72 <= linespace <= 1.5 * points * 192 / 72
    whole_on_screen(facts, 0)
