"""Evaluate a check safely: a check that raises becomes an UNKNOWN finding, logged; Vigie goes on."""

from __future__ import annotations

import logging

from vigie.check import Check, CheckContext
from vigie.events import Event
from vigie.model import Finding, Severity, T

log = logging.getLogger(__name__)


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
