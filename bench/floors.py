"""Floors for issue 21: the simplest program doing the same job, run on the same desktop in the same
run as Vigie, so that a ratio to it holds on a loaded machine (bench/ratios.py prints the ratios).

- a bare pystray icon (AppIndicator): start → registered with the same StatusNotifierWatcher, and its USS
  at rest;
- a fresh Python + Tk window started by a watcher blocked in poll() on /proc/self/mountinfo: mount →
  window mapped (the floor of Vigie's design, a pop-up in a child process);
- a Tk window already running, withdrawn, shown from the same poll (the "window kept ready" design);
- a plain Tk window's USS (the floor of one open pop-up).

Each floor is a small script run with the venv's Python; the timing helpers are shared with ratios.py.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence

import psutil

FLOOR_PYSTRAY = """
import pystray
from PIL import Image
menu = pystray.Menu(pystray.MenuItem("Quitter", lambda icon, item: icon.stop()))
icon = pystray.Icon("floor", Image.new("RGBA", (64, 64), (128, 128, 128, 255)), "floor", menu)
def setup(icon):
    icon.visible = True
icon.run(setup=setup)
"""

TK_WINDOW = """
import tkinter as tk
root = tk.Tk(className="vigie-floor-tk")
tk.Label(root, text="Nouveau support USB").pack(padx=40, pady=40)
root.mainloop()
"""

# argv: mount point. A fresh Python + Tk child per insertion, ended at removal.
FLOOR_FRESH_WATCH = """
import select, subprocess, sys
mount_point = " " + sys.argv[1].replace(" ", "\\\\040") + " "
window = sys.argv[2]
child = None
with open("/proc/self/mountinfo") as table:
    table.read()
    poller = select.poll()
    poller.register(table, select.POLLPRI | select.POLLERR)
    print("ready", flush=True)
    while True:
        poller.poll()
        table.seek(0)
        present = mount_point in table.read()
        if present and child is None:
            child = subprocess.Popen([sys.executable, "-c", window])
        elif not present and child is not None:
            child.terminate()
            child.wait()
            child = None
"""

# argv: mount point. One Tk window made at start, withdrawn; shown at insertion, withdrawn at removal.
FLOOR_READY_WINDOW = """
import sys
import tkinter as tk
mount_point = " " + sys.argv[1].replace(" ", "\\\\040") + " "
root = tk.Tk(className="vigie-floor-ready")
tk.Label(root, text="Nouveau support USB").pack(padx=40, pady=40)
root.withdraw()
table = open("/proc/self/mountinfo")
table.read()
def changed(*_):
    table.seek(0)
    if mount_point in table.read():
        root.deiconify()
    else:
        root.withdraw()
root.tk.createfilehandler(table, tk.EXCEPTION, changed)
root.after(0, lambda: print("ready", flush=True))
root.mainloop()
"""


def python(script: str, *args: str, env: Mapping[str, str], **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *args], env=dict(env), **popen)


def registered_items(env: Mapping[str, str]) -> list[str]:
    """The StatusNotifierWatcher's registered items (gdbus: a C client, quick enough to poll)."""
    out = subprocess.run(["gdbus", "call", "--session", "--dest", "org.kde.StatusNotifierWatcher",
                          "--object-path", "/StatusNotifierWatcher", "--method", "org.freedesktop.DBus.Properties.Get",
                          "org.kde.StatusNotifierWatcher", "RegisteredStatusNotifierItems"],
                         env=dict(env), capture_output=True, text=True, timeout=10).stdout
    inside = out[out.find("[") + 1:out.rfind("]")]
    return [item.strip(" '") for item in inside.split(",") if item.strip(" '")]


def mapped(env: Mapping[str, str], classname: str) -> bool:
    out = subprocess.run(["xdotool", "search", "--onlyvisible", "--classname", classname], env=dict(env),
                         capture_output=True, text=True, timeout=10).stdout
    return bool(out.split())


def wait_until(predicate: Callable[[], object], timeout: float, what: str, pause: float = 0.002) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(pause)


def start_to_icon(env: Mapping[str, str], argv: Sequence[str]) -> tuple[float, subprocess.Popen]:
    """Seconds from spawning argv to a new item registered with the watcher; the process runs on."""
    wait_until(lambda: not registered_items(env), 20, "no item registered before the start")
    started = time.perf_counter()
    process = subprocess.Popen(list(argv), env=dict(env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: registered_items(env), 30, "the icon to register")
    return time.perf_counter() - started, process


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def uss_mb(pid: int) -> tuple[float, float]:
    memory = psutil.Process(pid).memory_full_info()
    return memory.uss / 2**20, memory.rss / 2**20


def figures(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median": statistics.median(ordered), "p95": ordered[max(0, round(0.95 * len(ordered)) - 1)],
            "min": ordered[0], "max": ordered[-1], "n": len(ordered)}


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
