"""The contract every hygiene check follows.

A check never calls an OS-specific API itself: it asks the Platform (through the context) for
those, reads its own configuration section, and returns one Finding. Portable work (reading a
backup folder, running restic through platform.proc with a timeout) is its own. The agent
evaluates checks on one "checks" thread (a check may wait minutes for Windows Update or restic);
a check keeps no state between calls other than what it puts in the journal. run_check() turns a
check that raises into an UNKNOWN finding.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Protocol

from vigie.config.schema import Config
from vigie.events import Event
from vigie.journal import Journal
from vigie.model import Finding, Severity, T, Text
from vigie.platform.base import Platform

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckContext:
    platform: Platform
    config: Config
    journal: Journal
    clock: Callable[[], datetime]  # injected so checks are tested without patching time


class Check(Protocol):
    id: ClassVar[str]  # = module name = config section
    label: ClassVar[Text]  # what is checked, for the status table
    triggers: ClassVar[tuple[type[Event], ...]]

    def evaluate(self, event: Event, ctx: CheckContext) -> Finding: ...


def run_check(check: Check, event: Event, ctx: CheckContext) -> Finding:
    try:
        finding = check.evaluate(event, ctx)
    except Exception as exc:
        log.exception("check=%s failed", check.id)
        return Finding(
            check.id, Severity.UNKNOWN, T("Vigie could not complete this check."),
            detail=T("Internal error ({error}); details are in Vigie's log.", error=type(exc).__name__),
            facts={"error": type(exc).__name__},
        )
    log.info("check=%s severity=%s", check.id, finding.severity.name)
    return finding
