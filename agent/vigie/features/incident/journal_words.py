"""Vigie's journal in words, for the report's timeline (« Clé USB « CLE » branchée »): the reader never sees
an event's internal name or its data; the raw journal is the report's annex (issue 19, point 6).
An event this module does not know (a feature added later) still gets a sentence, pointing to the annex."""

from __future__ import annotations

from collections.abc import Mapping

from vigie.model import TN, T, Text


def _drive(data: Mapping) -> Text:
    label = str(data.get("label") or "").strip()
    return T("USB drive “{label}”", label=label) if label else T("USB drive without a name")


def _size(data: Mapping) -> Text | None:
    """Whole units, no decimal separator to localise: gigabytes from 10 GB, else megabytes."""
    size = data.get("size_bytes")
    if not isinstance(size, int) or size <= 0:
        return None
    if size >= 10 * 10**9:
        return T("{n} GB", n=round(size / 10**9))
    if size >= 10**6:
        return T("{n} MB", n=round(size / 10**6))
    return T("less than 1 MB")


def _usb_inserted(data: Mapping) -> Text:
    size = _size(data)
    if size is not None:
        return T("{drive} plugged in ({size}).", drive=_drive(data), size=size)
    return T("{drive} plugged in.", drive=_drive(data))


def _usb_choice(data: Mapping) -> Text:
    choice = data.get("choice")
    if choice == "known":
        return T("{drive}: the user said it is a known drive.", drive=_drive(data))
    if choice == "eject":
        return T("{drive}: the user asked to eject it.", drive=_drive(data))
    if choice == "scan":
        return T("{drive}: the user asked for a virus scan.", drive=_drive(data))
    return T("{drive}: the window was closed without a choice.", drive=_drive(data))


def _usb_scan(data: Mapping) -> Text:
    if not data.get("done"):
        return T("{drive}: the virus scan could not be done.", drive=_drive(data))
    findings = data.get("findings") or []
    if findings:
        return TN("{drive}: the virus scan found {n} suspicious file.",
                  "{drive}: the virus scan found {n} suspicious files.", len(findings), drive=_drive(data))
    return T("{drive}: the virus scan ({scanner}) found no threat.", drive=_drive(data),
             scanner=str(data.get("scanner") or "?"))


def _restore_drill(data: Mapping) -> Text:
    source = str(data.get("source") or "?")
    outcome = data.get("outcome")
    files = data.get("files") or []
    if outcome == "passed":
        return TN("Backup test ({source}): passed, {n} file restored and compared.",
                  "Backup test ({source}): passed, {n} files restored and compared.", len(files), source=source)
    if outcome == "failed":
        return T("Backup test ({source}): failed.", source=source)
    return T("Backup test ({source}): could not be done.", source=source)


_STOP_REASONS = {
    "quit": T("Vigie was stopped from its menu."),
    "quit_code": T("Vigie was stopped from its menu, with the IT provider's code."),
    "signal": T("Vigie was stopped by the system (session closed, shutdown or a stop command)."),
    "error": T("Vigie stopped after an error."),
}


def _agent_stopped(data: Mapping) -> Text:
    return _STOP_REASONS.get(str(data.get("reason")), T("Vigie stopped (reason unknown)."))


_SIMPLE: dict[str, Text] = {
    "agent_started": T("Vigie started."),
    "incident_opened": T("Another incident was opened."),
    "incident_closed": T("Another incident was closed."),
    "incident_not_saved": T("An incident could not be saved at first (disk full or refused)."),
}
_WITH_DATA = {
    "usb_inserted": _usb_inserted,
    "usb_removed": lambda data: T("{drive} removed.", drive=_drive(data)),
    "usb_choice": _usb_choice,
    "usb_scan": _usb_scan,
    "restore_drill": _restore_drill,
    "agent_stopped": _agent_stopped,
}


def journal_sentence(kind: str, data: Mapping, number: int) -> Text:
    """`number`: the event's place in the annex, for an event without words of its own."""
    data = data if isinstance(data, Mapping) else {}
    if kind in _SIMPLE:
        return _SIMPLE[kind]
    if kind in _WITH_DATA:
        try:
            return _WITH_DATA[kind](data)
        except (TypeError, ValueError):  # data of an unexpected shape: said as unknown, kept in the annex
            pass
    return T("Another event recorded by Vigie (annex, line {n}).", n=number)
