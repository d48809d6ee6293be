"""restore_drill: was a restore tested recently, and did it work?

Reads the proofs the drills left in the journal (kind "restore_drill"). It never runs a drill
itself: it says when one is due (facts["due"]) and the agent starts it off the engine thread;
`vigie check` only reports. A proof says what it showed: files identical to the originals, or only
files read back from the backup (a folder enrolled without its originals) — never the one for the other.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from vigie.check import CheckContext
from vigie.events import Event, Tick
from vigie.features.backup import sources
from vigie.features.backup.actions import DRILL_ACTION, ENROLL_ACTION
from vigie.filenames import readable
from vigie.journal import Journal
from vigie.model import TN, Finding, Severity, T, Text

JOURNAL_KIND = "restore_drill"
RETRY_AFTER = timedelta(days=1)  # after a drill that could not be done (drive unplugged…)
TEST_FIX = T("Plug in the backup drive, then choose “Test my backup” in Vigie's menu.")
FAILED_FIX = T("Call your IT provider today. Meanwhile, do not erase or overwrite this backup.")
ORIGINALS_FIX = T("To compare them with your files, ask your IT provider to tell Vigie which folder this backup "
                  "copies (vigie backup enroll … --originals …).")


def problem_text(problem: str, name: str) -> Text:
    """One line per problem; the name shown readably even when it is not valid UTF-8."""
    name = readable(name)
    if problem == "different":
        return T("{name}: the restored copy differs from the original", name=name)
    if problem == "missing":
        return T("{name}: missing from the backup", name=name)
    if problem == "not_a_file":
        return T("{name}: the backup holds a link or a special file in its place, not a copy", name=name)
    return T("{name}: cannot be read from the backup", name=name)


def compared(key: str, data: dict, without_originals: set[str]) -> bool:
    """Whether a proof compared the restored copies with the originals, or only read them back."""
    if data.get("outcome") == "readable":
        return False
    if "compared" in data:
        return bool(data["compared"])
    return key not in without_originals  # a proof written before Vigie told the two apart


def last_attempt(journal: Journal) -> datetime | None:
    """The latest drill of any outcome (one that could not be done counts: no retry loop)."""
    attempts = journal.events(JOURNAL_KIND)
    return datetime.fromisoformat(attempts[-1][0]) if attempts else None


def drill_proofs(journal: Journal) -> dict[str, tuple[datetime, dict]]:
    """The latest drill per source that went to the end (passed, readable or failed)."""
    latest: dict[str, tuple[datetime, dict]] = {}
    for at, _, data in journal.events(JOURNAL_KIND):
        if data.get("outcome") in ("passed", "readable", "failed"):
            latest[data.get("source", "")] = (datetime.fromisoformat(at), data)
    return latest


def configured_keys(ctx: CheckContext) -> list[tuple[str, Text]]:
    settings = ctx.config.backup_age
    keys = [(sources.folder_key(f), sources.folder_label(f)) for f in settings.destinations]
    return keys + [(sources.repository_key(r), sources.repository_label(r)) for r in settings.repositories]


class RestoreDrillCheck:
    id: ClassVar[str] = "restore_drill"
    label: ClassVar[Text] = T("Restore test")
    triggers: ClassVar[tuple[type[Event], ...]] = (Tick,)

    def evaluate(self, event: Event, ctx: CheckContext) -> Finding:
        keys = configured_keys(ctx)
        if not keys:
            return Finding(self.id, Severity.INFO, T("Vigie has no backup it can test."),
                           T("Restore tests need a backup folder or a restic or borg repository known to Vigie."),
                           action=ENROLL_ACTION)
        now, every = ctx.clock(), timedelta(days=ctx.config.restore_drill.every_days)
        proofs = drill_proofs(ctx.journal)
        known = [(key, label, *proofs[key]) for key, label in keys if key in proofs]
        newest = max((at for _, _, at, _ in known), default=None)
        attempted = last_attempt(ctx.journal)
        due = (newest is None or now - newest >= every) and (attempted is None or now - attempted >= RETRY_AFTER)
        facts = {"due": due, "last_test": newest.isoformat(timespec="seconds") if newest else None}
        failed = [(label, data) for _, label, _, data in known if data["outcome"] == "failed"]
        if failed:
            problems = tuple(T("{source} — {problem}", source=label, problem=problem_text(p["problem"], p["name"]))
                             for label, data in failed for p in data.get("problems", []))
            on_screen = TN("{n} file did not come back as it should; its name is in the status window.",
                           "{n} files did not come back as they should; their names are in the status window.",
                           len(problems))  # patient file names: never in a notification
            return Finding(self.id, Severity.CRITICAL, T("Your backup does not restore correctly"),
                           T("The last restore test found:\n{problems}", problems=problems), FAILED_FIX,
                           DRILL_ACTION, facts={**facts, "failed": True}, notification_detail=on_screen)
        if newest is None:
            return Finding(self.id, Severity.INFO, T("No restore test has been made yet."), fix=TEST_FIX,
                           action=DRILL_ACTION, facts=facts)
        without = {sources.folder_key(f) for f in ctx.config.backup_age.destinations if not f.originals}
        identical = [at for key, _, at, data in known if compared(key, data, without)]
        read_only = tuple(label for key, label, _, data in known if not compared(key, data, without))
        facts["compared"] = bool(identical)
        if identical:
            severity, fix = Severity.OK, ORIGINALS_FIX if read_only else None
            title = T("Last successful restore test on {when:%Y-%m-%d}", when=max(identical).astimezone())
            detail = T("Only read back, not compared with the originals:\n{sources}", sources=read_only) \
                if read_only else None
        else:
            severity, fix = Severity.INFO, ORIGINALS_FIX
            title = T("Last restore test on {when:%Y-%m-%d}: files readable, not compared with the originals",
                      when=newest.astimezone())
            detail = T("Vigie could read the files back from the backup, but it does not know where the "
                       "originals are, so it could not check that they are identical.")
        if now - newest >= 2 * every:
            days = (now - newest).days
            detail = TN("That was {n} day ago: a backup that is never tested may not restore.",
                        "That was {n} days ago: a backup that is never tested may not restore.", days)
            return Finding(self.id, Severity.WARNING, title, detail, TEST_FIX, DRILL_ACTION, facts=facts)
        return Finding(self.id, severity, title, detail, fix, DRILL_ACTION, facts=facts)
