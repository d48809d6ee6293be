"""CPS card watch over PC/SC: CardInserted / CardRemoved when the practitioner's card comes and goes.

Threading rules: run() is the watcher thread's body (a daemon); stop() may be called from any thread.
The thread sleeps in SCardGetStatusChange with an infinite timeout on every reader plus the
`\\\\?PnP?\\Notification` pseudo-reader (readers plugged in or out), so it does not wake up at all
while nothing changes. stop() ends that wait with SCardCancel.

When the smart-card service goes away (pcscd stopped: SCARD_F_COMM_ERROR, then SCARD_E_NO_SERVICE
until it is back; any other PC/SC error is handled the same way) the watcher reconnects with a
doubling back-off, logging one line when the service is lost and one when it is back. Once back,
the cards are compared with those known before: a card that left meanwhile gives CardRemoved.

Never touches the card: only the reader states (presence and ATR) are read. This module has no
connect or transmit call at all, and the tests check that it stays so.

The smart-card service is one per machine: every session's Vigie sees every card. So each removal
says whether this session was the one in use at the console (`session_active`, asked of the OS on
this thread, never the engine's); the guard locks only that one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from vigie.bounded import CallTimeout, bounded_call
from vigie.events import Event
from vigie.features.cps_card.cards import CardMatch
from vigie.features.cps_card.events import CardInserted, CardReaders, CardRemoved, CardWatchLost, CardWatchRestored
from vigie.model import T
from vigie.platform.base import NotSupported
from vigie.platform.pcsc import (
    E_CANCELLED,
    E_TIMEOUT,
    E_UNKNOWN_READER,
    PNP_READER,
    STATE_CHANGED,
    STATE_IGNORE,
    STATE_PRESENT,
    STATE_UNAVAILABLE,
    STATE_UNAWARE,
    STATE_UNKNOWN,
    Pcsc,
    PcscError,
    ReaderState,
    load_pcsc,
)

log = logging.getLogger(__name__)

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
# A wait that returns this often without anything to report is a misbehaving service: slow down.
SPIN_WINDOW, SPIN_LIMIT, SPIN_PAUSE = 5.0, 50, 1.0


class _Cancelled(Exception):
    pass


class CardWatcher:
    def __init__(self, submit: Callable[[Event], None], match: CardMatch | None = None,
                 pcsc: Pcsc | None = None, backoff: tuple[float, float] = (BACKOFF_FIRST, BACKOFF_MAX),
                 clock: Callable[[], float] = time.monotonic,
                 session_active: Callable[[], bool | None] = lambda: None) -> None:
        self.submit = submit
        self.session_active = session_active
        self.match = match or CardMatch()
        self.clock = clock
        self._pcsc = pcsc
        self._backoff = backoff
        self._stop = threading.Event()
        self._started = threading.Event()
        self._done = threading.Event()
        self._lock = threading.Lock()  # guards _context between run() and stop()
        self._context: int | None = None
        self._states: dict[str, int] = {}  # reader -> last state seen (passed back as the current state)
        self._cards: dict[str, str] = {}  # reader -> ATR of the card that counts, while it is in there
        self._readers: tuple[str, ...] | None = None  # as last announced
        self._lost_at: float | None = None  # when the service went away (or was found missing at start)
        self._connected = False
        self._spins: list[float] = []
        self._throttled = False

    @property
    def cards(self) -> dict[str, str]:
        """Readers holding the CPS card now (reader -> ATR hex)."""
        return dict(self._cards)

    def run(self) -> None:
        self._started.set()
        try:
            try:
                pcsc = self._pcsc or load_pcsc()
            except NotSupported as exc:
                log.warning("card watch unavailable: %s", exc)
                return
            self._pcsc = pcsc
            delay = self._backoff[0]
            while not self._stop.is_set():
                self._connected = False
                try:
                    self._watch(pcsc)
                except _Cancelled:
                    break
                except PcscError as exc:
                    self._outage(exc)
                except Exception:  # a bug must not end the watch for the rest of the session
                    log.exception("card watch: unexpected error; starting again after a pause")
                if self._connected:
                    delay = self._backoff[0]  # it worked for a while: start the back-off afresh
                self._stop.wait(delay)
                delay = min(delay * 2, self._backoff[1])
        finally:
            self._done.set()
            log.info("card watch: stopped")

    def stop(self, timeout: float = 2.0) -> bool:
        """End the watch; True when run() has returned (or never started) within `timeout`."""
        self._stop.set()
        if not self._started.is_set():
            return True
        deadline = time.monotonic() + timeout
        while not self._done.is_set() and time.monotonic() < deadline:
            with self._lock:
                context = self._context
            if context is not None and self._pcsc is not None:
                # A cancel that lands just before the wait begins is lost: repeat until run() ends.
                self._cancel(self._pcsc, context, max(0.1, deadline - time.monotonic()))
            self._done.wait(min(0.1, max(0.0, deadline - time.monotonic())))
        return self._done.is_set()

    @staticmethod
    def _cancel(pcsc: Pcsc, context: int, timeout: float) -> None:
        try:
            bounded_call(lambda: pcsc.cancel(context), timeout, name="vigie-pcsc-cancel")
        except (CallTimeout, PcscError) as exc:
            log.debug("card watch: %s", exc)

    def _watch(self, pcsc: Pcsc) -> None:
        """One connection to the service: follow readers and cards until an error (or stop)."""
        context = pcsc.establish()
        with self._lock:
            self._context = context
        try:
            if self._stop.is_set():
                raise _Cancelled
            readers = pcsc.list_readers(context)
            self._connected = True
            if self._lost_at is not None:
                log.info("card watch: smart-card service %s after %.0f s",
                         "back" if self._readers is not None else "found", self.clock() - self._lost_at)
                if self._readers is not None:
                    self.submit(CardWatchRestored())
            self._set_readers(pcsc, context, readers, connected=True)
            self._lost_at = None
            while True:
                self._wait_once(pcsc, context)
        finally:
            with self._lock:
                self._context = None
            pcsc.release(context)

    def _wait_once(self, pcsc: Pcsc, context: int) -> None:
        if self._stop.is_set():
            raise _Cancelled
        wanted = [*self._states.items(), (PNP_READER, len(self._states) << 16)]
        started = self.clock()
        try:
            result = pcsc.get_status_change(context, pcsc.infinite, wanted)
        except PcscError as exc:
            if exc.code == E_CANCELLED and self._stop.is_set():
                raise _Cancelled from exc
            if exc.code == E_UNKNOWN_READER:  # a reader went away between the listing and the wait
                self._set_readers(pcsc, context, pcsc.list_readers(context))
            elif exc.code not in (E_CANCELLED, E_TIMEOUT):  # else: cancelled by another program, or 24 days
                raise
            self._pace(started)
            return
        relist = False
        for reader in result:
            if reader.reader == PNP_READER:
                relist = relist or bool(reader.state & STATE_CHANGED)
            elif reader.reader in self._states and reader.state & STATE_CHANGED:
                self._states[reader.reader] = reader.state & ~STATE_CHANGED
                relist = relist or bool(reader.state & (STATE_UNKNOWN | STATE_IGNORE))
                self._update_card(reader)
        if relist:
            self._set_readers(pcsc, context, pcsc.list_readers(context))
        self._pace(started)

    def _set_readers(self, pcsc: Pcsc, context: int, readers: list[str], connected: bool = False) -> None:
        """Follow this reader list: cards in readers that went away are removed, new readers are read."""
        for gone in set(self._cards) - set(readers):
            self._removed(gone, self._cards.pop(gone))
        if connected or tuple(readers) != self._readers:
            log.info("card watch: %d reader(s)", len(readers))
            self._readers = tuple(readers)
            self.submit(CardReaders(self._readers))
        # States of an earlier connection mean nothing to this one: every reader is read afresh then.
        self._states = {reader: STATE_UNAWARE if connected else self._states.get(reader, STATE_UNAWARE)
                        for reader in readers}
        fresh = [reader for reader, state in self._states.items() if state == STATE_UNAWARE]
        if not fresh:
            return
        try:
            result = pcsc.get_status_change(context, 0, [(reader, STATE_UNAWARE) for reader in fresh])
        except PcscError as exc:
            if exc.code != E_TIMEOUT:
                raise
            return  # left unaware: the next wait returns at once with their state
        for state in result:
            self._states[state.reader] = state.state & ~STATE_CHANGED
            self._update_card(state, initial=connected)

    def _update_card(self, reader: ReaderState, initial: bool = False) -> None:
        gone = bool(reader.state & (STATE_UNKNOWN | STATE_IGNORE))
        if reader.state & STATE_UNAVAILABLE and not gone:
            return  # the service cannot tell yet: keep what we knew
        present = bool(reader.state & STATE_PRESENT) and not gone
        counting = present and self.match.counts(reader.reader, reader.atr_hex)
        before = self._cards.get(reader.reader)
        if before is not None and (not counting or before != reader.atr_hex):
            del self._cards[reader.reader]
            self._removed(reader.reader, before)
        if counting and reader.reader not in self._cards:
            self._cards[reader.reader] = reader.atr_hex
            self.submit(CardInserted(reader.reader, reader.atr_hex, initial=initial))
        elif present and not counting and before is None:
            log.debug("card watch: a card that does not count is in %s (ATR %s)", reader.reader, reader.atr_hex)

    def _removed(self, reader: str, atr_hex: str) -> None:
        try:
            active = self.session_active()
        except Exception:  # a bug there must not hide the removal: today's behaviour (lock) then
            log.exception("card watch: is this session the active one?")
            active = None
        self.submit(CardRemoved(reader, atr_hex, session_active=active))

    def _outage(self, exc: PcscError) -> None:
        """The connection failed or could not be made: log once per outage, not once per attempt."""
        if self._lost_at is not None:
            log.debug("card watch: still unavailable: %s", exc)
            return
        self._lost_at = self.clock()
        if self._readers is None:
            log.warning("card watch: smart-card service unavailable (%s); waiting for it", exc)
        else:
            log.warning("card watch: smart-card service lost (%s); reconnecting with back-off", exc)
            self.submit(CardWatchLost(T("The smart-card service stopped: the CPS card is not watched until it "
                                        "is back.")))

    def _pace(self, wait_started: float) -> None:
        """Guard against a service whose wait returns at once for ever (a driver or service bug):
        after SPIN_LIMIT wake-ups within SPIN_WINDOW, one wait per SPIN_PAUSE until a wait blocks again."""
        now = self.clock()
        if now - wait_started >= SPIN_PAUSE:  # it blocked, as it should
            self._spins.clear()
            self._throttled = False
            return
        self._spins = [t for t in self._spins if now - t < SPIN_WINDOW]
        self._spins.append(now)
        if not self._throttled and len(self._spins) >= SPIN_LIMIT:
            log.warning("card watch: the smart-card service reports changes without pause; slowing down")
            self._throttled = True
        if self._throttled:
            self._stop.wait(SPIN_PAUSE)
