"""The settings window (`vigie ui settings`): what a practitioner may change, on one page.

It saves through the config store, as `vigie config set` does (every keyring call bounded there); the store then
rewrites the marker the running agent watches, so the agent applies the change within a second or two. What the
IT provider's policy fixes is shown greyed out with a short line saying so, never editable. A bad value, a locked
or missing keyring: a French sentence in the window and a log line, never a crash.

Lines printed for the agent (and the tests), besides "ready": "locked KEY" for each value the policy fixes,
"problem: TEXT" when the settings cannot be saved for now, and "shown: TEXT" with the text the result line shows.
"""

from __future__ import annotations

import argparse
import gettext
import logging
import tkinter as tk
from collections.abc import Callable
from dataclasses import dataclass
from tkinter import ttk
from types import MappingProxyType
from typing import Any

import msgspec

from vigie.config import ConfigError, ConfigStore, LoadedConfig
from vigie.config.store import describe_expected
from vigie.i18n import LANGUAGES, render, resolve_language, translator
from vigie.logs import setup_logging
from vigie.model import T, Text
from vigie.ui.look import palette, px
from vigie.ui.tk_support import (
    Terminated,
    drawable,
    emit,
    install_signal_handlers,
    make_fonts,
    run_window,
    scrolled_frame,
)

log = logging.getLogger(__name__)
CLASS_NAME = "vigie-settings"
WIDTH, HEIGHT = 760, 600  # fits 1366×768 with a taskbar
WRAP = WIDTH - 64
ERROR_INK, DONE_INK, MUTED = "#b42318", "#1a7f37", "#52606d"

TITLE = T("Vigie — Settings")
NO_DISPLAY = T("Vigie: the settings cannot open (no display).")
SAVE, CLOSE = T("Save"), T("Close")
FIXED = T("Set by your IT provider")
SAVED = T("Saved: Vigie uses these settings from now on.")
NOTHING_CHANGED = T("Nothing to save: these are already the settings.")
NOT_SAVABLE = T("These settings cannot be saved for now: {reason}")
BAD_VALUE = T("“{label}”: expected {expected}.")
REMIND_BEFORE_LOCK = T("The reminder must come before the lock: choose a reminder delay shorter than the lock delay.")
BAD_HOUR = T("“{label}”: expected an hour such as 19:00, or nothing for no reminder.")
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}


@dataclass(frozen=True)
class Field:
    key: str  # "section.name" in the config schema
    label: Text
    kind: str  # "bool", "int", "hour", "language"


GROUPS: tuple[tuple[Text, tuple[Field, ...]], ...] = (
    (T("Locking the screen"), (
        Field("idle_lock.enabled", T("Lock the computer when nobody uses it"), "bool"),
        Field("idle_lock.lock_after_seconds", T("Lock after (seconds without use):"), "int"),
        Field("idle_lock.remind_after_seconds", T("Reminder after (seconds without use):"), "int"),
    )),
    (T("Notifications"), (
        Field("notifications.enabled", T("Show Vigie's notifications"), "bool"),
        Field("notifications.repeat_minutes", T("Remind of a problem every (minutes):"), "int"),
    )),
    (T("CPS card"), (
        Field("cps_card.end_of_day", T("Remind to take the card at (empty: never):"), "hour"),
    )),
    (T("Language"), (
        Field("general.language", T("Language of Vigie:"), "language"),
    )),
)
FIELDS = tuple(field for _title, fields in GROUPS for field in fields)


def with_params(text: Text, **params: object) -> Text:
    """A message declared once (for the translators) filled with this time's values."""
    return Text(text.msgid, params=MappingProxyType(params))


def current(loaded: LoadedConfig, key: str) -> Any:
    section, _, name = key.partition(".")
    return getattr(getattr(loaded.config, section), name)


class SettingsWindow:
    def __init__(self, root: tk.Tk, tr: gettext.NullTranslations) -> None:
        self.root, self.tr = root, tr
        self.store = ConfigStore()
        self.loaded = self.store.load()
        root.title(render(TITLE, tr))
        # Scaled with the text (200 %: twice as large), and never larger than the screen.
        width = min(px(root, WIDTH), root.winfo_screenwidth() - 40)
        root.geometry(f"{width}x{min(px(root, HEIGHT), root.winfo_screenheight() - 80)}")
        self.wrap = min(px(root, WRAP), width - px(root, WIDTH - WRAP))
        root.minsize(520, 480)
        self.fonts = make_fonts(root, {"base": (11, "normal"), "heading": (14, "bold"), "small": (10, "normal")})
        global ERROR_INK, DONE_INK, MUTED  # one window per process: its colours follow the theme in use
        colours = palette(root)
        ERROR_INK, DONE_INK, MUTED = colours.error, colours.done, colours.muted
        self._buttons(root)  # packed first: always on screen, the settings scroll above them if need be
        outer = scrolled_frame(root, padding=(24, 16, 24, 12))
        self.problem = ttk.Label(outer, text="", wraplength=self.wrap, justify="left", foreground=ERROR_INK)
        self.values: dict[str, tk.Variable] = {}
        self.editable: list[tk.Widget] = []
        for title, fields in GROUPS:
            self._group(outer, title, fields)
        self.result = ttk.Label(outer, text="", wraplength=self.wrap, justify="left")
        self.result.pack(anchor="w", fill="x", pady=(12, 0))
        self._say_problem()
        root.protocol("WM_DELETE_WINDOW", self.close)
        root.bind("<Escape>", lambda _e: self.close())
        root.bind("<Return>", lambda _e: self.save())
        self._first_focus()

    # --- building ---

    def _buttons(self, root: tk.Tk) -> None:
        bar = ttk.Frame(root, padding=(24, 0, 24, 16))
        bar.pack(fill="x", side="bottom")
        ttk.Button(bar, text=render(CLOSE, self.tr), command=self.close).pack(side="left")
        ttk.Button(bar, text=render(SAVE, self.tr), command=self.save, default="active").pack(side="right")

    def _group(self, parent: ttk.Frame, title: Text, fields: tuple[Field, ...]) -> None:
        heading = ttk.Label(parent, text=render(title, self.tr), font=self.fonts["heading"])
        heading.pack(anchor="w", pady=(10, 4))
        self.first_heading = getattr(self, "first_heading", heading)
        grid = ttk.Frame(parent)
        grid.pack(fill="x", anchor="w")
        grid.columnconfigure(2, weight=1)
        for row, field in enumerate(fields):
            self._field(grid, row, field)

    def _field(self, grid: ttk.Frame, row: int, field: Field) -> None:
        value = current(self.loaded, field.key)
        label = render(field.label, self.tr)
        if field.kind == "bool":
            variable: tk.Variable = tk.BooleanVar(grid, bool(value))
            widget: tk.Widget = ttk.Checkbutton(grid, text=label, variable=variable)
            widget.grid(row=row, column=0, columnspan=2, sticky="w", pady=3)
        else:
            ttk.Label(grid, text=label).grid(row=row, column=0, sticky="w", padx=(0, 10), pady=3)
            if field.kind == "language":
                variable = tk.StringVar(grid, LANGUAGE_NAMES[value])
                widget = ttk.Combobox(grid, textvariable=variable, values=list(LANGUAGE_NAMES.values()),
                                      state="readonly", width=12)
            else:
                variable = tk.StringVar(grid, str(value))
                widget = ttk.Entry(grid, textvariable=variable, width=8)
            widget.grid(row=row, column=1, sticky="w", pady=3)
        self.values[field.key] = variable
        if field.key in self.loaded.locked:
            widget.state(["disabled"])
            ttk.Label(grid, text=render(FIXED, self.tr), font=self.fonts["small"], foreground=MUTED,
                      wraplength=px(self.root, 240)).grid(
                row=row, column=2, sticky="w", padx=(10, 0))
            emit(f"locked {field.key}", "settings")
        else:
            self.editable.append(widget)

    def _first_focus(self) -> None:
        entries = [w for w in self.editable if isinstance(w, ttk.Entry) and not isinstance(w, ttk.Combobox)]
        if entries:
            entries[0].focus_set()
            entries[0].select_range(0, "end")  # typing replaces the value, as after Tab

    def _say_problem(self) -> None:
        if not self.loaded.read_only:
            return
        reasons = " ".join(render(p.message, self.tr) for p in self.loaded.problems)
        text = drawable(render(with_params(NOT_SAVABLE, reason=reasons), self.tr))
        self.problem.configure(text=text)
        self.problem.pack(anchor="w", fill="x", before=self.first_heading)
        log.warning("settings window: %s", text)
        emit(f"problem: {text}", "settings")

    # --- saving ---

    def save(self) -> None:
        try:
            sections = self._changed_sections()
        except ConfigError as exc:
            self.say(exc.reason, ok=False)
            return
        if not sections:
            self.say(NOTHING_CHANGED)
            return
        try:
            for name, value in sections.items():
                self.store.replace_section(self.loaded, name, value)
        except ConfigError as exc:
            self.say(exc.reason, ok=False)
            return
        finally:
            self.loaded = self.store.load()  # what is stored now (some sections may have been saved)
        log.info("settings window: saved %s", ", ".join(sorted(sections)))
        self.say(SAVED, ok=True)

    def _changed_sections(self) -> dict[str, msgspec.Struct]:
        """The sections whose editable values differ from the stored ones, validated; ConfigError if one is bad."""
        wanted: dict[str, dict[str, Any]] = {}
        for field in FIELDS:
            if field.key in self.loaded.locked:
                continue
            value = self._read(field)
            if value != current(self.loaded, field.key):
                section, _, name = field.key.partition(".")
                wanted.setdefault(section, {})[name] = value
        sections = {}
        for section, changes in wanted.items():
            stored = getattr(self.loaded.config, section)
            data = msgspec.to_builtins(stored) | changes
            try:
                sections[section] = msgspec.convert(data, type(stored))
            except msgspec.ValidationError as exc:
                raise self._refusal(section, changes, exc) from exc
        idle = sections.get("idle_lock", self.loaded.config.idle_lock)
        if idle.enabled and idle.remind_after_seconds >= idle.lock_after_seconds:
            raise ConfigError(REMIND_BEFORE_LOCK)
        return sections

    def _read(self, field: Field) -> Any:
        raw = self.values[field.key].get()
        if field.kind == "bool":
            return bool(raw)
        if field.kind == "language":
            return next((code for code, name in LANGUAGE_NAMES.items() if name == raw), raw)
        text = str(raw).strip()
        if field.kind == "int":
            try:
                return int(text)
            except ValueError:
                raise self._bad(field) from None
        return text

    def _bad(self, field: Field) -> ConfigError:
        section, _, name = field.key.partition(".")
        if field.kind == "hour":
            return ConfigError(with_params(BAD_HOUR, label=self._short(field)))
        expected = describe_expected(type(getattr(self.loaded.config, section)), name)
        return ConfigError(with_params(BAD_VALUE, label=self._short(field), expected=render(expected, self.tr)))

    def _short(self, field: Field) -> str:
        """The field's label without its colon, to be quoted in a sentence."""
        return render(field.label, self.tr).rstrip(" :\u00a0")

    def _refusal(self, section: str, changes: dict[str, Any], exc: msgspec.ValidationError) -> ConfigError:
        log.info("settings window: %s refused: %s", section, exc)
        for field in FIELDS:
            if field.key.partition(".")[0] == section and field.key.partition(".")[2] in changes \
                    and field.key.partition(".")[2] in str(exc):
                return self._bad(field)
        return self._bad(next(f for f in FIELDS if f.key.startswith(section + ".")))

    def say(self, text: Text | str, ok: bool | None = None) -> None:
        shown = drawable(text if isinstance(text, str) else render(text, self.tr))
        self.result.configure(text=shown, foreground={True: DONE_INK, False: ERROR_INK, None: ""}[ok])
        if ok is False:
            log.warning("settings window: not saved: %s", shown)
        emit(f"shown: {shown}".replace("\n", " "), "settings")

    def close(self) -> None:
        self.root.destroy()

    def raise_window(self) -> None:
        self.root.deiconify()
        self.root.lift()
        self.root.focus_force()


def run(language: str, raisable: bool, build: Callable[[tk.Tk], SettingsWindow] | None = None) -> int:
    tr = translator(language)
    return run_window("settings", CLASS_NAME, render(NO_DISPLAY, tr), build or (lambda root: SettingsWindow(root, tr)),
                      raisable)


def main(argv: list[str] | None = None) -> int:
    raisable = install_signal_handlers()
    try:
        parser = argparse.ArgumentParser(prog="vigie ui settings")
        parser.add_argument("--lang", choices=LANGUAGES)
        args = parser.parse_args(argv)
        setup_logging(rotate=False)
        return run(resolve_language(args.lang), raisable)
    except Terminated:
        return 0
