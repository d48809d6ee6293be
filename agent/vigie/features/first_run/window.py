"""The setup assistant's window (`vigie ui first-run`): one page per step, in plain words, no command to type.

Each step saves through the same functions as the command line (`vigie backup enroll`, `backup add-repo`,
`backup drill`, `cps enroll`, `config set`): the settings go to the keyring through the config store, the
repository's password to a keyring entry of its own, the restore test's proof to the journal. What the IT
provider's policy fixes is shown, not editable. Slow work (restic, borg, the restore test, waiting for the
card) runs on a worker thread; Tk only ever runs on the main thread, which polls the worker's result.

Lines printed for the agent (and the tests), besides "ready": "page NAME" when a page shows, and
"shown STEP: TEXT" with the text a step's result line now shows.
"""

from __future__ import annotations

import argparse
import gettext
import logging
import queue
import threading
import tkinter as tk
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from tkinter import filedialog, ttk

import msgspec

from vigie.config import ConfigError, ConfigStore
from vigie.errors import VigieError
from vigie.features.first_run.feature import JOURNAL_KIND
from vigie.i18n import LANGUAGES, render, resolve_language, translator
from vigie.journal import open_journal
from vigie.logs import setup_logging
from vigie.model import TN, T, Text
from vigie.ui.look import LIGHT, palette, px
from vigie.ui.tk_support import Terminated, drawable, emit, install_signal_handlers, make_fonts, run_window

log = logging.getLogger(__name__)
CLASS_NAME = "vigie-first-run"
WIDTH, HEIGHT = 780, 600  # fits 1366×768 with a taskbar, and the tests' 1024×768
WRAP = WIDTH - 80
POLL_MS = 100
CARD_WAIT_SECONDS = 30.0
ERROR_INK, DONE_INK, MUTED = LIGHT.error, LIGHT.done, LIGHT.muted  # until the window reads the theme

TITLE = T("Vigie — Setup assistant")
NO_DISPLAY = T("Vigie: the setup assistant cannot open (no display).")
BACK, NEXT, FINISH, CLOSE = T("Previous"), T("Next"), T("Finish"), T("Close")
CHOOSE = T("Choose…")
NOT_SET = T("not filled in")
WORKING = T("Please wait…")
UNKNOWN_REASON = T("unknown reason")
STILL_BUSY = T("Vigie is still busy with another step: try again in a moment.")

WELCOME = (T("Welcome to Vigie"), (
    T("Vigie watches over this computer's security for you: system updates, backups, locking the screen "
      "when you step away, USB drives and your CPS card."),
    T("When something needs your attention, its icon next to the clock changes colour and a short message "
      "says what to do, in plain words."),
    T("This assistant sets it up in a few minutes: your backup, your CPS card, whom to call, and when the "
      "screen locks. You can skip any step and come back later from the icon's menu."),
))
FOLDER_PAGE = (T("Your backup drive"), T(
    "Choose the folder where your backups are copied (on an external drive or a network storage, NAS), then "
    "the folder it copies (your files, the originals). Vigie then checks that the backup is recent and that "
    "your files can be restored from it."))
BACKUP_FOLDER, ORIGINALS = T("Backup folder:"), T("Folder it copies (your files):")
SAVE_FOLDER = T("Save this backup")
NO_FOLDER = T("Choose the backup folder first.")
NO_ORIGINALS = T("Without the folder it copies, the restore test can only read the backup back, "
                 "not compare it with your files.")
REPO_PAGE = (T("Backup software (restic, borg)"), T(
    "If your backups are made by restic or borg, give the repository and its password: Vigie keeps the "
    "password in the system's keyring and only reads the backups. Otherwise, skip this step."))
KIND, NAME, REPOSITORY, PASSWORD = T("Software:"), T("Name:"), T("Repository:"), T("Password:")
SAVE_REPO = T("Save this repository")
NO_REPOSITORY = T("Enter the repository's place first.")
NO_PASSWORD = T("Enter the repository's password.")
NO_SNAPSHOT = T("It holds no backup yet.")
RESTORE_PAGE = (T("Test the restore"), T(
    "A backup only counts if your files come back from it. Vigie restores a few files into a private "
    "folder of this computer, compares them with your originals, then deletes the copies."))
TEST_NOW = T("Test the restore now")
NOTHING_TO_TEST = T("No backup can be tested right now: plug in the backup drive.")
CPS_PAGE = (T("Your CPS card"), T(
    "Insert your CPS card in the reader, then press “Record my card”. Vigie then locks the screen when "
    "the card is taken out. It reads only the card's type: nothing is written to it."))
RECORD_CARD = T("Record my card")
INSERT_CARD = T("Insert your CPS card…")
CONTACTS_PAGE = (T("Whom to call"), T(
    "If the computer is attacked, Vigie's guide tells you whom to call first: your IT provider."))
IT_NAME, IT_PHONE = T("IT provider:"), T("Their phone number:")
SAVE_CONTACTS = T("Save the contacts")
CONTACTS_SAVED = T("Contacts saved.")
CONTACTS_FIXED = T("Your IT provider filled these in.")
LOCK_PAGE = (T("Locking the screen"), T(
    "When nobody uses the computer, Vigie locks the screen so that no one can read a patient's file. "
    "A short delay protects better; a reminder comes one minute before."))
LOCK_DELAY = T("Lock after (minutes):")
SAVE_DELAY = T("Save the delay")
BAD_DELAY = T("Enter a whole number of minutes from 1 to 240.")
DELAY_FIXED = T("Your IT provider set this delay.")
DONE_PAGE = (T("All set"), T(
    "Thank you. Vigie keeps watch from its icon next to the clock; its menu opens this assistant again "
    "whenever you want."))
SETTINGS_LATER = T("The lock delay, the notifications and the language can be changed at any time from the icon's "
                   "menu, “Settings…”: a change there applies at once.")
# The backup drill and the card watch keep what they had at the agent's start (issue 18, point 3).
ENROLLED_AT_NEXT_START = T("The backup and the CPS card recorded here are fully taken into account from the "
                           "agent's next start.")


def drill_line(result, target, tr: gettext.NullTranslations) -> Text:
    """What one restore test proved, honestly: « identical » only when originals were compared."""
    from vigie.features.backup import drill
    from vigie.features.backup.restore_drill import problem_text

    n = len(result.checked)
    if result.outcome == drill.Outcome.PASSED:
        return TN("{source}: passed, {n} file restored and identical to your original.",
                  "{source}: passed, {n} files restored and identical to your originals.", n, source=target.label)
    if result.outcome == drill.Outcome.READABLE:
        return TN("{source}: {n} file read back from the backup, but not compared with your files (result "
                  "unknown). Give the folder it copies on the “Your backup drive” page to compare them.",
                  "{source}: {n} files read back from the backup, but not compared with your files (result "
                  "unknown). Give the folder it copies on the “Your backup drive” page to compare them.",
                  n, source=target.label)
    if result.outcome == drill.Outcome.FAILED:
        problems = "; ".join(render(problem_text(p.problem, p.name), tr) for p in result.problems[:3])
        return T("{source}: the backup does not restore correctly ({problems}).", source=target.label,
                 problems=problems)
    return T("{source}: not done, {reason}.", source=target.label, reason=result.reason or UNKNOWN_REASON)


class Worker:
    """One slow task at a time on a daemon thread; its result is handed back on Tk's thread."""

    def __init__(self, root: tk.Tk) -> None:
        self.root = root
        self.results: queue.Queue[tuple[Callable[[object], None], object]] = queue.Queue()
        self.busy = False

    def run(self, task: Callable[[], object], done: Callable[[object], None]) -> bool:
        if self.busy:
            return False
        self.busy = True

        def body() -> None:
            try:
                outcome: object = task()
            except Exception as exc:  # shown to the user as a reason, logged with its trace
                log.exception("setup assistant: a step failed")
                outcome = exc
            self.results.put((done, outcome))

        threading.Thread(target=body, name="vigie-first-run-task", daemon=True).start()
        self.root.after(POLL_MS, self._poll)
        return True

    def _poll(self) -> None:
        try:
            done, outcome = self.results.get_nowait()
        except queue.Empty:
            self.root.after(POLL_MS, self._poll)
            return
        self.busy = False
        done(outcome)


class FirstRunWindow:
    def __init__(self, root: tk.Tk, tr: gettext.NullTranslations, language: str = "fr",
                 page: str | None = None) -> None:
        self.root, self.tr = root, tr
        root.tk.call("::msgcat::mclocale", language)  # Tk's own folder picker in the user's language
        # … without hidden folders (.cache, .local: nothing a clinician picks); the call loads its namespace.
        root.tk.eval("catch {tk_getOpenFile -no-such-option}; set ::tk::dialog::file::showHiddenVar 0;"
                     " set ::tk::dialog::file::showHiddenBtn 0")  # its label has no French
        self.loaded = ConfigStore().load()
        self.worker = Worker(root)
        root.title(render(TITLE, tr))
        # Scaled with the text (200 %: twice as large), and never larger than the screen.
        width = min(px(root, WIDTH), root.winfo_screenwidth() - 40)
        root.geometry(f"{width}x{min(px(root, HEIGHT), root.winfo_screenheight() - 80)}")
        self.wrap = min(px(root, WRAP), width - px(root, WIDTH - WRAP))
        root.minsize(640, 480)
        self.fonts = make_fonts(root, {"base": (11, "normal"), "heading": (16, "bold"), "small": (10, "normal"),
                                       "bold": (11, "bold")})
        global ERROR_INK, DONE_INK, MUTED  # one window per process: its colours follow the theme in use
        colours = palette(root)
        ERROR_INK, DONE_INK, MUTED = colours.error, colours.done, colours.muted
        outer = ttk.Frame(root, padding=(24, 18, 24, 14))
        outer.pack(fill="both", expand=True)
        self.step_label = ttk.Label(outer, text="", font=self.fonts["small"], foreground=MUTED)
        self.step_label.pack(anchor="w")
        self.heading = ttk.Label(outer, text="", font=self.fonts["heading"])
        self.heading.pack(anchor="w", pady=(2, 10))
        ttk.Separator(outer).pack(fill="x", side="bottom", pady=(10, 0))
        self.body = ttk.Frame(outer)
        self.body.pack(fill="both", expand=True)
        self._buttons(root)
        self.results: dict[str, ttk.Label] = {}
        self.pages: list[tuple[str, Text, Callable[[ttk.Frame], Callable[[], None] | None]]] = [
            ("welcome", WELCOME[0], self._welcome), ("backup_folder", FOLDER_PAGE[0], self._folder_page),
            ("backup_repo", REPO_PAGE[0], self._repo_page), ("restore", RESTORE_PAGE[0], self._restore_page),
            ("cps", CPS_PAGE[0], self._cps_page), ("contacts", CONTACTS_PAGE[0], self._contacts_page),
            ("lock", LOCK_PAGE[0], self._lock_page), ("done", DONE_PAGE[0], self._done_page),
        ]
        self.frames: list[tuple[ttk.Frame, Callable[[], None] | None]] = []
        for _name, _title, build in self.pages:
            frame = ttk.Frame(self.body)
            self.frames.append((frame, build(frame)))
        root.protocol("WM_DELETE_WINDOW", lambda: self.close("closed"))
        root.bind("<Alt-p>", lambda _e: self.show(self.index - 1))
        root.bind("<Alt-s>", lambda _e: self.next())
        root.bind("<Alt-n>", lambda _e: self.next())
        root.bind("<Alt-t>", lambda _e: self.next())  # « Terminer » on the last page
        root.bind("<Alt-f>", lambda _e: self.next())  # … "Finish" in English
        root.bind("<Escape>", lambda _e: self.close("closed"))
        self.index = -1
        names = [name for name, _title, _build in self.pages]
        self.show(names.index(page) if page in names else 0)

    # --- frame and navigation ---

    def _buttons(self, root: tk.Tk) -> None:
        bar = ttk.Frame(root, padding=(24, 0, 24, 16))
        bar.pack(fill="x", side="bottom")
        self.close_button = ttk.Button(bar, text=render(CLOSE, self.tr), command=lambda: self.close("closed"))
        self.close_button.pack(side="left")
        self.next_button = ttk.Button(bar, text=render(NEXT, self.tr), command=self.next, default="active",
                                      underline=0)  # Alt+S (Suivant) / Alt+N (Next)
        self.next_button.pack(side="right")
        self.next_button.bind("<Return>", lambda _e: self.next())  # the default button: Return too, as in dialogs
        self.back_button = ttk.Button(bar, text=render(BACK, self.tr), command=lambda: self.show(self.index - 1),
                                      underline=0)  # Alt+P
        self.back_button.pack(side="right", padx=(0, 8))

    def show(self, index: int) -> None:
        if not 0 <= index < len(self.pages) or index == self.index:
            return
        if self.index >= 0:
            self.frames[self.index][0].pack_forget()
        self.index = index
        name, title, _build = self.pages[index]
        frame, focus = self.frames[index]
        frame.pack(fill="both", expand=True)
        self.heading.configure(text=render(title, self.tr))
        self.step_label.configure(text=render(T("Step {n} of {total}", n=index + 1, total=len(self.pages)), self.tr))
        last = index == len(self.pages) - 1
        self.next_button.configure(text=render(FINISH if last else NEXT, self.tr))
        self.back_button.state(["disabled"] if index == 0 else ["!disabled"])
        (focus or self.next_button.focus_set)()
        log.info("setup assistant: page %s", name)
        emit(f"page {name}", "setup assistant")

    def next(self) -> None:
        if self.index == len(self.pages) - 1:
            self.close("finished")
        else:
            self.show(self.index + 1)

    def close(self, how: str) -> None:
        self.journal(event=how)
        log.info("setup assistant %s", how)
        self.root.destroy()

    def raise_window(self) -> None:
        self.root.deiconify()
        self.root.lift()
        self.root.focus_force()

    # --- shared pieces of a page ---

    def _text(self, parent: ttk.Frame, text: Text, **pack: object) -> ttk.Label:
        label = ttk.Label(parent, text=render(text, self.tr), wraplength=self.wrap, justify="left")
        label.pack(anchor="w", **({"pady": (0, 12)} | pack))
        return label

    def _result(self, parent: ttk.Frame, step: str) -> ttk.Label:
        label = ttk.Label(parent, text="", wraplength=self.wrap, justify="left")
        label.pack(anchor="w", pady=(10, 0), fill="x")
        self.results[step] = label
        return label

    def say(self, step: str, text: Text | str, ok: bool | None = None) -> None:
        shown = drawable(text if isinstance(text, str) else render(text, self.tr))
        colour = {True: DONE_INK, False: ERROR_INK, None: ""}[ok]
        self.results[step].configure(text=shown, foreground=colour)
        if ok is False:
            log.warning("setup assistant: step %s not done: %s", step, shown)
        emit(f"shown {step}: {shown}".replace("\n", " "), "setup assistant")

    def _grid(self, parent: ttk.Frame) -> ttk.Frame:
        grid = ttk.Frame(parent)
        grid.pack(fill="x", anchor="w")
        grid.columnconfigure(1, weight=1)
        return grid

    def _row(self, grid: ttk.Frame, row: int, label: Text, widget: tk.Widget) -> None:
        ttk.Label(grid, text=render(label, self.tr)).grid(row=row, column=0, sticky="w", padx=(0, 10), pady=4)
        widget.grid(row=row, column=1, sticky="ew", pady=4)

    def _folder_row(self, grid: ttk.Frame, row: int, label: Text, variable: tk.StringVar) -> ttk.Entry:
        entry = ttk.Entry(grid, textvariable=variable)
        self._row(grid, row, label, entry)
        ttk.Button(grid, text=render(CHOOSE, self.tr), command=lambda: self._pick(variable)).grid(
            row=row, column=2, padx=(8, 0), pady=4)
        return entry

    def _pick(self, variable: tk.StringVar) -> None:
        start = variable.get() if Path(variable.get() or "/nonexistent").is_dir() else str(Path.home())
        chosen = filedialog.askdirectory(parent=self.root, initialdir=start, mustexist=True)
        if chosen:
            variable.set(chosen)

    def _fixed(self, value: str) -> str:
        """A value the IT provider's policy set: shown, not editable."""
        return render(T("{value} (set by your IT provider)", value=value or render(NOT_SET, self.tr)), self.tr)

    def journal(self, **data: object) -> None:
        journal, _problem = open_journal()
        try:
            journal.record(JOURNAL_KIND, datetime.now().astimezone(), **data)
        finally:
            journal.close()

    def saved(self, step: str) -> None:
        self.journal(event="saved", step=step)
        self.loaded = ConfigStore().load()  # the next save checks against what is stored now

    def busy(self, step: str, working: Text = WORKING) -> bool:
        """Whether another slow step still runs (then said on this step's line); else `working` is shown."""
        if self.worker.busy:
            self.say(step, STILL_BUSY)
            return True
        self.say(step, working)
        return False

    # --- the pages (each returns what takes the focus when it shows) ---

    def _welcome(self, page: ttk.Frame) -> None:
        for sentence in WELCOME[1]:
            self._text(page, sentence)

    def _folder_page(self, page: ttk.Frame) -> Callable[[], None]:
        self._text(page, FOLDER_PAGE[1])
        stored = self.loaded.config.backup_age.destinations
        self.folder = tk.StringVar(page, stored[-1].path if stored else "")
        self.originals = tk.StringVar(page, stored[-1].originals if stored else "")
        grid = self._grid(page)
        first = self._folder_row(grid, 0, BACKUP_FOLDER, self.folder)
        second = self._folder_row(grid, 1, ORIGINALS, self.originals)
        save = ttk.Button(page, text=render(SAVE_FOLDER, self.tr), command=self.save_folder)
        save.pack(anchor="w", pady=(10, 0))
        for widget in (first, second, save):
            widget.bind("<Return>", lambda _e: self.save_folder())
        self._result(page, "backup_folder")
        return first.focus_set

    def save_folder(self) -> None:
        from vigie.features.backup.cli import enroll_folder

        if not self.folder.get().strip():
            self.say("backup_folder", NO_FOLDER, ok=False)
            return
        folder = Path(self.folder.get().strip()).expanduser().resolve()
        originals = Path(self.originals.get().strip()).expanduser().resolve() if self.originals.get().strip() else None
        if originals is not None and not originals.is_dir():
            self.say("backup_folder", T("This folder does not exist: {path}", path=str(originals)), ok=False)
            return
        try:
            enroll_folder(self.loaded, folder, originals)
        except VigieError as exc:
            self.say("backup_folder", exc.reason, ok=False)
            return
        self.saved("backup_folder")
        text = render(T("Backup folder enrolled: {path}", path=str(folder)), self.tr)
        if originals is None:
            text += " " + render(NO_ORIGINALS, self.tr)
        self.say("backup_folder", text, ok=originals is not None or None)

    def _repo_page(self, page: ttk.Frame) -> Callable[[], None]:
        self._text(page, REPO_PAGE[1])
        grid = self._grid(page)
        self.repo_kind = tk.StringVar(page, "restic")
        kind = ttk.Combobox(grid, textvariable=self.repo_kind, values=("restic", "borg"), state="readonly", width=10)
        self._row(grid, 0, KIND, kind)
        kind.grid_configure(sticky="w")
        self.repo_place = tk.StringVar(page, "")
        place = self._folder_row(grid, 1, REPOSITORY, self.repo_place)
        self.repo_name = tk.StringVar(page, "cabinet")
        name = ttk.Entry(grid, textvariable=self.repo_name, width=24)
        self._row(grid, 2, NAME, name)
        name.grid_configure(sticky="w")
        self.repo_password = tk.StringVar(page, "")
        password = ttk.Entry(grid, textvariable=self.repo_password, show="•", width=32)
        self._row(grid, 3, PASSWORD, password)
        password.grid_configure(sticky="w")
        save = ttk.Button(page, text=render(SAVE_REPO, self.tr), command=self.save_repository)
        save.pack(anchor="w", pady=(10, 0))
        for widget in (place, name, password, save):
            widget.bind("<Return>", lambda _e: self.save_repository())
        self._result(page, "backup_repo")
        return place.focus_set

    def save_repository(self) -> None:
        from vigie.features.backup import repositories
        from vigie.features.backup.cli import repository_entry, store_repository

        if self.worker.busy:
            self.say("backup_repo", STILL_BUSY)
            return
        if not self.repo_place.get().strip():
            self.say("backup_repo", NO_REPOSITORY, ok=False)
            return
        if not self.repo_password.get():
            self.say("backup_repo", NO_PASSWORD, ok=False)
            return
        try:
            entry = repository_entry(self.repo_kind.get(), self.repo_name.get().strip(), self.repo_place.get().strip())
            store_repository(self.loaded, entry, self.repo_password.get())
        except VigieError as exc:
            self.say("backup_repo", exc.reason, ok=False)
            return
        self.repo_password.set("")  # kept in the keyring only
        self.saved("backup_repo")
        added = render(T("Repository added: {name}", name=entry.name), self.tr)
        self.say("backup_repo", WORKING)
        self.worker.run(lambda: repositories.newest_snapshot(entry, 120),
                        lambda snapshot: self._repo_read(added, snapshot))

    def _repo_read(self, added: str, snapshot: object) -> None:
        ok: bool | None = None
        if isinstance(snapshot, BaseException):
            reason = snapshot.reason if isinstance(snapshot, VigieError) else UNKNOWN_REASON
            more, ok = T("But Vigie cannot read it yet: {reason}", reason=reason), False
        elif snapshot is None:
            more = NO_SNAPSHOT
        else:
            time = snapshot.time.astimezone().strftime("%d/%m/%Y %H:%M")
            more, ok = T("Its newest backup: {time}", time=time), True
        self.say("backup_repo", f"{added} {render(more, self.tr)}", ok=ok)

    def _restore_page(self, page: ttk.Frame) -> Callable[[], None]:
        self._text(page, RESTORE_PAGE[1])
        test = ttk.Button(page, text=render(TEST_NOW, self.tr), command=self.test_restore)
        test.pack(anchor="w")
        self._result(page, "restore")
        return test.focus_set

    def test_restore(self) -> None:
        from vigie.features.backup.cli import drill_and_journal, drill_targets

        if self.busy("restore"):
            return
        files = self.loaded.config.restore_drill.files
        loaded = self.loaded

        def task() -> list[tuple[object, object]]:
            return [(target, drill_and_journal(target, files)) for target in drill_targets(loaded)]

        self.worker.run(task, self._restore_done)

    def _restore_done(self, outcome: object) -> None:
        from vigie.features.backup import drill

        if isinstance(outcome, BaseException):
            self.say("restore", outcome.reason if isinstance(outcome, VigieError) else UNKNOWN_REASON, ok=False)
            return
        if not outcome:
            self.say("restore", NOTHING_TO_TEST, ok=False)
            return
        lines = [render(drill_line(result, target, self.tr), self.tr) for target, result in outcome]
        outcomes = {result.outcome for _target, result in outcome}
        ok = False if drill.Outcome.FAILED in outcomes else (True if outcomes == {drill.Outcome.PASSED} else None)
        self.say("restore", "\n".join(lines), ok=ok)

    def _cps_page(self, page: ttk.Frame) -> Callable[[], None]:
        self._text(page, CPS_PAGE[1])
        record = ttk.Button(page, text=render(RECORD_CARD, self.tr), command=self.record_card)
        record.pack(anchor="w")
        self._result(page, "cps")
        return record.focus_set

    def record_card(self) -> None:
        from vigie.features.cps_card.cli import record_card

        if self.busy("cps", INSERT_CARD):
            return
        loaded = self.loaded
        self.worker.run(lambda: record_card(loaded, CARD_WAIT_SECONDS), self._card_done)

    def _card_done(self, outcome: object) -> None:
        if isinstance(outcome, BaseException):
            self.say("cps", outcome.reason if isinstance(outcome, VigieError) else UNKNOWN_REASON, ok=False)
            return
        self.saved("cps")
        self.say("cps", T("CPS card enrolled (reader: {reader}).", reader=str(outcome)), ok=True)

    def _contacts_page(self, page: ttk.Frame) -> Callable[[], None] | None:
        self._text(page, CONTACTS_PAGE[1])
        contacts = self.loaded.config.contacts
        grid = self._grid(page)
        self.contact_vars: dict[str, tk.StringVar] = {}
        entries = []
        for row, (key, label) in enumerate((("it_provider_name", IT_NAME), ("it_provider_phone", IT_PHONE))):
            value = getattr(contacts, key)
            if f"contacts.{key}" in self.loaded.locked:
                self._row(grid, row, label, ttk.Label(grid, text=drawable(self._fixed(value))))
                continue
            variable = self.contact_vars[key] = tk.StringVar(page, value)
            entry = ttk.Entry(grid, textvariable=variable, width=40)
            self._row(grid, row, label, entry)
            entry.grid_configure(sticky="w")
            entries.append(entry)
        if not entries:
            self._text(page, CONTACTS_FIXED, pady=(10, 0))
            return None
        save = ttk.Button(page, text=render(SAVE_CONTACTS, self.tr), command=self.save_contacts)
        save.pack(anchor="w", pady=(10, 0))
        for widget in (*entries, save):
            widget.bind("<Return>", lambda _e: self.save_contacts())
        self._result(page, "contacts")
        return entries[0].focus_set

    def save_contacts(self) -> None:
        store = ConfigStore()
        try:
            for key, variable in self.contact_vars.items():
                store.set_value(self.loaded, f"contacts.{key}", variable.get())
                self.loaded = store.load()
        except ConfigError as exc:
            self.say("contacts", exc.reason, ok=False)
            return
        self.saved("contacts")
        self.say("contacts", CONTACTS_SAVED, ok=True)

    def _lock_page(self, page: ttk.Frame) -> Callable[[], None] | None:
        self._text(page, LOCK_PAGE[1])
        minutes = max(1, round(self.loaded.config.idle_lock.lock_after_seconds / 60))
        grid = self._grid(page)
        if "idle_lock.lock_after_seconds" in self.loaded.locked:
            shown = render(TN("{n} minute", "{n} minutes", minutes), self.tr)
            self._row(grid, 0, LOCK_DELAY, ttk.Label(grid, text=self._fixed(shown)))
            self._text(page, DELAY_FIXED, pady=(10, 0))
            return None
        self.delay = tk.StringVar(page, str(minutes))
        spin = ttk.Spinbox(grid, from_=1, to=240, textvariable=self.delay, width=6)
        self._row(grid, 0, LOCK_DELAY, spin)
        spin.grid_configure(sticky="w")
        save = ttk.Button(page, text=render(SAVE_DELAY, self.tr), command=self.save_delay)
        save.pack(anchor="w", pady=(10, 0))
        for widget in (spin, save):
            widget.bind("<Return>", lambda _e: self.save_delay())
        self._result(page, "lock")
        return spin.focus_set

    def save_delay(self) -> None:
        try:
            minutes = int(self.delay.get().strip())
        except ValueError:
            minutes = 0
        if not 1 <= minutes <= 240:
            self.say("lock", BAD_DELAY, ok=False)
            return
        settings = self.loaded.config.idle_lock
        lock = minutes * 60
        changes: dict[str, int] = {"lock_after_seconds": lock}
        if "idle_lock.remind_after_seconds" not in self.loaded.locked:
            changes["remind_after_seconds"] = lock - 60 if lock > 60 else lock // 2  # a minute before
        try:
            ConfigStore().replace_section(self.loaded, "idle_lock", msgspec.structs.replace(settings, **changes))
        except ConfigError as exc:
            self.say("lock", exc.reason, ok=False)
            return
        self.saved("lock")
        self.say("lock", TN("The screen will lock after {n} minute without use.",
                            "The screen will lock after {n} minutes without use.", minutes), ok=True)

    def _done_page(self, page: ttk.Frame) -> None:
        self._text(page, DONE_PAGE[1])
        self._text(page, SETTINGS_LATER)
        self._text(page, ENROLLED_AT_NEXT_START)


def run(language: str, raisable: bool, page: str | None = None) -> int:
    tr = translator(language)
    try:
        return run_window("setup assistant", CLASS_NAME, render(NO_DISPLAY, tr),
                          lambda root: FirstRunWindow(root, tr, language, page), raisable)
    finally:
        stop_slow_work()


def stop_slow_work() -> None:
    """Closed (or ended by the agent) during a restore test or a repository read: restic or borg end with
    the window, and the restored copies are removed, as when the agent quits."""
    from vigie.features.backup import drill
    from vigie.platform import proc

    drill.stop_all()
    proc.stop_all()


def main(argv: list[str] | None = None) -> int:
    raisable = install_signal_handlers()
    try:
        parser = argparse.ArgumentParser(prog="vigie ui first-run")
        parser.add_argument("--lang", choices=LANGUAGES)
        parser.add_argument("--page")  # a step's name (backup_folder…): opened there; unknown: the first
        args = parser.parse_args(argv)
        setup_logging(rotate=False)
        return run(resolve_language(args.lang), raisable, args.page)
    except Terminated:
        return 0
