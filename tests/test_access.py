"""The access checks on Linux, for real: an sshd listening in a network namespace made by the test
(and controls without it, or listening on loopback only), display-manager files and /etc/group-format
files under a temporary root, a real /etc/group bind-mounted in a private mount namespace, GNOME's
setting through gsettings, desktop entries in an isolated XDG_DATA_DIRS, and this machine's real
answer to "which Wi-Fi?" (it has no Wi-Fi interface). `vigie check --json` runs as a separate
process each time; an IT-provider policy file turns the unrelated checks off to keep it quick.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

import harness
from fixture_files import FIXTURES, load_fixture
from support.netns import Namespace
from vigie.features import ALL_CHECKS
from vigie.platform import linux

NOBODY = 65534


def policy(env: dict[str, str], folder: Path, only: str, extra: str = "") -> dict[str, str]:
    """An IT-provider policy that turns off every check but `only` (plus `extra` TOML)."""
    others = "".join(f"[{c.id}]\nenabled = false\n" for c in ALL_CHECKS if c.id != only)
    path = harness.trusted_folder() / "policy.toml"  # where Vigie trusts a policy; `folder` is the test's
    path.write_text(others + extra)
    path.chmod(0o644)
    return dict(env, VIGIE_POLICY=str(path))


def check(env: dict[str, str], check_id: str, prefix: tuple[str, ...] = (), user: int | None = None) -> dict:
    """`vigie check --json` (inside `prefix`: a namespace, a mount namespace; as `user`), its one row."""
    argv = [*prefix, *(("setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups") if user else ()),
            sys.executable, "-m", "vigie", "check", "--json"]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode in (0, 1, 2, 3), result.stderr
    (row,) = [c for c in json.loads(result.stdout)["checks"] if c["id"] == check_id]
    return row


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder another user (nobody) can use: pytest's own tmp_path is private to root."""
    folder = Path(tempfile.mkdtemp(prefix="vigie-access-"))
    folder.chmod(0o755)
    os.chown(folder, NOBODY, NOBODY)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def nobody_env(folder: Path) -> dict[str, str]:
    env = harness.isolated_env(folder)
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, NOBODY, NOBODY)
    return env


# --- remote access: a real sshd in a network namespace ---------------------------------------------

@pytest.fixture
def netns() -> Iterator[Namespace]:
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root (CI runs as root)")
    ns = Namespace("ra")
    try:
        yield ns
    finally:
        ns.remove()


def listening(ns: Namespace, port: int) -> bool:
    out = subprocess.run([*ns.prefix, "ss", "-Htln", f"sport = :{port}"], capture_output=True, text=True, timeout=10)
    return bool(out.stdout.strip())


@pytest.fixture
def sshd(netns: Namespace, tmp_path: Path):
    """Factory: a real OpenSSH server (openssh-server) in the namespace, on port 22 at `address`."""
    assert shutil.which("sshd") or Path("/usr/sbin/sshd").exists(), "install openssh-server (setup-dev.sh --test)"
    started = []

    def start(address: str = "0.0.0.0") -> subprocess.Popen:  # noqa: S104 - inside the test's namespace
        key = tmp_path / f"host_key{len(started)}"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, timeout=30)
        config = tmp_path / f"sshd_config{len(started)}"
        config.write_text(f"Port 22\nListenAddress {address}\nHostKey {key}\nPidFile none\nUsePAM no\n")
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation folder
        proc = subprocess.Popen([*netns.prefix, "/usr/sbin/sshd", "-D", "-e", "-f", str(config)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        started.append(proc)
        harness.wait_for(lambda: listening(netns, 22) or proc.poll() is not None, what="sshd to listen")
        assert proc.poll() is None, proc.stderr.read().decode()
        return proc

    yield start
    for proc in started:
        harness.stop(proc)


def test_sshd_listening_in_a_namespace_is_a_warning(netns, sshd, home_env, tmp_path):
    before = check(policy(home_env, tmp_path, "remote_access"), "remote_access", netns.prefix)
    assert (before["severity"], before["facts"]["found"]) == ("ok", [])  # the control: nothing listens yet
    assert before["title"] == "Aucun accès à distance n’est ouvert sur ce poste."

    sshd()
    state = subprocess.run([*netns.prefix, sys.executable, "-c",
                            "from vigie.platform import linux; print(linux.linux_remote_access())"],
                           capture_output=True, text=True, timeout=60, env=home_env).stdout
    assert "RemoteAccess(kind='ssh', detail='port 22 (sshd)')" in state  # which process: sshd, seen as root
    row = check(policy(home_env, tmp_path, "remote_access"), "remote_access", netns.prefix)
    assert row["severity"] == "warning"
    assert row["title"] == "Accès à distance ouvert sur ce poste\u00a0: serveur SSH."
    assert row["detail"].startswith("Quiconque obtient un mot de passe")
    assert row["fix"].startswith("Si personne au cabinet ne l’a demandé, demandez à votre prestataire")
    assert row["facts"] == {"found": [{"kind": "ssh", "detail": "port 22 (sshd)", "expected": False}],
                            "expected": [], "unreadable": []}

    host = check(policy(home_env, tmp_path, "remote_access"), "remote_access")
    assert {"kind": "ssh", "detail": "port 22 (sshd)", "expected": False} not in host["facts"]["found"]  # per namespace


def test_sshd_declared_by_the_it_provider_is_ok(netns, sshd, home_env, tmp_path):
    sshd()
    env = policy(home_env, tmp_path, "remote_access", '[remote_access]\nexpected = ["ssh"]\n')
    row = check(env, "remote_access", netns.prefix)
    assert row["severity"] == "ok"
    assert row["title"] == ("Accès à distance ouvert seulement comme votre prestataire l’a déclaré\u00a0: "
                            "serveur SSH.")
    assert row["facts"]["found"] == [{"kind": "ssh", "detail": "port 22 (sshd)", "expected": True}]
    assert row["facts"]["expected"] == ["ssh"]


def test_sshd_on_loopback_only_is_not_exposed(netns, sshd, home_env, tmp_path):
    sshd("127.0.0.1")
    row = check(policy(home_env, tmp_path, "remote_access"), "remote_access", netns.prefix)
    assert (row["severity"], row["facts"]["found"]) == ("ok", [])


def test_file_sharing_port_and_a_remote_control_service(netns, home_env, tmp_path):
    """Port 445 held by a plain Python listener standing in for smbd (the check goes by port, then by
    program name), and a process named `anydesk` standing in for AnyDesk's service (proprietary: not
    installable here; only the presence of its service is detected, no configuration of it is read)."""
    listener = subprocess.Popen([*netns.prefix, sys.executable, "-c",
                                 "import socket, time; s = socket.socket(socket.AF_INET6); "
                                 "s.bind(('::', 445)); s.listen(); time.sleep(120)"])
    anydesk = tmp_path / "anydesk"
    shutil.copy("/bin/sleep", anydesk)
    service = subprocess.Popen([str(anydesk), "120"])
    try:
        harness.wait_for(lambda: listening(netns, 445), what="the listener on 445")
        program = psutil.Process(listener.pid).name()  # `ip netns exec` became the interpreter itself
        row = check(policy(home_env, tmp_path, "remote_access"), "remote_access", netns.prefix)
    finally:
        harness.stop(listener)
        harness.stop(service)
    assert row["severity"] == "warning"
    assert row["title"] == "Accès à distance ouvert sur ce poste\u00a0: dossiers partagés, AnyDesk."
    assert row["facts"]["found"] == [{"kind": "file_sharing", "detail": f"port 445 ({program})", "expected": False},
                                     {"kind": "anydesk", "detail": "anydesk running", "expected": False}]


# --- sign-in: display managers' files and groups under a temporary root ----------------------------

def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def gdm_fixture_files() -> list[str]:
    return load_fixture("linux-gdm3-custom-conf-timedlogin-enabled.txt").split("----- next file -----\n")


@pytest.mark.parametrize("relative", ["etc/gdm3/custom.conf", "etc/gdm3/daemon.conf", "etc/gdm/custom.conf"])
def test_gdm_timed_login_from_its_real_file(tmp_path, relative):
    timed, stock = gdm_fixture_files()
    assert linux.display_manager_auto_login(tmp_path) == (None, "")  # no display manager at all
    write(tmp_path, relative, stock)
    assert linux.display_manager_auto_login(tmp_path) == (None, "")
    write(tmp_path, relative, timed)
    assert linux.display_manager_auto_login(tmp_path) == ("robotcar", "gdm")


def test_lightdm_autologin_and_a_later_file_that_removes_it(tmp_path):
    write(tmp_path, "etc/lightdm/lightdm.conf.d/50-cabinet.conf", load_fixture("linux-lightdm-conf-autologin-user.txt"))
    assert linux.display_manager_auto_login(tmp_path) == ("mhamdi", "lightdm")
    # CONSTRUCTED: lightdm.conf is read last and empties the key: no automatic login any more.
    write(tmp_path, "etc/lightdm/lightdm.conf", "[Seat:*]\nautologin-user=\n")
    assert linux.display_manager_auto_login(tmp_path) == (None, "")
    # CONSTRUCTED: the older group name, and the guest account, alone.
    (tmp_path / "etc/lightdm/lightdm.conf.d/50-cabinet.conf").unlink()
    write(tmp_path, "etc/lightdm/lightdm.conf", "[SeatDefaults]\nautologin-guest=true\n")
    assert linux.display_manager_auto_login(tmp_path) == ("guest", "lightdm")


def test_sddm_autologin(tmp_path):
    # CONSTRUCTED in SDDM's documented format (sddm.conf(5)): [Autologin] User=, Session=.
    write(tmp_path, "etc/sddm.conf.d/kde_settings.conf", "[Autologin]\nRelogin=false\nSession=plasma\nUser=\n")
    assert linux.display_manager_auto_login(tmp_path) == (None, "")
    write(tmp_path, "etc/sddm.conf.d/kde_settings.conf", "[Autologin]\nSession=plasma\nUser=accueil\n")
    assert linux.display_manager_auto_login(tmp_path) == ("accueil", "sddm")


# /etc/passwd and /etc/group lines as Debian writes them (adduser, usermod -aG): CONSTRUCTED.
PASSWD = ("root:x:0:0:root:/root:/bin/bash\n"
          "cabinet:x:1000:1000:Cabinet,,,:/home/cabinet:/bin/bash\n"
          "secretariat:x:1001:1001:Secrétariat,,,:/home/secretariat:/bin/bash\n"
          "remplacant:x:1002:10::/home/remplacant:/bin/bash\n")
GROUP = ("root:x:0:\nwheel:x:10:\nsudo:x:27:cabinet,admin-it\nadm:x:4:syslog,secretariat\n"
         "cabinet:x:1000:\nsecretariat:x:1001:\n")


@pytest.mark.parametrize(("user", "admin"), [("cabinet", True), ("secretariat", False),
                                             ("remplacant", True),  # wheel is its primary group
                                             ("inconnu", False)])
def test_administrator_groups_from_etc_files(tmp_path, user, admin):
    write(tmp_path, "etc/passwd", PASSWD)
    write(tmp_path, "etc/group", GROUP)
    assert linux.unix_admin_from_files(user, tmp_path) is admin


def test_sign_in_as_a_daily_account_in_sudo_for_real(shared_tmp):
    """The real /etc/group of this machine with nobody added to sudo, bind-mounted over /etc/group in
    a private mount namespace, and `vigie check` run as nobody: the daily account is an administrator."""
    group = shared_tmp / "group"
    lines = Path("/etc/group").read_text().splitlines()
    lines = [f"{line}{',' if not line.endswith(':') else ''}nobody" if line.startswith("sudo:") else line
             for line in lines]
    if not any(line.startswith("sudo:") for line in lines):
        lines.append("sudo:x:27:nobody")
    group.write_text("\n".join(lines) + "\n")
    group.chmod(0o644)
    env = policy(nobody_env(shared_tmp / "user"), shared_tmp, "sign_in")
    plain = check(env, "sign_in", user=NOBODY)
    assert (plain["severity"], plain["facts"]["admin"], plain["facts"]["user"]) == ("ok", False, "nobody")
    assert plain["detail"] == "Pas vérifié ici\u00a0: le mot de passe au réveil."  # no desktop here
    mounted = ("unshare", "--mount", "--propagation", "private", "sh", "-c",
               f'mount --bind "{group}" /etc/group && exec "$@"', "sh")
    row = check(env, "sign_in", mounted, user=NOBODY)
    assert row["severity"] == "warning" and row["facts"]["admin"] is True
    assert row["title"] == ("Le compte de tous les jours, nobody, est administrateur\u00a0: un programme ouvert par "
                            "erreur a tous les droits sur ce poste.")
    assert row["fix"].startswith("Demandez à votre prestataire un compte administrateur à part")


def test_sign_in_run_as_root_does_not_judge_root(home_env, tmp_path):
    row = check(policy(home_env, tmp_path, "sign_in"), "sign_in")
    assert row["facts"]["admin"] is None
    assert row["facts"]["unreadable"] == ["groups: running as root, not as the daily account"]


def test_gnome_without_a_password_on_wake(shared_tmp):
    """GNOME's own setting, written with gsettings (keyfile backend, no dconf daemon), read by the check."""
    env = harness.isolated_env(shared_tmp / "user")
    env.update(GSETTINGS_BACKEND="keyfile", XDG_CURRENT_DESKTOP="ubuntu:GNOME")
    subprocess.run(["gsettings", "set", "org.gnome.desktop.screensaver", "lock-enabled", "false"], env=env,
                   check=True, timeout=10)
    env = policy(nobody_env(shared_tmp / "user") | {k: env[k] for k in ("GSETTINGS_BACKEND", "XDG_CURRENT_DESKTOP")},
                 shared_tmp, "sign_in")
    row = check(env, "sign_in", user=NOBODY)
    assert row["severity"] == "warning" and row["facts"]["password_on_wake"] is False
    assert row["title"] == "Aucun mot de passe n’est demandé quand ce poste sort de veille."
    assert "«\u00a0Verrouillage automatique de l’écran\u00a0»" in row["fix"]
    subprocess.run(["gsettings", "set", "org.gnome.desktop.screensaver", "lock-enabled", "true"], env=env,
                   check=True, timeout=10)
    row = check(env, "sign_in", user=NOBODY)
    assert (row["severity"], row["facts"]["password_on_wake"], row["detail"]) == ("ok", True, "")


# --- Wi-Fi: this machine's real answer --------------------------------------------------------------

def test_no_wifi_interface_here_is_info_not_ok(home_env, tmp_path):
    assert linux.wireless_interfaces() == []  # a machine without Wi-Fi: what the check relies on
    row = check(policy(home_env, tmp_path, "wifi_security"), "wifi_security")
    assert (row["severity"], row["title"]) == ("info", "Pas de Wi-Fi utilisé.")
    assert row["facts"] == {"connected": False, "source": "sysfs", "ssid": "", "security": "", "level": ""}


def test_wireless_interfaces_as_sysfs_shows_them(tmp_path):
    # CONSTRUCTED: the shape of /sys/class/net (a wireless/ or phy80211 entry marks Wi-Fi).
    for name, marker in (("eth0", None), ("wlan0", "wireless"), ("wlp2s0", "phy80211")):
        (tmp_path / name).mkdir()
        if marker:
            (tmp_path / name / marker).mkdir()
    assert linux.wireless_interfaces(tmp_path) == ["wlan0", "wlp2s0"]


SYSTEM_BUS_CONF = harness.BUS_CONF.replace("<type>session</type>", "<type>system</type>")


@pytest.fixture
def network_manager(tmp_path, services):
    """Factory: a private system bus with the NetworkManager stand-in (tests/support/nm_standin.py);
    returns the environment whose nmcli talks to it."""

    def start(ssid: str, wpa_flags: int, rsn_flags: int) -> dict[str, str]:
        assert Path("/usr/bin/nmcli").exists(), "install network-manager (setup-dev.sh --test): nmcli"
        folder = tmp_path / "system-bus"
        folder.mkdir()
        (folder / "bus.conf").write_text(SYSTEM_BUS_CONF.format(dir=folder))
        read_fd, write_fd = os.pipe()
        services.start(["dbus-daemon", "--config-file", str(folder / "bus.conf"), "--nofork",
                        f"--print-address={write_fd}"], os.environ, pass_fds=(write_fd,))
        os.close(write_fd)
        with os.fdopen(read_fd) as pipe:
            env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=pipe.readline().strip())
        services.start(["/usr/bin/python3", "-m", "dbusmock", "--system", "--template", "networkmanager"], env)
        harness.wait_for(lambda: subprocess.run(["nmcli", "-t", "general"], env=env, capture_output=True,
                                                timeout=10).returncode == 0, what="the NetworkManager stand-in")
        setup = subprocess.run(["/usr/bin/python3", str(harness.SUPPORT / "nm_standin.py"), ssid, hex(wpa_flags),
                                hex(rsn_flags)], env=env, capture_output=True, text=True, timeout=30)
        assert "READY" in setup.stdout, setup.stderr
        return env

    return start


def with_a_wifi_interface(tmp_path: Path) -> tuple[str, ...]:
    """A private mount namespace where /sys/class/net lists one Wi-Fi interface (wlan0)."""
    net = tmp_path / "net"
    (net / "wlan0" / "wireless").mkdir(parents=True)
    return ("/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
            f'/bin/mount --bind "{net}" /sys/class/net && exec "$@"', "sh")  # absolute: PATH may be emptied


@pytest.mark.parametrize(("wpa", "rsn", "security", "severity", "title"), [
    (0, 0x188, "WPA2", "ok", "Le réseau Wi-Fi «\u00a0Cabinet\u00a0» est protégé (WPA2)."),
    (0, 0x488, "WPA3", "ok", "Le réseau Wi-Fi «\u00a0Cabinet\u00a0» est protégé (WPA3)."),
    (0x100, 0x100, "WPA1 WPA2", "warning",
     "Le réseau Wi-Fi «\u00a0Cabinet\u00a0» accepte une protection dépassée (WPA)."),
    (0, 0, "", "warning", "Le réseau Wi-Fi «\u00a0Cabinet\u00a0» est ouvert à tous."),
])
def test_nmcli_against_a_network_manager_stand_in(network_manager, home_env, tmp_path, wpa, rsn, security, severity,
                                                  title):
    """No Wi-Fi hardware and no real NetworkManager can run here: NetworkManager is python-dbusmock's
    template and the kernel's interface list a bind mount (see nm_standin.py). nmcli itself, and
    `vigie check`, are the real programs."""
    env = network_manager("Cabinet", wpa, rsn)
    env = policy(dict(home_env, DBUS_SYSTEM_BUS_ADDRESS=env["DBUS_SYSTEM_BUS_ADDRESS"]), tmp_path, "wifi_security")
    row = check(env, "wifi_security", with_a_wifi_interface(tmp_path))
    assert (row["severity"], row["title"]) == (severity, title)
    assert row["facts"] == {"connected": True, "source": "nmcli", "ssid": "Cabinet", "security": security,
                            "level": {"WPA2": "wpa2", "WPA3": "wpa3", "WPA1 WPA2": "wpa1", "": "open"}[security]}


def test_a_wifi_interface_without_network_manager_is_unknown(home_env, tmp_path):
    env = policy(dict(home_env, PATH="/nonexistent"), tmp_path, "wifi_security")  # no nmcli to ask
    argv = [*with_a_wifi_interface(tmp_path), sys.executable, "-m", "vigie", "check", "--json"]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    (row,) = [c for c in json.loads(result.stdout)["checks"] if c["id"] == "wifi_security"]
    assert (row["severity"], row["facts"]["error"]) == ("unknown", "ToolMissing")
    assert row["title"] == "Vigie n’a pas pu lire le réseau Wi-Fi utilisé."


# --- password manager: desktop entries in an isolated XDG_DATA_DIRS ---------------------------------

def data_dirs(env: dict[str, str], folder: Path) -> dict[str, str]:
    (folder / "applications").mkdir(parents=True, exist_ok=True)
    return dict(env, XDG_DATA_DIRS=str(folder), PATH="/usr/bin:/bin")


def test_keepassxc_desktop_entry_is_a_password_manager(home_env, tmp_path):
    env = policy(data_dirs(home_env, tmp_path / "share"), tmp_path, "password_manager")
    row = check(env, "password_manager")
    assert row["severity"] == "info"
    assert row["title"] == "Aucun gestionnaire de mots de passe n’a été trouvé sur ce poste."
    assert row["fix"].startswith("Installez celui que votre prestataire conseille")

    shutil.copy(FIXTURES / "linux-keepassxc-desktop-entry.desktop",
                tmp_path / "share" / "applications" / "org.keepassxc.KeePassXC.desktop")
    row = check(env, "password_manager")
    assert (row["severity"], row["title"]) == ("ok", "Gestionnaire de mots de passe installé\u00a0: KeePassXC.")
    assert row["facts"] == {"found": ["KeePassXC"], "sources": ["desktop", "path"]}


def test_a_flatpak_export_counts_and_a_deleted_entry_does_not(home_env, tmp_path):
    env = policy(data_dirs(home_env, tmp_path / "share"), tmp_path, "password_manager")
    exported = Path(env["XDG_DATA_HOME"]) / "flatpak/exports/share/applications"
    exported.mkdir(parents=True)
    entry = (FIXTURES / "linux-keepassxc-desktop-entry.desktop").read_text()
    # Derived from the KeePassXC fixture: the user's own copy marks it deleted (Hidden=true).
    (exported / "org.keepassxc.KeePassXC.desktop").write_text(entry.replace("Type=Application", "Hidden=true"))
    assert check(env, "password_manager")["severity"] == "info"
    (exported / "org.keepassxc.KeePassXC.desktop").write_text(entry)
    assert check(env, "password_manager")["facts"]["found"] == ["KeePassXC"]
