"""The icon: one colour and one symbol per state, at every size, and the shipped pictures match the code."""

from __future__ import annotations

import itertools

import pytest
from PIL import Image, ImageChops

import harness
from vigie.model import Severity
from vigie.ui.icons import COLOURS, ICON_DIR, SIZES, draw_icon, icon_file, load_icon

STATES = {"ok": Severity.OK, "info": Severity.INFO, "warning": Severity.WARNING, "critical": Severity.CRITICAL,
          "unknown": Severity.UNKNOWN}


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


def symbol_mask(size: int, severity: Severity) -> list[bool]:
    """The icon as a grey-scale screen or a colour-blind eye sees it: only the light symbol stands out."""
    grey = draw_icon(size, severity).convert("LA")
    return [alpha > 128 and level > 200 for level, alpha in grey.get_flattened_data()]


@pytest.mark.parametrize("size", [16, 24, 32, 64])
def test_every_pair_of_states_is_told_apart_in_grey_scale(size):
    """Five states, five shapes: in grey-scale each pair of symbols differs in a good share of their
    pixels (a "!" in two shades of grey, as before, differed in none)."""
    masks = {name: symbol_mask(size, severity) for name, severity in STATES.items()}
    outline = [all(pixels) for pixels in zip(*masks.values(), strict=True)]  # the shield's edge, in every state
    masks = {name: [p and not edge for p, edge in zip(mask, outline, strict=True)] for name, mask in masks.items()}
    for first, second in itertools.combinations(STATES, 2):
        a, b = masks[first], masks[second]
        differing = sum(x != y for x, y in zip(a, b, strict=True))
        drawn = max(sum(a), sum(b))
        assert drawn > 0
        assert differing >= 0.4 * drawn, (size, first, second, differing, drawn)


def test_grey_scale_sheet(tmp_path_factory):
    """The five states in colour and in grey-scale, side by side: written for a person to look at."""
    states = list(STATES.values())
    sheet = Image.new("RGB", (len(states) * 72, 144), "white")
    for index, severity in enumerate(states):
        icon = draw_icon(64, severity)
        sheet.paste(icon, (index * 72 + 4, 4), icon)
        grey = icon.convert("LA").convert("RGBA")
        sheet.paste(grey, (index * 72 + 4, 76), grey)
    path = tmp_path_factory.mktemp("icons") / "states.png"
    sheet.save(path)
    assert Image.open(path).size == sheet.size


@pytest.mark.parametrize(("name", "severity"), list(STATES.items()))
def test_shipped_pictures_match_the_drawing(name, severity, monkeypatch):
    from vigie.ui import icons

    assert icon_file(64, severity).name == f"vigie-{name}-64.png"
    for size in SIZES:
        with Image.open(ICON_DIR / f"vigie-{name}-{size}.png") as picture:
            shipped = picture.convert("RGBA")
        diff = ImageChops.difference(shipped, draw_icon(size, severity))
        assert max(hi for _lo, hi in diff.getextrema()) <= 2, f"regenerate: python -m vigie.ui.icons ({size})"
    monkeypatch.setattr(icons, "draw_icon", lambda *_: pytest.fail("load_icon drew instead of loading"))
    for size in SIZES:
        with Image.open(ICON_DIR / f"vigie-{name}-{size}.png") as picture:
            assert load_icon(size, severity).tobytes() == picture.convert("RGBA").tobytes()
    assert sorted(p.name for p in ICON_DIR.iterdir()) == sorted(f"vigie-{n}-{s}.png" for n in STATES for s in SIZES)


def test_a_missing_picture_is_drawn_and_logged(tmp_path, monkeypatch, caplog):
    """A broken install (a file gone): the icon still shows, drawn, and the log says why."""
    from vigie.ui import icons

    monkeypatch.setattr(icons, "ICON_DIR", tmp_path)
    image = load_icon(64, Severity.WARNING)
    diff = ImageChops.difference(image, draw_icon(64, Severity.WARNING))
    assert max(hi for _lo, hi in diff.getextrema()) == 0
    assert "icon file unreadable, drawn instead" in caplog.text and "vigie-warning-64.png" in caplog.text


def test_the_installers_icon_is_the_drawing():
    with Image.open(harness.ROOT / "assets" / "vigie.ico") as ico:
        assert (256, 256) in ico.info["sizes"]
        ico.size = (256, 256)
        diff = ImageChops.difference(ico.convert("RGBA"), draw_icon(256))
        assert max(hi for _lo, hi in diff.getextrema()) <= 2, "regenerate: python -m vigie.ui.icons"


def test_notification_icons_are_written_when_first_needed(tmp_path, monkeypatch):
    from vigie import paths
    from vigie.app import NotificationIcons

    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))  # Linux; Windows keeps its own (LOCALAPPDATA)
    folder = paths.runtime_dir()
    for old in folder.glob("vigie-*.png"):  # Windows: left by an earlier run in the same profile
        old.unlink()
    icons = NotificationIcons()
    assert list(icons) == list(Severity) and icons.written() == []  # nothing written at start
    assert not list(folder.glob("vigie-*.png"))
    path = icons[Severity.WARNING]
    assert [p.name for p in folder.glob("vigie-*.png")] == ["vigie-warning.png"] and path.parent == folder
    assert icons.get(Severity.WARNING) == path and icons.written() == [Severity.WARNING]
    assert path.read_bytes() == icon_file(128, Severity.WARNING).read_bytes()


def test_a_missing_notification_picture_is_drawn_into_the_runtime_folder(tmp_path, monkeypatch, caplog):
    from vigie.app import NotificationIcons
    from vigie.ui import icons

    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setattr(icons, "ICON_DIR", tmp_path / "gone")  # a broken install
    path = NotificationIcons()[Severity.CRITICAL]
    with Image.open(path) as written:
        diff = ImageChops.difference(written.convert("RGBA"), draw_icon(128, Severity.CRITICAL))
    assert max(hi for _lo, hi in diff.getextrema()) == 0
    assert "icon file unreadable, drawn instead" in caplog.text
