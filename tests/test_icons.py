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
    from vigie import paths
    from vigie.app import NotificationIcons

    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))  # Linux; Windows keeps its own (LOCALAPPDATA)
    folder = paths.runtime_dir()
    for old in folder.glob("vigie-*.png"):  # Windows: left by an earlier run in the same profile
        old.unlink()
    icons = NotificationIcons()
    assert list(icons) == list(Severity) and icons.drawn() == []  # nothing drawn at start
    assert not list(folder.glob("vigie-*.png"))
    path = icons[Severity.WARNING]
    assert [p.name for p in folder.glob("vigie-*.png")] == ["vigie-warning.png"] and path.parent == folder
    assert icons.get(Severity.WARNING) == path and icons.drawn() == [Severity.WARNING]
    diff = ImageChops.difference(Image.open(path).convert("RGBA"), draw_icon(128, Severity.WARNING))
    assert max(hi for _lo, hi in diff.getextrema()) <= 2
