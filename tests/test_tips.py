"""The weekly tip (features/tips): its schedule and its memory in Vigie's real journal, with an
injected clock and a recording Services (tests/support/fake_services.py, as in test_guards.py);
then one real tip shown by the agent in dunst under Xvfb, looked at in a screenshot."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import msgspec
import pytest

import harness
from support.fake_services import FR, FakeClock, FakePlatform, Recorder
from vigie.config.schema import Config, TipsSettings
from vigie.events import SessionUnlocked
from vigie.features.tips.events import TipDue
from vigie.features.tips.feature import TipsFeature
from vigie.features.tips.guard import NEXT_KEY, PLAN_KEY, RECHECK_SECONDS, SHOWN, TIP_TAG
from vigie.features.tips.tips import TIPS
from vigie.i18n import render
from vigie.journal import Journal

START = datetime(2026, 12, 2, 10, 0).astimezone()
TITLE = "Le conseil de la semaine"


def agent(core: Recorder) -> TipsFeature:
    feature = TipsFeature(core.services())
    feature.start()
    for event in list(core.submitted):  # what start() submitted reaches the guard on the engine thread
        feature.handle(event)
    return feature


def tips_shown(core: Recorder) -> list[str]:
    return [data["tip"] for _, _, data in core.journal.events(SHOWN)]


def a_week_later(core: Recorder, feature: TipsFeature) -> None:
    core.clock.advance(days=7)
    feature.handle(TipDue())


def test_one_tip_after_a_week_not_before():
    core = Recorder(clock=FakeClock(START))
    feature = agent(core)
    assert core.notifications == []  # the first start only sets the schedule
    assert core.journal.get_state(NEXT_KEY) == "2026-12-09T10:00:00" + START.isoformat()[19:]
    assert core.planned[PLAN_KEY][0] == RECHECK_SECONDS  # a week away: looked at again within the hour
    core.clock.advance(days=6, hours=23)
    feature.handle(TipDue())
    assert core.notifications == []
    core.clock.advance(hours=1)
    feature.handle(TipDue())
    (tip,) = core.notifications
    assert tip.title == TITLE
    assert tip.body == render(TIPS[0].text, FR)
    assert tip.body.startswith("Un bon mot de passe fait au moins 12 caractères")
    assert [(b.label, b.action) for b in tip.buttons] == [("Compris", "tips:dismiss")]
    assert tip.tag == TIP_TAG
    assert tips_shown(core) == ["passwords"]


def test_never_the_same_tip_twice_until_all_were_shown():
    core = Recorder(clock=FakeClock(START))
    feature = agent(core)
    for _ in TIPS:
        a_week_later(core, feature)
        feature.handle(TipDue())  # looked at again at once: nothing more
    assert tips_shown(core) == [tip.id for tip in TIPS]
    assert len(core.notifications) == len(TIPS)
    a_week_later(core, feature)
    assert tips_shown(core)[-1] == TIPS[0].id  # then a new round, in the same order


def test_no_tip_while_a_camera_or_microphone_is_in_use():
    core = Recorder(clock=FakeClock(START), platform=FakePlatform(media=True))
    feature = agent(core)
    a_week_later(core, feature)
    assert core.notifications == []
    assert core.planned[PLAN_KEY][0] == 300  # looked at again in five minutes
    core.clock.advance(minutes=5)
    feature.handle(TipDue())
    assert core.notifications == []  # still in consultation
    core.platform.media = False
    core.clock.advance(minutes=5)
    feature.handle(TipDue())
    assert len(core.notifications) == 1


def test_no_tip_on_a_locked_screen_nor_in_the_minute_after_it_is_unlocked():
    core = Recorder(clock=FakeClock(START), platform=FakePlatform(locked=True))
    feature = agent(core)
    a_week_later(core, feature)
    assert core.notifications == []
    core.platform.locked = False  # unlocked with the OS's own lock screen: no event reaches Vigie
    core.clock.advance(minutes=5)
    feature.handle(TipDue())
    assert core.notifications == [] and core.planned[PLAN_KEY][0] == 60
    core.clock.advance(minutes=1)
    feature.handle(TipDue())
    assert len(core.notifications) == 1


def test_no_tip_within_a_minute_of_an_unlock():
    core = Recorder(clock=FakeClock(START))
    feature = agent(core)
    core.clock.advance(days=7)
    feature.handle(SessionUnlocked())
    core.clock.advance(seconds=20)
    feature.handle(TipDue())
    assert core.notifications == []
    assert core.planned[PLAN_KEY][0] == 40  # the rest of the minute
    core.clock.advance(seconds=40)
    feature.handle(TipDue())
    assert len(core.notifications) == 1


def test_the_schedule_and_what_was_shown_survive_a_restart(tmp_path):
    journal_path = tmp_path / "journal.sqlite3"
    clock = FakeClock(START)
    first = Recorder(clock=clock)
    first.journal = Journal(journal_path)
    feature = agent(first)
    a_week_later(first, feature)
    first.journal.close()

    clock.advance(days=3)  # restarted three days later: no tip, none repeated, the week goes on
    second = Recorder(clock=clock)
    second.journal = Journal(journal_path)
    feature = agent(second)
    assert second.notifications == []
    clock.advance(days=4)
    feature.handle(TipDue())
    assert [n.body for n in second.notifications] == [render(TIPS[1].text, FR)]
    assert tips_shown(second) == ["passwords", "cps_card"]


def test_the_it_provider_can_turn_tips_off():
    config = msgspec.structs.replace(Config(), tips=TipsSettings(enabled=False))
    core = Recorder(config=config, clock=FakeClock(START))
    feature = agent(core)
    assert core.submitted == []
    core.clock.advance(days=30)
    feature.handle(TipDue())
    assert core.notifications == [] and core.journal.events(SHOWN) == []


def test_got_it_dismisses_the_tip_and_the_journal_keeps_it():
    core = Recorder(clock=FakeClock(START))
    feature = agent(core)
    a_week_later(core, feature)
    feature.act("dismiss")
    assert core.withdrawn == [TIP_TAG]
    (_, _, data), = core.journal.events("tip_dismissed")
    assert data == {"tip": "passwords"}


def test_a_tip_due_at_start_is_shown_by_the_agent_in_dunst(desktop_env, start_agent, tmp_path):
    """The real agent, dunst and Xvfb: the journal says a tip was due yesterday, so it shows at start."""
    journal = Journal(Path(desktop_env["XDG_DATA_HOME"]) / "Vigie" / "journal.sqlite3")
    journal.set_state(NEXT_KEY, datetime(2026, 1, 1, 9, 0).astimezone().isoformat())
    journal.close()
    _, env = start_agent(desktop_env)
    harness.wait_for(lambda: "tip shown: passwords" in harness.vigie_log(env), timeout=20, what="the tip")
    harness.wait_for(lambda: harness.dunst_count(env, "displayed") >= 1, what="dunst to show it")
    shot = harness.screenshot(env, tmp_path / "tip.png")
    harness.screenshot(env, Path("/tmp/access-tip-notification.png"))  # looked at by hand
    assert shot.stat().st_size > 0
    harness.press_notification_button(env, "tips:dismiss")  # « Compris », on the notification itself
    journal_path = Path(env["XDG_DATA_HOME"]) / "Vigie" / "journal.sqlite3"

    def dismissed() -> list:
        reopened = Journal(journal_path)
        try:
            return reopened.events("tip_dismissed")
        finally:
            reopened.close()

    harness.wait_for(dismissed, what="the dismissal in the journal")
    (tip,) = [n for n in harness.dunst_history(env) if n["summary"] == TITLE]
    assert tip["body"].startswith("Un bon mot de passe fait au moins 12 caractères")
    reopened = Journal(journal_path)
    assert [data["tip"] for _, _, data in reopened.events(SHOWN)] == ["passwords"]
    reopened.close()


@pytest.mark.parametrize("tip", TIPS, ids=[tip.id for tip in TIPS])
def test_every_tip_is_short_and_in_french(tip):
    text = render(tip.text, FR)
    assert text != tip.text.msgid and len(text) <= 200
