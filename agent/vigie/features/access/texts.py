"""Small helpers for the access checks' texts."""

from __future__ import annotations

from collections.abc import Sequence

from vigie.model import T, Text


def joined(items: Sequence[Text]) -> Text:
    """"a, b, c" as one Text, each part translated where it is shown."""
    text = items[-1]
    for item in reversed(items[:-1]):
        text = T("{first}, {rest}", first=item, rest=text)
    return text
