"""The « État de la sécurité » window: one block per check, read from the agent's status snapshot.

Runs in its own process (`vigie ui status`): Tk must not share a process with the tray (see
shared/notes/harness.md). The agent replaces the snapshot atomically; the window stats it every
2 s and re-renders when it changed. SIGUSR1 brings the window to the front.
All texts of the snapshot are already in the user's language: they are shown, never translated.
Threading: everything here runs on the main thread, inside Tk's event loop.
"""

from __future__ import annotations

import argparse
import enum
import gettext
import logging
import re
import tkinter as tk
from datetime import datetime
from pathlib import Path
from tkinter import font as tkfont
from tkinter import ttk
from typing import Literal

import msgspec

from vigie import paths
from vigie.i18n import LANGUAGES, render, resolve_language, translator
from vigie.logs import setup_logging
from vigie.model import TN, Severity, T
from vigie.ui.children import ACTION, asked_command
from vigie.ui.colours import COLOURS, hex_colour
from vigie.ui.look import LIGHT, palette
from vigie.ui.tk_support import (
    Terminated,
    drawable,
    emit,
    install_signal_handlers,
    make_fonts,
    run_window,
)

log = logging.getLogger(__name__)

CLASS_NAME = "vigie-status"
POLL_MS = 2000
MAX_SNAPSHOT_BYTES = 1_000_000
MAX_TEXT = 1000  # characters shown per field; the rest is cut with "…"
WIDTH = 640  # initial window width, px
PAD = 20

PAGE, CARD, BORDER, NOTICE = LIGHT.page, LIGHT.card, LIGHT.border, LIGHT.notice  # until _make_styles
INK, MUTED = LIGHT.ink, LIGHT.muted
FONT_SPECS = {  # name: (size, weight)
    "base": (11, "normal"), "bold": (11, "bold"), "heading": (12, "bold"), "headline": (17, "bold"),
    "small": (10, "normal"), "badge": (10, "bold"),
}
ORDER = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.UNKNOWN: 2, Severity.INFO: 3, Severity.OK: 4}

NBSP = "\u00a0"
TITLE = T("Vigie — Security status")
ALL_GOOD = T("All is well")
NOTHING_TO_FIX = T("Nothing to fix; good to know below")
INCOMPLETE = T("Vigie could not check everything")
NO_CHECKS = T("No check is enabled")
FIX = T("What to do:")  # before what the check says to do
CLOSE = T("Close")
CLICK_PAUSE_MS = 3000  # a clicked button rests this long: a double click starts one drill, not two
NO_DISPLAY = T("Vigie: the “Security status” window cannot open (no display available).")  # on stderr
BADGES = {  # the state of a check, on its card
    Severity.OK: T("OK"), Severity.INFO: T("Info"), Severity.WARNING: T("Warning"),
    Severity.CRITICAL: T("Urgent"), Severity.UNKNOWN: T("Unknown"),
}


# --- the snapshot (vigie-check/1): only the fields shown; unknown fields are ignored ---

class ActionEntry(msgspec.Struct):
    command: str  # "feature:action", handed back to the agent as is
    label: str


class CheckEntry(msgspec.Struct):
    id: str
    label: str
    severity: Literal["ok", "info", "warning", "critical", "unknown"]
    title: str
    detail: str
    fix: str
    action: ActionEntry | None = None  # its button (snapshots from before the buttons have none)

    @property
    def level(self) -> Severity:
        return Severity[self.severity.upper()]


class Problem(msgspec.Struct):
    message: str


class ConfigState(msgspec.Struct):
    problems: list[Problem]


class Report(msgspec.Struct):
    schema: Literal["vigie-check/1"]
    generated_at: str
    config: ConfigState
    checks: list[CheckEntry]


class Fault(enum.Enum):
    MISSING = "missing"  # the agent has not written its first snapshot yet
    UNREADABLE = "unreadable"  # corrupt, wrong schema, too big or not readable


FAULT_TEXTS = {  # header, message, hint
    Fault.MISSING: (
        T("Checking"),
        T("Vigie has not finished its first check yet."),
        T("This window will update by itself in a few moments."),
    ),
    Fault.UNREADABLE: (
        T("Status unavailable"),
        T("The security status cannot be read at the moment."),
        T("This window will try again by itself. If this message stays, tell your IT provider."),
    ),
}


def load_snapshot(path: Path) -> Report | Fault:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SNAPSHOT_BYTES + 1)
    except FileNotFoundError:
        return Fault.MISSING
    except OSError as exc:
        log.warning("status snapshot not readable: %s", exc.strerror)
        return Fault.UNREADABLE
    if len(data) > MAX_SNAPSHOT_BYTES:
        log.warning("status snapshot too big: over %d bytes", MAX_SNAPSHOT_BYTES)
        return Fault.UNREADABLE
    try:
        return msgspec.json.decode(data, type=Report)
    except msgspec.MsgspecError as exc:
        log.warning("status snapshot unreadable: %s", exc)
        return Fault.UNREADABLE


def incident_key() -> object:
    """Changes when an incident's state changes on disk, and every minute while one is open."""
    from vigie.features.incident.state import IncidentStore  # light: no Tk, no PDF
    from vigie.features.incident.watch import signature

    try:
        found = signature(IncidentStore())
    except Exception:  # an unreadable incidents folder: no card, never a crash
        log.exception("status window: incidents folder unreadable")
        return None
    return (found, datetime.now().strftime("%H:%M")) if found else None


def stat_key(path: Path) -> tuple[int, int, int] | None:
    """Changes whenever the agent replaces the file (new inode) or rewrites it."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_ino, st.st_size


# --- pure presentation helpers ---

_CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f]")


def safe_text(text: str, limit: int = MAX_TEXT) -> str:
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _CONTROLS.sub(" ", drawable(text))


def headline(report: Report, tr: gettext.NullTranslations) -> tuple[str, Severity]:
    levels = [check.level for check in report.checks]
    to_check = sum(level in (Severity.WARNING, Severity.CRITICAL) for level in levels)
    if to_check:
        text = TN("{n} item to check", "{n} items to check", to_check)
        return render(text, tr), max(level for level in levels if level != Severity.UNKNOWN)
    if Severity.UNKNOWN in levels:
        return render(INCOMPLETE, tr), Severity.UNKNOWN
    if not levels:
        return render(NO_CHECKS, tr), Severity.UNKNOWN
    if Severity.INFO in levels:  # nothing to fix, but something to read: not a plain "all is well"
        return render(NOTHING_TO_FIX, tr), Severity.INFO
    return render(ALL_GOOD, tr), Severity.OK


def last_check_line(generated_at: str, tr: gettext.NullTranslations) -> str:
    """The agent's local wall-clock time, as written in the snapshot (no time-zone conversion)."""
    try:
        when = datetime.fromisoformat(generated_at)
    except ValueError:
        log.warning("status snapshot: unreadable generated_at")
        return ""
    year, month, day, time = when.strftime("%Y %m %d %H:%M").split()
    date = T("{year}-{month}-{day}", year=year, month=month, day=day)  # the order each language writes dates in
    return render(T("Last check: {date} at {time}", date=date, time=time), tr)


def sorted_checks(report: Report) -> list[CheckEntry]:
    return sorted(report.checks, key=lambda check: ORDER[check.level])


def level_colour(level: Severity) -> str:
    return hex_colour(COLOURS[level])


# --- the window ---

class StatusWindow:
    """Header (overall state), scrollable list of check cards, notice band, « Fermer »."""

    def __init__(self, root: tk.Tk, snapshot: Path, tr: gettext.NullTranslations) -> None:
        self.root, self.snapshot, self.tr = root, snapshot, tr
        self.fonts = make_fonts(root, FONT_SPECS)
        self._key: object = object()  # differs from any stat_key(): the first refresh reads
        self._wrapped: list[tuple[tk.Widget, int]] = []  # (label, px taken by what is beside it)
        self._after: str | None = None
        _make_styles(root, self.fonts)
        root.title(render(TITLE, tr))
        root.configure(background=PAGE)
        root.columnconfigure(0, weight=1)
        root.rowconfigure(1, weight=1)
        self._build_header()
        self._build_body()
        self._build_footer()
        # Escape closes on release, once pressed here: the key-up is not left to another window.
        self._escape_pressed = False
        root.bind("<KeyPress-Escape>", lambda _event: setattr(self, "_escape_pressed", True))
        root.bind("<KeyRelease-Escape>", lambda _event: self.close() if self._escape_pressed else None)
        root.protocol("WM_DELETE_WINDOW", self.close)
        self.refresh()

    # layout, built once

    def _build_header(self) -> None:
        header = ttk.Frame(self.root, style="Page.TFrame", padding=(PAD, PAD, PAD, 12))
        header.grid(row=0, column=0, sticky="ew")
        self.dot = tk.Canvas(header, width=22, height=22, background=PAGE, highlightthickness=0)
        self.dot.grid(row=0, column=0, padx=(0, 10))
        self.headline = ttk.Label(header, style="Headline.TLabel", wraplength=WIDTH - 2 * PAD - 40)
        self.headline.grid(row=0, column=1, sticky="w")
        self.when = ttk.Label(header, style="Muted.TLabel")
        self.when.grid(row=1, column=1, sticky="w", pady=(2, 0))

    def _build_body(self) -> None:
        body = ttk.Frame(self.root, style="Page.TFrame", padding=(PAD, 0, PAD - 18, 0))
        body.grid(row=1, column=0, sticky="nsew")
        body.columnconfigure(0, weight=1)
        body.rowconfigure(0, weight=1)
        body.columnconfigure(1, minsize=18)  # the scroll bar's room is kept: showing it never rewraps
        self.canvas = tk.Canvas(body, width=WIDTH - 2 * PAD, background=PAGE, highlightthickness=0)
        self.canvas.grid(row=0, column=0, sticky="nsew")
        self.scrollbar = ttk.Scrollbar(body, orient="vertical", command=self.canvas.yview)
        self.canvas.configure(yscrollcommand=self.scrollbar.set)
        self.inner = ttk.Frame(self.canvas, style="Page.TFrame")
        self._item = self.canvas.create_window(0, 0, window=self.inner, anchor="nw")
        self.inner.bind("<Configure>", lambda _event: self._update_scrolling())
        self.canvas.bind("<Configure>", self._on_canvas_resize)
        for sequence in ("<Button-4>", "<Button-5>", "<MouseWheel>"):
            self.root.bind_all(sequence, self._on_wheel)

    def _build_footer(self) -> None:
        self.notice = tk.Label(self.root, background=NOTICE, foreground=MUTED, font=self.fonts["small"],
                               justify="left", anchor="w", padx=PAD, pady=8, wraplength=WIDTH - 2 * PAD)
        footer = ttk.Frame(self.root, style="Page.TFrame", padding=(PAD, 12, PAD, PAD))
        footer.grid(row=3, column=0, sticky="ew")
        self.close_button = ttk.Button(footer, text=render(CLOSE, self.tr), command=self.close)
        self.close_button.pack(side="right")

    # content, rebuilt on every change

    def refresh(self) -> None:
        """Re-read the snapshot if it changed since the last look (one stat call otherwise), or the
        incident's state (a few stat calls), or the minute while an incident is open (its countdowns)."""
        key = (stat_key(self.snapshot), incident_key())
        if key != self._key:
            self._key = key
            self.render(load_snapshot(self.snapshot))

    def render(self, state: Report | Fault) -> None:
        self._wrapped.clear()
        for child in self.inner.winfo_children():
            child.destroy()
        self.canvas.yview_moveto(0)
        try:
            self._incident_card()
            if isinstance(state, Report):
                self._render_report(state)
            else:
                self._render_fault(state)
        except Exception:  # a surprise in the data must not take the window down
            log.exception("status window: rendering failed")
            if state is not Fault.UNREADABLE:
                self.render(Fault.UNREADABLE)
            return
        self._fit_height()

    def _render_report(self, report: Report) -> None:
        text, level = headline(report, self.tr)
        self._set_header(text, level, last_check_line(report.generated_at, self.tr))
        for check in sorted_checks(report):
            self._check_card(check)
        self._set_notice([safe_text(problem.message) for problem in report.config.problems])

    def _incident_card(self) -> None:
        """While an incident is open, a red card on top: its step, its countdowns, how to resume the guide
        (issue 19, point 4). Read from the incident's own state, which the agent follows too."""
        from vigie.features.incident.deadlines import RESUME_COMMAND, RESUME_LABEL, status_card

        try:
            card = status_card(datetime.now().astimezone())
        except Exception:  # a damaged incident file must not take the window down
            log.exception("status window: incident state unreadable")
            return
        if card is None:
            return
        title, left, hint = (render(text, self.tr) for text in card)
        body = self._card(Severity.CRITICAL)
        self._wrapping(ttk.Label(body, text=safe_text(title), style="Heading.TLabel"), 0).pack(anchor="w")
        self._wrapping(ttk.Label(body, text=safe_text(left), style="Strong.TLabel"), 0).pack(anchor="w", pady=(4, 0))
        self._wrapping(ttk.Label(body, text=safe_text(hint), style="Body.TLabel"), 0).pack(anchor="w", pady=(4, 0))
        self._action_button(body, RESUME_COMMAND, render(RESUME_LABEL, self.tr))

    def _render_fault(self, fault: Fault) -> None:
        head, message, hint = (render(text, self.tr) for text in FAULT_TEXTS[fault])
        self._set_header(head, Severity.UNKNOWN, "")
        body = self._card(Severity.UNKNOWN)
        self._wrapping(ttk.Label(body, text=message, style="Heading.TLabel"), 0).pack(anchor="w")
        self._wrapping(ttk.Label(body, text=hint, style="Body.TLabel"), 0).pack(anchor="w", pady=(4, 0))
        self._set_notice([])

    def _set_header(self, text: str, level: Severity, when: str) -> None:
        self.dot.delete("all")
        self.dot.create_oval(2, 2, 20, 20, fill=level_colour(level), outline="")
        self.headline.configure(text=text)
        self.when.configure(text=when)
        if when:
            self.when.grid()
        else:
            self.when.grid_remove()

    def _set_notice(self, messages: list[str]) -> None:
        if messages:
            self.notice.configure(text="\n".join(messages))
            self.notice.grid(row=2, column=0, sticky="ew", pady=(8, 0))
        else:
            self.notice.grid_remove()

    def _card(self, level: Severity) -> ttk.Frame:
        """A white card with a stripe of the state colour; returns the frame to fill."""
        card = ttk.Frame(self.inner, style="Card.TFrame", padding=1)
        card.pack(fill="x", pady=(0, 10))
        tk.Frame(card, background=level_colour(level), width=6).pack(side="left", fill="y")
        body = ttk.Frame(card, style="Card.TFrame", padding=(14, 10, 14, 12), borderwidth=0)
        body.pack(side="left", fill="both", expand=True)
        return body

    def _check_card(self, check: CheckEntry) -> None:
        body = self._card(check.level)
        top = ttk.Frame(body, style="Card.TFrame", borderwidth=0)
        top.pack(fill="x")
        badge = tk.Label(top, text=render(BADGES[check.level], self.tr), background=level_colour(check.level),
                         foreground="#ffffff", font=self.fonts["badge"], padx=8, pady=2, borderwidth=0)
        badge.pack(side="left", anchor="n")
        label = ttk.Label(top, text=safe_text(check.label), style="Label.TLabel")
        self._wrapping(label, badge.winfo_reqwidth() + 10).pack(side="left", padx=(10, 0))
        title = ttk.Label(body, text=safe_text(check.title), style="Heading.TLabel")
        self._wrapping(title, 0).pack(anchor="w", pady=(8, 0))
        if check.detail:
            detail = ttk.Label(body, text=safe_text(check.detail), style="Body.TLabel")
            self._wrapping(detail, 0).pack(anchor="w", pady=(4, 0))
        if check.fix:
            self._fix_row(body, safe_text(check.fix))
        if check.action is not None and asked_command(ACTION + check.action.command):
            self._action_button(body, check.action.command, safe_text(check.action.label, 60))

    def _action_button(self, body: ttk.Frame, command: str, label: str) -> None:
        """The card's one action; the agent does it (a window cannot start a drill or eject a drive)."""
        button = ttk.Button(body, text=label)
        button.configure(command=lambda: self._clicked(button, command))
        button.pack(anchor="w", pady=(10, 0))

    def _clicked(self, button: ttk.Button, command: str) -> None:
        log.info("status window: %s asked", command)
        emit(ACTION + command, "status window")
        button.state(["disabled"])
        self.root.after(CLICK_PAUSE_MS, lambda: button.winfo_exists() and button.state(["!disabled"]))

    def _fix_row(self, body: ttk.Frame, fix: str) -> None:
        row = ttk.Frame(body, style="Card.TFrame", borderwidth=0)
        row.pack(fill="x", pady=(8, 0))
        what_to_do = render(FIX, self.tr)
        prefix = ttk.Label(row, text=what_to_do, style="Strong.TLabel")
        prefix.grid(row=0, column=0, sticky="nw", padx=(0, 6))
        text = ttk.Label(row, text=fix, style="Body.TLabel")
        self._wrapping(text, self.fonts["bold"].measure(what_to_do) + 10).grid(row=0, column=1, sticky="w")

    # wrapping and scrolling

    _CARD_INSET = 1 + 6 + 2 * 14 + 1 + 6  # border, stripe, padding, border, safety

    def _wrapping(self, label: ttk.Label, beside: int) -> ttk.Label:
        self._wrapped.append((label, beside))
        label.configure(wraplength=self._wrap_width(self._canvas_width(), beside))
        return label

    def _wrap_width(self, canvas_width: int, beside: int) -> int:
        return max(160, canvas_width - self._CARD_INSET - beside)

    def _canvas_width(self) -> int:
        width = self.canvas.winfo_width()
        return width if width > 1 else int(self.canvas.cget("width"))

    def _on_canvas_resize(self, event: tk.Event) -> None:
        self.canvas.itemconfigure(self._item, width=event.width)
        self.headline.configure(wraplength=event.width - 40)
        self.notice.configure(wraplength=event.width)
        for label, beside in self._wrapped:
            label.configure(wraplength=self._wrap_width(event.width, beside))
        self._update_scrolling()

    def _update_scrolling(self) -> None:
        self.canvas.configure(scrollregion=(0, 0, 0, self.inner.winfo_reqheight()))
        if self.inner.winfo_reqheight() > self.canvas.winfo_height() > 1:
            self.scrollbar.grid(row=0, column=1, sticky="nse")
        else:
            self.scrollbar.grid_remove()
            self.canvas.yview_moveto(0)

    def _fit_height(self) -> None:
        """Ask for the content's height, up to what the screen can show around header and footer."""
        self.root.update_idletasks()
        room = self.root.winfo_screenheight() - self.root.winfo_reqheight() + self.canvas.winfo_reqheight() - 120
        self.canvas.configure(height=max(40, min(self.inner.winfo_reqheight(), room)))

    def _on_wheel(self, event: tk.Event) -> None:
        if self.scrollbar.winfo_ismapped():
            step = -1 if event.num == 4 or event.delta > 0 else 1
            self.canvas.yview_scroll(step * 2, "units")

    # life cycle

    def watch(self) -> None:
        """Look at the snapshot every POLL_MS: a stat call, a re-read only when it changed."""
        self.refresh()
        self._after = self.root.after(POLL_MS, self.watch)

    def raise_window(self) -> None:
        self.root.deiconify()
        self.root.lift()
        self.root.focus_force()
        self.refresh()

    def close(self) -> None:
        if self._after is not None:
            self.root.after_cancel(self._after)
        self.root.destroy()


def _make_styles(root: tk.Tk, fonts: dict[str, tkfont.Font]) -> None:
    global PAGE, CARD, BORDER, NOTICE, INK, MUTED  # one window per process: its colours follow the theme in use
    colours = palette(root)
    PAGE, CARD, BORDER, NOTICE = colours.page, colours.card, colours.border, colours.notice
    INK, MUTED = colours.ink, colours.muted
    style = ttk.Style(root)
    style.configure("Page.TFrame", background=PAGE)
    # Sun Valley has its own rounded Card.TFrame, which would outline the frames nested in a card too:
    # a plain frame, its 1 px border drawn in BORDER.
    style.layout("Card.TFrame", [("Frame.border", {"sticky": "nswe"})])
    style.configure("Card.TFrame", background=CARD, bordercolor=BORDER, lightcolor=CARD, darkcolor=CARD,
                    relief="solid")
    for name, font, colour, background in (
        ("Headline", "headline", INK, PAGE), ("Muted", "small", MUTED, PAGE), ("Label", "bold", MUTED, CARD),
        ("Heading", "heading", INK, CARD), ("Body", "base", INK, CARD), ("Strong", "bold", INK, CARD),
    ):
        style.configure(f"{name}.TLabel", font=fonts[font], foreground=colour, background=background)
    style.configure("TButton", font=fonts["base"], padding=(18, 6))


# --- process entry points ---

def run(snapshot: Path, language: str = "fr", raisable: bool = False) -> int:
    """raisable: main() installed the signal handlers (SIGUSR1 exists), so "ready" may be printed."""
    tr = translator(language)

    def shown(window: StatusWindow) -> None:
        window.watch()
        window.raise_window()

    return run_window("status window", CLASS_NAME, render(NO_DISPLAY, tr),
                      lambda root: StatusWindow(root, snapshot, tr), raisable, shown=shown)


def main(argv: list[str] | None = None) -> int:
    raisable = install_signal_handlers()
    try:
        parser = argparse.ArgumentParser(prog="vigie ui status",
                                         description=f"Fenêtre «{NBSP}État de la sécurité{NBSP}».")
        parser.add_argument("--snapshot", type=Path, metavar="FICHIER",
                            help=f"état publié par l’agent (par défaut{NBSP}: celui de la session)")
        parser.add_argument("--lang", choices=LANGUAGES, help="langue de la fenêtre (sinon VIGIE_LANG, puis fr)")
        args = parser.parse_args(argv)
        setup_logging(rotate=False)
        return run(args.snapshot or paths.status_snapshot(), resolve_language(args.lang), raisable)
    except Terminated:
        return 0
