"""A real PC/SC world for the card tests: pcscd as a child process, vpcd virtual readers, virtual cards.

pcscd runs in the foreground with a reader.conf.d of its own (`-c`), so the test decides which
virtual readers exist: each vpcd entry gives two readers, "<name> 00 00" on TCP `port` and
"<name> 00 01" on `port + 1`. A virtual card is fake_smartcard.py connected to one of those ports;
killing it is the card being pulled out. See shared/notes/smartcard.md.

pcscd's socket is the system one (/run/pcscd/pcscd.comm): the client library has no other default,
and the code under test must use the default. So only one pcscd may run: start() refuses to run
beside another one rather than touching it.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import harness

RUN_DIR = Path("/run/pcscd")
PID_FILE = RUN_DIR / "pcscd.pid"
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
FAKE_CARD = Path(__file__).resolve().parent / "fake_smartcard.py"
BASE_PORT = 35963  # vpcd's usual port; the readers listen on 0.0.0.0, the cards connect to 127.0.0.1
READER_NAME = "Vigie Test"
READERS = (f"{READER_NAME} 00 00", f"{READER_NAME} 00 01")

# pcsc-tools' smartcard_list.txt
CPS_ATR = "3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00"
CPS_CONTACTLESS_ATR = "3B 8F 80 01 00 31 B8 64 04 B0 EC C1 73 94 01 80 82 90 00 0E"
VITALE_ATR = "3B 75 13 00 00 45 09 EA 90 00"
VITALE1_ATR = "3F 65 25 00 22 09 F9 90 00"
OTHER_ATR = "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A"  # a contactless storage card


def running_pcscd() -> int | None:
    """The pid in pcscd's pid file, if that process is alive."""
    try:
        pid = int(PID_FILE.read_text().strip(" \n\0"))  # pcscd writes "PID\n\0"
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def status(readers: tuple[str, ...] = READERS) -> dict[str, tuple[int, str]]:
    """What pcscd says of each reader now (state, ATR hex), through a context of the test's own."""
    from smartcard import scard

    hr, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hr != scard.SCARD_S_SUCCESS:
        raise RuntimeError(f"pcscd does not answer: 0x{hr & 0xFFFFFFFF:08X}")
    try:
        if not readers:
            return {}
        hr, result = scard.SCardGetStatusChange(context, 0, [(r, scard.SCARD_STATE_UNAWARE) for r in readers])
        if hr != scard.SCARD_S_SUCCESS:
            raise RuntimeError(f"SCardGetStatusChange: 0x{hr & 0xFFFFFFFF:08X}")
        return {name: (state, bytes(atr).hex().upper()) for name, state, atr in result}
    finally:
        scard.SCardReleaseContext(context)


def card_in(reader: str, atr: str | None) -> bool:
    """pcscd sees a card with this ATR in the reader (atr None: the reader is empty)."""
    from smartcard import scard

    state, seen = status((reader,))[reader]
    if atr is None:
        return bool(state & scard.SCARD_STATE_EMPTY)
    return bool(state & scard.SCARD_STATE_PRESENT) and seen == atr.replace(" ", "").upper()


class VirtualCard:
    """fake_smartcard.py in a vpcd reader: inserted when started, pulled out by pull()."""

    def __init__(self, atr: str, reader: int, apdu_log: Path) -> None:
        self.atr = atr
        self.reader = READERS[reader]
        self.proc = subprocess.Popen([sys.executable, str(FAKE_CARD), atr, str(BASE_PORT + reader), str(apdu_log)],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            if not selector.select(timeout=10):
                self.pull()
                raise TimeoutError(f"virtual card did not connect to {self.reader}")
        line = self.proc.stdout.readline()
        if not line.startswith("connected"):
            self.pull()
            raise RuntimeError(f"virtual card failed on {self.reader}: {line!r}")

    def pull(self) -> float:
        """Pull the card out; returns the monotonic time it happened."""
        pulled = time.monotonic()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=5)
        self.proc.stdout.close()
        return pulled


class Pcscd:
    """pcscd --foreground with our own readers; start(), kill() and restart at will, close() at the end."""

    def __init__(self, workdir: Path, readers: bool = True) -> None:
        self.workdir = workdir
        self.conf_dir = workdir / "reader.conf.d"
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        if readers:
            (self.conf_dir / "vigie-test").write_text(
                f'FRIENDLYNAME "{READER_NAME}"\nDEVICENAME /dev/null:0x{BASE_PORT:X}\n'
                f"LIBPATH {VPCD_DRIVER}\nCHANNELID 0x{BASE_PORT:X}\n")
        self.readers = READERS if readers else ()
        self.apdu_log = workdir / "apdus.log"
        self.proc: subprocess.Popen | None = None
        self.cards: list[VirtualCard] = []
        self.starts = 0

    def start(self) -> None:
        other = running_pcscd()
        if other is not None:
            try:
                command = Path(f"/proc/{other}/cmdline").read_text().replace("\0", " ").strip()
            except OSError:
                command = "?"
            raise RuntimeError(f"another pcscd runs (pid {other}: {command}): the card tests need their own")
        self.starts += 1
        log = (self.workdir / f"pcscd-{self.starts}.log").open("w")
        self.proc = subprocess.Popen(["pcscd", "--foreground", "--info", "-c", str(self.conf_dir)], stdout=log,
                                     stderr=subprocess.STDOUT)
        log.close()
        harness.wait_for(self._ready, timeout=10, what="pcscd")

    def _ready(self) -> bool:
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError("pcscd exited")
        if running_pcscd() != self.proc.pid:
            return False  # not ready, or another one answers on the socket
        if not self.readers:
            status(())  # only the service: no reader to wait for
            return True
        return tuple(status(self.readers)) == self.readers

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        """Stop the service under the watcher's feet (the virtual cards lose their reader too)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        for card in self.cards:
            card.pull()
        self.cards.clear()

    def insert(self, atr: str, reader: int = 0) -> VirtualCard:
        card = VirtualCard(atr, reader, self.apdu_log)
        self.cards.append(card)
        return card

    def pull(self, card: VirtualCard) -> float:
        self.cards.remove(card)
        return card.pull()

    def apdus(self) -> list[str]:
        """Every command APDU a virtual card received (Vigie must send none)."""
        return self.apdu_log.read_text().split() if self.apdu_log.exists() else []

    def close(self) -> None:
        self.kill(signal.SIGTERM)  # a clean stop removes /run/pcscd/pcscd.comm
