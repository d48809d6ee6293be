"""The icon: one colour and one symbol per state, at every size, and assets/ matches the code."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops

import harness
from vigie.model import Severity
from vigie.ui.icons import COLOURS, SIZES, draw_icon

STATES = {"ok": Severity.OK, "warning": Severity.WARNING, "critical": Severity.CRITICAL, "unknown": Severity.UNKNOWN}


@pytest.mark.parametrize("severity", list(STATES.values()))
@pytest.mark.parametrize("size", SIZES)
def test_icon_is_mostly_its_state_colour(size, severity):
    image = draw_icon(size, severity)
    assert image.size == (size, size)
    visible = [p[:3] for p in image.get_flattened_data() if p[3] > 128]
    expected = COLOURS[severity]
    close = [p for p in visible if all(abs(a - b) <= 40 for a, b in zip(p, expected, strict=True))]
    # Even at 16 px, the state colour is at least ~half of what shows (the rest: outline, symbol).
    assert len(close) >= 0.45 * len(visible)


def test_states_differ_by_symbol_not_only_by_colour():
    def shape(severity):  # the white symbol alone, colour removed
        return draw_icon(64, severity).convert("L").point(lambda v: 255 if v > 230 else 0)

    assert ImageChops.difference(shape(Severity.OK), shape(Severity.WARNING)).getbbox() is not None
    assert ImageChops.difference(shape(Severity.WARNING), shape(Severity.UNKNOWN)).getbbox() is not None


@pytest.mark.parametrize(("name", "severity"), list(STATES.items()))
def test_shipped_assets_match_the_drawing(name, severity):
    for size in SIZES:
        shipped = Image.open(harness.ROOT / "assets" / f"vigie-{name}-{size}.png").convert("RGBA")
        diff = ImageChops.difference(shipped, draw_icon(size, severity))
        assert max(hi for _lo, hi in diff.getextrema()) <= 2, f"regenerate: python -m vigie.ui.icons assets ({size})"


def test_notification_icons_are_drawn_when_first_needed(tmp_path, monkeypatch):
    from vigie.app import NotificationIcons

    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    icons = NotificationIcons()
    assert list(icons) == list(Severity) and icons.drawn() == []  # nothing drawn at start
    assert not list(runtime.rglob("*.png"))
    path = icons[Severity.WARNING]
    assert [p.name for p in runtime.rglob("*.png")] == ["vigie-warning.png"]
    assert icons.get(Severity.WARNING) == path and icons.drawn() == [Severity.WARNING]
    diff = ImageChops.difference(Image.open(path).convert("RGBA"), draw_icon(128, Severity.WARNING))
    assert max(hi for _lo, hi in diff.getextrema()) <= 2


TRAY_PROBE = """
import sys, threading
from vigie.i18n import translator
from vigie.model import Severity
from vigie.ui.tray import Tray

tray = Tray(translator("fr"), [], on_action=print, on_quit=lambda: None)

def probe(backend):
    def work():
        pystray_icon = tray._icon  # the pystray.Icon: its image object tells whether it was drawn again
        tray.show(Severity.WARNING, "a")
        first = pystray_icon.icon
        tray.show(Severity.WARNING, "a")
        print("same state kept the image:", pystray_icon.icon is first)
        tray.show(Severity.WARNING, "b")
        print("new tooltip kept the image:", pystray_icon.icon is first, pystray_icon.title == "b")
        tray.show(Severity.OK, "b")
        print("new state drew it:", pystray_icon.icon is not first)
        tray.stop()
    threading.Thread(target=work).start()

tray.run(on_visible=probe)
"""


def test_the_tray_draws_the_icon_again_only_when_the_state_changes(bare_desktop):
    """A check run again with the same verdict must not redraw the icon (nor send it to the tray host)."""
    import subprocess
    import sys

    env = dict(bare_desktop, PYSTRAY_BACKEND="appindicator")
    out = subprocess.run([sys.executable, "-c", TRAY_PROBE], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.splitlines() == ["same state kept the image: True", "new tooltip kept the image: True True",
                                       "new state drew it: True"], out.stderr
