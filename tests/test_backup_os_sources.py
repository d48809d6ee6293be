"""system_backups(): the OS's own backup tools (Déjà Dup, File History, wbadmin, Time Machine).

Déjà Dup is read for real: gsettings with a compiled copy of its schema's keys, keyfile backend in
a private XDG tree (as test_lock_policy does). The parsers run on captured outputs in
tests/fixtures/ (each names its source in its `# SOURCE:` header); Windows and macOS run with only
their small OS-call functions replaced. Samples written here inline are marked CONSTRUCTED.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import harness
from fixture_files import load_fixture
from vigie.i18n import render, translator
from vigie.platform import macos, parsers, proc, windows
from vigie.platform.base import BackupRecord, ToolFailed, ToolMissing, ToolTimeout
from vigie.platform.macos import MacPlatform
from vigie.platform.windows import WindowsPlatform

if sys.platform != "win32":  # the Windows lane runs this file too; Linux's module needs jeepney (Linux only)
    from vigie.platform import linux
    from vigie.platform.linux import LinuxPlatform

PARIS = ZoneInfo("Europe/Paris")
EN = translator("en")
DRIVE_NAME = 'Clé d\'Anne "Sauvegarde"\n2'  # what the Déjà Dup fixtures hold (quotes, a newline)


def section(name: str, after: str) -> tuple[str, str]:
    """A fixture holding two captures separated by a `# …` line: (before, after)."""
    before, sep, rest = load_fixture(name).partition(after)
    assert sep, f"{after!r} not in {name}"
    return before, rest


# --- Déjà Dup: parsers, on real gsettings output -------------------------------------------------

def test_gvariant_strings_as_gsettings_prints_them() -> None:
    listed = parsers.parse_gsettings_list(load_fixture("linux-gsettings-list-recursively-dejadup.txt"))
    assert parsers.parse_gvariant_string(listed[("org.gnome.DejaDup.Drive", "name")]) == DRIVE_NAME
    assert parsers.parse_gvariant_string(listed[("org.gnome.DejaDup", "backend")]) == "drive"
    assert parsers.parse_gvariant_string(listed[("org.gnome.DejaDup.Local", "folder")]) == "$HOSTNAME"
    assert parsers.parse_gvariant_string("''") == ""
    assert parsers.parse_gvariant_string(r"'caf\u00e9 \U0001f9a0 \t\\'") == "café 🦠 \t\\"  # CONSTRUCTED
    for bad in ("", "'", "uint32 5", "'open", r"'\u12'", "'end\\"):  # CONSTRUCTED
        with pytest.raises(ValueError):
            parsers.parse_gvariant_string(bad)


def test_deja_dup_record_from_gsettings_and_from_a_flatpak_key_file() -> None:
    from_gsettings = parsers.deja_dup_settings_from_gsettings(
        load_fixture("linux-gsettings-list-recursively-dejadup.txt"))
    from_keyfile = parsers.deja_dup_settings_from_keyfile(load_fixture("linux-dejadup-keyfile.txt"))
    assert from_gsettings["drive/name"] == from_keyfile["drive/name"]
    expected = BackupRecord("deja_dup", datetime(2026, 3, 2, 21, 15, 7, 402311, tzinfo=UTC), DRIVE_NAME)
    assert parsers.deja_dup_record(from_gsettings) == expected
    assert parsers.deja_dup_record(from_keyfile) == expected  # unset keys are absent from the file


@pytest.mark.parametrize(("settings", "expected"), [
    ({}, None),  # never used
    ({"last-backup": "''", "last-run": "''"}, None),
    ({"last-run": "'2026-03-02T21:15:07Z'"}, BackupRecord("deja_dup", None)),  # set up, no backup finished
    ({"last-backup": "'2026-03-02T22:15:07'", "backend": "'google'"},  # no offset: local time
     BackupRecord("deja_dup", datetime(2026, 3, 2, 22, 15, 7, tzinfo=PARIS), "Google Drive")),
    ({"last-backup": "'2026-03-02T21:15:07+01:00'", "backend": "'remote'", "remote/uri": "'smb://nas/b'"},
     BackupRecord("deja_dup", datetime(2026, 3, 2, 20, 15, 7, tzinfo=UTC), "smb://nas/b")),
    ({"last-run": "'2026-03-02T21:15:07Z'", "backend": "'local'"}, BackupRecord("deja_dup", None, "poste-1")),
    ({"last-run": "'2026-03-02T21:15:07Z'", "backend": "'auto'"}, BackupRecord("deja_dup", None, "")),
])
def test_deja_dup_record(settings: dict[str, str], expected: BackupRecord | None) -> None:
    """CONSTRUCTED settings, in the GVariant text gsettings prints."""
    assert parsers.deja_dup_record(settings, zone=PARIS, hostname="poste-1") == expected


def test_deja_dup_unreadable_date() -> None:
    with pytest.raises(ValueError):
        parsers.deja_dup_record({"last-backup": "'hier soir'"})  # CONSTRUCTED


# --- Déjà Dup: for real, with gsettings ----------------------------------------------------------

DEJA_DUP_SCHEMA = """<?xml version="1.0" encoding="UTF-8"?>
<!-- The keys Vigie reads, as in Déjà Dup's data/app.gschema.xml.in (path /org/gnome/deja-dup/). -->
<schemalist>
  <schema id="org.gnome.DejaDup" path="/org/gnome/deja-dup/">
    <key name="last-run" type="s"><default>''</default></key>
    <key name="last-backup" type="s"><default>''</default></key>
    <key name="backend" type="s">
      <choices><choice value='auto'/><choice value='remote'/><choice value='local'/><choice value='drive'/>
        <choice value='google'/><choice value='microsoft'/></choices>
      <default>'auto'</default>
    </key>
    <child name="drive" schema="org.gnome.DejaDup.Drive"/>
    <child name="remote" schema="org.gnome.DejaDup.Remote"/>
    <child name="local" schema="org.gnome.DejaDup.Local"/>
  </schema>
  <schema id="org.gnome.DejaDup.Drive" path="/org/gnome/deja-dup/drive/">
    <key name="name" type="s"><default>''</default></key>
  </schema>
  <schema id="org.gnome.DejaDup.Remote" path="/org/gnome/deja-dup/remote/">
    <key name="uri" type="s"><default>''</default></key>
  </schema>
  <schema id="org.gnome.DejaDup.Local" path="/org/gnome/deja-dup/local/">
    <key name="folder" type="s"><default>'$HOSTNAME'</default></key>
  </schema>
</schemalist>
"""


def use_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name in set(os.environ) - set(env):
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def deja_dup_env(tmp_path: Path) -> dict[str, str]:
    """Déjà Dup's schema installed (only there: XDG_DATA_DIRS hides the system's), keyfile backend."""
    if sys.platform == "win32":
        pytest.skip("Déjà Dup is read with gsettings, a Linux program: run by the Linux lane")
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    (schemas / "org.gnome.DejaDup.gschema.xml").write_text(DEJA_DUP_SCHEMA, encoding="utf-8")
    subprocess.run(["glib-compile-schemas", str(schemas)], check=True, timeout=30)
    env = harness.isolated_env(tmp_path)
    env.update(GSETTINGS_BACKEND="keyfile", GSETTINGS_SCHEMA_DIR=str(schemas), XDG_DATA_DIRS=str(tmp_path / "none"))
    return env


def gsettings_set(env: dict[str, str], schema: str, key: str, value: str) -> None:
    subprocess.run(["gsettings", "set", schema, key, value], env=env, check=True, timeout=10)


def test_deja_dup_installed_but_never_used(deja_dup_env, monkeypatch) -> None:
    use_env(monkeypatch, deja_dup_env)
    assert LinuxPlatform().system_backups(5) == []


def test_deja_dup_last_backup_and_drive(deja_dup_env, monkeypatch) -> None:
    gsettings_set(deja_dup_env, "org.gnome.DejaDup", "last-run", "2026-03-02T21:15:07.402311Z")
    gsettings_set(deja_dup_env, "org.gnome.DejaDup", "last-backup", "2026-03-02T21:15:07.402311Z")
    gsettings_set(deja_dup_env, "org.gnome.DejaDup", "backend", "drive")
    gsettings_set(deja_dup_env, "org.gnome.DejaDup.Drive", "name", DRIVE_NAME)
    use_env(monkeypatch, deja_dup_env)
    assert LinuxPlatform().system_backups(5) == [
        BackupRecord("deja_dup", datetime(2026, 3, 2, 21, 15, 7, 402311, tzinfo=UTC), DRIVE_NAME)]


def test_deja_dup_set_up_but_no_backup_finished(deja_dup_env, monkeypatch) -> None:
    gsettings_set(deja_dup_env, "org.gnome.DejaDup", "last-run", "2026-03-02T21:15:07Z")
    gsettings_set(deja_dup_env, "org.gnome.DejaDup", "backend", "remote")
    gsettings_set(deja_dup_env, "org.gnome.DejaDup.Remote", "uri", "sftp://cabinet@nas.local/sauvegardes")
    use_env(monkeypatch, deja_dup_env)
    assert LinuxPlatform().system_backups(5) == [
        BackupRecord("deja_dup", None, "sftp://cabinet@nas.local/sauvegardes")]


def test_deja_dup_date_it_cannot_read_is_an_error_record(deja_dup_env, monkeypatch) -> None:
    gsettings_set(deja_dup_env, "org.gnome.DejaDup", "last-backup", "mardi dernier")
    use_env(monkeypatch, deja_dup_env)
    [record] = LinuxPlatform().system_backups(5)
    assert (record.source, record.last_backup) == ("deja_dup", None)
    assert render(record.error, EN) == "The Déjà Dup settings could not be read."


OTHER_SCHEMA = """<schemalist><schema id="org.example.Other" path="/org/example/other/">
  <key name="x" type="s"><default>''</default></key></schema></schemalist>"""


def test_deja_dup_schema_absent(deja_dup_env, monkeypatch, tmp_path) -> None:
    others = tmp_path / "other-schemas"
    others.mkdir()
    (others / "org.example.Other.gschema.xml").write_text(OTHER_SCHEMA, encoding="utf-8")
    subprocess.run(["glib-compile-schemas", str(others)], check=True, timeout=30)
    use_env(monkeypatch, dict(deja_dup_env, GSETTINGS_SCHEMA_DIR=str(others)))
    assert LinuxPlatform().system_backups(5) == []

    empty = tmp_path / "no-schemas"  # gsettings then fails even to list: "No schemas installed"
    empty.mkdir()
    use_env(monkeypatch, dict(deja_dup_env, GSETTINGS_SCHEMA_DIR=str(empty)))
    assert LinuxPlatform().system_backups(5) == []


def test_gsettings_failing_while_the_schema_is_there(deja_dup_env, monkeypatch) -> None:
    def broken(schema: str, timeout: float) -> str:
        raise ToolFailed(linux.T("The program {tool} failed (code {code}).", tool="gsettings", code=1), "dconf")

    use_env(monkeypatch, deja_dup_env)
    monkeypatch.setattr(linux, "gsettings_list_recursively", broken)  # gsettings_schemas stays real
    [record] = LinuxPlatform().system_backups(5)
    assert record.error is not None and record.last_backup is None


def flatpak_settings(env: dict[str, str], *values: tuple[str, str, str]) -> None:
    """Write Flathub Déjà Dup's own key file, for real, as GLib does inside its sandbox."""
    sandbox = dict(env, XDG_CONFIG_HOME=str(Path(env["HOME"]) / ".var/app/org.gnome.DejaDup/config"))
    for schema, key, value in values:
        gsettings_set(sandbox, schema, key, value)


def test_deja_dup_flatpak_without_gsettings(deja_dup_env, monkeypatch, tmp_path) -> None:
    """No gsettings on PATH: the installed Déjà Dup (if any) cannot be asked, so it is left out
    (no warning about a tool that may not be there); the Flatpak's key file is still read."""
    no_tools = tmp_path / "bin"
    no_tools.mkdir()
    env = dict(deja_dup_env, PATH=str(no_tools))
    use_env(monkeypatch, env)
    assert LinuxPlatform().system_backups(5) == []

    flatpak_settings(deja_dup_env, ("org.gnome.DejaDup", "last-backup", "2026-03-01T08:00:00Z"),
                     ("org.gnome.DejaDup", "backend", "google"))
    assert LinuxPlatform().system_backups(5) == [
        BackupRecord("deja_dup", datetime(2026, 3, 1, 8, tzinfo=UTC), "Google Drive")]


def test_deja_dup_package_and_flatpak_the_newest_backup_wins(deja_dup_env, monkeypatch) -> None:
    gsettings_set(deja_dup_env, "org.gnome.DejaDup", "last-backup", "2026-02-01T08:00:00Z")
    flatpak_settings(deja_dup_env, ("org.gnome.DejaDup", "last-backup", "2026-03-01T08:00:00Z"))
    use_env(monkeypatch, deja_dup_env)
    [record] = LinuxPlatform().system_backups(5)
    assert record.last_backup == datetime(2026, 3, 1, 8, tzinfo=UTC)

    flatpak_settings(deja_dup_env, ("org.gnome.DejaDup", "last-backup", "garbled"))
    [record] = LinuxPlatform().system_backups(5)  # an unreadable one does not hide a good one
    assert record.last_backup == datetime(2026, 2, 1, 8, tzinfo=UTC)


# --- Time Machine: parsers -------------------------------------------------------------------------

def test_tmutil_latestbackup_apfs_path_repeats_the_name() -> None:
    when = parsers.parse_tmutil_latestbackup(load_fixture("macos-tmutil-latestbackup-apfs.txt"), PARIS)
    assert when == datetime(2024, 8, 17, 0, 11, 15, tzinfo=PARIS)
    assert when.utcoffset() == timedelta(hours=2)  # local summer time, turned into an instant


def test_tmutil_latestbackup_hfs_and_its_failure_text() -> None:
    success, failure = section("macos-tmutil-latestbackup-hfs-and-error.txt", "# failure:\n")
    when = parsers.parse_tmutil_latestbackup(success, PARIS)
    assert when == datetime(2013, 11, 28, 20, 26, 10, tzinfo=PARIS)
    assert when.utcoffset() == timedelta(hours=1)  # winter time
    assert parsers.parse_tmutil_latestbackup(failure) is None
    assert not parsers.tmutil_needs_full_disk_access(failure)


def test_tmutil_without_full_disk_access() -> None:
    text = load_fixture("macos-tmutil-full-disk-access-error.txt")
    assert parsers.parse_tmutil_latestbackup(text) is None
    assert parsers.tmutil_needs_full_disk_access(text)
    assert parsers.tmutil_needs_full_disk_access("ls: /Volumes/Backups: Operation not permitted\n")  # CONSTRUCTED


def test_tmutil_local_time_uses_the_system_zone_by_default() -> None:
    when = parsers.parse_tmutil_latestbackup(load_fixture("macos-tmutil-latestbackup-apfs.txt"))
    assert when is not None and when.tzinfo is not None
    assert when.replace(tzinfo=None) == datetime(2024, 8, 17, 0, 11, 15)


def test_tmutil_destinationinfo() -> None:
    configured, not_configured = section("macos-tmutil-destinationinfo.txt", "# --- not configured:\n")
    assert parsers.parse_tmutil_destinationinfo(configured) == [{
        "Name": "Mydisk", "Kind": "Network", "URL": "smb://me@My-server._smb._tcp.local/Mydisk",
        "Mount Point": "/Volumes/Backups of My machine", "ID": "AAAAAAAA-AAAA-AAAA-AAAA-AAAAAAAAAAAA"}]
    assert parsers.parse_tmutil_destinationinfo(not_configured) == []
    assert parsers.parse_tmutil_destinationinfo(configured + configured.replace("Mydisk", "USB")) == [
        parsers.parse_tmutil_destinationinfo(configured)[0],
        parsers.parse_tmutil_destinationinfo(configured.replace("Mydisk", "USB"))[0]]


# --- Time Machine: MacPlatform, tmutil replaced ----------------------------------------------------

def fake_tmutil(monkeypatch: pytest.MonkeyPatch, latest: str | Exception, destinations: str | Exception) -> None:
    def answer(value):
        def call(timeout: float) -> str:
            if isinstance(value, Exception):
                raise value
            return value
        return call

    monkeypatch.setattr(macos, "tmutil_latestbackup", answer(latest))
    monkeypatch.setattr(macos, "tmutil_destinationinfo", answer(destinations))


CONFIGURED, NOT_CONFIGURED = section("macos-tmutil-destinationinfo.txt", "# --- not configured:\n")
HFS_SUCCESS, NO_MACHINE_DIRECTORY = section("macos-tmutil-latestbackup-hfs-and-error.txt", "# failure:\n")


def test_time_machine_last_backup(monkeypatch) -> None:
    fake_tmutil(monkeypatch, load_fixture("macos-tmutil-latestbackup-apfs.txt"), CONFIGURED)
    [record] = MacPlatform().system_backups(30)
    assert (record.source, record.destination, record.error) == ("time_machine", "Mydisk", None)
    assert record.last_backup.replace(tzinfo=None) == datetime(2024, 8, 17, 0, 11, 15)


def test_time_machine_destination_is_the_one_holding_the_backup(monkeypatch) -> None:
    two = CONFIGURED.replace("/Volumes/Backups of My machine", "/Volumes/Backup") + CONFIGURED.replace(
        "Mydisk", "NAS")  # CONSTRUCTED from the capture: a local disk mounted at /Volumes/Backup, then a NAS
    fake_tmutil(monkeypatch, HFS_SUCCESS, two)
    [record] = MacPlatform().system_backups(30)
    assert record.destination == "Mydisk"


def test_time_machine_needs_full_disk_access(monkeypatch) -> None:
    fake_tmutil(monkeypatch, load_fixture("macos-tmutil-full-disk-access-error.txt"), AssertionError("not asked"))
    [record] = MacPlatform().system_backups(30)
    assert (record.source, record.last_backup) == ("time_machine", None)
    shown = render(record.error, EN)
    assert "Full Disk Access" in shown and "System Settings › Privacy & Security › Full Disk Access" in shown


def test_time_machine_not_set_up(monkeypatch) -> None:
    fake_tmutil(monkeypatch, NO_MACHINE_DIRECTORY, NOT_CONFIGURED)
    assert MacPlatform().system_backups(30) == []
    fake_tmutil(monkeypatch, ToolMissing(macos.T("The program {tool} is not installed.", tool="tmutil")), "")
    assert MacPlatform().system_backups(30) == []


def test_time_machine_disk_there_but_no_backup_yet(monkeypatch) -> None:
    fake_tmutil(monkeypatch, NO_MACHINE_DIRECTORY, CONFIGURED)
    assert MacPlatform().system_backups(30) == [BackupRecord("time_machine", None, "Mydisk")]


def test_time_machine_disk_not_connected_is_unknown_not_never(monkeypatch) -> None:
    unplugged = "\n".join(line for line in CONFIGURED.splitlines() if not line.startswith("Mount Point"))
    fake_tmutil(monkeypatch, NO_MACHINE_DIRECTORY, unplugged)
    [record] = MacPlatform().system_backups(30)
    assert (record.last_backup, record.destination) == (None, "Mydisk")
    assert render(record.error, EN) == ("The Time Machine backup disk “Mydisk” is not connected, so the date of "
                                        "its last backup cannot be read.")


def test_time_machine_tmutil_hanging(monkeypatch) -> None:
    fake_tmutil(monkeypatch, ToolTimeout(macos.T("The program {tool} did not answer within {seconds} seconds.",
                                                 tool="tmutil", seconds=30)), CONFIGURED)
    [record] = MacPlatform().system_backups(30)
    assert record.error is not None and record.error.params["tool"] == "tmutil"


def test_tmutil_runs_with_any_exit_code(monkeypatch) -> None:
    """Code 80 (no Full Disk Access) and 1 (no backup) come with the text that says which."""
    calls = []

    def run(argv, timeout, **kwargs):
        calls.append((list(argv), timeout, 80 in kwargs["ok_codes"], 1 in kwargs["ok_codes"]))
        return proc.Result(80, "", "tmutil: latestbackup requires Full Disk Access privileges.\n")

    monkeypatch.setattr(proc, "run", run)
    [record] = MacPlatform().system_backups(30)
    assert record.error is macos.FULL_DISK_ACCESS
    assert calls == [(["tmutil", "latestbackup"], 30, True, True)]


# --- File History ----------------------------------------------------------------------------------

def test_file_history_config() -> None:
    config = load_fixture("win-filehistory-config1.xml").encode("utf-8")
    assert parsers.parse_file_history_config(config) == (True, "\\\\labhome099\\data\\FileHistoryBackup")
    disabled = config.replace(b"<DPStatus>ENABLED</DPStatus>", b"<DPStatus>DISABLED</DPStatus>")  # CONSTRUCTED
    assert parsers.parse_file_history_config(disabled)[0] is False
    # CONSTRUCTED: the same file with a default namespace, and with no TargetName.
    spaced = config.replace(b'<DataProtectionUserConfig SchemaVersion="1">',
                            b'<DataProtectionUserConfig xmlns="urn:example" SchemaVersion="1">')
    assert parsers.parse_file_history_config(spaced) == parsers.parse_file_history_config(config)
    no_name = config.replace(b"<TargetName>\\\\labhome099\\data\\FileHistoryBackup</TargetName>", b"")
    assert parsers.parse_file_history_config(no_name) == (True, "\\\\labhome099\\data\\FileHistoryBackup\\")
    for bad in (b"", b"<DataProtectionUserConfig>", b"<DataProtectionUserConfig/>"):  # CONSTRUCTED
        with pytest.raises(ValueError):
            parsers.parse_file_history_config(bad)


def filetime(moment: datetime) -> int:
    return int((moment - datetime(1601, 1, 1, tzinfo=UTC)).total_seconds()) * 10_000_000


def test_filetime() -> None:
    moment = datetime(2026, 3, 2, 21, 15, 7, tzinfo=UTC)
    assert parsers.filetime_to_datetime(filetime(moment)) == moment
    assert parsers.filetime_to_datetime(filetime(moment).to_bytes(8, "little")) == moment  # REG_BINARY
    assert parsers.filetime_to_datetime(116_444_736_000_000_000) == datetime(1970, 1, 1, tzinfo=UTC)  # the Unix epoch
    for nothing in (0, None, True, "133", -5, 2**64 - 1, b"\x00" * 4):
        assert parsers.filetime_to_datetime(nothing) is None


@pytest.fixture
def file_history(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """A real %LOCALAPPDATA% tree; the registry value is the one thing replaced."""
    folder = tmp_path / "Local" / "Microsoft" / "Windows" / "FileHistory" / "Configuration"
    folder.mkdir(parents=True)
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "Local"))
    registry: dict[str, object] = {}

    def registry_values(hive: str, path: str, names) -> dict[str, object]:
        assert (hive, path, tuple(names)) == ("HKEY_CURRENT_USER", windows.FILE_HISTORY_KEY, ("ProtectedUpToTime",))
        return dict(registry)

    monkeypatch.setattr(windows, "registry_values", registry_values)
    monkeypatch.setattr(windows, "is_user_an_admin", lambda: False)
    return folder, registry


CATALOG_TIME = datetime(2026, 3, 2, 21, 0, tzinfo=UTC)
PROTECTED = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)


def set_up_file_history(folder: Path, config: bytes | None = None) -> None:
    (folder / "Config1.xml").write_bytes(config or load_fixture("win-filehistory-config1.xml").encode("utf-8"))
    (folder / "Catalog1.edb").write_bytes(b"ESE")
    os.utime(folder / "Catalog1.edb", (CATALOG_TIME.timestamp(), CATALOG_TIME.timestamp()))


def test_file_history_never_set_up(file_history) -> None:
    assert WindowsPlatform().system_backups(5) == []


def test_file_history_protected_up_to_time_wins(file_history) -> None:
    folder, registry = file_history
    set_up_file_history(folder)
    registry["ProtectedUpToTime"] = filetime(PROTECTED)
    assert WindowsPlatform().system_backups(5) == [
        BackupRecord("file_history", PROTECTED, "\\\\labhome099\\data\\FileHistoryBackup")]


def test_file_history_zero_between_cycles_uses_the_catalogue(file_history) -> None:
    folder, registry = file_history
    set_up_file_history(folder)
    registry["ProtectedUpToTime"] = 0
    [record] = WindowsPlatform().system_backups(5)
    assert record.last_backup == CATALOG_TIME


def test_file_history_set_up_never_ran(file_history) -> None:
    folder, _ = file_history
    (folder / "Config1.xml").write_bytes(load_fixture("win-filehistory-config1.xml").encode("utf-8"))
    assert WindowsPlatform().system_backups(5) == [
        BackupRecord("file_history", None, "\\\\labhome099\\data\\FileHistoryBackup")]


def test_file_history_turned_off_or_unreadable(file_history) -> None:
    folder, registry = file_history
    registry["ProtectedUpToTime"] = filetime(PROTECTED)
    config = load_fixture("win-filehistory-config1.xml").encode("utf-8")
    set_up_file_history(folder, config.replace(b">ENABLED<", b">DISABLED<"))
    assert WindowsPlatform().system_backups(5) == []
    set_up_file_history(folder, config[: len(config) // 2])  # cut in the middle of a write
    [record] = WindowsPlatform().system_backups(5)
    assert (record.source, record.last_backup) == ("file_history", None)
    assert render(record.error, EN) == "The File History settings could not be read."


def test_file_history_times_far_apart_are_logged(caplog) -> None:
    caplog.set_level(logging.INFO, logger="vigie.platform.windows")
    assert windows.file_history_last_backup(PROTECTED, CATALOG_TIME) == PROTECTED
    assert not caplog.records  # an hour apart: one cycle
    week_later = PROTECTED + timedelta(days=7)
    assert windows.file_history_last_backup(PROTECTED, week_later) == PROTECTED
    assert "ProtectedUpToTime" in caplog.text
    assert windows.file_history_last_backup(None, None) is None


# --- wbadmin ---------------------------------------------------------------------------------------

def test_wbadmin_versions() -> None:
    when, target = parsers.parse_wbadmin_versions(load_fixture("win-wbadmin-get-versions.txt"))
    # "Backup time: 6/13/2018 1:07 AM" was local; the identifier is UTC.
    assert when == datetime(2018, 6, 13, 7, 7, tzinfo=UTC)
    assert target == "1394/USB Disk labeled Seagate Backup Plus Drive(E:)"
    assert parsers.parse_wbadmin_versions("wbadmin 1.0 - Backup command-line tool\n") is None  # CONSTRUCTED
    garbled = "Cible de la sauvegarde : Disque \ufffdtiquet\ufffd\nIdentificateur de version : 06/13/2018-07:07\n"
    assert parsers.parse_wbadmin_versions(garbled) == (when, "")  # CONSTRUCTED: cp850 read as UTF-8


def test_wbadmin_only_when_elevated(monkeypatch, file_history) -> None:
    def versions(timeout: float) -> str:
        asked.append(timeout)
        return load_fixture("win-wbadmin-get-versions.txt")

    asked: list[float] = []
    monkeypatch.setattr(windows, "wbadmin_versions", versions)
    assert WindowsPlatform().system_backups(60) == []
    assert asked == []  # not elevated: not even run

    monkeypatch.setattr(windows, "is_user_an_admin", lambda: True)
    assert WindowsPlatform().system_backups(60) == [BackupRecord(
        "wbadmin", datetime(2018, 6, 13, 7, 7, tzinfo=UTC), "1394/USB Disk labeled Seagate Backup Plus Drive(E:)")]
    assert asked == [60]


@pytest.mark.parametrize(("answer", "expected_error"), [
    ("ERROR - No backup was found.\n", None),  # CONSTRUCTED: no version listed → no record
    (ToolMissing(windows.T("The program {tool} is not installed.", tool="wbadmin")), None),
    (ToolTimeout(windows.T("The program {tool} did not answer within {seconds} seconds.", tool="wbadmin",
                           seconds=60)), "The program wbadmin did not answer within 60 seconds."),
])
def test_wbadmin_failures(monkeypatch, file_history, answer, expected_error) -> None:
    def versions(timeout: float) -> str:
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(windows, "is_user_an_admin", lambda: True)
    monkeypatch.setattr(windows, "wbadmin_versions", versions)
    records = WindowsPlatform().system_backups(60)
    if expected_error is None:
        assert records == []
    else:
        [record] = records
        assert (record.source, record.last_backup, render(record.error, EN)) == ("wbadmin", None, expected_error)


def test_both_windows_tools(monkeypatch, file_history) -> None:
    folder, registry = file_history
    set_up_file_history(folder)
    registry["ProtectedUpToTime"] = filetime(PROTECTED)
    monkeypatch.setattr(windows, "is_user_an_admin", lambda: True)
    monkeypatch.setattr(windows, "wbadmin_versions", lambda timeout: load_fixture("win-wbadmin-get-versions.txt"))
    assert [r.source for r in WindowsPlatform().system_backups(60)] == ["file_history", "wbadmin"]
