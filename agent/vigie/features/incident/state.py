"""The incident's state on disk: one private folder per incident, incident.json replaced atomically.

Every change is a read-modify-write under a file lock (the guide window and `vigie incident …` from a
terminal may both write), so nothing is lost and a kill -9 leaves the previous or the next version,
never half a file. Closing archives the folder; nothing here ever deletes an incident.

A full disk must not lose the detection time, from which both 72-hour deadlines count. When the state
cannot be written, no half-made folder is left (it would read as "no incident"): the time is kept as
the *name* of an empty file, `detected-<time>` (a new empty file needs no data block, so it usually
fits where nothing else does, and a name is never half-written), in the incidents folder or, when even
that folder cannot be made (ext4), in Vigie's data folder; the journal gets a line if it can. The next
`vigie incident …` command, or the running agent if its own attempt was refused (it retries every few
seconds), saves the incident from it with the original time (save_pending).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from vigie import paths
from vigie.errors import VigieError
from vigie.features.incident.contacts import IncidentContacts
from vigie.journal import Journal, open_journal
from vigie.model import T, Text

if TYPE_CHECKING:  # filelock is imported when a lock is taken: not by the resting agent (issue 21)
    from filelock import FileLock

log = logging.getLogger(__name__)

SCHEMA = "vigie-incident/1"
STATE_FILE = "incident.json"
EVIDENCE_DIR = "evidence"
ARCHIVE_DIR = "archive"
LOCK_TIMEOUT = 10.0  # s; a writer holds the lock for milliseconds
# The seven screens of the guide, in order: disconnect first, without switching off (issue 19, point 1).
STEPS = ("cut_network", "keep_on", "dont_pay", "evidence", "alert", "deadlines", "keep_caring")
NETWORK_STEP = "cut_network"
# How a step was done, for the report (issue 19, point 5), weakest first: shown and left with « Suivant »;
# done by the user on their word; done and checked by Vigie (the network read back as cut).
READ, DECLARED, VERIFIED = "read", "declared", "verified"
_STRENGTH = {READ: 0, DECLARED: 1, VERIFIED: 2}
_ID = re.compile(r"\d{8}-\d{6}(-\d{1,3})?")  # from the detection time; never a path
PENDING_PREFIX = "detected-"
_PENDING_TIME = "%Y%m%dT%H%M%S.%f%z"  # no colon: a valid file name on every system
_PENDING = re.compile(r"detected-\d{8}T\d{6}\.\d{6}[+-]\d{4}")
DISK_FULL = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})  # Windows' "disk full" is ENOSPC


def is_incident_name(name: str) -> bool:
    return _ID.fullmatch(name) is not None


def is_pending_name(name: str) -> bool:
    return _PENDING.fullmatch(name) is not None


class IncidentError(VigieError):
    """No such incident, or its state cannot be read (logged; shown as a plain message)."""

    def __init__(self, log_detail: str) -> None:
        super().__init__(T("The incident's state cannot be read: ask your IT provider."), log_detail)


def date_text(at: datetime) -> Text:
    """The local date in the reader's order (« 22/11/2026 » in French)."""
    local = at.astimezone()
    return T("{year}-{month}-{day}", year=local.strftime("%Y"), month=local.strftime("%m"), day=local.strftime("%d"))


def when_text(at: datetime) -> Text:
    """« 22/11/2026 à 14:30 », local wall-clock time."""
    return T("{date} at {time}", date=date_text(at), time=at.astimezone().strftime("%H:%M"))


def disk_problem(exc: OSError) -> Text:
    """What a failed write means for the user: a full disk, or the system's own reason."""
    if exc.errno in DISK_FULL:
        return T("The disk is full.")
    return T("The disk refused the change: {reason}.", reason=exc.strerror or str(exc))


class IncidentNotSaved(IncidentError):
    """The disk refused the incident's state (full, most likely). `detected_at` is the detection time,
    `kept` says whether it survives this process (the detected-<time> file): then the next command or
    the running agent saves the incident with it."""

    def __init__(self, detected_at: datetime, exc: OSError, kept: bool) -> None:
        self.detected_at, self.kept, self.disk_full = detected_at, kept, exc.errno in DISK_FULL
        when = when_text(detected_at)
        if kept:
            time_line = T("Vigie could not save the incident, but it keeps its detection time, {when}, and saves "
                          "it as soon as there is room. Write that time down on paper too.", when=when)
        else:
            time_line = T("Vigie could not save the incident, nor its detection time. Write it down on paper: "
                          "{when}.", when=when)
        todo = (T("Free some space (empty the trash, delete large downloads) or call your IT provider, then "
                  "open the guide again.") if self.disk_full else T("Call your IT provider."))
        VigieError.__init__(self, T("{problem}\n{time_line}\n{todo}", problem=disk_problem(exc), time_line=time_line,
                                    todo=todo), f"detected at {detected_at.isoformat()}, kept={kept}: {exc}")

    @property
    def short_reason(self) -> Text:
        """For the tooltip: « Incident non enregistré (disque plein) »."""
        return T("disk full") if self.disk_full else T("disk error")


class Note(msgspec.Struct, frozen=True):
    at: datetime
    text: str


class Mark(msgspec.Struct, frozen=True):
    """Something done at a time: a step passed (`how`: READ, DECLARED or VERIFIED), a contact called
    (always DECLARED: the user pressed « Fait »). Marks written before `how` existed read as READ:
    all the guide knew then was that « Suivant » was pressed."""

    what: str
    at: datetime
    how: str = READ


class Action(msgspec.Struct, frozen=True):
    """A timeline entry: network cut or check, screenshot, evidence copy, report."""

    kind: str
    at: datetime
    detail: dict[str, str | int | bool | None] = msgspec.field(default_factory=dict)


class Incident(msgspec.Struct, kw_only=True):
    schema: str = SCHEMA
    id: str
    detected_at: datetime  # aware: the two 72-hour deadlines count from it
    step: str = STEPS[0]
    steps_done: list[Mark] = msgspec.field(default_factory=list)
    notes: list[Note] = msgspec.field(default_factory=list)
    calls: list[Mark] = msgspec.field(default_factory=list)
    actions: list[Action] = msgspec.field(default_factory=list)
    contacts: IncidentContacts = msgspec.field(default_factory=IncidentContacts)
    closed: bool = False
    closed_at: datetime | None = None

    @property
    def step_number(self) -> int:
        return STEPS.index(self.step) + 1 if self.step in STEPS else 1

    def step_done_at(self, step: str) -> datetime | None:
        mark = self.step_mark(step)
        return mark.at if mark else None

    def step_mark(self, step: str) -> Mark | None:
        """The strongest mark of a step (the first of them): what the report says of it."""
        marks = [mark for mark in self.steps_done if mark.what == step]
        return max(marks, key=lambda mark: _STRENGTH.get(mark.how, 0), default=None)

    def mark_step(self, step: str, at: datetime, how: str = READ) -> None:
        """Recorded once per step and kind of proof; a stronger one is added after a weaker one (read at 10:41,
        verified at 10:43: the timeline keeps both), never a weaker after a stronger."""
        mark = self.step_mark(step)
        if mark is None or _STRENGTH.get(how, 0) > _STRENGTH.get(mark.how, 0):
            self.steps_done.append(Mark(step, at, how))

    def network_checks(self) -> list[Action]:
        return [action for action in self.actions if action.kind == "network_check"]

    def isolated_at(self) -> datetime | None:
        """When Vigie first read the network as cut (the proof of step 1), or None."""
        return next((action.at for action in self.network_checks() if action.detail.get("cut") is True), None)

    def countdowns_shown(self) -> bool:
        """The 72-hour countdowns wait until the computer is isolated, or the user went past step 1:
        the first minutes are for cutting the network, not for reading deadlines."""
        return (self.step != NETWORK_STEP or self.step_mark(NETWORK_STEP) is not None
                or self.isolated_at() is not None)

    def called_at(self, contact: str) -> datetime | None:
        return next((mark.at for mark in self.calls if mark.what == contact), None)


def write_private_bytes(path: Path, data: bytes) -> None:
    """Atomically, 0600, whatever the umask; a write refused half-way (a full disk) leaves nothing behind."""
    paths.private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")  # one per writer
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def default_root() -> Path:
    return paths.data_dir() / "incidents"


def new_id(detected_at: datetime, taken: set[str]) -> str:
    base = detected_at.strftime("%Y%m%d-%H%M%S")
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


class IncidentStore:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or default_root()

    # where things are

    def folder(self, incident_id: str) -> Path:
        if not _ID.fullmatch(incident_id):
            raise IncidentError(f"not an incident id: {incident_id!r}")
        return self.root / incident_id

    def evidence_dir(self, incident_id: str) -> Path:
        return paths.private_dir(self.folder(incident_id) / EVIDENCE_DIR)

    def archive_dir(self) -> Path:
        return self.root / ARCHIVE_DIR

    # reading

    def load(self, incident_id: str, folder: Path | None = None) -> Incident:
        path = (folder or self.folder(incident_id)) / STATE_FILE
        try:
            return msgspec.json.decode(path.read_bytes(), type=Incident)
        except (OSError, msgspec.MsgspecError) as exc:
            log.error("incident %s: state unreadable: %s", incident_id, exc)
            raise IncidentError(f"incident {incident_id}: state unreadable") from exc

    def find_open(self) -> Incident | None:
        """The open incident (the newest if, against all odds, there are several). A detection kept while
        the disk was full is saved first; IncidentNotSaved if it still cannot be."""
        self.save_pending()
        return self._find_saved()

    def peek(self) -> Incident | datetime | None:
        """Read only (the status window): the open incident, else the detection time kept while the disk
        was full, else None."""
        incident = self._find_saved()
        if incident is not None:
            return incident
        pending = self.pending()
        return pending[0][1] if pending else None

    def _find_saved(self) -> Incident | None:
        found = []
        for folder in self._incident_folders(self.root):
            try:
                incident = self.load(folder.name, folder)
            except IncidentError:
                continue  # kept as it is; a new incident can still be opened
            if not incident.closed:
                found.append(incident)
        return max(found, key=lambda incident: incident.detected_at, default=None)

    def archived(self) -> list[str]:
        return sorted(folder.name for folder in self._incident_folders(self.archive_dir()))

    @staticmethod
    def _incident_folders(parent: Path) -> list[Path]:
        try:
            return [p for p in parent.iterdir() if _ID.fullmatch(p.name) and (p / STATE_FILE).is_file()]
        except OSError:
            return []

    # writing

    def save(self, incident: Incident) -> None:
        folder = paths.private_dir(self.folder(incident.id))
        write_private_bytes(folder / STATE_FILE, msgspec.json.format(msgspec.json.encode(incident)))

    def _lock(self, folder: Path) -> FileLock:
        from filelock import FileLock

        return FileLock(paths.private_dir(folder) / ".lock", mode=0o600, timeout=LOCK_TIMEOUT)

    def lock(self, incident_id: str) -> FileLock:
        """The incident's lock: for writers of its evidence folder too (the guide writes from two threads)."""
        return self._lock(self.folder(incident_id))

    @contextmanager
    def change(self, incident_id: str) -> Iterator[Incident]:
        """Read, let the caller change, write back: all under the incident's lock."""
        with self.lock(incident_id):
            incident = self.load(incident_id)
            yield incident
            self.save(incident)

    def start(self, now: datetime, contacts: IncidentContacts | None = None,
              journal: Journal | None = None) -> tuple[Incident, bool]:
        """The open incident, or a new one detected `now` (recorded in the journal). Contacts given
        (not empty) replace the stored ones: the configuration may have been completed since.
        IncidentNotSaved when the disk refuses it: the detection time is kept (see the module's doc)."""
        from filelock import Timeout

        self.save_pending(journal)  # a detection kept earlier is the incident: its time, not `now`
        try:
            with self._lock(self.root):
                incident = self._find_saved()
                if incident is not None:
                    return self._update_contacts(incident, contacts), False
                taken = {p.name for p in self._incident_folders(self.root)} | set(self.archived())
                incident = Incident(id=new_id(now, taken), detected_at=now, contacts=contacts or IncidentContacts())
                self._save_new(incident)
        except Timeout:
            raise
        except OSError as exc:
            raise self._not_saved(now, exc, journal) from exc
        _record(journal, "incident_opened", now, id=incident.id)
        log.info("incident %s opened", incident.id)
        return incident, True

    def update_contacts(self, incident: Incident, contacts: IncidentContacts | None) -> Incident:
        """The settings as they are now (the IT provider may have named the practice since it opened)."""
        return self._update_contacts(incident, contacts)

    def _update_contacts(self, incident: Incident, contacts: IncidentContacts | None) -> Incident:
        if contacts is None or contacts.is_empty() or contacts == incident.contacts:
            return incident
        try:
            with self.change(incident.id) as changed:
                changed.contacts = contacts
        except OSError as exc:  # the incident exists: resume it with the contacts it has
            log.warning("incident %s: contacts not updated: %s", incident.id, exc)
            return incident
        return changed

    def _save_new(self, incident: Incident) -> None:
        """Write a new incident's state; if the disk refuses, remove what was made of its folder."""
        try:
            self.save(incident)
        except OSError:
            with contextlib.suppress(OSError):
                self.folder(incident.id).rmdir()  # only if empty: nothing that is not ours goes
            raise

    # a detection kept while the disk was full

    def _marker_folders(self) -> tuple[Path, Path]:
        """The incidents folder, or Vigie's data folder when even that one could not be made."""
        return self.root, self.root.parent

    def _not_saved(self, detected_at: datetime, exc: OSError, journal: Journal | None) -> IncidentNotSaved:
        log.error("incident detected at %s not saved: %s", detected_at.isoformat(), exc)
        kept = self._keep_detection(detected_at)
        _record(journal, "incident_not_saved", detected_at, once=True, reason=str(exc), kept=kept)
        return IncidentNotSaved(detected_at, exc, kept)

    def _keep_detection(self, detected_at: datetime) -> bool:
        name = PENDING_PREFIX + detected_at.strftime(_PENDING_TIME)
        for folder in self._marker_folders():
            try:
                if folder == self.root:
                    paths.private_dir(folder)
                os.close(os.open(folder / name, os.O_WRONLY | os.O_CREAT, 0o600))
            except OSError as exc:
                log.warning("incident: detection time not kept in %s: %s", folder, exc)
                continue
            log.info("incident: detection time kept as %s", folder / name)
            return True
        return False

    def pending(self) -> list[tuple[Path, datetime]]:
        """Detection times kept while the incident could not be saved, oldest first."""
        found = []
        for folder in self._marker_folders():
            try:
                names = [p for p in folder.iterdir() if _PENDING.fullmatch(p.name)]
            except OSError:
                continue
            for marker in names:
                try:
                    found.append((marker, datetime.strptime(marker.name[len(PENDING_PREFIX):], _PENDING_TIME)))
                except ValueError:  # digits that make no date: not ours
                    log.warning("incident: %s ignored (not a detection time)", marker)
        return sorted(found, key=lambda pair: pair[1])

    def save_pending(self, journal: Journal | None = None) -> None:
        """Save the incident from a kept detection time, now that there may be room. Cheap when there is
        none (one folder listing): the agent's tooltip calls this every minute."""
        if not self.pending():
            return
        from filelock import Timeout

        try:
            with self._lock(self.root):
                for marker, detected_at in self.pending():  # again, under the lock: another process may be done
                    self._save_detected(marker, detected_at, journal)
        except Timeout:
            raise
        except OSError as exc:
            first = self.pending()
            raise IncidentNotSaved(first[0][1] if first else datetime.now().astimezone(), exc, bool(first)) from exc

    def _save_detected(self, marker: Path, detected_at: datetime, journal: Journal | None) -> None:
        existing = self._find_saved()
        if existing is None:
            taken = {p.name for p in self._incident_folders(self.root)} | set(self.archived())
            incident = Incident(id=new_id(detected_at, taken), detected_at=detected_at)
            self._save_new(incident)
            _record(journal, "incident_opened", detected_at, id=incident.id)
            log.info("incident %s saved from its kept detection time", incident.id)
        else:  # saved meanwhile (another process): the same attack
            log.info("incident %s already open; kept detection time %s dropped", existing.id, marker.name)
        try:
            marker.unlink()
        except OSError as exc:  # the incident is saved; the next call finds it open and drops the file again
            log.warning("incident: %s not removed: %s", marker, exc)

    def close(self, incident_id: str, now: datetime, journal: Journal | None = None) -> Path:
        """« Incident terminé »: marked closed, recorded, then the folder moves to the archive."""
        with self.change(incident_id) as incident:
            if incident.closed:
                raise IncidentError(f"incident {incident_id} is already closed")
            incident.closed, incident.closed_at = True, now
        _record(journal, "incident_closed", now, id=incident_id)
        # A crash before the move leaves a closed incident in place: still closed, still kept.
        archive = paths.private_dir(self.archive_dir())
        target = archive / incident_id
        os.replace(self.folder(incident_id), target)
        log.info("incident %s closed and archived", incident_id)
        return target


def start_incident(now: datetime, contacts: IncidentContacts | None = None,
                   store: IncidentStore | None = None) -> tuple[Incident, bool]:
    """For the agent and the command line: open (or resume) the incident, journal included."""
    journal, _problem = open_journal()
    try:
        return (store or IncidentStore()).start(now, contacts, journal)
    finally:
        journal.close()


def _record(journal: Journal | None, kind: str, now: datetime, once: bool = False, **data: object) -> None:
    """Best effort: a full disk may refuse the journal too, and must not undo what was saved.
    once: not again for the same time (the agent retries a refused incident every few seconds)."""
    try:
        opened, _problem = (journal, None) if journal is not None else open_journal()
        try:
            stamp = now.isoformat(timespec="seconds")
            if not (once and any(at == stamp for at, _kind, _data in opened.events(kind))):
                opened.record(kind, now, **data)
        finally:
            if journal is None:
                opened.close()
    except (OSError, sqlite3.Error) as exc:
        log.error("journal: %s at %s not recorded: %s", kind, now.isoformat(), exc)
