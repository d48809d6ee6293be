"""os_support: does this system still receive security updates? From Vigie's dated table (eol.toml).

A system past its end keeps working, but every flaw found afterwards stays open: CRITICAL, with the
way out in plain words. The table is dated; once older than os_support.table_max_age_months the
check says so (it may not know the latest end dates) instead of a plain OK.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from vigie.check import CheckContext
from vigie.events import Event, Tick
from vigie.features.protection.common import day_text
from vigie.model import Finding, Severity, T, Text
from vigie.platform.base import OsVersion, PlatformError

log = logging.getLogger(__name__)
TABLE_PATH = Path(__file__).with_name("eol.toml")
SOON_DAYS = 90  # an end this close is announced

# Verdict statuses
SUPPORTED, ENDING, LIMITED, ENDED, PROBABLY_ENDED, UNLISTED = (
    "supported", "ending", "limited", "ended", "probably_ended", "unlisted")


@dataclass(frozen=True)
class Verdict:
    status: str
    end: date | None = None  # the end of free security updates
    source: str = ""
    limited_end: date | None = None  # Debian LTS, Ubuntu ESM, Windows ESU: the end of what follows
    unconfirmed: bool = False
    next_step: str = ""  # "windows11", "feature_update", "macos", "debian", "ubuntu", "" (generic)


def load_table(path: Path = TABLE_PATH) -> dict[str, Any]:
    with open(path, "rb") as handle:
        return tomllib.load(handle)


def _version_key(text: str) -> tuple[int, ...]:
    """"10.15.5" -> (10, 15, 5); non-numeric parts end the key."""
    key = []
    for part in text.split("."):
        if not part.isdigit():
            break
        key.append(int(part))
    return tuple(key)


def windows_edition_group(edition: str) -> str:
    """EditionID -> the table's edition groups (Core/Professional… are Home and Pro's servicing)."""
    if edition == "IoTEnterpriseS":
        return "iot_ltsc"
    if edition.startswith("EnterpriseS"):
        return "ltsc"
    if edition.startswith(("Enterprise", "Education", "IoTEnterprise")):
        return "enterprise"
    return "home_pro"


def judge_windows(version: OsVersion, table: dict[str, Any], today: date) -> Verdict:
    build = int(version.build) if version.build.isdigit() else 0
    group = windows_edition_group(version.edition)
    rows = [r for r in table.get("windows", []) if r["build"] == build and r["editions"] == group]
    if not rows and group == "iot_ltsc":  # an IoT LTSC release not listed on its own row
        rows = [r for r in table.get("windows", []) if r["build"] == build and r["editions"] == "ltsc"]
    step = "windows11" if build < 22000 else "feature_update"
    if rows:
        row = rows[0]
        return _dated(row["end"], today, row["source"], row.get("extended_end"), row.get("unconfirmed", False),
                      step)
    older = table.get("windows_older", {})
    if build and build < older.get("below_build", 0) and group not in ("ltsc", "iot_ltsc"):
        return Verdict(ENDED, None, older["source"], next_step=step)
    if build > max((r["build"] for r in table.get("windows", [])), default=build):
        return Verdict(SUPPORTED, None, "newer than every release in the table")
    return Verdict(UNLISTED)


def judge_macos(version: OsVersion, table: dict[str, Any], today: date) -> Verdict:
    key = _version_key(version.version)
    major = ".".join(str(p) for p in (key[:2] if key[:1] == (10,) else key[:1]))
    for row in table.get("macos", []):
        if row["major"] == major:
            if "end" in row:
                return _dated(row["end"], today, row["source"], None, row.get("unconfirmed", False), "macos")
            if row.get("unconfirmed"):
                return Verdict(PROBABLY_ENDED, None, row["source"], unconfirmed=True, next_step="macos")
            return Verdict(SUPPORTED, None, row["source"])
    older = table.get("macos_older", {})
    if key and key < _version_key(older.get("below", "0")):
        return Verdict(ENDED, None, older["source"], next_step="macos")
    if key and key > max(_version_key(r["major"]) for r in table.get("macos", [{"major": "0"}])):
        return Verdict(SUPPORTED, None, "newer than every release in the table")
    return Verdict(UNLISTED)


def judge_linux(version: OsVersion, table: dict[str, Any], today: date) -> Verdict:
    family = version.system
    if family in ("debian", "ubuntu") and version.version:
        for row in table.get(family, []):
            if row["version"] == version.version:
                return _linux_row(family, row, today)
        older = table.get(f"{family}_older", {})
        key = _version_key(version.version)
        if key < _version_key(older.get("below", "0")):
            return Verdict(ENDED, None, older["source"], next_step=family)
        if key > max((_version_key(r["version"]) for r in table.get(family, [])), default=key):
            return Verdict(SUPPORTED, None, "newer than every release in the table")
        return Verdict(UNLISTED)
    if version.support_end:  # os-release's SUPPORT_END (Fedora and others state their own end)
        try:
            end = date.fromisoformat(version.support_end)
        except ValueError:
            return Verdict(UNLISTED)
        return _dated(end, today, "/etc/os-release SUPPORT_END", None, False, "")
    return Verdict(UNLISTED)


def _linux_row(family: str, row: dict[str, Any], today: date) -> Verdict:
    if family == "debian":
        end, limited = row["security_end"], row["lts_end"]
        if end < today <= limited:  # Debian LTS: security fixes keep coming, for part of the packages
            return Verdict(LIMITED, end, row["source"], limited, next_step="debian")
        return _dated(end if today <= end else limited, today, row["source"], None, False, "debian")
    return _dated(row["standard_end"], today, row["source"], row.get("esm_end"), False, "ubuntu")


def _dated(end: date, today: date, source: str, limited_end: date | None, unconfirmed: bool, step: str) -> Verdict:
    if today > end:
        return Verdict(ENDED, end, source, limited_end, unconfirmed, step)
    if (end - today).days <= SOON_DAYS:
        return Verdict(ENDING, end, source, limited_end, unconfirmed, step)
    return Verdict(SUPPORTED, end, source, limited_end, unconfirmed, step)


def judge(version: OsVersion, table: dict[str, Any], today: date) -> Verdict:
    if version.system == "windows":
        return judge_windows(version, table, today)
    if version.system == "macos":
        return judge_macos(version, table, today)
    return judge_linux(version, table, today)


def table_age_months(made: date, today: date) -> int:
    return (today.year - made.year) * 12 + today.month - made.month - (today.day < made.day)


WAY_OUT = {
    "windows11": T("Upgrade to Windows 11 in Settings › Windows Update if this PC can; otherwise plan to replace "
                   "it. Your IT provider can help."),
    "feature_update": T("Open Settings › Windows Update and install the latest version of Windows 11 (the “feature "
                        "update”), then restart."),
    "macos": T("Open System Settings › General › Software Update and install the newest macOS; if this Mac "
               "cannot have it, plan to replace the Mac."),
    "debian": T("Ask your IT provider to upgrade the system to the next Debian version, after a full backup."),
    "ubuntu": T("Ask your IT provider to upgrade Ubuntu to a supported version after a full backup, or to attach "
                "Ubuntu Pro (free for up to 5 computers), which extends security updates."),
    "": T("Ask your IT provider to upgrade the system to a supported version, after a full backup."),
}


class OsSupportCheck:
    id: ClassVar[str] = "os_support"
    label: ClassVar[Text] = T("Supported system")
    triggers: ClassVar[tuple[type[Event], ...]] = (Tick,)

    def __init__(self, table_path: Path = TABLE_PATH) -> None:
        self.table_path = table_path

    def evaluate(self, event: Event, ctx: CheckContext) -> Finding:
        try:
            version = ctx.platform.os_version()
        except PlatformError as exc:
            return Finding(self.id, Severity.UNKNOWN, T("Vigie could not read the version of the system."),
                           detail=exc.reason, facts={"error": type(exc).__name__})
        table = load_table(self.table_path)
        today = ctx.clock().date()
        verdict = judge(version, table, today)
        age = table_age_months(table["made"], today)
        stale = age > ctx.config.os_support.table_max_age_months
        facts = {
            "system": version.system, "version": version.version, "build": version.build,
            "edition": version.edition, "name": version.name, "status": verdict.status,
            "end": verdict.end.isoformat() if verdict.end else None,
            "limited_end": verdict.limited_end.isoformat() if verdict.limited_end else None,
            "unconfirmed": verdict.unconfirmed, "source": verdict.source,
            "table_made": table["made"].isoformat(), "table_stale": stale,
        }
        finding = self._finding(version, verdict, facts, today)
        return self._with_table_age(finding, age) if stale else finding

    def _finding(self, version: OsVersion, verdict: Verdict, facts: dict, today: date) -> Finding:
        name, fix = version.name, WAY_OUT[verdict.next_step]
        if verdict.status == ENDED:
            title = (T("{name} no longer receives security updates (since {date}).", name=name,
                       date=day_text(verdict.end)) if verdict.end
                     else T("{name} no longer receives security updates.", name=name))
            return Finding(self.id, Severity.CRITICAL, title, self._ended_detail(verdict, today), fix,
                           facts=facts)
        if verdict.status == LIMITED:
            return Finding(self.id, Severity.WARNING, T(
                "{name} now receives only limited security updates, until {date}.", name=name,
                date=day_text(verdict.limited_end)), T(
                "Its regular support ended on {date}; volunteers (Debian LTS) now fix only part of the programs.",
                date=day_text(verdict.end)), fix, facts=facts)
        if verdict.status == PROBABLY_ENDED:
            return Finding(self.id, Severity.WARNING, T("{name} probably no longer receives security updates.",
                                                        name=name), T(
                "Apple usually stops updating a macOS three years after its release; Vigie's table could not "
                "confirm the date."), fix, facts=facts)
        if verdict.status == ENDING:
            return Finding(self.id, Severity.WARNING, T("Security updates for {name} stop on {date}.", name=name,
                                                        date=day_text(verdict.end)), fix=fix, facts=facts)
        if verdict.status == SUPPORTED:
            title = (T("{name} receives security updates until {date}.", name=name, date=day_text(verdict.end))
                     if verdict.end else T("{name} receives security updates.", name=name))
            return Finding(self.id, Severity.OK, title, facts=facts)
        return Finding(self.id, Severity.UNKNOWN, T("Vigie does not know until when {name} receives security updates.",
                                                    name=name), T(
            "This version is not in Vigie's table of end dates."), facts=facts)

    @staticmethod
    def _ended_detail(verdict: Verdict, today: date) -> Text:
        if verdict.limited_end is None or verdict.limited_end < today:
            return T("New flaws found in it stay open: an attack can use them.")
        if verdict.next_step == "ubuntu":
            return T("New flaws found in it stay open: an attack can use them. With Ubuntu Pro, security updates "
                     "continue until {date}.", date=day_text(verdict.limited_end))
        return T("New flaws found in it stay open: an attack can use them. Only computers enrolled in Microsoft's "
                 "extended security updates (ESU) still receive fixes, until {date}.",
                 date=day_text(verdict.limited_end))

    def _with_table_age(self, finding: Finding, months: int) -> Finding:
        note = T("Vigie's table of end dates is {months} months old and may not know the latest changes: update "
                 "Vigie.", months=months)
        severity = Severity.INFO if finding.severity == Severity.OK else finding.severity
        detail = T("{detail} {note}", detail=finding.detail, note=note) if finding.detail else note
        return Finding(finding.check_id, severity, finding.title, detail, finding.fix, facts=finding.facts)
