"""The pure parsers of vigie.platform.parsers, on real captured outputs (tests/fixtures/).

Each fixture file names its source in its `# SOURCE:` header. Samples written here inline are
marked CONSTRUCTED; samples derived from a fixture say which one.
"""

from __future__ import annotations

import base64
import json
import re
import shutil

import pytest

from fixture_files import load_fixture
from vigie.i18n import render, translator
from vigie.platform import macos, parsers, windows
from vigie.platform.base import PendingUpdate, ToolFailed, ToolMissing, UpdateStatus
from vigie.platform.macos import MacPlatform
from vigie.platform.windows import WindowsPlatform

# --- apt -------------------------------------------------------------------------------------
APT_FIXTURE = "linux-apt-get-s-upgrade-inst-lines-checkmk.txt"

# Checkmk's own security classification, quoted in the fixture's NOTE: an independent oracle.
CHECKMK_SECURITY = re.compile(r"^[^\(]*\(.* (Debian-Security:|Ubuntu[^/]*/[^/]*-\bsecurity\b)")


def apt_sections() -> dict[str, str]:
    """The Checkmk fixture split at its '# --- NAME' separator lines; the first is 'updates'."""
    sections: dict[str, list[str]] = {"updates": []}
    current = "updates"
    for line in load_fixture(APT_FIXTURE).splitlines(keepends=True):
        if line.startswith("# ---"):
            current = line.removeprefix("# ---").strip()
            sections[current] = []
        else:
            sections[current].append(line)
    return {name: "".join(lines) for name, lines in sections.items()}


APT_EXPECTED = {
    "updates": [
        PendingUpdate("default-jre", "2:1.8-58+deb9u1", False),
        PendingUpdate("default-jre-headless", "2:1.8-58+deb9u1", False),
        PendingUpdate("icedtea-netx", "1.6.2-3.1+deb9u1", False),
        PendingUpdate("librsvg2-2", "2.40.21-0+deb9u1", True),
    ],
    "security updates fixture": [
        PendingUpdate("linux-libc-dev", "4.9.228-1", False),
        PendingUpdate("libapt-pkg5.0", "1.4.10", True),
        PendingUpdate("libexpat1", "2.2.0-2+deb9u3", True),
        PendingUpdate("tzdata", "2021e-0ubuntu0.16.04+esm1", True),
        PendingUpdate("bind9-host", "1:9.10.3.dfsg.P4-8ubuntu1.19+esm1", True),
    ],
    "kernel security updates fixture (new package: no [old version] bracket)": [
        PendingUpdate("linux-image-4.19.0-19-amd64", "4.19.232-1", True),
        PendingUpdate("linux-image-amd64", "4.19+105+deb10u14", True),
    ],
    "Ubuntu Pro advertisement fixture": [
        PendingUpdate("base-files", "9.9+deb9u11", False),
    ],
}


def test_apt_fixture_has_the_expected_sections():
    assert list(apt_sections()) == list(APT_EXPECTED)


@pytest.mark.parametrize(
    ("section", "pending", "security"),
    [
        ("updates", 4, 1),
        ("security updates fixture", 5, 4),
        ("kernel security updates fixture (new package: no [old version] bracket)", 2, 2),
        ("Ubuntu Pro advertisement fixture", 1, 0),
    ],
)
def test_apt_counts_per_section(section, pending, security):
    updates = parsers.parse_apt_simulate(apt_sections()[section])
    assert len(updates) == pending
    assert sum(u.security for u in updates) == security


@pytest.mark.parametrize("section", list(APT_EXPECTED))
def test_apt_names_versions_and_flags_per_section(section):
    assert parsers.parse_apt_simulate(apt_sections()[section]) == APT_EXPECTED[section]


def test_apt_whole_fixture():
    updates = parsers.parse_apt_simulate(load_fixture(APT_FIXTURE))
    assert len(updates) == 12
    assert sum(u.security for u in updates) == 7


def test_apt_security_flag_agrees_with_checkmk_regex():
    inst_lines = [line for line in load_fixture(APT_FIXTURE).splitlines() if line.startswith("Inst ")]
    updates = parsers.parse_apt_simulate("\n".join(inst_lines))
    assert len(updates) == len(inst_lines) == 12
    for line, update in zip(inst_lines, updates, strict=True):
        assert line.startswith(f"Inst {update.name} ")
        assert update.security == bool(CHECKMK_SECURITY.match(line)), line


def test_apt_remv_lines_ignored():
    text = apt_sections()["updates"]
    assert text.startswith("Remv default-java-plugin")  # the fixture does hold Remv lines
    names = {u.name for u in parsers.parse_apt_simulate(text)}
    assert "default-java-plugin" not in names
    assert "icedtea-8-plugin" not in names
    remv_only = "".join(line for line in text.splitlines(keepends=True) if line.startswith("Remv "))
    assert remv_only.count("Remv ") == 2
    assert parsers.parse_apt_simulate(remv_only) == []


def test_apt_ubuntu_pro_advertisement_ignored():
    text = apt_sections()["Ubuntu Pro advertisement fixture"]
    assert "Ubuntu Pro" in text
    ads = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("Inst "))
    assert ads.count("\n") == 2
    assert parsers.parse_apt_simulate(ads) == []


def test_apt_new_package_without_old_version():
    text = apt_sections()["kernel security updates fixture (new package: no [old version] bracket)"]
    first = text.splitlines()[0]
    assert "[4." not in first.split("(")[0]  # no "[old version]" before the parenthesis
    assert parsers.parse_apt_simulate(first) == [
        PendingUpdate("linux-image-4.19.0-19-amd64", "4.19.232-1", True)
    ]


def test_apt_several_origins_one_security_is_security():
    line = next(
        line for line in apt_sections()["security updates fixture"].splitlines() if "libexpat1" in line
    )
    assert "Debian:9.13/oldstable, Debian-Security:9/oldstable" in line
    (update,) = parsers.parse_apt_simulate(line)
    assert update.security is True
    # The same line with only the non-security origin left is not a security update (derived).
    (plain,) = parsers.parse_apt_simulate(line.replace(", Debian-Security:9/oldstable", ""))
    assert plain == PendingUpdate("libexpat1", "2.2.0-2+deb9u3", False)


def test_apt_empty_output():
    assert parsers.parse_apt_simulate("") == []


# --- dnf -------------------------------------------------------------------------------------
def test_dnf_check_update_fedora42_skips_banners():
    text = load_fixture("linux-dnf-list-upgrades-fedora42.txt")
    assert "Updating and loading repositories:" in text and "Repositories loaded." in text
    assert parsers.parse_dnf_check_update(text) == [
        ("vim-data", "2:9.2.280-1.fc42"),
        ("vim-minimal", "2:9.2.280-1.fc42"),
    ]


def test_dnf_check_update_banners_alone_give_nothing():
    text = load_fixture("linux-dnf-list-upgrades-fedora42.txt")
    banners = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("vim-"))
    assert banners.count("\n") == 6
    assert parsers.parse_dnf_check_update(banners) == []


# CONSTRUCTED (not a capture): dnf 4 layout, where a name too long for its column is printed
# alone and its version and repository follow on the next, indented, line.
DNF4_WRAPPED = """\

NetworkManager-libnm.x86_64                1:1.42.8-1.fc38                updates
texlive-collection-latexrecommended.noarch
                                           9:svn54074-62.fc38             updates
kernel-core.x86_64                         6.5.6-200.fc38                 updates
Obsoleting Packages
grub2-tools.x86_64                         1:2.06-100.fc38                updates
    grub2-tools.x86_64                     1:2.06-95.fc38                 @updates
"""


def test_dnf4_wrapped_long_name_and_obsoleting_section():
    assert parsers.parse_dnf_check_update(DNF4_WRAPPED) == [
        ("NetworkManager-libnm", "1:1.42.8-1.fc38"),
        ("texlive-collection-latexrecommended", "9:svn54074-62.fc38"),
        ("kernel-core", "6.5.6-200.fc38"),
    ]


def test_dnf4_running_kernel_lines_are_not_rows():
    # CONSTRUCTED from dnf 4's own format (dnf/cli/cli.py, _check_running_kernel): check-update
    # prints these two prose lines on stdout, even with -q, while a new kernel awaits a reboot.
    text = (
        "kernel-core.x86_64                         6.5.6-200.fc38                 updates\n"
        "Security: kernel-core-6.5.5-200.fc38.x86_64 is an installed security update\n"
        "Security: kernel-core-6.4.15-200.fc38.x86_64 is the currently running version\n"
    )
    assert parsers.parse_dnf_check_update(text) == [("kernel-core", "6.5.6-200.fc38")]


def test_dnf_check_update_empty_output():
    assert parsers.parse_dnf_check_update("") == []


def test_dnf_security_names_fedora42():
    text = load_fixture("linux-dnf-updateinfo-list-fedora42.txt")
    assert parsers.parse_dnf_security_names(text) == {"vim-data", "vim-minimal"}


def test_dnf_security_names_header_and_banners_give_nothing():
    text = load_fixture("linux-dnf-updateinfo-list-fedora42.txt")
    rest = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("FEDORA-"))
    assert "Name" in rest and "Repositories loaded." in rest
    assert parsers.parse_dnf_security_names(rest) == set()


@pytest.mark.parametrize(
    ("line", "name"),
    [
        # CONSTRUCTED: dnf 4 layout "advisory severity/Sec. NEVRA", no epoch.
        ("FEDORA-2023-5b1e5ee5e9 Important/Sec. kernel-core-6.5.6-200.fc38.x86_64", "kernel-core"),
        # CONSTRUCTED: a dot in the package name.
        ("FEDORA-2023-1a2b3c4d5e Moderate/Sec.  python3.11-3.11.6-1.fc38.x86_64", "python3.11"),
    ],
)
def test_dnf_security_names_dnf4_layout(line, name):
    assert parsers.parse_dnf_security_names(line) == {name}


# --- macOS softwareupdate --------------------------------------------------------------------
SAFARI_14 = PendingUpdate("Safari", "14.0", True)
SAFARI_17 = PendingUpdate("Safari", "17.0", True)
SAFARI_17_3_1 = PendingUpdate("Safari", "17.3.1", True)
SAFARI_18_3_1 = PendingUpdate("Safari", "18.3.1", True)
VENTURA_13_6 = PendingUpdate("macOS Ventura 13.6", "13.6", True)
VENTURA_13_7_4 = PendingUpdate("macOS Ventura 13.7.4", "13.7.4", True)
SONOMA_14_0 = PendingUpdate("macOS Sonoma 14.0", "14.0", True)
SEQUOIA_15_3_1 = PendingUpdate("macOS Sequoia 15.3.1", "15.3.1", True)


@pytest.mark.parametrize(
    ("fixture", "current_major", "expected"),
    [
        ("macos-softwareupdate-list-catalina.txt", 10, [SAFARI_14]),
        ("macos-softwareupdate-list-none.txt", 13, []),
        ("macos-softwareupdate-list-ventura-2025.txt", 13, [SAFARI_18_3_1, VENTURA_13_7_4]),
        ("macos-softwareupdate-list-ventura-2025.txt", None, [SAFARI_18_3_1, VENTURA_13_7_4, SEQUOIA_15_3_1]),
        ("macos-softwareupdate-list-ventura-3updates.txt", 13, [SAFARI_17, VENTURA_13_6]),
        ("macos-softwareupdate-list-ventura-3updates.txt", None, [SAFARI_17, VENTURA_13_6, SONOMA_14_0]),
        ("macos-softwareupdate-list-with-stderr-noise.txt", 13, [SAFARI_17_3_1]),
    ],
)
def test_softwareupdate_fixtures(fixture, current_major, expected):
    assert parsers.parse_softwareupdate(load_fixture(fixture), current_major) == expected


def test_softwareupdate_major_upgrade_kept_when_it_is_the_current_major():
    # On Sonoma (14), "macOS Sonoma 14.0" is not an upgrade to another major; Ventura 13.6 is.
    text = load_fixture("macos-softwareupdate-list-ventura-3updates.txt")
    assert parsers.parse_softwareupdate(text, 14) == [SAFARI_17, SONOMA_14_0]


def test_softwareupdate_recommended_no_is_not_security():
    # Derived from the ventura-3updates fixture, with Safari's "Recommended: YES" set to NO.
    text = load_fixture("macos-softwareupdate-list-ventura-3updates.txt")
    text = text.replace("Size: 161835KiB, Recommended: YES", "Size: 161835KiB, Recommended: NO")
    assert "Recommended: NO" in text
    updates = parsers.parse_softwareupdate(text, 13)
    assert updates == [PendingUpdate("Safari", "17.0", False), VENTURA_13_6]


def test_softwareupdate_catalina_sizes_in_k_and_trailing_comma():
    text = load_fixture("macos-softwareupdate-list-catalina.txt")
    assert "Size: 65417K, Recommended: YES," in text
    (update,) = parsers.parse_softwareupdate(text, None)
    assert update == SAFARI_14
    assert update.security is True  # "YES," with its trailing comma is still YES


def test_softwareupdate_nslog_noise_ignored():
    text = load_fixture("macos-softwareupdate-list-with-stderr-noise.txt")
    noise = text.splitlines()[0]
    assert "softwareupdate[" in noise and "XType" in noise
    assert parsers.parse_softwareupdate(noise, 13) == []
    assert parsers.parse_softwareupdate(text, 13) == [SAFARI_17_3_1]


def test_softwareupdate_title_without_label_is_ignored():
    # Derived from the catalina fixture: the "Title:" line alone, no "* Label:" before it.
    title_line = next(
        line for line in load_fixture("macos-softwareupdate-list-catalina.txt").splitlines()
        if "Title:" in line
    )
    assert parsers.parse_softwareupdate(title_line, None) == []


def test_softwareupdate_title_needs_its_own_label():
    # Derived from ventura-3updates with the Ventura "* Label:" line removed: its Title line
    # must not borrow the label of the entry before it.
    text = load_fixture("macos-softwareupdate-list-ventura-3updates.txt")
    text = "".join(line for line in text.splitlines(keepends=True) if "Label: macOS Ventura" not in line)
    assert text.count("* Label:") == 2
    assert parsers.parse_softwareupdate(text, None) == [SAFARI_17, SONOMA_14_0]


def _split_none_fixture() -> tuple[str, str]:
    """The 'none' fixture as softwareupdate writes it: the message on stderr, the rest on stdout."""
    lines = load_fixture("macos-softwareupdate-list-none.txt").splitlines(keepends=True)
    stderr = "".join(line for line in lines if "No new software available" in line)
    stdout = "".join(line for line in lines if "No new software available" not in line)
    return stdout, stderr


def _split_noise_fixture() -> tuple[str, str]:
    """The 2>&1 capture split back: its first line (the NSLog line) came from stderr."""
    text = load_fixture("macos-softwareupdate-list-with-stderr-noise.txt")
    noise, _, rest = text.partition("\n")
    return rest, noise + "\n"


@pytest.fixture
def fake_softwareupdate(monkeypatch):
    calls: list[float] = []

    def install(stdout: str, stderr: str, major: int | None = 13) -> list[float]:
        def softwareupdate_list(timeout: float) -> tuple[str, str]:
            calls.append(timeout)
            return stdout, stderr

        monkeypatch.setattr(macos, "softwareupdate_list", softwareupdate_list)
        monkeypatch.setattr(macos, "current_major", lambda: major)
        return calls

    return install


def test_mac_pending_updates_none_available(fake_softwareupdate):
    stdout, stderr = _split_none_fixture()
    assert "No new software available" in stderr and "No new software" not in stdout
    calls = fake_softwareupdate(stdout, stderr)
    status = MacPlatform().pending_updates(42)
    assert status == UpdateStatus("softwareupdate", ())
    assert calls == [42]


@pytest.mark.parametrize(
    ("stdout", "stderr"),
    [
        ("garbage that is no update list\n", ""),
        ("", "softwareupdate: unexpected failure\n"),
        # The 'none' fixture's stdout without its stderr message: nothing says "no updates".
        (_split_none_fixture()[0], ""),
    ],
)
def test_mac_pending_updates_unreadable_output_raises(fake_softwareupdate, stdout, stderr):
    fake_softwareupdate(stdout, stderr)
    with pytest.raises(ToolFailed) as excinfo:
        MacPlatform().pending_updates(5)
    assert excinfo.value.log_detail == stderr.strip()


def test_mac_pending_updates_list(fake_softwareupdate):
    fake_softwareupdate(load_fixture("macos-softwareupdate-list-ventura-3updates.txt"), "", major=13)
    status = MacPlatform().pending_updates(5)
    assert status == UpdateStatus("softwareupdate", (SAFARI_17, VENTURA_13_6))
    assert status.security_updates == (SAFARI_17, VENTURA_13_6)


def test_mac_pending_updates_nslog_on_stderr(fake_softwareupdate):
    stdout, stderr = _split_noise_fixture()
    assert "XType" in stderr and stdout.startswith("Software Update Tool")
    fake_softwareupdate(stdout, stderr)
    assert MacPlatform().pending_updates(5) == UpdateStatus("softwareupdate", (SAFARI_17_3_1,))


def test_mac_pending_updates_only_a_major_upgrade_is_no_failure(fake_softwareupdate):
    # Derived from ventura-3updates: only the Sonoma entry kept. A list was read; it is filtered.
    lines = load_fixture("macos-softwareupdate-list-ventura-3updates.txt").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if "Label: macOS Sonoma" in line)
    stdout = "".join(lines[:4] + lines[start:])
    assert stdout.count("* Label:") == 1
    fake_softwareupdate(stdout, "", major=13)
    assert MacPlatform().pending_updates(5) == UpdateStatus("softwareupdate", ())


# --- Windows Update Agent --------------------------------------------------------------------
CU_2022 = PendingUpdate("2026-08 Cumulative Update for Windows Server 2022 (KB5065432)", "KB5065432", True)
NET_2022 = PendingUpdate(
    "2026-08 .NET Framework Update for Windows Server 2022 (KB5065999)", "KB5065999", False
)
MSRT = PendingUpdate("Windows Malicious Software Removal Tool x64 - v5.98 (KB890830)", "KB890830", False)
NET_PREVIEW_2019 = PendingUpdate(
    "2022-02 Cumulative Update Preview for .NET Framework 3.5, 4.7.2 and 4.8 for Windows Server 2019 "
    "for x64 (KB5011267)",
    "KB5011267",
    False,
)
CU_2019 = PendingUpdate(
    "2022-02 Cumulative Update for Windows Server 2019 (1809) for x64-based Systems (KB5010351)",
    "KB5010351",
    True,
)


def _wua_items(fixture: str) -> list[dict]:
    return json.loads(load_fixture(fixture))


def _compress(data: object) -> str:
    return json.dumps(data, separators=(",", ":"))  # as ConvertTo-Json -Compress prints it


def _capture_titles(fixture: str) -> list[str]:
    """The titles of a Linuxfabrik text capture: '[* ]Title [date]' lines."""
    titles = []
    for line in load_fixture(fixture).splitlines():
        if line.endswith("]") and "(KB" in line:
            titles.append(line.removeprefix("* ").rsplit(" [", 1)[0])
    return titles


@pytest.mark.parametrize(
    ("json_fixture", "capture"),
    [
        ("win-wua-pending-3.json", "win-wua-pending-3-linuxfabrik.txt"),
        ("win-wua-pending-ws2019.json", "win-wua-pending-readme-example-ws2019.txt"),
    ],
)
def test_wua_json_fixtures_match_their_captures(json_fixture, capture):
    items = _wua_items(json_fixture)
    titles = _capture_titles(capture)
    assert len(titles) == 3
    assert [item["title"] for item in items] == titles
    for item in items:
        assert f"(KB{item['kbs'][0]})" in item["title"]


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("win-wua-pending-3.json", [CU_2022, NET_2022]),
        ("win-wua-pending-ws2019.json", [MSRT, NET_PREVIEW_2019, CU_2019]),
    ],
)
def test_wua_json_fixtures(fixture, expected):
    assert parsers.parse_wua_json(load_fixture(fixture)) == expected


def test_wua_defender_definitions_excluded():
    text = load_fixture("win-wua-pending-3.json")
    assert "KB2267602" in text
    titles = [u.name for u in parsers.parse_wua_json(text)]
    assert not any("Defender" in title for title in titles)


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"kbs": []},  # by category id alone
        {"category_ids": []},  # by KB2267602 alone
        {"category_ids": [parsers.WUA_DEFINITION_UPDATES.upper()], "kbs": []},
    ],
)
def test_wua_defender_exclusion_routes(change):
    # Derived from win-wua-pending-3.json: its Defender item, with fields removed or changed.
    defender = next(i for i in _wua_items("win-wua-pending-3.json") if "2267602" in i["kbs"])
    assert parsers.parse_wua_json(_compress([{**defender, **change}])) == []


def test_wua_defender_title_alone_is_not_excluded():
    # Derived: neither its KB nor its category left, the item is an ordinary update.
    defender = next(i for i in _wua_items("win-wua-pending-3.json") if "2267602" in i["kbs"])
    text = _compress([{**defender, "kbs": [], "category_ids": []}])
    assert parsers.parse_wua_json(text) == [PendingUpdate(defender["title"], "", False)]


def test_wua_one_element_bare_object():
    # PowerShell 5.1 unwraps a one-element array: the item is printed as a bare object.
    item = _wua_items("win-wua-pending-ws2019.json")[2]
    text = _compress(item)
    assert text.startswith("{")
    assert parsers.parse_wua_json(text) == [CU_2019]


@pytest.mark.parametrize("stdout", ["[]", "[]\r\n"])
def test_wua_an_explicit_empty_list_is_nothing_pending(stdout):
    assert parsers.parse_wua_json(stdout) == []


@pytest.mark.parametrize("stdout", [load_fixture("win-wua-pending-0-linuxfabrik.txt"), "", "\r\n", "Exception",
                                    '{"title"', "42", '["KB1"]'])
def test_wua_no_explicit_answer_is_never_up_to_date(stdout):
    with pytest.raises(ToolFailed) as caught:
        parsers.parse_wua_json(stdout)
    assert render(caught.value.reason, translator("fr")) == (
        "Windows Update n’a pas donné de réponse que Vigie puisse lire.")


def test_wua_zero_pending_capture_is_empty():
    assert load_fixture("win-wua-pending-0-linuxfabrik.txt") == ""


@pytest.mark.parametrize(
    ("change", "security"),
    [
        ({"category_ids": [], "msrc_severity": "Important"}, True),  # severity alone
        ({"msrc_severity": ""}, True),  # security category alone
        ({"msrc_severity": None}, True),
        ({"category_ids": [parsers.WUA_SECURITY_UPDATES.upper()], "msrc_severity": ""}, True),
        ({"category_ids": ["cd5ffd1e-e932-4e3a-bf74-18bf0b1bbd83"], "msrc_severity": "  "}, False),
    ],
)
def test_wua_security_routes(change, security):
    # Derived from win-wua-pending-ws2019.json: its security cumulative update, fields changed.
    item = _wua_items("win-wua-pending-ws2019.json")[2]
    (update,) = parsers.parse_wua_json(_compress([{**item, **change}]))
    assert update.security is security
    assert update.version == "KB5010351"


SIX_KBS = ["5065999", "5011267", "890830", "5065432", "5010351", "2267603"]


def test_wua_several_kbs_sorted_and_null_fields():
    # CONSTRUCTED: an update with several KB articles, and one whose COM properties were all null.
    text = _compress([
        {"title": "Six articles", "kbs": SIX_KBS, "category_ids": None, "msrc_severity": None},
        {"title": None, "kbs": None, "category_ids": None, "msrc_severity": None},
    ])
    assert parsers.parse_wua_json(text) == [
        PendingUpdate("Six articles", "KB2267603,KB5010351,KB5011267,KB5065432,KB5065999,KB890830", False),
        PendingUpdate("?", "", False),
    ]


def test_wua_unreadable_output_raises():
    with pytest.raises(ToolFailed):
        parsers.parse_wua_json(load_fixture("win-wua-pending-3-linuxfabrik.txt"))


def test_windows_pending_updates_with_fake_search(monkeypatch):
    calls: list[float] = []

    def wua_search(timeout: float) -> str:
        calls.append(timeout)
        return load_fixture("win-wua-pending-ws2019.json")

    monkeypatch.setattr(windows, "wua_search", wua_search)
    status = WindowsPlatform().pending_updates(30)
    assert calls == [30]
    assert status == UpdateStatus("windows_update", (MSRT, NET_PREVIEW_2019, CU_2019))
    assert status.security_updates == (CU_2019,)


def test_windows_pending_updates_empty(monkeypatch):
    monkeypatch.setattr(windows, "wua_search", lambda timeout: "[]")
    assert WindowsPlatform().pending_updates(5) == UpdateStatus("windows_update", ())


def test_windows_update_without_an_answer_is_unknown_never_up_to_date(monkeypatch):
    """Only the OS call (the PowerShell search) is replaced: it printed nothing."""
    from datetime import datetime

    from vigie.check import CheckContext
    from vigie.config.schema import Config
    from vigie.events import Tick
    from vigie.features.os_updates.check import OsUpdatesCheck
    from vigie.journal import Journal
    from vigie.model import Severity

    monkeypatch.setattr(windows, "wua_search", lambda timeout: "")
    ctx = CheckContext(WindowsPlatform(), Config(), Journal.in_memory(), lambda: datetime.now().astimezone())
    finding = OsUpdatesCheck().evaluate(Tick(), ctx)
    fr = translator("fr")
    assert finding.severity == Severity.UNKNOWN
    assert render(finding.title, fr) == "Vigie n’a pas pu vérifier les mises à jour."
    assert render(finding.detail, fr) == "Windows Update n’a pas donné de réponse que Vigie puisse lire."


@pytest.mark.skipif(shutil.which("powershell.exe") is not None, reason="powershell.exe exists here")
def test_windows_pending_updates_without_powershell_is_tool_missing():
    with pytest.raises(ToolMissing) as excinfo:
        WindowsPlatform().pending_updates(5)
    assert excinfo.value.reason.params["tool"] == "powershell.exe"


def test_wua_search_script_criteria():
    assert "IsInstalled=0 and IsHidden=0 and Type='Software'" in windows.WUA_SEARCH_SCRIPT
    for field in ("title", "kbs", "category_ids", "msrc_severity"):
        assert f"{field} = " in windows.WUA_SEARCH_SCRIPT


@pytest.mark.parametrize("script", [windows.WUA_SEARCH_SCRIPT, "Write-Output 'Café ✓'"])
def test_encoded_round_trips(script):
    encoded = windows._encoded(script)
    assert encoded.isascii()
    raw = base64.b64decode(encoded, validate=True)
    assert raw == script.encode("utf-16-le")  # UTF-16-LE, no byte order mark
    assert raw.decode("utf-16-le") == script
