"""The two 72-hour deadlines, counted from the detection time with an injected clock.

- Complaint: the insurer pays for a cyberattack only if a complaint is filed within 72 hours of
  learning of it (Code des assurances, article L12-10-1).
- CNIL: a personal-data breach is notified within 72 hours of learning of it (RGPD, article 33);
  patient data count as such.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from vigie.features.incident.state import STEPS, IncidentNotSaved, IncidentStore
from vigie.model import T, Text

WINDOW = timedelta(hours=72)
# The button on the status window's incident card: the same command as the menu's « Reprendre le guide ».
RESUME_COMMAND = "incident:open"
RESUME_LABEL = T("Resume the incident guide")


class Kind(enum.Enum):
    COMPLAINT = "complaint"
    CNIL = "cnil"


@dataclass(frozen=True)
class Deadline:
    kind: Kind
    due: datetime
    remaining: timedelta  # negative once overdue

    @property
    def overdue(self) -> bool:
        return self.remaining <= timedelta(0)


def deadlines(detected_at: datetime, now: datetime) -> tuple[Deadline, Deadline]:
    """72 hours of real time: counted in UTC, so a change to or from summer time in between (or a
    zoneinfo detection time, whose arithmetic is wall-clock) does not shift the deadline."""
    due = detected_at.astimezone(UTC) + WINDOW
    return Deadline(Kind.COMPLAINT, due, due - now), Deadline(Kind.CNIL, due, due - now)


def remaining_text(deadline: Deadline, short: bool = False) -> Text:
    """« 41 h 12 min », « 41 h » when short, « 35 min » in the last hour, « délai dépassé » after.
    Rounded down: the time shown is never more than the time left."""
    if deadline.overdue:
        return T("overdue")
    minutes = int(deadline.remaining.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours == 0:
        return T("{minutes} min", minutes=minutes)
    if short:
        return T("{hours} h", hours=hours)
    return T("{hours} h {minutes} min", hours=hours, minutes=f"{minutes:02d}")


def summary(detected_at: datetime, now: datetime, unsaved: Text | None = None) -> Text:
    """unsaved: why the incident is not saved yet (« disque plein »), when it is not."""
    complaint, cnil = deadlines(detected_at, now)
    complaint_left, cnil_left = remaining_text(complaint, short=True), remaining_text(cnil, short=True)
    if unsaved is not None:
        return T("Incident not saved ({why}) — complaint: {complaint}, CNIL: {cnil}", why=unsaved,
                 complaint=complaint_left, cnil=cnil_left)
    return T("Incident in progress — complaint: {complaint}, CNIL: {cnil}", complaint=complaint_left, cnil=cnil_left)


def open_incident_summary(now: datetime, store: IncidentStore | None = None) -> Text | None:
    """The tray tooltip line while an incident is open (None otherwise). Reads one small JSON file
    per incident folder: cheap enough for every tooltip refresh. An incident whose detection time was
    kept while the disk was full counts down from that time; this very call saves it once there is room."""
    try:
        incident = (store or IncidentStore()).find_open()
    except IncidentNotSaved as exc:
        return summary(exc.detected_at, now, exc.short_reason)
    return None if incident is None else summary(incident.detected_at, now)


def status_card(now: datetime, store: IncidentStore | None = None) -> tuple[Text, Text, Text] | None:
    """The status window's top card while an incident is open (read only): a title, the countdowns and what
    to do; None when there is none."""
    found = (store or IncidentStore()).peek()
    if found is None:
        return None
    detected_at = found if isinstance(found, datetime) else found.detected_at
    complaint, cnil = deadlines(detected_at, now)
    left = T("Time left — complaint: {complaint} · CNIL: {cnil}", complaint=remaining_text(complaint),
             cnil=remaining_text(cnil))
    if isinstance(found, datetime):
        return (T("Incident not saved yet (disk full)"), left,
                T("Free some space, then choose “Resume the incident guide” in Vigie's menu."))
    return (T("Incident in progress — step {n} of {total}", n=found.step_number, total=len(STEPS)), left,
            T("The guide goes on where you left it: “Resume the incident guide” in Vigie's menu (the icon next "
              "to the clock)."))
