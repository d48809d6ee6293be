"""Is the tray agent running, and how did it last stop? For `vigie check` and the IT provider's tools.

The agent writes `agent_started` in the journal when it starts and `agent_stopped` (with the reason)
when it stops, both naming its run (`session`). A start with no stop is a run that ended without a
word: killed (SIGKILL, the Task Manager), a crash, or the display gone first at logout (GDK then
exits the process itself, on X11 and Wayland alike). Whether it runs now comes
from the single-instance file (vigie.instance), checked against the live process.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from vigie.instance import Instance, Presence, running_agent
from vigie.journal import Journal
from vigie.model import Finding, Severity, T, Text

log = logging.getLogger(__name__)
STARTED, STOPPED = "agent_started", "agent_stopped"
ROW_ID = "agent"
# Why the agent stopped, as agent_stopped records it.
QUIT, QUIT_WITH_CODE, SIGNAL, ERROR, UNKNOWN = "quit", "quit_code", "signal", "error", "unknown"


def record_start(journal: Journal, instance: Instance, pid: int) -> None:
    _record(journal, STARTED, instance.since, session=instance.session, pid=pid)


def record_stop(journal: Journal, session: str, at: datetime, reason: str, detail: str | None = None) -> None:
    """detail: the signal's name (SIGTERM) or the error's type."""
    _record(journal, STOPPED, at, session=session, reason=reason, detail=detail)


def _record(journal: Journal, kind: str, at: datetime, **data: object) -> None:
    try:
        journal.record(kind, at, **data)
    except Exception as exc:  # sqlite3.Error, a full disk: never stop the agent for its journal
        log.error("cannot record %s in the journal: %s", kind, exc)


@dataclass(frozen=True)
class LastEnd:
    """The run before the current one (or the last one, when none runs)."""

    started_at: str
    clean: bool  # it recorded its stop
    stopped_at: str | None = None
    reason: str | None = None
    detail: str | None = None


def last_end(journal: Journal, current_session: str | None) -> LastEnd | None:
    """The journal's events are in order: the last start that is not the running agent's."""
    past = [(at, data["session"]) for at, _kind, data in journal.events(STARTED)
            if data.get("session") and data["session"] != current_session]
    if not past:
        return None
    started_at, session = past[-1]
    stops = {data.get("session"): (at, data) for at, _kind, data in journal.events(STOPPED)}
    if session not in stops:
        return LastEnd(started_at, clean=False)
    at, data = stops[session]
    return LastEnd(started_at, True, at, str(data.get("reason") or UNKNOWN), data.get("detail"))


@dataclass(frozen=True)
class AgentStatus:
    presence: Presence
    autostart: bool | None  # None: could not be read
    protected: bool  # the IT provider's policy sets a quit code
    last_end: LastEnd | None

    @property
    def expected(self) -> bool:
        """It should be running: it starts at login, or the IT provider protects it."""
        return bool(self.autostart) or self.protected

    def to_json(self) -> dict[str, object]:
        end = self.last_end
        return {
            "running": self.presence.running,
            "pid": self.presence.pid,
            "since": self.presence.since.isoformat(timespec="seconds") if self.presence.since else None,
            "autostart": self.autostart,
            "protected": self.protected,
            "expected": self.expected,
            "last_end": None if end is None else {
                "clean": end.clean, "started_at": end.started_at, "stopped_at": end.stopped_at,
                "reason": end.reason, "detail": end.detail},
        }


def read_status(journal: Journal, protected: bool) -> AgentStatus:
    presence = running_agent()
    # When it cannot tell whether one runs, it cannot tell which run is the current one either.
    ended = last_end(journal, presence.session) if presence.running is not None else None
    return AgentStatus(presence, _autostart_enabled(), protected, ended)


def _autostart_enabled() -> bool | None:
    from vigie import autostart

    try:
        return autostart.get_autostart().status().enabled
    except Exception as exc:  # OSError, PlatformError (the registry): not known
        log.error("cannot read the autostart state: %s", exc)
        return None


# --- the row of `vigie check` --------------------------------------------------------------------

class AgentRow:
    """What report.py needs of a check: its id and label."""

    id = ROW_ID
    label = T("Vigie's icon")


def finding(status: AgentStatus) -> Finding:
    facts = status.to_json()
    presence = status.presence
    ended = _last_end_text(status.last_end)
    if presence.running:
        return Finding(ROW_ID, Severity.OK, T("Vigie has been running since {since}.", since=_date(presence.since)),
                       detail=ended if status.last_end and not status.last_end.clean else None, facts=facts)
    if presence.running is None:
        return Finding(ROW_ID, Severity.UNKNOWN, T("Vigie could not tell whether it is running."),
                       detail=T("Details are in Vigie's log."), facts=facts)
    if status.expected:
        return Finding(ROW_ID, Severity.WARNING, T("Vigie is not running: it no longer watches over this computer."),
                       detail=ended, fix=T("Start Vigie again from the applications menu, or log out and back in. "
                                           "If it stops again, tell your IT provider."), facts=facts)
    return Finding(ROW_ID, Severity.INFO, T("Vigie is not running, and does not start at login."), detail=ended,
                   fix=T("To have it start at login: vigie autostart enable"), facts=facts)


def _last_end_text(end: LastEnd | None) -> Text | None:
    if end is None:
        return None
    started = _date(datetime.fromisoformat(end.started_at))
    if not end.clean:
        return T("Last time, Vigie (started on {started}) ended without a word: stopped by force, a crash, "
                 "or its session closed without warning it.", started=started)
    stopped = _date(datetime.fromisoformat(end.stopped_at)) if end.stopped_at else "?"
    return T("Last stopped on {stopped}: {reason}.", stopped=stopped, reason=_reason(end))


def _reason(end: LastEnd) -> Text:
    detail = end.detail or "?"
    if end.reason == QUIT:
        return T("quit from its menu")
    if end.reason == QUIT_WITH_CODE:
        return T("quit from its menu with the IT provider's code")
    if end.reason == SIGNAL:
        return T("stopped by the system or by a command ({detail}), for example at the end of the session",
                 detail=detail)
    if end.reason == ERROR:
        return T("stopped after an error ({detail})", detail=detail)
    return T("for a reason it could not tell")


def _date(moment: datetime | None) -> str:
    return moment.strftime("%d/%m/%Y %H:%M") if moment else "?"
