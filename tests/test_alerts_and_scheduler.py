"""Alert policy (injected clock), tooltip/overall state, and the scheduler's sleeping."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from vigie.alerts import AlertPolicy
from vigie.app import overall_severity, tooltip
from vigie.config.schema import Notifications
from vigie.events import Tick
from vigie.i18n import render, translator
from vigie.model import Finding, Severity, T
from vigie.scheduler import Scheduler

START = datetime(2026, 11, 22, 9, 0).astimezone()


def finding(severity: Severity, check_id: str = "os_updates") -> Finding:
    return Finding(check_id, severity, T("t"))


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def test_notifies_when_a_problem_appears_or_worsens_not_when_it_improves():
    policy = AlertPolicy(Notifications(), Clock())
    warning, critical, ok = finding(Severity.WARNING), finding(Severity.CRITICAL), finding(Severity.OK)
    assert policy.consider(ok, None, screen_locked=False) == []
    assert policy.consider(warning, ok, screen_locked=False) == [warning]
    assert policy.consider(critical, warning, screen_locked=False) == [critical]
    assert policy.consider(warning, critical, screen_locked=False) == []
    assert policy.consider(finding(Severity.UNKNOWN), warning, screen_locked=False) == []  # not an alarm


def test_repeats_while_the_problem_stays():
    clock = Clock()
    policy = AlertPolicy(Notifications(repeat_minutes=60), clock)
    warning = finding(Severity.WARNING)
    assert policy.consider(warning, None, screen_locked=False) == [warning]
    clock.advance(minutes=59)
    assert policy.consider(warning, warning, screen_locked=False) == []
    clock.advance(minutes=1)
    assert policy.consider(warning, warning, screen_locked=False) == [warning]


def test_never_more_than_the_hourly_limit():
    clock = Clock()
    policy = AlertPolicy(Notifications(max_per_hour=2), clock)
    shown = [policy.consider(finding(Severity.WARNING, f"c{i}"), None, screen_locked=False) for i in range(3)]
    assert [len(s) for s in shown] == [1, 1, 0]
    clock.advance(minutes=60)
    assert len(policy.consider(finding(Severity.WARNING, "c3"), None, screen_locked=False)) == 1


def test_held_while_locked_and_shown_on_return():
    policy = AlertPolicy(Notifications(), Clock())
    warning = finding(Severity.WARNING)
    assert policy.consider(warning, None, screen_locked=True) == []
    assert policy.holding
    assert policy.release() == [warning]
    assert not policy.holding


def test_a_problem_solved_while_away_is_not_shown_on_return():
    policy = AlertPolicy(Notifications(), Clock())
    policy.consider(finding(Severity.WARNING), None, screen_locked=True)
    policy.consider(finding(Severity.OK), finding(Severity.WARNING), screen_locked=True)
    assert policy.release() == []


def test_disabled_notifications_say_nothing():
    policy = AlertPolicy(Notifications(enabled=False), Clock())
    assert policy.consider(finding(Severity.CRITICAL), None, screen_locked=False) == []


def test_overall_state_and_tooltip_in_french():
    fr = translator("fr")
    assert overall_severity({}) == Severity.UNKNOWN
    assert render(tooltip({}), fr) == "Vigie\u00a0: vérification en cours…"
    ok = {"a": finding(Severity.OK, "a")}
    assert overall_severity(ok) == Severity.OK
    assert render(tooltip(ok), fr) == "Vigie\u00a0: tout va bien"
    info = {"a": finding(Severity.OK, "a"), "b": finding(Severity.INFO, "b")}
    assert overall_severity(info) == Severity.INFO  # the blue "i", never the green tick
    assert render(tooltip(info), fr) == "Vigie\u00a0: rien à corriger, 1 chose à savoir"
    mixed = {"a": finding(Severity.UNKNOWN, "a"), "b": finding(Severity.WARNING, "b"),
             "c": finding(Severity.CRITICAL, "c")}
    assert overall_severity(mixed) == Severity.CRITICAL
    assert render(tooltip(mixed), fr) == "Vigie\u00a0: 2 points à vérifier"
    assert render(tooltip({"a": finding(Severity.UNKNOWN, "a")}), fr) == "Vigie\u00a0: 1 vérification impossible"


def test_scheduler_enqueues_ticks_at_the_interval_and_stops_promptly():
    ticks: list[tuple[float, object]] = []
    arrived = threading.Event()

    def submit(event):
        ticks.append((time.monotonic(), event))
        if len(ticks) == 2:
            arrived.set()

    scheduler = Scheduler(submit, {"os_updates": 0.01})  # 0.6 s, in minutes
    started = time.monotonic()
    scheduler.start()
    assert arrived.wait(5)
    assert [event for _, event in ticks[:2]] == [Tick("os_updates"), Tick("os_updates")]
    assert 0.5 <= ticks[0][0] - started <= 1.6  # sleeps until due, does not fire early
    before = time.monotonic()
    scheduler.stop()
    assert time.monotonic() - before < 1.0  # the wait is interrupted, not slept out


# --- « Plus tard » (issue 18, point 7) ---

def test_later_puts_a_warning_off_a_bounded_number_of_times_and_survives_a_restart(tmp_path):
    from vigie.journal import Journal
    from vigie.snooze import MAX_SNOOZES, Snoozes

    clock = Clock()
    journal = Journal(tmp_path / "journal.sqlite3")  # a real file: the state must outlive the agent
    snoozes = Snoozes(journal, clock, timedelta(hours=8))
    policy = AlertPolicy(Notifications(repeat_minutes=60), clock, snoozes)
    warning = finding(Severity.WARNING)
    assert policy.consider(warning, None, screen_locked=False) == [warning]
    for pressed in range(MAX_SNOOZES):
        assert snoozes.left("os_updates") == MAX_SNOOZES - pressed
        assert snoozes.snooze("os_updates")
        clock.advance(hours=7, minutes=59)
        assert policy.consider(warning, warning, screen_locked=False) == []  # put off for 8 h, not the usual 1 h
        clock.advance(minutes=1)
        assert policy.consider(warning, warning, screen_locked=False) == [warning]
    assert snoozes.left("os_updates") == 0
    assert not snoozes.snooze("os_updates")  # an old notification's button does nothing
    # Urgent is never put off.
    critical = finding(Severity.CRITICAL)
    assert policy.consider(critical, warning, screen_locked=False) == [critical]
    journal.close()
    # The agent starts again: the count is still there.
    journal = Journal(tmp_path / "journal.sqlite3")
    again = Snoozes(journal, clock, timedelta(hours=8))
    assert again.left("os_updates") == 0
    # Solved: the next problem starts with every « Plus tard ».
    AlertPolicy(Notifications(), clock, again).consider(finding(Severity.OK), warning, screen_locked=False)
    assert again.left("os_updates") == MAX_SNOOZES
    assert [data["count"] for _, kind, data in journal.events("snooze")] == [1, 2, 3]
    journal.close()


def test_a_restart_while_put_off_does_not_show_it_again(tmp_path):
    from vigie.journal import Journal
    from vigie.snooze import Snoozes

    clock = Clock()
    journal = Journal(tmp_path / "journal.sqlite3")
    Snoozes(journal, clock, timedelta(hours=8)).snooze("os_updates")
    fresh = AlertPolicy(Notifications(), clock, Snoozes(journal, clock, timedelta(hours=8)))
    assert fresh.consider(finding(Severity.WARNING), None, screen_locked=False) == []  # first check after start
    clock.advance(hours=8)
    assert fresh.consider(finding(Severity.WARNING), finding(Severity.WARNING), screen_locked=False) != []
    journal.close()


def test_the_tray_menu_has_one_line_per_problem_the_urgent_first():
    from vigie.app import cut_line, problem_lines

    fr = translator("fr")
    labels = {"os_updates": T("System updates"), "backup_age": T("Backups")}
    findings = {"os_updates": Finding("os_updates", Severity.WARNING, T("The system is up to date.")),
                "backup_age": Finding("backup_age", Severity.CRITICAL, T("No backup has been made yet.")),
                "wifi_security": Finding("wifi_security", Severity.INFO, T("No Wi-Fi in use.")),
                "idle_lock": Finding("idle_lock", Severity.UNKNOWN, T("t"))}
    assert [render(line, fr) for line in problem_lines(findings, labels, 6)] == [
        "Urgent — Sauvegardes\u00a0: Aucune sauvegarde n’a encore été faite.",
        "Attention — Mises à jour du système\u00a0: Le système est à jour.",
    ]  # INFO and « could not check » are no problems to fix
    many = {f"c{i}": Finding(f"c{i}", Severity.WARNING, T("t")) for i in range(8)}
    lines = [render(line, fr) for line in problem_lines(many, {}, 6)]
    assert len(lines) == 6 and lines[-1] == "… et 3\u00a0autres points\u00a0: voir l’état"
    assert cut_line("x" * 200) == "x" * 89 + "…" and cut_line("court") == "court"
