"""The state colours, shared by the tray icon (Pillow) and the Tk windows (which must not import
Pillow): green OK, blue information, orange warning, red critical, grey unknown."""

from __future__ import annotations

from vigie.model import Severity

COLOURS = {
    Severity.OK: (46, 139, 87),  # green
    Severity.INFO: (36, 104, 170),  # blue: something to know, nothing to fix
    Severity.WARNING: (230, 126, 34),  # orange
    Severity.CRITICAL: (200, 40, 40),  # red
    Severity.UNKNOWN: (128, 128, 128),  # grey
}


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)
