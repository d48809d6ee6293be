"""« Vous pensez être victime d'une attaque ? »: the step-by-step incident guide, one step per screen,
usable offline.

Runs in its own process (`vigie ui incident [--lang fr|en]`, or `vigie incident` from a terminal).
On start it opens the incident, or resumes the open one at the step it was left on: the state is
written at every change (vigie.features.incident.state), so a crash, a kill -9 or a restart loses nothing.
One window per incident (guide_lock.py): a second opener brings the first one to the front and exits.
The first step cuts the network; the 72-hour countdowns wait until it is cut or the user went past it.
Each step is recorded as read (« Suivant »), declared (the user says it is done) or verified (Vigie
read the network back as cut): the report states only what happened.

Protocol on stdout, one flushed line each (the agent may ignore all but "ready"):
    ready               once SIGUSR1 only brings the window to the front
    already-open        another process shows this incident's guide (brought to the front); exit 0
    step N NAME         each time a step is shown (N from 1 to 7)
    closed              the user ended the incident (« Incident terminé »), just before exiting 0
SIGTERM closes the window quietly; the incident stays open.
Threading: Tk runs on the main thread; slow work (network, scan, copy, PDF) runs on worker threads
that never touch Tk and hand their result back through a queue polled with `after`.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import gettext
import logging
import os
import queue
import sys
import threading
import tkinter as tk
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from tkinter import filedialog, ttk
from tkinter import font as tkfont

from vigie import filenames
from vigie.features.incident import evidence, network
from vigie.features.incident.contacts import WHY_REPORT, Contact, configured_contacts, contact_list
from vigie.features.incident.deadlines import deadlines, remaining_text
from vigie.features.incident.guide_lock import GuideLock
from vigie.features.incident.report import STEP_TITLES, format_when, write_report
from vigie.features.incident.scan import ScanResult
from vigie.features.incident.state import (
    DECLARED,
    NETWORK_STEP,
    READ,
    STATE_FILE,
    STEPS,
    VERIFIED,
    Action,
    Incident,
    IncidentError,
    IncidentStore,
    Mark,
    Note,
    start_incident,
)
from vigie.i18n import LANGUAGES, render, resolve_language, translator
from vigie.journal import open_journal
from vigie.logs import setup_logging
from vigie.model import TN, Severity, T, Text
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

CLASS_NAME = "vigie-incident"
WIDTH, HEIGHT = 900, 688  # px: fits a 1366x768 laptop with its task bar; smaller screens scroll
PAD = 28
TICK_MS = 30_000  # the countdowns move by the minute; every 30 s is enough
WATCH_MS = 500  # a second opener's request to come to the front, a change made elsewhere: two stat calls
POLL_MS = 100  # worker results
SHOT_DELAY_MS = 600  # the guide hides itself before the screenshot: give the screen time to redraw

RED, GREEN, ORANGE = (hex_colour(COLOURS[s]) for s in (Severity.CRITICAL, Severity.OK, Severity.WARNING))
PAGE, BAND, INK, MUTED, LINE = LIGHT.page, LIGHT.band, LIGHT.ink, LIGHT.muted, LIGHT.border  # until _make_styles
FONT_SPECS = {  # name: (size, weight); large: people read this frightened, maybe without glasses
    "base": (14, "normal"), "bold": (14, "bold"), "small": (12, "normal"), "heading": (20, "bold"),
    "title": (16, "bold"), "band": (13, "bold"),
}

HEADER = T("Do you think you are under attack?")
TITLE = T("Vigie — Do you think you are under attack?")
NO_DISPLAY = T("Vigie: the incident guide cannot open (no display available). The incident is recorded; "
               "`vigie incident status` shows it.")
ALREADY_OPEN = T("The guide for this incident is already open: Vigie brought it to the front.")


def suggested_copy_folder() -> str | None:
    """Where removable drives appear, so the folder dialog opens close to them."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = ""
    candidates = [f"/media/{user}", f"/run/media/{user}"] if user else []
    return next((folder for folder in [*candidates, "/media", "/Volumes"] if os.path.isdir(folder)), None)


class Worker:
    """One slow job at a time per name, on a daemon thread; its result comes back on the Tk thread."""

    def __init__(self, root: tk.Tk) -> None:
        self.root = root
        self.results: queue.Queue[tuple[Callable[[object], None], object]] = queue.Queue()
        self.running: set[str] = set()
        self._polling = False

    def start(self, name: str, job: Callable[[], object], done: Callable[[object], None]) -> bool:
        if name in self.running:
            return False
        self.running.add(name)

        def work() -> None:
            try:
                result: object = job()
            except Exception as exc:  # handed to `done`, which says it in plain words
                log.exception("incident guide: %s failed", name)
                result = exc
            self.results.put((lambda value: (self.running.discard(name), done(value)), result))

        threading.Thread(target=work, name=f"vigie-incident-{name}", daemon=True).start()
        if not self._polling:
            self._polling = True
            self.root.after(POLL_MS, self._poll)
        return True

    def _poll(self) -> None:
        """Only while a job runs: an idle guide does not wake up ten times a second."""
        while True:
            try:
                callback, result = self.results.get_nowait()
            except queue.Empty:
                break
            callback(result)
        if self.running:
            self.root.after(POLL_MS, self._poll)
        else:
            self._polling = False


class IncidentGuide:
    """Header (title, « Étape N sur 7 », progress), the two countdowns, one step, « Précédent » / « Suivant ».
    Every change goes to the incident's state at once (see _record)."""

    def __init__(self, root: tk.Tk, store: IncidentStore, incident_id: str, language: str,
                 clock: Callable[[], datetime] = lambda: datetime.now().astimezone(),
                 can_cut: network.CutAvailability | None = None, lock: GuideLock | None = None) -> None:
        self.root, self.store, self.incident_id, self.clock = root, store, incident_id, clock
        self.tr = translator(language)
        self.can_cut = can_cut or network.CutAvailability()
        self.lock = lock
        self._raise_key = lock.raise_key() if lock else None
        self.incident = store.load(incident_id)
        self._state_key = self._stat_state()
        self.fonts = make_fonts(root, FONT_SPECS)
        self.worker = Worker(root)
        self.status: dict[str, tk.Label] = {}  # result lines of the current step, by action
        self.buttons: dict[str, ttk.Button] = {}  # action buttons of the current step
        self.countdowns: list[tuple[tk.Label, int]] = []  # step 6: label, deadline index
        self.scan_summary: Text | None = None
        _make_styles(root, self.fonts)
        root.title(self.t(TITLE))
        root.configure(background=PAGE)
        root.columnconfigure(0, weight=1)
        root.rowconfigure(2, weight=1)
        self._build_header()
        self._build_band()
        self._build_body()
        self._build_footer()
        root.protocol("WM_DELETE_WINDOW", root.destroy)  # the incident stays open; the tray reopens it

    def start(self) -> None:
        """The step the incident was left on, then the countdowns and the watch."""
        self.show(self.incident.step if self.incident.step in STEPS else STEPS[0])
        self._tick()
        self.root.after(WATCH_MS, self._watch)

    # helpers

    def t(self, text: Text) -> str:
        """A path may hold undecodable bytes: spelt out as \\xff (Tk would draw U+FFFD)."""
        return drawable(filenames.readable(render(text, self.tr)))

    def when(self, at: datetime) -> str:
        return at.astimezone().strftime("%H:%M")

    def change(self) -> contextlib.AbstractContextManager[Incident]:
        return self.store.change(self.incident_id)

    def _record(self, update: Callable[[Incident], None]) -> None:
        """Apply one change to the stored state, keep the copy shown, refresh the evidence manifest."""
        with self.change() as incident:
            update(incident)
        self.incident = incident
        self._state_key = self._stat_state()  # our own change: nothing to reload
        try:
            evidence.sync(self.store, incident)
        except OSError as exc:
            log.error("incident guide: evidence not synced: %s", exc)

    # frame, built once

    def _build_header(self) -> None:
        header = tk.Frame(self.root, background=RED, padx=PAD, pady=12)
        header.grid(row=0, column=0, sticky="ew")
        header.columnconfigure(0, weight=1)
        # Two thirds of the width, the rest for « Étape 1 sur 7 »: at 200 % the title wraps instead of being cut.
        tk.Label(header, text=self.t(HEADER), font=self.fonts["title"], foreground="#ffffff", background=RED,
                 justify="left", wraplength=(WIDTH - 2 * PAD) * 2 // 3).grid(row=0, column=0, sticky="w")
        self.progress_label = tk.Label(header, font=self.fonts["band"], foreground="#ffffff", background=RED)
        self.progress_label.grid(row=0, column=1, sticky="e")
        self.progress = tk.Canvas(header, height=8, background=RED, highlightthickness=0)
        self.progress.grid(row=1, column=0, columnspan=2, sticky="ew", pady=(8, 0))

    def _build_band(self) -> None:
        self.band = tk.Label(self.root, background=BAND, foreground=INK, font=self.fonts["band"], anchor="w",
                             justify="left", padx=PAD, pady=8, wraplength=WIDTH - 2 * PAD)
        self.band.grid(row=1, column=0, sticky="ew")

    def _build_body(self) -> None:
        body = tk.Frame(self.root, background=PAGE)
        body.grid(row=2, column=0, sticky="nsew")
        body.columnconfigure(0, weight=1)
        body.rowconfigure(0, weight=1)
        self.canvas = tk.Canvas(body, background=PAGE, highlightthickness=0, width=WIDTH, height=300)
        self.canvas.grid(row=0, column=0, sticky="nsew")
        self.scrollbar = ttk.Scrollbar(body, orient="vertical", command=self.canvas.yview)
        self.canvas.configure(yscrollcommand=self.scrollbar.set)
        self.content = tk.Frame(self.canvas, background=PAGE, padx=PAD, pady=16)
        self._item = self.canvas.create_window(0, 0, window=self.content, anchor="nw")
        self.content.bind("<Configure>", lambda _event: self._update_scrolling())
        self.canvas.bind("<Configure>", lambda event: self.canvas.itemconfigure(self._item, width=event.width))
        for sequence in ("<Button-4>", "<Button-5>", "<MouseWheel>"):
            self.root.bind_all(sequence, self._on_wheel)

    def _build_footer(self) -> None:
        tk.Frame(self.root, background=LINE, height=1).grid(row=3, column=0, sticky="ew")
        footer = tk.Frame(self.root, background=PAGE, padx=PAD, pady=14)
        footer.grid(row=4, column=0, sticky="ew")
        footer.columnconfigure(1, weight=1)
        self.back_button = ttk.Button(footer, text=self.t(T("Back")), command=lambda: self.go(-1))
        self.back_button.grid(row=0, column=0, sticky="w")
        self.next_button = ttk.Button(footer, text=self.t(T("Next")), style="Primary.TButton",
                                      command=lambda: self.go(1))
        self.next_button.grid(row=0, column=2, sticky="e")

    def _update_scrolling(self) -> None:
        self.canvas.configure(scrollregion=(0, 0, 0, self.content.winfo_reqheight()))
        if self.content.winfo_reqheight() > self.canvas.winfo_height() > 1:
            self.scrollbar.grid(row=0, column=1, sticky="ns")
        else:
            self.scrollbar.grid_remove()
            self.canvas.yview_moveto(0)

    def _on_wheel(self, event: tk.Event) -> None:
        if self.scrollbar.winfo_ismapped():
            self.canvas.yview_scroll(-2 if event.num == 4 or event.delta > 0 else 2, "units")

    # steps

    def show(self, step: str) -> None:
        for child in self.content.winfo_children():
            child.destroy()
        self.status.clear()
        self.buttons.clear()
        self.countdowns.clear()
        self.canvas.yview_moveto(0)
        number = STEPS.index(step) + 1
        if self.incident.step != step:
            self._record(lambda incident: setattr(incident, "step", step))
        self._heading(STEP_TITLES[step])
        getattr(self, f"_step_{step}")()
        self._show_progress(number)
        self.back_button.state(["disabled"] if number == 1 else ["!disabled"])
        if number == len(STEPS):
            self.next_button.grid_remove()
        else:
            self.next_button.grid()
        self._refresh_band()
        emit(f"step {number} {step}")
        log.info("incident guide: step %d %s", number, step)

    def go(self, delta: int) -> None:
        index = STEPS.index(self.incident.step)
        target = min(max(index + delta, 0), len(STEPS) - 1)
        if delta > 0:  # « Suivant » says the step was read, nothing more (a stronger mark is kept)
            now = self.clock()
            self._record(lambda incident: incident.mark_step(STEPS[index], now, READ))
        if target != index:
            self.show(STEPS[target])

    def _show_progress(self, number: int) -> None:
        self.progress_label.configure(text=self.t(T("Step {n} of {total}", n=number, total=len(STEPS))))
        self.progress.delete("all")
        self.root.update_idletasks()
        width = max(self.progress.winfo_width(), WIDTH - 2 * PAD)
        gap, size = 6, (width - 6 * (len(STEPS) - 1)) / len(STEPS)
        for index in range(len(STEPS)):
            colour = "#ffffff" if index < number else "#e58f8f"
            x = index * (size + gap)
            self.progress.create_rectangle(x, 0, x + size, 8, fill=colour, outline="")

    # content helpers

    def _label(self, text: str, font: str = "base", colour: str | None = None, parent: tk.Misc | None = None,
               pady: tuple[int, int] = (0, 10), indent: int = 0) -> tk.Label:
        """colour: INK when None, read now (INK follows the theme, see _make_styles)."""
        label = tk.Label(parent or self.content, text=text, font=self.fonts[font], foreground=colour or INK,
                         background=PAGE, justify="left", anchor="w", wraplength=WIDTH - 2 * PAD - 24 - indent)
        if parent is None:
            label.pack(anchor="w", fill="x", pady=pady, padx=(indent, 0))
        return label

    def _heading(self, text: Text) -> None:
        self._label(self.t(text), "heading", pady=(0, 10))

    def _para(self, text: Text, font: str = "base", colour: str | None = None, indent: int = 0) -> tk.Label:
        return self._label(self.t(text), font, colour, indent=indent)

    def _action_row(self, actions: list[tuple[str, Text, Callable[[], None]]], status_key: str | None = None,
                    hint: Text | None = None, below: bool = False) -> tk.Frame:
        """Buttons, and beside them (or below, for long news) the line that says what happened, or a hint
        until then."""
        row = tk.Frame(self.content, background=PAGE)
        row.pack(anchor="w", fill="x", pady=(2, 12))
        for column, (key, text, command) in enumerate(actions):
            button = ttk.Button(row, text=self.t(text), command=command, style="Action.TButton")
            # Top-aligned: a status growing to several lines beside them must not move them.
            button.grid(row=0, column=column, sticky="nw", padx=(0 if column == 0 else 10, 0))
            self.buttons[key] = button
        if status_key and below:
            self.status[status_key] = self._label(self.t(hint) if hint else "", "small", MUTED, pady=(0, 12))
        elif status_key:
            self.root.update_idletasks()
            used = sum(button.winfo_reqwidth() + 10 for button in self.buttons.values() if button.master is row)
            label = self._label(self.t(hint) if hint else "", "small", MUTED, parent=row)
            label.configure(wraplength=max(160, WIDTH - 2 * PAD - 40 - used))
            label.grid(row=0, column=len(actions), sticky="nw", padx=(16, 0), pady=(8, 0))
            self.status[status_key] = label
        return row

    def _say(self, key: str, text: Text | str, colour: str | None = None, font: str = "small") -> None:
        label = self.status.get(key)
        if label is not None and label.winfo_exists():
            label.configure(text=text if isinstance(text, str) else self.t(text), foreground=colour or MUTED,
                            font=self.fonts[font])

    # 1 — disconnect, without switching off

    def _step_cut_network(self) -> None:
        self._para(T("Do not switch the computer off and do not restart it: that would erase traces the experts "
                     "need. Only cut it off from the network: the attack then no longer reaches your other "
                     "devices, your shared drives or your backups."))
        can_cut = self.can_cut.wait()
        actions = [("cut", T("Cut the network"), self.cut_network)] if can_cut else []
        actions.append(("check", T("Done: check"), self.check_network))
        self._action_row(actions, "network", below=True,
                         hint=T("Vigie then checks that no connection is left, and notes the time."))
        self._para(T("By hand, in every case:") if can_cut else
                   T("Vigie cannot cut the network itself on this computer. Do it by hand:"), "bold")
        for step in network.manual_steps():
            self._para(step, "base", indent=16)
        last = next((a for a in reversed(self.incident.actions) if a.kind == "network_check"), None)
        if last is not None:
            self._show_check(last.detail, last.at)

    def cut_network(self) -> None:
        self._say("network", T("Cutting the network…"))

        def job() -> object:
            outcome = network.cut_network()
            try:
                return outcome, network.read_state()
            except Exception as exc:  # the cut happened (or not); the check failed: both are said
                return outcome, exc

        self.worker.start("cut", job, self._cut_done)

    def _cut_done(self, result: object) -> None:
        if not isinstance(result, tuple):
            self._say("network", T("Vigie could not cut the network: do it by hand as shown below."), RED)
            return
        outcome, state = result
        now = self.clock()
        detail = {"done": outcome.done, "method": outcome.method,
                  "reason": render(outcome.reason, self.tr) if outcome.reason else None}
        self._record(lambda incident: incident.actions.append(Action("network_cut", now, detail)))
        self._checked(state, now, outcome)

    def check_network(self) -> None:
        """« C'est fait : vérifier »: the user says it is done; Vigie reads the state to know. Declared only
        when the state cannot be read: a reading that shows a connection is believed over the user."""
        self._say("network", T("Checking…"))
        self.worker.start("check", network.read_state,
                          lambda state: self._checked(state, self.clock(), declared=True))

    def _checked(self, state: object, now: datetime, outcome: network.CutResult | None = None,
                 declared: bool = False) -> None:
        if isinstance(state, network.NetworkState):
            detail: dict[str, str | int | bool | None] = network.check_detail(state)
        else:
            reason = getattr(state, "reason", None) or network.UNREADABLE
            detail = {"cut": None, "error": render(reason, self.tr)}

        def update(incident: Incident) -> None:
            incident.actions.append(Action("network_check", now, detail))
            if detail["cut"] is True:
                incident.mark_step(NETWORK_STEP, now, VERIFIED)
            elif detail["cut"] is None and declared:
                incident.mark_step(NETWORK_STEP, now, DECLARED)

        self._record(update)
        self._show_check(detail, now, outcome, declared)
        self._refresh_band()

    def _show_check(self, detail: dict, at: datetime, outcome: network.CutResult | None = None,
                    declared: bool = False) -> None:
        if detail.get("cut") is True:
            self._say("network", T("Network cut: no connection left (checked at {time}).", time=self.when(at)),
                      GREEN, "bold")
            return
        if detail.get("cut") is None:
            problem = T("Vigie cannot read the state of the network ({reason}).", reason=str(detail.get("error")))
            if declared:
                problem = T("{problem} Noted as done by you, without a check.", problem=problem)
            self._say("network", problem, RED, "bold")
            return
        lines = [T("Still connected: {connections} (checked at {time}).",
                   connections=network.connections_from_detail(detail), time=self.when(at))]
        if outcome is not None and outcome.done:
            lines.insert(0, T("Vigie turned off what it could, but a connection is left: unplug it by hand."))
        elif outcome is not None and outcome.reason is not None:
            lines.insert(0, T("Vigie could not cut the network: {reason}", reason=outcome.reason))
        self._say("network", "\n".join(self.t(line) for line in lines), RED, "bold")

    # 2 — leave it on, stop using it

    def _step_keep_on(self) -> None:
        self._para(T("Leave it on and do not restart it: switching off erases traces the experts need, "
                     "and a restart can let the attack go further."))
        self._para(T("Apart from this guide, stop using the computer and do not let anyone else use it "
                     "until your IT provider has looked at it."))
        self._para(T("Vigie notes the time of each step for the incident report. You can come back to any step."),
                   "small", MUTED)

    # 3 — do not pay

    def _step_dont_pay(self) -> None:
        self._para(T("Paying guarantees neither that you get your data back nor that the blackmail stops: "
                     "8 victims out of 10 who paid were attacked again."))
        self._para(T("The money funds the criminals. Do not answer their messages either: "
                     "your IT provider and the police will handle them."))

    # 4 — evidence

    def _step_evidence(self) -> None:
        self._para(T("Delete nothing, no file and no message. Capture the screen that shows the ransom demand, "
                     "and note what you saw: Vigie adds the date and time."))
        self._action_row([("capture", T("Capture the screen"), self.capture)], "capture")
        self._show_capture_count()
        self._build_note_entry()
        self._para(T("Vigie adds by itself the names and dates of suspicious files (never their contents), "
                     "its own journal and the computer's details."), "small", MUTED)
        self.status["facts"] = self._label("", "small", MUTED, pady=(0, 10))
        self._action_row([("copy", T("Copy the evidence"), self.copy_evidence),
                          ("export", T("One zip file"), self.export_evidence)], "copy",
                         hint=T("On an empty USB drive, kept away from the other computers. The zip file is "
                                "for your IT provider or the expert."))
        if self.scan_summary is not None:
            self._say("facts", self.scan_summary)
        else:
            self.collect_facts()

    def _build_note_entry(self) -> None:
        top = tk.Frame(self.content, background=PAGE)
        top.pack(anchor="w", fill="x", pady=(0, 4))
        self._label(self.t(T("What did you see?")), "bold", parent=top).grid(row=0, column=0, sticky="w")
        self.status["note"] = self._label("", "small", MUTED, parent=top)
        self.status["note"].grid(row=0, column=1, sticky="w", padx=(16, 0))
        row = tk.Frame(self.content, background=PAGE)
        row.pack(anchor="w", fill="x", pady=(0, 12))
        row.columnconfigure(0, weight=1)
        self.note_text = tk.Text(row, height=2, font=self.fonts["base"], wrap="word", relief="solid",
                                 borderwidth=1, highlightthickness=1, highlightcolor=ORANGE)
        self.note_text.grid(row=0, column=0, sticky="ew")
        button = ttk.Button(row, text=self.t(T("Add the note")), command=self.add_note, style="Action.TButton")
        button.grid(row=0, column=1, sticky="ne", padx=(10, 0))
        self.buttons["note"] = button
        self._show_note_count()

    def _show_capture_count(self) -> None:
        shots = [a for a in self.incident.actions if a.kind == "screenshot"]
        if shots:
            self._say("capture", TN("{n} screenshot saved, the last at {time}.",
                                    "{n} screenshots saved, the last at {time}.", len(shots),
                                    time=self.when(shots[-1].at)), GREEN)

    def _show_note_count(self) -> None:
        notes = self.incident.notes
        if notes:
            self._say("note", TN("{n} note saved, the last at {time}.", "{n} notes saved, the last at {time}.",
                                 len(notes), time=self.when(notes[-1].at)), GREEN)

    def capture(self) -> None:
        """Hide the guide, wait for the screen to redraw, grab it, come back."""
        self.root.withdraw()
        self.root.update_idletasks()
        self.root.after(SHOT_DELAY_MS, self._grab)

    def _grab(self) -> None:
        now = self.clock()
        try:
            path, digest = evidence.capture_screen(self.store.evidence_dir(self.incident_id), now)
        except evidence.EvidenceError as exc:
            self._say("capture", exc.reason, RED)
            return
        finally:
            self.raise_window()
        relative = path.relative_to(self.store.evidence_dir(self.incident_id)).as_posix()
        self._record(lambda incident: incident.actions.append(
            Action("screenshot", now, {"file": relative, "sha256": digest})))
        self._show_capture_count()

    def add_note(self) -> None:
        text = self.note_text.get("1.0", "end").strip()
        if not text:
            return
        now = self.clock()
        self._record(lambda incident: incident.notes.append(Note(now, text)))
        self.note_text.delete("1.0", "end")
        self._show_note_count()

    def collect_facts(self, then: Callable[[], None] | None = None) -> None:
        self._say("facts", T("Vigie is looking through your folders…"))

        def job() -> object:
            journal, _problem = open_journal()
            try:
                return evidence.collect(self.store, self.incident_id, self.clock(), journal)
            finally:
                journal.close()

        def done(result: object) -> None:
            if isinstance(result, ScanResult):
                self.incident = self.store.load(self.incident_id)
                self.scan_summary = TN("{n} suspicious recent file found.", "{n} suspicious recent files found.",
                                       result.total)
            else:
                self.scan_summary = T("Vigie could not look through your folders.")
            self._say("facts", self.scan_summary)
            if then is not None:
                then()

        self.worker.start("facts", job, done)

    def copy_evidence(self) -> None:
        chosen = filedialog.askdirectory(parent=self.root, title=self.t(T("Where to copy the evidence?")),
                                         initialdir=suggested_copy_folder(), mustexist=True)
        if not chosen:
            return
        self._say("copy", T("Copying…"))
        self.worker.start("copy", lambda: evidence.copy_evidence(self.store, self.incident_id, Path(chosen)),
                          self._copied)

    def export_evidence(self) -> None:
        """The evidence folder as one zip file with its manifest, checked once written (issue 19, point 7)."""
        chosen = filedialog.askdirectory(parent=self.root, title=self.t(T("Where to write the zip file?")),
                                         initialdir=suggested_copy_folder(), mustexist=True)
        if not chosen:
            return
        self._say("copy", T("Writing the zip file…"))
        self.worker.start("export", lambda: evidence.export_zip(self.store, self.incident_id, Path(chosen),
                                                                self.clock()), self._exported)

    def _exported(self, result: object) -> None:
        if not isinstance(result, evidence.ExportResult):
            reason = getattr(result, "reason", None) or T("The zip file could not be written.")
            self._say("copy", reason, RED)
            return
        self.incident = self.store.load(self.incident_id)
        if result.verified:
            self._say("copy", T("Zip file written and checked: {path}", path=str(result.path)), GREEN)
        else:
            self._say("copy", T("The zip file differs from the evidence: try another drive."), RED)

    def _copied(self, result: object) -> None:
        if not isinstance(result, evidence.CopyResult):
            reason = getattr(result, "reason", None) or T("The evidence could not be copied.")
            self._say("copy", reason, RED)
            return
        now = self.clock()
        detail = {"path": str(result.path), "verified": result.verified}
        self._record(lambda incident: incident.actions.append(Action("evidence_copy", now, detail)))
        if result.verified:
            self._say("copy", T("Copied and checked: {path}", path=str(result.path)), GREEN)
        else:
            self._say("copy", TN("Copied, but {n} file differs: try another drive.",
                                 "Copied, but {n} files differ: try another drive.", len(result.problems)), RED)

    # 5 — alert

    def _step_alert(self) -> None:
        self._para(T("Alert them in this order, from another device (a phone, another computer), then press "
                     "“Done”."))
        for contact in contact_list(self.incident.contacts):
            self._contact_block(contact)

    def _contact_block(self, contact: Contact) -> None:
        row = tk.Frame(self.content, background=PAGE)
        row.pack(anchor="w", fill="x", pady=(4, 0))
        row.columnconfigure(0, weight=1)
        title = self._label(self.t(contact.title), "bold", parent=row)
        title.configure(wraplength=WIDTH - 2 * PAD - 240)
        title.grid(row=0, column=0, sticky="w")
        called = self.incident.called_at(contact.key)
        if called is None:
            button = ttk.Button(row, text=self.t(T("Done")), command=lambda key=contact.key: self.called(key),
                                style="Small.TButton")
            button.grid(row=0, column=1, sticky="e")
            self.buttons[f"call_{contact.key}"] = button
        else:
            tk.Label(row, text=self.t(T("Done at {time}", time=self.when(called))), font=self.fonts["small"],
                     foreground=GREEN, background=PAGE).grid(row=0, column=1, sticky="e")
        for line in contact.lines:
            self._label(self.t(line), "small", INK, pady=(0, 2), indent=16)

    def called(self, key: str) -> None:
        now = self.clock()

        def update(incident: Incident) -> None:
            if incident.called_at(key) is None:
                incident.calls.append(Mark(key, now, DECLARED))

        self._record(update)
        self.show("alert")

    # 6 — the two deadlines

    def _step_deadlines(self) -> None:
        blocks = (
            (T("File a complaint within 72 hours"),
             T("Your insurance pays for a cyberattack only if a complaint is filed within 72 hours "
               "(Code des assurances, article L12-10-1): at a police station or a gendarmerie, "
               "or start online with 17Cyber.")),
            (T("Notify the CNIL within 72 hours"),
             T("Required if patient data may have been seen, copied or made unreadable (RGPD, article 33): "
               "on cnil.fr, “Notify a personal data breach”.")),
        )
        for index, (title, text) in enumerate(blocks):
            self._para(title, "bold")
            self.countdowns.append((self._label("", "title", ORANGE, pady=(0, 4)), index))
            self._para(text, "small", INK)
        self._para(WHY_REPORT, "small", MUTED)
        self._action_row([("report", T("Create the PDF report"), self.make_report)], "report",
                         hint=T("The report gathers the timeline and the evidence: bring it to the police, "
                                "and send it to the CNIL and your insurer."))
        self._refresh_countdowns()

    def make_report(self) -> None:
        self._say("report", T("Creating the report…"))
        language_tr = self.tr

        def job() -> object:
            journal, _problem = open_journal()
            try:
                evidence.collect(self.store, self.incident_id, self.clock(), journal)
            finally:
                journal.close()
            return write_report(self.store, self.incident_id, self.clock(), language_tr)

        self.worker.start("report", job, self._reported)

    def _reported(self, result: object) -> None:
        if isinstance(result, Exception):
            self._say("report", T("The report could not be created."), RED)
            return
        self.incident = self.store.load(self.incident_id)
        name = result.name if isinstance(result, Path) else str(result)
        self._say("report", T("Report created: {file}, in the evidence folder (it is copied with the evidence).",
                              file=name), GREEN)

    # 7 — keep caring for patients

    def _step_keep_caring(self) -> None:
        self._para(T("Your patients' key documents remain available on dmp.fr: open it in the browser of another "
                     "computer or of a smartphone, with your CPS card or e-CPS."))
        self._para(T("Do not restore your files yourself: your IT provider will do it once the computer is clean, "
                     "from a backup that stayed disconnected."))
        self._para(T("When your IT provider tells you it is over:"), "bold")
        self.close_row = self._action_row([("close", T("Incident over"), self.ask_close)])

    def ask_close(self) -> None:
        """The confirmation takes the button's place, in the window itself: plain words on both buttons."""
        self.close_row.destroy()
        self.buttons.pop("close", None)
        self.close_row = tk.Frame(self.content, background=PAGE)
        self.close_row.pack(anchor="w", fill="x")
        self._label(self.t(T("Close the incident? Vigie keeps everything in its archive.")), "bold", RED,
                    parent=self.close_row).pack(anchor="w", pady=(0, 8))
        buttons = tk.Frame(self.close_row, background=PAGE)
        buttons.pack(anchor="w")
        for column, (key, text, command, style) in enumerate((
                ("confirm_close", T("Yes, the incident is over"), self.finish, "Action.TButton"),
                ("cancel_close", T("No, go on"), lambda: self.show("keep_caring"), "TButton"))):
            button = ttk.Button(buttons, text=self.t(text), command=command, style=style)
            button.grid(row=0, column=column, sticky="w", padx=(0 if column == 0 else 10, 0))
            self.buttons[key] = button

    def finish(self) -> None:
        journal, _problem = open_journal()
        try:
            self.store.close(self.incident_id, self.clock(), journal)
        finally:
            journal.close()
        log.info("incident guide: incident %s closed by the user", self.incident_id)
        emit("closed")
        self.root.destroy()

    # the countdowns

    def _tick(self) -> None:
        """Every TICK_MS: the countdowns move on."""
        self._refresh_band()
        self._refresh_countdowns()
        self.root.after(TICK_MS, self._tick)

    def _stat_state(self) -> tuple[int, int, int] | None:
        try:
            st = (self.store.folder(self.incident_id) / STATE_FILE).stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_ino, st.st_size

    def _watch(self) -> None:
        """Every WATCH_MS: a second opener asked for the window (it comes to the front); the state changed
        elsewhere (`vigie incident network` or `close` in a terminal): read again, or close with it."""
        if self.lock is not None and (key := self.lock.raise_key()) != self._raise_key:
            self._raise_key = key
            log.info("incident guide: brought to the front (opened again elsewhere)")
            self.raise_window()
        if (key := self._stat_state()) != self._state_key:
            self._state_key = key
            try:
                self.incident = self.store.load(self.incident_id)
            except IncidentError:
                self.incident.closed = True
            if self.incident.closed:
                log.info("incident guide: incident %s closed elsewhere", self.incident_id)
                emit("closed")
                self.root.destroy()
                return
            self._refresh_band()
        self.root.after(WATCH_MS, self._watch)

    def _refresh_band(self) -> None:
        """Hidden until the computer is isolated or the user went past step 1 (issue 19, point 1)."""
        if not self.incident.countdowns_shown():
            self.band.grid_remove()
            return
        complaint, cnil = deadlines(self.incident.detected_at, self.clock())
        self.band.configure(text=self.t(T("Time left — complaint: {complaint} · CNIL: {cnil}",
                                          complaint=remaining_text(complaint), cnil=remaining_text(cnil))),
                            foreground=RED if complaint.overdue else INK)
        self.band.grid()

    def _refresh_countdowns(self) -> None:
        both = deadlines(self.incident.detected_at, self.clock())
        for label, index in self.countdowns:
            deadline = both[index]
            if deadline.overdue:
                text = T("The 72 hours ended on {when}: do it anyway, as soon as possible.",
                         when=format_when(deadline.due, self.tr))
            else:
                text = T("Time left: {left} (before {when})", left=remaining_text(deadline),
                         when=format_when(deadline.due, self.tr))
            label.configure(text=self.t(text), foreground=RED if deadline.overdue else ORANGE)

    # window

    def place(self) -> None:
        root = self.root
        height = min(HEIGHT, root.winfo_screenheight() - 80)
        x = max(0, (root.winfo_screenwidth() - WIDTH) // 2)
        y = max(0, (root.winfo_screenheight() - height) // 3)
        root.geometry(f"{WIDTH}x{height}+{x}+{y}")
        root.minsize(640, 420)

    def raise_window(self) -> None:
        self.root.deiconify()
        self.root.lift()
        self.root.focus_force()


def _make_styles(root: tk.Tk, fonts: dict[str, tkfont.Font]) -> None:
    global PAGE, BAND, INK, MUTED, LINE  # one window per process: its colours follow the theme in use
    colours = palette(root)
    PAGE, BAND, INK, MUTED, LINE = colours.page, colours.band, colours.ink, colours.muted, colours.border
    style = ttk.Style(root)
    style.configure("TButton", font=fonts["base"], padding=(16, 8))
    style.configure("Action.TButton", font=fonts["bold"], padding=(18, 9))
    style.configure("Primary.TButton", font=fonts["bold"], padding=(26, 9))
    style.configure("Small.TButton", font=fonts["small"], padding=(12, 3))


# --- process entry points ---

def run(language: str = "fr", raisable: bool = False, store: IncidentStore | None = None,
        announce: bool = True) -> int:
    """raisable: the signal handlers are installed (SIGUSR1 exists): signals wake Tk's loop, and "ready"
    is printed unless announce is False (`vigie incident` in a terminal has no agent to tell)."""
    tr = translator(language)
    store = store or IncidentStore()
    try:
        incident, created = start_incident(datetime.now().astimezone(), configured_contacts(), store)
    except IncidentError as exc:  # a full disk: the detection time is kept, the reason says what to do
        log.error("incident guide: %s", exc)
        print(filenames.readable(render(exc.reason, tr)), file=sys.stderr)
        return 2
    log.info("incident guide: incident %s %s", incident.id, "opened" if created else "resumed")
    lock = GuideLock(incident.id)
    if not lock.acquire():
        lock.ask_to_raise()
        emit("already-open") if announce else print(render(ALREADY_OPEN, tr))
        return 0
    try:
        return _show(incident, store, language, tr, lock, raisable, announce)
    finally:
        lock.release()


def _show(incident: Incident, store: IncidentStore, language: str, tr: gettext.NullTranslations, lock: GuideLock,
          raisable: bool, announce: bool) -> int:
    can_cut = network.CutAvailability()  # asked while Tk starts
    try:
        evidence.sync(store, incident)
    except OSError as exc:  # done again at the next change, or by the report
        log.error("incident guide: evidence not synced: %s", exc)

    def build(root: tk.Tk) -> IncidentGuide:
        root.withdraw()
        guide = IncidentGuide(root, store, incident.id, language, can_cut=can_cut, lock=lock)
        guide.place()
        return guide

    def shown(guide: IncidentGuide) -> None:
        guide.start()
        guide.raise_window()

    return run_window("incident guide", CLASS_NAME, render(NO_DISPLAY, tr), build, raisable, announce, shown)


def main(argv: list[str] | None = None) -> int:
    raisable = install_signal_handlers()
    try:
        parser = argparse.ArgumentParser(prog="vigie ui incident",
                                         description="Guide « Vous pensez être victime d’une attaque ? ».")
        parser.add_argument("--lang", choices=LANGUAGES, help="langue de la fenêtre (sinon VIGIE_LANG, puis fr)")
        args = parser.parse_args(argv)
        setup_logging(rotate=False)
        return run(resolve_language(args.lang), raisable)
    except Terminated:
        return 0
