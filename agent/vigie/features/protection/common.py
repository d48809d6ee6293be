"""What the protection checks share: dates in words, and how several findings add up."""

from __future__ import annotations

from datetime import date

from vigie.model import Severity, T, Text

# Worst first when parts of one check disagree: an alarm beats "could not tell", which beats a note.
RANK = {Severity.CRITICAL: 4, Severity.WARNING: 3, Severity.UNKNOWN: 2, Severity.INFO: 1, Severity.OK: 0}


def worst(severities: list[Severity]) -> Severity:
    return max(severities, key=RANK.__getitem__, default=Severity.OK)


def day_text(day: date) -> Text:
    """A date in the user's words (French: 14/10/2025); the same msgid the incident guide uses."""
    return T("{year}-{month}-{day}", year=str(day.year), month=str(day.month).zfill(2), day=str(day.day).zfill(2))
