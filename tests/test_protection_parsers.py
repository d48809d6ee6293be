"""The protection checks' parsers (issue 20, points 1-4) on real captured outputs (tests/fixtures,
each with its SOURCE line). Windows and macOS outputs cannot be produced here: these are what stands
for them, and only what exists is tested (see each test's docstring)."""

from __future__ import annotations

import json
import platform
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fixture_files import load_fixture
from vigie.platform import parsers
from vigie.platform.base import (
    ENCRYPTED,
    ENCRYPTING,
    ENCRYPTION_UNKNOWN,
    NOT_ENCRYPTED,
    SUSPENDED,
    FirewallProfile,
    ToolFailed,
)


def sections(name: str, separator: str) -> list[str]:
    """A fixture holding several captures, split on its added separator lines."""
    return [part for part in re.split(separator, load_fixture(name), flags=re.M) if part.strip()]


# --- disk encryption: BitLocker (manage-bde, English and French) ---------------------------------

def test_bitlocker_fully_encrypted_with_tpm_is_encrypted():
    found = parsers.parse_manage_bde(load_fixture("win-manage-bde-status-en-fully-encrypted-tpm.txt"), "C:")
    assert (found.state, found.method, found.percent) == (ENCRYPTED, "BitLocker", 100.0)


def test_bitlocker_used_space_only_with_comma_decimals_is_encrypted():
    found = parsers.parse_manage_bde(load_fixture("win-manage-bde-status-en-usedspace-on-password.txt"), "C:")
    assert (found.state, found.volume, found.percent) == (ENCRYPTED, "C:", 100.0)


def test_bitlocker_encrypted_but_protection_off_is_suspended_not_encrypted():
    """Automatic device encryption not finished: 100 % encrypted, key in clear, no protector."""
    text = load_fixture("win-manage-bde-status-en-auto-device-encryption-protection-off.txt")
    found = parsers.parse_manage_bde(text, "C:")
    assert (found.state, found.percent) == (SUSPENDED, 100.0)


def test_bitlocker_off_on_three_volumes_reads_the_asked_drive():
    text = load_fixture("win-manage-bde-status-en-off-3volumes.txt")
    for drive in ("C:", "J:", "K:"):
        found = parsers.parse_manage_bde(text, drive)
        assert (found.state, found.volume, found.percent) == (NOT_ENCRYPTED, drive, 0.0)
    assert parsers.parse_manage_bde(text, "E:").state == ENCRYPTION_UNKNOWN  # not in the output: never "encrypted"


def test_bitlocker_in_french_off_and_locked():
    """French Windows: "Protection désactivée" (NBSP before the colon, "?" for lost apostrophes) and a
    locked data volume whose protection reads "Inconnu": locked means encrypted."""
    text = load_fixture("win-manage-bde-status-fr-off-and-locked.txt")
    off = parsers.parse_manage_bde(text, "C:")
    assert (off.state, off.percent) == (NOT_ENCRYPTED, 0.0)
    locked = parsers.parse_manage_bde(text, "D:")
    assert locked.state == ENCRYPTED
    assert "lock=verrouille" in locked.detail


def test_bitlocker_in_another_language_is_unknown_never_encrypted():
    """German output (not encrypted, encrypting, then protected): Vigie reads English and French only."""
    captures = sections("win-manage-bde-status-de-off-inprogress-on.txt", r"^----- next capture -----$")
    assert len(captures) == 3
    assert [parsers.parse_manage_bde(c, "C:").state for c in captures] == [ENCRYPTION_UNKNOWN] * 3


def test_bitlocker_encrypting_is_read_from_the_percentage():
    """No English or French capture of an encryption under way was found: the German one's figures
    are put under the English labels of the English capture (CONSTRUCTED from two captures)."""
    english = load_fixture("win-manage-bde-status-en-usedspace-on-password.txt")
    encrypting = english.replace("Percentage Encrypted: 100,0%", "Percentage Encrypted: 3,5 %").replace(
        "Protection Status:    Protection On", "Protection Status:    Protection Off")
    found = parsers.parse_manage_bde(encrypting, "C:")
    assert (found.state, found.percent) == (ENCRYPTING, 3.5)


# --- disk encryption: FileVault, diskutil ---------------------------------------------------------

def test_filevault_on_and_off():
    assert parsers.parse_fdesetup_status(load_fixture("macos-fdesetup-status-on.txt")).state == ENCRYPTED
    probe = load_fixture("macos-security-probe-sonoma-14.8.9-fixture.txt")
    filevault = probe.split("@@FILEVAULT@@\n")[1].split("@@")[0]
    assert filevault == "FileVault is Off.\n"
    assert parsers.parse_fdesetup_status(filevault).state == NOT_ENCRYPTED
    assert parsers.parse_fdesetup_status("").state == ENCRYPTION_UNKNOWN


@pytest.mark.parametrize("name", ["macos-diskutil-info-usb-ntfs.txt", "macos-diskutil-info-usb-flash-fixed.txt"])
def test_a_usb_drive_macos_cannot_encrypt_is_not_encrypted(name):
    """Real `diskutil info` of NTFS and FAT USB drives: no FileVault line (no real capture of an
    encrypted external APFS drive was found, so "FileVault: Yes" on a drive is not tested)."""
    found = parsers.diskutil_encryption(load_fixture(name))
    assert found.state == NOT_ENCRYPTED
    assert found.volume.startswith("/dev/disk")


# --- disk encryption: Linux (lsblk JSON) ----------------------------------------------------------

def test_lsblk_luks_under_lvm_is_encrypted_and_a_usb_exfat_disk_is_not():
    devices = parsers.parse_lsblk_json(load_fixture("linux-lsblk-json-b-lvm-luks-crypt.json"))
    root = parsers.lsblk_encryption(devices, "/etc/NetworkManager/system-connections")
    assert (root.state, root.method, root.volume) == (ENCRYPTED, "LUKS", "cryptroot")
    assert "tokyonightvg-root(lvm/crypto_LUKS) > cryptroot(crypt/btrfs)" in root.detail
    boot = parsers.lsblk_encryption(devices, "/boot")
    assert (boot.state, boot.volume) == (NOT_ENCRYPTED, "nvme0n1p1")
    assert parsers.lsblk_encryption(devices, "/media/backup") is None  # nothing mounted there


def test_lsblk_names_the_kind_from_the_device_mapper_uuid():
    """The UUID format is cryptsetup's own ("CRYPT-LUKS2-<uuid>-<name>", as in cryptsetup's
    tests/api-test-2.c: `-u CRYPT-LUKS2-aaaa…-ctest1`); no /sys capture of a real mapping exists here."""
    devices = parsers.parse_lsblk_json(load_fixture("linux-lsblk-json-b-lvm-luks-crypt.json"))
    uuid = "CRYPT-LUKS2-" + "a" * 32 + "-cryptroot"
    found = parsers.lsblk_encryption(devices, "/etc/NetworkManager/system-connections", {"cryptroot": uuid})
    assert found.method == "LUKS2"
    assert parsers.dm_crypt_kind("LVM-abc") == ""


def test_lsblk_mountpoints_array_of_util_linux_2_38():
    devices = parsers.parse_lsblk_json(load_fixture("linux-lsblk-json-mountpoints-debian12-nochildren.json"))
    found = parsers.lsblk_encryption(devices, "/")
    assert (found.state, found.volume) == (NOT_ENCRYPTED, "vda")
    with pytest.raises(ToolFailed):
        parsers.parse_lsblk_json("lsblk: unknown column: MOUNTPOINTS")


# --- antivirus -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, age", [("win-get-mpcomputerstatus-normal-2025.txt", 0),
                                       ("win-get-mpcomputerstatus-normal-msdocs.txt", 0)])
def test_defender_on(name, age):
    [record] = parsers.parse_ps_list(load_fixture(name))
    product = parsers.defender_product(record)
    assert (product.enabled, product.up_to_date, product.signature_age_days, product.tamper_protected) == (
        True, True, age, True)


def test_defender_not_running():
    """Defender off (another product, or disabled): ages are 4294967295, "never"."""
    [record] = parsers.parse_ps_list(load_fixture("win-get-mpcomputerstatus-not-running-msdocs.txt"))
    product = parsers.defender_product(record)
    assert (product.enabled, product.signature_age_days, product.tamper_protected) == (False, None, False)


def test_security_center_products_and_their_state():
    """productState decoded: 266240 = 0x041000 on and up to date; 393472 = 0x060100 off; 397568 =
    0x061100 on. Non-ASCII names (Huorong) come through."""
    listed = parsers.security_center_products(parsers.parse_ps_list(
        load_fixture("win-securitycenter2-antivirusproduct-bitdefender-defender.txt")))
    assert [(p.name, p.enabled, p.up_to_date) for p in listed] == [
        ("Bitdefender Antivirus", True, True), ("Windows Defender", False, True)]
    listed = parsers.security_center_products(parsers.parse_ps_list(
        load_fixture("win-securitycenter2-antivirusproduct-defender-huorong.txt")))
    assert [(p.name, p.enabled) for p in listed] == [("Windows Defender", False), ("火绒安全软件", True)]
    listed = parsers.security_center_products(parsers.parse_ps_list(
        load_fixture("win-securitycenter2-antivirusproduct-defender-on.txt")))
    assert [(p.name, p.enabled, p.up_to_date) for p in listed] == [("Windows Defender", True, True)]


def test_product_state_out_of_date_and_snoozed():
    """Bits only (no capture of an out-of-date product was found): 0x041010 signatures out of date,
    0x042000 snoozed."""
    assert parsers.decode_product_state(0x041010) == (True, False)
    assert parsers.decode_product_state(0x042000) == (False, True)


def test_clamav_database_header():
    built, version, builder = parsers.parse_cvd_header(load_fixture("linux-clamav-daily-cvd-header.txt").encode())
    assert (version, builder) == (25784, "raynman")
    assert built == datetime(2020, 4, 16, 11, 58, 59, tzinfo=UTC)  # 1587038339; the text says 07-58 -0400
    with pytest.raises(ValueError):
        parsers.parse_cvd_header(b"\x1f\x8b gzip, not a database")


# --- firewall ------------------------------------------------------------------------------------

def test_windows_firewall_profiles_list_all_off():
    profiles = parsers.firewall_profiles_windows(load_fixture("win-get-netfirewallprofile-list-all-disabled.txt"))
    assert profiles == [FirewallProfile("Domain", False), FirewallProfile("Private", False),
                        FirewallProfile("Public", False)]


def test_windows_firewall_profiles_table_on_french_windows():
    profiles = parsers.firewall_profiles_windows(load_fixture("win-get-netfirewallprofile-table-fr.txt"))
    assert profiles == [FirewallProfile("Domain", True), FirewallProfile("Private", True),
                        FirewallProfile("Public", True)]


def test_netsh_in_english_and_french():
    """The French capture has only its domain profile block (the student pasted no more)."""
    assert parsers.parse_netsh_profiles(load_fixture("win-netsh-advfirewall-show-currentprofile-en-off.txt")) == [
        FirewallProfile("Domain", False)]
    assert parsers.parse_netsh_profiles(load_fixture("win-netsh-advfirewall-show-allprofiles-fr-domain-actif.txt")) \
        == [FirewallProfile("Domain", True)]


def test_macos_socketfilterfw_states():
    """State 2 ("block all") says "blocking", not "enabled": the number decides."""
    captures = sections("macos-socketfilterfw-getglobalstate-states.txt", r"^----- .* -----$")
    states = [parsers.parse_socketfilterfw(line) for capture in captures for line in capture.splitlines()
              if "(State = " in line]
    assert states == [True, True, False, True, False, True, True]
    probe = load_fixture("macos-security-probe-sonoma-14.8.9-fixture.txt")
    assert parsers.parse_socketfilterfw(probe.split("@@FIREWALL_GLOBAL@@\n")[1].split("\n")[0]) is False


def test_nftables_empty_ruleset_filters_nothing():
    status = parsers.nft_firewall(load_fixture("linux-nft-j-list-ruleset-empty.json"))
    assert status.profiles == (FirewallProfile("IPv4", False), FirewallProfile("IPv6", False))


def test_nftables_rhel_ruleset_filters_ipv4_only():
    """Two "ip" input chains: a verdict map that drops, and rules ending in reject; nothing for IPv6."""
    status = parsers.nft_firewall(load_fixture("linux-nft-j-list-ruleset-rhel.json"))
    assert status.profiles == (FirewallProfile("IPv4", True), FirewallProfile("IPv6", False))
    assert "ip nftables_svc INPUT policy=accept" in status.detail


def test_ufw_status_and_settings_file():
    assert parsers.parse_ufw_status(load_fixture("linux-ufw-status-verbose-active.txt")) is True
    assert parsers.parse_ufw_status(load_fixture("linux-ufw-status-verbose-active-v6.txt")) is True
    assert parsers.parse_ufw_status("ERROR: You need to be root to run this script") is None
    assert parsers.parse_ufw_conf(load_fixture("linux-ufw-conf-enabled-yes.txt")) is True
    assert parsers.parse_ufw_conf(load_fixture("linux-ufw-conf-enabled-no.txt")) is False


# --- system version ------------------------------------------------------------------------------

def test_this_machines_os_release_reads_as_python_reads_it():
    """The real /etc/os-release of this machine, parsed by Vigie and by the standard library."""
    text = next(Path(p).read_text() for p in ("/etc/os-release", "/usr/lib/os-release") if Path(p).exists())
    assert parsers.parse_os_release(text) == platform.freedesktop_os_release()


@pytest.mark.parametrize("name, expected", [
    ("linux-os-release-debian-13.txt", ("debian", "13", "Debian GNU/Linux 13 (trixie)", "")),
    ("linux-os-release-ubuntu-24.04.txt", ("ubuntu", "24.04", "Ubuntu 24.04.3 LTS", "")),
    ("linux-os-release-fedora-42-support-end.txt", ("fedora", "42", "Fedora Linux 42 (Forty Two)", "2026-05-13")),
    ("linux-os-release-debian-testing-no-version.txt", ("debian", "", "Debian GNU/Linux stretch/sid", "")),
])
def test_os_release_samples(name, expected):
    version = parsers.os_version_from_os_release(parsers.parse_os_release(load_fixture(name)))
    assert (version.system, version.version, version.name, version.support_end) == expected


def test_sw_vers_variants():
    captures = sections("macos-sw-vers-variants.txt", r"^----- .* -----$")
    rapid = parsers.parse_sw_vers(captures[0])
    assert (rapid.version, rapid.name, rapid.build) == ("13.3.1", "macOS 13.3.1 (a)", "22E772610a")
    assert parsers.parse_sw_vers(captures[2]).version == "10.15.5"
    assert parsers.parse_sw_vers(captures[3]).version == "10.13"
    with pytest.raises(ToolFailed):
        parsers.parse_sw_vers("")


def reg_query_values(name: str) -> dict[str, str]:
    """What winreg gives for these values: reg.exe's "Name    REG_SZ    value" lines."""
    values = {}
    for line in load_fixture(name).splitlines():
        parts = line.strip().split("    ")
        if len(parts) == 3 and parts[1] == "REG_SZ":
            values[parts[0]] = parts[2]
    return values


def test_windows_version_from_the_registry():
    ten = parsers.windows_os_version(reg_query_values("win-reg-query-currentversion-win10-22h2-enterprise.txt"))
    assert (ten.version, ten.build, ten.edition, ten.name) == ("22H2", "19045", "Enterprise",
                                                              "Windows 10 Enterprise 22H2")
    eleven = parsers.windows_os_version(reg_query_values("win-reg-query-currentversion-win11-23h2-pro.txt"))
    assert (eleven.version, eleven.build, eleven.edition, eleven.name) == ("23H2", "22631", "Professional",
                                                                          "Windows 11 Pro 23H2")
    with pytest.raises(ToolFailed):
        parsers.windows_os_version({})


def test_fixtures_keep_their_source_line():
    used = {m for m in re.findall(r'"((?:win|macos|linux)-[\w.-]+\.(?:txt|json))"', Path(__file__).read_text())}
    for name in used:
        first = (Path(__file__).parent / "fixtures" / name).read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# SOURCE: "), name
    assert json.loads(load_fixture("linux-nft-j-list-ruleset-empty.json"))  # the header is not in the data
