"""Each feature's guard and watcher, alone: what they decide for each event, with a recording
Services (tests/support/fake_services.py) and injected clocks. No display, no thread, no sleep.
The same features run for real, end to end, in test_agent, test_idle, test_cps_agent, test_usb,
test_backup_agent and test_incident_agent."""

from __future__ import annotations

import json
import stat
import sys
from datetime import datetime
from pathlib import Path

import msgspec
import pytest

from support.fake_services import FR, FakeClock, FakePlatform, Recorder
from vigie.config.schema import BackupAge, BackupFolder, Config, CpsCard, IdleLock, UsbStorage
from vigie.events import SessionLocked, SessionUnlocked, UserActive, UserIdle, VolumeAdded, VolumeRemoved
from vigie.features.backup import destination
from vigie.features.backup.drill import DrillResult, Outcome
from vigie.features.backup.events import DrillFinished
from vigie.features.backup.guard import BackupGuard
from vigie.features.cps_card.events import CardInserted, CardPolicyDue, CardRemoved
from vigie.features.cps_card.guard import CpsGuard
from vigie.features.idle_lock.events import IdleEnded, IdleLockDue, IdleLockPostponed, IdleReminderDue, UserReturned
from vigie.features.idle_lock.guard import IDLE_TAG, PRESENT_ACTION, IdleGuard
from vigie.features.idle_lock.watch import IdleWatcher, Phase
from vigie.features.incident.guard import IncidentGuard
from vigie.features.usb.events import VolumeChoice, VolumeScanned
from vigie.features.usb.guard import UsbGuard
from vigie.i18n import render
from vigie.model import Action, Finding, Severity, T
from vigie.platform.base import IdleState, ScanResult, ToolFailed, Volume

STICK = Volume("/dev/sdb1", "/media/cabinet/CLE", "vfat", "CLE", "1234-ABCD", 8_000_000_000, removable=True)


@pytest.fixture
def user_dirs(tmp_path, monkeypatch):
    """Vigie's data and runtime folders in the test's own place. On Windows platformdirs asks the shell
    for the known folders (no variable moves them): its functions are pointed at the test's place, or a
    test's incident would be left open in the user's real %LOCALAPPDATA% (the Windows lane's agent,
    started in the same Windows afterwards, showed « Incident en cours »)."""
    for name in ("XDG_DATA_HOME", "XDG_RUNTIME_DIR", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        folder = tmp_path / name.lower()
        folder.mkdir(mode=0o700)
        monkeypatch.setenv(name, str(folder))
    if sys.platform == "win32":
        import platformdirs

        for kind in ("data", "log", "runtime", "cache", "state", "config"):
            place = tmp_path / f"windows-{kind}"
            monkeypatch.setattr(platformdirs, f"user_{kind}_path",
                                lambda *args, place=place, **kwargs: place.mkdir(exist_ok=True) or place)
    return tmp_path


def with_settings(**sections) -> Config:
    return msgspec.structs.replace(Config(), **sections)


# --- idle_lock ------------------------------------------------------------------------------------

def test_idle_reminder_in_french_with_its_button_then_the_core_hears_user_idle():
    core = Recorder()
    IdleGuard(core.services()).handle(IdleReminderDue(seconds_left=60))
    (reminder,) = core.notifications
    assert reminder.title == "Poste inactif\u00a0: verrouillage dans 60 s"
    assert [(b.label, b.action) for b in reminder.buttons] == [("Je suis là", PRESENT_ACTION)]
    assert reminder.tag == IDLE_TAG
    assert core.submitted == [UserIdle()]


def test_input_withdraws_the_reminder_ends_the_pause_and_the_core_hears_user_active():
    core = Recorder()
    guard = IdleGuard(core.services())
    guard.handle(IdleLockPostponed())
    assert core.note("idle") == "verrouillage automatique suspendu\u00a0: caméra ou micro en cours d’utilisation"
    guard.handle(IdleEnded())
    assert core.withdrawn == [IDLE_TAG] and core.note("idle") is None
    assert core.submitted == [UserActive()]
    assert core.locks == 0


def test_the_lock_threshold_withdraws_the_reminder_and_locks():
    core = Recorder()
    IdleGuard(core.services()).handle(IdleLockDue())
    assert core.withdrawn == [IDLE_TAG] and core.locks == 1


def test_after_an_automatic_lock_the_tip_comes_once_a_day_and_the_session_counts_as_unlocked():
    core = Recorder()
    guard = IdleGuard(core.services())
    for _ in range(2):
        guard.handle(UserReturned())
    core.clock.advance(days=1)
    guard.handle(UserReturned())
    tip = ("Vigie a verrouillé le poste pendant votre absence",
           "La prochaine fois, Super + L (ou Ctrl + Alt + L) le verrouille en une seconde.")
    assert core.said() == [tip, tip]
    assert core.submitted == [SessionUnlocked()] * 3


def test_the_tip_never_shows_over_a_lock_made_since_the_return_and_comes_at_the_next_one():
    """CI saw the tip in KDE's and XFCE's lists while locked: the return was heard, then the menu locked
    before the engine handled it."""
    core = Recorder()
    guard = IdleGuard(core.services())
    core.platform.locked = True
    guard.handle(UserReturned())
    assert core.said() == [] and core.submitted == [SessionUnlocked()]
    core.platform.locked = False
    guard.handle(UserReturned())
    assert [title for title, _ in core.said()] == ["Vigie a verrouillé le poste pendant votre absence"]


class IdleDesk:
    """The OS answers the idle watch reads: idle seconds grow with the fake monotonic clock."""

    name = "linux"

    def __init__(self) -> None:
        self.now = 1000.0
        self.last_input = self.now
        self.grabbed = False
        self.camera = False
        self.locked: bool | None = False  # what the desktop's screen saver says; None: nothing can say
        self.grab_probes = 0

    def clock(self) -> float:
        return self.now

    def idle_state(self) -> IdleState:
        return IdleState(self.now - self.last_input, source="test")

    def screen_locked(self) -> bool | None:
        return self.locked

    def input_grabbed(self) -> bool:
        self.grab_probes += 1
        return self.grabbed

    def media_in_use(self) -> bool:
        return self.camera


def idle_watch(remind: int = 240, lock: int = 300) -> tuple[IdleWatcher, IdleDesk, list]:
    desk, events = IdleDesk(), []
    settings = IdleLock(remind_after_seconds=remind, lock_after_seconds=lock)
    watch = IdleWatcher(desk, settings, events.append, clock=desk.clock)
    watch.grab_lasts = 0  # the second look at a grab comes at once here
    return watch, desk, events


def locked_by_the_engine(watch: IdleWatcher, desk: IdleDesk) -> None:
    """What follows IdleLockDue: the engine locks, sees it, and tells the watch (SessionLocked)."""
    desk.locked = True
    watch.lock_seen()


def test_the_idle_watch_sleeps_until_the_threshold_then_reminds_then_locks_once():
    watch, desk, events = idle_watch()
    assert watch.step() == 240  # nothing to do before the reminder can be due: one sleep
    desk.now += 240
    assert watch.step() == 2  # reminded: it now looks often, to withdraw it at the first input
    assert events == [IdleReminderDue(seconds_left=60)]
    desk.now += 60
    watch.step()
    locked_by_the_engine(watch, desk)
    desk.now += 600
    watch.step()  # still away: never a second lock
    assert events == [IdleReminderDue(seconds_left=60), IdleLockDue()]
    desk.last_input = desk.now
    watch.step()  # the mouse moved on the lock screen: not a return yet
    assert events[-1] == IdleLockDue() and watch.phase == Phase.LOCKED
    desk.locked = False  # unlocked
    watch.step()
    assert events[-1] == UserReturned() and watch.phase == Phase.ACTIVE


def test_unlocked_one_move_of_the_mouse_and_gone_again_is_reminded_and_locked_again():
    """Issue 16, defect 1: the lock's end starts a new absence, even when the watch hears of it late."""
    watch, desk, events = idle_watch(remind=20, lock=40)
    desk.now += 40
    watch.step()
    locked_by_the_engine(watch, desk)
    desk.now += 100
    assert watch.step() <= 20  # locked: it looks again at least as often as the shortest setting
    desk.locked, desk.last_input = False, desk.now  # unlock (typing the password), then gone
    desk.now += 15  # the watch hears of it 15 s later (no signal here)
    assert watch.step() == pytest.approx(5)
    assert events[-1] == UserReturned() and watch.phase == Phase.ACTIVE
    desk.now += 5
    watch.step()
    assert events[-1] == IdleReminderDue(seconds_left=20)
    desk.now += 20
    watch.step()
    assert events[-1] == IdleLockDue() and events.count(IdleLockDue()) == 2


def test_a_lock_asked_for_is_waited_for_not_judged_unlocked_before_the_engine_saw_it():
    watch, desk, events = idle_watch(remind=20, lock=40)
    desk.now += 40
    watch.step()
    desk.now += 0.3
    watch.step()  # the lock thread is still at work: the screen saver still says "not locked"
    assert events == [IdleLockDue()] and watch.phase == Phase.LOCKED
    watch.lock_failed()
    watch.step()
    assert watch.phase == Phase.FAILED


def test_i_am_here_counts_as_input_and_a_call_postpones_the_lock():
    watch, desk, events = idle_watch()
    desk.now += 250
    watch.step()
    watch.present()  # « Je suis là »
    watch.step()
    assert events == [IdleReminderDue(seconds_left=50), IdleEnded()]
    desk.camera = True
    desk.now += 400
    watch.step()
    assert events[-1] == IdleLockPostponed() and watch.phase == Phase.POSTPONED
    desk.camera = False  # the teleconsultation ends: the lock comes at the next look
    watch.step()
    assert events[-1] == IdleLockDue()


def test_a_screen_another_locker_holds_is_never_locked_on_top():
    watch, desk, events = idle_watch()
    desk.locked, desk.grabbed = None, True  # plain X11: no screen saver to ask, a locker holds the keyboard
    desk.now += 301
    watch.step()
    assert IdleLockDue() not in events and watch.phase == Phase.LOCKED
    assert desk.grab_probes == 2  # a grab counts only when it lasts: two looks


def test_a_grab_the_shell_holds_is_no_lock_when_its_screen_saver_says_unlocked():
    """Issue 16, defect 6: GNOME's overview or a menu holds the keyboard; org.gnome.ScreenSaver says
    not locked, and it is asked first: the lock goes ahead, the grab is not even probed."""
    watch, desk, events = idle_watch()
    desk.locked, desk.grabbed = False, True
    desk.now += 301
    watch.step()
    assert events[-1] == IdleLockDue() and desk.grab_probes == 0


def test_a_grab_that_does_not_last_is_no_lock():
    watch, desk, events = idle_watch()
    desk.locked, desk.grabbed = None, True
    original = desk.input_grabbed

    def brief_grab() -> bool:
        seen = original()
        desk.grabbed = False  # a menu closing
        return seen

    desk.input_grabbed = brief_grab
    desk.now += 301
    watch.step()
    assert events[-1] == IdleLockDue()


# --- cps_card ---------------------------------------------------------------------------------------

class Monotonic:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def cps_guard(core: Recorder, **settings) -> tuple[CpsGuard, Monotonic]:
    core.config = with_settings(cps_card=CpsCard(**settings))
    monotonic = Monotonic()
    return CpsGuard(core.services(), wall_clock=core.clock, clock=monotonic), monotonic


def test_the_card_pulled_out_locks_and_a_locked_session_is_not_locked_again():
    core = Recorder()
    guard, _ = cps_guard(core)
    guard.handle(CardInserted("Lecteur", "3BAC00402A001225006480"))
    guard.handle(CardRemoved("Lecteur", "3BAC00402A001225006480"))
    assert core.locks == 1
    guard.handle(SessionLocked())  # what the engine says once the lock worked
    core.platform.locked = True
    guard.handle(CardInserted("Lecteur", "3BAC00402A001225006480"))
    guard.handle(CardRemoved("Lecteur", "3BAC00402A001225006480"))
    assert core.locks == 1
    guard.handle(SessionUnlocked())
    core.platform.locked = False
    guard.handle(CardInserted("Lecteur", "3BAC00402A001225006480"))
    guard.handle(CardRemoved("Lecteur", "3BAC00402A001225006480"))
    assert core.locks == 2


def test_unlocked_without_vigie_being_told_still_locks_on_the_next_removal():
    """Windows and macOS do not say when the user unlocks: the OS's own state is asked then."""
    core = Recorder()
    guard, _ = cps_guard(core)
    guard.handle(CardRemoved("Lecteur", "3BAC00402A001225006480"))
    guard.handle(SessionLocked())
    core.platform.locked = False
    guard.handle(CardRemoved("Lecteur", "3BAC00402A001225006480"))
    assert core.locks == 2


def test_a_lock_delay_is_a_planned_tick_and_the_card_back_in_time_cancels_it():
    core = Recorder()
    guard, monotonic = cps_guard(core, lock_delay_seconds=5)
    guard.handle(CardRemoved("Lecteur", "ATR"))
    assert core.locks == 0 and core.planned["cps_card.policy"] == (5.0, CardPolicyDue())
    guard.handle(CardInserted("Lecteur", "3BAC00402A001225006480"))  # back within the delay
    monotonic.now += 5
    guard.handle(CardPolicyDue())
    assert core.locks == 0
    guard.handle(CardRemoved("Lecteur", "3BAC00402A001225006480"))
    monotonic.now += 5
    guard.handle(CardPolicyDue())
    assert core.locks == 1


def test_the_card_left_in_while_away_is_a_reminder_on_return():
    core = Recorder()
    guard, monotonic = cps_guard(core, end_of_day="")
    guard.handle(CardInserted("Lecteur", "3BAC00402A001225006480"))
    guard.handle(UserIdle())
    monotonic.now += 90
    guard.handle(UserActive())
    assert core.said() == [("Votre carte CPS est restée dans le lecteur pendant votre absence",
                            "N’importe qui aurait pu s’en servir. Prenez-la avec vous quand vous quittez le bureau.")]
    assert core.notifications[0].severity == Severity.WARNING


def test_the_end_of_day_reminder_comes_once():
    core = Recorder()
    guard, _ = cps_guard(core, end_of_day="19:00")
    guard.handle(CardInserted("Lecteur", "3BAC00402A001225006480"))
    wait, due = core.planned["cps_card.policy"]
    assert wait == 9 * 3600 and due == CardPolicyDue()  # 10:00 → 19:00
    core.clock.advance(hours=9, minutes=1)
    guard.handle(CardPolicyDue())
    guard.handle(CardPolicyDue())
    assert [title for title, _ in core.said()] == ["Votre carte CPS est encore dans le lecteur"]


# --- usb ----------------------------------------------------------------------------------------------

def usb_guard(core: Recorder) -> UsbGuard:
    core.config = with_settings(usb_storage=UsbStorage(scan_timeout_minutes=5))
    return UsbGuard(core.services())


def test_an_unknown_drive_gets_its_popup_with_a_private_details_file(user_dirs):
    core = Recorder()
    guard = usb_guard(core)
    guard.handle(VolumeAdded(STICK))
    ((name, args, window),) = core.windows.opened
    assert window == "usb" and name.startswith("usb:") and args[-4:] == ("--lang", "fr", "--offset", "0")
    details = Path(args[args.index("--volume") + 1])
    if sys.platform != "win32":  # Windows has no mode bits: there the profile's ACL keeps it private (not under Wine)
        assert stat.S_IMODE(details.stat().st_mode) == 0o600
    assert json.loads(details.read_text())["label"] == "CLE" and json.loads(details.read_text())["can_scan"]
    assert [kind for _, kind, _ in core.journal.events()] == ["usb_inserted"]
    guard.handle(VolumeRemoved(STICK))  # pulled out: its pop-up closes and its file goes
    assert core.windows.closed == [name] and not details.exists()


def test_a_drive_the_user_knows_and_a_drive_a_feature_claims_get_no_popup(user_dirs):
    core = Recorder()
    guard = usb_guard(core)
    guard.handle(VolumeChoice(STICK, "known"))
    guard.handle(VolumeAdded(STICK))
    backup = Volume("/dev/sdc1", "/media/cabinet/SAUVEGARDE", "ext4", "SAUVEGARDE", "u-2", removable=True)
    core.claimed.add(backup.mount_point)
    guard.handle(VolumeAdded(backup))
    assert core.windows.opened == []


def test_eject_from_the_popup_says_so_and_a_failure_says_why(user_dirs):
    core = Recorder(platform=FakePlatform(volumes=[STICK]))
    guard = usb_guard(core)
    guard.handle(VolumeChoice(STICK, "eject"))
    assert core.platform.ejected == [STICK]
    core.platform.eject_error = ToolFailed(T("The drive is still in use."), "busy")
    guard.handle(VolumeChoice(STICK, "eject"))
    assert core.said()[0] == ("Vous pouvez débrancher «\u00a0CLE\u00a0»", "Il a été éjecté sans risque.")
    assert core.said()[1][0] == "«\u00a0CLE\u00a0» n’a pas pu être éjecté"
    assert core.notifications[1].severity == Severity.WARNING


def test_scan_results_in_french(user_dirs):
    core = Recorder()
    guard = usb_guard(core)
    guard.handle(VolumeScanned(STICK, ScanResult("ClamAV", ("facture.pdf.exe: Win.Test.EICAR_HDB-1",))))
    guard.handle(VolumeScanned(STICK, None, T("The drive is still in use.")))
    assert core.notifications[0].severity == Severity.CRITICAL
    assert core.said()[0][0] == "Menace trouvée sur «\u00a0CLE\u00a0»\u00a0: ne l’ouvrez pas"
    assert core.said()[1][0] == "L’analyse de «\u00a0CLE\u00a0» n’a pas pu se faire"
    assert [data["done"] for _, kind, data in core.journal.events() if kind == "usb_scan"] == [True, False]


# --- backup ----------------------------------------------------------------------------------------------

def test_drill_results_are_journaled_and_told_when_asked_for(user_dirs):
    core = Recorder()
    guard = BackupGuard(core.services())
    passed = DrillResult("folder:x", T("the drive"), Outcome.PASSED, checked=[("a.pdf", "0" * 64)] * 3)
    guard.drill_finished(DrillFinished((passed,), manual=False))
    assert core.notifications == []  # a scheduled drill that passed stays quiet
    failed = DrillResult("folder:x", T("the drive"), Outcome.FAILED)
    guard.drill_finished(DrillFinished((failed,), manual=True))
    # A new failure: the restore_drill check turns urgent and the engine notifies that, once; the
    # guard adds no second notification (issue 18: two identical urgent notifications).
    assert core.said() == []
    assert [kind for _, kind, _ in core.journal.events()] == ["restore_drill", "restore_drill"]
    assert core.checks_run == ["restore_drill", "restore_drill"]
    # Already urgent from a previous failure: the engine will not say it again, so the guard answers.
    core.findings["restore_drill"] = Finding("restore_drill", Severity.CRITICAL, T("Your backup does not restore "
                                                                                   "correctly"))
    guard.drill_finished(DrillFinished((failed,), manual=True))
    assert core.said() == [("Votre sauvegarde ne se restaure pas correctement",
                            "Appelez votre prestataire informatique aujourd’hui. Le détail est dans la fenêtre "
                            "d’état.")]
    summary = guard.drill_summary([passed])
    assert (summary.title, summary.severity) == ("Test de sauvegarde réussi", Severity.OK)


def test_a_drill_that_only_read_files_back_never_says_identical(user_dirs):
    """A backup folder enrolled without its originals: the files were read back, not compared (issue 15,
    point 2). Before, the notification said « 5 fichiers restaurés, identiques aux originaux »."""
    guard = BackupGuard(Recorder().services())
    read_back = DrillResult("folder:x", T("the drive"), Outcome.READABLE, checked=[("a.pdf", "0" * 64)] * 5)
    summary = guard.drill_summary([read_back])
    assert (summary.title, summary.body, summary.severity) == (
        "Test de sauvegarde\u00a0: fichiers lisibles",
        "5 fichiers relus depuis la sauvegarde, sans comparaison\u00a0: Vigie ne sait pas où sont les originaux.",
        Severity.OK)
    compared = DrillResult("restic:x", T("the repository"), Outcome.PASSED, checked=[("b.pdf", "1" * 64)] * 2)
    both = guard.drill_summary([compared, read_back])
    assert both.title == "Test de sauvegarde réussi" and both.body.startswith(
        "2 fichiers restaurés, identiques aux originaux. 5 fichiers relus depuis la sauvegarde, sans comparaison")


def test_nothing_to_drill_says_what_to_do(user_dirs):
    core = Recorder()
    guard = BackupGuard(core.services())
    guard.start_drill(manual=True)
    assert core.said() == [("Aucune sauvegarde à tester pour l’instant",
                            "Branchez le disque de sauvegarde, puis réessayez.")]
    guard.drill_due("restore_drill", {"due": False})
    assert len(core.notifications) == 1


def test_the_eject_button_ejects_the_drive_its_finding_named_and_never_claims_a_gone_one(user_dirs):
    drive = Volume("/dev/sdc1", "/media/cabinet/SAUVEGARDE", "ext4", "SAUVEGARDE", removable=True)
    core = Recorder(platform=FakePlatform(volumes=[drive]))
    core.findings["backup_drive"] = Finding("backup_drive", Severity.WARNING, T("Unplug the backup drive"),
                                            action=Action("backup:eject_drive", T("Eject"), drive.mount_point))
    guard = BackupGuard(core.services())
    guard.eject_drive()
    assert core.platform.ejected == [drive]
    assert core.said() == [("Vous pouvez débrancher le disque de sauvegarde",
                            "Il a été éjecté sans risque. Rangez-le loin de l’ordinateur.")]
    guard.eject_drive()  # gone meanwhile: nothing to eject, nothing said, the check looks again
    assert len(core.notifications) == 1 and core.checks_run == ["backup_drive", "backup_drive"]


def test_only_an_enrolled_drive_is_claimed(user_dirs):
    mount = user_dirs / "media" / "SAUVEGARDE"
    (mount / "cabinet").mkdir(parents=True)
    marker = destination.enroll(mount / "cabinet", datetime.now().astimezone())
    folder = BackupFolder(id=marker.id, path=str(mount / "cabinet"), relative="cabinet")
    core = Recorder(config=with_settings(backup_age=BackupAge(destinations=[folder])))
    guard = BackupGuard(core.services())
    assert guard.is_enrolled_drive(Volume("/dev/sdc1", str(mount), "ext4", removable=True))
    forged = user_dirs / "media" / "CLE"
    (forged / "cabinet").mkdir(parents=True)
    destination.enroll(forged / "cabinet", datetime.now().astimezone())  # same name, another id
    assert not guard.is_enrolled_drive(Volume("/dev/sdb1", str(forged), "vfat", removable=True))


# --- incident --------------------------------------------------------------------------------------------

def test_the_guide_opens_after_the_incident_is_recorded_and_the_tooltip_counts_down(user_dirs):
    core = Recorder(clock=FakeClock(datetime.now().astimezone()))
    guard = IncidentGuard(core.services())
    guard.refresh()
    assert core.note("incident") is None and "incident" not in core.planned
    guard.open_guide()
    assert core.windows.opened == [("incident", ("--lang", "fr"), None)]
    assert core.note("incident") == "Incident en cours — plainte\u00a0: 72\u00a0h, CNIL\u00a0: 72\u00a0h"
    assert core.planned["incident"][0] == 60.0
    core.windows.listeners["incident"]("closed")  # the guide says the incident was closed
    assert core.submitted[-1].__class__.__name__ == "IncidentChanged"


def test_render_of_every_guard_text_is_french():
    """The guards' own texts (not only the checks') are in the French catalogue."""
    core = Recorder()
    guard = IdleGuard(core.services())
    assert render(T("Idle computer: locking in {seconds} s", seconds=5), FR) != "Idle computer: locking in 5 s"
    assert guard.reminder(5).body.startswith("Bougez la souris")


def test_the_buttons_name_the_feature_that_acts_on_them():
    from vigie.features.backup.backup_drive import EJECT_DRIVE
    from vigie.features.backup.feature import BackupFeature
    from vigie.features.idle_lock.feature import IdleLockFeature

    assert PRESENT_ACTION.partition(":")[0] == IdleLockFeature.id
    assert EJECT_DRIVE.partition(":")[0] == BackupFeature.id
