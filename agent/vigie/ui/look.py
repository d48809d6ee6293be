"""The look of every Vigie window (issue 18, point 5): the Sun Valley ttk theme (sv-ttk, the Windows 11
look), light or dark as the OS is set, and text scaled to the screen's DPI. Applied once per window
process, by tk_support.run_window, before the window is built; the windows read their colours from
palette(root) so that their own frames and labels match the theme in use.
"""

from __future__ import annotations

import logging
import sys
import tkinter as tk
from dataclasses import dataclass
from tkinter import font as tkfont
from tkinter import ttk

log = logging.getLogger("vigie.ui")

LIGHT_THEME, DARK_THEME = "sun-valley-light", "sun-valley-dark"
POINTS_PER_INCH = 72
BASE_DPI = 96  # what "100 %" means on every desktop


@dataclass(frozen=True)
class Palette:
    """The windows' own colours, beside the theme's (page = the theme's background)."""
    page: str  # window background
    card: str  # a raised block on the page
    border: str  # a card's outline, separating lines
    notice: str  # a quiet band (the status window's configuration notice)
    ink: str  # text
    muted: str  # secondary text
    tint: str  # the safe default button
    tint_active: str
    band: str  # the incident guide's warm band
    error: str  # an error message's text
    done: str  # a success message's text


LIGHT = Palette(page="#fafafa", card="#ffffff", border="#d5d9df", notice="#e9edf2", ink="#1c1c1c",
                muted="#52606d", tint="#dbe8f6", tint_active="#c5daf0", band="#fdf1e7", error="#b42318",
                done="#1a7f37")
DARK = Palette(page="#1c1c1c", card="#2b2b2b", border="#454545", notice="#30343a", ink="#f2f2f2",
               muted="#b8c0ca", tint="#1f3d63", tint_active="#285080", band="#3d2c1f", error="#ff8f85",
               done="#74d68f")


def prepare_process() -> None:
    """Before Tk starts: Windows must be told the window is DPI aware, else it stretches it blurred."""
    if sys.platform == "win32":
        from vigie.platform.appearance import windows_make_dpi_aware
        try:
            windows_make_dpi_aware()
        except OSError as exc:
            log.info("DPI awareness not set: %s", exc)


def apply_look(root: tk.Tk, dark: bool | None = None) -> None:
    """Scale to the screen, load Sun Valley and use its light or dark variant (dark: the OS's, if None).
    The OS's readings were started at the process's first line (vigie.launch), else they start now."""
    from vigie.platform import appearance

    readings = appearance.readings().wait()
    for problem in readings.problems:
        log.info("look: %s", problem)
    scale_to_screen(root, readings.xft_dpi)
    dark = readings.dark if dark is None else dark
    _use_sun_valley(root, dark)
    # sv-ttk recolours on every <<ThemeChanged>>, which ttk sends after each style change, with
    # tk_setPalette: that sets every existing label's own background and text colours, over the colours of
    # its style (a label on a card would take the page's). Its colours once, now, and not again.
    root.tk.call("configure_colors")
    root.tk.call("bind", root.winfo_class(), "<<ThemeChanged>>", "")
    _fonts_in_points(root)
    log.info("look: %s, Tk scaling %.2f", DARK_THEME if dark else LIGHT_THEME, float(root.tk.call("tk", "scaling")))


def _use_sun_valley(root: tk.Tk, dark: bool) -> None:
    """Sun Valley's variant in use, without the other: sv-ttk's sv.tcl sources both, and a window never
    switches (its colours are set once, see apply_look); the other one's images and styles cost a pop-up
    0.6 MB and 20-30 ms. Tcl's `source` skips that one file while sv.tcl runs."""
    import sv_ttk  # here: only window processes load the theme

    other = "light.tcl" if dark else "dark.tcl"
    try:
        root.tk.eval("rename ::source ::_vigie_source")
        root.tk.eval(f"proc ::source {{args}} {{ if {{[file tail [lindex $args end]] eq {{{other}}}}} return; "
                     "uplevel 1 [list ::_vigie_source {*}$args] }")
        sv_ttk.set_theme("dark" if dark else "light", root)
    finally:  # Tcl's own `source` back, whatever failed above
        root.tk.eval("if {[info commands ::_vigie_source] ne {}} "
                     "{ catch {rename ::source {}}; rename ::_vigie_source ::source }")


def scale_to_screen(root: tk.Tk, xft_dpi: float | None) -> None:
    """Tk sizes text in points from the X server's DPI; desktops set their scale (200 %) in Xft.dpi
    instead, which Tk does not read: the larger of the two wins. Windows and macOS: Tk's own reading."""
    if root.tk.call("tk", "windowingsystem") != "x11":
        return
    dpi = max(root.winfo_fpixels("1i"), xft_dpi or 0)
    root.tk.call("tk", "scaling", dpi / POINTS_PER_INCH)


def scale(root: tk.Misc) -> float:
    """1.0 at 96 DPI, 2.0 at 200 %: for sizes the windows give in pixels."""
    return max(1.0, float(root.tk.call("tk", "scaling")) * POINTS_PER_INCH / BASE_DPI)


def px(root: tk.Misc, pixels: int) -> int:
    """A size designed in pixels at 100 %, for this screen."""
    return round(pixels * scale(root))


def _fonts_in_points(root: tk.Tk) -> None:
    """Sun Valley's fonts are in pixels (they would not grow at 200 %) and name Segoe UI Variable, which
    only Windows 11 has: the same sizes in points, in the system's own font (Segoe UI on Windows)."""
    family = tkfont.nametofont("TkDefaultFont", root).actual("family")
    for name in root.tk.call("font", "names"):
        if str(name).startswith("SunValley"):
            font = tkfont.nametofont(str(name), root)
            size = int(font.cget("size"))
            if size < 0:
                font.configure(size=round(-size * POINTS_PER_INCH / BASE_DPI))
            font.configure(family=family)


def is_dark(root: tk.Misc) -> bool:
    return ttk.Style(root).theme_use() == DARK_THEME


def palette(root: tk.Misc) -> Palette:
    """The colours that go with the theme in use (light when no Sun Valley theme is loaded)."""
    return DARK if is_dark(root) else LIGHT


def accent_button(root: tk.Misc, style_name: str, font: tkfont.Font | None = None) -> None:
    """style_name drawn as Sun Valley's accent button (the safe default, the main action)."""
    style = ttk.Style(root)
    style.layout(style_name, style.layout("Accent.TButton"))
    style.configure(style_name, **style.configure("Accent.TButton") or {}, **({"font": font} if font else {}))
    style.map(style_name, **style.map("Accent.TButton"))
