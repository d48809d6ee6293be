"""CPS card watch on a real pcscd with vpcd virtual readers and virtual cards (tests/support/pcsc.py),
and the card policy (pure, injected clocks)."""

from __future__ import annotations

import importlib
import inspect
import itertools
import logging
import queue
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from datetime import time as day_time
from pathlib import Path

import pytest

import harness
from support import pcsc
from support.pcsc import CPS_ATR, CPS_CONTACTLESS_ATR, OTHER_ATR, READERS, VITALE1_ATR, VITALE_ATR
from vigie.features.cps_card import cards as cps_cards
from vigie.features.cps_card import policy as cps_policy
from vigie.features.cps_card import watch as cps_card
from vigie.features.cps_card.cards import CardMatch, EnrollError, enroll
from vigie.features.cps_card.events import CardInserted, CardReaders, CardRemoved, CardWatchLost, CardWatchRestored
from vigie.features.cps_card.policy import CardDecision, CardDecisionKind, CardPolicy, CardPolicySettings
from vigie.features.cps_card.watch import CardWatcher
from vigie.platform import pcsc as platform_pcsc
from vigie.platform.pcsc import (
    E_CANCELLED,
    E_UNKNOWN_READER,
    PNP_READER,
    STATE_CHANGED,
    STATE_EMPTY,
    STATE_PRESENT,
    STATE_UNKNOWN,
    Pcsc,
    PcscError,
    ReaderState,
    normalise_atr,
    probe,
)

LOGGER = "vigie.features.cps_card.watch"


def hexatr(atr: str) -> str:
    return normalise_atr(atr)


class CountingPcsc(Pcsc):
    """The real PC/SC layer, counting the calls the watcher makes (to prove it does not spin)."""

    def __init__(self) -> None:
        super().__init__(importlib.import_module("smartcard.scard"))
        self.calls: Counter[str] = Counter()

    def establish(self) -> int:
        self.calls["establish"] += 1
        return super().establish()

    def get_status_change(self, context, timeout_ms, states):
        self.calls["wait"] += 1
        return super().get_status_change(context, timeout_ms, states)


class Watch:
    """A CardWatcher on its own thread, its events on a queue."""

    def __init__(self, match: CardMatch | None = None, layer=None) -> None:
        self.events: queue.Queue = queue.Queue()
        self.layer = layer if layer is not None else CountingPcsc()
        self.watcher = CardWatcher(self.events.put, match=match, pcsc=self.layer)
        self.thread = threading.Thread(target=self.watcher.run, name="vigie-card-watch-test", daemon=True)
        self.thread.start()
        self.seen: list = []

    def expect(self, kind: type, timeout: float = 5.0, **fields):
        """The next event of this kind (with these fields); the ones before it are kept in `seen`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self.events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {kind.__name__} {fields} within {timeout} s; seen {self.seen}") from None
            self.seen.append(event)
            if isinstance(event, kind) and all(getattr(event, k) == v for k, v in fields.items()):
                return event

    def queued(self) -> list:
        """Events already submitted, without waiting."""
        found = []
        while not self.events.empty():
            found.append(self.events.get_nowait())
        self.seen.extend(found)
        return found

    def close(self) -> None:
        started = time.monotonic()
        assert self.watcher.stop(timeout=2)
        self.thread.join(2)
        assert not self.thread.is_alive()
        assert time.monotonic() - started < 2


def thread_counters(thread: threading.Thread) -> tuple[int, float]:
    """Context switches (voluntary and not) and CPU seconds of one thread of this process."""
    task = Path(f"/proc/self/task/{thread.native_id}")
    switches = sum(int(line.split()[1]) for line in (task / "status").read_text().splitlines()
                   if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")))
    fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
    return switches, (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks (USER_HZ)


def settled(thread: threading.Thread) -> bool:
    """The thread did not run for 0.3 s (it finished what it was doing and sleeps in its wait)."""
    before = thread_counters(thread)
    time.sleep(0.3)
    return thread_counters(thread) == before


@pytest.fixture
def watches() -> Iterator:
    started: list[Watch] = []

    def start(match: CardMatch | None = None, layer=None) -> Watch:
        started.append(Watch(match, layer))
        return started[-1]

    yield start
    for watch in started:
        watch.close()


@pytest.fixture
def card_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    return caplog


def logged(caplog: pytest.LogCaptureFixture, text: str, level: int | None = None) -> int:
    return sum(1 for r in caplog.records if r.name == LOGGER and text in r.getMessage()
               and (level is None or r.levelno == level))


def ignored_card_seen(caplog, reader: str) -> bool:
    return logged(caplog, f"a card that does not count is in {reader}") > 0


# --- Presence only ------------------------------------------------------------------------------

def test_nothing_is_ever_sent_to_the_card():
    """Presence and ATR only: no connection to the card, so no command, PIN or read is possible."""
    for module in (platform_pcsc, cps_cards, cps_card, cps_policy):
        source = inspect.getsource(module)
        for call in ("SCardConnect", "SCardReconnect", "SCardTransmit", "SCardControl", "SCardBeginTransaction",
                     "SCardStatus", "SCardGetAttrib", "smartcard.System", "CardRequest"):
            assert call not in source, f"{module.__name__} uses {call}"


# --- Cards coming and going ---------------------------------------------------------------------

@pytest.mark.parametrize("atr", [CPS_ATR, CPS_CONTACTLESS_ATR])
def test_a_cps_card_inserted_then_pulled_out(pcscd, watches, atr):
    watch = watches()
    watch.expect(CardReaders, readers=READERS)
    card = pcscd.insert(atr, reader=0)
    inserted = watch.expect(CardInserted)
    assert inserted == CardInserted(READERS[0], hexatr(atr), initial=False)
    assert watch.watcher.cards == {READERS[0]: hexatr(atr)}
    pcscd.pull(card)
    assert watch.expect(CardRemoved) == CardRemoved(READERS[0], hexatr(atr))
    assert watch.watcher.cards == {}
    assert [type(e) for e in watch.seen] == [CardReaders, CardInserted, CardRemoved]


def test_a_card_already_in_the_reader_is_reported_at_start(pcscd, watches):
    pcscd.insert(CPS_ATR, reader=1)
    harness.wait_for(lambda: pcsc.card_in(READERS[1], CPS_ATR), timeout=5, what="pcscd to see the card")
    watch = watches()
    watch.expect(CardReaders, readers=READERS)
    assert watch.expect(CardInserted) == CardInserted(READERS[1], hexatr(CPS_ATR), initial=True)


@pytest.mark.parametrize("vitale", [VITALE_ATR, VITALE1_ATR])
def test_a_carte_vitale_does_not_count(pcscd, watches, card_log, vitale):
    watch = watches()
    watch.expect(CardReaders)
    patient = pcscd.insert(vitale, reader=0)
    harness.wait_for(lambda: ignored_card_seen(card_log, READERS[0]), timeout=5, what="the watcher to see it")
    practitioner = pcscd.insert(CPS_ATR, reader=1)
    watch.expect(CardInserted, reader=READERS[1])
    pcscd.pull(patient)
    harness.wait_for(lambda: pcsc.card_in(READERS[0], None), timeout=5, what="pcscd to see the Vitale go")
    pcscd.pull(practitioner)
    # The watcher reads every reader on each wake-up: by the time this arrives it has seen the Vitale go.
    watch.expect(CardRemoved, reader=READERS[1])
    assert [e for e in watch.seen + watch.queued() if getattr(e, "reader", None) == READERS[0]] == []


def test_an_enrolled_atr_counts_and_an_unknown_one_does_not(pcscd, watches, card_log):
    default, enrolled = watches(), watches(CardMatch(atr_hex=OTHER_ATR, reader="Some other reader"))
    default.expect(CardReaders)
    enrolled.expect(CardReaders)
    card = pcscd.insert(OTHER_ATR, reader=0)
    assert enrolled.expect(CardInserted) == CardInserted(READERS[0], hexatr(OTHER_ATR))
    harness.wait_for(lambda: ignored_card_seen(card_log, READERS[0]), timeout=5, what="the default watcher")
    barrier = pcscd.insert(CPS_ATR, reader=1)  # after it, the default watcher has seen reader 0
    default.expect(CardInserted, reader=READERS[1])
    pcscd.pull(card)
    enrolled.expect(CardRemoved, reader=READERS[0])
    pcscd.pull(barrier)
    default.expect(CardRemoved, reader=READERS[1])
    assert [e for e in default.seen + default.queued() if getattr(e, "reader", None) == READERS[0]] == []


def test_any_card_but_a_vitale_counts_in_the_enrolled_reader(pcscd, watches, card_log):
    watch = watches(CardMatch(reader=READERS[1]))
    watch.expect(CardReaders)
    vitale = pcscd.insert(VITALE_ATR, reader=1)
    harness.wait_for(lambda: ignored_card_seen(card_log, READERS[1]), timeout=5, what="the Vitale to be seen")
    elsewhere = pcscd.insert(OTHER_ATR, reader=0)
    harness.wait_for(lambda: ignored_card_seen(card_log, READERS[0]), timeout=5, what="the other reader")
    pcscd.pull(vitale)
    # A card swapped within one of pcscd's 400 ms polls of vpcd would keep the old ATR: swap slower.
    harness.wait_for(lambda: pcsc.card_in(READERS[1], None), timeout=5, what="the Vitale to go")
    pcscd.insert(OTHER_ATR, reader=1)
    assert watch.expect(CardInserted) == CardInserted(READERS[1], hexatr(OTHER_ATR))
    pcscd.pull(elsewhere)
    assert [type(e) for e in watch.seen + watch.queued()] == [CardReaders, CardInserted]


# --- Enrolment ----------------------------------------------------------------------------------

def test_enroll_reads_the_card_in_the_reader(pcscd):
    with pytest.raises(EnrollError) as empty:
        enroll()
    assert empty.value.reason.msgid.startswith("No card in the reader")
    vitale = pcscd.insert(VITALE_ATR, reader=1)
    harness.wait_for(lambda: pcsc.card_in(READERS[1], VITALE_ATR), timeout=5, what="the Vitale")
    with pytest.raises(EnrollError) as only_vitale:
        enroll()
    assert only_vitale.value.reason.msgid.startswith("This is a Carte Vitale")
    cps = pcscd.insert(CPS_ATR, reader=0)
    harness.wait_for(lambda: pcsc.card_in(READERS[0], CPS_ATR), timeout=5, what="the CPS")
    assert enroll() == (READERS[0], hexatr(CPS_ATR))  # the Vitale beside it is not a candidate
    pcscd.pull(vitale)
    # A card swapped within one of pcscd's 400 ms polls of vpcd would keep the old ATR: swap slower.
    harness.wait_for(lambda: pcsc.card_in(READERS[1], None), timeout=5, what="the Vitale to go")
    pcscd.insert(OTHER_ATR, reader=1)
    harness.wait_for(lambda: pcsc.card_in(READERS[1], OTHER_ATR), timeout=5, what="the other card")
    assert enroll() == (READERS[0], hexatr(CPS_ATR))  # a known CPS wins over an unknown card
    pcscd.pull(cps)
    harness.wait_for(lambda: pcsc.card_in(READERS[0], None), timeout=5, what="the CPS to go")
    assert enroll() == (READERS[1], hexatr(OTHER_ATR))  # a CPS3 with an unlisted ATR
    pcscd.insert(OTHER_ATR, reader=0)
    harness.wait_for(lambda: pcsc.card_in(READERS[0], OTHER_ATR), timeout=5, what="a second card")
    with pytest.raises(EnrollError) as two:
        enroll()
    assert two.value.reason.msgid.startswith("Several cards")


def test_enroll_waits_for_the_card_to_be_inserted(pcscd):
    outcome: dict = {}
    waiting = threading.Thread(target=lambda: outcome.update(card=enroll(wait_seconds=10)), daemon=True)
    started = time.monotonic()
    waiting.start()
    pcscd.insert(CPS_CONTACTLESS_ATR, reader=1)
    waiting.join(10)
    assert outcome == {"card": (READERS[1], hexatr(CPS_CONTACTLESS_ATR))}
    assert time.monotonic() - started < 5


# --- The service going away, or never there ---------------------------------------------------

@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_pcscd_stopped_and_restarted_while_the_watcher_waits(pcscd, watches, card_log, how):
    watch = watches()
    watch.expect(CardReaders)
    pcscd.insert(CPS_ATR, reader=0)
    watch.expect(CardInserted, reader=READERS[0])
    layer = watch.layer
    pcscd.kill(how)  # the virtual card goes with its reader
    assert isinstance(watch.expect(CardWatchLost).reason.msgid, str)
    lost_at, attempts_at_loss, waits_at_loss = time.monotonic(), layer.calls["establish"], layer.calls["wait"]
    _, cpu_at_loss = thread_counters(watch.thread)
    # Let the outage last through two back-off steps (1 s, then 2 s): a busy loop would be thousands.
    harness.wait_for(lambda: layer.calls["establish"] - attempts_at_loss >= 2, timeout=10, what="two retries")
    outage = time.monotonic() - lost_at
    assert outage >= 2.5, "retried faster than the back-off"
    assert layer.calls["establish"] - attempts_at_loss == 2
    assert layer.calls["wait"] == waits_at_loss  # no wait without a service
    assert thread_counters(watch.thread)[1] - cpu_at_loss < 0.1
    pcscd.start()
    watch.expect(CardWatchRestored, timeout=10)
    watch.expect(CardReaders, readers=READERS)
    # The card left with the old pcscd: the state is compared afresh, and it is gone.
    watch.expect(CardRemoved, reader=READERS[0])
    pcscd.insert(CPS_ATR, reader=1)
    watch.expect(CardInserted, reader=READERS[1], initial=False)
    assert [type(e) for e in watch.seen] == [CardReaders, CardInserted, CardWatchLost, CardWatchRestored,
                                             CardReaders, CardRemoved, CardInserted]
    assert logged(card_log, "smart-card service lost", logging.WARNING) == 1
    assert logged(card_log, "smart-card service back", logging.INFO) == 1
    assert sum(1 for r in card_log.records if r.name == LOGGER and r.levelno >= logging.WARNING) == 1


def test_no_pcscd_means_no_capability_and_no_error(tmp_path, watches, card_log):
    assert pcsc.running_pcscd() is None, "a pcscd runs on this machine: stop it for the card tests"
    found = probe()
    assert not found.available and found.reason.msgid == "The smart-card service is not running."
    assert probe().available is False
    with pytest.raises(EnrollError):
        enroll()
    watch = watches()
    daemon = pcsc.Pcscd(tmp_path / "pcscd")
    try:
        harness.wait_for(lambda: logged(card_log, "smart-card service unavailable") == 1, timeout=5,
                         what="the watcher's first attempt")
        assert watch.queued() == []
        daemon.start()  # the service appears later: the watcher finds it on its next try
        watch.expect(CardReaders, readers=READERS, timeout=10)
        assert probe().available
        assert [type(e) for e in watch.seen] == [CardReaders]  # nothing was lost: it never was there
        assert logged(card_log, "smart-card service", logging.WARNING) == 1
    finally:
        daemon.close()


def test_stop_during_the_back_off_is_prompt(watches):
    assert pcsc.running_pcscd() is None
    watch = watches()
    harness.wait_for(lambda: watch.layer.calls["establish"] >= 1, timeout=5, what="a first attempt")
    # watches' teardown asserts that stop() returns within 2 s and the thread is gone


def test_a_service_without_reader_gives_no_capability(tmp_path, watches):
    daemon = pcsc.Pcscd(tmp_path / "pcscd", readers=False)
    daemon.start()
    try:
        found = probe()
        assert not found.available and found.reason.msgid == "No smart-card reader is connected."
        watch = watches()
        watch.expect(CardReaders, readers=())
        with pytest.raises(EnrollError) as none:
            enroll()
        assert none.value.reason.msgid == "No smart-card reader is connected."
    finally:
        daemon.close()


def test_without_pyscard_there_is_no_capability(monkeypatch, card_log):
    monkeypatch.setitem(sys.modules, "smartcard", None)  # import smartcard raises ImportError
    found = probe()
    assert not found.available and found.reason.msgid.startswith("Smart-card support is not installed")
    events: list = []
    watcher = CardWatcher(events.append)
    watcher.run()  # returns at once
    assert events == []
    assert watcher.stop(timeout=0.5)


def test_the_wait_costs_nothing_and_stop_cancels_it(pcscd, watches):
    watch = watches()
    watch.expect(CardReaders)
    pcscd.insert(CPS_ATR, reader=0)
    watch.expect(CardInserted)
    harness.wait_for(lambda: settled(watch.thread), timeout=5, what="the watcher to block in its wait")
    waits = watch.layer.calls["wait"]
    switches, cpu = thread_counters(watch.thread)
    time.sleep(0.5)  # a measurement window, not a synchronisation (bench/cps_watch.py measures 30 s of it)
    assert thread_counters(watch.thread) == (switches, cpu)
    assert watch.layer.calls["wait"] == waits
    started = time.monotonic()
    assert watch.watcher.stop(timeout=2)
    assert time.monotonic() - started < 0.5
    watch.thread.join(1)
    assert not watch.thread.is_alive()


# --- Readers plugged in and out (no USB here: a service that follows pcsc-lite's rules) ---------

class FakeService:
    """The PC/SC calls the watcher makes, on readers that tests plug in and out. The test machines
    have no USB bus and pcscd only hot-plugs USB readers, so `\\\\?PnP?\\Notification` cannot fire
    for real there. Follows the PC/SC rules: a wait returns when a reader's state differs from the
    caller's (event counter in the high 16 bits), or when the reader count differs from the high
    word of the PnP entry's state (Windows; pcsc-lite compares with the count at the call's start)."""

    infinite = 0x7FFFFFFF

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.readers: dict[str, tuple[int, str]] = {}  # name -> (event counter, ATR or "")
        self.cancelled = False
        self.spin = False  # a broken service: the PnP entry always reports a change
        self.calls: Counter[str] = Counter()
        self.wait_starts: list[float] = []  # time.monotonic() of each get_status_change call

    def plug(self, name: str, atr: str = "") -> None:
        with self.changed:
            self.readers[name] = (1 if atr else 0, normalise_atr(atr))
            self.changed.notify_all()

    def unplug(self, name: str) -> None:
        with self.changed:
            del self.readers[name]
            self.changed.notify_all()

    def establish(self) -> int:
        self.calls["establish"] += 1
        return 1

    def release(self, context: int) -> None:
        pass

    def list_readers(self, context: int) -> list[str]:
        with self.changed:
            return list(self.readers)

    def cancel(self, context: int) -> None:
        with self.changed:
            self.cancelled = True
            self.changed.notify_all()

    def _state(self, name: str) -> tuple[int, str]:
        if name not in self.readers:
            return STATE_UNKNOWN, ""
        counter, atr = self.readers[name]
        return (counter << 16) | (STATE_PRESENT if atr else STATE_EMPTY), atr

    def get_status_change(self, context: int, timeout_ms: int, states: list[tuple[str, int]]) -> list[ReaderState]:
        self.calls["wait"] += 1
        self.wait_starts.append(time.monotonic())
        with self.changed:
            if any(name != PNP_READER and name not in self.readers for name, _ in states):
                raise PcscError("SCardGetStatusChange", E_UNKNOWN_READER)
            while True:
                result, any_change = [], False
                for name, current in states:
                    if name == PNP_READER:
                        event, atr = len(self.readers) << 16, ""
                        changed = self.spin or (current >> 16) != len(self.readers)
                    else:
                        event, atr = self._state(name)
                        changed = event != current
                    any_change |= changed
                    result.append(ReaderState(name, event | (STATE_CHANGED if changed else 0), atr))
                if any_change or timeout_ms == 0:
                    return result
                if self.cancelled:
                    self.cancelled = False
                    raise PcscError("SCardGetStatusChange", E_CANCELLED)
                self.changed.wait(timeout_ms / 1000)


def test_readers_plugged_in_and_out_are_followed(watches):
    service = FakeService()
    service.plug("Lecteur A")
    watch = watches(layer=service)
    watch.expect(CardReaders, readers=("Lecteur A",))
    service.plug("Lecteur bi-fente CPS", CPS_ATR)  # a reader plugged in with the card already in it
    watch.expect(CardReaders, readers=("Lecteur A", "Lecteur bi-fente CPS"))
    assert watch.expect(CardInserted) == CardInserted("Lecteur bi-fente CPS", hexatr(CPS_ATR), initial=False)
    service.unplug("Lecteur bi-fente CPS")  # the reader pulled out with the card: the card is gone
    assert watch.expect(CardRemoved) == CardRemoved("Lecteur bi-fente CPS", hexatr(CPS_ATR))
    watch.expect(CardReaders, readers=("Lecteur A",))
    service.unplug("Lecteur A")
    watch.expect(CardReaders, readers=())
    service.plug("Lecteur A", CPS_ATR)
    watch.expect(CardInserted, reader="Lecteur A")
    assert service.calls["establish"] == 1


def test_a_service_reporting_changes_without_pause_is_slowed_down(watches, card_log):
    service = FakeService()
    service.plug("Lecteur A")
    service.spin = True
    watch = watches(layer=service)
    watch.expect(CardReaders)
    harness.wait_for(lambda: logged(card_log, "without pause") == 1, timeout=5, what="the guard")
    waits = service.calls["wait"]
    harness.wait_for(lambda: service.calls["wait"] >= waits + 3, timeout=8, what="three more waits")
    # The pace read from the service's own clock (when the test noticed the log does not matter):
    paced = service.wait_starts[waits:waits + 3]
    assert all(later - earlier >= 0.9 for earlier, later in itertools.pairwise(paced)), paced  # one a second
    assert logged(card_log, "without pause") == 1
    service.spin = False  # the service behaves again: a blocking wait ends the slow pace
    service.plug("Lecteur B", CPS_ATR)
    watch.expect(CardInserted, reader="Lecteur B")


def test_card_match_rules():
    default = CardMatch()
    assert default.counts("any", CPS_ATR) and default.counts("any", CPS_CONTACTLESS_ATR)
    assert default.counts("any", "3BAC00402A001225006480820212009000")
    for atr in (VITALE_ATR, VITALE1_ATR, "3B751300004809EA9000", "3B751300004509FA9000", "3F652500A4096A9000",
                OTHER_ATR, ""):
        assert not default.counts("any", atr), atr
    enrolled = CardMatch(atr_hex=OTHER_ATR.lower(), reader="R1")
    assert enrolled.counts("R2", OTHER_ATR)  # the ATR counts in any reader (names change with the USB port)
    assert enrolled.counts("R1", "3B00")  # any card but a Vitale in the enrolled reader
    assert not enrolled.counts("R1", VITALE_ATR) and not enrolled.counts("R2", "3B00")


# --- Policy (pure) ------------------------------------------------------------------------------

class Clocks:
    def __init__(self, wall: datetime) -> None:
        self.mono = 1000.0
        self.wall = wall

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += timedelta(seconds=seconds)


def policy(clocks: Clocks, **settings) -> CardPolicy:
    return CardPolicy(CardPolicySettings(**settings), clock=lambda: clocks.mono, wall_clock=lambda: clocks.wall)


MORNING = datetime(2026, 11, 23, 9, 0)
R = "Lecteur CPS"


def kinds(decisions: list[CardDecision]) -> list[CardDecisionKind]:
    return [d.kind for d in decisions]


def test_policy_locks_at_once_when_the_card_is_pulled_out():
    clocks = Clocks(MORNING)
    rules = policy(clocks)
    assert rules.card_inserted(R) == []
    assert rules.card_removed(R) == [CardDecision(CardDecisionKind.LOCK_NOW, R)]
    assert rules.next_wakeup() is None


def test_policy_does_not_lock_a_locked_session_nor_when_switched_off():
    clocks = Clocks(MORNING)
    rules = policy(clocks)
    rules.card_inserted(R)
    rules.session_locked()
    assert rules.card_removed(R) == []
    off = policy(clocks, lock_on_removal=False)
    off.card_inserted(R)
    assert off.card_removed(R) == []


def test_policy_delayed_lock_happens_at_the_delay():
    clocks = Clocks(MORNING)
    rules = policy(clocks, lock_delay_seconds=5)
    rules.card_inserted(R)
    assert rules.card_removed(R) == [CardDecision(CardDecisionKind.LOCK_PENDING, R, 5.0)]
    clocks.advance(4.9)
    assert rules.tick() == []
    assert rules.next_wakeup() == pytest.approx(0.1)
    clocks.advance(0.1)
    assert rules.tick() == [CardDecision(CardDecisionKind.LOCK_NOW, R)]
    assert rules.tick() == [] and rules.next_wakeup() is None


def test_policy_delayed_lock_is_cancelled_when_the_card_comes_back():
    clocks = Clocks(MORNING)
    rules = policy(clocks, lock_delay_seconds=10)
    rules.card_inserted(R)
    rules.card_removed(R)
    clocks.advance(3)
    assert kinds(rules.card_inserted(R)) == [CardDecisionKind.LOCK_CANCELLED]
    clocks.advance(10)
    assert rules.tick() == []


def test_policy_delayed_lock_is_dropped_when_the_session_gets_locked_anyway():
    clocks = Clocks(MORNING)
    rules = policy(clocks, lock_delay_seconds=10)
    rules.card_inserted(R)
    rules.card_removed(R)
    clocks.advance(2)
    assert kinds(rules.session_locked()) == [CardDecisionKind.LOCK_CANCELLED]
    clocks.advance(10)
    assert rules.tick() == []


def test_policy_delay_is_kept_within_ten_seconds():
    clocks = Clocks(MORNING)
    assert policy(clocks, lock_delay_seconds=60).delay == 10
    assert policy(clocks, lock_delay_seconds=-3).delay == 0


def test_policy_reminds_on_return_when_the_card_stayed_in_while_locked():
    clocks = Clocks(MORNING)
    rules = policy(clocks)
    rules.card_inserted(R)
    rules.session_locked()
    clocks.advance(300)
    assert rules.user_active() == []  # input on the lock screen is not a return yet
    assert rules.session_unlocked() == [CardDecision(CardDecisionKind.REMIND_CARD_LEFT, R, 300.0)]
    clocks.advance(300)
    rules.session_locked()
    clocks.advance(10)  # a quick lock and back: not worth a reminder
    assert rules.session_unlocked() == []


def test_policy_reminds_on_return_when_the_card_stayed_in_while_idle():
    clocks = Clocks(MORNING)
    rules = policy(clocks)
    rules.card_inserted(R)
    rules.user_idle()
    clocks.advance(120)
    assert kinds(rules.user_active()) == [CardDecisionKind.REMIND_CARD_LEFT]
    assert policy(clocks, remind_on_return=False).user_active() == []


def test_policy_no_reminder_when_the_card_left_with_the_user():
    clocks = Clocks(MORNING)
    rules = policy(clocks)
    rules.card_inserted(R)
    assert kinds(rules.card_removed(R)) == [CardDecisionKind.LOCK_NOW]
    rules.session_locked()
    clocks.advance(600)
    assert rules.session_unlocked() == []
    rules.card_inserted(R)
    rules.session_locked()
    clocks.advance(600)
    rules.card_removed(R)  # taken away during the absence: nothing left in the reader on return
    assert rules.session_unlocked() == []


def test_policy_card_inserted_into_a_locked_computer_counts_as_left():
    clocks = Clocks(MORNING)
    rules = policy(clocks)
    rules.session_locked()
    rules.card_inserted(R)
    clocks.advance(120)
    assert kinds(rules.session_unlocked()) == [CardDecisionKind.REMIND_CARD_LEFT]


def test_policy_end_of_day_reminder_once_a_day():
    clocks = Clocks(MORNING)
    rules = policy(clocks, end_of_day=day_time(19, 0))
    assert rules.next_wakeup() is None  # no card, nothing to remind
    rules.card_inserted(R)
    assert rules.next_wakeup() == pytest.approx(10 * 3600)
    clocks.advance(10 * 3600 - 1)
    assert rules.tick() == []
    clocks.advance(1)
    assert rules.tick() == [CardDecision(CardDecisionKind.REMIND_END_OF_DAY, R)]
    clocks.advance(1800)
    assert rules.tick() == []
    assert rules.next_wakeup() == pytest.approx(24 * 3600 - 1800)
    clocks.advance(24 * 3600 - 1800)  # the card stayed in overnight and all the next day
    assert kinds(rules.tick()) == [CardDecisionKind.REMIND_END_OF_DAY]


def test_policy_end_of_day_reminder_after_a_sleep_and_not_for_evening_work():
    clocks = Clocks(MORNING)
    rules = policy(clocks, end_of_day=day_time(19, 0))
    rules.card_inserted(R)
    clocks.advance(12 * 3600)  # suspended over the hour: 21:00 at the first tick
    assert kinds(rules.tick()) == [CardDecisionKind.REMIND_END_OF_DAY]
    evening = policy(clocks, end_of_day=day_time(19, 0))
    evening.card_inserted(R)  # 21:00: evening work, not a card forgotten
    assert evening.tick() == []
    assert evening.next_wakeup() == pytest.approx(22 * 3600)
    assert policy(clocks, end_of_day=None).tick() == []


def test_an_enrolled_card_without_the_smart_card_service_is_a_warning():
    """A card is expected, the service is not running (none runs here): pulling the card out would
    lock nothing, so this is not OK. Without an enrolled card, there is nothing to say."""
    from vigie.check import CheckContext
    from vigie.config.schema import Config, CpsCard
    from vigie.events import Tick
    from vigie.features.cps_card.check import CpsCardCheck
    from vigie.i18n import render, translator
    from vigie.journal import Journal
    from vigie.model import Severity
    from vigie.platform import get_platform

    assert pcsc.running_pcscd() is None, "a pcscd runs on this machine: stop it for the card tests"

    def finding(settings: CpsCard):
        ctx = CheckContext(get_platform(), Config(cps_card=settings), Journal.in_memory(), clock=datetime.now)
        return CpsCardCheck().evaluate(Tick(), ctx)

    expected = finding(CpsCard(enrolled_atr=CPS_ATR))
    assert expected.severity == Severity.WARNING
    assert render(expected.title, translator("fr")) == "Votre carte CPS n’est pas surveillée."
    assert render(expected.detail, translator("fr")) == "Le service des cartes à puce ne fonctionne pas."
    assert finding(CpsCard()).severity == Severity.OK
