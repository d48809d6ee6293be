"""The « Nouveau support USB » pop-up: a warning shown the moment a removable storage volume is mounted.

Runs in its own process (`vigie ui usb --volume FILE [--offset N] [--lang fr|en]`), started by the agent
(vigie.features.usb.guard), which writes FILE: {"label", "size_bytes", "fs_type", "mount_point", "device",
"uuid", "can_scan"}. Every field has a default; a file that is missing, too big, not JSON or of the wrong types
gives an error message in the window, with « Fermer » only.

Protocol on stdout, one flushed line each:
    ready                               once SIGUSR1 only brings the window to the front
    choice known|eject|scan|close       at most once, when the user decides; the process then exits 0
SIGTERM (the agent, when the volume is removed) ends the process quietly: exit code 0, nothing more on stdout.

The label comes from the device itself, so anyone can write it: it is shown as plain text on one logical
line, cut at MAX_LABEL characters and never trusted (see display_label).
Threading: everything here runs on the main thread, inside Tk's event loop.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gettext
import json
import logging
import tkinter as tk
import unicodedata
from collections.abc import Callable
from pathlib import Path
from tkinter import font as tkfont
from tkinter import ttk

from vigie.i18n import LANGUAGES, render, resolve_language, translator
from vigie.logs import setup_logging
from vigie.model import TN, Severity, T, Text
from vigie.ui.colours import COLOURS, hex_colour
from vigie.ui.look import LIGHT, accent_button, palette, px
from vigie.ui.tk_support import (
    Terminated,
    drawable,
    emit,
    install_signal_handlers,
    make_fonts,
    run_window,
)

log = logging.getLogger(__name__)

CLASS_NAME = "vigie-usb"
WIDTH = 540  # px; the window never grows past MAX_WIDTH (tests/test_usb_popup.py)
MAX_WIDTH = 560
PAD = 22
BOX_PAD, KEY_GAP = 14, 16  # inside the grey box of details, px
BAND = 6  # height of the orange band along the top, px
OFFSET_STEP = 40  # px down and right per pop-up already open (--offset)
OFFSET_STEPS = 8  # the ninth pop-up starts again at the centre
MAX_VOLUME_BYTES = 64 * 1024
MAX_LABEL = 64  # characters of the label shown; real labels have at most 32 (NTFS)

ORANGE = COLOURS[Severity.WARNING]
PAGE, BOX, INK, MUTED = LIGHT.page, LIGHT.notice, LIGHT.ink, LIGHT.muted  # until _make_styles reads the theme
FONT_SPECS = {  # name: (size, weight)
    "base": (11, "normal"), "name": (12, "bold"), "headline": (13, "bold"), "mark": (17, "bold"),
}
# Also the buttons, in this order: the safe choice first and marked as the default; the risky
# « Je connais ce support » (no pop-up for this drive ever again) last.
CHOICES = ("eject", "scan", "close", "known")
DEFAULT_CHOICE = "eject"

NBSP = "\u00a0"
TITLE = T("Vigie — New USB drive")
HEADLINE = T("A USB drive was just plugged in")
# The rows of the box of details. Not the format (« ext4 », « FAT32 »): jargon that helps no decision.
DETAILS = {"name": T("Name"), "size": T("Size")}
UNNAMED = T("Unnamed drive")
UNKNOWN_SIZE = T("unknown size")
RISK = T("A drive that was found, lent or given to you can hide a virus: open nothing on it "
         "unless you know where it comes from.")
UNREADABLE = T("The details of this drive cannot be read.")
BUTTONS = {"known": T("I know this drive"), "eject": T("Eject"), "scan": T("Scan"), "close": T("Close")}  # CHOICES
NO_DISPLAY = T("Vigie: the “New USB drive” warning cannot be shown (no display available).")  # on stderr


# --- the volume file written by the agent ---

@dataclasses.dataclass(frozen=True)
class VolumeInfo:
    """Read with the standard json module and checked here, strictly (a bool is not a size, 1 is not
    True): msgspec would cost the pop-up's process 2.5 MB and 10 ms of imports (issue 21)."""

    label: str = ""
    size_bytes: int | None = None
    fs_type: str = ""
    mount_point: str = ""
    device: str = ""
    uuid: str = ""
    can_scan: bool = False


def _field_fits(name: str, value: object) -> bool:
    if name == "size_bytes":
        return value is None or (type(value) is int)
    if name == "can_scan":
        return type(value) is bool
    return type(value) is str


def _volume_from(document: object) -> VolumeInfo:
    """ValueError naming the field (never its value: labels are personal)."""
    if not isinstance(document, dict):
        raise ValueError(f"expected an object, got {type(document).__name__}")
    known = {field.name for field in dataclasses.fields(VolumeInfo)}
    values = {name: value for name, value in document.items() if name in known}  # later fields: ignored
    for name, value in values.items():
        if not _field_fits(name, value):
            raise ValueError(f"wrong type for {name}: {type(value).__name__}")
    return VolumeInfo(**values)


def load_volume(path: Path) -> VolumeInfo | None:
    """None when the file cannot be used (logged, without its content: labels are personal)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_VOLUME_BYTES + 1)
    except OSError as exc:
        log.warning("usb popup: volume details not readable: %s", exc.strerror or exc.__class__.__name__)
        return None
    if len(data) > MAX_VOLUME_BYTES:
        log.warning("usb popup: volume details too big: over %d bytes", MAX_VOLUME_BYTES)
        return None
    try:
        return _volume_from(json.loads(data))
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError included
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__ \
            if isinstance(exc, UnicodeDecodeError) else str(exc)
        log.warning("usb popup: volume details unreadable: %s", reason)
        return None


# --- pure presentation helpers ---

def clean_text(text: str) -> str:
    """One line Tk 8.6 can draw: characters outside the BMP (emoji) and lone surrogates → U+FFFD,
    controls and line breaks → spaces, invisible format characters (bidi overrides, zero-width)
    dropped, runs of spaces → one. Right-to-left letters are kept as they are."""
    out = []
    for char in drawable(text):
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp"):
            out.append(" ")
        elif category != "Cf":
            out.append(char)
    return " ".join("".join(out).split())


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def display_label(label: str, tr: gettext.NullTranslations) -> str:
    return cut(clean_text(label), MAX_LABEL) or render(UNNAMED, tr)


def in_unit(size: str | Text) -> tuple[Text, ...]:
    """`size` in KB, MB, GB, TB and PB (binary multiples), with the names each language uses."""
    return (T("{size}\u00a0KB", size=size), T("{size}\u00a0MB", size=size), T("{size}\u00a0GB", size=size),
            T("{size}\u00a0TB", size=size), T("{size}\u00a0PB", size=size))


UNITS = 5  # in in_unit


def format_size(size_bytes: int | None, tr: gettext.NullTranslations) -> str:
    """Binary multiples with the French names Windows uses (16 GB sold = « 14,9 Go »),
    three significant digits at most: « 512 Mo », « 14,9 Go », « 1,5 To »."""
    if size_bytes is None or size_bytes < 0:
        return render(UNKNOWN_SIZE, tr)
    if size_bytes < 1000:
        return render(TN("{n}\u00a0byte", "{n}\u00a0bytes", size_bytes), tr)
    value, unit = float(size_bytes), -1
    while value >= 999.5 and unit < UNITS - 1:  # « 1 000 Mo » reads better as « 1 Go »
        value /= 1024
        unit += 1
    number = f"{value:.1f}" if value < 99.95 else f"{value:.0f}"
    whole, _, tenths = number.removesuffix(".0").partition(".")
    shown = T("{whole}.{tenths}", whole=whole, tenths=tenths) if tenths else whole  # the decimal mark
    return render(in_unit(shown)[unit], tr)


# --- the window ---

class UsbPopup:
    """Orange band, warning sign and headline; name and size of the volume; the risk in one sentence;
    « Éjecter » (the safe default, drawn as such), « Analyser » (only if a scanner exists), « Fermer »,
    « Je connais ce support ».

    No button has the keyboard focus at first: someone typing elsewhere when the pop-up appears must
    not press one by accident (Tab reaches them, « Éjecter » first; Escape closes)."""

    def __init__(self, root: tk.Tk, volume: VolumeInfo | None, tr: gettext.NullTranslations,
                 on_choice: Callable[[str], None]) -> None:
        self.root, self.volume, self.tr, self.on_choice = root, volume, tr, on_choice
        self.chosen: str | None = None
        root.withdraw()  # mapped once, with its final layout and place (see show)
        self.fonts = make_fonts(root, FONT_SPECS)
        _make_styles(root, self.fonts)
        root.title(render(TITLE, tr))
        root.configure(background=PAGE)
        root.resizable(False, False)
        tk.Frame(root, background=hex_colour(ORANGE), height=BAND, width=WIDTH).pack(fill="x")
        self.body = ttk.Frame(root, style="Page.TFrame", padding=(PAD, 16, PAD, PAD))
        self.body.pack(fill="both", expand=True)
        self.body.columnconfigure(1, weight=1)
        self._build_header()
        self._build_details(volume)
        self._text(render(RISK, tr), "Body.TLabel").grid(row=2, column=0, columnspan=2, sticky="w", pady=(14, 0))
        self.buttons: dict[str, ttk.Button] = {}
        self._build_buttons()
        # Escape closes on release, once pressed here: the key-up is not left to another window.
        self._escape_pressed = False
        root.bind("<KeyPress-Escape>", lambda _event: setattr(self, "_escape_pressed", True))
        root.bind("<KeyRelease-Escape>", lambda _event: self.choose("close") if self._escape_pressed else None)
        root.protocol("WM_DELETE_WINDOW", lambda: self.choose("close"))

    def _text(self, text: str, style: str, parent: tk.Misc | None = None, width: int = WIDTH - 2 * PAD) -> ttk.Label:
        return ttk.Label(parent or self.body, text=text, style=style, wraplength=width, justify="left")

    def _build_header(self) -> None:
        def scaled(*pixels: int) -> list[int]:  # the sign grows with the text (200 %: it was cut)
            return [px(self.root, p) for p in pixels]

        width, height = scaled(40, 36)
        sign = tk.Canvas(self.body, width=width, height=height, background=PAGE, highlightthickness=0)
        sign.create_polygon(*scaled(20, 3, 37, 33, 3, 33), fill=hex_colour(ORANGE), outline=hex_colour(ORANGE),
                            width=px(self.root, 3), joinstyle="round")
        sign.create_text(*scaled(20, 22), text="!", fill="#ffffff", font=self.fonts["mark"])
        sign.grid(row=0, column=0, sticky="w", padx=(0, 12))
        self.headline = self._text(render(HEADLINE, self.tr), "Headline.TLabel",
                                   width=WIDTH - 2 * PAD - width - 12)
        self.headline.grid(row=0, column=1, sticky="w")

    def _build_details(self, volume: VolumeInfo | None) -> None:
        """Name and size in a grey box; or why they cannot be shown."""
        box = ttk.Frame(self.body, style="Box.TFrame", padding=(BOX_PAD, 10, BOX_PAD, 10))
        box.grid(row=1, column=0, columnspan=2, sticky="ew", pady=(14, 0))
        self.values: dict[str, ttk.Label] = {}
        if volume is None:
            self.values["unreadable"] = self._text(render(UNREADABLE, self.tr), "Value.TLabel", box)
            self.values["unreadable"].grid(row=0, column=0, sticky="w", pady=2)
            self._fit_values(box, WIDTH - 2 * PAD - 2 * BOX_PAD)
            return
        rows = (
            ("name", display_label(volume.label, self.tr), "Name.TLabel"),
            ("size", format_size(volume.size_bytes, self.tr), "Value.TLabel"),
        )
        keys = []
        for row, (key, value, style) in enumerate(rows):
            keys.append(ttk.Label(box, text=render(DETAILS[key], self.tr), style="Key.TLabel"))
            keys[-1].grid(row=row, column=0, sticky="nw", padx=(0, KEY_GAP), pady=2)
            self.values[key] = self._text(value, style, box)
            self.values[key].grid(row=row, column=1, sticky="w", pady=2)
        self.root.update_idletasks()
        self._fit_values(box, WIDTH - 2 * PAD - 2 * BOX_PAD - max(key.winfo_reqwidth() for key in keys) - KEY_GAP)

    def _fit_values(self, box: ttk.Frame, room: int) -> None:
        """Wrap the values in `room` px. Tk ends a line broken inside a long word with the character
        that crosses the wrap length, and adds its own padding: what still overflows is taken off."""
        for _attempt in range(10):
            for label in self.values.values():
                label.configure(wraplength=room)
            self.root.update_idletasks()
            excess = box.winfo_reqwidth() - (WIDTH - 2 * PAD)
            if excess <= 0:
                return
            room -= max(excess, 2)

    def _build_buttons(self) -> None:
        row = ttk.Frame(self.body, style="Page.TFrame")
        row.grid(row=3, column=0, columnspan=2, sticky="e", pady=(18, 0))
        if self.volume is None:
            shown = ["close"]  # nothing to know, eject or scan
        else:
            shown = [choice for choice in CHOICES if choice != "scan" or self.volume.can_scan]
        for choice in shown:
            default = choice == DEFAULT_CHOICE
            button = ttk.Button(row, text=render(BUTTONS[choice], self.tr), command=lambda c=choice: self.choose(c),
                                style="Default.TButton" if default else "TButton",
                                default="active" if default else "normal")
            for key in ("<Return>", "<KP_Enter>"):  # Tk buttons answer space only
                button.bind(key, lambda _event, b=button: b.invoke())
            self.buttons[choice] = button
        self.root.update_idletasks()
        one_line = sum(b.winfo_reqwidth() for b in self.buttons.values()) + 8 * (len(self.buttons) - 1)
        columns = len(self.buttons) if one_line <= WIDTH - 2 * PAD else 2  # larger fonts: two rows
        for index, button in enumerate(self.buttons.values()):
            button.grid(row=index // columns, column=index % columns, sticky="ew",
                        padx=(0 if index % columns == 0 else 8, 0), pady=(0 if index < columns else 8, 0))

    def choose(self, choice: str) -> None:
        """The first choice only: a double click must not report twice."""
        if self.chosen is None:
            self.chosen = choice
            self.on_choice(choice)

    def show(self, offset: int = 0) -> None:
        """Near the centre of the screen (a little above), OFFSET_STEP px down and right per pop-up
        already open, always whole on the screen. The layout is final before the window maps."""
        root = self.root
        root.update_idletasks()
        width, height = root.winfo_reqwidth(), root.winfo_reqheight()
        screen_w, screen_h = root.winfo_screenwidth(), root.winfo_screenheight()
        shift = (max(0, offset) % OFFSET_STEPS) * OFFSET_STEP
        x = min(max(0, (screen_w - width) // 2 + shift), max(0, screen_w - width))
        y = min(max(0, (screen_h - height) * 2 // 5 + shift), max(0, screen_h - height))
        root.geometry(f"+{x}+{y}")
        root.attributes("-topmost", True)
        if root.tk.call("tk", "windowingsystem") == "x11":
            with contextlib.suppress(tk.TclError):
                root.attributes("-type", "dialog")
        self.raise_window()

    def raise_window(self) -> None:
        self.root.deiconify()
        self.root.lift()
        self.root.focus_force()  # the window itself, not a button (see the class docstring)


def _make_styles(root: tk.Tk, fonts: dict[str, tkfont.Font]) -> None:
    global PAGE, BOX, INK, MUTED  # one window per process: its colours follow the theme in use
    colours = palette(root)
    PAGE, BOX, INK, MUTED = colours.page, colours.notice, colours.ink, colours.muted
    style = ttk.Style(root)
    style.configure("Page.TFrame", background=PAGE)
    style.configure("Box.TFrame", background=BOX)
    for name, font, colour, background in (
        ("Headline", "headline", INK, PAGE), ("Body", "base", INK, PAGE),
        ("Key", "base", MUTED, BOX), ("Name", "name", INK, BOX), ("Value", "base", INK, BOX),
    ):
        style.configure(f"{name}.TLabel", font=fonts[font], foreground=colour, background=background)
    # A narrow minimum width, so that four buttons fit on one row
    style.configure("TButton", font=fonts["base"], padding=(8, 6), width=-6)
    # The safe default: the theme's accent button, with the same font and padding as the others.
    accent_button(root, "Default.TButton", fonts["base"])
    style.configure("Default.TButton", padding=(8, 6), width=-6)


# --- process entry points ---

def run(volume_file: Path, language: str = "fr", offset: int = 0, raisable: bool = False) -> int:
    """raisable: main() installed the signal handlers (SIGUSR1 exists), so "ready" may be printed."""
    tr = translator(language)
    volume = load_volume(volume_file)

    def build(root: tk.Tk) -> UsbPopup:
        def finish(choice: str) -> None:
            emit(f"choice {choice}", "usb popup", "pop-up")
            log.info("usb popup: choice %s", choice)
            root.destroy()

        return UsbPopup(root, volume, tr, finish)

    return run_window("usb popup", CLASS_NAME, render(NO_DISPLAY, tr), build, raisable,
                      shown=lambda popup: popup.show(offset))


def main(argv: list[str] | None = None) -> int:
    raisable = install_signal_handlers()
    try:
        parser = argparse.ArgumentParser(prog="vigie ui usb", description=f"Alerte «{NBSP}Nouveau support USB{NBSP}».")
        parser.add_argument("--volume", type=Path, required=True, metavar="FICHIER",
                            help="description du support, écrite par l’agent (JSON)")
        parser.add_argument("--offset", type=int, default=0, metavar="N",
                            help="nombre d’alertes déjà ouvertes (décale la fenêtre)")
        parser.add_argument("--lang", choices=LANGUAGES, help="langue de la fenêtre (sinon VIGIE_LANG, puis fr)")
        args = parser.parse_args(argv)
        setup_logging(rotate=False)
        return run(args.volume, resolve_language(args.lang), args.offset, raisable)
    except Terminated:
        return 0
