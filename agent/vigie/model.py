"""Core value types shared by checks, the engine and the user interface. No dependencies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from types import MappingProxyType


class Severity(IntEnum):
    OK = 0
    INFO = 1
    WARNING = 2
    CRITICAL = 3
    UNKNOWN = 9


@dataclass(frozen=True)
class Text:
    """A message id with its parameters, translated only when shown (at the edge).

    `plural` and `n` select a plural form through ngettext; `params` fill `{name}` placeholders.
    """

    msgid: str
    plural: str | None = None
    n: int | None = None
    params: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))


def T(msgid: str, **params: object) -> Text:
    return Text(msgid, params=MappingProxyType(params))


def TN(singular: str, plural: str, n: int, **params: object) -> Text:
    return Text(singular, plural=plural, n=n, params=MappingProxyType({"n": n, **params}))


@dataclass(frozen=True)
class Action:
    """What the user can do about a finding in one click: a button on its notification.
    `command` is routed to a feature as "feature_id:action" (e.g. "backup:eject_drive")."""

    command: str
    label: Text
    target: str | None = None


@dataclass(frozen=True)
class Finding:
    check_id: str  # = module name = config section = log field
    severity: Severity
    title: Text
    detail: Text | None = None
    fix: Text | None = None  # what the user should do, in plain words
    action: Action | None = None
    facts: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))  # machine-readable
    recheck_seconds: float | None = None  # the agent evaluates the check again after this long
    # What a notification says instead of `detail`, when the detail holds what must not show on a
    # screen a patient may see (file names); the detail stays in the status window and the journal.
    notification_detail: Text | None = None
