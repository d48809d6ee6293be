"""The « Nouveau support USB » pop-up: a real child process on a real Xvfb, read through its stdout
protocol, pixels and X.

Buttons are pressed with the real pointer (xdotool). Where they are comes from a twin: the same window
built by `inspect()` from the same volume file on the same display, measured, then withdrawn before the
pop-up starts. The layout is the same code with the same fonts and texts, and every click first checks
that the pop-up has exactly the twin's size, so a place measured there is the place here. A click is
sent only once every X window of the pop-up (each Tk widget has one) is viewable: Tk maps the widgets
just after their toplevel, and a click in between would land on the bare frame.

Widget-level checks (texts, buttons, wrapping, focus order) also run in a separate process
(`inspect()`), never in pytest's: a Tk interpreter keeps its X connection until its process exits,
and once that X server is gone the next Tk event processing anywhere in the process ends it with an
XIO error (exit 1, no report). Other test modules stop their own Xvfb with their Tk connection open.
Screenshots (the pop-up and 20 px around it) are kept in /tmp/usb-popup-*.png.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

import harness
from vigie.features.usb import window as usb_popup
from vigie.features.usb.window import (
    BUTTONS,
    CHOICES,
    CLASS_NAME,
    MAX_LABEL,
    MAX_VOLUME_BYTES,
    MAX_WIDTH,
    NO_DISPLAY,
    OFFSET_STEP,
    ORANGE,
    RISK,
    UNREADABLE,
    VolumeInfo,
    clean_text,
    display_label,
    format_size,
    load_volume,
)
from vigie.i18n import render, translator
from vigie.model import Text

CODE = "from vigie.features.usb.window import main; raise SystemExit(main())"
NBSP = "\u00a0"
SHOWN = 2000  # orange pixels of the band and the warning sign (about 3,600 drawn)
FR, EN = translator("fr"), translator("en")
BUTTONS_FR = ["Éjecter", "Analyser", "Fermer", "Je connais ce support"]  # the safe one first

VOLUME = {"label": "CLE_JEAN", "size_bytes": 16_000_000_000, "fs_type": "vfat", "mount_point": "/media/jean/CLE_JEAN",
          "device": "/dev/sdb1", "uuid": "1234-ABCD", "can_scan": True}
ODD_LABELS = {  # id: (label as the device gives it, as the pop-up shows it)
    "quotes": ('Clé "Jean" l\'aînée {x} $HOME \\ « test »', 'Clé "Jean" l\'aînée {x} $HOME \\ « test »'),
    "newlines": ("ligne 1\nligne 2\r\n\tfin\x00", "ligne 1 ligne 2 fin"),
    "rtl": ("ملف عربي", "ملف عربي"),
    "emoji": ("Photos 🦠 vacances", "Photos \ufffd vacances"),
    "long": (("Trèslong" * 32)[:255], "Trèslong" * 7 + "Trèslon…"),
    "empty": ("", "Support sans nom"),
}


# --- fixtures and helpers ---


def write_volume(path: Path, **changes: object) -> Path:
    path.write_text(json.dumps(dict(VOLUME, **changes), ensure_ascii=False), encoding="utf-8")
    return path


class Popup(harness.WindowChild):
    def finish(self, timeout: float = 10) -> tuple[int, list[str]]:
        """Exit code and the lines printed since the last one read."""
        code = self.proc.wait(timeout)
        rest = []
        while (line := self._lines.get(timeout=timeout)) is not None:
            rest.append(line)
        return code, rest

    def traceback(self) -> bool:
        return "Traceback" in self.stderr.read_text()


def start_popup(services: harness.Services, env: dict[str, str], volume: Path, stderr: Path,
                *extra: str) -> Popup:
    with stderr.open("w") as sink:
        proc = services.start([sys.executable, "-c", CODE, "--volume", str(volume), "--lang", "fr", *extra], env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=sink, text=True)
    return Popup(proc, stderr)


def open_popup(services: harness.Services, env: dict[str, str], volume: Path, stderr: Path,
               *extra: str) -> Popup:
    """Started, "ready" printed, its window mapped with every widget in it."""
    before = harness.window_ids(env, CLASS_NAME)
    popup = start_popup(services, env, volume, stderr, *extra)
    assert popup.next_line() == "ready"
    (popup.wid,) = harness.wait_for(lambda: harness.window_ids(env, CLASS_NAME) - before, what="usb pop-up mapped")
    harness.wait_for(lambda: all_viewable(env, popup.wid), what="every widget of the pop-up mapped")
    return popup


def all_viewable(env: dict[str, str], wid: int) -> bool:
    from Xlib import X, display

    d = display.Display(env["DISPLAY"])
    try:
        pending = [d.create_resource_object("window", wid)]
        while pending:
            window = pending.pop()
            if window.get_attributes().map_state != X.IsViewable:
                return False
            pending.extend(window.query_tree().children)
        return True
    finally:
        d.close()


def geometry(env: dict[str, str], wid: int) -> dict[str, int]:
    out = harness.xdo(env, "getwindowgeometry", "--shell", str(wid))
    return {key: int(value) for key, value in (line.split("=") for line in out.split())}


def net_wm(env: dict[str, str], wid: int) -> tuple[str, list[str]]:
    """_NET_WM_NAME and the names of the _NET_WM_STATE atoms."""
    from Xlib import Xatom, display

    d = display.Display(env["DISPLAY"])
    try:
        window = d.create_resource_object("window", wid)
        name = window.get_full_property(d.intern_atom("_NET_WM_NAME"), d.intern_atom("UTF8_STRING"))
        state = window.get_full_property(d.intern_atom("_NET_WM_STATE"), Xatom.ATOM)
        return name.value.decode(), [d.get_atom_name(atom) for atom in (state.value if state else [])]
    finally:
        d.close()


def send_delete_window(env: dict[str, str], wid: int) -> None:
    """What a window manager sends when the user closes the window with its title bar."""
    from Xlib import X, display
    from Xlib.protocol import event

    d = display.Display(env["DISPLAY"])
    try:
        window = d.create_resource_object("window", wid)
        protocols, delete = d.intern_atom("WM_PROTOCOLS"), d.intern_atom("WM_DELETE_WINDOW")
        message = event.ClientMessage(window=window, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0]))
        window.send_event(message, event_mask=X.NoEventMask)
        d.sync()
    finally:
        d.close()


def screenshot(env: dict[str, str], name: str, wid: int | None = None) -> Image.Image:
    """The whole screen; the pop-up and 20 px around it saved as /tmp/usb-popup-NAME.png."""
    shot = Path(f"/tmp/usb-popup-{name}.{os.getpid()}.png")  # whole, even if two runs share /tmp
    subprocess.run(["import", "-window", "root", str(shot)], env=env, check=True, capture_output=True, timeout=20)
    image = Image.open(shot).convert("RGB")
    if wid is not None:
        g = geometry(env, wid)
        image.crop((g["X"] - 20, g["Y"] - 20, g["X"] + g["WIDTH"] + 20, g["Y"] + g["HEIGHT"] + 20)).save(shot)
    os.replace(shot, f"/tmp/usb-popup-{name}.png")
    return image


def wait_for_orange(env: dict[str, str], name: str, wid: int) -> None:
    harness.wait_for(lambda: harness.count_near(screenshot(env, name, wid), ORANGE) >= SHOWN, timeout=10,
                     what=f"orange band and sign drawn ({name})")


INSPECT = r"""
import json, sys, tkinter as tk
from pathlib import Path
from tkinter import ttk
from vigie.i18n import translator
from vigie.features.usb import window as usb_popup
from vigie.ui.look import apply_look

spec = json.loads(sys.argv[1])
usb_popup.FONT_SPECS.update({name: tuple(value) for name, value in spec["fonts"].items()})
root = tk.Tk(className="vigie-inspect")
apply_look(root)  # as run_window does
chosen = []
popup = usb_popup.UsbPopup(root, usb_popup.load_volume(Path(spec["volume"])), translator(spec["lang"]),
                           chosen.append)
popup.show(spec["offset"])
root.wait_visibility(root)
root.update()

def walk(widget):
    for child in widget.winfo_children():
        yield child
        yield from walk(child)

labels = [w for w in walk(root) if isinstance(w, (tk.Label, ttk.Label)) and w.winfo_ismapped()]
buttons = {str(button): choice for choice, button in popup.buttons.items()}
right = root.winfo_rootx() + root.winfo_width()
focus, widget = [], root
for _ in buttons:
    widget = widget.tk_focusNext()
    focus.append(buttons.get(str(widget), str(widget)))
facts = {
    "title": root.title(),
    "topmost": root.attributes("-topmost"),
    "size": [root.winfo_width(), root.winfo_height()],
    "texts": [str(label.cget("text")) for label in labels],
    "values": {key: str(label.cget("text")) for key, label in popup.values.items()},
    "buttons": {choice: {"text": str(b.cget("text")), "x": b.winfo_rootx() - root.winfo_rootx(),
                         "y": b.winfo_rooty() - root.winfo_rooty(), "width": b.winfo_width(),
                         "height": b.winfo_height(), "mapped": b.winfo_ismapped()}
                for choice, b in popup.buttons.items()},
    "cut": [str(w.cget("text")) for w in labels + list(popup.buttons.values())
            if w.winfo_width() < w.winfo_reqwidth() or w.winfo_rootx() + w.winfo_width() > right],
    "focus_order": focus,
    "default": [choice for choice, b in popup.buttons.items() if str(b.cget("default")) == "active"],
}
for action in spec["actions"]:
    if action == "delete":
        root.tk.call(root.protocol("WM_DELETE_WINDOW"))
    else:
        popup.buttons[action].invoke()
facts["chosen"] = chosen
root.withdraw()
root.update()
root.winfo_pointerxy()  # a round trip: the X server has unmapped the twin before the pop-up starts
print(json.dumps(facts))
"""


def inspect(env: dict[str, str], volume: Path, lang: str = "fr", offset: int = 0, fonts: dict | None = None,
            actions: tuple[str, ...] = ()) -> dict:
    """Build the pop-up's window in a process of its own, on this display: what it shows and where."""
    spec = {"volume": str(volume), "lang": lang, "offset": offset, "fonts": fonts or {}, "actions": list(actions)}
    result = subprocess.run([sys.executable, "-c", INSPECT, json.dumps(spec)], env=env, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


def twin_layout(env: dict[str, str], volume: Path) -> tuple[tuple[int, int], dict[str, tuple[int, int]]]:
    """Size of the pop-up and the centre of each button, measured on its twin."""
    facts = inspect(env, volume)
    centres = {choice: (b["x"] + b["width"] // 2, b["y"] + b["height"] // 2) for choice, b in facts["buttons"].items()}
    return tuple(facts["size"]), centres


def button_texts(facts: dict) -> list[str]:
    """Left to right, then top to bottom."""
    buttons = sorted(facts["buttons"].values(), key=lambda b: (b["y"], b["x"]))
    return [b["text"] for b in buttons if b["mapped"]]


def click(env: dict[str, str], popup: Popup, at: tuple[int, int]) -> None:
    subprocess.run(["xdotool", "mousemove", "--window", str(popup.wid), str(at[0]), str(at[1]), "click", "1"],
                   env=env, check=True, timeout=10)


# --- the pop-up as a child process ---

def test_popup_maps_in_orange_on_top_and_narrow(gui_env, services, tmp_path):
    popup = open_popup(services, gui_env, write_volume(tmp_path / "volume.json"), tmp_path / "stderr.txt")
    wait_for_orange(gui_env, "plain", popup.wid)
    g = geometry(gui_env, popup.wid)
    assert g["WIDTH"] <= MAX_WIDTH
    screen_w, screen_h = 1024, 768  # harness.start_xvfb
    assert abs(g["X"] + g["WIDTH"] / 2 - screen_w / 2) <= 2  # centred across
    assert screen_h * 0.3 <= g["Y"] + g["HEIGHT"] / 2 <= screen_h * 0.6  # a little above the middle
    name, state = net_wm(gui_env, popup.wid)
    assert name == "Vigie — Nouveau support USB"
    assert "_NET_WM_STATE_ABOVE" in state
    assert popup.proc.poll() is None


@pytest.mark.parametrize("choice", ["known", "eject", "scan", "close"])
def test_each_button_prints_its_choice_and_exits(gui_env, services, tmp_path, choice):
    volume = write_volume(tmp_path / "volume.json")
    size, centres = twin_layout(gui_env, volume)
    popup = open_popup(services, gui_env, volume, tmp_path / "stderr.txt")
    g = geometry(gui_env, popup.wid)
    assert (g["WIDTH"], g["HEIGHT"]) == size  # the twin's layout is the child's
    click(gui_env, popup, centres[choice])
    assert popup.finish() == (0, [f"choice {choice}"])
    assert not popup.traceback()
    assert f"usb popup: choice {choice}" in harness.vigie_log(gui_env)


def test_escape_closes(gui_env, services, tmp_path):
    popup = open_popup(services, gui_env, write_volume(tmp_path / "volume.json"), tmp_path / "stderr.txt")
    # Tk takes the focus just after the window maps, and ignores keys sent to an unfocused window.
    harness.wait_for(lambda: harness.focused_window(gui_env) == popup.wid, timeout=5, what="pop-up focused")
    subprocess.run(["xdotool", "key", "--window", str(popup.wid), "Escape"], env=gui_env, check=True, timeout=10)
    assert popup.finish() == (0, ["choice close"])


def test_keyboard_reaches_the_buttons_in_order(gui_env, services, tmp_path):
    """No button has the focus at first (typing elsewhere must not press one); Tab, space = « Éjecter »."""
    popup = open_popup(services, gui_env, write_volume(tmp_path / "volume.json"), tmp_path / "stderr.txt")
    harness.wait_for(lambda: harness.focused_window(gui_env) == popup.wid, timeout=5, what="pop-up focused")
    subprocess.run(["xdotool", "key", "--window", str(popup.wid), "space", "Return"], env=gui_env, check=True,
                   timeout=10)
    subprocess.run(["xdotool", "key", "--window", str(popup.wid), "Tab", "space"], env=gui_env, check=True,
                   timeout=10)
    assert popup.finish() == (0, ["choice eject"])  # the first two keys pressed nothing


def test_closing_from_the_window_manager_is_close(gui_env, services, tmp_path):
    popup = open_popup(services, gui_env, write_volume(tmp_path / "volume.json"), tmp_path / "stderr.txt")
    send_delete_window(gui_env, popup.wid)
    assert popup.finish() == (0, ["choice close"])


def test_sigterm_ends_it_quietly(gui_env, services, tmp_path):
    popup = open_popup(services, gui_env, write_volume(tmp_path / "volume.json"), tmp_path / "stderr.txt")
    popup.proc.terminate()
    assert popup.finish() == (0, [])
    assert not popup.traceback()
    harness.wait_for(lambda: not harness.window_ids(gui_env, CLASS_NAME), timeout=5, what="pop-up gone")


def test_sigterm_as_soon_as_it_is_ready(gui_env, services, tmp_path):
    """The volume may be pulled out while the pop-up is still starting."""
    popup = start_popup(services, gui_env, write_volume(tmp_path / "volume.json"), tmp_path / "stderr.txt")
    assert popup.next_line() == "ready"
    popup.proc.terminate()
    assert popup.finish() == (0, [])
    assert not popup.traceback()


def test_sigusr1_brings_it_to_the_front_and_prints_nothing(gui_env, services, tmp_path):
    first = open_popup(services, gui_env, write_volume(tmp_path / "a.json"), tmp_path / "stderr-a.txt")
    second = open_popup(services, gui_env, write_volume(tmp_path / "b.json"), tmp_path / "stderr-b.txt",
                        "--offset", "1")
    order = harness.stacking(gui_env)
    assert order.index(second.wid) > order.index(first.wid)
    os.kill(first.proc.pid, signal.SIGUSR1)
    harness.wait_for(lambda: (o := harness.stacking(gui_env)).index(first.wid) > o.index(second.wid), timeout=5,
                     what="first pop-up raised")
    first.proc.terminate()
    assert first.finish() == (0, [])


@pytest.mark.parametrize("case", list(ODD_LABELS))
def test_odd_labels_are_shown_without_harm(gui_env, services, tmp_path, case):
    label, _shown = ODD_LABELS[case]
    volume = write_volume(tmp_path / "volume.json", label=label, size_bytes=None if case == "empty" else 512 << 20,
                          fs_type="" if case == "empty" else "exfat")
    popup = open_popup(services, gui_env, volume, tmp_path / "stderr.txt")
    wait_for_orange(gui_env, f"odd-{case}", popup.wid)
    assert geometry(gui_env, popup.wid)["WIDTH"] <= MAX_WIDTH
    assert popup.proc.poll() is None
    popup.proc.terminate()
    assert popup.finish() == (0, [])
    assert not popup.traceback()
    assert "error" not in harness.vigie_log(gui_env).lower()


def test_two_popups_at_once_are_apart_and_independent(gui_env, services, tmp_path):
    a = write_volume(tmp_path / "a.json", label="PHOTOS")
    b = write_volume(tmp_path / "b.json", label="CLE_INCONNUE", can_scan=False)
    _size, centres = twin_layout(gui_env, b)
    first = open_popup(services, gui_env, a, tmp_path / "stderr-a.txt", "--offset", "0")
    second = open_popup(services, gui_env, b, tmp_path / "stderr-b.txt", "--offset", "1")
    ga, gb = geometry(gui_env, first.wid), geometry(gui_env, second.wid)
    assert (gb["X"] - ga["X"], gb["Y"] - ga["Y"]) == (OFFSET_STEP, OFFSET_STEP)
    screenshot(gui_env, "two")
    click(gui_env, second, centres["close"])
    assert second.finish() == (0, ["choice close"])
    assert first.proc.poll() is None and harness.window_ids(gui_env, CLASS_NAME) == {first.wid}
    first.proc.terminate()
    assert first.finish() == (0, [])


@pytest.mark.parametrize("content", [None, "{", '["not", "an object"]', '{"label": 3}', "\x00\xff"],
                         ids=["missing", "truncated", "array", "wrong-type", "binary"])
def test_unreadable_details_say_so_with_close_only(gui_env, services, tmp_path, content):
    volume = tmp_path / "volume.json"
    if content is not None:
        volume.write_text(content, encoding="utf-8")
    size, centres = twin_layout(gui_env, volume)
    assert list(centres) == ["close"]
    popup = open_popup(services, gui_env, volume, tmp_path / "stderr.txt")
    wait_for_orange(gui_env, "unreadable", popup.wid)
    assert (geometry(gui_env, popup.wid)["WIDTH"], geometry(gui_env, popup.wid)["HEIGHT"]) == size
    click(gui_env, popup, centres["close"])
    assert popup.finish() == (0, ["choice close"])
    assert not popup.traceback()
    assert "usb popup: volume details" in harness.vigie_log(gui_env)


def test_an_agent_gone_does_not_spoil_the_exit(gui_env, services, tmp_path):
    """The agent died: its end of the pipe is closed when the user decides."""
    read_fd, write_fd = os.pipe()
    before = harness.window_ids(gui_env, CLASS_NAME)
    with (tmp_path / "stderr.txt").open("w") as sink:
        proc = services.start([sys.executable, "-c", CODE, "--volume", str(write_volume(tmp_path / "volume.json"))],
                              gui_env, stdin=subprocess.DEVNULL, stdout=write_fd, stderr=sink)
    os.close(write_fd)
    with os.fdopen(read_fd) as out:
        assert out.readline() == "ready\n"
    (wid,) = harness.wait_for(lambda: harness.window_ids(gui_env, CLASS_NAME) - before, what="usb pop-up mapped")
    send_delete_window(gui_env, wid)
    assert proc.wait(10) == 0
    assert "Traceback" not in (tmp_path / "stderr.txt").read_text()
    assert "usb popup: the agent no longer reads the pop-up (BrokenPipeError)" in harness.vigie_log(gui_env)


def test_without_a_display_it_says_so_in_french(home_env, tmp_path):
    result = subprocess.run([sys.executable, "-c", CODE, "--volume", str(write_volume(tmp_path / "v.json"))],
                            env=home_env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == render(NO_DISPLAY, FR) + "\n"
    assert "usb popup: Tk cannot start" in harness.vigie_log(home_env)


def test_module_does_not_import_the_tray_toolkit(home_env):
    code = "import sys, vigie.features.usb.window; print(sorted(m for m in sys.modules if 'pystray' in m))"
    out = subprocess.run([sys.executable, "-c", code], env=home_env, capture_output=True, text=True, check=True,
                         timeout=30).stdout
    assert out.strip() == "[]"


# --- the widgets, built by inspect() on the same Xvfb ---

def test_what_the_popup_says(gui_env, tmp_path):
    facts = inspect(gui_env, write_volume(tmp_path / "volume.json"))
    assert facts["texts"][:1] == ["Un support USB vient d’être branché"]
    assert {"Nom", "CLE_JEAN", "Taille", f"14,9{NBSP}Go"} <= set(facts["texts"])
    assert not {"Format", "FAT32", "vfat"} & set(facts["texts"])  # no jargon (issue 18)
    assert facts["default"] == ["eject"]  # « Éjecter » is drawn as the default button
    assert render(RISK, FR) in facts["texts"]
    assert button_texts(facts) == BUTTONS_FR
    assert facts["title"] == "Vigie — Nouveau support USB"
    assert facts["topmost"] == 1
    assert facts["size"][0] <= MAX_WIDTH and facts["cut"] == []


def test_no_scanner_no_analyser_button(gui_env, tmp_path):
    facts = inspect(gui_env, write_volume(tmp_path / "volume.json", can_scan=False))
    assert button_texts(facts) == ["Éjecter", "Fermer", "Je connais ce support"]
    assert "scan" not in facts["buttons"]


def test_unreadable_details_in_the_window(gui_env, tmp_path):
    facts = inspect(gui_env, tmp_path / "missing.json")
    assert "Les informations sur ce support ne peuvent pas être lues." in facts["texts"]
    assert button_texts(facts) == ["Fermer"]
    assert facts["size"][0] <= MAX_WIDTH and facts["cut"] == []


def test_english_words_come_from_the_module(gui_env, tmp_path):
    facts = inspect(gui_env, write_volume(tmp_path / "volume.json"), lang="en")
    assert {"A USB drive was just plugged in", "Name", f"14.9{NBSP}GB"} <= set(facts["texts"])
    assert button_texts(facts) == ["Eject", "Scan", "Close", "I know this drive"]
    assert facts["title"] == "Vigie — New USB drive"


@pytest.mark.parametrize("case", list(ODD_LABELS))
def test_odd_labels_are_shown_safely(gui_env, tmp_path, case):
    label, expected = ODD_LABELS[case]
    volume = tmp_path / "volume.json"
    volume.write_text(json.dumps({"label": label}), encoding="utf-8")
    facts = inspect(gui_env, volume)
    assert facts["values"]["name"] == expected
    assert all(ord(char) <= 0xFFFF for text in facts["texts"] for char in text)
    assert facts["size"][0] <= MAX_WIDTH and facts["cut"] == []
    assert list(facts["buttons"]) == ["eject", "close", "known"]  # can_scan defaults to false


def test_a_choice_is_reported_once(gui_env, tmp_path):
    facts = inspect(gui_env, write_volume(tmp_path / "volume.json"), actions=("eject", "known", "delete"))
    assert facts["chosen"] == ["eject"]


def test_larger_fonts_put_the_buttons_on_two_rows(gui_env, tmp_path):
    """Another platform's fonts, or larger ones: the window stays narrow, every button whole."""
    facts = inspect(gui_env, write_volume(tmp_path / "volume.json"), fonts={"base": [16, "normal"]})
    assert button_texts(facts) == BUTTONS_FR
    assert len({b["y"] for b in facts["buttons"].values()}) == 2
    assert facts["size"][0] <= MAX_WIDTH and facts["cut"] == []


def test_tab_follows_the_buttons_in_order(gui_env, tmp_path):
    facts = inspect(gui_env, write_volume(tmp_path / "volume.json"))
    assert facts["focus_order"] == ["eject", "scan", "close", "known"]


# --- pure parts ---

@pytest.mark.parametrize(("size", "fr", "en"), [
    (None, "taille inconnue", "unknown size"),
    (-1, "taille inconnue", "unknown size"),
    (0, "0~octet", "0~bytes"),
    (1, "1~octet", "1~byte"),
    (999, "999~octets", "999~bytes"),
    (1000, "1~Ko", "1~KB"),
    (1536, "1,5~Ko", "1.5~KB"),
    (512 << 20, "512~Mo", "512~MB"),
    (1000 << 20, "1~Go", "1~GB"),
    (1 << 30, "1~Go", "1~GB"),
    (8_000_000_000, "7,5~Go", "7.5~GB"),
    (16_000_000_000, "14,9~Go", "14.9~GB"),
    (int(99.97 * (1 << 30)), "100~Go", "100~GB"),
    (256_000_000_000, "238~Go", "238~GB"),
    (2_000_000_000_000, "1,8~To", "1.8~TB"),
    (1 << 60, "1024~Po", "1024~PB"),
], ids=str)
def test_format_size(size, fr, en):
    """~ is the no-break space between the number and its unit."""
    assert format_size(size, FR) == fr.replace("~", NBSP)
    assert format_size(size, EN) == en.replace("~", NBSP)


@pytest.mark.parametrize(("text", "clean"), [
    ("a\tb\nc\r\nd\x00e\x7f", "a b c d e"),
    ("  espaces   en   trop  ", "espaces en trop"),
    ("🦠 virus", "\ufffd virus"),
    ("a\ud83db", "a\ufffdb"),  # a lone surrogate
    ("abc\u202eexe.gpj", "abcexe.gpj"),  # the right-to-left override trick is dropped
    ("zéro\u200blargeur", "zérolargeur"),
    ("ملف", "ملف"),
    ("ligne\u2028paragraphe\u2029fin", "ligne paragraphe fin"),
])
def test_clean_text(text, clean):
    assert clean_text(text) == clean


def test_display_label_limits():
    assert display_label("", FR) == "Support sans nom"
    assert display_label(" \n\t\u200b", FR) == "Support sans nom"
    assert display_label("x" * 255, FR) == "x" * (MAX_LABEL - 1) + "…"
    assert display_label("x" * MAX_LABEL, FR) == "x" * MAX_LABEL
    assert display_label("", EN) == "Unnamed drive"


def test_load_volume(tmp_path, caplog):
    path = tmp_path / "volume.json"
    assert load_volume(path) is None
    assert "usb popup: volume details not readable" in caplog.text
    path.write_text(json.dumps(dict(VOLUME, added_later=True)))
    assert load_volume(path) == VolumeInfo(**VOLUME)  # fields added by a later agent are ignored
    path.write_text("{}")
    assert load_volume(path) == VolumeInfo()  # every field has a default
    assert VolumeInfo().can_scan is False
    for bad in ('{"size_bytes": "16 Go"}', '{"can_scan": 1}', '{"size_bytes": 1.5}', "[]", "{", "\udcff"):
        path.write_text(bad, errors="surrogateescape")
        assert load_volume(path) is None, bad
    path.write_text(" " * (MAX_VOLUME_BYTES + 1))
    assert load_volume(path) is None
    assert VOLUME["label"] not in caplog.text  # labels are personal: never logged


def module_texts() -> list[Text]:
    """Every Text of the module: its constants, alone or in a dict."""
    found = []
    for value in vars(usb_popup).values():
        found.extend(v for v in (value.values() if isinstance(value, dict) else [value]) if isinstance(v, Text))
    return found


def test_every_text_has_french_with_french_typography():
    texts = module_texts()
    assert len(texts) >= 13  # issue 18 took the format row (« Format », « inconnu ») away
    for text in texts:
        assert text.msgid in FR._catalog, text.msgid
        french = render(text, FR)  # a no-break space before : ; ! ? » and after «
        assert not any(f" {mark}" in french for mark in ":;!?»") and "« " not in french, french
    assert render(UNREADABLE, FR) == "Les informations sur ce support ne peuvent pas être lues."
    assert [render(BUTTONS[c], FR) for c in CHOICES] == BUTTONS_FR
