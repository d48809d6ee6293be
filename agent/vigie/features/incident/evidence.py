"""Evidence: screenshots, the user's notes, and what Vigie knows, in a private folder with a SHA-256
manifest (SHA256SUMS.txt, the `sha256sum -c` format) so that anyone can check nothing changed.

What Vigie adds never holds the contents of the user's files: only names and dates of suspicious
recent files, Vigie's own journal and the computer's description. Files are 0600, folders 0700.
File names are kept losslessly, undecodable bytes included (vigie.filenames): the JSON files load back
to the very names, the manifest holds the raw bytes as `sha256sum` expects them.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import io
import logging
import os
import platform
import shutil
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from vigie import __version__, filenames
from vigie.errors import VigieError
from vigie.features.incident.scan import ScanResult, scan_recent_files, user_folders
from vigie.features.incident.state import Action, Incident, IncidentStore, write_private_bytes
from vigie.journal import Journal
from vigie.model import T

log = logging.getLogger(__name__)

MANIFEST = "SHA256SUMS.txt"
SCREENSHOTS = "screenshots"
NOTES_FILE = "notes.txt"
STATE_COPY = "incident.json"
SUSPICIOUS_FILE = "suspicious-files.json"
JOURNAL_FILE = "vigie-journal.json"
SYSTEM_FILE = "system.json"
JOURNAL_DAYS = 30  # Vigie's journal: this long before the detection, up to now
JOURNAL_MAX = 1000
CHUNK = 1 << 20


class EvidenceError(VigieError):
    """Evidence could not be saved or copied; `reason` says so in plain words."""


@dataclass(frozen=True)
class CopyResult:
    path: Path
    problems: tuple[str, ...]  # relative paths missing or different in the copy

    @property
    def verified(self) -> bool:
        return not self.problems


# --- small file helpers ---

def stamp(at: datetime) -> str:
    """For file names: sorts by time and is valid on every file system."""
    return at.strftime("%Y-%m-%d_%H-%M-%S")


def write_json(path: Path, data: object) -> None:
    """Names with undecodable bytes (lone surrogates) are \\udcXX-escaped: json.loads gives them back."""
    write_private_bytes(path, filenames.dumps(data, indent=1, default=str).encode("utf-8") + b"\n")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --- the manifest ---

def evidence_files(folder: Path) -> list[Path]:
    """Every file of the folder but the manifest and temporary files, as sorted relative paths."""
    found = []
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if path.is_file() and relative.as_posix() != MANIFEST and not path.name.startswith("."):
            found.append(relative)
    return sorted(found, key=lambda p: p.as_posix())


def write_manifest(folder: Path) -> Path:
    lines = [f"{sha256_file(folder / relative)}  {relative.as_posix()}\n" for relative in evidence_files(folder)]
    write_private_bytes(folder / MANIFEST, "".join(lines).encode("utf-8", "surrogateescape"))  # raw name bytes
    return folder / MANIFEST


def read_manifest(folder: Path) -> dict[str, str]:
    entries = {}
    for line in (folder / MANIFEST).read_text(encoding="utf-8", errors="surrogateescape").splitlines():
        digest, _, name = line.partition("  ")
        if name:
            entries[name] = digest
    return entries


def verify(folder: Path) -> tuple[str, ...]:
    """What does not match the manifest: missing, changed or unlisted files."""
    try:
        expected = read_manifest(folder)
    except OSError:
        return (MANIFEST,)
    present = {relative.as_posix() for relative in evidence_files(folder)}
    problems = sorted(present ^ expected.keys())
    for name in sorted(present & expected.keys()):
        if sha256_file(folder / name) != expected[name]:
            problems.append(name)
    return tuple(problems)


# --- what goes in ---

def capture_screen(folder: Path, now: datetime, grab: Callable[[], object] | None = None) -> tuple[Path, str]:
    """« Capturer l'écran »: the whole screen as a PNG named after its time. Returns (path, sha256)."""
    try:
        if grab is None:
            from PIL import ImageGrab

            grab = ImageGrab.grab
        image = grab()
        buffer = io.BytesIO()
        image.save(buffer, "PNG")  # type: ignore[attr-defined]
    except Exception as exc:  # Pillow raises OSError, TypeError or its own errors per platform
        log.error("evidence: screen capture failed: %s", exc)
        raise EvidenceError(T("The screen could not be captured: take a photo of it with your phone."),
                            str(exc)) from exc
    path = folder / SCREENSHOTS / f"screenshot-{stamp(now)}.png"
    n = 1
    while path.exists():
        n += 1
        path = folder / SCREENSHOTS / f"screenshot-{stamp(now)}-{n}.png"
    write_private_bytes(path, buffer.getvalue())
    return path, sha256_file(path)


def notes_text(incident: Incident) -> str:
    lines = []
    for note in incident.notes:
        first, *rest = note.text.splitlines() or [""]
        lines.append(f"{note.at.isoformat(timespec='seconds')}  {first}\n")
        lines.extend(f"    {line}\n" for line in rest)
    return "".join(lines)


def system_facts(now: datetime) -> dict[str, object]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no such user in the password database (containers)
        user = ""
    return {
        "host": platform.node(),
        "user": user,
        "os": platform.system(),
        "os_release": platform.release(),
        "os_version": platform.version(),
        "machine": platform.machine(),
        "now": now.isoformat(timespec="seconds"),
        "time_zone": now.tzname() or "",
        "utc_offset": now.strftime("%z"),
        "booted_at": _boot_time(now),
        "vigie_version": __version__,
    }


def _boot_time(now: datetime) -> str:
    """Shows whether the computer was restarted since the attack."""
    try:
        import psutil

        return datetime.fromtimestamp(psutil.boot_time(), now.tzinfo).isoformat(timespec="seconds")
    except Exception as exc:  # psutil may be refused /proc or the boot time on some systems
        log.warning("evidence: boot time unknown: %s", exc)
        return ""


def journal_extract(journal: Journal, detected_at: datetime) -> list[dict[str, object]]:
    """Vigie's own events from JOURNAL_DAYS before the detection: USB drives, drills, locks, findings."""
    since = detected_at - timedelta(days=JOURNAL_DAYS)
    kept = []
    for at, kind, data in journal.events():
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            continue
        if when.tzinfo is None or when >= since:
            kept.append({"at": at, "kind": kind, "data": data})
    return kept[-JOURNAL_MAX:]


def scan_document(result: ScanResult, now: datetime) -> dict[str, object]:
    return {
        "scanned_at": now.isoformat(timespec="seconds"),
        "note": "names and modification times only, never file contents",
        "roots": list(result.roots),
        "days": result.days,
        "entries_seen": result.visited,
        "complete": result.complete,
        "suspicious_total": result.total,
        "files": [{"path": f.path, "modified": f.modified.isoformat(timespec="seconds"), "reason": f.reason}
                  for f in result.files],
    }


# --- the folder as a whole ---

def sync(store: IncidentStore, incident: Incident) -> Path:
    """After any change: the notes, a copy of the state, the manifest. Cheap (no scan)."""
    folder = store.evidence_dir(incident.id)
    with store.lock(incident.id):
        write_private_bytes(folder / NOTES_FILE, notes_text(store.load(incident.id)).encode("utf-8"))
        write_private_bytes(folder / STATE_COPY, (store.folder(incident.id) / "incident.json").read_bytes())
        write_manifest(folder)
    return folder


def collect(store: IncidentStore, incident_id: str, now: datetime, journal: Journal,
            roots: Iterable[Path] | None = None) -> ScanResult:
    """What Vigie adds (scan of the user's folders, its journal, the system), then sync. Seconds at most."""
    incident = store.load(incident_id)
    folder = store.evidence_dir(incident_id)
    result = scan_recent_files(list(roots) if roots is not None else user_folders(), now)
    write_json(folder / SUSPICIOUS_FILE, scan_document(result, now))
    write_json(folder / JOURNAL_FILE, journal_extract(journal, incident.detected_at))
    write_json(folder / SYSTEM_FILE, system_facts(now))
    with store.change(incident_id) as changed:
        changed.actions.append(Action("facts", now, {"suspicious": result.total, "complete": result.complete}))
    sync(store, changed)
    return result


def copy_evidence(store: IncidentStore, incident_id: str, destination: Path, attempts: int = 2) -> CopyResult:
    """« Copier les preuves »: the whole folder into DESTINATION/Vigie-evidence-ID, then every file of
    the copy is checked against the manifest. The copy runs outside the incident's lock (a USB drive
    can be slow); if the guide changed a file meanwhile, the check sees it and the copy is made again."""
    folder = store.evidence_dir(incident_id)
    for attempt in range(1, attempts + 1):
        with store.lock(incident_id):
            write_manifest(folder)
        result = _copy_once(folder, destination, incident_id)
        if result.verified or attempt == attempts:
            return result
        log.warning("evidence: the copy differs (%d files); copying again", len(result.problems))
    raise ValueError("attempts must be at least 1")


def _copy_once(folder: Path, destination: Path, incident_id: str) -> CopyResult:
    target = destination / f"Vigie-evidence-{incident_id}"
    n = 1
    while target.exists():
        n += 1
        target = destination / f"Vigie-evidence-{incident_id}-{n}"
    try:
        shutil.copytree(folder, target, ignore=shutil.ignore_patterns(".*"))
        _private_tree(target)
    except OSError as exc:
        log.error("evidence: copy to %s failed: %s", destination, exc)
        raise EvidenceError(T("The evidence could not be copied there: {reason}", reason=exc.strerror or str(exc)),
                            str(exc)) from exc
    return CopyResult(target, verify(target))


@dataclass(frozen=True)
class ExportResult:
    path: Path
    files: int  # evidence files in the zip, the manifest not counted
    sha256: str  # of the zip file as read back from the drive
    problems: tuple[str, ...]  # names missing, extra or different in the zip, as read back

    @property
    def verified(self) -> bool:
        return not self.problems


def export_zip(store: IncidentStore, incident_id: str, destination: Path, now: datetime,
               attempts: int = 2) -> ExportResult:
    """The evidence folder as one zip file, DESTINATION/Vigie-incident-ID-TIME.zip, with SHA256SUMS.txt in it,
    for the IT provider or the expert (issue 19, point 7). Written under a temporary name, flushed to the
    drive, renamed; then read back from the drive and every file checked against the manifest. Like
    copy_evidence, written outside the incident's lock: a file changed meanwhile makes it start again."""
    folder = sync(store, store.load(incident_id))  # the notes and the state as they are now
    for attempt in range(1, max(attempts, 1) + 1):
        with store.lock(incident_id):
            write_manifest(folder)
            expected = read_manifest(folder)
        result = _zip_once(folder, destination, f"Vigie-incident-{incident_id}-{stamp(now)}", attempt, expected)
        if result.verified:
            break
        log.warning("evidence: the zip differs (%s); writing it again", ", ".join(result.problems[:5]))
    with store.change(incident_id) as changed:
        changed.actions.append(Action("evidence_export", now, {"path": str(result.path), "files": result.files,
                                                               "sha256": result.sha256,
                                                               "verified": result.verified}))
    sync(store, changed)
    return result


def _zip_once(folder: Path, destination: Path, name: str, attempt: int, expected: dict[str, str]) -> ExportResult:
    target = destination / f"{name}.zip" if attempt == 1 else destination / f"{name}-{attempt}.zip"
    partial = destination / f".{target.name}.part"
    files = sorted(expected)
    try:
        _write_zip(partial, folder, [MANIFEST, *files])
        os.replace(partial, target)
        _sync_folder(destination)
    except (OSError, ValueError) as exc:  # ValueError: a name zip cannot hold
        with contextlib.suppress(OSError):
            partial.unlink()
        log.error("evidence: zip to %s failed: %s", destination, exc)
        raise EvidenceError(T("The zip file could not be written there: {reason}",
                              reason=getattr(exc, "strerror", None) or str(exc)), str(exc)) from exc
    problems = verify_zip(target, expected)
    log.info("evidence: %s written, %d files, problems: %s", target, len(files), problems or "none")
    return ExportResult(target, len(files), sha256_file(target), problems)


def _write_zip(path: Path, folder: Path, names: list[str]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in names:
                archive.write(folder / name, name)
        handle.flush()
        os.fsync(handle.fileno())  # on the drive before it is called written: it may be pulled out next


def _sync_folder(folder: Path) -> None:
    """The rename itself on the drive (POSIX); Windows has no directory handle for this, and needs none."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def verify_zip(path: Path, expected: dict[str, str]) -> tuple[str, ...]:
    """Read the zip back: its CRCs, its own manifest equal to the folder's, every file's SHA-256 equal to
    the manifest's, nothing missing, nothing extra."""
    try:
        with zipfile.ZipFile(path) as archive:
            if (broken := archive.testzip()) is not None:
                return (broken,)
            inside = set(archive.namelist()) - {MANIFEST}
            if MANIFEST not in archive.namelist():
                return (MANIFEST,)
            text = archive.read(MANIFEST).decode("utf-8", "surrogateescape")
            listed = {name: digest for digest, _, name in (line.partition("  ") for line in text.splitlines()) if name}
            problems = sorted((inside ^ expected.keys()) | ({MANIFEST} if listed != expected else set()))
            for name in sorted(inside & expected.keys()):
                digest = hashlib.sha256()
                with archive.open(name) as member:
                    while chunk := member.read(CHUNK):
                        digest.update(chunk)
                if digest.hexdigest() != expected[name]:
                    problems.append(name)
            return tuple(problems)
    except (OSError, zipfile.BadZipFile) as exc:
        log.error("evidence: the zip cannot be read back: %s", exc)
        return (path.name,)


def _private_tree(root: Path) -> None:
    """0700/0600 where the file system keeps modes (a FAT drive does not: nothing to do there)."""
    try:
        os.chmod(root, 0o700)
        for path in root.rglob("*"):
            os.chmod(path, 0o700 if path.is_dir() else 0o600)
    except OSError as exc:
        log.info("evidence: modes not kept on the copy: %s", exc)
