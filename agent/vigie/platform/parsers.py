"""Pure parsers for the outputs of the OS tools. No I/O: tested on real captured outputs."""

from __future__ import annotations

import ipaddress
import json
import re
import unicodedata  # Protection checks (issue 20): localised manage-bde
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from vigie.model import T
from vigie.platform.base import (
    ENCRYPTED,
    ENCRYPTING,
    ENCRYPTION_UNKNOWN,
    MOBILE,
    NOT_ENCRYPTED,
    OTHER,
    PHONE,
    SUSPENDED,
    VPN,
    WIFI,
    WIRED,
    AntivirusProduct,
    BackupRecord,
    DiskEncryption,
    FirewallProfile,
    FirewallStatus,
    NetworkState,
    OsVersion,
    PendingUpdate,
    ToolFailed,
    Volume,
)

# --- apt -------------------------------------------------------------------------------------
# "Inst librsvg2-2 [2.40.16-1+b1] (2.40.21-0+deb9u1 Debian-Security:9/oldstable [amd64]) []"
# A package that is new has no "[old version]". Origins are "Label:suite" items, comma-separated.
_APT_INST = re.compile(
    r"^Inst (?P<name>\S+)(?: \[[^\]]*\])? \((?P<version>\S+) (?P<origins>.*?)(?: \[[^\]]*\])?\)"
)


def _apt_origin_is_security(origin: str) -> bool:
    # The way unattended-upgrades and Checkmk classify: the Debian-Security archive, or a
    # suite ending in "-security" (Ubuntu's noble-security, ESM's xenial-infra-security...).
    label, _, suite = origin.strip().partition(":")
    return label == "Debian-Security" or suite.endswith("-security")


def parse_apt_simulate(stdout: str) -> list[PendingUpdate]:
    """Parse `apt-get -s upgrade`: one PendingUpdate per "Inst" line."""
    updates = []
    for line in stdout.splitlines():
        match = _APT_INST.match(line)
        if not match:
            continue
        origins = match["origins"].split(", ")
        updates.append(
            PendingUpdate(
                name=match["name"],
                version=match["version"],
                security=any(_apt_origin_is_security(o) for o in origins),
            )
        )
    return updates


# --- dnf -------------------------------------------------------------------------------------
_DNF_ROW = re.compile(r"^(?P<name>\S+)\.(?P<arch>[A-Za-z0-9_]+)\s+(?P<version>\S+)\s+(?P<repo>\S+)\s*$")
_NEVRA = re.compile(r"^(?P<name>.+)-(?:\d+:)?[^-]+-[^-]+\.(?P<arch>[A-Za-z0-9_]+)$")


def parse_dnf_check_update(stdout: str) -> list[tuple[str, str]]:
    """Parse `dnf check-update` (dnf 4 or 5): (name, version) pairs, progress banners skipped.

    dnf 4 wraps a long package name onto its own line; the columns follow on the next line.
    """
    rows: list[tuple[str, str]] = []
    pending_name = ""
    for raw in stdout.splitlines():
        if raw.startswith("Obsoleting"):
            break
        if not raw.strip() or (raw[0].isspace() and not pending_name):
            continue  # blank, or a repository progress line of dnf 5
        line = f"{pending_name} {raw.strip()}" if pending_name else raw
        pending_name = ""
        match = _DNF_ROW.match(line)
        if match:
            rows.append((match["name"], match["version"]))
        elif len(line.split()) == 1 and "." in line:
            pending_name = line.strip()
    return rows


def parse_dnf_security_names(stdout: str) -> set[str]:
    """Package names in `dnf updateinfo list --security` (advisory, type, [severity], NEVRA, ...)."""
    names = set()
    for line in stdout.splitlines():
        for token in line.split()[1:]:
            match = _NEVRA.match(token)
            if match:
                names.add(match["name"])
                break
    return names


# --- macOS softwareupdate --------------------------------------------------------------------
_SU_LABEL = re.compile(r"^\s*\* Label: (?P<label>.+?)\s*$")
_SU_TITLE = re.compile(r"^\s+Title: (?P<fields>.*)$")
_MACOS_TITLE = re.compile(r"^macOS \D*(?P<major>\d+)")


def parse_softwareupdate(stdout: str, current_major: int | None) -> list[PendingUpdate]:
    """Parse `softwareupdate -l` (macOS 10.15+ format).

    An upgrade to another major macOS (Sonoma offered on Ventura) is not a pending update: it
    is an optional upgrade. Apple publishes no security flag here; its recommended updates carry
    security fixes, so they count as security updates.
    """
    updates = []
    label = None
    for line in stdout.splitlines():
        if match := _SU_LABEL.match(line):
            label = match["label"]
        elif (match := _SU_TITLE.match(line)) and label is not None:
            fields = _softwareupdate_fields(match["fields"])
            title = fields.get("Title", label)
            if not _is_major_upgrade(title, current_major):
                updates.append(
                    PendingUpdate(
                        name=title,
                        version=fields.get("Version", ""),
                        security=fields.get("Recommended", "").upper() == "YES",
                    )
                )
            label = None
    return updates


def _softwareupdate_fields(text: str) -> dict[str, str]:
    fields = {"Title": text.split(",", 1)[0].strip()}
    for part in text.split(", ")[1:]:
        key, sep, value = part.partition(": ")
        if sep:
            fields[key.strip()] = value.strip().rstrip(",")
    return fields


def _is_major_upgrade(title: str, current_major: int | None) -> bool:
    match = _MACOS_TITLE.match(title)
    return bool(match and current_major is not None and int(match["major"]) != current_major)


# --- Windows Update Agent --------------------------------------------------------------------
# Category ids are stable GUIDs; their names are translated into the Windows display language.
WUA_SECURITY_UPDATES = "0fa1201d-4330-4fa8-8ae9-b877473b6441"
WUA_DEFINITION_UPDATES = "e0789628-ce08-4437-be74-2495b842f43b"
_DEFENDER_DEFINITIONS_KB = "2267602"  # always pending by design; Defender updates itself


WUA_NO_ANSWER = T("Windows Update gave no answer that Vigie could read.")


def parse_wua_json(stdout: str) -> list[PendingUpdate]:
    """Parse the JSON our PowerShell WUA search prints (see windows.WUA_SEARCH_SCRIPT). Only that
    explicit answer counts: "[]" is "nothing pending"; empty output or anything else is no answer
    (a search cut short, output lost), never "up to date"."""
    text = stdout.strip()
    if not text:
        raise ToolFailed(WUA_NO_ANSWER, "Windows Update search: empty output")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ToolFailed(WUA_NO_ANSWER, f"Windows Update search: not JSON: {exc}") from exc
    if isinstance(data, dict):  # PowerShell 5.1 unwraps a one-element array
        data = [data]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ToolFailed(WUA_NO_ANSWER, "Windows Update search: not a list of updates")
    updates = []
    for item in data:
        categories = {str(c).lower() for c in item.get("category_ids") or []}
        kbs = {str(k) for k in item.get("kbs") or []}
        if WUA_DEFINITION_UPDATES in categories or _DEFENDER_DEFINITIONS_KB in kbs:
            continue
        severity = (item.get("msrc_severity") or "").strip()
        updates.append(
            PendingUpdate(
                name=str(item.get("title") or "?"),
                version=",".join(sorted(f"KB{k}" for k in kbs)),
                security=WUA_SECURITY_UPDATES in categories or bool(severity),
            )
        )
    return updates


# --- automatic screen lock -------------------------------------------------------------------
def parse_gsettings_uint(stdout: str) -> int:
    """`gsettings get` of a uint32 key prints "uint32 300"."""
    words = stdout.split()
    if not words or not words[-1].isdigit():
        raise ValueError(f"not an unsigned integer: {stdout.strip()!r}")
    return int(words[-1])


def parse_gsettings_bool(stdout: str) -> bool:
    value = stdout.strip()
    if value not in ("true", "false"):
        raise ValueError(f"not a boolean: {value!r}")
    return value == "true"


def xscreensaver_status(atom_name: str) -> str:
    """The first word of xscreensaver's _SCREENSAVER_STATUS (an atom; 0 when nothing is shown)."""
    return {"LOCK": "locked", "BLANK": "blanked"}.get(atom_name, "non-blanked")


def parse_xscreensaver_settings(text: str) -> dict[str, str]:
    """The `name: value` lines of ~/.xscreensaver, or `*name: value` of its app-defaults file."""
    settings = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip() and not name.lstrip().startswith(("!", "#")):
            settings[name.strip().lstrip("*")] = value.strip()
    return settings


def xscreensaver_duration(value: str) -> int:
    """"0:10:00" (h:m:s), "10:00" (m:s) or "10" (minutes) → seconds."""
    parts = [int(part) for part in value.split(":")]
    if len(parts) == 1:
        return parts[0] * 60
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


_KDE_TRUE = {"true", "1", "yes", "on"}


def parse_kscreenlockerrc(text: str | None) -> tuple[bool, int, int]:
    """(Autolock, Timeout in minutes, LockGrace in seconds) from kscreenlockerrc's [Daemon]
    group; an absent file or key keeps KDE's default (true, 5, 5), as KDE itself does."""
    daemon = _kde_group(text or "", "Daemon")
    autolock = daemon.get("Autolock", "true").strip().lower() in _KDE_TRUE
    return autolock, _kde_int(daemon.get("Timeout"), 5), _kde_int(daemon.get("LockGrace"), 5)


def _kde_group(text: str, group: str) -> dict[str, str]:
    import configparser

    parser = configparser.ConfigParser(interpolation=None, strict=False, delimiters=("=",), allow_no_value=True)
    parser.optionxform = str  # type: ignore[method-assign]  # KDE keys are case-sensitive
    try:
        parser.read_string("[vigie-top]\n" + text)  # KDE files may have keys before any group
    except configparser.Error as exc:
        raise ValueError(f"kscreenlockerrc: {exc}") from exc
    if not parser.has_section(group):
        return {}
    # "Autolock[$i]=false" is the same key, made immutable by the administrator (KDE kiosk).
    return {key.split("[", 1)[0]: value or "" for key, value in parser.items(group)}


def _kde_int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default  # KDE falls back to the default on a value it cannot read


# powercfg's labels follow the display language and its console code page; the hex values do not.
_HEX = re.compile(r"0x([0-9a-fA-F]+)")


def parse_powercfg_indexes(stdout: str) -> tuple[int, int] | None:
    """`powercfg /q SCHEME_CURRENT SUB_X SETTING`: the last two 0x values are the current AC and
    DC indexes, in that order, in every language. None when the setting is not listed (hidden)."""
    values = _HEX.findall(stdout)
    if len(values) < 2:
        return None
    return int(values[-2], 16), int(values[-1], 16)


# "2026-09-26 10:00:00.000 sysadminctl[1:2] screenLock delay is 300.000000 seconds"
_SCREENLOCK_DELAY = re.compile(r"screenLock delay is (?:(immediate)|(-?\d+)(?:\.\d+)? seconds?)\b")


def parse_screenlock_status(text: str) -> int | None:
    """`sysadminctl -screenLock status` (stderr): the delay in seconds between the screen saver or
    display sleep and the lock; None when the lock is off ("is off", or a delay of -1)."""
    if "screenLock is off" in text:
        return None
    match = _SCREENLOCK_DELAY.search(text)
    if not match:
        raise ValueError(f"unknown screenLock status: {text.strip()[-200:]!r}")
    if match[1]:
        return 0
    seconds = int(match[2])
    return seconds if seconds >= 0 else None


_PMSET_DISPLAYSLEEP = re.compile(r"^\s*displaysleep\s+(\d+)", re.MULTILINE)


def parse_pmset_displaysleep(stdout: str) -> int:
    """`pmset -g`: minutes before the display sleeps (0 = never)."""
    match = _PMSET_DISPLAYSLEEP.search(stdout)
    if not match:
        raise ValueError("no displaysleep line in pmset -g")
    return int(match[1])


# --- Linux mounts and block devices ----------------------------------------------------------
_UDEV_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})")


_OCTAL_BYTES = re.compile(rb"\\([0-7]{3})")


def unescape_octal(text: str) -> str:
    """/proc/self/mountinfo writes space, tab, newline and backslash as \\040, \\011, \\012, \\134;
    escapes are bytes of UTF-8, so they are undone on bytes."""
    raw = _OCTAL_BYTES.sub(lambda m: bytes([int(m.group(1), 8)]), text.encode("utf-8", "surrogateescape"))
    return raw.decode("utf-8", "replace")


def unescape_hex(text: str) -> str:
    """udev's *_ENC values and /dev/disk/by-label names: \\xNN escapes of UTF-8 bytes."""
    raw = _UDEV_ESCAPE.sub(lambda m: f"%{m.group(1)}", text.replace("%", "%25"))
    from urllib.parse import unquote

    return unquote(raw, encoding="utf-8", errors="replace")


def parse_mountinfo(text: str) -> list[tuple[str, str, str, str]]:
    """(major:minor, mount point, fs type, source) per line of /proc/self/mountinfo."""
    return [row for _mount_id, row in parse_mounts(text)]


def parse_mounts(text: str) -> list[tuple[str, tuple[str, str, str, str]]]:
    """(mount id, parse_mountinfo's row) per line: a mount made again gets a new id."""
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if not sep or len(fields) < 5 or len(tail) < 2:
            continue
        mounts.append((fields[0], (fields[2], unescape_octal(fields[4]), tail[0], unescape_octal(tail[1]))))
    return mounts


def parse_udev_properties(text: str) -> dict[str, str]:
    """KEY=value lines: `blkid -o udev` output or the E: lines of /run/udev/data/bMAJ:MIN."""
    properties = {}
    for line in text.splitlines():
        line = line[2:] if line.startswith("E:") else line
        key, sep, value = line.partition("=")
        if sep:
            properties[key.strip()] = value
    return properties


def volume_identity(properties: dict[str, str]) -> tuple[str, str, str]:
    """(label, uuid, fs type) from udev-style properties; the _ENC forms keep odd characters exact."""
    label = unescape_hex(properties["ID_FS_LABEL_ENC"]) if "ID_FS_LABEL_ENC" in properties \
        else properties.get("ID_FS_LABEL", "")
    return label, properties.get("ID_FS_UUID", ""), properties.get("ID_FS_TYPE", "")


# --- macOS diskutil ----------------------------------------------------------------------------

# "Removable Media: Fixed" is what USB sticks say: removable is told by the bus or the location.
# A mounted .dmg is never a USB drive, whatever its location says.
_DISK_IMAGE = "Disk Image"
_DISKUTIL_BYTES = re.compile(r"\((\d+) Bytes\)")
_NOT_APPLICABLE = "Not applicable"


def _plist_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def volume_from_diskutil_plist(data: bytes) -> Volume | None:
    """`diskutil info -plist MOUNTPOINT`; None when it is not a readable plist dictionary.
    mount_point is "" when the file system is not mounted."""
    import plistlib
    from xml.parsers.expat import ExpatError

    try:
        info = plistlib.loads(data)
    except (plistlib.InvalidFileException, ExpatError, ValueError, TypeError):
        return None
    if not isinstance(info, dict):
        return None
    device = str(info.get("DeviceNode") or "")
    if not device and info.get("DeviceIdentifier"):
        device = f"/dev/{info['DeviceIdentifier']}"
    if not device:
        return None
    size = _plist_int(info.get("TotalSize"))
    bus = info.get("BusProtocol")
    removable = bus != _DISK_IMAGE and (
        bus == "USB" or info.get("Internal") is False or info.get("RemovableMediaOrExternalDevice") is True)
    return Volume(
        device=device,
        mount_point=str(info.get("MountPoint") or ""),
        fs_type=str(info.get("FilesystemType") or info.get("FilesystemName") or ""),
        label=str(info.get("VolumeName") or ""),
        uuid=str(info.get("VolumeUUID") or info.get("DiskUUID") or ""),
        size_bytes=size if size is not None else _plist_int(info.get("Size")),
        removable=removable,
    )


def parse_diskutil_info_text(text: str) -> dict[str, str]:
    """`diskutil info DEVICE` (the human format): "Key:   value" lines; the first ':' ends the key."""
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            fields[key.strip()] = value.strip()
    return fields


def volume_from_diskutil_text(text: str) -> Volume | None:
    """The human `diskutil info` output; None without a Device Node. Same meaning as the plist:
    Protocol ↔ BusProtocol, Device Location: External ↔ Internal false, Disk Size ↔ TotalSize."""
    fields = parse_diskutil_info_text(text)
    device = fields.get("Device Node", "")
    if not device:
        return None

    def known(key: str) -> str:
        value = fields.get(key, "")
        return "" if value.startswith(_NOT_APPLICABLE) or value == "None" else value

    size = _DISKUTIL_BYTES.search(fields.get("Disk Size", ""))
    protocol = fields.get("Protocol", "")
    removable = protocol != _DISK_IMAGE and (protocol == "USB" or fields.get("Device Location") == "External")
    return Volume(
        device=device,
        mount_point=known("Mount Point"),
        fs_type=known("Type (Bundle)") or known("File System Personality") or known("File System"),
        label=known("Volume Name"),
        uuid=known("Volume UUID") or known("Disk / Partition UUID"),
        size_bytes=int(size.group(1)) if size else None,
        removable=removable,
    )


# --- antivirus ------------------------------------------------------------------------------
_CLAMSCAN_SUMMARY = "----------- SCAN SUMMARY -----------"
_CLAMSCAN_LIMIT = "Heuristics.Limits.Exceeded"  # --alert-exceeds-max: a file it did not check whole


@dataclass(frozen=True)
class ClamscanReport:
    findings: list[str]  # "relative/path: SIGNATURE"
    limits: list[str]  # files ClamAV says it did not check whole (too big, too deep an archive...)
    known_viruses: int | None  # None: no summary at all, so no answer
    scanned_files: int | None
    errors: int  # files or folders it could not open ("Total errors", absent when none)


def parse_clamscan(stdout: str, root: str) -> ClamscanReport:
    """`clamscan --infected --alert-exceeds-max=yes`: "PATH: SIGNATURE FOUND" lines, then the summary.
    The summary is the last one printed: a file name cannot forge it, as names come before it."""
    body, sep, summary = stdout.rpartition(_CLAMSCAN_SUMMARY)
    if not sep:
        body, summary = stdout, ""
    counts = dict(re.findall(r"^(Known viruses|Scanned files|Total errors): (\d+)$", summary, re.MULTILINE))
    findings, limits = [], []
    prefix = root.rstrip("/") + "/"
    for line in body.splitlines():
        if not line.endswith(" FOUND"):
            continue
        path, found, threat = line[: -len(" FOUND")].rpartition(": ")
        if found:
            kind = limits if threat.startswith(_CLAMSCAN_LIMIT) else findings
            kind.append(f"{path.removeprefix(prefix)}: {threat}")

    def count(name: str) -> int | None:
        return int(counts[name]) if name in counts else None

    return ClamscanReport(findings, limits, count("Known viruses"), count("Scanned files"), count("Total errors") or 0)


# MpCmdRun writes "Scan finished." then "Scanning E:\ found no threats." (or "found 2 threats."). It
# exits 2 when it found threats, but also when the scan failed ("CmdTool: Failed with hr = 0x80508023")
# or Defender is switched off: the code alone is no answer.
_MPCMDRUN_RESULT = re.compile(r"Scanning (?P<path>.+) found (?P<count>no|\d+) threats?\.")


def parse_mpcmdrun_scan(stdout: str, target: str) -> int | None:
    """How many threats `MpCmdRun -Scan -ScanType 3 -File target` found; None without its explicit answer."""
    lines = [line.strip() for line in stdout.splitlines()]
    if "Scan finished." not in lines:
        return None
    for line in lines:
        match = _MPCMDRUN_RESULT.fullmatch(line)
        if match and match["path"].rstrip("\\").casefold() == target.rstrip("\\").casefold():
            return 0 if match["count"] == "no" else int(match["count"])
    return None


# --- the OS's own backup tools ---------------------------------------------------------------
def local_time(naive: datetime, zone: tzinfo | None = None) -> datetime:
    """A wall-clock time of this computer made aware: in `zone`, or in the system's own zone when
    None (astimezone() then applies the daylight-saving rule of that date)."""
    return naive.replace(tzinfo=zone) if zone is not None else naive.astimezone()


def parse_iso8601(text: str, zone: tzinfo | None = None) -> datetime:
    """"2024-08-17T10:11:12.123456Z" (GLib's format); a time without offset is local time."""
    value = datetime.fromisoformat(text.strip())
    return value if value.tzinfo is not None else local_time(value, zone)


_GVARIANT_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def parse_gvariant_string(text: str) -> str:
    """A string in GVariant text format, as gsettings prints it: 'value', or "value" when it holds
    a single quote, with backslash escapes (\\n, \\', \\", \\uXXXX...)."""
    text = text.strip()
    if len(text) < 2 or text[0] not in "'\"" or text[-1] != text[0]:
        raise ValueError(f"not a GVariant string: {text[:80]!r}")
    body, chars, index = text[1:-1], [], 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            chars.append(char)
            index += 1
            continue
        escape = body[index + 1: index + 2]
        if escape in ("u", "U"):
            digits = body[index + 2: index + (6 if escape == "u" else 10)]
            if len(digits) != (4 if escape == "u" else 8) or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise ValueError(f"bad \\{escape} escape in {text[:80]!r}")
            chars.append(chr(int(digits, 16)))
            index += 2 + len(digits)
        elif escape:
            chars.append(_GVARIANT_ESCAPES.get(escape, escape))
            index += 2
        else:
            raise ValueError(f"dangling backslash in {text[:80]!r}")
    return "".join(chars)


def parse_gsettings_list(stdout: str) -> dict[tuple[str, str], str]:
    """`gsettings list-recursively SCHEMA`: "schema key value" lines → {(schema, key): value text}."""
    values = {}
    for line in stdout.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3:
            values[(parts[0], parts[1])] = parts[2]
    return values


def parse_glib_keyfile(text: str) -> dict[tuple[str, str], str]:
    """A GLib key file (GSettings' keyfile backend, which Flatpak apps use): {(group, key): raw value}."""
    values, group = {}, ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1]
            continue
        key, sep, value = line.partition("=")
        if sep and group:
            values[(group, key.strip())] = value.lstrip()
    return values


DEJA_DUP_SCHEMA = "org.gnome.DejaDup"
DEJA_DUP_PATH = "org/gnome/deja-dup"  # the schema's path: the key file's group names
_DEJA_DUP_CLOUD = {"google": "Google Drive", "microsoft": "Microsoft OneDrive"}


def deja_dup_settings_from_gsettings(stdout: str) -> dict[str, str]:
    """{"last-backup": "'…'", "drive/name": "'…'"…} from `gsettings list-recursively org.gnome.DejaDup`."""
    settings = {}
    for (schema, key), value in parse_gsettings_list(stdout).items():
        if schema == DEJA_DUP_SCHEMA:
            settings[key] = value
        elif schema.startswith(DEJA_DUP_SCHEMA + "."):
            settings[f"{schema[len(DEJA_DUP_SCHEMA) + 1:].lower()}/{key}"] = value
    return settings


def deja_dup_settings_from_keyfile(text: str) -> dict[str, str]:
    """The same keys from a keyfile-backend file (groups "org/gnome/deja-dup", "org/gnome/deja-dup/drive"...)."""
    settings = {}
    for (group, key), value in parse_glib_keyfile(text).items():
        if group == DEJA_DUP_PATH:
            settings[key] = value
        elif group.startswith(DEJA_DUP_PATH + "/"):
            settings[f"{group[len(DEJA_DUP_PATH) + 1:]}/{key}"] = value
    return settings


def deja_dup_record(settings: Mapping[str, str], zone: tzinfo | None = None, hostname: str = "") -> BackupRecord | None:
    """Déjà Dup's record from its settings (GVariant text by key), None when it was never used.

    last-backup is written when a backup completes; last-run also when a restore completes (or the
    user skips a scheduled backup): last-run alone means set up, but no backup ever finished.
    A key not shown (a gsettings-less Flatpak key file holds only what was changed) is empty.
    """

    def value(key: str, default: str = "") -> str:
        return parse_gvariant_string(settings[key]) if key in settings else default

    last_backup, last_run = value("last-backup"), value("last-run")
    if not last_backup and not last_run:
        return None
    backend = value("backend", "auto")
    if backend == "drive":
        destination = value("drive/name")
    elif backend == "remote":
        destination = value("remote/uri")
    elif backend == "local":
        destination = value("local/folder", "$HOSTNAME").replace("$HOSTNAME", hostname or "$HOSTNAME")
    else:
        destination = _DEJA_DUP_CLOUD.get(backend, "")
    when = parse_iso8601(last_backup, zone) if last_backup else None
    return BackupRecord("deja_dup", when, destination)


# "…/Backups.backupdb/macvm/2013-11-28-202610" (HFS+) or, on APFS, the name twice:
# "…/2024-08-17-001115.backup/2024-08-17-001115.backup". Local time, no zone.
_TM_STAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2})-(\d{2})(\d{2})(\d{2})")


def parse_tmutil_latestbackup(text: str, zone: tzinfo | None = None) -> datetime | None:
    """`tmutil latestbackup`: the time in its backup path; None when it printed no path (an error)."""
    for line in text.splitlines():
        stamps = _TM_STAMP.findall(line) if line.startswith("/") else []
        if stamps:
            year, month, day, hour, minute, second = (int(part) for part in stamps[-1])
            return local_time(datetime(year, month, day, hour, minute, second), zone)
    return None


def tmutil_needs_full_disk_access(text: str) -> bool:
    """tmutil refuses (code 80) without Full Disk Access: "tmutil: latestbackup requires Full Disk
    Access privileges." — or a bare EPERM from below. Only asked when no backup path was printed
    (a backup disk may be named "Full Disk Access")."""
    return "Full Disk Access" in text or "Operation not permitted" in text


_TM_FIELD = re.compile(r"^\s*(?P<key>[A-Za-z][A-Za-z ]*?)\s*:\s(?P<value>.*)$")


def parse_tmutil_destinationinfo(text: str) -> list[dict[str, str]]:
    """`tmutil destinationinfo`: one {"Name", "Kind", "URL", "Mount Point", "ID"} per destination,
    each block opened by a "=====" line; [] for "tmutil: No destinations configured."."""
    destinations: list[dict[str, str]] = []
    for line in text.splitlines():
        if "=====" in line:
            destinations.append({})
        elif destinations and (match := _TM_FIELD.match(line)):
            destinations[-1][match["key"]] = match["value"].strip()
    return [d for d in destinations if d]


def filetime_to_datetime(value: object) -> datetime | None:
    """A Windows FILETIME (100 ns since 1601-01-01 UTC; REG_QWORD, or 8 bytes of REG_BINARY) → UTC.
    None for 0 (File History clears ProtectedUpToTime between cycles) and for what is not one."""
    if isinstance(value, (bytes, bytearray)) and len(value) == 8:
        value = int.from_bytes(value, "little")
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return None
    try:
        return datetime(1601, 1, 1, tzinfo=UTC) + timedelta(microseconds=value // 10)
    except OverflowError:
        return None


def parse_file_history_config(data: bytes) -> tuple[bool, str]:
    """File History's Config1.xml: (turned on, where it backs up to). Namespaces are ignored: the
    element names are what Windows 8 to 11 write. ValueError when unreadable."""
    import xml.etree.ElementTree as ElementTree

    try:
        # The user's own file, written by Windows; expat >= 2.4.1 caps entity expansion anyway.
        root = ElementTree.fromstring(data)  # noqa: S314
    except ElementTree.ParseError as exc:
        raise ValueError(f"Config1.xml: {exc}") from exc
    found: dict[str, str] = {}
    for element in root.iter():
        name = element.tag.rsplit("}", 1)[-1]
        if name in ("DPStatus", "TargetName", "TargetUrl") and name not in found:
            found[name] = (element.text or "").strip()
    if "DPStatus" not in found:
        raise ValueError("Config1.xml has no DPStatus")
    return found["DPStatus"].upper() == "ENABLED", found.get("TargetName") or found.get("TargetUrl", "")


# The version identifier is the same in every display language (the labels are not) and is UTC:
# "Backup time: 5/3/2018 9:36 AM" (local, localised) ↔ "Version identifier: 05/03/2018-15:36".
_WBADMIN_VERSION = re.compile(r"\b(\d{2})/(\d{2})/(\d{4})-(\d{2}):(\d{2})\b")


def parse_wbadmin_versions(text: str) -> tuple[datetime, str] | None:
    """`wbadmin get versions`: (newest version time, its target) or None when it lists none.
    The target is the line just before the identifier ("Backup target: …", in any language);
    "" when it is not there or came out garbled (the console code page is not UTF-8)."""
    newest: tuple[datetime, str] | None = None
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = _WBADMIN_VERSION.search(line)
        if not match:
            continue
        month, day, year, hour, minute = (int(part) for part in match.groups())
        try:
            when = datetime(year, month, day, hour, minute, tzinfo=UTC)
        except ValueError:
            continue
        previous = lines[index - 1] if index else ""
        target = previous.partition(":")[2].strip() if ":" in previous else ""
        if "\ufffd" in target:
            target = ""
        if newest is None or when > newest[0]:
            newest = (when, target)
    return newest


# --- The network (the incident guide's « couper le réseau »), read by Platform.network_state() ------

NETWORK_UNREADABLE = T("Vigie could not read the state of the network.")
_DEAD_ROUTE_TYPES = {"unreachable", "blackhole", "prohibit", "throw"}


def parse_ip_json(text: str) -> list[dict]:
    try:
        data = json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        raise ToolFailed(NETWORK_UNREADABLE, f"ip: bad JSON: {exc}") from exc
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ToolFailed(NETWORK_UNREADABLE, "ip: not a JSON list")
    return data


def _is_loopback(link: Mapping) -> bool:
    return link.get("link_type") == "loopback" or "LOOPBACK" in link.get("flags", ()) or link.get("ifname") == "lo"


def _is_live(link: Mapping) -> bool:
    flags = link.get("flags", ())
    return "UP" in flags and "NO-CARRIER" not in flags


def _routable(link: Mapping) -> bool:
    """An address beyond the link itself (IPv4 or IPv6, global or site scope)."""
    return any(info.get("scope") in ("global", "site") for info in link.get("addr_info", ()))


def _route_devices(route: Mapping) -> list[str]:
    hops = route.get("nexthops") or [route]  # multipath routes list their devices per hop
    return [hop["dev"] for hop in hops if isinstance(hop, Mapping) and hop.get("dev")]


def _usable(route: Mapping) -> bool:
    dst = str(route.get("dst", ""))
    return ("linkdown" not in route.get("flags", ()) and route.get("type", "unicast") not in _DEAD_ROUTE_TYPES
            and not dst.startswith(("fe80:", "ff00:")))


def assess_linux(links: Iterable[Mapping], routes: Iterable[Mapping],
                 facts: Mapping[str, Mapping[str, str]] | None = None) -> NetworkState:
    """From `ip -j -d addr` and `ip -j route` (IPv4 and IPv6 together); facts: sysfs, per interface."""
    links = list(links)
    kinds = {str(link.get("ifname")): linux_connection_kind(link, (facts or {}).get(str(link.get("ifname")), {}))
             for link in links}
    loopbacks = {"lo"} | {str(link.get("ifname")) for link in links if _is_loopback(link)}
    links = [link for link in links if not _is_loopback(link)]
    usable = [route for route in routes if _usable(route)]
    routed = {dev for route in usable for dev in _route_devices(route)}
    connected = tuple(link["ifname"] for link in links
                      if _is_live(link) and _routable(link) and link.get("ifname") in routed)
    default_via = tuple(dict.fromkeys(dev for route in usable if route.get("dst") == "default"
                                      for dev in _route_devices(route) if dev not in loopbacks))
    used = dict.fromkeys((*default_via, *connected))
    return NetworkState(connected, default_via, tuple((name, kinds.get(name, OTHER)) for name in used))


_VPN_KINDS = {"tun", "wireguard", "ipip", "gre", "gretap", "sit", "ip6tnl", "vti", "vti6", "ip6gre", "xfrm"}
_PHONE_DRIVERS = {"rndis_host", "ipheth"}  # Android and iPhone sharing their connection over USB
_MOBILE_DRIVERS = {"qmi_wwan", "cdc_mbim", "huawei_cdc_ncm", "sierra_net"}


def linux_connection_kind(link: Mapping, facts: Mapping[str, str]) -> str:
    """A link of `ip -j -d addr`, and what sysfs says of it (sysfs_net_facts), in the user's words."""
    info = link.get("linkinfo") if isinstance(link.get("linkinfo"), Mapping) else {}
    if facts.get("wireless") or facts.get("devtype") == "wlan":
        return WIFI
    if facts.get("devtype") == "wwan" or facts.get("driver") in _MOBILE_DRIVERS:
        return MOBILE
    if facts.get("driver") in _PHONE_DRIVERS:
        return PHONE
    if info.get("info_kind") in _VPN_KINDS or link.get("link_type") in ("none", "ppp"):
        return VPN
    return WIRED if link.get("link_type") == "ether" else OTHER


CAP_NET_ADMIN = 12


def has_capability(status_text: str, bit: int) -> bool:
    """/proc/self/status: is capability `bit` in the effective set (CapEff, hexadecimal)?"""
    for line in status_text.splitlines():
        key, _, value = line.partition(":")
        if key == "CapEff":
            try:
                return bool(int(value.strip(), 16) >> bit & 1)
            except ValueError:
                return False
    return False


def macos_connection_kinds(ports: Iterable[tuple[str, str]]) -> dict[str, str]:
    """`networksetup -listallhardwareports` pairs → device: kind. Devices it does not list (utun, ppp)
    are VPNs or modems: see macos_kind."""
    kinds = {}
    for port, device in ports:
        name = port.lower()
        if name in ("wi-fi", "airport"):
            kinds[device] = WIFI
        elif "iphone" in name or "ipad" in name or "bluetooth" in name:
            kinds[device] = PHONE
        elif "ethernet" in name or "lan" in name or "thunderbolt" in name:
            kinds[device] = WIRED
    return kinds


def macos_kind(device: str, kinds: Mapping[str, str]) -> str:
    if device in kinds:
        return kinds[device]
    return VPN if device.startswith(("utun", "ipsec", "ppp")) else OTHER


def windows_connection_kind(alias: str) -> str:
    """Windows names its adapters « Ethernet », « Wi-Fi », « Cellular » (« Cellulaire »), « Connexion au réseau
    local »… by default; the user may rename them: then the kind is unknown."""
    name = alias.lower()
    if any(word in name for word in ("wi-fi", "wifi", "wlan", "wireless", "sans fil")):
        return WIFI
    if any(word in name for word in ("cellular", "cellulaire", "mobile", "wwan")):
        return MOBILE
    if "bluetooth" in name:
        return PHONE
    if any(word in name for word in ("vpn", "wireguard", "openvpn", "tap-", "forticlient")):
        return VPN
    if any(word in name for word in ("ethernet", "local area connection", "réseau local")):
        return WIRED
    return OTHER


def addressed_interfaces(stats: Mapping[str, object], addresses: Mapping[str, Iterable[object]]) -> tuple[str, ...]:
    """Interfaces that are up with a routable address (psutil.net_if_stats / net_if_addrs shapes)."""
    found = []
    for name, items in addresses.items():
        stat = stats.get(name)
        if stat is None or not getattr(stat, "isup", False):
            continue
        if any(_routable_address(getattr(item, "address", "")) for item in items):
            found.append(name)
    return tuple(found)


def _routable_address(text: str) -> bool:
    try:
        address = ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return False  # a MAC address (AF_LINK / AF_PACKET)
    return not (address.is_loopback or address.is_link_local or address.is_unspecified)


def parse_windows_routes(text: str) -> tuple[str, ...]:
    """ConvertTo-Json prints nothing for no route, an object for one, a list for several."""
    if not text.strip():
        return ()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ToolFailed(NETWORK_UNREADABLE, f"Get-NetRoute: bad JSON: {exc}") from exc
    items = data if isinstance(data, list) else [data]
    return tuple(dict.fromkeys(str(item.get("InterfaceAlias", "?")) for item in items if isinstance(item, dict)))


def parse_route_get(text: str) -> str | None:
    """`route -n get default`: the interface line, absent when there is no default route."""
    for line in text.splitlines():
        key, _, value = line.strip().partition(":")
        if key == "interface" and value.strip():
            return value.strip()
    return None


def parse_hardware_ports(text: str) -> list[tuple[str, str]]:
    """`networksetup -listallhardwareports`: (port name, device) pairs."""
    ports, port = [], None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Hardware Port":
            port = value.strip()
        elif key.strip() == "Device" and port is not None:
            ports.append((port, value.strip()))
            port = None
    return ports


def parse_network_services(text: str) -> list[str]:
    """`networksetup -listallnetworkservices`: the enabled ones (a leading * marks a disabled one)."""
    lines = [line.strip() for line in text.splitlines()[1:]]  # the first line explains the asterisk
    return [line for line in lines if line and not line.startswith("*")]


# --- Access checks (issue 20) ---------------------------------------------------------------------

# Remote access: the listening ports and the programs that open this computer to the network.
REMOTE_PORTS = {22: "ssh", 3389: "rdp", 139: "file_sharing", 445: "file_sharing", 2049: "file_sharing",
                **dict.fromkeys(range(5900, 5910), "vnc")}
REMOTE_PROGRAMS = {"sshd": "ssh", "dropbear": "ssh", "xrdp": "rdp", "gnome-remote-desktop-daemon": "rdp",
                   "x11vnc": "vnc", "xvnc": "vnc", "vino-server": "vnc", "wayvnc": "vnc", "smbd": "file_sharing"}


def _loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


def remote_listeners(listeners: Iterable[tuple[str, int, str | None]],
                     ignore: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(kind, detail) of each way in among listening TCP sockets given as (address, port, program or
    None): a known program or port, on an address other than loopback (a service only this computer
    can reach is not exposed). `ignore`: kinds the caller reads another way. One entry per kind and port."""
    skipped = set(ignore)
    found: dict[tuple[str, int], str] = {}
    for address, port, program in listeners:
        name = (program or "").lower().removesuffix(".exe")
        kind = REMOTE_PROGRAMS.get(name) or REMOTE_PORTS.get(port)
        if kind is None or kind in skipped or _loopback(address):
            continue
        found.setdefault((kind, port), f"port {port} ({program})" if program else f"port {port}")
    return [(kind, detail) for (kind, _), detail in found.items()]


# `reg query KEY`: "    Name    REG_TYPE    Data" (4 spaces apart; an empty REG_SZ has no data). Value
# names and types are not translated.
_REG_VALUE = re.compile(r"^\s+(?P<name>\S.*?)\s{4}(?P<type>REG_[A-Z_]+)(?:\s{4}(?P<data>.*))?$")


def parse_reg_query(text: str) -> dict[str, object]:
    """The values listed by `reg query` (REG_DWORD and REG_QWORD as int, the others as text)."""
    values: dict[str, object] = {}
    for line in text.splitlines():
        match = _REG_VALUE.match(line.rstrip())
        if not match:
            continue
        data = (match["data"] or "").strip()
        if match["type"] in ("REG_DWORD", "REG_QWORD"):
            values[match["name"]] = int(data, 16) if data.lower().startswith("0x") else int(data or 0)
        else:
            values[match["name"]] = data
    return values


def rdp_enabled(terminal_server: Mapping[str, object]) -> bool:
    """Remote Desktop accepts connections when fDenyTSConnections is 0 (1, the default, refuses them)."""
    return terminal_server.get("fDenyTSConnections", 1) == 0


def winlogon_auto_login(winlogon: Mapping[str, object]) -> str | None:
    """The account Windows opens by itself at start ("" when it names none); None when it does not.
    AutoAdminLogon "1" alone decides: the password may be an LSA secret (netplwiz, Sysinternals
    Autologon) rather than a DefaultPassword value."""
    if str(winlogon.get("AutoAdminLogon", "")).strip() != "1":
        return None
    domain = str(winlogon.get("DefaultDomainName") or "").strip()
    user = str(winlogon.get("DefaultUserName") or "").strip()
    return f"{domain}\\{user}" if domain and user else user


# Shares Windows makes by itself: C$ (one per drive), ADMIN$, IPC$, print$ (printer drivers).
_DEFAULT_SHARE = re.compile(r"^(?:[A-Z]\$|ADMIN\$|IPC\$|PRINT\$)$", re.IGNORECASE)


def parse_net_share(text: str) -> list[str]:
    """`net share`: the share names. The table follows the dashed line; net's last line is its own
    (translated) "The command completed successfully."; a name longer than 12 characters stands
    alone on its line, the rest of the row on the next, indented."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("-----")), None)
    if start is None:
        raise ValueError("no share table in the output of net share")
    # Blank lines and a dashed line wrapped by the console ("-----" alone) are not rows.
    rows = [line.rstrip() for line in lines[start + 1:] if line.strip().strip("-")][:-1]
    names = []
    for row in rows:
        if row[0].isspace():
            continue  # the resource or remark of the row above
        names.append(row[:12].rstrip() if len(row) > 12 and row[12] == " " else row.strip())
    return names


def user_shares(names: Iterable[str]) -> list[str]:
    """The shares someone made (hidden ones ending in $ included), not Windows' own."""
    return [name for name in names if not _DEFAULT_SHARE.match(name)]


def parse_ini(text: str) -> dict[str, dict[str, str]]:
    """A key file as display managers (GDM, LightDM, SDDM) and desktop entries read it: [groups] of
    key=value; '#' and ';' comments; spaces around keys and values and at line starts ignored
    (Ubuntu's custom.conf indents its keys); a later key wins; keys before any group are ignored."""
    groups: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = groups.setdefault(line[1:-1].strip(), {})
            continue
        key, sep, value = line.partition("=")
        if sep and current is not None:
            current[key.strip()] = value.strip()
    return groups


_DM_TRUE = {"true", "yes", "y", "1", "on"}


def gdm_auto_login(groups: Mapping[str, Mapping[str, str]]) -> str | None:
    """GDM's [daemon]: AutomaticLoginEnable + AutomaticLogin, or TimedLoginEnable + TimedLogin (the
    same, after a delay)."""
    daemon = groups.get("daemon", {})
    for enable, account in (("AutomaticLoginEnable", "AutomaticLogin"), ("TimedLoginEnable", "TimedLogin")):
        if daemon.get(enable, "").lower() in _DM_TRUE and daemon.get(account):
            return daemon[account]
    return None


def lightdm_auto_login(groups: Mapping[str, Mapping[str, str]]) -> str | None:
    """LightDM's seat groups ([Seat:*], [Seat:seat0], the older [SeatDefaults]): autologin-user, or
    autologin-guest."""
    for name, keys in groups.items():
        if not name.startswith("Seat"):
            continue
        if keys.get("autologin-user"):
            return keys["autologin-user"]
        if keys.get("autologin-guest", "").lower() in _DM_TRUE:
            return "guest"
    return None


def sddm_auto_login(groups: Mapping[str, Mapping[str, str]]) -> str | None:
    """SDDM's [Autologin] User."""
    return groups.get("Autologin", {}).get("User") or None


ADMIN_GROUPS = ("sudo", "wheel", "admin")  # Debian/Ubuntu, Fedora/Arch, older Ubuntu


def passwd_gid(passwd_text: str, user: str) -> int | None:
    """The primary group id of `user` in an /etc/passwd-format text."""
    for line in passwd_text.splitlines():
        fields = line.split(":")
        if len(fields) >= 4 and fields[0] == user and fields[3].isdigit():
            return int(fields[3])
    return None


def unix_admin(user: str, primary_gid: int | None, group_text: str) -> bool:
    """`user` belongs to sudo, wheel or admin in an /etc/group-format text: listed as a member, or
    the group is its primary group."""
    for line in group_text.splitlines():
        fields = line.split(":")
        if len(fields) < 4 or fields[0] not in ADMIN_GROUPS:
            continue
        members = [member.strip() for member in fields[3].split(",")]
        if user in members or (fields[2].isdigit() and int(fields[2]) == primary_gid):
            return True
    return False


def kde_lock_on_resume(text: str | None) -> bool:
    """kscreenlockerrc [Daemon] LockOnResume: lock when the computer wakes up (KDE's default: true)."""
    return _kde_group(text or "", "Daemon").get("LockOnResume", "true").strip().lower() in _KDE_TRUE


# --- Wi-Fi ---
NMCLI_WIFI_FIELDS = ("IN-USE", "BSSID", "SSID", "MODE", "CHAN", "RATE", "SIGNAL", "BARS", "SECURITY")


def split_nmcli_terse(line: str) -> list[str]:
    """One line of `nmcli -t`: fields separated by ':', a ':' or '\\' inside a field escaped by '\\'."""
    fields, current, escaped = [], [], False
    for char in line:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            fields.append("".join(current))
            current = []
        else:
            current.append(char)
    fields.append("".join(current))
    return fields


def nmcli_wifi_in_use(text: str) -> tuple[str, str] | None:
    """(SSID, SECURITY) of the network marked '*' (in use) in `nmcli -t -f <NMCLI_WIFI_FIELDS> device
    wifi list`; None when none is in use. SECURITY is empty for an open network."""
    for line in text.splitlines():
        fields = split_nmcli_terse(line)
        if len(fields) == len(NMCLI_WIFI_FIELDS) and fields[0].strip() == "*":
            return fields[2], fields[8]
    return None


# An open network in the words of netsh (English, French, Spanish, German, Italian) and nmcli.
_OPEN_WORDS = {"", "--", "none", "open", "ouvrir", "ouvert", "ouverte", "aucun", "aucune", "abierta", "ninguna",
               "offen", "keine", "aperta", "nessuna"}


def wifi_level(security: str, cipher: str = "") -> str:
    """The weakest protection a network accepts: "wep", "wpa1" (WPA1 alone or mixed with WPA2),
    "wpa2", "wpa3", "owe" (encrypted open network), "open", or "unknown"."""
    tokens = set(re.split(r"[^a-z0-9]+", security.lower())) - {""}
    if "wep" in tokens or "wep" in cipher.lower():
        return "wep"
    for token, level in (("wpa", "wpa1"), ("wpa1", "wpa1"), ("wpa2", "wpa2"), ("wpa3", "wpa3"), ("owe", "owe")):
        if token in tokens:
            return level
    if security.strip().lower() in _OPEN_WORDS:
        return "open"
    return "unknown"


# netsh's labels follow the display language; these are its words for them.
_NETSH_FIELD = re.compile(r"^\s*(?P<label>[^:]+?)\s*:\s?(?P<value>.*)$")
_NETSH_AUTH = {"authentication", "authentification", "authentifizierung", "autenticación", "autenticazione"}
_NETSH_CIPHER = {"cipher", "chiffrement", "verschlüsselungsverfahren", "cifrado", "crittografia"}


def parse_netsh_wlan_interfaces(text: str) -> list[dict[str, str]]:
    """`netsh wlan show interfaces`: one {"ssid", "auth", "cipher"} per interface (each starts at its
    GUID line); only a connected interface shows an SSID."""
    interfaces: list[dict[str, str]] = []
    for line in text.splitlines():
        match = _NETSH_FIELD.match(line)
        if not match:
            continue
        label, value = match["label"].strip().lower(), match["value"].strip()
        if label == "guid":
            interfaces.append({"ssid": "", "auth": "", "cipher": ""})
        elif interfaces and label == "ssid":
            interfaces[-1]["ssid"] = value
        elif interfaces and label in _NETSH_AUTH:
            interfaces[-1]["auth"] = value
        elif interfaces and label in _NETSH_CIPHER:
            interfaces[-1]["cipher"] = value
    return interfaces


_AIRPORT_MODE = "spairport_security_mode_"


def airport_current_network(text: str) -> tuple[str, str] | None:
    """`system_profiler SPAirPortDataType -json`: (name, security mode without its
    "spairport_security_mode_" prefix) of the first interface joined to a network; None when none is."""
    document = json.loads(text)
    if not isinstance(document, dict):
        raise ValueError("system_profiler: not a JSON object")
    for item in document.get("SPAirPortDataType", []):
        for interface in item.get("spairport_airport_interfaces", []):
            current = interface.get("spairport_current_network_information")
            if isinstance(current, dict):
                mode = str(current.get("spairport_security_mode", ""))
                return str(current.get("_name", "")), mode.removeprefix(_AIRPORT_MODE)
    return None

# --- Protection checks (issue 20) ----------------------------------------------------------------
# Disk encryption, antivirus, firewall and system version: pure parsers, each tested on captured
# outputs (tests/test_protection_parsers.py).

# --- disk encryption: Linux (lsblk, device-mapper) ---------------------------------------------


def parse_lsblk_json(text: str) -> list[dict]:
    """`lsblk -J ...`: the top-level block devices, children nested under their parents."""
    try:
        devices = json.loads(text)["blockdevices"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ToolFailed(T("The list of disks could not be read."), f"lsblk: {exc}") from exc
    if not isinstance(devices, list):
        raise ToolFailed(T("The list of disks could not be read."), "lsblk: blockdevices is not a list")
    return devices


def _mount_points(device: Mapping) -> list[str]:
    """util-linux 2.37+ gives a list (MOUNTPOINTS, [null] when unmounted); older, one string."""
    points = device.get("mountpoints")
    if points is None:
        points = [device.get("mountpoint")]
    return [p for p in points if isinstance(p, str) and p]


def dm_crypt_kind(dm_uuid: str) -> str:
    """The device-mapper UUID cryptsetup gives a mapping, "CRYPT-<TYPE>-<uuid>-<name>" (LUKS1,
    LUKS2, PLAIN, BITLK, TCRYPT...): its TYPE; "" when the mapping is not dm-crypt."""
    parts = dm_uuid.strip().split("-")
    return parts[1] if len(parts) > 1 and parts[0] == "CRYPT" and parts[1] else ""


def lsblk_encryption(devices: Iterable[Mapping], mount_point: str,
                     dm_uuids: Mapping[str, str] | None = None) -> DiskEncryption | None:
    """Encryption of what is mounted at mount_point: encrypted when every path from a disk down to
    it goes through a dm-crypt mapping (TYPE "crypt"); None when lsblk shows nothing mounted there.
    A device on several parents (LVM over two disks) appears under each: all must be encrypted."""
    paths: list[list[Mapping]] = []

    def walk(device: Mapping, above: list[Mapping]) -> None:
        chain = [*above, device]
        if mount_point in _mount_points(device):
            paths.append(chain)
        for child in device.get("children") or ():
            walk(child, chain)

    for device in devices:
        walk(device, [])
    if not paths:
        return None
    mounted = paths[0][-1]
    crypts = [[d for d in chain if d.get("type") == "crypt"] for chain in paths]
    volume = str(mounted.get("name", ""))
    if not all(crypts):
        return DiskEncryption(NOT_ENCRYPTED, "", volume, _lsblk_chain(paths[0]))
    mapping = crypts[0][-1]
    kind = dm_crypt_kind((dm_uuids or {}).get(str(mapping.get("name", "")), ""))
    under = [d for d in paths[0] if d.get("fstype") == "crypto_LUKS"]
    method = kind or ("LUKS" if under else "dm-crypt")
    return DiskEncryption(ENCRYPTED, method, volume, _lsblk_chain(paths[0]))


def _lsblk_chain(chain: list[Mapping]) -> str:
    return " > ".join(f"{d.get('name')}({d.get('type')}{'/' + d['fstype'] if d.get('fstype') else ''})"
                      for d in chain)


# --- disk encryption: Windows (manage-bde -status, English and French) --------------------------
# manage-bde's labels and values follow the display language, and its output reaches Vigie through
# the console code page: accents may come as "?" or U+FFFD. Text is folded to plain ASCII first
# ("État" -> "etat", "d?exploitation" stays), and French patterns use "." where an accent was.
# Any other language gives "unknown": never "encrypted" from a guess.

_BDE_VOLUME = re.compile(r'^\s*volume\s+"?([a-z]:)', re.IGNORECASE)
_BDE_LABELS = {
    "protection": re.compile(r"^(protection status|.?tat de la protection)$"),
    "percent": re.compile(r"^(percentage encrypted|pourcentage chiffr.)$"),
    "conversion": re.compile(r"^(conversion status|.?tat de la conversion)$"),
    "lock": re.compile(r"^(lock status|.?tat du verrouillage)$"),
}
_BDE_PROTECTION = (
    (re.compile(r"^protection on$|^protection activ.e$"), "on"),
    (re.compile(r"^protection off$|^protection d.sactiv.e$"), "off"),
)
_BDE_UNLOCKED = re.compile(r"^unlocked$|^d.verrouill.e?$")
_BDE_LOCKED = re.compile(r"^locked$|^verrouill.e?$")
_PERCENT = re.compile(r"(\d+(?:[.,]\d+)?)\s*%")


def _fold(text: str) -> str:
    """Lower-case ASCII: accents dropped, no-break spaces made spaces, anything else "?"."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    ascii_only = "".join(c if c.isascii() else "?" for c in plain)
    return " ".join(ascii_only.split()).lower()


def _bde_blocks(text: str) -> list[tuple[str, dict[str, str]]]:
    """(drive letter or "", {label: value}) per volume; a volume block without its "Volume X:"
    header (a pasted excerpt) counts as one volume with no letter."""
    blocks: list[tuple[str, dict[str, str]]] = []
    current: dict[str, str] | None = None
    for line in text.splitlines():
        header = _BDE_VOLUME.match(line)
        if header:
            current = {}
            blocks.append((header.group(1).upper(), current))
            continue
        label, sep, value = line.partition(":")
        if not sep:
            continue
        folded = _fold(label)
        for key, pattern in _BDE_LABELS.items():
            if pattern.match(folded):
                if current is None:
                    current = {}
                    blocks.append(("", current))
                current[key] = _fold(value)
    return blocks


def parse_manage_bde(text: str, drive: str) -> DiskEncryption:
    """`manage-bde -status X:`: the state of drive X (e.g. "C:")."""
    blocks = _bde_blocks(text)
    chosen = [values for letter, values in blocks if letter == drive.upper()]
    if not chosen and len(blocks) == 1 and not blocks[0][0]:
        chosen = [blocks[0][1]]
    if not chosen or "protection" not in chosen[0]:
        return DiskEncryption(ENCRYPTION_UNKNOWN, "BitLocker", drive,
                              "manage-bde output not understood (neither English nor French?)")
    values = chosen[0]
    protection = next((name for pattern, name in _BDE_PROTECTION if pattern.match(values["protection"])), "unknown")
    percent_match = _PERCENT.search(values.get("percent", ""))
    percent = float(percent_match.group(1).replace(",", ".")) if percent_match else None
    lock = values.get("lock", "")
    detail = "; ".join(f"{k}={v}" for k, v in values.items())
    if protection == "on" or (_BDE_LOCKED.match(lock) and not _BDE_UNLOCKED.match(lock)):
        state = ENCRYPTED
    elif protection == "off":
        state = _bde_unprotected(percent, values.get("conversion", ""))
    else:
        state = ENCRYPTION_UNKNOWN
    return DiskEncryption(state, "BitLocker", drive, detail, percent)


def _bde_unprotected(percent: float | None, conversion: str) -> str:
    """Protection off: nothing encrypted, encryption under way, or all encrypted with the key left
    in clear (suspended, or Windows' automatic device encryption not finished)."""
    if not percent:
        return NOT_ENCRYPTED
    if "decrypt" in conversion or "dechiffrement" in conversion or "d?chiffrement" in conversion:
        return NOT_ENCRYPTED
    return SUSPENDED if percent >= 100 else ENCRYPTING


# --- disk encryption: macOS (fdesetup, diskutil) ------------------------------------------------

_FDE_PROGRESS = re.compile(r"(Encryption|Decryption) in progress.*?Percent completed = ([\d.]+)", re.S)


def parse_fdesetup_status(text: str) -> DiskEncryption:
    """`fdesetup status`: FileVault on the startup disk."""
    progress = _FDE_PROGRESS.search(text)
    if progress:
        state = ENCRYPTING if progress.group(1) == "Encryption" else NOT_ENCRYPTED
        return DiskEncryption(state, "FileVault", "/", text.strip()[:200], float(progress.group(2)))
    if "FileVault is On." in text:
        return DiskEncryption(ENCRYPTED, "FileVault", "/", text.strip()[:200])
    if "FileVault is Off." in text:
        return DiskEncryption(NOT_ENCRYPTED, "FileVault", "/", text.strip()[:200])
    return DiskEncryption(ENCRYPTION_UNKNOWN, "FileVault", "/", text.strip()[:200])


def diskutil_encryption(text: str) -> DiskEncryption:
    """`diskutil info MOUNT_POINT`: an APFS volume says "FileVault: Yes|No" (or "Encrypted:");
    a FAT, exFAT or NTFS drive has no such line: macOS cannot encrypt it, so it is not."""
    fields = parse_diskutil_info_text(text)
    device = fields.get("Device Node", "")
    if not device:
        return DiskEncryption(ENCRYPTION_UNKNOWN, "", "", "diskutil info gave no Device Node")
    said = fields.get("FileVault") or fields.get("Encrypted") or ""
    kind = fields.get("Type (Bundle)") or fields.get("File System Personality", "")
    detail = f"FileVault={said or '-'} type={kind or '-'}"
    if said.startswith("Yes"):
        return DiskEncryption(ENCRYPTED, "APFS", device, detail)
    return DiskEncryption(NOT_ENCRYPTED, "", device, detail)


# --- antivirus ----------------------------------------------------------------------------------

_PS_FIELD = re.compile(r"^(?P<key>[A-Za-z][\w]*)\s*: ?(?P<value>.*)$")
NEVER = 4294967295  # Defender's "age" of something that never happened (UInt32 max)


def parse_ps_list(text: str) -> list[dict[str, str]]:
    """PowerShell's Format-List view: one dict per object, objects separated by blank lines.
    Property names are never translated, and True/False neither."""
    records: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        match = _PS_FIELD.match(line.rstrip())
        if match:
            current[match["key"]] = match["value"].strip()
        elif not line.strip() and current:
            records.append(current)
            current = {}
    if current:
        records.append(current)
    return records


def _ps_bool(value: str | None) -> bool | None:
    folded = (value or "").strip().lower()
    return True if folded == "true" else False if folded == "false" else None


def _ps_int(value: str | None) -> int | None:
    try:
        number = int((value or "").strip())
    except ValueError:
        return None
    return None if number >= NEVER else number


def defender_product(record: Mapping[str, str]) -> AntivirusProduct:
    """Get-MpComputerStatus. Real-time protection counts only while Defender is the active
    antivirus (AMRunningMode "Normal"): "Passive Mode" means another product protects."""
    mode = record.get("AMRunningMode", "")
    service = _ps_bool(record.get("AMServiceEnabled"))
    realtime = _ps_bool(record.get("RealTimeProtectionEnabled"))
    enabled = None if service is None or realtime is None else (service and realtime and mode in ("Normal", ""))
    out_of_date = _ps_bool(record.get("DefenderSignaturesOutOfDate"))
    detail = (f"AMRunningMode={mode or '-'} AMServiceEnabled={record.get('AMServiceEnabled', '-')} "
              f"RealTimeProtectionEnabled={record.get('RealTimeProtectionEnabled', '-')} "
              f"AntivirusSignatureAge={record.get('AntivirusSignatureAge', '-')}")
    return AntivirusProduct(
        "Microsoft Defender", enabled, None if out_of_date is None else not out_of_date,
        _ps_int(record.get("AntivirusSignatureAge")), _ps_bool(record.get("IsTamperProtected")), detail)


def decode_product_state(state: int) -> tuple[bool | None, bool | None]:
    """Security Center's productState (undocumented by Microsoft; the community decoding used by
    RMM scripts): bits 12-15 the product's state (1 on, 0 off, 2 snoozed, 3 expired), bits 4-7 the
    signatures (0 up to date, 1 out of date). Returns (enabled, up to date); None: unknown value."""
    product = (state >> 12) & 0xF
    signatures = (state >> 4) & 0xF
    enabled = True if product == 1 else False if product in (0, 2, 3) else None
    up_to_date = True if signatures == 0 else False if signatures == 1 else None
    return enabled, up_to_date


def security_center_products(records: Iterable[Mapping[str, str]]) -> list[AntivirusProduct]:
    """`Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct` (Format-List)."""
    products = []
    for record in records:
        name = record.get("displayName", "").strip()
        raw = record.get("productState", "").strip()
        if not name or not raw.isdigit():
            continue
        enabled, up_to_date = decode_product_state(int(raw))
        products.append(AntivirusProduct(name, enabled, up_to_date, detail=f"productState={raw} (0x{int(raw):06X})"))
    return products


def parse_cvd_header(raw: bytes) -> tuple[datetime, int, str]:
    """The 512-byte header of a ClamAV database (.cvd, .cld, .cud): "ClamAV-VDB:<build time>:
    <version>:<signatures>:<level>:<md5>:<signature>:<builder>:<build time in seconds>".
    Returns (build time, version, builder); ValueError when it is not such a header."""
    text = raw[:512].decode("ascii", "replace").rstrip("\x00 \n")
    fields = text.split(":")
    if len(fields) < 4 or fields[0] != "ClamAV-VDB":
        raise ValueError("not a ClamAV database header")
    version = int(fields[2])
    builder = fields[7] if len(fields) > 7 else ""
    seconds = fields[8].strip() if len(fields) > 8 else ""
    if seconds.isdigit():
        built = datetime.fromtimestamp(int(seconds), UTC)
    else:
        built = datetime.strptime(fields[1].strip(), "%d %b %Y %H-%M %z")
    return built, version, builder


def parse_spctl_status(text: str) -> bool | None:
    """`spctl --status`: Gatekeeper "assessments enabled" / "assessments disabled"."""
    folded = text.strip().lower()
    return True if "assessments enabled" in folded else False if "assessments disabled" in folded else None


# --- firewall -----------------------------------------------------------------------------------


def firewall_profiles_windows(text: str) -> list[FirewallProfile]:
    """Get-NetFirewallProfile, as a list (Format-List) or a table (Format-Table Name,Enabled);
    names and True/False are the same in every language."""
    records = [r for r in parse_ps_list(text) if "Name" in r and "Enabled" in r]
    if records:
        return [FirewallProfile(r["Name"], _ps_bool(r["Enabled"])) for r in records]
    profiles, in_table = [], False
    for line in text.splitlines():
        words = line.split()
        if words[:2] == ["Name", "Enabled"]:
            in_table = True
        elif in_table and len(words) == 2 and not set(words[0]) <= {"-"}:
            profiles.append(FirewallProfile(words[0], _ps_bool(words[1])))
        elif in_table and not words and profiles:
            break
    return profiles


_NETSH_PROFILE = (
    (re.compile(r"^domain profile settings"), "Domain"),
    (re.compile(r"^private profile settings"), "Private"),
    (re.compile(r"^public profile settings"), "Public"),
    (re.compile(r"^param.tres profil de domaine"), "Domain"),
    (re.compile(r"^param.tres profil priv."), "Private"),
    (re.compile(r"^param.tres profil public"), "Public"),
)
_NETSH_STATE = re.compile(r"^(state|.?tat)\s+(\S+)$")
_NETSH_ON = {"on", "actif"}
_NETSH_OFF = {"off", "inactif"}


def parse_netsh_profiles(text: str) -> list[FirewallProfile]:
    """`netsh advfirewall show allprofiles` in English or French; another language gives no profile."""
    profiles, current = [], None
    for line in text.splitlines():
        folded = _fold(line)
        named = next((name for pattern, name in _NETSH_PROFILE if pattern.match(folded)), None)
        if named:
            current = named
            continue
        state = _NETSH_STATE.match(folded)
        if state and current:
            value = state.group(2)
            profiles.append(FirewallProfile(current, True if value in _NETSH_ON else False if value in _NETSH_OFF
                                            else None))
            current = None
    return profiles


_SOCKETFILTER_STATE = re.compile(r"\(State = (\d+)\)")


def parse_socketfilterfw(text: str) -> bool | None:
    """`socketfilterfw --getglobalstate`: State 1 (on) or 2 (block all) is on, 0 off."""
    state = _SOCKETFILTER_STATE.search(text)
    if state:
        return int(state.group(1)) >= 1
    if "Firewall is enabled" in text:
        return True
    return False if "Firewall is disabled" in text else None


def _nft_has_verdict(node: object, verdicts: set[str]) -> bool:
    if isinstance(node, dict):
        return any(key in verdicts or _nft_has_verdict(value, verdicts) for key, value in node.items())
    if isinstance(node, list):
        return any(_nft_has_verdict(item, verdicts) for item in node)
    return False


def _nft_jumps(expr: object) -> list[str]:
    found: list[str] = []
    if isinstance(expr, dict):
        for key, value in expr.items():
            if key in ("jump", "goto") and isinstance(value, dict) and isinstance(value.get("target"), str):
                found.append(value["target"])
            else:
                found += _nft_jumps(value)
    elif isinstance(expr, list):
        for item in expr:
            found += _nft_jumps(item)
    return found


def nft_firewall(text: str) -> FirewallStatus:
    """`nft -j list ruleset`: IPv4 and IPv6 are filtered when an input-hook chain of their family
    (ip, ip6, or inet for both) drops by default or holds a rule that drops or rejects (directly or
    in a chain it jumps to). Accept-only chains filter nothing."""
    try:
        items = json.loads(text)["nftables"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ToolFailed(T("The firewall rules could not be read."), f"nft -j: {exc}") from exc
    chains = {(c["family"], c["table"], c["name"]): c for i in items if isinstance(i, dict)
              for c in [i.get("chain")] if isinstance(c, dict) and {"family", "table", "name"} <= c.keys()}
    rules: dict[tuple[str, str, str], list] = {}
    for item in items:
        rule = item.get("rule") if isinstance(item, dict) else None
        if isinstance(rule, dict):
            rules.setdefault((rule.get("family"), rule.get("table"), rule.get("chain")), []).append(rule.get("expr"))

    def filters(key: tuple[str, str, str], seen: set) -> bool:
        if key in seen:
            return False
        seen.add(key)
        exprs = rules.get(key, [])
        if any(_nft_has_verdict(e, {"drop", "reject"}) for e in exprs):
            return True
        return any(filters((key[0], key[1], target), seen) for e in exprs for target in _nft_jumps(e))

    covered = {"IPv4": False, "IPv6": False}
    names = []
    for key, chain in chains.items():
        if chain.get("hook") != "input" or key[0] not in ("ip", "ip6", "inet"):
            continue
        names.append(f"{key[0]} {key[1]} {key[2]} policy={chain.get('policy', 'accept')}")
        if chain.get("policy") == "drop" or filters(key, set()):
            for family in {"ip": ("IPv4",), "ip6": ("IPv6",), "inet": ("IPv4", "IPv6")}[key[0]]:
                covered[family] = True
    detail = "; ".join(names) or "no input chain"
    return FirewallStatus("nftables", tuple(FirewallProfile(n, on) for n, on in covered.items()), detail)


_UFW_STATUS = re.compile(r"^Status: (active|inactive)\s*$", re.M)
_UFW_ENABLED = re.compile(r"^\s*ENABLED\s*=\s*(\S+)", re.M)


def parse_ufw_status(text: str) -> bool | None:
    """`ufw status [verbose]` (root only): "Status: active" / "Status: inactive"."""
    match = _UFW_STATUS.search(text)
    return None if match is None else match.group(1) == "active"


def parse_ufw_conf(text: str) -> bool:
    """/etc/ufw/ufw.conf (readable by all): ENABLED=yes starts ufw at boot."""
    match = _UFW_ENABLED.search(text)
    return match is not None and match.group(1).strip("'\"").lower() == "yes"


# --- system version -----------------------------------------------------------------------------


def parse_os_release(text: str) -> dict[str, str]:
    """os-release(5): KEY=value lines, values optionally quoted with shell-style escapes."""
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if not sep or not key or key.startswith("#"):
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        fields[key] = value
    return fields


def os_version_from_os_release(fields: Mapping[str, str]) -> OsVersion:
    return OsVersion(
        system=fields.get("ID", "linux").lower(),
        version=fields.get("VERSION_ID", ""),
        name=fields.get("PRETTY_NAME") or fields.get("NAME") or "Linux",
        build=fields.get("VERSION_CODENAME", ""),
        support_end=fields.get("SUPPORT_END", ""),
        like=tuple(fields.get("ID_LIKE", "").split()),
    )


def parse_sw_vers(text: str) -> OsVersion:
    """`sw_vers`: "Key:<tabs>value" lines (ProductVersionExtra, a Rapid Security Response, is its own key)."""
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("ProductName", "ProductVersion", "ProductVersionExtra", "BuildVersion"):
            fields[key.strip()] = value.strip()
    version = fields.get("ProductVersion", "")
    if not version:
        raise ToolFailed(T("The version of macOS could not be read."), f"sw_vers: {text.strip()[:200]!r}")
    extra = f" {fields['ProductVersionExtra']}" if fields.get("ProductVersionExtra") else ""
    return OsVersion("macos", version, f"macOS {version}{extra}", fields.get("BuildVersion", ""))


WINDOWS_11_FIRST_BUILD = 22000  # Windows 11 still says "Windows 10" in ProductName


def windows_os_version(values: Mapping[str, object]) -> OsVersion:
    """HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion: CurrentBuild tells 10 from 11;
    DisplayVersion (20H2 and later) or ReleaseId (older) is the feature release."""
    build = str(values.get("CurrentBuild") or values.get("CurrentBuildNumber") or "").strip()
    if not build.isdigit():
        raise ToolFailed(T("The version of Windows could not be read."), f"CurrentBuild={build!r}")
    release = str(values.get("DisplayVersion") or values.get("ReleaseId") or "").strip()
    edition = str(values.get("EditionID") or "").strip()
    product = str(values.get("ProductName") or "Windows").strip()
    if int(build) >= WINDOWS_11_FIRST_BUILD:
        product = product.replace("Windows 10", "Windows 11")
    return OsVersion("windows", release, f"{product} {release}".strip(), build, edition)
