"""The packages as shipped: the PyInstaller bundle and the .deb, built from this checkout and
installed for real (dpkg -i, run on the desktop, dpkg --purge), and every piece of the Windows and
macOS installers that can be checked without those systems.

The build runs once per session: about 27 s (PyInstaller 25 s, the .deb 1 s with zstd); the whole file ~35 s.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import pkgutil
import plistlib
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path, PureWindowsPath

import jsonschema
import pytest
from packaging.requirements import Requirement
from PIL import Image

import harness
import vigie
from support import packages
from support.packages import meta
from vigie import APP_NAME, autostart
from vigie.config.policy import policy_path
from vigie.model import Severity
from vigie.platform import windows_mutex
from vigie.ui.colours import COLOURS

ROOT = harness.ROOT
INSTALLER = ROOT / "installer"
SCHEMA = json.loads((ROOT / "agent" / "vigie" / "schemas" / "check-report.schema.json").read_text())
SHOTS = Path("/tmp/vigie-packaging")
BUNDLE_KEYS = ("LD_LIBRARY_PATH", "GI_TYPELIB_PATH", "GIO_MODULE_DIR", "XDG_DATA_DIRS", "GTK_DATA_PREFIX",
               "GTK_EXE_PREFIX", "GTK_PATH", "PANGO_LIBDIR", "GDK_PIXBUF_MODULE_FILE", "TCL_LIBRARY", "TK_LIBRARY")


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> packages.Built:
    result = packages.build(tmp_path_factory.mktemp("packages"))
    print(f"\nbundle built in {result.bundle_seconds:.1f} s, .deb in {result.deb_seconds:.1f} s")
    return result


def fake_apt_get(directory: Path) -> Path:
    """An apt-get first on PATH that records the environment it was given, then runs the real one."""
    directory.mkdir(exist_ok=True)
    script = directory / "apt-get"
    script.write_text(f'#!/bin/sh\nenv > "{directory / "env.txt"}"\nexec /usr/bin/apt-get "$@"\n')
    script.chmod(0o755)
    return directory / "env.txt"


def check_json(vigie: Path | str, env: dict[str, str], *args: str) -> tuple[dict, int]:
    result = subprocess.run([str(vigie), "check", "--json", *args], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode in (0, 1, 2, 3), result.stderr
    report = json.loads(result.stdout)
    jsonschema.validate(report, SCHEMA)
    assert report["exit_code"] == result.returncode
    return report, result.returncode


def assert_reports_from_the_bundle(vigie: Path | str, env: dict[str, str], workdir: Path, prefix: str) -> None:
    """check --json from the frozen program: schema, translations, keyring, and the children's environment."""
    env_dump = fake_apt_get(workdir / "fake-bin")
    env = dict(env, PATH=f"{env_dump.parent}:{env['PATH']}")
    french, _ = check_json(vigie, env)
    english, _ = check_json(vigie, env, "--lang", "en")
    assert french["language"] == "fr" and english["language"] == "en"
    titles = {c["id"]: c["title"] for c in french["checks"]}
    assert titles["os_updates"] != {c["id"]: c["title"] for c in english["checks"]}["os_updates"]  # the .mo works
    assert french["config"]["read_only"] is False, french["config"]  # the Secret Service backend is in the bundle
    updates = next(c for c in french["checks"] if c["id"] == "os_updates")
    assert (updates["facts"]["pending"], updates["facts"]["security"]) == (2, 1)  # the private apt world
    # apt-get ran with the session's environment, not the bundle's (installer/rthooks).
    child = dict(line.split("=", 1) for line in env_dump.read_text().splitlines() if "=" in line)
    leaked = {k: child[k] for k in BUNDLE_KEYS if prefix in child.get(k, "")}
    assert leaked == {}
    assert child.get("XDG_DATA_DIRS") == env.get("XDG_DATA_DIRS")


def test_the_bundle_runs_check_with_its_translations_keyring_and_a_clean_child_env(built, keyring_env, apt_config,
                                                                                   tmp_path):
    vigie = built.bundle / "vigie"
    assert subprocess.run([vigie, "--version"], capture_output=True, text=True).stdout.strip() == \
        f"vigie {meta.VERSION}"
    assert sorted(p.name for p in (built.bundle / "_internal" / "vigie" / "locale").glob("*/LC_MESSAGES/*.mo")) == \
        ["vigie.mo"]
    assert_reports_from_the_bundle(vigie, dict(keyring_env, APT_CONFIG=apt_config), tmp_path, str(built.bundle))


IMPORT_CHECK = """
import importlib, json, sys
failures = {}
for name in sys.argv[1].split(","):
    try:
        importlib.import_module(name)
    except BaseException as exc:
        failures[name] = f"{type(exc).__name__}: {exc}"
print(json.dumps(failures))
"""


def modules_vigie_needs() -> list[str]:
    """Every vigie module, and the top-level modules of its run-time dependencies (and the gtk extra)."""
    names = [m.name for m in pkgutil.walk_packages(vigie.__path__, "vigie.") if m.name != "vigie.__main__"]
    provided = importlib.metadata.packages_distributions()
    wanted = {Requirement(r).name.lower().replace("_", "-") for r in importlib.metadata.requires("vigie") or []
              if "extra ==" not in r and (Requirement(r).marker is None or Requirement(r).marker.evaluate())}
    for module, distributions in provided.items():
        if any(d.lower().replace("_", "-") in wanted for d in distributions) and not module.startswith("_"):
            names.append(module)
    names += ["gi", "tkinter"]  # the gtk extra (pycairo is not used at run time) and the Tk windows
    return sorted(set(names) - {"pystray"})  # pystray needs a display to import: the desktop test covers it


def test_the_bundle_imports_every_module_the_source_tree_can(built, home_env):
    names = ",".join(modules_vigie_needs())
    in_venv = json.loads(subprocess.run([sys.executable, "-c", IMPORT_CHECK, names], env=home_env,
                                        capture_output=True, text=True, check=True).stdout)
    frozen = json.loads(subprocess.run([built.bundle / "vigie"], env=dict(home_env, VIGIE_BUNDLE_IMPORT_CHECK=names),
                                       capture_output=True, text=True, check=True).stdout)
    assert {k: v for k, v in frozen.items() if k not in in_venv} == {}
    assert len(names.split(",")) > 50


def deb_field(deb: Path, field: str) -> str:
    return subprocess.run(["dpkg-deb", "-f", str(deb), field], capture_output=True, text=True,
                          check=True).stdout.strip()


def deb_paths(deb: Path) -> list[str]:
    """Paths in the package, "/opt/vigie" style, directories included."""
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    paths = []
    for line in listing.splitlines():
        _mode, owner, *_rest = line.split(maxsplit=5)
        name = line.split(" ./", 1)[1].split(" -> ")[0].rstrip("/")
        assert owner == "root/root", line
        if name:
            paths.append("/" + name)
    return paths


def test_the_deb_has_the_documented_layout_and_metadata(built, tmp_path):
    deb = built.deb
    assert deb.name == f"vigie_{meta.VERSION}_amd64.deb"
    assert deb_field(deb, "Package") == "vigie"
    assert deb_field(deb, "Version") == meta.VERSION
    depends = deb_field(deb, "Depends")
    assert re.match(r"libc6 \(>= 2\.\d+\), libgtk-3-0, gir1\.2-ayatanaappindicator3-0\.1$", depends)
    assert "pcscd" in deb_field(deb, "Recommends")
    paths = deb_paths(deb)
    top = {p for p in paths if p.count("/") <= 2}
    assert top <= {"/opt", "/opt/vigie", "/usr", "/usr/bin", "/usr/share", "/etc", "/etc/xdg"}
    for path in ["/opt/vigie/vigie", "/usr/bin/vigie", meta.XDG_AUTOSTART, meta.XDG_MENU_ENTRY,
                 "/usr/share/doc/vigie/copyright", "/opt/vigie/_internal/vigie/locale/fr/LC_MESSAGES/vigie.mo",
                 "/opt/vigie/_internal/vigie/schemas/check-report.schema.json",
                 "/opt/vigie/_internal/vigie/ui/icon_png/vigie-warning-64.png",  # the tray's, loaded
                 "/opt/vigie/_internal/vigie/ui/icon_png/vigie-critical-128.png"]:  # the notifications'
        assert path in paths
    for size in meta.ICON_SIZES:
        assert f"/usr/share/icons/hicolor/{size}x{size}/apps/vigie.png" in paths
    assert not [p for p in paths if p.startswith("/etc/vigie") or "keyrings" in p]  # policy: the IT provider's

    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-R", str(deb), str(root)], check=True)
    assert os.readlink(root / "usr/bin/vigie") == "/opt/vigie/vigie"
    assert (root / "DEBIAN/conffiles").read_text().split() == [meta.XDG_AUTOSTART]
    assert sorted(p.name for p in (root / "DEBIAN").iterdir()) == ["conffiles", "control", "md5sums", "prerm"]
    assert os.access(root / "DEBIAN/prerm", os.X_OK)
    subprocess.run(["sh", "-n", str(root / "DEBIAN/prerm")], check=True)
    for entry in (meta.XDG_AUTOSTART, meta.XDG_MENU_ENTRY):
        validated = subprocess.run(["desktop-file-validate", str(root / entry.lstrip("/"))], capture_output=True,
                                   text=True)
        assert validated.returncode == 0 and "error" not in validated.stdout, validated.stdout
        fields = autostart.read_desktop_entry((root / entry.lstrip("/")).read_text())
        assert autostart.parse_exec(fields["Exec"]) == [meta.LINUX_COMMAND]
        assert fields["Icon"] == "vigie" and fields["TryExec"] == meta.LINUX_EXECUTABLE
    assert "NoDisplay" not in autostart.read_desktop_entry((root / meta.XDG_MENU_ENTRY.lstrip("/")).read_text())


def start_installed(argv: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, float]:
    """Start the installed agent; wait for its icon: the log line, then the item at the SNI watcher."""
    log_lines = harness.vigie_log(env).count("tray visible backend=appindicator")
    started = time.monotonic()
    agent = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    harness.wait_for(lambda: harness.vigie_log(env).count("tray visible backend=appindicator") > log_lines,
                     timeout=30, what="the icon from the installed package")
    seconds = time.monotonic() - started
    harness.wait_for(lambda: harness.sni_items(env), what="the item registered with the StatusNotifierWatcher")
    return agent, seconds


def worst_severity(snapshot: Path) -> Severity:
    """The icon's state from the agent's status snapshot (same rule as vigie.app.overall_severity)."""
    levels = {Severity(c["severity_level"]) for c in json.loads(snapshot.read_text())["checks"]}
    for severity in (Severity.CRITICAL, Severity.WARNING, Severity.UNKNOWN, Severity.INFO):
        if severity in levels:
            return severity
    return Severity.OK


def icon_in_state(env: dict[str, str], path: Path) -> bool:
    """Screenshot; the SNI bar at the bottom shows the shield in the colour of the agent's state."""
    shot = harness.screenshot(env, path)
    state = worst_severity(Path(env["XDG_RUNTIME_DIR"]) / "Vigie" / "status.json")
    bar = Image.open(shot).convert("RGB").crop((0, 768 - 40, 1024, 768))
    return harness.count_near(bar, COLOURS[state], tolerance=30) > 100


def test_the_deb_installs_runs_on_the_desktop_and_purges_without_a_trace(built, desktop_env, apt_config, tmp_path):
    reason = packages.can_install()
    if reason:
        pytest.skip(reason)
    env = dict(desktop_env, APT_CONFIG=apt_config)
    paths = deb_paths(built.deb)
    with packages.machine_lock():
        packages.purge_leftover()
        existed = {p for p in paths if os.path.lexists(p)}
        opt_before = sorted(os.listdir("/opt"))
        agent = None
        try:
            packages.dpkg("-i", str(built.deb))
            assert packages.status()["status"] == "install ok installed"
            listed = packages.dpkg("-L", "vigie").stdout.split()
            assert set(paths) <= set(listed) | {"/."}

            assert_reports_from_the_bundle("/usr/bin/vigie", env, tmp_path, "/opt/vigie")

            assert packages.dpkg("--verify", "vigie").stdout == ""  # md5sums match what is on disk

            # Started the way the session starts it: the Exec line of /etc/xdg/autostart/vigie.desktop.
            argv = autostart.parse_exec(autostart.read_desktop_entry(Path(meta.XDG_AUTOSTART).read_text())["Exec"])
            agent, seconds = start_installed(argv, env)
            print(f"\ninstalled .deb: start → icon visible {seconds:.2f} s")
            harness.wait_for(lambda: harness.sni_menu(env, "title").stdout.startswith("Vigie\u00a0:")
                             and "…" not in harness.sni_menu(env, "title").stdout, what="the first check done")
            labels = harness.sni_menu(env, "labels").stdout.splitlines()
            assert {"Verrouiller maintenant", "État de la sécurité…", "Quitter"} <= set(labels)

            # An upgrade (the same .deb again) stops the running agent before replacing its files.
            packages.dpkg("-i", str(built.deb))
            assert agent.wait(15) == 0
            agent, _ = start_installed(argv, env)

            # A child window from the bundle (Tk inside the frozen program).
            assert harness.sni_menu(env, "click", "État de la sécurité…").returncode == 0
            harness.wait_for(lambda: harness.windows_of_class(env, "vigie-status"), what="the status window")
            SHOTS.mkdir(exist_ok=True)
            harness.wait_for(lambda: icon_in_state(env, SHOTS / "deb-agent.png"), timeout=10,
                             what="the shield in the colour of the agent's state")
            assert "icon file unreadable" not in harness.vigie_log(env)  # the bundle's pictures, not drawn

            # Purged while running: the prerm stops every /opt/vigie/vigie (agent and window).
            packages.dpkg("--purge", "vigie")
            assert agent.wait(15) == 0
            assert "stopping" in harness.vigie_log(env)
            harness.wait_for(lambda: not harness.windows_of_class(env, "vigie-status"), what="the window gone")
        finally:
            if packages.status():
                packages.dpkg("--purge", "vigie", check=False)
            if agent is not None:
                harness.stop(agent)

    assert packages.status() == {}
    for path in listed:
        if path == "/.":
            continue
        assert os.path.lexists(path) == (path in existed), path  # ours gone, shared directories kept
    assert not os.path.lexists("/opt/vigie")
    assert not os.path.lexists(meta.XDG_AUTOSTART)
    assert not os.path.lexists("/etc/vigie")
    assert sorted(os.listdir("/opt")) == opt_before
    assert (Path(env["XDG_STATE_HOME"]) / "Vigie" / "log" / "vigie.log").exists()  # users' data is theirs


# --- Windows: what can be checked without Windows ---------------------------------------------


def iss_entries(text: str) -> dict[str, list]:
    """[Setup] as key=value, the other sections as lists of `Name: value; ...` entries; ISPP lines skipped."""
    sections: dict[str, list] = {}
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith((";", "#", "//")):
            continue
        if re.fullmatch(r"\[\w+\]", line):
            current = line[1:-1]
            sections[current] = []
            continue
        if current == "Code":
            sections[current].append(raw)
        elif current == "Setup":
            key, _, value = line.partition("=")
            sections[current].append((key.strip(), value.strip()))
        else:
            fields = {}
            for part in re.findall(r'(\w+):\s*("(?:[^"]|"")*"|[^;]*)', line):
                name, value = part
                fields[name] = value[1:-1].replace('""', '"') if value.startswith('"') else value.strip()
            sections[current].append(fields)
    return sections


@pytest.fixture(scope="module")
def iss(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """vigie.iss with the defines build_installer.py generates substituted in, as ISPP would."""
    work = tmp_path_factory.mktemp("iss")
    out = subprocess.run([sys.executable, str(INSTALLER / "windows" / "build_installer.py"), "--dry-run", "--bundle",
                          str(work / "bundle"), "--out", str(work / "out"), "--work", str(work)],
                         capture_output=True, text=True, check=True)
    command = shlex.split(out.stdout.strip())
    assert command[1] == f"/J{work / 'vigie-defines.iss'}" and command[-1].endswith("vigie.iss")
    defines = dict(re.findall(r'^#define (\w+) "(.*)"$', (work / "vigie-defines.iss").read_text("utf-8-sig"), re.M))
    text = preprocess((INSTALLER / "windows" / "vigie.iss").read_text(), defines)
    return {"defines": defines, "sections": iss_entries(text), "text": text}


def preprocess(text: str, defines: dict[str, str]) -> str:
    """The part of ISPP vigie.iss uses: #ifdef/#ifndef/#else/#endif, #error, {#Name}."""
    kept, active = [], [True]
    for line in text.splitlines():
        directive = line.strip().split()
        if directive and directive[0] in ("#ifdef", "#ifndef"):
            active.append(active[-1] and ((directive[1] in defines) == (directive[0] == "#ifdef")))
        elif directive[:1] == ["#else"]:
            active[-1] = not active[-1] and active[-2]
        elif directive[:1] == ["#endif"]:
            active.pop()
        elif active[-1]:
            assert directive[:1] != ["#error"], line
            for name in re.findall(r"\{#(\w+)\}", line):
                assert name in defines, name
            kept.append(re.sub(r"\{#(\w+)\}", lambda m: defines[m.group(1)], line))
    assert active == [True]
    return "\n".join(kept) + "\n"


def test_the_windows_installer_waits_for_the_mutex_the_agent_holds(iss):
    setup = dict(iss["sections"]["Setup"])
    assert setup["AppMutex"] == "VigieAgent,Global\\VigieAgent" == ",".join(windows_mutex.MUTEX_NAMES)
    assert setup["AppVersion"] == meta.VERSION
    assert setup["PrivilegesRequired"] == "admin" and setup["DefaultDirName"] == "{autopf}\\Vigie"
    assert setup["ArchitecturesInstallIn64BitMode"] == "x64compatible"
    code = "\n".join(iss["sections"]["Code"])
    # Silent runs cannot answer AppMutex's question: Vigie is stopped first, by Setup and Uninstall.
    assert re.search(r"if WizardSilent then\s+StopVigie", code)
    assert re.search(r"usAppMutexCheck\) and UninstallSilent then\s+StopVigie", code)
    assert "taskkill.exe" in code and "/IM vigie.exe" in code


def test_windows_mutex_names_and_noops_outside_windows():
    assert windows_mutex.MUTEX_NAMES == ("VigieAgent", "Global\\VigieAgent")
    assert windows_mutex.APP_USER_MODEL_ID == APP_NAME == "Vigie"
    if sys.platform != "win32":
        assert windows_mutex.hold_app_mutexes() == []
        assert windows_mutex.set_app_user_model_id() is False
    assert windows_mutex.MUTEX_SDDL.startswith("D:") and "(A;;0x00100000;;;WD)" in windows_mutex.MUTEX_SDDL


def test_the_windows_installer_starts_vigie_for_every_user_with_its_own_identity(iss):
    registry = iss["sections"]["Registry"]
    run = [e for e in registry if e["Subkey"] == "Software\\Microsoft\\Windows\\CurrentVersion\\Run"]
    assert len(run) == 1 and run[0]["Root"] == "HKLM" and run[0]["ValueName"] == "Vigie"
    assert run[0]["ValueData"] == '"{app}\\vigie.exe"' and "uninsdeletevalue" in run[0]["Flags"]
    aumid = [e for e in registry if e["Subkey"] == f"Software\\Classes\\AppUserModelId\\{APP_NAME}"]
    assert {e["ValueName"]: e["ValueData"] for e in aumid} == {"DisplayName": "Vigie", "IconUri": "{app}\\vigie.png"}
    assert all(e["Root"] == "HKLM" for e in aumid)
    icons = iss["sections"]["Icons"]
    assert [(i["Filename"], i["AppUserModelID"]) for i in icons] == [("{app}\\vigie.exe", APP_NAME)]
    # desktop-notifier takes its AppUserModelID from the app_name Vigie gives it.
    assert "DesktopNotifier(app_name=APP_NAME" in (ROOT / "agent" / "vigie" / "notify.py").read_text()


def test_the_windows_installer_places_the_policy_where_the_agent_reads_it(iss, monkeypatch):
    files = iss["sections"]["Files"]
    policy = [f for f in files if f["Source"] == "{param:POLICY}"]
    assert len(policy) == 1
    assert policy[0]["DestDir"] == "{commonappdata}\\Vigie" and policy[0]["DestName"] == "policy.toml"
    assert "external" in policy[0]["Flags"] and policy[0]["Check"] == "PolicyGiven"
    code = "\n".join(iss["sections"]["Code"])
    assert "function PolicyGiven" in code and "icacls.exe" in code and "*S-1-5-32-545:(OI)(CI)RX" in code
    # {commonappdata} is %ProgramData%: the agent reads the same file.
    monkeypatch.delenv("VIGIE_POLICY", raising=False)
    monkeypatch.setenv("PROGRAMDATA", "C:\\ProgramData")
    assert PureWindowsPath(str(policy_path("windows")).replace("/", "\\")) == \
        PureWindowsPath("C:\\ProgramData\\Vigie\\policy.toml")
    assert meta.POLICY_PATHS["windows"] == "%ProgramData%\\Vigie\\policy.toml"
    bundle_files = [f for f in files if f["Source"].endswith("\\*")]
    assert bundle_files and all(f["DestDir"] == "{app}" and "recursesubdirs" in f["Flags"] for f in bundle_files)


def test_the_windows_readme_documents_silent_install_uninstall_and_policy():
    readme = (INSTALLER / "windows" / "README.md").read_text()
    assert "/VERYSILENT /SUPPRESSMSGBOXES /NORESTART" in readme
    assert '/POLICY="' in readme and "unins000.exe" in readme and 'vigie-cli.exe" check --json' in readme


# --- macOS: the plists and the package scripts, run against stand-ins -----------------------


def test_the_macos_app_is_menu_bar_only_with_a_stable_identifier():
    info = plistlib.loads(meta.macos_info_plist_bytes())
    assert info["LSUIElement"] is True
    assert info["CFBundleIdentifier"] == "fr.vigie.agent" == autostart.LAUNCH_AGENT_LABEL
    assert info["CFBundleShortVersionString"] == meta.VERSION
    spec = (INSTALLER / "vigie.spec").read_text()
    assert "info_plist=meta.macos_info_plist()" in spec and "bundle_identifier=meta.BUNDLE_ID" in spec
    entitlements = plistlib.loads((INSTALLER / "macos" / "entitlements.plist").read_bytes())
    assert entitlements == {"com.apple.security.cs.allow-jit": True,
                            "com.apple.security.cs.allow-unsigned-executable-memory": True}


def test_the_macos_launch_agent_comes_from_autostart_and_keeps_vigie_alive():
    agent = plistlib.loads(meta.macos_launch_agent())
    assert agent == plistlib.loads(autostart.launch_agent_plist([meta.MACOS_EXECUTABLE]))
    assert agent["Label"] == "fr.vigie.agent"
    assert agent["ProgramArguments"] == ["/Applications/Vigie.app/Contents/MacOS/vigie"]
    assert agent["KeepAlive"] == {"SuccessfulExit": False} and agent["RunAtLoad"] is True
    assert agent["LimitLoadToSessionType"] == "Aqua"
    printed = subprocess.run([sys.executable, str(INSTALLER / "vigie_meta.py"), "macos-launch-agent"],
                             capture_output=True, check=True).stdout
    assert plistlib.loads(printed) == agent


def stand_ins(directory: Path, commands: dict[str, str]) -> dict[str, str]:
    """macOS commands replaced by scripts that log their arguments (and print what they are given)."""
    directory.mkdir()
    log = directory / "calls.log"
    for name, output in commands.items():
        script = directory / name
        script.write_text(f"#!/bin/sh\necho \"{name} $*\" >> \"{log}\"\nprintf '{output}'\n")
        script.chmod(0o755)
    return {"PATH": f"{directory}:{os.environ['PATH']}", "LOG": str(log)}


def test_the_macos_postinstall_places_the_policy_and_starts_the_agent_for_the_console_user(tmp_path):
    pkg_dir = tmp_path / "media"
    pkg_dir.mkdir()
    (pkg_dir / "policy.toml").write_text("[idle_lock]\nlock_after_seconds = 300\n")
    env = stand_ins(tmp_path / "bin", {"stat": "501", "launchctl": "", "chown": "", "chmod": "", "install": ""})
    script = INSTALLER / "macos" / "scripts" / "postinstall"
    result = subprocess.run(["sh", str(script), str(pkg_dir / "Vigie-0.1.0.pkg"), "/", "/"], env={**os.environ, **env},
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    calls = Path(env["LOG"]).read_text().splitlines()
    policy_dir = str(Path(meta.POLICY_PATHS["macos"]).parent)
    assert f"install -m 644 -o root -g wheel {pkg_dir / 'policy.toml'} {meta.POLICY_PATHS['macos']}" in calls
    assert f"install -d -m 755 -o root -g wheel {policy_dir}" in calls
    assert str(policy_path("macos")) == meta.POLICY_PATHS["macos"]
    assert f"launchctl bootstrap gui/501 {meta.MACOS_LAUNCH_AGENT}" in calls
    assert f"chown root:wheel {meta.MACOS_LAUNCH_AGENT}" in calls


def test_the_macos_preinstall_stops_running_agents_by_path(tmp_path):
    ps_output = "  501 /Applications/Vigie.app/Contents/MacOS/vigie\\n  502 /usr/bin/vigie-lookalike\\n" \
                "  0 /sbin/launchd\\n"
    env = stand_ins(tmp_path / "bin", {"ps": ps_output, "launchctl": ""})
    result = subprocess.run(["sh", str(INSTALLER / "macos" / "scripts" / "preinstall")], env={**os.environ, **env},
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    calls = Path(env["LOG"]).read_text().splitlines()
    assert [c for c in calls if c.startswith("launchctl")] == ["launchctl bootout gui/501/fr.vigie.agent"]


def test_the_macos_scripts_parse_and_the_readme_documents_signing():
    for script in ("scripts/preinstall", "scripts/postinstall", "uninstall.sh"):
        subprocess.run(["sh", "-n", str(INSTALLER / "macos" / script)], check=True)
    subprocess.run(["bash", "-n", str(INSTALLER / "macos" / "build-pkg.sh")], check=True)
    readme = (INSTALLER / "macos" / "README.md").read_text()
    for step in ("codesign", "notarytool submit", "stapler staple", "pkgbuild", "productbuild", "LSUIElement"):
        assert step in readme, step


def test_every_installer_agrees_with_the_agent_on_the_policy_paths(monkeypatch):
    monkeypatch.delenv("VIGIE_POLICY", raising=False)
    assert str(policy_path("linux")) == meta.POLICY_PATHS["linux"] == "/etc/vigie/policy.toml"
    assert str(policy_path("macos")) == meta.POLICY_PATHS["macos"]
