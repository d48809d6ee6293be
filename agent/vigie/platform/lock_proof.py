"""Proof that a lock happened: after asking for it, poll the OS's evidence for a short, bounded time.

A locker that exits 0 proves nothing (`true` does that). What counts is the OS or the desktop saying
the session is locked: a screen saver's GetActive, logind's LockedHint, the keyboard grab every X
locker holds, Windows' input desktop, macOS's CGSSessionScreenIsLocked. Each platform names its
probe; this module only waits on it. It blocks its caller (the engine's lock thread), never the engine.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

LOCK_PROOF_SECONDS = 2.0  # for each way of locking tried; the usual lock shows in 0.1–0.5 s
PROOF_POLL_SECONDS = 0.1
# The same evidence on two looks in a row: a keyboard grab held for an instant by something else
# (the tray menu just clicked, closing) is not a locker's.
CONFIRMATIONS = 2


def await_proof(probe: Callable[[], str | None], budget: float = LOCK_PROOF_SECONDS, *,
                gave_up: Callable[[], bool] = lambda: False, poll: float = PROOF_POLL_SECONDS,
                clock: Callable[[], float] = time.monotonic,
                sleep: Callable[[float], None] = time.sleep) -> str | None:
    """What `probe` saw once it saw the same thing CONFIRMATIONS times in a row, within `budget`
    seconds; None when it never did, or as soon as `gave_up()` (the locker exited with an error).
    A probe that raises counts as "nothing seen"."""
    deadline = clock() + budget
    seen, times, overtime = None, 0, False
    while True:
        try:
            proof = probe()
        except Exception as exc:  # each OS fails its own way; the budget still bounds the wait
            log.debug("lock proof probe: %s: %s", type(exc).__name__, exc)
            proof = None
        times = times + 1 if proof and proof == seen else (1 if proof else 0)
        seen = proof
        if times >= CONFIRMATIONS:
            return proof
        if gave_up():
            return None
        if clock() >= deadline:
            if times == 0 or overtime:
                return None
            overtime = True  # seen once just in time: one more look to confirm it
        sleep(poll)
