"""Windows run as child processes (`vigie ui …`): Tk must not share a process with the tray's
GTK loop. Children are reaped as they exit and terminated when the agent stops.

A window prints "ready" on its stdout once SIGUSR1 brings it to the front; before that, the
signal's default action would end it, so a second click only raises a window that said so."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading

log = logging.getLogger(__name__)


def vigie_command(*args: str) -> list[str]:
    if getattr(sys, "frozen", False):  # the PyInstaller bundle is the vigie command itself
        return [sys.executable, *args]
    return [sys.executable, "-m", "vigie", *args]


class _Child:
    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.ready = threading.Event()

    def follow(self) -> None:
        """Reader thread: notes "ready", drains stdout, reaps the process when it exits."""
        for line in self.process.stdout or ():
            if line.strip() == "ready":
                self.ready.set()
        self.process.wait()


class ChildWindows:
    def __init__(self) -> None:
        self._children: dict[str, _Child] = {}
        self._lock = threading.Lock()

    def open(self, name: str, *args: str) -> None:
        """Open window `name` (`vigie ui NAME ARGS`), or bring it to the front if it is open."""
        with self._lock:
            child = self._children.get(name)
            if child is not None and child.process.poll() is None:
                if child.ready.is_set() and hasattr(signal, "SIGUSR1"):
                    child.process.send_signal(signal.SIGUSR1)
                return  # still starting: it will come up in front anyway
            try:
                process = subprocess.Popen(vigie_command("ui", name, *args), stdin=subprocess.DEVNULL,
                                           stdout=subprocess.PIPE, text=True)
            except OSError as exc:
                log.error("cannot open window %s: %s", name, exc)
                return
            child = self._children[name] = _Child(process)
        threading.Thread(target=child.follow, name=f"vigie-window-{name}", daemon=True).start()
        log.info("window %s opened (pid %s)", name, process.pid)

    def close_all(self, timeout: float = 3.0) -> None:
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
