"""Vigie's icon, drawn with Pillow: a shield whose colour and symbol tell the state.

The symbol differs per state (tick, "i", "!", a cross, "?") so the state reads without colour too:
in grey-scale, or for a colour-blind user (tests/test_icons.py compares the shapes).
Drawn 4x larger and scaled down, so it stays crisp from 16 to 256 px.
The agent does not draw: it loads the pictures shipped beside this module (icon_png/, package data),
which spares it Pillow's ImageDraw, ImageFont and FreeType (0.9 MB resident) and 35 ms of drawing
before its icon shows (issue 21). `python -m vigie.ui.icons` writes them, and assets/vigie.ico;
tests/test_icons.py checks that they match the drawing.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from vigie.model import Severity
from vigie.ui.colours import COLOURS

if TYPE_CHECKING:
    from PIL import ImageDraw

log = logging.getLogger(__name__)
ICON_DIR = Path(__file__).with_name("icon_png")
SYMBOLS = {Severity.OK: "tick", Severity.INFO: "info", Severity.WARNING: "bang", Severity.CRITICAL: "cross",
           Severity.UNKNOWN: "query"}
SIZES = (16, 24, 32, 48, 64, 128, 256)
_SCALE = 4


def icon_file(size: int, severity: Severity) -> Path:
    return ICON_DIR / f"vigie-{Severity(severity).name.lower()}-{size}.png"


def load_icon(size: int, severity: Severity) -> Image.Image:
    """The shipped picture; drawn here only if it is missing or unreadable (a broken install), and logged."""
    try:
        with Image.open(icon_file(size, severity)) as image:
            return image.convert("RGBA")
    except (OSError, ValueError) as exc:
        log.warning("icon file unreadable, drawn instead: %s", exc)
        return draw_icon(size, severity)


def draw_icon(size: int, severity: Severity = Severity.OK) -> Image.Image:
    from PIL import ImageDraw  # only where the icon is drawn: writing the files, the tests, a broken install

    big = size * _SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    _shield(draw, big, COLOURS[severity])
    getattr(_Symbols, SYMBOLS[severity])(draw, big)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def _shield(draw: ImageDraw.ImageDraw, s: int, colour: tuple[int, int, int]) -> None:
    outline = (255, 255, 255, 255)
    top, bottom, left, right = 0.06 * s, 0.96 * s, 0.10 * s, 0.90 * s
    points = [(left, top + 0.10 * s), (s / 2, top), (right, top + 0.10 * s), (right, 0.52 * s),
              (s / 2, bottom), (left, 0.52 * s)]
    draw.polygon(points, fill=(*colour, 255), outline=outline, width=max(1, round(0.04 * s)))


class _Symbols:
    @staticmethod
    def tick(draw: ImageDraw.ImageDraw, s: int) -> None:
        draw.line([(0.30 * s, 0.50 * s), (0.45 * s, 0.65 * s), (0.72 * s, 0.34 * s)], fill="white",
                  width=round(0.10 * s), joint="curve")

    @staticmethod
    def bang(draw: ImageDraw.ImageDraw, s: int) -> None:
        draw.rounded_rectangle([0.44 * s, 0.22 * s, 0.56 * s, 0.58 * s], radius=0.05 * s, fill="white")
        draw.ellipse([0.43 * s, 0.65 * s, 0.57 * s, 0.79 * s], fill="white")

    @staticmethod
    def info(draw: ImageDraw.ImageDraw, s: int) -> None:  # "i": the dot on top, unlike "!"
        draw.ellipse([0.43 * s, 0.20 * s, 0.57 * s, 0.34 * s], fill="white")
        draw.rounded_rectangle([0.44 * s, 0.41 * s, 0.56 * s, 0.78 * s], radius=0.04 * s, fill="white")

    @staticmethod
    def cross(draw: ImageDraw.ImageDraw, s: int) -> None:  # urgent: a bold "×", not a "!" in another shade
        w = round(0.09 * s)
        draw.line([(0.36 * s, 0.30 * s), (0.64 * s, 0.64 * s)], fill="white", width=w)
        draw.line([(0.64 * s, 0.30 * s), (0.36 * s, 0.64 * s)], fill="white", width=w)

    @staticmethod
    def query(draw: ImageDraw.ImageDraw, s: int) -> None:
        w = round(0.09 * s)
        # Hook: clockwise from the left, over the top, down to the bottom of the circle; then the stem.
        draw.arc([0.36 * s, 0.20 * s, 0.64 * s, 0.48 * s], start=180, end=90, fill="white", width=w)
        draw.rectangle([0.50 * s - w / 2, 0.44 * s, 0.50 * s + w / 2, 0.60 * s], fill="white")
        draw.ellipse([0.44 * s, 0.67 * s, 0.56 * s, 0.79 * s], fill="white")


def write_files(png_dir: Path, assets: Path) -> list[Path]:
    """Every state at every size into png_dir, and the application's .ico into assets."""
    png_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for severity in Severity:
        for size in SIZES:
            path = png_dir / f"vigie-{severity.name.lower()}-{size}.png"
            draw_icon(size, severity).save(path, optimize=True)
            written.append(path)
    ico = assets / "vigie.ico"
    draw_icon(256).save(ico, sizes=[(s, s) for s in SIZES])
    written.append(ico)
    return written


if __name__ == "__main__":  # from a source checkout: the package's pictures and the repository's assets/
    if len(sys.argv) > 1:
        sys.exit("usage: python -m vigie.ui.icons   (writes vigie/ui/icon_png/*.png and assets/vigie.ico)")
    for path in write_files(ICON_DIR, Path(__file__).resolve().parents[3] / "assets"):
        print(path)
