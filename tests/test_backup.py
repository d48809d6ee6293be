"""The backup watch on real parts: real folders and modification times, a loop-mounted ext4 drive,
real restic and borg repositories made by the test, the real keyring for their passwords.

restic/borg outputs captured elsewhere are in tests/fixtures/ (each names its SOURCE).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import harness
from fixture_files import load_fixture
from vigie.check import CheckContext
from vigie.config.schema import BackupAge, BackupDrive, BackupFolder, BackupRepository, Config
from vigie.events import Tick
from vigie.features.backup import destination, drill, repositories, scan, sources
from vigie.features.backup.backup_age import BackupAgeCheck
from vigie.features.backup.backup_drive import BackupDriveCheck
from vigie.features.backup.destination import MARKER, DestinationError
from vigie.features.backup.restore_drill import RestoreDrillCheck
from vigie.i18n import render, translator
from vigie.journal import Journal
from vigie.model import Severity
from vigie.platform.base import BackupRecord, Volume
from vigie.platform.linux import LinuxPlatform

FR, EN = translator("fr"), translator("en")
# The checks' clock is injected, but the files' times are the kernel's: "now" for the checks is an hour
# ahead of the real clock, so every file a test creates is older than NOW whenever the suite runs.
NOW = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)


class NoSystemBackups(LinuxPlatform):
    """The real Linux platform, minus the OS's own backup tools of the machine running the tests."""

    def system_backups(self, timeout: float) -> list[BackupRecord]:
        return []


def make_tree(root: Path, files: dict[str, bytes], mtime: datetime | None = None) -> None:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if mtime is not None:
            os.utime(path, (mtime.timestamp(), mtime.timestamp()))


def copy_tree(source: Path, target: Path) -> None:
    subprocess.run(["cp", "-a", f"{source}/.", str(target)], check=True)


def context(config: Config, journal: Journal, now: datetime = NOW, platform=None) -> CheckContext:
    return CheckContext(platform or NoSystemBackups(), config, journal, clock=lambda: now)


def folder_entry(path: Path, marker: destination.Marker, originals: Path | None = None) -> BackupFolder:
    return BackupFolder(id=marker.id, path=str(path), relative=destination.relative_to_mount(path),
                        originals=str(originals) if originals else "")


# --- bounded scan ------------------------------------------------------------------------------------

def test_the_newest_modification_time_is_found_deep_down(tmp_path):
    old, new = NOW - timedelta(days=30), NOW - timedelta(hours=5)
    make_tree(tmp_path, {f"a/b/{i}.txt": b"x" for i in range(50)}, old)
    make_tree(tmp_path, {"a/b/c/d/latest.txt": b"y"}, new)
    for folder in (tmp_path / "a", tmp_path / "a/b", tmp_path / "a/b/c", tmp_path / "a/b/c/d"):
        os.utime(folder, (old.timestamp(), old.timestamp()))
    found = scan.newest_mtime(str(tmp_path), scan.Limits())
    assert found.complete and found.entries == 55
    assert found.mtime == pytest.approx(new.timestamp())


def test_the_scan_stops_at_its_entry_cap_and_says_so(tmp_path):
    make_tree(tmp_path, {f"{i}.txt": b"" for i in range(300)})
    found = scan.newest_mtime(str(tmp_path), scan.Limits(max_entries=100, max_seconds=10))
    assert (found.entries, found.complete) == (100, False)
    assert len(list(scan.walk_files(str(tmp_path), scan.Limits(max_entries=100)))) == 100


def test_the_scan_stops_at_its_time_cap(tmp_path):
    make_tree(tmp_path, {f"{i}.txt": b"" for i in range(20)})
    ticks = iter(range(1000))
    found = scan.newest_mtime(str(tmp_path), scan.Limits(max_seconds=5), clock=lambda: next(ticks))
    assert not found.complete and found.entries == 5  # the clock moves 1 s per entry: 5 fit in 5 s


def test_an_unreadable_folder_is_skipped_not_fatal(tmp_path):
    make_tree(tmp_path, {"ok/a.txt": b"a", "locked/b.txt": b"b"})
    (tmp_path / "locked").chmod(0)
    try:
        names = {e.name for e in scan.walk_files(str(tmp_path), scan.Limits())}
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert "a.txt" in names  # root reads through chmod 0; what matters is that nothing raised


# --- the marker ---------------------------------------------------------------------------------------

def test_enroll_then_mark_keeps_the_id_and_records_the_time(tmp_path):
    first = destination.enroll(tmp_path, NOW)
    again = destination.enroll(tmp_path, NOW + timedelta(days=1))
    assert again.id == first.id and again.enrolled == NOW
    marked = destination.mark(tmp_path, NOW + timedelta(hours=2))
    assert destination.read_marker(tmp_path) == marked
    assert marked.last_backup == NOW + timedelta(hours=2)


def test_a_damaged_marker_is_reported_in_french(tmp_path):
    (tmp_path / MARKER).write_text("{not json")
    with pytest.raises(DestinationError) as caught:
        destination.read_marker(tmp_path)
    assert render(caught.value.reason, FR) == ("La marque de Vigie sur le dossier de sauvegarde est abîmée\u00a0: "
                                               "enregistrez-le de nouveau.")


def test_mark_refuses_a_folder_that_is_not_enrolled(tmp_path):
    with pytest.raises(DestinationError):
        destination.mark(tmp_path, NOW)
    assert not (tmp_path / MARKER).exists()


# --- parsers on captured outputs ----------------------------------------------------------------------

def test_restic_snapshots_newest_of_a_flat_list():
    snapshot = repositories.parse_restic_snapshots(load_fixture("linux-restic-snapshots-json.json"))
    data = json.loads(load_fixture("linux-restic-snapshots-json.json"))
    newest = max(data, key=lambda s: s["time"])
    assert snapshot.id == newest["id"]
    assert snapshot.time.tzinfo is not None and snapshot.time.isoformat().startswith(newest["time"][:19])


def test_restic_snapshots_grouped_form_gives_the_same_newest():
    flat = repositories.parse_restic_snapshots(load_fixture("linux-restic-snapshots-json.json"))
    grouped = repositories.parse_restic_snapshots(load_fixture("linux-restic-snapshots-json-groupby.json"))
    assert grouped == flat


def test_borg_local_times_without_zone_are_read_as_local_time():
    snapshot = repositories.parse_borg_list(load_fixture("linux-borg-list-json.json"))
    assert snapshot.id == "host-system-backup-2017-02-27"
    assert snapshot.time == datetime(2017, 8, 7, 12, 27, 20, 789123).astimezone()


def test_no_snapshot_at_all_is_none():
    assert repositories.parse_restic_snapshots("[]") is None
    assert repositories.parse_borg_list('{"archives": []}') is None


@pytest.mark.parametrize(("location", "local"), [
    ("/srv/restic", True), ("C:\\Sauvegardes\\restic", True), ("sftp:nas:/restic", False),
    ("rest:http://nas:8000/", False), ("ssh://nas/./borg", False), ("user@nas:borg", False),
])
def test_local_and_remote_repositories_are_told_apart(location, local):
    repository = BackupRepository(kind="restic", name="x", repository=location)
    assert (repositories.local_repository_present(repository) is not None) == local


# --- backup_age: judging with an injected clock -------------------------------------------------------

def state(key: str, hours: float | None, **extra) -> sources.SourceState:
    when = NOW - timedelta(hours=hours) if hours is not None else None
    return sources.SourceState(key, sources.SYSTEM_LABELS["deja_dup"], when, **extra)


@pytest.mark.parametrize(("hours", "severity"), [
    (1, Severity.OK), (47, Severity.OK), (49, Severity.WARNING), (24 * 7 - 1, Severity.WARNING),
    (24 * 7 + 1, Severity.CRITICAL),
])
def test_age_thresholds(hours, severity):
    finding = BackupAgeCheck().judge([state("a", hours), state("b", 24 * 30)], NOW, 2, 7)
    assert finding.severity == severity


def test_one_recent_copy_only_is_info_about_two_copies():
    finding = BackupAgeCheck().judge([state("a", 3)], NOW, 2, 7)
    assert finding.severity == Severity.INFO
    assert render(finding.title, FR) == "Sauvegarde récente, mais en un seul exemplaire."


def test_an_unreadable_source_makes_it_unknown_not_ok():
    reason = sources.SYSTEM_LABELS["time_machine"]
    finding = BackupAgeCheck().judge([state("a", 3), state("b", 5), state("c", None, error=reason)], NOW, 2, 7)
    assert finding.severity == Severity.UNKNOWN and finding.facts["copies"] == 2
    assert "impossible à lire" in render(finding.detail, FR)


def test_an_unreadable_second_source_is_no_second_copy():
    """Issue 15, point 5: a source that cannot be read proves no copy; the one-copy advice stays."""
    reason = sources.SYSTEM_LABELS["time_machine"]
    finding = BackupAgeCheck().judge([state("a", 3), state("b", 5, error=reason)], NOW, 2, 7)
    assert finding.severity == Severity.INFO and finding.facts["copies"] == 1
    assert render(finding.title, FR) == "Sauvegarde récente, mais en un seul exemplaire."
    assert "• Déjà Dup\u00a0: impossible à lire (Time Machine)" in render(finding.detail, FR)


def test_no_source_at_all_is_a_warning_with_what_to_do():
    finding = BackupAgeCheck().judge([], NOW, 2, 7)
    # Issue 18: no shell command for a clinician; the fix names the button the status window shows.
    assert finding.severity == Severity.WARNING and "vigie" not in render(finding.fix, FR)
    assert "«\u00a0Mettre en place une sauvegarde\u00a0»" in render(finding.fix, FR)
    assert finding.action is not None and finding.action.command == "first_run:backup"
    assert render(finding.action.label, FR) == "Mettre en place une sauvegarde"


def test_each_source_is_listed_in_the_detail_in_french():
    finding = BackupAgeCheck().judge([state("a", 3), state("b", 60, connected=False)], NOW, 2, 7)
    assert render(finding.detail, FR).splitlines() == [
        "Sauvegardes vues par Vigie\u00a0:",
        "• Déjà Dup\u00a0: il y a 3 heures",
        "• Déjà Dup\u00a0: il y a 2 jours (disque non branché)",
    ]


# --- backup_age on real folders and a real drive -------------------------------------------------------

def test_the_age_comes_from_the_mark_else_from_real_modification_times(tmp_path):
    backup = tmp_path / "backup"
    make_tree(backup, {"Documents/ordonnance.pdf": b"%PDF"}, NOW - timedelta(days=3))
    os.utime(backup / "Documents", ((NOW - timedelta(days=3)).timestamp(),) * 2)
    marker = destination.enroll(backup, NOW)
    os.utime(backup / MARKER, ((NOW - timedelta(days=3)).timestamp(),) * 2)
    os.utime(backup, ((NOW - timedelta(days=3)).timestamp(),) * 2)
    config = Config(backup_age=BackupAge(destinations=[folder_entry(backup, marker)]))
    journal = Journal.in_memory()
    finding = BackupAgeCheck().evaluate(Tick(), context(config, journal))
    assert finding.severity == Severity.WARNING and finding.facts["sources"][0]["age_hours"] == pytest.approx(72, 0.01)
    destination.mark(backup, NOW - timedelta(hours=1))
    finding = BackupAgeCheck().evaluate(Tick(), context(config, journal))
    assert finding.severity == Severity.INFO and finding.facts["sources"][0]["age_hours"] == 1.0


def test_an_unplugged_drive_keeps_its_last_seen_backup(make_stick):
    stick = make_stick("SAUVEGARDE")
    stick.mount()
    marker = destination.enroll(stick.mount_point, NOW)
    make_tree(stick.mount_point, {"Documents/ordonnance.pdf": b"%PDF"})  # the backup itself
    destination.mark(stick.mount_point, NOW - timedelta(hours=30))
    config = Config(backup_age=BackupAge(destinations=[folder_entry(stick.mount_point, marker)]))
    journal = Journal.in_memory()
    plugged = BackupAgeCheck().evaluate(Tick(), context(config, journal))
    stick.umount()
    unplugged = BackupAgeCheck().evaluate(Tick(), context(config, journal, NOW + timedelta(days=1)))
    assert plugged.severity == Severity.INFO and plugged.facts["sources"][0]["connected"] is True
    assert unplugged.severity == Severity.WARNING  # 54 h old now: not UNKNOWN, the drive is meant to be away
    assert unplugged.facts["sources"][0] == {
        "source": f"folder:{marker.id}", "last_backup": (NOW - timedelta(hours=30)).isoformat(), "age_hours": 54.0,
        "connected": False, "estimated": False, "readable": True, "holds_backup": True}


def test_the_drive_is_found_again_under_another_mount_point(make_stick, tmp_path):
    stick = make_stick("SAUVEGARDE")
    stick.mount()
    (stick.mount_point / "Cabinet").mkdir()
    marker = destination.enroll(stick.mount_point / "Cabinet", NOW)
    entry = folder_entry(stick.mount_point / "Cabinet", marker)
    stick.umount()
    elsewhere = tmp_path / "media" / "SAUVEGARDE"
    elsewhere.mkdir(parents=True)
    subprocess.run(["mount", stick.device, str(elsewhere)], check=True)
    try:
        volumes = [v for v in LinuxPlatform().mounted_volumes() if v.device == stick.device]
        located = sources.locate(entry, volumes)
        assert located is not None and located.folder == elsewhere / "Cabinet" and entry.relative == "Cabinet"
    finally:
        subprocess.run(["umount", str(elsewhere)], check=True)


# --- backup_drive ---------------------------------------------------------------------------------------

def drive_config(stick, marker, minutes: float = 30) -> Config:
    return Config(backup_age=BackupAge(destinations=[folder_entry(stick.mount_point, marker)]),
                  backup_drive=BackupDrive(unplug_after_minutes=minutes))


def test_a_drive_left_plugged_in_after_the_backup_is_flagged_with_eject(make_stick):
    stick = make_stick("SAUVEGARDE")
    stick.mount()
    marker = destination.enroll(stick.mount_point, NOW)
    os.utime(stick.mount_point / MARKER, ((NOW - timedelta(hours=2)).timestamp(),) * 2)
    for folder in (stick.mount_point, stick.mount_point / "lost+found"):
        os.utime(folder, ((NOW - timedelta(hours=2)).timestamp(),) * 2)
    journal = Journal.in_memory()
    config = drive_config(stick, marker)
    first = BackupDriveCheck().evaluate(Tick(), context(config, journal))
    assert first.severity == Severity.OK and first.recheck_seconds == pytest.approx(30 * 60 + 1)
    later = BackupDriveCheck().evaluate(Tick(), context(config, journal, NOW + timedelta(minutes=31)))
    assert later.severity == Severity.WARNING
    assert render(later.title, FR) == "Débranchez le disque de sauvegarde"
    assert later.action.target == str(stick.mount_point)
    destination.mark(stick.mount_point, NOW + timedelta(minutes=31))  # a backup just finished
    fresh = BackupDriveCheck().evaluate(Tick(), context(config, journal, NOW + timedelta(minutes=32)))
    assert fresh.severity == Severity.OK and fresh.recheck_seconds == pytest.approx(29 * 60 + 1)


def test_a_drive_being_written_to_is_not_flagged(make_stick):
    stick = make_stick("SAUVEGARDE")
    stick.mount()
    marker = destination.enroll(stick.mount_point, NOW - timedelta(hours=3))
    journal = Journal.in_memory()
    config = drive_config(stick, marker, minutes=1)
    real_now = datetime.now(UTC)
    BackupDriveCheck().evaluate(Tick(), context(config, journal, real_now - timedelta(hours=1)))
    (stick.mount_point / "in-progress.bin").write_bytes(b"x")  # the backup job writes now
    finding = BackupDriveCheck().evaluate(Tick(), context(config, journal, real_now))
    assert finding.severity == Severity.OK


def test_an_unplugged_or_internal_drive_is_fine(make_stick, tmp_path):
    stick = make_stick("SAUVEGARDE")
    stick.mount()
    marker = destination.enroll(stick.mount_point, NOW)
    stick.umount()
    journal = Journal.in_memory()
    assert BackupDriveCheck().evaluate(Tick(), context(drive_config(stick, marker), journal)).severity == Severity.OK
    internal = destination.enroll(tmp_path, NOW)  # a folder on the system disk cannot be unplugged
    config = Config(backup_age=BackupAge(destinations=[folder_entry(tmp_path, internal)]))
    finding = BackupDriveCheck().evaluate(Tick(), context(config, journal, NOW + timedelta(days=1)))
    assert finding.severity == Severity.OK and finding.recheck_seconds is None


# --- the restore drill on a folder ------------------------------------------------------------------------

@pytest.fixture
def practice(tmp_path, make_stick):
    """Originals on the system disk, a copy of them on an enrolled loop drive (cp -a keeps times)."""
    originals = tmp_path / "Documents"
    made = NOW - timedelta(days=10)
    make_tree(originals, {f"patients/dossier-{i:02d}.pdf": os.urandom(4096 + i) for i in range(12)}, made)
    make_tree(originals, {"compta/recettes 2026.ods": os.urandom(2048), "notes é «x».txt": b"notes"}, made)
    stick = make_stick("SAUVEGARDE")
    stick.mount()
    copy_tree(originals, stick.mount_point)
    marker = destination.enroll(stick.mount_point, NOW)
    destination.mark(stick.mount_point, NOW)  # after the copy: its files were not renamed since (ctime)
    entry = folder_entry(stick.mount_point, marker, originals)
    return originals, stick, entry


def folder_drill(entry: BackupFolder) -> drill.FolderDrill:
    volumes = LinuxPlatform().mounted_volumes()
    return drill.FolderDrill(entry, sources.locate(entry, volumes), volumes)


def test_a_sound_backup_passes_and_cleans_up(practice, tmp_path):
    _, _, entry = practice
    work = tmp_path / "work"
    result = drill.run_drill(folder_drill(entry), 5, random.Random(1), work_root=work)
    assert result.outcome == drill.Outcome.PASSED and len(result.checked) == 5 and not result.problems
    assert all(len(digest) == 64 for _, digest in result.checked)
    assert list(work.iterdir()) == []  # the temporary folder is gone
    assert (work.stat().st_mode & 0o777) == 0o700


def test_a_flipped_byte_in_the_backup_fails_the_drill(practice, tmp_path):
    _, stick, entry = practice
    copies = sorted(stick.mount_point.rglob("*.pdf")) + sorted(stick.mount_point.rglob("*.ods"))
    for copy in [*copies, stick.mount_point / "notes é «x».txt"]:
        data = bytearray(copy.read_bytes())
        data[len(data) // 2] ^= 0x01
        stat = copy.stat()
        copy.write_bytes(bytes(data))
        os.utime(copy, (stat.st_atime, stat.st_mtime))  # same time: only the content betrays it
    result = drill.run_drill(folder_drill(entry), 5, random.Random(2), work_root=tmp_path / "w")
    assert result.outcome == drill.Outcome.FAILED
    assert {p.problem for p in result.problems} == {"different"} and len(result.problems) == 5


def test_a_file_missing_from_the_backup_fails_the_drill(practice, tmp_path):
    originals, stick, entry = practice
    for copy in (stick.mount_point / "patients").iterdir():
        copy.unlink()
    result = drill.run_drill(folder_drill(entry), 14, random.Random(3), work_root=tmp_path / "w")
    assert result.outcome == drill.Outcome.FAILED
    assert sorted(p.name for p in result.problems if p.problem == "missing") == sorted(
        p.name for p in (originals / "patients").iterdir())


def test_files_changed_since_the_backup_are_not_compared(practice, tmp_path):
    originals, _, entry = practice
    for original in originals.rglob("*"):
        if original.is_file() and original.name != "notes é «x».txt":
            original.write_bytes(b"changed today")  # newer than the backup: not a backup fault
            after = (NOW + timedelta(minutes=1)).timestamp()
            os.utime(original, (after, after))
    result = drill.run_drill(folder_drill(entry), 5, random.Random(4), work_root=tmp_path / "w")
    assert result.outcome == drill.Outcome.PASSED and [name for name, _ in result.checked] == ["notes é «x».txt"]


def test_pulling_the_drive_out_mid_drill_gives_no_proof_and_no_leftovers(practice, tmp_path):
    _, stick, entry = practice
    work = tmp_path / "work"

    def pull_after_first_file(index: int) -> None:
        if index == 1:
            subprocess.run(["umount", "-l", str(stick.mount_point)], check=True)

    result = drill.run_drill(folder_drill(entry), 5, random.Random(5), pull_after_first_file, work_root=work)
    assert result.outcome == drill.Outcome.NOT_DONE and not result.problems
    assert render(result.reason, FR) == "la sauvegarde a disparu pendant le test (disque débranché\u00a0?)"
    assert list(work.iterdir()) == []


def test_the_drill_check_reads_the_proofs(practice, tmp_path):
    _, stick, entry = practice
    journal = Journal.in_memory()
    config = Config(backup_age=BackupAge(destinations=[entry]))
    check = RestoreDrillCheck()
    never = check.evaluate(Tick(), context(config, journal))
    assert never.severity == Severity.INFO and never.facts["due"] is True
    result = drill.run_drill(folder_drill(entry), 5, random.Random(6), work_root=tmp_path / "w")
    journal.record("restore_drill", NOW, **result.journal_data(), reason=None)
    passed = check.evaluate(Tick(), context(config, journal, NOW + timedelta(days=1)))
    assert passed.severity == Severity.OK and passed.facts["due"] is False
    assert render(passed.title, FR) == f"Dernier test de restauration réussi le {NOW.astimezone():%d/%m/%Y}"
    assert check.evaluate(Tick(), context(config, journal, NOW + timedelta(days=31))).facts["due"] is True
    assert check.evaluate(Tick(), context(config, journal, NOW + timedelta(days=61))).severity == Severity.WARNING
    (stick.mount_point / "compta" / "recettes 2026.ods").write_bytes(b"ransomware was here")
    failed = drill.run_drill(folder_drill(entry), 14, random.Random(7), work_root=tmp_path / "w")
    journal.record("restore_drill", NOW + timedelta(days=2), **failed.journal_data(), reason=None)
    critical = check.evaluate(Tick(), context(config, journal, NOW + timedelta(days=2)))
    assert critical.severity == Severity.CRITICAL
    assert render(critical.title, FR) == "Votre sauvegarde ne se restaure pas correctement"
    assert "recettes 2026.ods\u00a0: la copie restaurée diffère de l’original" in render(critical.detail, FR)


# --- what a drill proves, and which originals a backup holds (issue 15, point 2) ---------------------------

def journal_events(env, kind: str) -> list[dict]:
    db = Journal(Path(env["XDG_DATA_HOME"]) / "Vigie" / "journal.sqlite3")
    try:
        return [data for _, _, data in db.events(kind)]
    finally:
        db.close()


def test_a_folder_without_originals_is_proven_readable_never_identical(keyring_env, make_stick):
    """Without originals the copy can only be read back: before, it was compared with itself and
    « Réussi : 5 fichiers restaurés et identiques » was printed and recorded."""
    stick = make_stick("SAUVEGARDE")
    stick.mount()
    make_tree(stick.mount_point, {f"dossier {i}.pdf": os.urandom(3000 + i) for i in range(7)},
              NOW - timedelta(days=3))
    assert harness.run_vigie(keyring_env, "backup", "enroll", str(stick.mount_point)).returncode == 0
    drilled = harness.run_vigie(keyring_env, "backup", "drill")
    assert drilled.returncode == 0, drilled.stdout + drilled.stderr
    assert ("Lisible\u00a0: 5 fichiers relus depuis la sauvegarde, non comparés aux originaux (inconnus)."
            in drilled.stdout)
    assert (f'Pour les comparer à vos fichiers\u00a0: vigie backup enroll "{stick.mount_point}" --originals DOSSIER'
            in drilled.stdout)
    assert "identique" not in drilled.stdout and "Réussi" not in drilled.stdout
    proof = journal_events(keyring_env, "restore_drill")[-1]
    assert (proof["outcome"], proof["compared"], len(proof["files"])) == ("readable", False, 5)
    report = json.loads(harness.run_vigie(keyring_env, "check", "--json").stdout)
    check = next(c for c in report["checks"] if c["id"] == "restore_drill")
    assert check["severity"] == "info"
    assert check["title"] == (f"Dernier test de restauration le {datetime.now():%d/%m/%Y}\u00a0: fichiers lisibles, "
                              "non comparés aux originaux")
    assert "ne sait pas où sont les originaux" in check["detail"] and "--originals" in check["fix"]


def test_the_drill_check_tells_readable_from_identical():
    compared_entry = BackupFolder(id="0b7e4c0e-0000-4000-8000-000000000002", path="/media/u/SAUVEGARDE",
                                  originals="/home/u/Documents")
    bare = BackupFolder(id="0b7e4c0e-0000-4000-8000-000000000001", path="/media/u/AUTRE")
    config = Config(backup_age=BackupAge(destinations=[compared_entry, bare]))
    journal, check = Journal.in_memory(), RestoreDrillCheck()
    bare_key, compared_key = sources.folder_key(bare), sources.folder_key(compared_entry)
    # A proof written before Vigie told the two apart: for a folder without originals, only "readable".
    journal.record("restore_drill", NOW, source=bare_key, outcome="passed", files=[], problems=[])
    old = check.evaluate(Tick(), context(config, journal))
    assert old.severity == Severity.INFO and "fichiers lisibles, non comparés" in render(old.title, FR)
    journal.record("restore_drill", NOW, source=compared_key, outcome="passed", compared=True, files=[], problems=[])
    mixed = check.evaluate(Tick(), context(config, journal))
    assert mixed.severity == Severity.OK and mixed.facts["compared"] is True
    assert render(mixed.title, FR) == f"Dernier test de restauration réussi le {NOW.astimezone():%d/%m/%Y}"
    assert render(mixed.detail, FR) == ("Sauvegardes seulement relues, sans comparaison avec les originaux\u00a0:\n"
                                        "• Dossier de sauvegarde «\u00a0AUTRE\u00a0»")


def test_originals_kept_as_a_subfolder_of_the_backup_are_found(tmp_path, make_stick):
    """The backup keeps the originals' folder as a subfolder (BACKUP/Documents/…): before, every file
    was looked for at BACKUP/… and called missing (« Votre sauvegarde ne se restaure pas correctement »)."""
    originals = tmp_path / "Documents"
    make_tree(originals, {f"patients/dossier-{i:02d}.pdf": os.urandom(4096 + i) for i in range(8)},
              NOW - timedelta(days=10))
    stick = make_stick("SAUVEGARDE")
    stick.mount()
    subprocess.run(["cp", "-a", str(originals), str(stick.mount_point)], check=True)
    marker = destination.enroll(stick.mount_point, NOW)
    destination.mark(stick.mount_point, NOW)
    result = drill.run_drill(folder_drill(folder_entry(stick.mount_point, marker, originals)), 5, random.Random(11),
                             work_root=tmp_path / "w")
    assert result.outcome == drill.Outcome.PASSED and not result.problems and len(result.checked) == 5
    for name in ("patients/dossier-00.pdf", "patients/dossier-01.pdf"):  # and a file lost from it is still caught
        (stick.mount_point / "Documents" / name).unlink()
    result = drill.run_drill(folder_drill(folder_entry(stick.mount_point, marker, originals)), 8, random.Random(12),
                             work_root=tmp_path / "w")
    assert result.outcome == drill.Outcome.FAILED
    assert sorted((p.name, p.problem) for p in result.problems) == [("dossier-00.pdf", "missing"),
                                                                     ("dossier-01.pdf", "missing")]


def test_a_home_folder_drill_leaves_out_vigies_data_and_what_the_backup_never_held(tmp_path, make_stick,
                                                                                    monkeypatch):
    """Originals = the home folder; the backup job copied Documents and Données (Vigie's journal, in
    use, was skipped). Vigie's own files, hidden files, a folder the backup never copied (Bureau) and
    loose files at the top it never copied are not the backup's fault: before, each was « missing »."""
    home = tmp_path / "home" / "u"
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "Données"))  # Vigie's journal inside the originals
    old = NOW - timedelta(days=10)
    documents = {f"Documents/ordonnance {i}.pdf": os.urandom(2000 + i) for i in range(4)}
    make_tree(home, {**documents, "Données/Vigie/journal.sqlite3": b"SQLite format 3\0", "Données/Vigie/vigie.log": b"",
                     "Données/compta.ods": b"compta", "Bureau/photo.jpg": b"jpg", "notes.txt": b"notes",
                     ".bashrc": b"alias", ".config/app.conf": b"x"}, old)
    stick = make_stick("SAUVEGARDE")
    stick.mount()
    for folder in ("Documents", "Données"):
        subprocess.run(["cp", "-a", str(home / folder), str(stick.mount_point)], check=True)
    (stick.mount_point / "Données" / "Vigie" / "journal.sqlite3").unlink()  # in use: the backup job skipped it
    marker = destination.enroll(stick.mount_point, NOW)
    destination.mark(stick.mount_point, NOW)
    result = drill.run_drill(folder_drill(folder_entry(stick.mount_point, marker, home)), 50, random.Random(13),
                             work_root=tmp_path / "w")
    assert result.outcome == drill.Outcome.PASSED and not result.problems
    assert sorted(name for name, _ in result.checked) == sorted([*(Path(n).name for n in documents), "compta.ods"])


def test_a_file_changed_while_the_backup_ran_is_not_called_different(practice, tmp_path):
    """Written after the backup copied it but before the job said it had finished: the backup holds
    the older version it claimed, not a damaged copy."""
    originals, _, entry = practice
    changed = originals / "compta" / "recettes 2026.ods"
    changed.write_bytes(b"une ligne de plus")
    during = (NOW - timedelta(minutes=20)).timestamp()
    os.utime(changed, (during, during))
    result = drill.run_drill(folder_drill(entry), 14, random.Random(14), work_root=tmp_path / "w")
    assert result.outcome == drill.Outcome.PASSED and not result.problems
    assert len(result.checked) == 13 and "recettes 2026.ods" not in {name for name, _ in result.checked}


# --- restic and borg, real repositories -------------------------------------------------------------------

PASSWORD = "mot de passe «cabinet» ü"


def run(argv: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=True, **kwargs)


@pytest.fixture
def documents(tmp_path) -> Path:
    folder = tmp_path / "Documents"
    make_tree(folder, {f"dossier {i}.pdf": os.urandom(20_000 + i) for i in range(8)}, NOW - timedelta(days=5))
    return folder


def restic_repo(tmp_path: Path, documents: Path, env: dict[str, str]) -> Path:
    repo = tmp_path / "restic-repo"
    tool_env = dict(env, RESTIC_PASSWORD=PASSWORD)
    run(["restic", "init", "-q", "-r", str(repo)], tool_env)
    run(["restic", "backup", "-q", "-r", str(repo), str(documents)], tool_env)
    return repo


def borg_repo(tmp_path: Path, documents: Path, env: dict[str, str]) -> Path:
    repo = tmp_path / "borg-repo"
    tool_env = dict(env, BORG_PASSPHRASE=PASSWORD)
    run(["borg", "init", "-e", "repokey", str(repo)], tool_env)
    run(["borg", "create", f"{repo}::cabinet-1", str(documents)], tool_env)
    return repo


def add_repo(env, kind: str, repo: Path, name: str) -> subprocess.CompletedProcess:
    return subprocess.run([*harness.vigie_argv(), "backup", "add-repo", kind, str(repo), "--name", name,
                           "--password-stdin"], env=env, input=PASSWORD + "\n", capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("kind", ["restic", "borg"])
def test_a_repository_is_read_and_drilled_with_its_password_from_the_keyring(kind, keyring_env, tmp_path,
                                                                             documents):
    repo = (restic_repo if kind == "restic" else borg_repo)(tmp_path, documents, keyring_env)
    added = add_repo(keyring_env, kind, repo, "cabinet")
    assert added.returncode == 0, added.stderr
    assert "Dépôt ajouté\u00a0: cabinet" in added.stdout and "Sa sauvegarde la plus récente" in added.stdout
    assert harness.secret_lookup(keyring_env, "backup-password:cabinet") == PASSWORD
    report = json.loads(harness.run_vigie(keyring_env, "check", "--json").stdout)
    age = next(c for c in report["checks"] if c["id"] == "backup_age")
    source = next(s for s in age["facts"]["sources"] if s["source"] == f"{kind}:cabinet")
    assert source["readable"] and source["age_hours"] < 0.1
    drilled = harness.run_vigie(keyring_env, "backup", "drill", timeout=180)
    assert drilled.returncode == 0, drilled.stdout + drilled.stderr
    assert "Réussi\u00a0: 5 fichiers restaurés et identiques." in drilled.stdout
    report = json.loads(harness.run_vigie(keyring_env, "check", "--json").stdout)
    proof = next(c for c in report["checks"] if c["id"] == "restore_drill")
    assert proof["severity"] == "ok" and proof["title"].startswith("Dernier test de restauration réussi le ")


def test_a_corrupted_restic_pack_fails_the_drill(keyring_env, tmp_path, documents):
    repo = restic_repo(tmp_path, documents, keyring_env)
    assert add_repo(keyring_env, "restic", repo, "cabinet").returncode == 0
    for pack in (repo / "data").rglob("*"):
        if pack.is_file() and pack.stat().st_size > 100_000:  # the data pack, not a tree pack
            data = bytearray(pack.read_bytes())
            for offset in range(1000, len(data), 10_000):
                data[offset] ^= 0xFF
            pack.write_bytes(bytes(data))
    drilled = harness.run_vigie(keyring_env, "backup", "drill", "--files", "8", timeout=180)
    assert drilled.returncode == 2, drilled.stdout + drilled.stderr
    assert "Votre sauvegarde ne se restaure pas correctement" in drilled.stdout
    assert "ne peut pas être lu depuis la sauvegarde" in drilled.stdout


def test_a_wrong_password_is_unknown_with_a_french_reason(keyring_env, tmp_path, documents):
    repo = restic_repo(tmp_path, documents, keyring_env)
    subprocess.run([*harness.vigie_argv(), "backup", "add-repo", "restic", str(repo), "--name", "cabinet",
                    "--password-stdin"], env=keyring_env, input="wrong\n", capture_output=True, text=True, timeout=120)
    report = json.loads(harness.run_vigie(keyring_env, "check", "--json").stdout)
    age = next(c for c in report["checks"] if c["id"] == "backup_age")
    assert age["severity"] == "unknown"
    assert "restic n’a pas pu l’ouvrir (mot de passe, ou dépôt hors d’atteinte)" in age["detail"]


def test_enroll_from_the_command_line_stores_the_destination(keyring_env, make_stick, tmp_path):
    stick = make_stick("SAUVEGARDE")
    stick.mount()
    originals = tmp_path / "Documents"
    originals.mkdir()
    enrolled = harness.run_vigie(keyring_env, "backup", "enroll", str(stick.mount_point), "--originals",
                                 str(originals))
    assert enrolled.returncode == 0, enrolled.stderr
    assert enrolled.stdout.startswith("Dossier de sauvegarde enregistré\u00a0:")
    stored = json.loads(harness.secret_lookup(keyring_env, "backup_age"))["data"]["destinations"][0]
    marker = destination.read_marker(stick.mount_point)
    assert stored == {"id": marker.id, "path": str(stick.mount_point), "relative": "",
                      "originals": str(originals)}
    marked = harness.run_vigie(keyring_env, "backup", "mark", str(stick.mount_point))
    assert marked.returncode == 0 and destination.read_marker(stick.mount_point).last_backup is not None


def test_volumes_report_their_mount_point_for_the_drive_lookup():
    volume = Volume("/dev/sdb1", "/media/u/SAUVEGARDE", "ext4", removable=True)
    from vigie.features.backup.backup_drive import drive_of

    assert drive_of(Path("/media/u/SAUVEGARDE/Cabinet"), [volume]) == volume
    assert drive_of(Path("/media/u/AUTRE"), [volume]) is None
    assert drive_of(Path("/home/u"), [Volume("/dev/sda2", "/home", "ext4")]) is None


def test_big_files_are_left_out_of_drills(practice, tmp_path):
    originals, _, entry = practice
    big = originals / "video" / "consultation.mp4"
    big.parent.mkdir()
    with open(big, "wb") as handle:
        handle.truncate(drill.MAX_FILE_BYTES + 1)  # sparse: costs nothing on disk
    made = (NOW - timedelta(days=10)).timestamp()
    os.utime(big, (made, made))
    result = drill.run_drill(folder_drill(entry), 100, random.Random(8), work_root=tmp_path / "w")
    assert result.outcome == drill.Outcome.PASSED and len(result.checked) == 14
    assert "consultation.mp4" not in {name for name, _ in result.checked}


def test_a_fifo_named_like_the_marker_does_not_hang(tmp_path):
    os.mkfifo(tmp_path / MARKER)  # a stick may carry anything under that name
    outcome = []
    reader = threading.Thread(target=lambda: outcome.append(_read_or_error(tmp_path)), daemon=True)
    reader.start()
    reader.join(5)
    assert outcome == ["Le dossier de sauvegarde ne peut pas être lu."]


def _read_or_error(folder: Path) -> str:
    try:
        return repr(destination.read_marker(folder))
    except DestinationError as exc:
        return render(exc.reason, FR)


def test_a_file_renamed_since_the_backup_is_not_called_missing(practice, tmp_path):
    """A rename keeps the modification time but not the change time (ctime): such a file is not
    expected in the backup under its new name, so it is left out, not reported missing."""
    originals, stick, entry = practice
    backup = destination.mark(stick.mount_point, datetime.now(UTC)).last_backup  # just after the copy
    renamed = originals / "patients" / "dossier-00 renommé.pdf"
    (originals / "patients" / "dossier-00.pdf").rename(renamed)

    def renamed_after_the_backup() -> bool:  # the kernel's change time must pass the backup's (+ FAT's 2 s)
        if renamed.stat().st_ctime > backup.timestamp() + drill.MTIME_TOLERANCE:
            return True
        renamed.rename(renamed.with_suffix(".tmp"))
        renamed.with_suffix(".tmp").rename(renamed)
        return False

    harness.wait_for(renamed_after_the_backup, timeout=10, what="the rename's change time to pass the backup's")
    result = drill.run_drill(folder_drill(entry), 100, random.Random(9), work_root=tmp_path / "w")
    assert result.outcome == drill.Outcome.PASSED and not result.problems
    assert len(result.checked) == 13 and "dossier-00 renommé.pdf" not in {name for name, _ in result.checked}


# --- honest severities (issue 18, point 4) -------------------------------------------------------------

def test_no_backup_known_warns_at_once_and_is_urgent_after_a_week():
    """No backup at all is serious (the official guide: without one nothing comes back after an
    attack): a warning from the first check, urgent once it lasts as long as critical_days."""
    journal = Journal.in_memory()
    config = Config()
    first = BackupAgeCheck().evaluate(Tick(), context(config, journal))
    assert first.severity == Severity.WARNING
    assert render(first.title, FR) == "Vigie ne connaît aucune sauvegarde de ce poste."
    later = BackupAgeCheck().evaluate(Tick(), context(config, journal, NOW + timedelta(days=7, minutes=1)))
    assert later.severity == Severity.CRITICAL
    assert render(later.title, FR) == "Depuis 7\u00a0jours, Vigie ne connaît aucune sauvegarde de ce poste."
    assert later.facts["none_known_since"] == NOW.isoformat(timespec="seconds")  # kept in the journal


def test_no_backup_drive_enrolled_is_not_ok():
    finding = BackupDriveCheck().evaluate(Tick(), context(Config(), Journal.in_memory()))
    assert finding.severity == Severity.INFO
    assert render(finding.title, FR) == "Aucun disque de sauvegarde n’est enregistré."


def test_backup_advice_follows_the_official_guide():
    advice = render(BackupAgeCheck().judge([state("a", 3)], NOW, 2, 7).fix, FR)
    for words in ("deux copies", "hors du cabinet", "chiffré", "débranchez", "HDS"):
        assert words in advice, advice
