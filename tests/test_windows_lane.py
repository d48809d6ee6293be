"""The Windows lane: Vigie's Windows code, for real, under Wine, driven from the Linux test run (issue 17).

A real Windows CPython 3.11 with Vigie's locked Windows dependencies (tests/windows/setup-prefix.sh,
cached outside the clone) runs, in a private copy of the prefix with its own X display (tests/wine.py):
1. a Windows pytest of the tests meant for Windows (WINDOWS_TESTS), each file's result reported here;
2. end-to-end scenarios: `vigie check --json` on pipes under three ANSI code pages, settings through
   Credential Manager and through the agent's settings child, the agent's icon in Wine's notification
   area (its state, its French menu), the status window, the USB pop-up from a WM_DEVICECHANGE
   broadcast, a balloon drawn on screen, idle time following real X input, the installer's mutexes, one
   agent per session, Quit.

What Wine cannot do stays tested on captured outputs in the Linux lane (tests/fixtures, test_parsers.py,
test_os_updates.py, test_lock_policy.py...): Windows Update and PowerShell (Wine's powershell.exe prints
nothing), powercfg, wbadmin, Defender, WinRT toasts, LockWorkStation (Wine returns failure), sessions and
ACLs. shared/notes/windows-wine.md lists them.

Screenshots go to $VIGIE_WINE_SCREENSHOTS (default: the lane's temporary folder).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from defusedxml import ElementTree
from PIL import Image

import harness
import wine
from vigie.features.backup.repositories import RepositoryBusy  # noqa: F401 - a PlatformError a check may raise
from vigie.features.cps_card.cards import EnrollError  # noqa: F401 - idem
from vigie.model import Severity
from vigie.notify import BALLOON_SECONDS
from vigie.platform.base import PlatformError
from vigie.platform.pcsc import PcscError  # noqa: F401 - idem
from vigie.ui.colours import COLOURS

# Tests meant for Windows: parsers on captured outputs, other-OS code paths, every guard's unit
# tests, and tests/windows/ (Windows-only: tray, balloons, raising windows, the Run key).
WINDOWS_TESTS = [
    "tests/test_parsers.py", "tests/test_guards.py", "tests/test_engine.py", "tests/test_usb_other_os.py",
    "tests/test_usb_events_other_os.py", "tests/test_backup_os_sources.py", "tests/test_filenames.py",
    "tests/test_alerts_and_scheduler.py", "tests/test_icons.py",
    "tests/windows/test_tray_win32.py", "tests/windows/test_notify_win32.py",
    "tests/windows/test_windows_raise_win32.py", "tests/windows/test_autostart_win32.py",
    "tests/windows/test_settings_watch_win32.py", "tests/windows/test_platform_calls_win32.py",
]
LOCALES = {"fr_FR": "cp1252", "ru_RU": "cp1251", "ja_JP": "cp932"}  # Wine's ANSI code page follows LANG
WAIT = 180  # Wine on 2 cores shared with other test runs: generous bounds, never a fixed sleep
DEVCHANGE = wine.ROOT / "tests" / "windows" / "devchange.py"


@pytest.fixture(scope="module")
def win(tmp_path_factory: pytest.TempPathFactory) -> Iterator[wine.Wine]:
    template = wine.template_prefix()
    workdir = tmp_path_factory.mktemp("wine")
    running = wine.Wine(workdir, template)
    try:
        running.env["LOCPATH"] = str(_make_locales(workdir / "locales"))
        running.env["LANG"] = "fr_FR.UTF-8"  # a French Windows (ANSI code page 1252)
        running.start_display()
        yield running
    finally:
        running.close()


def _make_locales(folder: Path) -> Path:
    """glibc locales in a private folder (LOCPATH): Wine derives Windows' locale and code page from them."""
    folder.mkdir()
    for name in LOCALES:
        subprocess.run(["localedef", "-i", name, "-f", "UTF-8", str(folder / f"{name}.UTF-8")], check=True,
                       capture_output=True, timeout=120)
    return folder


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("VIGIE_WINE_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- 1. The Windows pytest ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def windows_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str, str, str]]]:
    """Run every Windows test once, in a Windows of their own (what a test leaves behind never reaches
    the agent's scenarios); per file: (test name, outcome, message)."""
    own = wine.Wine(tmp_path_factory.mktemp("wine-pytest"), wine.template_prefix())
    try:
        own.env["LOCPATH"] = str(_make_locales(own.workdir / "locales"))  # the same French Windows as `win`
        own.start_display()
        report = own.workdir / "windows-junit.xml"
        out = own.python("-m", "pytest", "-p", "no:cacheprovider", "-q", f"--junitxml={wine.win_path(report)}",
                         *WINDOWS_TESTS, timeout=1800)
    finally:
        own.close()
    if not report.exists():
        pytest.fail(f"the Windows pytest did not run (code {out.returncode}):\n"
                    f"{out.stdout.decode('utf-8', 'replace')[-4000:]}\n{out.stderr.decode('utf-8', 'replace')[-2000:]}")
    results: dict[str, list[tuple[str, str, str]]] = {}
    for case in ElementTree.parse(report).iter("testcase"):
        path = _test_file(case.get("classname", ""))
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome, message = child.tag, (child.get("message") or "") + "\n" + (child.text or "")
        results.setdefault(path, []).append((case.get("name", ""), outcome, message))
    return results


def _test_file(classname: str) -> str:
    """JUnit's classname is the module's dotted path, then the test class if any."""
    parts = classname.split(".")
    for end in range(len(parts), 0, -1):
        path = "/".join(parts[:end]) + ".py"
        if (wine.ROOT / path).is_file():
            return path
    return classname


@pytest.mark.parametrize("path", WINDOWS_TESTS)
def test_windows_pytest(windows_results, path: str) -> None:
    """Each file's tests, run by Windows' Python under Wine; every one listed here when one fails."""
    cases = windows_results.get(path, [])
    assert cases, f"no test of {path} ran on Windows"
    for name, outcome, _ in cases:
        print(f"windows: {path}::{name} {outcome}")
    bad = [f"{name}: {outcome}\n{message[-3000:]}" for name, outcome, message in cases
           if outcome in ("failure", "error")]
    assert not bad, "\n\n".join(bad)
    assert any(outcome == "passed" for _, outcome, _ in cases)


# --- 2. Vigie's commands, as an IT provider's tool or the agent runs them --------------------------

@pytest.mark.parametrize("locale_name", sorted(LOCALES))
def test_check_json_is_utf8_on_a_pipe_whatever_the_code_page(win: wine.Wine, locale_name: str) -> None:
    """Issue 17: piped or redirected, `vigie check --json` came out in the ANSI code page (cp1252 here;
    cp1251, cp932 elsewhere): an RMM reading UTF-8 JSON got mojibake, or nothing."""
    code_page = win.python("-c", "import locale; print(locale.getencoding())", env={"LANG": f"{locale_name}.UTF-8"})
    assert code_page.stdout.decode().strip() == LOCALES[locale_name]  # the code page really changed
    out = win.vigie("check", "--json", env={"LANG": f"{locale_name}.UTF-8"}, timeout=WAIT)
    document = json.loads(out.stdout.decode("utf-8"))  # strict: one byte of cp1252 fails here
    assert out.returncode == document["exit_code"]
    labels = {check["id"]: check["label"] for check in document["checks"]}
    assert labels["os_updates"] == "Mises à jour du système" and document["platform"] == "windows"
    # Every check ran its Windows code to an answer; unknown is one when Wine lacks the tool (a
    # PlatformError), but none died of an exception in Vigie's own code (CI saw sign_in's ctypes call
    # fail on a 64-bit handle, which no mocked test could).
    expected = {cls.__name__ for cls in _subclasses(PlatformError)}
    crashed = [(c["id"], c["facts"]["error"]) for c in document["checks"]
               if "error" in c["facts"] and c["facts"]["error"] not in expected]
    assert crashed == [], out.stderr.decode("utf-8", "replace")[-3000:]


def _subclasses(cls: type) -> Iterator[type]:
    yield cls
    for sub in cls.__subclasses__():
        yield from _subclasses(sub)


SETTING = "InfoSanté 35 🩺 « Cabinet »"  # accents, an emoji (outside the BMP), French quotes


def test_settings_round_trip_through_credential_manager_and_the_agents_child(win: wine.Wine) -> None:
    """`vigie config set/get` through CredWrite/CredRead, then the agent's own reading (in its process)
    and a `vigie config export` child over a pipe. Issue 17: « InfoSanté 35 » arrived as
    `InfoSant\\ufffd 35`, and an emoji crashed the child, so the agent ran on defaults blaming the keyring."""
    try:
        saved = win.vigie("config", "set", "contacts.it_provider_name", SETTING, timeout=WAIT)
        assert saved.returncode == 0, saved.stderr.decode("utf-8", "replace")
        assert SETTING in saved.stdout.decode("utf-8")
        read = win.vigie("config", "get", "contacts.it_provider_name", timeout=WAIT)
        assert read.stdout.decode("utf-8").strip() == SETTING
        stored = win.python("-c", "import keyring, sys; sys.stdout.buffer.write("
                            "keyring.get_password('Vigie', 'contacts').encode('utf-8'))", timeout=WAIT)
        assert json.loads(stored.stdout)["data"]["it_provider_name"] == SETTING  # in Credential Manager itself
        # The agent reads in its own process on Windows (load_config); `vigie config export` over a pipe
        # stays for IT tools and is read back the same.
        for reader in ("load_config()", "load_config_in_child(120)"):
            agent_view = win.python("-c", "import json, sys\nfrom vigie import app\n"
                                    f"loaded = app.{reader}\nsys.stdout.buffer.write(json.dumps("
                                    "[loaded.config.contacts.it_provider_name, loaded.read_only, "
                                    "[p.code for p in loaded.problems]]).encode())", timeout=WAIT)
            assert json.loads(agent_view.stdout) == [SETTING, False, []], \
                (reader, agent_view.stderr.decode("utf-8", "replace"))
    finally:
        win.vigie("config", "reset", "contacts", timeout=WAIT)


# --- 3. The agent on Wine's desktop ---------------------------------------------------------------

class Agent:
    def __init__(self, win: wine.Wine) -> None:
        self.win = win
        self.started = time.monotonic()
        self.process = win.start(wine.PYTHON, "-m", "vigie", "run")
        self.output: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        for line in self.process.stdout:
            self.output.append(line.decode("utf-8", "replace"))

    def wait_log(self, text: str, what: str, after: int = 0) -> str:
        try:
            return harness.wait_for(lambda: text in self.win.vigie_log()[after:] and self.win.vigie_log(), WAIT, what)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}\nVigie's log:\n{self.win.vigie_log()[-4000:]}\n"
                               f"its output:\n{''.join(self.output)[-3000:]}") from None


@pytest.fixture(scope="module")
def agent(win: wine.Wine) -> Iterator[Agent]:
    log = win.local_appdata / "Vigie" / "Logs" / "vigie.log"
    if log.exists():
        log.unlink()
    running = Agent(win)
    running.wait_log("tray visible", "the icon in Wine's notification area")
    running.visible_after = time.monotonic() - running.started
    # Under Wine no backup is known: orange at least, a state the test can tell from the grey « ? » of the
    # start; red once the slower checks have found no antivirus (Wine has none). The state can move on
    # between two tests: each reads it again from the status snapshot.
    harness.wait_for(lambda: _expected_state(_snapshot(win)) in (Severity.WARNING, Severity.CRITICAL), WAIT,
                     "the first checks' results (orange or red)")
    yield running
    harness.stop(running.process, timeout=30)


def _snapshot(win: wine.Wine) -> dict | None:
    """paths.status_snapshot(): platformdirs' runtime folder, %LOCALAPPDATA%\\Temp\\Vigie on Windows."""
    for path in win.local_appdata.rglob("status.json"):
        if path.parent.name == "Vigie":
            return json.loads(path.read_text(encoding="utf-8"))
    return None


def _tray_area(win: wine.Wine, path: Path) -> Image.Image:
    """The taskbar strip at the bottom of Wine's shell desktop, right half: the notification area."""
    image = Image.open(win.screenshot(path)).convert("RGB")
    width, height = image.size
    return image.crop((width // 2, height - 48, width, height))


def _pixels_of(image: Image.Image, rgb: tuple[int, int, int]) -> list[tuple[int, int]]:
    data = image.load()
    return [(x, y) for x in range(image.width) for y in range(image.height)
            if all(abs(a - b) <= 12 for a, b in zip(data[x, y], rgb, strict=True))]


def _expected_state(snapshot: dict) -> Severity:
    from vigie.app import overall_severity
    from vigie.model import Finding, T

    findings = {c["id"]: Finding(c["id"], Severity[c["severity"].upper()], T(c["title"])) for c in snapshot["checks"]}
    return overall_severity(findings)


BALLOON_PROBE = """
import sys, time
from pathlib import Path
from vigie import notify
from vigie.model import Severity
from vigie.ui.icons import draw_icon
png = Path(sys.argv[1])
draw_icon(128, Severity.WARNING).save(png)
balloon = notify.WindowsBalloonBackend({Severity.WARNING: png})
balloon.send(notify.Notification("Vigie : sauvegarde à vérifier", "Branchez le disque de sauvegarde.",
                                 Severity.WARNING))
print("accepted", flush=True)
time.sleep(notify.BALLOON_SECONDS)  # the balloon lives as long as its process
"""


def _balloon_pixels(win: wine.Wine, path: Path) -> int:
    """Near-white pixels above the notification area, where Wine's shell shows a balloon (white, about
    220 × 70 px) on the blue desktop; the taskbar strip is left out."""
    with Image.open(win.screenshot(path)) as screen:
        width, height = screen.size
        corner = screen.convert("L").crop((width - 520, height - 320, width, height - 24))
    return sum(1 for level in corner.tobytes() if level > 235)


def test_a_balloon_really_shows_on_screen(win, screenshots, tmp_path) -> None:
    """The log's « shown via windows-balloon » is only Shell_NotifyIconW's answer. Here, before the agent
    starts (its own balloons would stand in), Vigie's balloon code in a process of its own draws the
    balloon above the notification area while that process lives; the screenshot is kept to be looked at."""
    assert _balloon_pixels(win, tmp_path / "before.png") < 500  # nothing white there yet
    probe = win.start(wine.PYTHON, "-c", BALLOON_PROBE, wine.win_path(tmp_path / "warning.png"))
    try:
        assert probe.stdout.readline().decode("utf-8", "replace").strip() == "accepted"
        harness.wait_for(lambda: _balloon_pixels(win, tmp_path / "during.png") > 5_000, BALLOON_SECONDS,
                         "the balloon drawn")
        win.screenshot(screenshots / "balloon.png")
    finally:
        harness.stop(probe, timeout=30)


def test_the_agents_icon_shows_its_state_in_the_notification_area(win, agent, screenshots) -> None:
    """Issue 17: the first icon stayed grey « ? » while the state was orange (3 starts out of 3)."""
    def coloured() -> list:
        """The state's colour, and no grey « ? » left (a balloon's icon may share the state's colour)."""
        area = _tray_area(win, screenshots / "tray.png")
        icons = area.crop((area.width - 200, 0, area.width, area.height))  # left of it: taskbar buttons, grey-edged
        grey = _pixels_of(icons, COLOURS[Severity.UNKNOWN])
        return not grey and _pixels_of(area, COLOURS[_expected_state(_snapshot(win))])

    assert len(harness.wait_for(coloured, 60, "the icon of the agent's state in the notification area")) > 40
    print(f"start -> icon visible under Wine: {agent.visible_after:.1f} s")


def _icon_centre(win: wine.Wine, path: Path) -> tuple[int, int]:
    """The centre of Vigie's icon, once it is alone in the notification area (a balloon brings a second
    icon of the same colour for a few seconds). Its colour is the agent's state now, read from the status
    snapshot each time: a check may change it between two tests."""
    def alone() -> tuple[int, int] | None:
        image = Image.open(win.screenshot(path)).convert("RGB")
        width, height = image.size
        colour = COLOURS[_expected_state(_snapshot(win))]
        points = _pixels_of(image.crop((width // 2, height - 48, width, height)), colour)
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        if not points or max(xs) - min(xs) > 24:
            return None
        return width // 2 + (min(xs) + max(xs)) // 2, height - 48 + (min(ys) + max(ys)) // 2

    return harness.wait_for(alone, 90, "Vigie's icon alone in the notification area")


def test_the_french_menu_opens_the_status_window(win, agent, screenshots) -> None:
    """Right click on the icon: the menu (screenshot), then « État de la sécurité… » by the keyboard;
    the status window opens, in French."""
    from vigie.app import tray_entries
    from vigie.events import SHOW_STATUS
    from vigie.features import menus

    lines = _menu_opened_on_a_steady_state(win, screenshots)
    # The menu as built with no incident open (Wine keeps menus per process: another process cannot read
    # them). The Windows pytest runs in a Windows of its own, so none of its tests' incidents is here.
    # No item is selected (the pointer is on the frame): the first Up selects the last item, « Quitter ».
    # Above it, one line per problem (built when the menu opened), then the actions shown with no
    # incident open, from the last one up to « État de la sécurité… ».
    actions = [entry.action for entry in tray_entries(menus()) if entry.only_while is None]
    ups = 1 + lines + len(actions) - actions.index(SHOW_STATUS)
    print(f"problem lines in the menu: {lines}; Up {ups} times")
    harness.xdo(win.env, "key", *["Up"] * ups, "Return")
    window = harness.wait_for(lambda: harness.xdo(win.env, "search", "--name", "État de la sécurité").split(), WAIT,
                              "the status window")
    assert window
    seen: list[bytes] = []
    harness.wait_for(lambda: _drawn(win, "État de la sécurité", screenshots / "status-window.png", seen), WAIT,
                     "the status window's cards drawn")


def _menu_opened_on_a_steady_state(win: wine.Wine, screenshots: Path) -> int:
    """Open the menu (screenshots) and return its number of problem lines. The menu is built at the right
    click from the state of that moment, while the slower checks may still be coming in (the core starts
    once the icon shows): a line added between the click and the snapshot read made the keys land one item
    off (CI: 3 lines in the menu, 4 in the snapshot). The count is taken when the snapshot says the same
    before the click and after the menu opened; else the menu is closed and opened again."""
    for _attempt in range(5):
        before = _problem_lines(_snapshot(win))
        x, y = _open_menu(win, screenshots / "tray.png")
        _rest_on_the_menus_frame(win)
        win.screenshot(screenshots / "menu.png")
        lines = _problem_lines(_snapshot(win))
        if lines == before:
            return lines
        print(f"the state moved while the menu opened ({before} then {lines} problem lines): again")
        _close_menus(win, x, y)
    raise AssertionError("the problem lines kept changing while the menu opened")


def _problem_lines(snapshot: dict) -> int:
    from vigie.ui.tray import MAX_PROBLEM_LINES

    return min(MAX_PROBLEM_LINES, sum(c["severity"] in ("warning", "critical") for c in snapshot["checks"]))


def _drawn(win: wine.Wine, name: str, path: Path, seen: list[bytes]) -> bool:
    """The window of that title, drawn (text, icons: many colours) and settled (the same two screenshots
    in a row: Wine draws a card's text after its background). Wine may hold several X windows under one
    title: the largest visible one is the window."""
    boxes = []
    for window in harness.xdo(win.env, "search", "--onlyvisible", "--name", name).split():
        geometry = dict(line.split("=") for line in harness.xdo(win.env, "getwindowgeometry", "--shell",
                                                                window).split())
        boxes.append(tuple(int(geometry[k]) for k in ("X", "Y", "WIDTH", "HEIGHT")))
    if not boxes:
        return False
    x, y, w, h = max(boxes, key=lambda box: box[2] * box[3])
    with Image.open(win.screenshot(path)) as screen:
        area = screen.convert("RGB").crop((x, y, x + w, y + h))
    settled = bool(seen) and seen[-1] == area.tobytes()
    seen.append(area.tobytes())
    return settled and len(area.getcolors(maxcolors=100_000) or ()) > 20  # a blank window has 1 to 3


def _open_menu_on_quit(win: wine.Wine, screenshot: Path) -> None:
    """The menu opens up and left of the icon (in the bottom right corner), so the pointer moved 20 px
    up and left hovers the last item, « Quitter »."""
    x, y = _open_menu(win, screenshot)
    harness.xdo(win.env, "mousemove", str(x - 20), str(y - 20))


def _rest_on_the_menus_frame(win: wine.Wine) -> None:
    """Keys go to the X window under the pointer (Xvfb has no window manager): the pointer rests on the
    menu's top left frame pixel, where it hovers no item, and the keys wait until Windows has it there
    (Wine applies X motion late: keys sent too soon went elsewhere, or after a hover, one item off)."""
    left, top = (int(v) for v in win.python("-c", MENU_CORNER_PROBE, timeout=60).stdout.split())
    corner = (left + 1, top + 1)
    harness.xdo(win.env, "mousemove", *map(str, corner))
    harness.wait_for(lambda: _pointer(win) == corner, 60, f"Wine's pointer on the menu's frame at {corner}")


MENU_CORNER_PROBE = ("import ctypes, ctypes.wintypes as w; r = w.RECT(); u = ctypes.windll.user32; "
                     "u.GetWindowRect(u.FindWindowW('#32768', None), ctypes.byref(r)); print(r.left, r.top)")


def _open_menu(win: wine.Wine, screenshot: Path) -> tuple[int, int]:
    """Right click on Vigie's icon, until the menu is open; the icon's centre is returned.

    Wine applies X pointer motion late on a loaded machine: a click sent with the move can land where
    the pointer was before (CI saw the menu never open). So the click waits until Windows itself reports
    the pointer on the icon, and a right click that opened nothing is made again (a menu left open by an
    earlier attempt is closed first)."""
    for attempt in range(1, 4):
        x, y = _icon_centre(win, screenshot)
        _close_menus(win, x, y)
        harness.xdo(win.env, "mousemove", str(x), str(y))
        target = (x, y)
        harness.wait_for(lambda target=target: _pointer(win) == target, 60, f"Wine's pointer at {x},{y}")
        harness.xdo(win.env, "click", "3")
        try:
            harness.wait_for(lambda: _menu_open(win), 30, "the tray menu")
            break
        except TimeoutError:
            print(f"attempt {attempt}: no menu after a right click at {x},{y}")
            win.screenshot(screenshot.with_name(f"no-menu-{attempt}.png"))
    else:
        raise TimeoutError(f"the tray menu never opened in 3 right clicks\nVigie's log:\n{win.vigie_log()[-3000:]}")
    return x, y


POINTER_PROBE = ("import ctypes, ctypes.wintypes as w; p = w.POINT(); "
                 "ctypes.windll.user32.GetCursorPos(ctypes.byref(p)); print(p.x, p.y)")


def _pointer(win: wine.Wine) -> tuple[int, int]:
    x, y = win.python("-c", POINTER_PROBE, timeout=60).stdout.split()
    return int(x), int(y)


def _menu_open(win: wine.Wine) -> bool:
    out = win.python("-c", "import ctypes; print(bool(ctypes.windll.user32.FindWindowW('#32768', None)))", timeout=60)
    return out.stdout.strip() == b"True"


def _close_menus(win: wine.Wine, x: int, y: int) -> None:
    """A menu that opened late, after its attempt gave up: Escape sent over it (keys go to the window
    under the pointer); if it stays, a click on the empty desktop above the icon closes it, as on Windows."""
    if not _menu_open(win):
        return
    harness.xdo(win.env, "mousemove", str(x - 20), str(y - 20), "key", "Escape")
    try:
        harness.wait_for(lambda: not _menu_open(win), 20, "the old menu to close on Escape")
    except TimeoutError:
        harness.xdo(win.env, "mousemove", str(x - 400), "100", "click", "1")
        harness.wait_for(lambda: not _menu_open(win), 60, "the old menu to close on a click beside it")


def test_a_usb_stick_gets_its_popup(win, agent, screenshots, tmp_path) -> None:
    """Drive R: defined by Wine's mount manager (removable), then WM_DEVICECHANGE DBT_DEVICEARRIVAL
    broadcast (Wine 8 does not send it itself): Vigie's hidden window, its handling and the Tk pop-up
    are real. Pulling it out cannot be made under Wine 8 (tests/windows/devchange.py says why)."""
    stick = tmp_path / "stick"
    stick.mkdir()
    (stick / "facture.pdf").write_bytes(b"%PDF-1.4\n")
    before = len(win.vigie_log())
    out = win.python(str(wine.win_path(DEVCHANGE)), "arrive", "R", str(stick), timeout=WAIT)
    assert out.returncode == 0, out.stderr.decode("utf-8", "replace")
    agent.wait_log("pop-up for a new volume", "the USB pop-up", after=before)
    assert harness.wait_for(lambda: harness.xdo(win.env, "search", "--name", "Nouveau support USB").split(), WAIT,
                            "the pop-up on screen")
    seen: list[bytes] = []
    harness.wait_for(lambda: _drawn(win, "Nouveau support USB", screenshots / "usb-popup.png", seen), WAIT,
                     "the pop-up drawn")  # its closing with the stick gone: see devchange.py


IDLE_PROBE = """
import time
from vigie.platform.windows import WindowsPlatform
platform = WindowsPlatform()
print("ready", platform.idle_state().seconds, flush=True)
deadline = time.monotonic() + 60
first = platform.idle_state().seconds
while time.monotonic() < deadline:
    now = platform.idle_state().seconds
    if now + 0.5 < first:
        print("reset", first, now, flush=True)
        break
    first = max(first, now)
    time.sleep(0.1)
else:
    print("no-reset", first, flush=True)
"""


def test_idle_time_follows_real_x_input(win, agent, tmp_path) -> None:
    """GetLastInputInfo, as Vigie reads it, drops when the X pointer moves over Wine's desktop."""
    probe = tmp_path / "idle.py"
    probe.write_text(IDLE_PROBE, encoding="utf-8")
    process = win.start(wine.PYTHON, wine.win_path(probe))
    lines: list[str] = []

    def read() -> None:
        for line in process.stdout:
            lines.append(line.decode("utf-8", "replace").strip())

    threading.Thread(target=read, daemon=True).start()
    harness.wait_for(lambda: any(line.startswith("ready") for line in lines), WAIT, "the idle probe")
    for step in range(40):  # the pointer moves until Wine's idle clock has seen it (Wine applies motion late)
        harness.xdo(win.env, "mousemove", str(300 + 7 * step), str(300 + 3 * step))
        if any(line.startswith(("reset", "no-reset")) for line in lines):
            break
        time.sleep(0.25)
    harness.wait_for(lambda: any(line.startswith(("reset", "no-reset")) for line in lines), 90, "the verdict")
    assert any(line.startswith("reset") for line in lines), lines


MUTEX_PROBE = """
import ctypes
from vigie.platform.windows_mutex import MUTEX_NAMES
kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
for name in MUTEX_NAMES:
    handle = kernel32.OpenMutexW(0x00100000, False, name)  # SYNCHRONIZE: all Inno Setup's AppMutex asks
    print(name, bool(handle))
"""


def test_installer_mutexes_held_and_one_agent_per_session(win, agent) -> None:
    out = win.python("-c", MUTEX_PROBE, timeout=WAIT)
    assert out.stdout.decode().split() == ["VigieAgent", "True", "Global\\VigieAgent", "True"]
    second = win.vigie("run", timeout=WAIT)  # a second start, as a double click on the shortcut
    assert second.returncode == 0
    assert "déjà" in second.stdout.decode("utf-8")
    assert agent.process.poll() is None


def test_a_notification_reaches_the_notification_area(win, agent) -> None:
    """Toasts need WinRT, which Wine lacks: the agent's first notifications go to balloons (seen on screen in
    test_a_balloon_really_shows_on_screen), and its log says so."""
    log = win.vigie_log()
    if "notification shown via" not in log:
        harness.wait_for(lambda: "notification shown via" in win.vigie_log() or "notification not shown" in
                         win.vigie_log(), WAIT, "the first notification")
        log = win.vigie_log()
    assert "notification shown via windows-balloon" in log, re.findall(r".*notification.*", log)
    assert "balloon refused" not in log, re.findall(r".*balloon refused.*", log)  # none lost at start


def test_quit_from_the_tray_menu(win, agent, screenshots) -> None:
    _open_menu_on_quit(win, screenshots / "tray-before-quit.png")
    win.screenshot(screenshots / "menu-quit.png")
    # A click, not Return: with the pop-up and the status window open, Wine keeps the keyboard on them
    # (pystray's SetForegroundWindow of its hidden window does not take X's focus).
    harness.xdo(win.env, "click", "1")
    agent.wait_log("stopping", "the agent to stop")
    assert agent.process.wait(WAIT) == 0
    assert "agent stopped reason=quit" in win.vigie_log()

