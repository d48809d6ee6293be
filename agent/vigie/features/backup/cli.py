"""`vigie backup …`: enroll a destination, mark a finished backup, add a restic or borg
repository, run a restore drill now. Run by vigie.cli; the agent never imports this module."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from datetime import datetime
from pathlib import Path

import msgspec

from vigie.cli_parser import whole_number
from vigie.config import ConfigError, ConfigStore, LoadedConfig
from vigie.config.keyring_access import KeyringAccess, KeyringUnavailable
from vigie.config.schema import BackupFolder, BackupRepository
from vigie.features.backup import destination, drill, repositories, sources
from vigie.features.backup.destination import DestinationError
from vigie.features.backup.restore_drill import JOURNAL_KIND, problem_text
from vigie.features.base import NEXT_START
from vigie.i18n import render
from vigie.journal import open_journal
from vigie.model import TN, T, Text
from vigie.platform import PlatformError, get_platform

log = logging.getLogger(__name__)
EXIT_OK, EXIT_FAILED, EXIT_ERROR, EXIT_NOT_DONE = 0, 2, 2, 3
MAX_DRILL_FILES = 50  # as restore_drill.files in the settings: each file is restored, hashed and erased


def add_parser(sub: argparse._SubParsersAction) -> None:
    backup = sub.add_parser("backup", help=T("backups: enroll, note, test"))
    actions = backup.add_subparsers(dest="action", metavar="ACTION", required=True)
    enroll = actions.add_parser("enroll", help=T("enroll a folder (external drive, NAS) as a backup"))
    enroll.add_argument("path", metavar=T("FOLDER"))
    enroll.add_argument("--originals", metavar=T("FOLDER"), default="",
                        help=T("the folder it is a copy of (for restore tests)"))
    mark = actions.add_parser("mark", help=T("note that a backup has just finished (for scripts)"))
    mark.add_argument("path", metavar=T("FOLDER"))
    repo = actions.add_parser("add-repo", help=T("add a restic or borg repository"))
    repo.add_argument("kind", choices=["restic", "borg"], help=T("the backup program that made it"))
    repo.add_argument("repository", metavar=T("REPOSITORY"), help=T("where it is, as the program writes it"))
    repo.add_argument("--name", required=True, metavar=T("NAME"),
                      help=T("a short name for it: letters, digits, dots, dashes and underscores"))
    repo.add_argument("--password-stdin", action="store_true", help=T("read the password from standard input"))
    drill_parser = actions.add_parser("drill", help=T("test now the restore of a few files"))
    drill_parser.add_argument("--files", type=whole_number(1, MAX_DRILL_FILES, drill_parser.tr), default=None,
                              metavar="N", help=T("how many files to restore (1 to {n})", n=MAX_DRILL_FILES))
    # Asked by restic and borg themselves; no help= : argparse 3.11 would print "==SUPPRESS==".
    actions.add_parser("password").add_argument("name")


def run_command(args: argparse.Namespace, loaded: LoadedConfig, tr) -> int:
    try:
        if args.action == "enroll":
            return enroll(args, loaded, tr)
        if args.action == "mark":
            marker = destination.mark(Path(args.path), datetime.now().astimezone())
            _say(T("Backup noted: {time}", time=marker.last_backup.strftime("%Y-%m-%d %H:%M")), tr)
            return EXIT_OK
        if args.action == "add-repo":
            return add_repository(args, loaded, tr)
        if args.action == "drill":
            return run_drills(args, loaded, tr)
        return print_password(args.name, tr)
    except DestinationError as exc:
        return _fail(exc.reason, tr)
    except ConfigError as exc:
        return _fail(exc.reason, tr)


def enroll(args: argparse.Namespace, loaded: LoadedConfig, tr) -> int:
    folder = Path(args.path).resolve()
    originals = Path(args.originals).resolve() if args.originals else None
    if originals is not None and not originals.is_dir():
        return _fail(T("This folder does not exist: {path}", path=args.originals), tr)
    enroll_folder(loaded, folder, originals)
    _say(T("Backup folder enrolled: {path}", path=str(folder)), tr)
    _say(NEXT_START, tr)
    if originals is None:
        _say(T("Tip: add --originals FOLDER so that restore tests compare with your files."), tr)
    return EXIT_OK


def enroll_folder(loaded: LoadedConfig, folder: Path, originals: Path | None) -> BackupFolder:
    """Mark `folder` as a backup and store it (with the originals it copies) in the settings; raises
    DestinationError or ConfigError with the user's reason. Shared with the setup assistant."""
    settings = loaded.config.backup_age
    marker = destination.enroll(folder, datetime.now().astimezone())
    entry = BackupFolder(id=marker.id, path=str(folder), relative=destination.relative_to_mount(folder),
                         originals=str(originals) if originals else "")
    kept = [d for d in settings.destinations if d.id != marker.id and Path(d.path) != folder]
    ConfigStore().replace_section(loaded, "backup_age", msgspec.structs.replace(settings, destinations=[*kept, entry]))
    return entry


def add_repository(args: argparse.Namespace, loaded: LoadedConfig, tr) -> int:
    entry = repository_entry(args.kind, args.name, args.repository)
    secret = _read_password(args.password_stdin, tr)
    if not secret:
        return _fail(NO_PASSWORD, tr)
    store_repository(loaded, entry, secret)
    _say(T("Repository added: {name}", name=entry.name), tr)
    _say(NEXT_START, tr)
    try:
        snapshot = repositories.newest_snapshot(entry, 120)
    except PlatformError as exc:
        return _fail(T("But Vigie cannot read it yet: {reason}", reason=exc.reason), tr)
    if snapshot is not None:
        _say(T("Its newest backup: {time}", time=snapshot.time.astimezone().strftime("%Y-%m-%d %H:%M")), tr)
    return EXIT_OK


NO_PASSWORD = T("No password was given: nothing was saved. Type it when asked, in a terminal, or give it on "
                "standard input with --password-stdin.")


def _read_password(from_stdin: bool, tr) -> str:
    """The repository's password, or "" when there is none to read. Without a terminal, getpass
    would warn in English, echo, then raise on an empty input: asked only where one can type."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    if sys.stdin is None or not sys.stdin.isatty():
        return ""
    try:
        return getpass.getpass(render(T("Password of the repository: "), tr))
    except EOFError:
        return ""


def repository_entry(kind: str, name: str, repository: str) -> BackupRepository:
    """A repository's settings, checked (its name's pattern); ConfigError otherwise."""
    entry = BackupRepository(kind=kind, name=name, repository=repository)  # type: ignore[arg-type]
    try:
        return msgspec.convert(msgspec.to_builtins(entry), BackupRepository)
    except msgspec.ValidationError as exc:
        raise ConfigError(T("The name may only hold letters, digits, dots, dashes and underscores.")) from exc


PASSWORD_NOT_STORED = T("The password could not be stored in the system keyring.")


def store_repository(loaded: LoadedConfig, entry: BackupRepository, secret: str) -> None:
    """The password into the keyring, then the repository into the settings; raises ConfigError with the
    user's reason. Shared with the setup assistant."""
    try:
        KeyringAccess().set(repositories.PASSWORD_ENTRY.format(name=entry.name), secret)
    except KeyringUnavailable as exc:
        log.error("backup password not stored: %s", exc)
        raise ConfigError(PASSWORD_NOT_STORED, str(exc)) from exc
    settings = loaded.config.backup_age
    kept = [r for r in settings.repositories if r.name != entry.name]
    ConfigStore().replace_section(loaded, "backup_age", msgspec.structs.replace(settings, repositories=[*kept, entry]))


def print_password(name: str, tr) -> int:
    try:
        secret = KeyringAccess().get(repositories.PASSWORD_ENTRY.format(name=name))
    except KeyringUnavailable as exc:
        log.error("backup password unavailable: %s", exc)
        secret = None
    if secret is None:
        return _fail(T("No password is stored for the repository {name}.", name=name), tr)
    print(secret)
    return EXIT_OK


def run_drills(args: argparse.Namespace, loaded: LoadedConfig, tr) -> int:
    targets = drill_targets(loaded)
    if not targets:
        return _fail(NOTHING_TO_TEST, tr, EXIT_NOT_DONE)
    outcomes = []
    for target in targets:
        _say(T("Testing {source}…", source=target.label), tr)
        result = drill_and_journal(target, args.files or loaded.config.restore_drill.files)
        _report(result, target, tr)
        outcomes.append(result.outcome)
    if drill.Outcome.FAILED in outcomes:
        return EXIT_FAILED
    done = {drill.Outcome.PASSED, drill.Outcome.READABLE}
    return EXIT_OK if done & set(outcomes) else EXIT_NOT_DONE


NOTHING_TO_TEST = T("No backup can be tested right now: plug in the backup drive.")


def drill_targets(loaded: LoadedConfig) -> list[drill.Drillable]:
    """The enrolled backups a drill can run on now (shared with the setup assistant)."""
    config = loaded.config
    return drill.drillable_sources(config.backup_age.destinations, config.backup_age.repositories,
                                   sources.mounted(get_platform()), config.restore_drill.timeout_minutes * 60)


def drill_and_journal(target: drill.Drillable, files: int) -> drill.DrillResult:
    """One drill, its proof kept in the journal as the agent keeps it (shared with the setup assistant)."""
    result = drill.run_drill(target, files)
    journal, _ = open_journal()
    try:
        journal.record(JOURNAL_KIND, datetime.now().astimezone(), **result.journal_data(),
                       reason=result.reason.msgid if result.reason else None)
    finally:
        journal.close()
    return result


def _report(result: drill.DrillResult, target: drill.Drillable, tr) -> None:
    if result.outcome == drill.Outcome.PASSED:
        _say(TN("  Passed: {n} file restored and identical.", "  Passed: {n} files restored and identical.",
                len(result.checked)), tr)
    elif result.outcome == drill.Outcome.READABLE:
        _say(TN("  Readable: {n} file read back from the backup, not compared with the original (unknown).",
                "  Readable: {n} files read back from the backup, not compared with the originals (unknown).",
                len(result.checked)), tr)
        if isinstance(target, drill.FolderDrill):
            _say(T("  To compare them with your files: vigie backup enroll \"{backup}\" --originals FOLDER",
                   backup=target.folder.path), tr)
    elif result.outcome == drill.Outcome.FAILED:
        _say(T("  Your backup does not restore correctly"), tr)
        for problem in result.problems:
            _say(T("  - {problem}", problem=problem_text(problem.problem, problem.name)), tr)
    else:
        _say(T("  Not done: {reason}", reason=result.reason), tr)


def _say(text: Text, tr) -> None:
    print(render(text, tr))


def _fail(text: Text, tr, code: int = EXIT_ERROR) -> int:
    print(render(text, tr), file=sys.stderr)
    return code
