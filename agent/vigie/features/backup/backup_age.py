"""backup_age: how old is the newest backup, and is there a second copy?

Sources: enrolled folders and drives, restic and borg repositories, the OS's own tools. The age
that counts is the newest backup among them; a source that cannot be read makes the result
"could not check" rather than a false "all is well". Only a source with a backup seen in it is a
copy: an empty or unreadable repository is listed as such and does not silence "only one copy".
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from vigie.check import CheckContext
from vigie.events import Event, Tick
from vigie.features.backup import sources
from vigie.features.backup.actions import ENROLL_ACTION
from vigie.features.backup.sources import SourceState
from vigie.model import TN, Finding, Severity, T, Text

NO_BACKUP_FIX = T("Click “Set up a backup” (or ask your IT provider to set one up).")
OLD_FIX = T("Plug in the backup drive (or start the backup) today, then unplug the drive.")
# The advice of the official guide for practices (shared/reference): two copies, one of them away
# from the practice, an encrypted drive unplugged after the backup; online only with an HDS host.
TWO_COPIES = T("Keep two copies of your backups, one of them away from the practice (at home, for example), "
               "each on an encrypted drive that you unplug once the backup is done. An online backup is fine "
               "only with a host certified for health data (HDS): ask your IT provider.")
NO_BACKUP_ITEM = "none known"  # the journal's first_seen item: since when Vigie has known of no backup


def age_text(when: datetime | None, now: datetime) -> Text:
    if when is None:
        return T("no backup yet")
    seconds = max(0.0, (now - when).total_seconds())
    if seconds < 3600:
        return T("less than an hour ago")
    if seconds < 86400:
        return TN("{n} hour ago", "{n} hours ago", int(seconds // 3600))
    return TN("{n} day ago", "{n} days ago", int(seconds // 86400))


def source_line(state: SourceState, now: datetime) -> Text:
    if state.error is not None:
        return T("{source}: could not be read ({reason})", source=state.label, reason=state.error)
    if state.last_backup is None:
        if not state.connected:
            return T("{source}: out of reach, no backup seen in it yet", source=state.label)
        return T("{source}: holds no backup", source=state.label)
    age = age_text(state.last_backup, now)
    if not state.connected:
        return T("{source}: {age} (drive not connected)", source=state.label, age=age)
    if state.estimated:
        return T("{source}: about {age}", source=state.label, age=age)
    return T("{source}: {age}", source=state.label, age=age)


class BackupAgeCheck:
    id: ClassVar[str] = "backup_age"
    label: ClassVar[Text] = T("Backups")
    triggers: ClassVar[tuple[type[Event], ...]] = (Tick,)

    def evaluate(self, event: Event, ctx: CheckContext) -> Finding:
        now = ctx.clock()
        states = sources.read_all(ctx.config.backup_age, ctx.platform, ctx.journal, now)
        since = ctx.journal.first_seen(self.id, set() if states else {NO_BACKUP_ITEM}, now).get(NO_BACKUP_ITEM)
        return self.judge(states, now, ctx.config.backup_age.warning_days, ctx.config.backup_age.critical_days,
                          since)

    def judge(self, states: list[SourceState], now: datetime, warning_days: int, critical_days: int,
              none_known_since: datetime | None = None) -> Finding:
        if not states:
            return self.none_known(now, critical_days, none_known_since or now)
        newest = max((s.last_backup for s in states if s.last_backup is not None), default=None)
        days = (now - newest).total_seconds() / 86400 if newest else None
        detail = T("Backups seen by Vigie:\n{sources}", sources=tuple(source_line(s, now) for s in states))
        copies = sum(s.holds_backup for s in states)
        facts = {"sources": [self._fact(s, now) for s in states], "copies": copies,
                 "newest": newest.isoformat(timespec="seconds") if newest else None}
        unreadable = [s for s in states if s.error is not None]
        if days is None or days >= critical_days:
            title = (T("No backup has been made yet.") if days is None else
                     TN("The last backup is {n} day old.", "The last backup is {n} days old.", int(days)))
            severity = Severity.UNKNOWN if days is None and unreadable else Severity.CRITICAL
            return Finding(self.id, severity, title, detail, OLD_FIX, facts=facts)
        if days >= warning_days:
            title = TN("The last backup is {n} day old.", "The last backup is {n} days old.", int(days))
            return Finding(self.id, Severity.WARNING, title, detail, OLD_FIX, facts=facts)
        if copies == 1:  # the others are empty, never seen or unreadable: each says so in the detail
            return Finding(self.id, Severity.INFO, T("Recent backup, but only one copy."), detail, TWO_COPIES,
                           facts=facts)
        if unreadable:
            return Finding(self.id, Severity.UNKNOWN, T("One backup could not be checked."), detail, facts=facts)
        return Finding(self.id, Severity.OK, T("Backups are recent."), detail, facts=facts)

    def none_known(self, now: datetime, critical_days: int, since: datetime) -> Finding:
        """No backup at all is serious (without one, nothing can be restored after an attack): a warning
        from the first day, urgent once it has lasted as long as a backup may be old."""
        days = int((now - since).total_seconds() // 86400)
        facts = {"sources": [], "none_known_since": since.isoformat(timespec="seconds")}
        if days >= critical_days:
            title = TN("For {n} day Vigie has known of no backup of this computer.",
                       "For {n} days Vigie has known of no backup of this computer.", days)
            return Finding(self.id, Severity.CRITICAL, title, fix=NO_BACKUP_FIX, action=ENROLL_ACTION, facts=facts)
        return Finding(self.id, Severity.WARNING, T("Vigie does not know of any backup on this computer."),
                       fix=NO_BACKUP_FIX, action=ENROLL_ACTION, facts=facts)

    @staticmethod
    def _fact(state: SourceState, now: datetime) -> dict[str, object]:
        last = state.last_backup
        return {"source": state.key, "last_backup": last.isoformat(timespec="seconds") if last else None,
                "age_hours": round((now - last).total_seconds() / 3600, 1) if last else None,
                "connected": state.connected, "estimated": state.estimated, "readable": state.error is None,
                "holds_backup": state.holds_backup}
