"""Only a source with a backup in it is a copy (issue 15, point 5), on real restic and borg
repositories made by the test (passwords in the real gnome-keyring) and real folders.
"""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import harness
from test_backup_tools import PASSWORD, init_repository, run, use_env
from vigie.check import CheckContext
from vigie.config.schema import BackupAge, BackupFolder, BackupRepository, Config
from vigie.events import Tick
from vigie.features.backup import destination, repositories
from vigie.features.backup.backup_age import BackupAgeCheck
from vigie.i18n import render, translator
from vigie.journal import Journal
from vigie.model import Severity
from vigie.platform.base import BackupRecord
from vigie.platform.linux import LinuxPlatform

FR = translator("fr")
NOW = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)  # files made now are older
ONE_COPY = "Sauvegarde récente, mais en un seul exemplaire."


class NoSystemBackups(LinuxPlatform):
    """The real Linux platform, minus the OS's own backup tools of the machine running the tests."""

    def system_backups(self, timeout: float) -> list[BackupRecord]:
        return []


def back_up(kind: str, repo: Path, documents: Path, env: dict[str, str]) -> None:
    if kind == "restic":
        run(["restic", "backup", "-q", "-r", str(repo), str(documents)], dict(env, RESTIC_PASSWORD=PASSWORD))
    else:
        run(["borg", "create", f"{repo}::cabinet-1", str(documents)], dict(env, BORG_PASSPHRASE=PASSWORD))


@pytest.fixture
def documents(tmp_path: Path) -> Path:
    folder = tmp_path / "Documents"
    folder.mkdir()
    for i in range(3):
        (folder / f"dossier {i}.pdf").write_bytes(os.urandom(5000 + i))
    return folder


def folder_copy(tmp_path: Path, documents: Path | None, name: str = "Copie") -> BackupFolder:
    """An enrolled backup folder; with documents, a real copy of them, marked as done two hours ago."""
    folder = tmp_path / name
    folder.mkdir()
    marker = destination.enroll(folder, NOW - timedelta(days=1))
    if documents is not None:
        subprocess.run(["cp", "-a", f"{documents}/.", str(folder)], check=True)
        marker = destination.mark(folder, NOW - timedelta(hours=2))
    return BackupFolder(id=marker.id, path=str(folder), relative=destination.relative_to_mount(folder))


def backup_age(folders: list[BackupFolder], repos: list[BackupRepository], journal: Journal):
    config = Config(backup_age=BackupAge(destinations=folders, repositories=repos, timeout_seconds=60))
    return BackupAgeCheck().evaluate(Tick(), CheckContext(NoSystemBackups(), config, journal, clock=lambda: NOW))


def lines(finding) -> list[str]:
    return render(finding.detail, FR).splitlines()[1:]


@pytest.mark.parametrize("kind", ["restic", "borg"])
def test_an_empty_or_unreadable_repository_is_no_second_copy(kind, keyring_env, tmp_path, documents, monkeypatch):
    use_env(monkeypatch, keyring_env)
    harness.secret_store(keyring_env, "backup-password:cabinet", PASSWORD)
    repo = tmp_path / "depot"
    init_repository(kind, repo, keyring_env)
    folders, repos = [folder_copy(tmp_path, documents)], [BackupRepository(kind, "cabinet", str(repo))]
    label = f"Dépôt {kind} «\u00a0cabinet\u00a0»"
    journal = Journal.in_memory()

    empty = backup_age(folders, repos, journal)
    assert (empty.severity, render(empty.title, FR)) == (Severity.INFO, ONE_COPY)
    assert f"• {label}\u00a0: ne contient aucune sauvegarde" in lines(empty)
    assert empty.facts["copies"] == 1

    back_up(kind, repo, documents, keyring_env)
    two = backup_age(folders, repos, journal)
    assert (two.severity, render(two.title, FR)) == (Severity.OK, "Les sauvegardes sont récentes.")
    assert two.facts["copies"] == 2

    harness.secret_store(keyring_env, "backup-password:cabinet", "pas le bon")
    locked = backup_age(folders, repos, journal)
    assert (locked.severity, render(locked.title, FR)) == (Severity.INFO, ONE_COPY)
    assert (f"• {label}\u00a0: impossible à lire ({kind} n’a pas pu l’ouvrir (mot de passe, ou dépôt hors "
            f"d’atteinte).)") in lines(locked)
    assert locked.facts["copies"] == 1


def test_a_repository_never_seen_and_out_of_reach_is_no_second_copy(tmp_path, documents, home_env, monkeypatch):
    use_env(monkeypatch, home_env)
    folders = [folder_copy(tmp_path, documents)]
    gone = BackupRepository("restic", "ailleurs", str(tmp_path / "disque-absent" / "restic"))
    finding = backup_age(folders, [gone], Journal.in_memory())
    assert (finding.severity, render(finding.title, FR)) == (Severity.INFO, ONE_COPY)
    assert "• Dépôt restic «\u00a0ailleurs\u00a0»\u00a0: introuvable, Vigie n’y a encore vu aucune sauvegarde" \
        in lines(finding)
    assert finding.facts["copies"] == 1


def test_an_enrolled_folder_with_nothing_but_the_mark_is_no_second_copy(tmp_path, documents, home_env, monkeypatch):
    """Enrolling writes Vigie's mark: its modification time is no backup, and neither is a mark on an
    empty folder."""
    use_env(monkeypatch, home_env)
    empty = folder_copy(tmp_path, None, "Vide")
    marked_empty = folder_copy(tmp_path, None, "Vide mais notée")
    destination.mark(Path(marked_empty.path), NOW - timedelta(hours=1))
    finding = backup_age([folder_copy(tmp_path, documents), empty, marked_empty], [], Journal.in_memory())
    assert (finding.severity, render(finding.title, FR)) == (Severity.INFO, ONE_COPY)
    assert finding.facts["copies"] == 1
    assert lines(finding)[1:] == ["• Dossier de sauvegarde «\u00a0Vide\u00a0»\u00a0: ne contient aucune sauvegarde",
                                  "• Dossier de sauvegarde «\u00a0Vide mais notée\u00a0»\u00a0: ne contient aucune "
                                  "sauvegarde"]


def test_empty_output_is_not_an_empty_repository():
    with pytest.raises(ValueError):
        repositories.parse_restic_snapshots("")
    with pytest.raises(KeyError):
        repositories.parse_borg_list("{}")
    assert repositories.parse_restic_snapshots("[]\n") is None  # what restic 0.14 prints for an empty repository
