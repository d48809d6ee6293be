"""lock_policy: does the computer lock itself when left alone?

GNOME is read for real with gsettings (keyfile backend in a private XDG tree), KDE from real
kscreenlockerrc files; Windows and macOS parsing runs on captured outputs in tests/fixtures/ (each
names its source in its `# SOURCE:` header), with only the small OS-call functions replaced.
Samples written here inline are marked CONSTRUCTED.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

import harness
from fixture_files import load_fixture
from vigie.check import CheckContext
from vigie.config.schema import Config, LockPolicySettings
from vigie.events import Tick
from vigie.features.idle_lock.lock_policy import LockPolicyCheck
from vigie.i18n import render, translator
from vigie.journal import Journal
from vigie.model import Severity
from vigie.platform import macos, parsers, windows
from vigie.platform.base import LockPolicy, NotSupported, PlatformError, ToolFailed, ToolMissing
from vigie.platform.linux import LinuxPlatform, desktop_family, gnome_lock_after, kde_lock_after
from vigie.platform.macos import MacPlatform
from vigie.platform.windows import WindowsPlatform

EN = translator("en")
SESSION = "org.gnome.desktop.session"
SCREENSAVER = "org.gnome.desktop.screensaver"
LOCKDOWN = "org.gnome.desktop.lockdown"


def flat(text: str) -> str:
    """Table output with its wrapping undone."""
    return " ".join(text.split())


def use_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """Make the test process's environment exactly `env`."""
    for name in set(os.environ) - set(env):
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def lock_policy_finding(env: dict[str, str], *args: str) -> dict:
    result = harness.run_vigie(env, "check", "--json", *args)
    assert result.returncode in (1, 3), result.stderr  # os_updates warns; lock_policy may be unknown
    (finding,) = [c for c in json.loads(result.stdout)["checks"] if c["id"] == "lock_policy"]
    return finding


# --- GNOME, for real -----------------------------------------------------------------------------
@pytest.fixture
def gnome_env(tmp_path: Path, apt_config: str) -> dict[str, str]:
    env = harness.isolated_env(tmp_path)
    # keyfile: values live in $XDG_CONFIG_HOME/glib-2.0/settings/keyfile, no dconf daemon needed.
    env.update(GSETTINGS_BACKEND="keyfile", XDG_CURRENT_DESKTOP="ubuntu:GNOME", APT_CONFIG=apt_config)
    out = subprocess.run(["gsettings", "list-keys", SCREENSAVER], env=env, capture_output=True, text=True, timeout=10)
    assert "lock-enabled" in out.stdout.split(), "install gsettings-desktop-schemas (setup-dev.sh TEST_PKGS)"
    return env


def gsettings_set(env: dict[str, str], schema: str, key: str, value: str) -> None:
    subprocess.run(["gsettings", "set", schema, key, value], env=env, check=True, timeout=10)


@pytest.mark.parametrize(
    ("settings", "lock_after", "severity"),
    [
        ([], 300, "ok"),  # GNOME's defaults: blank after 5 min, lock at once
        ([(SCREENSAVER, "lock-enabled", "false")], None, "warning"),
        ([(SESSION, "idle-delay", "0")], None, "warning"),  # the screen never blanks
        ([(SESSION, "idle-delay", "1800")], 1800, "warning"),  # more than 15 minutes
        ([(SESSION, "idle-delay", "600"), (SCREENSAVER, "lock-delay", "120")], 720, "ok"),
        ([(SESSION, "idle-delay", "900"), (SCREENSAVER, "lock-delay", "30")], 930, "warning"),
        ([(LOCKDOWN, "disable-lock-screen", "true")], None, "warning"),  # locking forbidden
    ],
)
def test_gnome_settings_set_with_gsettings(gnome_env, monkeypatch, settings, lock_after, severity):
    for schema, key, value in settings:
        gsettings_set(gnome_env, schema, key, value)
    keyfile = Path(gnome_env["XDG_CONFIG_HOME"]) / "glib-2.0" / "settings" / "keyfile"
    assert all(f"{key}={value}" in keyfile.read_text() for _, key, value in settings)

    use_env(monkeypatch, gnome_env)
    policy = LinuxPlatform().lock_policy()
    assert (policy.source, policy.lock_after_seconds) == ("gnome", lock_after)

    finding = lock_policy_finding(gnome_env)
    assert finding["severity"] == severity
    assert finding["facts"] == {"source": "gnome", "lock_after_seconds": lock_after, "max_seconds": 900,
                                "detail": policy.detail}


def test_gnome_detail_names_what_was_read(gnome_env, monkeypatch):
    gsettings_set(gnome_env, SESSION, "idle-delay", "240")
    use_env(monkeypatch, gnome_env)
    assert LinuxPlatform().lock_policy().detail == (
        "idle-delay=240 lock-enabled=true lock-delay=0 disable-lock-screen=false")


def test_gnome_warning_shows_the_fix_in_the_table(gnome_env):
    gsettings_set(gnome_env, SCREENSAVER, "lock-enabled", "false")
    result = harness.run_vigie(gnome_env, "check", "--lang", "en")
    assert result.returncode == 1, result.stderr
    shown = flat(result.stdout)
    assert "This computer never locks itself when left alone." in shown
    assert "Anyone passing by can use it while you are away. It should lock itself within 15 minutes." in shown
    assert ("→ Open Settings › Privacy › Screen: set “Blank Screen Delay” to 10 minutes and turn on "
            "“Automatic Screen Lock”, with its delay set to “Screen Turns Off”.") in shown
    french = flat(harness.run_vigie(gnome_env, "check").stdout)
    assert "Laissé seul, ce poste ne se verrouille jamais de lui-même." in french
    # (flat() folds every space, the no-break ones of French typography too)
    assert "→ Ouvrez Paramètres › Confidentialité › Écran : réglez « Délai d’extinction de l’écran » sur 10 minutes" \
        in french


def test_a_missing_gnome_schema_is_unknown_not_a_crash(gnome_env, monkeypatch, tmp_path):
    empty = tmp_path / "schemas"
    empty.mkdir()
    env = dict(gnome_env, GSETTINGS_SCHEMA_DIR=str(empty), XDG_DATA_DIRS=str(empty))
    use_env(monkeypatch, env)
    with pytest.raises(ToolFailed) as caught:
        LinuxPlatform().lock_policy()
    assert caught.value.reason.params["tool"] == "gsettings"
    assert lock_policy_finding(env)["severity"] == "unknown"


# --- KDE, from real kscreenlockerrc files ----------------------------------------------------------
@pytest.fixture
def kde_env(home_env: dict[str, str], apt_config: str) -> dict[str, str]:
    return dict(home_env, XDG_CURRENT_DESKTOP="KDE", APT_CONFIG=apt_config)


def write_kscreenlockerrc(env: dict[str, str], text: str) -> None:
    config = Path(env["XDG_CONFIG_HOME"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "kscreenlockerrc").write_text(text)


@pytest.mark.parametrize(
    ("rc", "lock_after"),
    [
        (None, 305),  # no file: KDE's defaults, 5 minutes + 5 s of grace
        ("[Daemon]\nAutolock=false\n", None),
        ("[Daemon]\nTimeout=30\n", 1805),
        ("[Daemon]\nTimeout=10\nLockGrace=60\n", 660),
        ("[Daemon]\nAutolock[$i]=false\n", None),  # locked by the administrator (KDE kiosk)
        ("[Daemon]\nautolock=false\ntimeout=30\n", 305),  # KDE keys are case-sensitive: ignored
        ("[Greeter][Wallpaper][org.kde.image][General]\nImage=/x.png\n\n[Daemon]\nTimeout=15\nLockGrace=0\n", 900),
    ],
)
def test_kde_kscreenlockerrc(kde_env, monkeypatch, rc, lock_after):
    if rc is not None:
        write_kscreenlockerrc(kde_env, rc)
    use_env(monkeypatch, kde_env)
    policy = LinuxPlatform().lock_policy()
    assert (policy.source, policy.lock_after_seconds) == ("kde", lock_after)


def test_kde_check_json_and_fix(kde_env):
    write_kscreenlockerrc(kde_env, "[Daemon]\nTimeout=30\n")
    finding = lock_policy_finding(kde_env, "--lang", "en")
    assert finding["severity"] == "warning"
    assert finding["facts"]["lock_after_seconds"] == 1805
    assert finding["title"] == "This computer waits 31 minutes before locking itself."
    assert finding["fix"] == ("Open System Settings › Screen Locking: tick “Lock screen automatically” and "
                              "choose 10 minutes.")


def test_kde_defaults_without_a_file_are_ok(kde_env):
    finding = lock_policy_finding(kde_env)
    assert finding["severity"] == "ok"
    assert finding["facts"]["detail"] == "Autolock=true Timeout=5 LockGrace=5 (no kscreenlockerrc: KDE defaults)"


@pytest.mark.parametrize(
    ("xdg", "family"),
    [("GNOME", "gnome"), ("ubuntu:GNOME", "gnome"), ("Unity", "gnome"), ("KDE", "kde"), ("XFCE", None),
     ("X-Cinnamon", None), ("", None)],
)
def test_desktop_family(xdg, family):
    assert desktop_family(xdg) == family


def test_unknown_desktop_is_unknown_with_the_reason(home_env, apt_config, monkeypatch):
    env = dict(home_env, XDG_CURRENT_DESKTOP="X-Cinnamon", APT_CONFIG=apt_config)
    use_env(monkeypatch, env)
    with pytest.raises(NotSupported):
        LinuxPlatform().lock_policy()
    finding = lock_policy_finding(env, "--lang", "en")
    assert finding["severity"] == "unknown"
    assert finding["title"] == "Vigie could not read when this computer locks itself."
    assert finding["detail"] == "This desktop's automatic lock setting cannot be read."
    assert finding["facts"] == {"error": "NotSupported", "max_seconds": 900}
    french = lock_policy_finding(env)
    assert french["detail"] == "Vigie ne sait pas lire le réglage de verrouillage automatique de ce bureau."


def test_linux_combination_rules():
    assert gnome_lock_after(300, True, 0) == 300
    assert gnome_lock_after(300, True, 0, lock_disabled=True) is None
    assert kde_lock_after(True, 0, 5) is None  # a zero timeout never fires
    assert kde_lock_after(True, 1, -3) == 60


# --- the check's verdict ----------------------------------------------------------------------------
class FakePlatform:
    name = "linux"

    def __init__(self, answer: LockPolicy | PlatformError) -> None:
        self.answer = answer

    def lock_policy(self) -> LockPolicy:
        if isinstance(self.answer, PlatformError):
            raise self.answer
        return self.answer


def judge(answer: LockPolicy | PlatformError, max_minutes: int = 15):
    config = Config(lock_policy=LockPolicySettings(max_minutes=max_minutes))
    ctx = CheckContext(FakePlatform(answer), config, Journal.in_memory(), clock=datetime.now)  # type: ignore[arg-type]
    return LockPolicyCheck().evaluate(Tick(), ctx)


@pytest.mark.parametrize(
    ("after", "severity", "title"),
    [
        (60, Severity.OK, "This computer locks itself within 1 minute when left alone."),
        (900, Severity.OK, "This computer locks itself within 15 minutes when left alone."),
        (901, Severity.WARNING, "This computer waits 16 minutes before locking itself."),  # rounded up
        (None, Severity.WARNING, "This computer never locks itself when left alone."),
    ],
)
def test_verdict_against_the_limit(after, severity, title):
    finding = judge(LockPolicy(after, "windows", "x"))
    assert finding.severity == severity
    assert render(finding.title, EN) == title
    assert finding.facts == {"source": "windows", "lock_after_seconds": after, "max_seconds": 900, "detail": "x"}
    assert (finding.fix is None) == (severity == Severity.OK)


@pytest.mark.parametrize(
    ("source", "start"),
    [("windows", "Open Settings › Accounts › Sign-in options"), ("macos", "Open System Settings › Lock Screen"),
     ("gnome", "Open Settings › Privacy › Screen"), ("kde", "Open System Settings › Screen Locking")],
)
def test_fix_per_system_uses_the_configured_limit(source, start):
    finding = judge(LockPolicy(None, source), max_minutes=5)
    fix = render(finding.fix, EN)
    assert fix.startswith(start)
    assert "5 minutes" in fix and "10 minutes" not in fix
    assert render(finding.detail, EN) == (
        "Anyone passing by can use it while you are away. It should lock itself within 5 minutes.")


def test_unreadable_setting_is_unknown_with_its_reason():
    from vigie.model import T

    finding = judge(ToolFailed(T("The automatic lock setting could not be read."), "garbage"))
    assert finding.severity == Severity.UNKNOWN
    assert render(finding.detail, EN) == "The automatic lock setting could not be read."
    assert finding.facts == {"error": "ToolFailed", "max_seconds": 900}


# --- Windows -----------------------------------------------------------------------------------------
POWERCFG_FIXTURES = {
    "win-powercfg-videoidle-en-melon.txt": (0, 600),
    "win-powercfg-consolelock-en-patricklang.txt": (1, 1),
    "win-powercfg-qh-standbyidle-en-msdocs.txt": (1800, 900),
    "win-powercfg-hibernateidle-fr-matmutant-before.txt": (0, 0x7FFFFFFF),
    "win-powercfg-hibernateidle-fr-matmutant-after.txt": (0, 600),
    "win-powercfg-consolelock-hidden-query.txt": None,  # hidden setting: no index at all
}


@pytest.mark.parametrize(("name", "expected"), POWERCFG_FIXTURES.items())
def test_powercfg_parser_on_real_outputs(name, expected):
    assert parsers.parse_powercfg_indexes(load_fixture(name)) == expected


def test_powercfg_parser_survives_a_wrong_code_page():
    # French labels arrive in the console's code page; read as UTF-8 they are garbled, the hex is not.
    garbled = load_fixture("win-powercfg-hibernateidle-fr-matmutant-after.txt").encode("cp1252").decode(
        "utf-8", errors="replace")
    assert "\ufffd" in garbled
    assert parsers.parse_powercfg_indexes(garbled) == (0, 600)


SAVER_ON = {"ScreenSaveActive": "1", "ScreenSaverIsSecure": "1", "ScreenSaveTimeOut": "600",
            "SCRNSAVE.EXE": r"C:\Windows\system32\scrnsave.scr"}


@pytest.mark.parametrize(
    ("inactivity", "saver", "video", "console", "after"),
    [
        (None, {}, (0, 0), (1, 1), None),  # display never turns off, no policy, no saver
        (None, {}, (600, 300), (1, 1), 600),  # display off, sign-in on wake: AC counts
        (None, {}, (600, 300), (0, 0), None),  # display off but no sign-in on wake
        (None, {}, (0, 300), (1, 1), None),  # battery would lock, but plugged in never does
        (300, {}, (600, 300), (1, 1), 300),  # machine inactivity limit is earlier
        (0, {}, (0, 0), (1, 1), None),  # 0 = no inactivity limit
        (None, SAVER_ON, (1200, 300), (1, 1), 600),  # secure screen saver is earlier
        (None, dict(SAVER_ON, ScreenSaverIsSecure="0"), (0, 0), (1, 1), None),  # no password asked
        (None, dict(SAVER_ON, **{"SCRNSAVE.EXE": ""}), (0, 0), (1, 1), None),  # "(None)": none runs
        (None, dict(SAVER_ON, ScreenSaveActive="0"), (0, 0), (1, 1), None),
        (None, {}, (0, 0), None, None),  # display never off: CONSOLELOCK does not matter
        (900, {}, None, None, 900),  # powercfg unreadable, the policy still locks
    ],
)
def test_windows_combination(inactivity, saver, video, console, after):
    assert windows.windows_lock_policy(inactivity, saver, video, console).lock_after_seconds == after


@pytest.mark.parametrize(("video", "console"), [(None, (1, 1)), ((600, 600), None)])
def test_windows_unreadable_display_path_is_not_reported_as_never(video, console):
    with pytest.raises(ToolFailed) as caught:
        windows.windows_lock_policy(None, {}, video, console)
    assert "unreadable" in caught.value.log_detail


def fake_registry(values: dict[tuple[str, str], dict[str, object]]):
    return lambda hive, path, names: {k: v for k, v in values.get((hive, path), {}).items() if k in names}


def test_windows_platform_reads_policy_over_user_and_hidden_consolelock(monkeypatch):
    calls = []

    def powercfg(switch, subgroup, setting):
        calls.append((switch, setting))
        if setting == "VIDEOIDLE":
            return load_fixture("win-powercfg-videoidle-en-melon.txt")  # AC never
        if switch == "/q":
            return load_fixture("win-powercfg-consolelock-hidden-query.txt")
        return load_fixture("win-powercfg-consolelock-en-patricklang.txt")

    monkeypatch.setattr(windows, "powercfg_query", powercfg)
    monkeypatch.setattr(windows, "registry_values", fake_registry({
        ("HKEY_CURRENT_USER", windows.DESKTOP_KEY): dict(SAVER_ON, ScreenSaveTimeOut="1800", ScreenSaverIsSecure="0"),
        ("HKEY_CURRENT_USER", windows.DESKTOP_POLICY_KEY): {"ScreenSaverIsSecure": "1", "ScreenSaveTimeOut": "840"},
    }))
    policy = WindowsPlatform().lock_policy()
    assert policy.lock_after_seconds == 840  # the policy's secure 14-minute screen saver
    assert calls == [("/q", "VIDEOIDLE"), ("/q", "CONSOLELOCK"), ("/qh", "CONSOLELOCK")]
    assert policy.detail.endswith("VIDEOIDLE ac=0 dc=600; CONSOLELOCK ac=1 dc=1")
    assert judge(policy).severity == Severity.OK


def test_windows_platform_machine_inactivity_limit(monkeypatch):
    monkeypatch.setattr(windows, "powercfg_query", lambda *a: load_fixture("win-powercfg-videoidle-en-melon.txt"))
    monkeypatch.setattr(windows, "registry_values", fake_registry({
        ("HKEY_LOCAL_MACHINE", windows.POLICIES_SYSTEM): {"InactivityTimeoutSecs": 1200}}))
    policy = WindowsPlatform().lock_policy()
    assert (policy.lock_after_seconds, policy.source) == (1200, "windows")
    assert judge(policy).severity == Severity.WARNING


def test_windows_platform_without_powercfg_is_unknown(monkeypatch):
    from vigie.model import T

    def missing(*args):
        raise ToolMissing(T("The program {tool} is not installed.", tool="powercfg"))

    monkeypatch.setattr(windows, "powercfg_query", missing)
    monkeypatch.setattr(windows, "registry_values", fake_registry({}))
    with pytest.raises(ToolFailed):
        WindowsPlatform().lock_policy()
    assert judge(ToolFailed(T("The automatic lock setting could not be read."))).severity == Severity.UNKNOWN


def test_registry_int_reads_dword_and_text():
    assert [windows.registry_int(v) for v in (600, "600", " 60 ", None, "", "x")] == [600, 600, 60, None, None, None]


# --- macOS ---------------------------------------------------------------------------------------------
SCREENLOCK_EXPECTED = {
    "2026-09-26 sysadminctl[1:2] screenLock delay is immediate": 0,
    "2026-09-26 sysadminctl[1:2] screenLock is off": None,
    "screenLock delay is 300 seconds": 300,
    "screenLock delay is 5 seconds": 5,
    "screenLock delay is -1.000000 seconds": None,  # off, as several public parsers read it
}


def screenlock_lines() -> list[str]:
    return [line for line in load_fixture("macos-sysadminctl-screenlock-status.txt").splitlines()
            if line and not line.startswith("#")]


def test_screenlock_fixture_lines_are_all_covered():
    assert screenlock_lines() == list(SCREENLOCK_EXPECTED)


@pytest.mark.parametrize(("line", "delay"), SCREENLOCK_EXPECTED.items())
def test_screenlock_parser_on_fixture_lines(line, delay):
    assert parsers.parse_screenlock_status(line) == delay


def test_screenlock_parser_fractional_and_garbage():
    # CONSTRUCTED: the fractional form public scripts report ("300.000000 seconds").
    assert parsers.parse_screenlock_status("screenLock delay is 300.000000 seconds\n") == 300
    with pytest.raises(ValueError, match="unknown screenLock status"):
        parsers.parse_screenlock_status("sysadminctl: permission denied")


# CONSTRUCTED, in the layout of real `pmset -g` captures: "sleep" and "disksleep" come first, and a
# process holding sleep off is named after the value.
PMSET = """System-wide power settings:
Currently in use:
 standby              1
 Sleep On Power Button 1
 disksleep            10
 sleep                1 (sleep prevented by sharingd)
 displaysleep         10
 tcpkeepalive         1
"""


def test_pmset_displaysleep_parser():
    assert parsers.parse_pmset_displaysleep(PMSET) == 10
    assert parsers.parse_pmset_displaysleep(PMSET.replace("displaysleep         10", "displaysleep 0")) == 0
    with pytest.raises(ValueError):
        parsers.parse_pmset_displaysleep(PMSET.replace(" displaysleep         10\n", ""))


@pytest.mark.parametrize(
    ("idle", "display_minutes", "delay", "after"),
    [
        (1200, 10, 0, 600),  # display sleeps first, lock at once
        (600, 0, 5, 605),  # screen saver, then 5 s
        (0, 2, 0, 120),  # no screen saver, display after 2 min
        (0, 0, 0, None),  # neither ever starts
        (300, 10, None, None),  # screen lock off
    ],
)
def test_mac_combination(idle, display_minutes, delay, after):
    assert macos.mac_lock_after(idle, display_minutes, delay) == after


def test_mac_platform_with_default_idle_time(monkeypatch):
    monkeypatch.setattr(macos, "sysadminctl_screenlock_status", lambda: screenlock_lines()[0] + "\n")
    monkeypatch.setattr(macos, "screensaver_idle_time", lambda: None)  # never set: 1200 s
    monkeypatch.setattr(macos, "pmset_settings", lambda: PMSET.replace("displaysleep         10", "displaysleep 30"))
    policy = MacPlatform().lock_policy()
    assert (policy.lock_after_seconds, policy.source) == (1200, "macos")
    assert policy.detail == "screensaver idleTime=1200 displaysleep=30 screenLock delay=0"
    assert judge(policy).severity == Severity.WARNING  # macOS's own default (20 min) is over the limit


def test_mac_platform_lock_off_and_unreadable(monkeypatch):
    monkeypatch.setattr(macos, "screensaver_idle_time", lambda: "300\n")
    monkeypatch.setattr(macos, "pmset_settings", lambda: PMSET)
    monkeypatch.setattr(macos, "sysadminctl_screenlock_status", lambda: screenlock_lines()[1])
    assert MacPlatform().lock_policy().lock_after_seconds is None
    monkeypatch.setattr(macos, "sysadminctl_screenlock_status", lambda: "Usage: sysadminctl ...")
    with pytest.raises(ToolFailed) as caught:
        MacPlatform().lock_policy()
    assert "unknown screenLock status" in caught.value.log_detail
