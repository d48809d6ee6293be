"""The tray agent on a real desktop: icon, menu, lock, notifications, single instance, clean exit."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
from PIL import Image

import harness
from vigie.model import Severity
from vigie.ui.icons import COLOURS


def colour_pixels(image: Image.Image, colour: tuple[int, int, int], tolerance: int = 30) -> int:
    return sum(1 for p in image.convert("RGB").get_flattened_data()
               if all(abs(a - b) <= tolerance for a, b in zip(p, colour, strict=True)))


def test_appindicator_icon_shows_the_state_and_a_french_tooltip(desktop_env, start_agent, tmp_path):
    _, env = start_agent(desktop_env)
    harness.wait_for(lambda: harness.sni_menu(env, "title").stdout.strip() == "Vigie\u00a0: 2 points à vérifier",
                     what="the tooltip after the first check")
    labels = [label for label in harness.sni_menu(env, "labels").stdout.splitlines() if label]  # "" = separator
    assert labels == ["Verrouiller maintenant", "Vous pensez être victime d’une attaque\u00a0?", "État de la sécurité…",
                      "Vérifier maintenant", "Tester ma sauvegarde", "Assistant de démarrage…", "Réglages…",
                      # no « Reprendre… » without incident; then one line per problem (issue 18)
                      "Attention — Sauvegardes\u00a0: Vigie ne connaît aucune sauvegarde de ce poste.",
                      "Attention — Mises à jour du système\u00a0: 2 mises à jour attendent d’être installées.",
                      "Quitter"]
    shot = harness.screenshot(env, tmp_path / "sni.png")
    bar = Image.open(shot).crop((0, 768 - 40, 1024, 768))  # gtk-sni-tray sits at the bottom
    assert colour_pixels(bar, COLOURS[Severity.WARNING]) > 100  # the orange "!" shield


def test_lock_now_from_the_sni_menu_grabs_the_keyboard(desktop_env, start_agent):
    _, env = start_agent(desktop_env)
    assert not harness.screen_grabbed(env)
    assert harness.sni_menu(env, "click", "Verrouiller maintenant").returncode == 0
    harness.wait_for(lambda: harness.screen_grabbed(env), timeout=5, what="the locker's keyboard grab")
    harness.wait_for(lambda: "screen locked via i3lock" in harness.vigie_log(env), what="the lock to be logged")


def test_gtk_backend_docks_in_the_xembed_tray_and_its_menu_locks(desktop_env, start_agent, tmp_path):
    _, env = start_agent(desktop_env, backend="gtk")

    def icon():  # docked and sized by the tray (a fresh embed is 1 px wide for a moment)
        return next((w for w in harness.windows_of_class(env, "vigie")
                     if 16 <= w["HEIGHT"] <= 40 and 16 <= w["WIDTH"] <= 40 and w["Y"] < 40), None)

    def menu():
        return next((w for w in harness.windows_of_class(env, "vigie") if w["HEIGHT"] > 40), None)

    geometry = harness.wait_for(icon, what="the icon docked in trayer")
    harness.wait_for(lambda: "check=os_updates" in harness.vigie_log(env), what="the first check")

    def orange_pixels() -> int:  # the icon repaints once the tray draws it again
        crop = Image.open(harness.screenshot(env, tmp_path / "xembed.png")).crop(
            (geometry["X"], geometry["Y"], geometry["X"] + geometry["WIDTH"], geometry["Y"] + geometry["HEIGHT"]))
        return colour_pixels(crop, COLOURS[Severity.WARNING])

    harness.wait_for(lambda: orange_pixels() > 30, timeout=5, what="the orange icon in the tray")
    for _attempt in range(5):  # a click right after docking can be swallowed by the tray
        harness.xdo(env, "mousemove", str(geometry["X"] + geometry["WIDTH"] // 2),
                    str(geometry["Y"] + geometry["HEIGHT"] // 2), "click", "3")
        try:
            popup = harness.wait_for(menu, timeout=1.5, what="the menu")
            break
        except TimeoutError:
            continue
    harness.screenshot(env, tmp_path / "gtk-menu.png")
    harness.xdo(env, "mousemove", str(popup["X"] + popup["WIDTH"] // 2), str(popup["Y"] + 16), "click", "1")
    harness.wait_for(lambda: harness.screen_grabbed(env), timeout=5, what="the locker's keyboard grab")


def test_warning_notification_is_in_french(desktop_env, start_agent):
    _, env = start_agent(desktop_env)
    harness.wait_for(lambda: "notification shown via notification-server" in harness.vigie_log(env),
                     what="a notification")
    harness.wait_for(lambda: harness.vigie_log(env).count("notification shown via notification-server") == 2,
                     what="both warnings")
    history = harness.dunst_history(env)
    assert sorted((n["appname"], n["summary"]) for n in history) == [
        ("Vigie", "2 mises à jour attendent d’être installées."),
        ("Vigie", "Vigie ne connaît aucune sauvegarde de ce poste."),  # this test machine has no backup
    ]
    history = [n for n in history if n["summary"].startswith("2 mises")]
    # One way of speaking to the end: no « installez-la » then « installez-les » (issue 18).
    assert history[0]["body"] == ("1 d’entre elles corrige des failles de sécurité\u00a0: à installer sans tarder. "
                                  "Ouvrez le gestionnaire de mises à jour, installez tout ce qui attend, puis "
                                  "redémarrez si on vous le demande.")


def test_no_notification_server_falls_back_and_never_hangs(bare_desktop, start_agent):
    proc, env = start_agent(bare_desktop)
    harness.wait_for(lambda: "notification not shown" in harness.vigie_log(env), timeout=20,
                     what="every notification backend to be tried")
    log = harness.vigie_log(env)
    assert "notification via notification-server failed" in log
    assert "notification via plyer failed" in log
    # The agent is still responsive: Quit from the menu.
    assert harness.sni_menu(env, "click", "Quitter").returncode == 0
    assert proc.wait(10) == 0


def test_lock_failure_is_told_in_french(desktop_env, start_agent):
    _, env = start_agent(desktop_env, locker="")
    harness.wait_for(lambda: "notification shown" in harness.vigie_log(env), what="the first notification")
    harness.dunst_history(env)  # clear what the first check showed
    assert harness.sni_menu(env, "click", "Verrouiller maintenant").returncode == 0
    harness.wait_for(lambda: "lock failed" in harness.vigie_log(env), what="the lock attempt")
    history = harness.wait_for(lambda: [n for n in harness.dunst_history(env)
                                        if n["summary"] == "Vigie n’a pas pu verrouiller l’écran"], what="the alert")
    assert "Aucun moyen de verrouiller l’écran" in history[0]["body"]
    assert not harness.screen_grabbed(env)


def test_second_instance_says_so_and_exits_0(desktop_env, start_agent):
    _, env = start_agent(desktop_env)
    second = harness.run_vigie(env, timeout=30)
    assert second.returncode == 0
    assert "Vigie est déjà lancé" in second.stdout


def children_of(proc: subprocess.Popen) -> list[psutil.Process]:
    try:
        return psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def is_window(process: psutil.Process, name: str) -> bool:
    """A `vigie ui NAME …` child (the agent starts its windows that way, see ui/children.py)."""
    command = process.cmdline()
    return any(command[i:i + 2] == ["ui", name] for i in range(len(command) - 1))


def test_quit_closes_windows_and_leaves_no_process(desktop_env, start_agent):
    proc, env = start_agent(desktop_env)
    assert harness.sni_menu(env, "click", "État de la sécurité…").returncode == 0
    harness.wait_for(lambda: harness.windows_of_class(env, "vigie-status"), what="the status window")
    windows = children_of(proc)
    assert windows
    assert harness.sni_menu(env, "click", "Quitter").returncode == 0
    assert proc.wait(10) == 0
    _gone, alive = psutil.wait_procs(windows, timeout=5)
    assert alive == []
    assert not harness.windows_of_class(env, "vigie-status")


def test_sigterm_stops_every_thread_and_child(desktop_env, start_agent):
    proc, env = start_agent(desktop_env)
    assert harness.sni_menu(env, "click", "État de la sécurité…").returncode == 0
    harness.wait_for(lambda: harness.windows_of_class(env, "vigie-status"), what="the status window")
    windows = children_of(proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0
    _, alive = psutil.wait_procs(windows, timeout=5)
    assert alive == []
    assert "stopping" in harness.vigie_log(env)


def test_broken_session_bus_gives_a_french_message_not_a_hang(home_env, services, apt_config):
    env = dict(home_env, APT_CONFIG=apt_config, DBUS_SESSION_BUS_ADDRESS=f"unix:path={home_env['HOME']}/no-bus")
    env["DISPLAY"] = harness.start_xvfb(services, env)
    started = time.monotonic()
    result = harness.run_vigie(env, timeout=30)
    assert time.monotonic() - started < 20
    assert result.returncode == 1
    assert "Vigie ne peut pas afficher son icône" in result.stderr
    assert "vigie check" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_display_is_refused_in_french(home_env):
    result = harness.run_vigie(home_env, "run", timeout=30)
    assert result.returncode == 1
    assert "Vigie ne peut pas afficher son icône" in result.stderr


def test_a_second_click_raises_the_status_window_and_never_kills_it(desktop_env, start_agent):
    proc, env = start_agent(desktop_env)
    for _ in range(3):  # quick clicks, the first window still starting
        assert harness.sni_menu(env, "click", "État de la sécurité…").returncode == 0
    harness.wait_for(lambda: harness.windows_of_class(env, "vigie-status"), what="the status window")
    harness.wait_for(lambda: "window status opened" in harness.vigie_log(env), what="the window to be logged")
    assert harness.sni_menu(env, "click", "État de la sécurité…").returncode == 0  # once it is ready
    harness.wait_for(lambda: "window brought to the front" in harness.vigie_log(env), what="the raise")
    # Only the window children count: a check's own tool (blkid, apt) or the idle lock's locker may be
    # running beside them at that moment.
    windows = [child for child in children_of(proc) if is_window(child, "status")]
    assert len(windows) == 1 and windows[0].is_running()
    assert harness.vigie_log(env).count("window status opened") == 1


def test_the_notification_button_opens_the_status_window(desktop_env, start_agent):
    _, env = start_agent(desktop_env)
    harness.wait_for(lambda: "notification shown via notification-server" in harness.vigie_log(env),
                     what="the notification")
    harness.press_notification_button(env, "show_status")  # « Voir l’état »
    harness.wait_for(lambda: harness.windows_of_class(env, "vigie-status"), what="the status window")
    assert "window status opened" in harness.vigie_log(env)


def test_autostart_through_the_cli_in_french(home_env):
    enabled = harness.run_vigie(home_env, "autostart", "enable")
    assert enabled.returncode == 0
    assert "Vigie démarrera à chaque ouverture de session." in enabled.stdout
    entry = Path(home_env["XDG_CONFIG_HOME"]) / "autostart" / "vigie.desktop"
    assert subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, timeout=10).returncode == 0
    status = harness.run_vigie(home_env, "autostart", "status")
    assert f"Démarrage à l’ouverture de session\u00a0: activé ({entry})" in status.stdout
    disabled = harness.run_vigie(home_env, "autostart", "disable")
    assert "Vigie ne démarrera plus à l’ouverture de session." in disabled.stdout
    assert not entry.exists()


def test_the_always_on_agent_never_loads_the_keyring_stack(desktop_env, start_agent):
    proc, env = start_agent(desktop_env)
    harness.wait_for(lambda: "check=os_updates" in harness.vigie_log(env), what="the first check")
    maps = Path(f"/proc/{proc.pid}/maps").read_text()
    assert "/cryptography/hazmat/bindings/" not in maps  # (libcrypto itself comes with Python's hashlib)
    # ...yet the settings stored in the keyring reached it (read by `vigie config export`):
    assert harness.sni_menu(env, "click", "Verrouiller maintenant").returncode == 0
    harness.wait_for(lambda: "screen locked via i3lock" in harness.vigie_log(env), what="the configured locker")


def test_left_click_on_the_gtk_icon_locks(desktop_env, start_agent):
    _, env = start_agent(desktop_env, backend="gtk")
    icon = harness.wait_for(lambda: next((w for w in harness.windows_of_class(env, "vigie")
                                          if 16 <= w["HEIGHT"] <= 40 and w["Y"] < 40), None), what="the icon")
    for _attempt in range(5):  # a click right after docking can be swallowed by the tray
        harness.xdo(env, "mousemove", str(icon["X"] + icon["WIDTH"] // 2), str(icon["Y"] + icon["HEIGHT"] // 2),
                    "click", "1")
        try:
            harness.wait_for(lambda: harness.screen_grabbed(env), timeout=2, what="the locker's keyboard grab")
            break
        except TimeoutError:
            continue
    assert harness.screen_grabbed(env)
    assert "menu: lock_now" in harness.vigie_log(env)


def _snoozes(env) -> dict:
    import sqlite3

    db = sqlite3.connect(Path(env["XDG_DATA_HOME"]) / "Vigie" / "journal.sqlite3")
    try:
        row = db.execute("SELECT value FROM state WHERE key = 'snoozes'").fetchone()
        return json.loads(row[0]) if row else {}
    finally:
        db.close()


def test_later_on_a_warning_is_kept_across_a_restart_then_the_reminder_insists(desktop_env, start_agent):
    """Issue 18, point 7: « Plus tard » pressed on the real notification (dunst's action menu) puts the
    reminder off and is kept in the journal; once pressed as often as allowed, the reminder after a
    restart says so and stays on screen (urgency critical), though it is only a warning."""
    import sqlite3

    from vigie.snooze import MAX_SNOOZES

    proc, env = start_agent(desktop_env)
    harness.wait_for(lambda: harness.vigie_log(env).count("notification shown via notification-server") == 2,
                     what="both warnings")
    harness.press_notification_button(env, "snooze:os_updates")  # « Plus tard »
    harness.wait_for(lambda: f"check=os_updates reminder put off (1 of {MAX_SNOOZES})" in harness.vigie_log(env),
                     what="the reminder put off")
    assert _snoozes(env)["os_updates"]["count"] == 1
    harness.stop(proc)
    harness.dunst_history(env)  # what the first run showed goes to the history
    # As if pressed every time, and the time put off is over.
    db = sqlite3.connect(Path(env["XDG_DATA_HOME"]) / "Vigie" / "journal.sqlite3")
    with db:
        db.execute("UPDATE state SET value = ? WHERE key = 'snoozes'",
                   (json.dumps({"os_updates": {"count": MAX_SNOOZES, "until": "2000-01-01T00:00:00+00:00"}}),))
    db.close()
    start_agent(desktop_env)
    history = harness.wait_for(
        lambda: [n for n in harness.dunst_history(env) if n["body"].startswith("Déjà")] and harness.dunst_history(env),
        what="the insisting reminder")
    insisting = [n for n in history if n["summary"] == "2 mises à jour attendent d’être installées."
                 and n["body"].startswith("Déjà reporté 3\u00a0fois\u00a0: occupez-vous-en maintenant")]
    assert len(insisting) == 1
    # dunst's history keeps no urgency, but its timeout: 0 (stays until dismissed) is what urgency
    # critical gets; the backup warning, not put off, keeps the normal timeout.
    assert insisting[0]["timeout"] == 0
    backup = [n for n in history if n["summary"] == "Vigie ne connaît aucune sauvegarde de ce poste."]
    assert backup and all(n["timeout"] > 0 for n in backup)


def test_the_tray_menu_shows_one_line_per_problem_and_opens_the_status(desktop_env, start_agent):
    """Issue 18, point 2: with a tray host that draws no tooltip, the menu alone says what is wrong."""
    _, env = start_agent(desktop_env)
    updates = "Attention — Mises à jour du système\u00a0: 2 mises à jour attendent d’être installées."
    backups = "Attention — Sauvegardes\u00a0: Vigie ne connaît aucune sauvegarde de ce poste."

    def labels() -> list[str]:
        return harness.sni_menu(env, "labels").stdout.splitlines()

    shown = harness.wait_for(lambda: {updates, backups} <= set(labels()) and labels(), what="the problem lines")
    assert shown[0] == "Verrouiller maintenant"  # the actions first, then the problems, then « Quitter »
    assert shown.index(backups) < shown.index("Quitter")
    assert harness.sni_menu(env, "click", updates).returncode == 0
    harness.wait_for(lambda: harness.windows_of_class(env, "vigie-status"), what="the status window")


# Linux desktop only (test_icons.py also runs on the Windows lane): a real tray in its own process.
TRAY_PROBE = """
import sys, threading
from vigie.i18n import translator
from vigie.model import Severity
from vigie.ui.tray import Tray

tray = Tray(translator("fr"), [], on_action=print, on_quit=lambda: None)

def probe(backend):
    def work():
        pystray_icon = tray._icon  # the pystray.Icon: its image object tells whether it was drawn again
        tray.show(Severity.WARNING, "a")
        first = pystray_icon.icon
        tray.show(Severity.WARNING, "a")
        print("same state kept the image:", pystray_icon.icon is first)
        tray.show(Severity.WARNING, "b")
        print("new tooltip kept the image:", pystray_icon.icon is first, pystray_icon.title == "b")
        tray.show(Severity.OK, "b")
        print("new state drew it:", pystray_icon.icon is not first)
        tray.stop()
    threading.Thread(target=work).start()

tray.run(on_visible=probe)
"""


def test_the_tray_draws_the_icon_again_only_when_the_state_changes(bare_desktop):
    """A check run again with the same verdict must not redraw the icon (nor send it to the tray host)."""
    env = dict(bare_desktop, PYSTRAY_BACKEND="appindicator")
    out = subprocess.run([sys.executable, "-c", TRAY_PROBE], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.splitlines() == ["same state kept the image: True", "new tooltip kept the image: True True",
                                       "new state drew it: True"], out.stderr
