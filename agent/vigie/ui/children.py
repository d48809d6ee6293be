"""Windows run as child processes (`vigie ui …`): Tk must not share a process with the tray's
GTK loop. Children are reaped as they exit and terminated when the agent stops.

A window prints "ready" on its stdout once it can be brought to the front: SIGUSR1, or on Windows
(no SIGUSR1) a "raise" line on its stdin. Before "ready", SIGUSR1's default action would end it, so a
second click only raises a window that said so. Both pipes are UTF-8 on every OS (launch.utf8_streams)."""

from __future__ import annotations

import logging
import re
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where a child is started: the windows read RAISE from here, and need no subprocess
    import subprocess

log = logging.getLogger(__name__)
RAISE = "raise"  # agent -> window on its stdin: come to the front (Windows: no SIGUSR1)
ACTION = "action "  # window -> agent: "action feature:action", a button of the status window was clicked
_COMMAND = re.compile(r"[a-z][a-z0-9_]*:[a-z][a-z0-9_]*")


def asked_command(message: str) -> str | None:
    """The "feature:action" command an "action …" line asks for; None for anything else."""
    command = message.removeprefix(ACTION)
    return command if command != message and _COMMAND.fullmatch(command) else None


def vigie_command(*args: str) -> list[str]:
    if getattr(sys, "frozen", False):  # the PyInstaller bundle is the vigie command itself
        return [sys.executable, *args]
    return [sys.executable, "-m", "vigie", *args]


class _Child:
    def __init__(self, process: subprocess.Popen, on_message: Callable[[str], None] | None) -> None:
        self.process = process
        self.ready = threading.Event()
        self.on_message = on_message

    def bring_to_front(self) -> None:
        if hasattr(signal, "SIGUSR1"):
            self.process.send_signal(signal.SIGUSR1)
            return
        try:
            self.process.stdin.write(RAISE + "\n")
            self.process.stdin.flush()
        except (OSError, ValueError, AttributeError) as exc:  # it is closing
            log.info("cannot bring window pid %s to the front: %s", self.process.pid, exc)

    def follow(self) -> None:
        """Reader thread: notes "ready", hands other lines to on_message, reaps the process."""
        for line in self.process.stdout or ():
            message = line.strip()
            if message == "ready":
                self.ready.set()
            elif message and self.on_message:
                self.on_message(message)
        self.process.wait()


class ChildWindows:
    def __init__(self) -> None:
        self._children: dict[str, _Child] = {}
        self._lock = threading.Lock()

    def open(self, name: str, *args: str, window: str | None = None,
             on_message: Callable[[str], None] | None = None) -> None:
        """Open window `name` (`vigie ui WINDOW ARGS`, WINDOW defaulting to NAME), or bring it to
        the front if it is open. Lines it prints (other than "ready") go to on_message."""
        with self._lock:
            child = self._children.get(name)
            if child is not None and child.process.poll() is None:
                if child.ready.is_set():
                    child.bring_to_front()
                return  # still starting: it will come up in front anyway
            import subprocess

            try:
                process = subprocess.Popen(vigie_command("ui", window or name, *args), stdin=subprocess.PIPE,
                                           stdout=subprocess.PIPE, text=True, encoding="utf-8", errors="replace")
            except OSError as exc:
                log.error("cannot open window %s: %s", name, exc)
                return
            child = self._children[name] = _Child(process, on_message)
        threading.Thread(target=child.follow, name=f"vigie-window-{name}", daemon=True).start()
        log.info("window %s opened (pid %s)", name, process.pid)

    def close(self, name: str) -> None:
        """Close window `name` if it is open (e.g. its USB drive was pulled out)."""
        with self._lock:
            child = self._children.pop(name, None)
        if child is not None and child.process.poll() is None:
            child.process.terminate()

    def count_open(self, prefix: str) -> int:
        with self._lock:
            return sum(1 for n, c in self._children.items() if n.startswith(prefix) and c.process.poll() is None)

    def close_all(self, timeout: float = 3.0) -> None:
        import subprocess

        with self._lock:
            children = [child.process for child in self._children.values()]
            self._children.clear()
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
