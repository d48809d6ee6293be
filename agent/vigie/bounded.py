"""Run a call that may never return (D-Bus, keyring, notification daemons) with a time limit."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from vigie.errors import VigieError
from vigie.model import T

R = TypeVar("R")


class CallTimeout(VigieError):
    """The call did not return in time; it is left to finish (or not) on its own daemon thread.
    Callers usually say what did not answer with a reason of their own."""

    def __init__(self, log_detail: str) -> None:
        super().__init__(T("A part of this computer did not answer in time."), log_detail)


def bounded_call(function: Callable[[], R], timeout: float, name: str = "vigie-bounded") -> R:
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def worker() -> None:
        try:
            outcome["value"] = function()
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc
        finally:
            done.set()

    # A daemon thread: a call stuck for ever must not keep the process alive at exit.
    threading.Thread(target=worker, name=name, daemon=True).start()
    if not done.wait(timeout):
        raise CallTimeout(f"{name}: no answer in {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
