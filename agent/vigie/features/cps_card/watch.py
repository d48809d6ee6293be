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
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vigie.bounded import CallTimeout, bounded_call
from vigie.events import Event
from vigie.features.cps_card.events import CardInserted, CardReaders, CardRemoved, CardWatchLost, CardWatchRestored
from vigie.model import T, Text
from vigie.platform.base import NotSupported, PlatformError

log = logging.getLogger(__name__)

PNP_READER = "\\\\?PnP?\\Notification"
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
CALL_TIMEOUT = 5.0  # for the one-shot calls made outside the watcher thread (probe, enroll)
# A wait that returns this often without anything to report is a misbehaving service: slow down.
SPIN_WINDOW, SPIN_LIMIT, SPIN_PAUSE = 5.0, 50, 1.0

# PC/SC return codes (winscard.h; the same values on pcsc-lite, Windows and macOS).
S_SUCCESS = 0x00000000
E_CANCELLED = 0x80100002
E_INVALID_HANDLE = 0x80100003
E_UNKNOWN_READER = 0x80100009
E_TIMEOUT = 0x8010000A
F_COMM_ERROR = 0x80100013
E_NO_SERVICE = 0x8010001D
E_SERVICE_STOPPED = 0x8010001E
E_NO_READERS_AVAILABLE = 0x8010002E
CODE_NAMES = {
    E_CANCELLED: "SCARD_E_CANCELLED", E_INVALID_HANDLE: "SCARD_E_INVALID_HANDLE",
    E_UNKNOWN_READER: "SCARD_E_UNKNOWN_READER", E_TIMEOUT: "SCARD_E_TIMEOUT", F_COMM_ERROR: "SCARD_F_COMM_ERROR",
    E_NO_SERVICE: "SCARD_E_NO_SERVICE", E_SERVICE_STOPPED: "SCARD_E_SERVICE_STOPPED",
    E_NO_READERS_AVAILABLE: "SCARD_E_NO_READERS_AVAILABLE",
}

# Reader state bits (SCARD_STATE_*).
STATE_UNAWARE, STATE_IGNORE, STATE_CHANGED, STATE_UNKNOWN = 0x0000, 0x0001, 0x0002, 0x0004
STATE_UNAVAILABLE, STATE_EMPTY, STATE_PRESENT = 0x0008, 0x0010, 0x0020

# ATRs from pcsc-tools' smartcard_list.txt (see shared/notes/smartcard.md), as regular expressions over
# upper-case hex without spaces, matched from the start of the ATR.
CPS_ATRS = (
    r"3BAC00402A001225006480",  # contact CPS (older generation), both known variants
    r"3B8F80010031B86404B0ECC1739401808290000E",  # contactless CPS v3
)
VITALE_ATRS = (
    r"3B751300004[0-9A-F]09[EF]A9000",  # Carte Vitale 2
    r"3F652500[0-9A-F]{2}09[0-9A-F]{2}9000",  # Carte Vitale 1
)


# --- Which card counts ----------------------------------------------------------------------------

def normalise_atr(atr: str | bytes | list[int]) -> str:
    if isinstance(atr, str):
        return re.sub(r"[^0-9A-Fa-f]", "", atr).upper()
    return bytes(atr).hex().upper()


def is_vitale(atr_hex: str) -> bool:
    return any(re.match(p, normalise_atr(atr_hex)) for p in VITALE_ATRS)


def is_known_cps(atr_hex: str) -> bool:
    return any(re.match(p, normalise_atr(atr_hex)) for p in CPS_ATRS)


@dataclass(frozen=True)
class CardMatch:
    """Which card is the practitioner's card (what `vigie cps enroll` records).

    A card counts when it is not a Carte Vitale and either its ATR is the enrolled one (in any
    reader: reader names change with the USB port), or it sits in the enrolled reader (any card
    there: current CPS3 cards have no public ATR), or its ATR is a known CPS one (the default).
    """

    atr_hex: str = ""
    reader: str = ""

    def counts(self, reader: str, atr_hex: str) -> bool:
        atr = normalise_atr(atr_hex)
        if is_vitale(atr):
            return False
        if self.atr_hex and atr == normalise_atr(self.atr_hex):
            return True
        if self.reader and reader == self.reader:
            return True
        return is_known_cps(atr)


# --- The PC/SC layer: every pyscard call in one place ---------------------------------------------

class PcscError(Exception):
    """A PC/SC call failed; `code` is the SCARD_* return code (None: pyscard itself failed)."""

    def __init__(self, call: str, code: int | None, detail: str = "") -> None:
        self.call = call
        self.code = code
        name = CODE_NAMES.get(code, "") if code is not None else ""
        shown = f"{name} 0x{code:08X}".strip() if code is not None else detail
        super().__init__(f"{call}: {shown}")


@dataclass(frozen=True)
class ReaderState:
    reader: str
    state: int  # SCARD_STATE_* bits; the high 16 bits carry the reader's event counter
    atr_hex: str


class Pcsc:
    """Thin wrapper over pyscard's `smartcard.scard`: return codes become PcscError.

    Only presence calls exist here: nothing opens the card or sends it a command. A context must not be used by two
    threads at once, except SCardCancel, which PC/SC allows from another thread.
    """

    def __init__(self, scard: Any) -> None:
        self._scard = scard
        self.infinite = scard.INFINITE

    def establish(self) -> int:
        hr, context = self._call("SCardEstablishContext", self._scard.SCardEstablishContext,
                                 self._scard.SCARD_SCOPE_USER)
        self._check("SCardEstablishContext", hr)
        return context

    def release(self, context: int) -> None:
        # The context of a service that died cannot be released (its code is ignored): nothing is left.
        with contextlib.suppress(PcscError):
            self._call("SCardReleaseContext", self._scard.SCardReleaseContext, context)

    def list_readers(self, context: int) -> list[str]:
        hr, readers = self._call("SCardListReaders", self._scard.SCardListReaders, context, [])
        if _code(hr) == E_NO_READERS_AVAILABLE:
            return []
        self._check("SCardListReaders", hr)
        return list(readers or [])

    def get_status_change(self, context: int, timeout_ms: int, states: list[tuple[str, int]]) -> list[ReaderState]:
        hr, result = self._call("SCardGetStatusChange", self._scard.SCardGetStatusChange, context, timeout_ms,
                                states)
        self._check("SCardGetStatusChange", hr)
        return [ReaderState(name, state & 0xFFFFFFFF, normalise_atr(atr or [])) for name, state, atr in result]

    def cancel(self, context: int) -> None:
        hr = self._call("SCardCancel", self._scard.SCardCancel, context)
        self._check("SCardCancel", hr)

    @staticmethod
    def _call(name: str, function: Callable[..., Any], *args: Any) -> Any:
        try:
            return function(*args)
        except Exception as exc:  # pyscard raises its own errors on bad handles or types
            raise PcscError(name, None, f"{type(exc).__name__}: {exc}") from exc

    @staticmethod
    def _check(name: str, hr: int) -> None:
        if _code(hr) != S_SUCCESS:
            raise PcscError(name, _code(hr))


def _code(hr: int) -> int:
    return hr & 0xFFFFFFFF  # a LONG: negative on some builds, unsigned on others


def load_pcsc() -> Pcsc:
    """The PC/SC layer, or NotSupported when pyscard (or its PC/SC library) is not installed."""
    try:
        from smartcard import scard  # late: a computer without pyscard just has no card watch
    except (ImportError, OSError) as exc:  # pyscard missing, or the PC/SC library under it
        raise NotSupported(T("Smart-card support is not installed on this computer."), str(exc)) from exc
    return Pcsc(scard)


# --- One-shot calls: capability probe and enrolment ------------------------------------------------

@dataclass(frozen=True)
class CardProbe:
    available: bool
    readers: tuple[str, ...] = ()
    reason: Text | None = None  # why not available, for the status window
    log_detail: str = ""


def probe(timeout: float = CALL_TIMEOUT, pcsc: Pcsc | None = None) -> CardProbe:
    """Can this computer watch a card: pyscard, a running smart-card service and a reader?
    Never raises: a missing piece is an answer, not an error."""
    try:
        layer = pcsc or load_pcsc()
    except NotSupported as exc:
        return CardProbe(False, reason=exc.reason, log_detail=exc.log_detail)
    try:
        readers = bounded_call(lambda: _list_once(layer), timeout, name="vigie-pcsc-probe")
    except CallTimeout as exc:
        return CardProbe(False, reason=T("The smart-card service did not answer in time."), log_detail=str(exc))
    except PcscError as exc:
        return CardProbe(False, reason=T("The smart-card service is not running."), log_detail=str(exc))
    if not readers:
        return CardProbe(False, reason=T("No smart-card reader is connected."))
    return CardProbe(True, tuple(readers))


def cps_available(timeout: float = CALL_TIMEOUT) -> bool:
    return probe(timeout).available


def cards_present(timeout: float = CALL_TIMEOUT, pcsc: Pcsc | None = None) -> list[tuple[str, str]] | None:
    """(reader, ATR) of every card in a reader now, None when there is no reader. Presence only.
    Raise NotSupported (no pyscard) or EnrollError (service absent or hung) with a reason."""
    layer = pcsc or load_pcsc()
    try:
        return bounded_call(lambda: _cards_now(layer, 0.0), timeout, name="vigie-pcsc-cards")
    except CallTimeout as exc:
        raise EnrollError(T("The smart-card service did not answer in time."), str(exc)) from exc
    except PcscError as exc:
        raise EnrollError(T("The smart-card service is not running."), str(exc)) from exc


def _list_once(pcsc: Pcsc) -> list[str]:
    context = pcsc.establish()
    try:
        return pcsc.list_readers(context)
    finally:
        pcsc.release(context)


class EnrollError(PlatformError):
    """No single card to enrol; `reason` says what to do."""


def enroll(wait_seconds: float = 0.0, pcsc: Pcsc | None = None) -> tuple[str, str]:
    """(reader, ATR hex) of the card now in a reader, for `vigie cps enroll`; waits up to
    `wait_seconds` for one to be inserted. Reads presence and ATR only: nothing is sent to the card."""
    layer = pcsc or load_pcsc()
    try:
        cards = bounded_call(lambda: _cards_now(layer, wait_seconds), wait_seconds + CALL_TIMEOUT,
                             name="vigie-pcsc-enroll")
    except CallTimeout as exc:
        raise EnrollError(T("The smart-card service did not answer in time."), str(exc)) from exc
    except PcscError as exc:
        raise EnrollError(T("The smart-card service is not running."), str(exc)) from exc
    if cards is None:
        raise EnrollError(T("No smart-card reader is connected."))
    candidates = [(reader, atr) for reader, atr in cards if not is_vitale(atr)]
    if not candidates:
        if cards:
            raise EnrollError(T("This is a Carte Vitale: insert your CPS card instead."))
        raise EnrollError(T("No card in the reader: insert your CPS card, then try again."))
    known = [card for card in candidates if is_known_cps(card[1])]
    if len(known) == 1:
        return known[0]
    if len(candidates) > 1:
        raise EnrollError(T("Several cards are in the readers: leave only your CPS card, then try again."))
    return candidates[0]


def _cards_now(pcsc: Pcsc, wait_seconds: float) -> list[tuple[str, str]] | None:
    """Cards present as (reader, ATR); None when there is no reader at all."""
    context = pcsc.establish()
    try:
        readers = pcsc.list_readers(context)
        if not readers:
            return None
        deadline = time.monotonic() + wait_seconds
        states = [(reader, STATE_UNAWARE) for reader in readers]
        while True:
            result = pcsc.get_status_change(context, 0, states)
            cards = [(r.reader, r.atr_hex) for r in result if r.state & STATE_PRESENT]
            left = deadline - time.monotonic()
            if cards or left <= 0:
                return cards
            states = [(r.reader, r.state & ~STATE_CHANGED) for r in result]
            try:
                pcsc.get_status_change(context, max(1, int(left * 1000)), states)
            except PcscError as exc:
                if exc.code != E_TIMEOUT:
                    raise
    finally:
        pcsc.release(context)


# --- The watcher ----------------------------------------------------------------------------------

class _Cancelled(Exception):
    pass


class CardWatcher:
    def __init__(self, submit: Callable[[Event], None], match: CardMatch | None = None,
                 pcsc: Pcsc | None = None, backoff: tuple[float, float] = (BACKOFF_FIRST, BACKOFF_MAX),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.submit = submit
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
            self.submit(CardRemoved(gone, self._cards.pop(gone)))
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
            self.submit(CardRemoved(reader.reader, before))
        if counting and reader.reader not in self._cards:
            self._cards[reader.reader] = reader.atr_hex
            self.submit(CardInserted(reader.reader, reader.atr_hex, initial=initial))
        elif present and not counting and before is None:
            log.debug("card watch: a card that does not count is in %s (ATR %s)", reader.reader, reader.atr_hex)

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
