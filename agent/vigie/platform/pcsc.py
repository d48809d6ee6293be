"""PC/SC, the smart-card service (winscard on Windows, the PCSC framework on macOS, pcscd on Linux):
every pyscard call in one place, the same on every OS.

Presence and ATR only: nothing here opens a card or sends it a command (a test reads this module's
source to keep it so). A context must not be used by two threads at once, except SCardCancel, which
PC/SC allows from another thread.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vigie.bounded import CallTimeout, bounded_call
from vigie.model import T, Text
from vigie.platform.base import NotSupported, PlatformError, ToolTimeout

PNP_READER = "\\\\?PnP?\\Notification"
CALL_TIMEOUT = 5.0  # for the one-shot calls made outside the watcher thread (probe, present_cards)

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
NOT_RUNNING = T("The smart-card service is not running.")
NO_ANSWER = T("The smart-card service did not answer in time.")
NO_READER = T("No smart-card reader is connected.")


def normalise_atr(atr: str | bytes | list[int]) -> str:
    if isinstance(atr, str):
        return re.sub(r"[^0-9A-Fa-f]", "", atr).upper()
    return bytes(atr).hex().upper()


class PcscError(PlatformError):
    """A PC/SC call failed; `code` is the SCARD_* return code (None: pyscard itself failed)."""

    def __init__(self, call: str, code: int | None, detail: str = "") -> None:
        self.call = call
        self.code = code
        name = CODE_NAMES.get(code, "") if code is not None else ""
        shown = f"{name} 0x{code:08X}".strip() if code is not None else detail
        super().__init__(NOT_RUNNING, f"{call}: {shown}")


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
        if code_of(hr) == E_NO_READERS_AVAILABLE:
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
        if code_of(hr) != S_SUCCESS:
            raise PcscError(name, code_of(hr))


def code_of(hr: int) -> int:
    return hr & 0xFFFFFFFF  # a LONG: negative on some builds, unsigned on others


def load_pcsc() -> Pcsc:
    """The PC/SC layer, or NotSupported when pyscard (or its PC/SC library) is not installed."""
    try:
        from smartcard import scard  # late: a computer without pyscard just has no card watch
    except (ImportError, OSError) as exc:  # pyscard missing, or the PC/SC library under it
        raise NotSupported(T("Smart-card support is not installed on this computer."), str(exc)) from exc
    return Pcsc(scard)


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
        return CardProbe(False, reason=NO_ANSWER, log_detail=str(exc))
    except PcscError as exc:
        return CardProbe(False, reason=NOT_RUNNING, log_detail=str(exc))
    if not readers:
        return CardProbe(False, reason=NO_READER)
    return CardProbe(True, tuple(readers))


def present_cards(wait_seconds: float = 0.0, timeout: float = CALL_TIMEOUT,
                  pcsc: Pcsc | None = None) -> list[tuple[str, str]] | None:
    """(reader, ATR hex) of every card in a reader now, None when there is no reader at all; waits up
    to `wait_seconds` for a first card. Presence only. Raise NotSupported (no pyscard) or PcscError
    (service absent or hung), each with its reason."""
    layer = pcsc or load_pcsc()
    try:
        return bounded_call(lambda: _cards_now(layer, wait_seconds), wait_seconds + timeout,
                            name="vigie-pcsc-cards")
    except CallTimeout as exc:
        raise ToolTimeout(NO_ANSWER, str(exc)) from exc


def _list_once(pcsc: Pcsc) -> list[str]:
    context = pcsc.establish()
    try:
        return pcsc.list_readers(context)
    finally:
        pcsc.release(context)


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
