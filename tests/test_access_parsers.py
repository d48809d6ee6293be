"""The access checks' parsers and their Windows and macOS calls, on real captured outputs.

Each fixture in tests/fixtures/ names its source in its `# SOURCE:` header. Windows and macOS
cannot run here: only the one small function that calls the OS (reg query, net share, netsh,
powercfg, system_profiler, launchctl, the token check) is replaced, by a fixture's text; everything
around it runs. Samples written here inline are marked CONSTRUCTED; samples derived from a fixture
say which one.
"""

from __future__ import annotations

import plistlib
from datetime import datetime

import msgspec
import pytest

from fixture_files import load_fixture
from vigie.check import CheckContext
from vigie.config.schema import Config, RemoteAccessSettings
from vigie.events import Tick
from vigie.features.access.password_manager import PasswordManagerCheck, managers_in
from vigie.features.access.remote_access import RemoteAccessCheck
from vigie.features.access.sign_in import SignInCheck
from vigie.features.access.wifi_security import WifiSecurityCheck
from vigie.i18n import render, translator
from vigie.journal import Journal
from vigie.model import Severity
from vigie.platform import macos, parsers, windows
from vigie.platform.base import InstalledApps
from vigie.platform.macos import MacPlatform
from vigie.platform.windows import WindowsPlatform

FR = translator("fr")
EN = translator("en")


def finding(check, platform, config: Config | None = None):
    ctx = CheckContext(platform, config or Config(), Journal.in_memory(), clock=lambda: datetime.now().astimezone())
    return check.evaluate(Tick(), ctx)


# --- reg query -----------------------------------------------------------------------------------

def test_reg_query_remote_desktop_enabled():
    values = parsers.parse_reg_query(load_fixture("win-reg-query-fdenytsconnections-rdp-enabled.txt"))
    assert values == {"fDenyTSConnections": 0, "PortNumber": 3389}
    assert parsers.rdp_enabled(values)
    assert not parsers.rdp_enabled({"fDenyTSConnections": 1})
    assert not parsers.rdp_enabled({})  # the value absent: Windows' default refuses connections


@pytest.mark.parametrize(("fixture", "account"), [
    # AutoAdminLogon "1" and no DefaultPassword at all: the password is an LSA secret. Still automatic.
    ("win-reg-query-winlogon-autoadminlogon-lsa-no-defaultpassword.txt", "DESKTOP-8OB2COP\\Mike"),
    ("win-reg-query-winlogon-autoadminlogon-recent-build.txt", "ZWFW\\administrator"),
    ("win-reg-query-winlogon-autoadminlogon-win7.txt", "Alfred"),  # DefaultDomainName is empty there
])
def test_winlogon_automatic_sign_in(fixture, account):
    values = parsers.parse_reg_query(load_fixture(fixture))
    assert values["AutoAdminLogon"] == "1"
    assert parsers.winlogon_auto_login(values) == account


def test_reg_query_types_and_empty_values():
    values = parsers.parse_reg_query(load_fixture("win-reg-query-winlogon-autoadminlogon-win7.txt"))
    assert values["LegalNoticeCaption"] == "" and values["DefaultDomainName"] == ""
    assert values["ShutdownFlags"] == 0x80000033 and values["AutoRestartShell"] == 1
    assert values["Userinit"] == "C:\\Windows\\system32\\userinit.exe,"
    recent = parsers.parse_reg_query(load_fixture("win-reg-query-winlogon-autoadminlogon-recent-build.txt"))
    assert recent["LastLogOffEndTimePerfCounter"] == 0x36AA8B5E  # REG_QWORD


def test_winlogon_off():
    win7 = parsers.parse_reg_query(load_fixture("win-reg-query-winlogon-autoadminlogon-win7.txt"))
    assert parsers.winlogon_auto_login({**win7, "AutoAdminLogon": "0"}) is None  # derived from the win7 fixture
    assert parsers.winlogon_auto_login({}) is None


# --- net share -----------------------------------------------------------------------------------

def test_net_share_name_with_a_space():
    names = parsers.parse_net_share(load_fixture("win-net-share-en-company-data.txt"))
    assert names == ["C$", "IPC$", "ADMIN$", "Company Data"]
    assert parsers.user_shares(names) == ["Company Data"]


def test_net_share_wrapped_by_the_console():
    names = parsers.parse_net_share(load_fixture("win-net-share-en-console-wrapped.txt"))
    assert names == ["C$", "IPC$", "ADMIN$", "Internal", "THM{829738}", "Users"]  # not the "-----" wrap
    assert parsers.user_shares(names) == ["Internal", "THM{829738}", "Users"]


def test_default_shares_only_are_not_sharing():
    # CONSTRUCTED from the first fixture's rows: only what Windows makes by itself (and print$, D$).
    assert parsers.user_shares(["C$", "D$", "IPC$", "ADMIN$", "print$"]) == []
    assert parsers.user_shares(["Compta$"]) == ["Compta$"]  # hidden, but someone shared it


def test_net_share_without_a_table_is_an_error():
    with pytest.raises(ValueError):
        parsers.parse_net_share("")


# --- Windows: remote access, sign-in, Wi-Fi --------------------------------------------------------

def fake_registry(keys: dict[str, str]):
    return lambda key, timeout=10.0: keys.get(key)


def test_windows_remote_access_rdp_and_a_share(monkeypatch):
    monkeypatch.setattr(windows, "reg_query", fake_registry({
        windows.TERMINAL_SERVER_KEY: load_fixture("win-reg-query-fdenytsconnections-rdp-enabled.txt")}))
    monkeypatch.setattr(windows, "net_share", lambda timeout=15.0: load_fixture("win-net-share-en-company-data.txt"))
    # CONSTRUCTED: what psutil gives on Windows; 445 and 3389 always listen there and are read another way.
    sockets = [("0.0.0.0", 445, "System"), ("::", 3389, "svchost.exe"), ("127.0.0.1", 5900, "tvnserver.exe")]  # noqa: S104
    monkeypatch.setattr(windows, "listening_sockets", lambda: sockets)
    report = WindowsPlatform().remote_access()
    assert [(a.kind, a.detail) for a in report.found] == [("rdp", "fDenyTSConnections=0"),
                                                          ("file_sharing", "share Company Data")]
    assert report.unreadable == ()
    result = finding(RemoteAccessCheck(), WindowsPlatform())
    assert result.severity == Severity.WARNING
    assert render(result.title, FR) == ("Accès à distance ouvert sur ce poste\u00a0: Bureau à distance, "
                                        "dossiers partagés.")
    assert render(result.fix, FR).startswith("Si personne au cabinet ne l’a demandé, faites-le couper")
    assert result.facts["found"][0] == {"kind": "rdp", "detail": "fDenyTSConnections=0", "expected": False}


def test_windows_remote_access_declared_by_the_it_provider(monkeypatch):
    monkeypatch.setattr(windows, "reg_query", fake_registry({
        windows.TERMINAL_SERVER_KEY: load_fixture("win-reg-query-fdenytsconnections-rdp-enabled.txt"),
        f"{windows.SERVICES_KEY}\\TeamViewer": "",  # CONSTRUCTED: the service key exists, no values listed
    }))
    monkeypatch.setattr(windows, "net_share", lambda timeout=15.0: load_fixture("win-net-share-en-company-data.txt"))
    monkeypatch.setattr(windows, "listening_sockets", list)
    config = msgspec.structs.replace(Config(), remote_access=RemoteAccessSettings(expected=["rdp", "file_sharing"]))
    result = finding(RemoteAccessCheck(), WindowsPlatform(), config)
    assert result.severity == Severity.WARNING  # TeamViewer was not declared
    assert render(result.title, EN) == "Remote access open on this computer: TeamViewer."
    config = msgspec.structs.replace(config, remote_access=RemoteAccessSettings(
        expected=["rdp", "file_sharing", "teamviewer"]))
    result = finding(RemoteAccessCheck(), WindowsPlatform(), config)
    assert result.severity == Severity.OK
    assert render(result.title, EN) == ("Remote access open only as your IT provider declared: Remote Desktop, "
                                        "TeamViewer, shared folders.")


def test_windows_remote_access_unreadable_parts_are_unknown_not_ok(monkeypatch):
    def no_reg(key, timeout=10.0):
        raise windows.ToolMissing(windows.T("The program {tool} is not installed.", tool="reg"), "no reg.exe")

    monkeypatch.setattr(windows, "reg_query", no_reg)
    monkeypatch.setattr(windows, "net_share", lambda timeout=15.0: "")  # CONSTRUCTED: no table at all
    monkeypatch.setattr(windows, "listening_sockets", list)
    result = finding(RemoteAccessCheck(), WindowsPlatform())
    assert result.severity == Severity.UNKNOWN
    assert [u.split(":")[0] for u in result.facts["unreadable"]] == ["Remote Desktop", "services", "shares"]
    assert render(result.title, FR) == "Vigie n’a pas pu vérifier tous les accès à distance de ce poste."


def test_windows_sign_in(monkeypatch):
    monkeypatch.setattr(windows, "reg_query", fake_registry({
        windows.WINLOGON_KEY: load_fixture("win-reg-query-winlogon-autoadminlogon-lsa-no-defaultpassword.txt")}))
    monkeypatch.setattr(windows, "powercfg_query",
                        lambda switch, sub, setting: load_fixture("win-powercfg-consolelock-en-patricklang.txt"))
    monkeypatch.setattr(windows, "token_is_admin", lambda: False)
    monkeypatch.setattr("getpass.getuser", lambda: "Mike")
    state = WindowsPlatform().sign_in()
    assert (state.auto_login_user, state.auto_login_source, state.password_on_wake, state.admin) == (
        "DESKTOP-8OB2COP\\Mike", "winlogon", True, False)
    result = finding(SignInCheck(), WindowsPlatform())
    assert result.severity == Severity.WARNING
    assert render(result.title, FR) == ("Ce poste ouvre la session de DESKTOP-8OB2COP\\Mike tout seul, "
                                        "sans mot de passe.")
    assert "netplwiz" in render(result.fix, FR)


def test_windows_sign_in_hidden_consolelock_and_an_administrator(monkeypatch):
    monkeypatch.setattr(windows, "reg_query", fake_registry({}))  # no Winlogon values: not automatic
    # The hidden CONSOLELOCK: /q prints no index (fixture), /qh gives AC/DC 0x0 (CONSTRUCTED: no password on wake).
    answers = {"/q": load_fixture("win-powercfg-consolelock-hidden-query.txt"),
               "/qh": load_fixture("win-powercfg-consolelock-en-patricklang.txt").replace("0x00000001", "0x00000000")}
    monkeypatch.setattr(windows, "powercfg_query", lambda switch, sub, setting: answers[switch])
    monkeypatch.setattr(windows, "token_is_admin", lambda: True)
    monkeypatch.setattr("getpass.getuser", lambda: "secretariat")
    result = finding(SignInCheck(), WindowsPlatform())
    assert result.severity == Severity.WARNING
    assert render(result.title, FR) == "2 faiblesses à la connexion sur ce poste."
    assert render(result.detail, FR) == (
        "• Aucun mot de passe n’est demandé quand ce poste sort de veille.\n"
        "• Le compte de tous les jours, secretariat, est administrateur\u00a0: un programme ouvert par erreur a tous "
        "les droits sur ce poste.")
    assert result.facts["admin"] is True and result.facts["password_on_wake"] is False


def test_windows_sign_in_as_system_does_not_judge_the_daily_account(monkeypatch):
    monkeypatch.setattr(windows, "reg_query", fake_registry({}))
    monkeypatch.setattr(windows, "powercfg_query",
                        lambda switch, sub, setting: load_fixture("win-powercfg-consolelock-en-patricklang.txt"))
    monkeypatch.setattr(windows, "token_is_admin", lambda: True)  # SYSTEM is, but it is nobody's daily account
    monkeypatch.setattr("getpass.getuser", lambda: "CABINET-PC$")
    result = finding(SignInCheck(), WindowsPlatform())
    assert result.severity == Severity.OK and result.facts["admin"] is None
    assert render(result.detail, FR) == "Pas vérifié ici\u00a0: les droits du compte."


@pytest.mark.parametrize(("fixture", "ssid", "level", "severity"), [
    ("win-netsh-wlan-show-interfaces-en-wpa2-personal.txt", "SSID-1", "wpa2", Severity.OK),
    ("win-netsh-wlan-show-interfaces-fr-wpa2-personnel.txt", "SomeSSUD", "wpa2", Severity.OK),
    ("win-netsh-wlan-show-interfaces-fr-open.txt", "SSID-1", "open", Severity.WARNING),
    ("win-netsh-wlan-show-interfaces-de-wpa2-enterprise.txt", "SSID-1", "wpa2", Severity.OK),
    ("win-netsh-wlan-show-interfaces-es-open.txt", "SSID-1", "open", Severity.WARNING),
    ("win-netsh-wlan-show-interfaces-it-wpa2-personal.txt", "SSID-1", "wpa2", Severity.OK),
])
def test_windows_wifi_netsh(monkeypatch, fixture, ssid, level, severity):
    monkeypatch.setattr(windows, "netsh_wlan_interfaces", lambda timeout=15.0: load_fixture(fixture))
    state = WindowsPlatform().wifi()
    assert (state.connected, state.ssid, state.level) == (True, ssid, level)
    assert finding(WifiSecurityCheck(), WindowsPlatform()).severity == severity


def test_windows_wifi_french_open_network_in_words():
    (interface,) = parsers.parse_netsh_wlan_interfaces(load_fixture("win-netsh-wlan-show-interfaces-fr-open.txt"))
    assert interface == {"ssid": "SSID-1", "auth": "Ouvrir", "cipher": "Aucun"}
    text = load_fixture("win-netsh-wlan-show-interfaces-fr-wpa2-personnel.txt")
    (interface,) = parsers.parse_netsh_wlan_interfaces(text)
    assert interface == {"ssid": "SomeSSUD", "auth": "WPA2 - Personnel", "cipher": "CCMP"}


def test_windows_no_wifi_is_info_not_ok(monkeypatch):
    # CONSTRUCTED: netsh's English answer on a computer without Wi-Fi (no interface, so no SSID line).
    monkeypatch.setattr(windows, "netsh_wlan_interfaces",
                        lambda timeout=15.0: "\nThere is no wireless interface on the system.\n")
    result = finding(WifiSecurityCheck(), WindowsPlatform())
    assert (result.severity, render(result.title, FR)) == (Severity.INFO, "Pas de Wi-Fi utilisé.")
    assert result.facts == {"connected": False, "source": "netsh", "ssid": "", "security": "", "level": ""}


def test_windows_open_wifi_finding_in_french(monkeypatch):
    monkeypatch.setattr(windows, "netsh_wlan_interfaces",
                        lambda timeout=15.0: load_fixture("win-netsh-wlan-show-interfaces-fr-open.txt"))
    result = finding(WifiSecurityCheck(), WindowsPlatform())
    assert render(result.title, FR) == "Le réseau Wi-Fi «\u00a0SSID-1\u00a0» est ouvert à tous."
    assert render(result.fix, FR).startswith("Utilisez un réseau protégé en WPA2 ou WPA3, ou un câble.")
    assert result.facts["security"] == "Ouvrir / Aucun"


def test_windows_installed_password_manager(monkeypatch):
    # CONSTRUCTED: DisplayName values as uninstall entries show them, with their versions.
    monkeypatch.setattr(windows, "uninstall_display_names",
                        lambda: ["Mozilla Firefox (x64 fr)", "KeePass Password Safe 2.57.1", "Bitwarden 2024.6.4"])
    result = finding(PasswordManagerCheck(), WindowsPlatform())
    assert result.severity == Severity.OK
    assert result.facts == {"found": ["KeePass", "Bitwarden"], "sources": ["uninstall"]}
    assert render(result.title, FR) == "Gestionnaire de mots de passe installé\u00a0: KeePass, Bitwarden."


# --- Wi-Fi: nmcli, system_profiler, the levels -------------------------------------------------------

def test_nmcli_terse_escapes():
    line = " :FE\\:DC\\:BA\\:09\\:87\\:02:SSID-2-\\\\foo\\:bar:Infra:6:130 Mbit/s:100:▂▄▆█:WPA2"
    fields = parsers.split_nmcli_terse(line)
    assert fields[1] == "FE:DC:BA:09:87:02" and fields[2] == "SSID-2-\\foo:bar" and fields[8] == "WPA2"


def test_nmcli_network_in_use_is_open():
    assert parsers.nmcli_wifi_in_use(load_fixture("linux-nmcli-t-dev-wifi-list.txt")) == ("SSID-3", "")
    assert parsers.wifi_level("") == "open"


def test_nmcli_mixed_wpa1_wpa2_in_use_is_weak():
    # Derived from the nmcli fixture: the '*' moved to SSID-1's line ("WPA1 WPA2").
    text = load_fixture("linux-nmcli-t-dev-wifi-list.txt").replace("*:", " :").replace(
        " :FE\\:DC\\:BA\\:09\\:87\\:01", "*:FE\\:DC\\:BA\\:09\\:87\\:01")
    assert parsers.nmcli_wifi_in_use(text) == ("SSID-1", "WPA1 WPA2")
    assert parsers.wifi_level("WPA1 WPA2") == "wpa1"


def test_nmcli_nothing_in_use():
    # Derived from the nmcli fixture: no '*' left.
    assert parsers.nmcli_wifi_in_use(load_fixture("linux-nmcli-t-dev-wifi-list.txt").replace("*:", " :")) is None


@pytest.mark.parametrize(("security", "cipher", "level"), [
    ("WPA2", "", "wpa2"), ("WPA2 WPA3", "", "wpa2"), ("WPA3", "", "wpa3"), ("WPA1", "", "wpa1"),
    ("WPA1 WPA2", "", "wpa1"), ("WEP", "", "wep"), ("", "", "open"), ("--", "", "open"), ("OWE", "", "owe"),
    ("WPA2 802.1X", "", "wpa2"),  # nmcli
    ("WPA2-Personal", "CCMP", "wpa2"), ("WPA3-Personal", "GCMP-256", "wpa3"), ("WPA-Personal", "TKIP", "wpa1"),
    ("Ouvrir", "Aucun", "open"), ("Abierta", "Ninguna", "open"), ("Open", "WEP", "wep"),  # netsh
    ("wpa2_personal", "", "wpa2"), ("none", "", "open"), ("wpa_personal", "", "wpa1"),  # system_profiler
    ("something new", "", "unknown"),
])
def test_wifi_levels(security, cipher, level):
    assert parsers.wifi_level(security, cipher) == level


@pytest.mark.parametrize(("fixture", "expected", "severity"), [
    ("macos-system-profiler-spairport-json-10.15.7-open-and-wpa2.json", (True, "SSID-6", "open"), Severity.WARNING),
    ("macos-system-profiler-spairport-json-15.5-wpa2.json", (True, "SSID-7", "wpa2"), Severity.OK),
    ("macos-system-profiler-spairport-json-15.5-wifi-disabled.json", (False, "", ""), Severity.INFO),
])
def test_macos_wifi_system_profiler(monkeypatch, fixture, expected, severity):
    monkeypatch.setattr(macos, "system_profiler_airport", lambda timeout=60.0: load_fixture(fixture))
    state = MacPlatform().wifi()
    assert (state.connected, state.ssid, state.level) == expected
    assert finding(WifiSecurityCheck(), MacPlatform()).severity == severity


def test_macos_wifi_unreadable_is_unknown(monkeypatch):
    monkeypatch.setattr(macos, "system_profiler_airport", lambda timeout=60.0: "[]")  # CONSTRUCTED
    result = finding(WifiSecurityCheck(), MacPlatform())
    assert result.severity == Severity.UNKNOWN and result.facts == {"error": "ToolFailed"}


# --- macOS: remote access, sign-in, applications -----------------------------------------------------

def test_macos_remote_access(monkeypatch, tmp_path):
    monkeypatch.setattr(macos, "launchd_has_job", lambda label: label == "com.openssh.sshd")
    anydesk = tmp_path / "com.philandro.anydesk.service.plist"
    anydesk.write_bytes(plistlib.dumps({"Label": "com.philandro.anydesk.service"}))  # CONSTRUCTED, presence only
    monkeypatch.setattr(macos, "REMOTE_DAEMONS", {str(anydesk): "anydesk", str(tmp_path / "absent"): "teamviewer"})
    report = MacPlatform().remote_access()
    assert [(a.kind, a.detail) for a in report.found] == [("ssh", "launchd job com.openssh.sshd"),
                                                          ("anydesk", "com.philandro.anydesk.service.plist")]
    result = finding(RemoteAccessCheck(), MacPlatform())
    assert render(result.title, FR) == "Accès à distance ouvert sur ce poste\u00a0: serveur SSH, AnyDesk."
    assert "Réglages Système › Général › Partage" in render(result.fix, FR)


def test_macos_auto_login_user_read_from_the_plist(tmp_path):
    plist = tmp_path / "com.apple.loginwindow.plist"
    assert macos.auto_login_user(plist) is None  # no file: never set
    # CONSTRUCTED: the keys System Settings writes (binary plist, as macOS keeps it).
    plist.write_bytes(plistlib.dumps({"autoLoginUser": "cabinet", "lastUserName": "cabinet"},
                                     fmt=plistlib.FMT_BINARY))
    assert macos.auto_login_user(plist) == "cabinet"
    plist.write_bytes(plistlib.dumps({"lastUserName": "cabinet"}))
    assert macos.auto_login_user(plist) is None


def test_macos_applications(tmp_path):
    for name in ("KeePassXC.app", "1Password 7.app", "Safari.app", "notes.txt"):
        (tmp_path / name).mkdir()
    names = macos.application_names([tmp_path, tmp_path / "absent"])
    assert names == {"keepassxc", "1password 7", "safari"}
    assert managers_in(names) == ["KeePassXC", "1Password"]


def test_password_managers_and_what_does_not_count():
    assert managers_in({"org.keepassxc.keepassxc", "keepassxc"}) == ["KeePassXC"]
    assert managers_in({"firefox", "google chrome", "microsoft edge", "keepassxc-cli-helper"}) == []
    assert managers_in({"proton pass", "dashlane"}) == ["Dashlane", "Proton Pass"]
    result = PasswordManagerCheck()._judge(InstalledApps(frozenset({"firefox"}), ("desktop", "path")))
    assert result.severity == Severity.INFO
    assert render(result.title, FR) == "Aucun gestionnaire de mots de passe n’a été trouvé sur ce poste."


# --- display managers and groups, the pure part ---------------------------------------------------

def gdm_files() -> list[str]:
    return load_fixture("linux-gdm3-custom-conf-timedlogin-enabled.txt").split("----- next file -----\n")


def test_gdm_timed_login_is_automatic_sign_in():
    timed, stock = gdm_files()
    assert parsers.parse_ini(timed)["daemon"]["TimedLoginEnable"] == "true"  # indented keys, spaces around '='
    assert parsers.gdm_auto_login(parsers.parse_ini(timed)) == "robotcar"
    assert parsers.gdm_auto_login(parsers.parse_ini(stock)) is None  # the stock lines stay commented


def test_lightdm_autologin_user():
    groups = parsers.parse_ini(load_fixture("linux-lightdm-conf-autologin-user.txt"))
    assert parsers.lightdm_auto_login(groups) == "mhamdi"
