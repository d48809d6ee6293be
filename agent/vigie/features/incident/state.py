"""The incident's state on disk: one private folder per incident, incident.json replaced atomically.

Every change is a read-modify-write under a file lock (the guide window and `vigie incident …` from a
terminal may both write), so nothing is lost and a kill -9 leaves the previous or the next version,
never half a file. Closing archives the folder; nothing here ever deletes an incident.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import msgspec
from filelock import FileLock

from vigie import paths
from vigie.errors import VigieError
from vigie.features.incident.contacts import IncidentContacts
from vigie.journal import Journal, open_journal
from vigie.model import T

log = logging.getLogger(__name__)

SCHEMA = "vigie-incident/1"
STATE_FILE = "incident.json"
EVIDENCE_DIR = "evidence"
ARCHIVE_DIR = "archive"
LOCK_TIMEOUT = 10.0  # s; a writer holds the lock for milliseconds
# The seven screens of the guide, in order (issue 8).
STEPS = ("keep_on", "cut_network", "dont_pay", "evidence", "alert", "deadlines", "keep_caring")
_ID = re.compile(r"\d{8}-\d{6}(-\d{1,3})?")  # from the detection time; never a path


class IncidentError(VigieError):
    """No such incident, or its state cannot be read (logged; shown as a plain message)."""

    def __init__(self, log_detail: str) -> None:
        super().__init__(T("The incident's state cannot be read: ask your IT provider."), log_detail)


class Note(msgspec.Struct, frozen=True):
    at: datetime
    text: str


class Mark(msgspec.Struct, frozen=True):
    """Something done at a time: a step passed, a contact called."""

    what: str
    at: datetime


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
        return next((mark.at for mark in self.steps_done if mark.what == step), None)

    def mark_step_done(self, step: str, at: datetime) -> None:
        if self.step_done_at(step) is None:
            self.steps_done.append(Mark(step, at))

    def called_at(self, contact: str) -> datetime | None:
        return next((mark.at for mark in self.calls if mark.what == contact), None)


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
        """The open incident (the newest if, against all odds, there are several)."""
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
        paths.replace_private_file(folder / STATE_FILE, msgspec.json.format(msgspec.json.encode(incident)).decode())

    def _lock(self, folder: Path) -> FileLock:
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
        (not empty) replace the stored ones: the configuration may have been completed since."""
        with self._lock(self.root):
            incident = self.find_open()
            if incident is not None:
                if contacts is not None and not contacts.is_empty() and contacts != incident.contacts:
                    with self.change(incident.id) as changed:
                        changed.contacts = contacts
                    incident = changed
                return incident, False
            taken = {p.name for p in self._incident_folders(self.root)} | set(self.archived())
            incident = Incident(id=new_id(now, taken), detected_at=now, contacts=contacts or IncidentContacts())
            self.save(incident)
        _record(journal, "incident_opened", now, id=incident.id)
        log.info("incident %s opened", incident.id)
        return incident, True

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


def _record(journal: Journal | None, kind: str, now: datetime, **data: object) -> None:
    if journal is not None:
        journal.record(kind, now, **data)
        return
    opened, _problem = open_journal()
    try:
        opened.record(kind, now, **data)
    finally:
        opened.close()
