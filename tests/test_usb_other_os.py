"""USB drives on macOS and Windows: the pure parsers on real captures (tests/fixtures/), and the
platforms with only their small OS-call functions replaced.

Each fixture file names its source in its `# SOURCE:` header; the plist fixture is derived from
the NTFS sample (see its NOTE). Samples written here inline are marked CONSTRUCTED.
"""

from __future__ import annotations

import plistlib
import sys

import pytest

from fixture_files import load_fixture
from vigie.model import T
from vigie.platform import macos, parsers, proc, windows
from vigie.platform.base import NotSupported, ScanResult, ToolFailed, Volume
from vigie.platform.macos import MacPlatform
from vigie.platform.windows import WindowsPlatform

NTFS_UUID = "FFCC5E90-000D-445B-B86C-9F8E5C3BC37E"


def plist(**keys: object) -> bytes:
    """CONSTRUCTED: a diskutil-style plist holding only the given keys."""
    return plistlib.dumps(keys)


# --- diskutil, human format (real captures) ----------------------------------------------------

def test_diskutil_text_usb_ntfs_partition() -> None:
    volume = parsers.volume_from_diskutil_text(load_fixture("macos-diskutil-info-usb-ntfs.txt"))
    assert volume == Volume(device="/dev/disk6s2", mount_point="/Volumes/WDUSBTEMP", fs_type="ntfs",
                            label="WDUSBTEMP", uuid=NTFS_UUID, size_bytes=2000153477120, removable=True)


def test_diskutil_text_usb_stick_saying_fixed_is_removable() -> None:
    """'Removable Media: Fixed' on a USB stick: Protocol USB / Device Location External decide."""
    text = load_fixture("macos-diskutil-info-usb-flash-fixed.txt")
    assert parsers.parse_diskutil_info_text(text)["Removable Media"] == "Fixed"
    volume = parsers.volume_from_diskutil_text(text)
    assert volume is not None
    assert volume.removable is True
    assert (volume.device, volume.size_bytes) == ("/dev/disk2", 4009754624)
    # "Not applicable (no file system)" and "File System: None" are no values.
    assert (volume.mount_point, volume.label, volume.fs_type, volume.uuid) == ("", "", "", "")


def test_diskutil_text_location_alone_and_disk_image() -> None:
    external = "   Device Node:   /dev/disk4s1\n   Protocol:   Thunderbolt\n   Device Location:   External\n"
    internal = "   Device Node:   /dev/disk0s2\n   Protocol:   Apple Fabric\n   Device Location:   Internal\n"
    image = "   Device Node:   /dev/disk9s1\n   Protocol:   Disk Image\n   Device Location:   External\n"
    assert parsers.volume_from_diskutil_text(external).removable is True  # CONSTRUCTED
    assert parsers.volume_from_diskutil_text(internal).removable is False  # CONSTRUCTED
    assert parsers.volume_from_diskutil_text(image).removable is False  # CONSTRUCTED
    assert parsers.volume_from_diskutil_text("Could not find disk: /Volumes/x\n") is None


# --- diskutil -plist ---------------------------------------------------------------------------

def test_diskutil_plist_derived_from_ntfs_sample_matches_text_parser() -> None:
    from_plist = parsers.volume_from_diskutil_plist(load_fixture("macos-diskutil-info-plist-usb-ntfs.xml").encode())
    from_text = parsers.volume_from_diskutil_text(load_fixture("macos-diskutil-info-usb-ntfs.txt"))
    assert from_plist is not None
    assert from_plist == from_text
    assert from_plist.identity == NTFS_UUID


@pytest.mark.parametrize(("keys", "removable"), [
    ({"BusProtocol": "USB", "RemovableMedia": False}, True),  # the "Fixed" USB stick
    ({"BusProtocol": "PCI-Express", "Internal": False}, True),  # Thunderbolt SSD
    ({"BusProtocol": "SATA", "RemovableMediaOrExternalDevice": True}, True),
    ({"BusProtocol": "Apple Fabric", "Internal": True, "RemovableMediaOrExternalDevice": False}, False),
    ({"BusProtocol": "Disk Image", "Internal": False, "RemovableMediaOrExternalDevice": True}, False),
    ({}, False),
])
def test_diskutil_plist_removable(keys: dict, removable: bool) -> None:
    volume = parsers.volume_from_diskutil_plist(plist(DeviceNode="/dev/disk4s1", MountPoint="/Volumes/X", **keys))
    assert volume is not None and volume.removable is removable


def test_diskutil_plist_fallbacks_and_unreadable() -> None:
    volume = parsers.volume_from_diskutil_plist(plist(
        DeviceIdentifier="disk5s1", MountPoint="/Volumes/NO NAME", FilesystemName="MS-DOS FAT32",
        DiskUUID="AAAA-BBBB", Size=31_000_000_000, TotalSize=True))
    assert volume == Volume("/dev/disk5s1", "/Volumes/NO NAME", "MS-DOS FAT32", "", "AAAA-BBBB", 31_000_000_000)
    assert parsers.volume_from_diskutil_plist(b"Could not find disk: /Volumes/Gone\n") is None
    assert parsers.volume_from_diskutil_plist(b"<?xml version='1.0'?><plist><dict><key>") is None
    assert parsers.volume_from_diskutil_plist(plistlib.dumps(["not", "a", "dict"])) is None
    assert parsers.volume_from_diskutil_plist(plist(VolumeName="no device")) is None


# --- MacPlatform ---------------------------------------------------------------------------------

ODD_LABEL = ' Sauvegarde: été & <2024> / "clé" '


def test_mac_mounted_volumes(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {
        "/Volumes/WDUSBTEMP": load_fixture("macos-diskutil-info-plist-usb-ntfs.xml").encode(),
        "/Volumes/odd": plist(DeviceNode="/dev/disk7s1", MountPoint="/Volumes/odd", VolumeName=ODD_LABEL,
                              FilesystemType="exfat", VolumeUUID="1234", BusProtocol="USB", TotalSize=64),
        "/Volumes/Data": plist(DeviceNode="/dev/disk3s5", MountPoint="/Volumes/Data", FilesystemType="apfs",
                               Internal=True, BusProtocol="Apple Fabric"),
        "/Volumes/garbage": b"not a plist",
        "/Volumes/unmounted meanwhile": plist(DeviceNode="/dev/disk8s1"),
    }
    asked = []

    def diskutil(mount_point: str) -> bytes:
        asked.append(mount_point)
        if mount_point == "/Volumes/failing":
            raise ToolFailed(macos.T("The program {tool} failed (code {code}).", tool="diskutil", code=1), "boom")
        return answers[mount_point]

    monkeypatch.setattr(macos, "volumes_mount_points", lambda: ["/Volumes/failing", *answers])
    monkeypatch.setattr(macos, "diskutil_info_plist", diskutil)
    volumes = MacPlatform().mounted_volumes()
    assert asked == ["/Volumes/failing", *answers]  # a failure does not stop the scan
    assert [v.mount_point for v in volumes] == ["/Volumes/WDUSBTEMP", "/Volumes/odd", "/Volumes/Data"]
    assert [v.removable for v in volumes] == [True, True, False]
    assert volumes[1].label == ODD_LABEL  # kept exactly, spaces included
    assert volumes[1].identity == "1234"


def test_mac_volumes_mount_points_leaves_out_non_mounts(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    (tmp_path / "plain dir").mkdir()
    (tmp_path / "Macintosh HD").symlink_to("/")
    monkeypatch.setattr(macos, "VOLUMES_DIR", str(tmp_path))
    assert macos.volumes_mount_points() == []
    monkeypatch.setattr(macos, "VOLUMES_DIR", str(tmp_path / "missing"))
    assert macos.volumes_mount_points() == []


def test_mac_still_has_no_mount_event() -> None:
    with pytest.raises(NotSupported):
        MacPlatform().wait_for_mount_change(1.0)


class Recorder:
    """Stands in for proc.run at the OS edge: records (argv, timeout); fails for argv[:2] in `fail`."""

    def __init__(self, fail: tuple[tuple[str, ...], ...] = ()) -> None:
        self.calls: list[tuple[list[str], float]] = []
        self.fail = fail

    def __call__(self, argv, timeout, **kwargs) -> proc.Result:
        self.calls.append((list(argv), timeout))
        if tuple(argv[:2]) in self.fail:
            raise ToolFailed(macos.T("The program {tool} failed (code {code}).", tool=argv[0], code=1), "busy")
        return proc.Result(0, "", "")


USB = Volume("/dev/disk6s2", "/Volumes/WDUSBTEMP", "ntfs", "WDUSBTEMP", NTFS_UUID, 1, True)


def test_mac_eject(monkeypatch: pytest.MonkeyPatch) -> None:
    run = Recorder()
    monkeypatch.setattr(proc, "run", run)
    MacPlatform().eject(USB)
    assert run.calls == [(["diskutil", "eject", "/dev/disk6s2"], 60)]


def test_mac_eject_falls_back_to_unmount(monkeypatch: pytest.MonkeyPatch) -> None:
    run = Recorder(fail=(("diskutil", "eject"),))
    monkeypatch.setattr(proc, "run", run)
    MacPlatform().eject(USB)
    assert run.calls == [(["diskutil", "eject", "/dev/disk6s2"], 60),
                         (["diskutil", "unmount", "/Volumes/WDUSBTEMP"], 60)]


def test_mac_eject_never_passes_an_odd_device(monkeypatch: pytest.MonkeyPatch) -> None:
    run = Recorder()
    monkeypatch.setattr(proc, "run", run)
    MacPlatform().eject(Volume("-force", "/Volumes/X", "msdos"))
    assert run.calls == [(["diskutil", "unmount", "/Volumes/X"], 60)]
    with pytest.raises(ToolFailed):
        MacPlatform().eject(Volume("disk6s2; rm -rf /", "", "msdos"))
    assert len(run.calls) == 1


def test_mac_eject_failure_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    run = Recorder(fail=(("diskutil", "eject"), ("diskutil", "unmount")))
    monkeypatch.setattr(proc, "run", run)
    with pytest.raises(ToolFailed):
        MacPlatform().eject(USB)
    assert len(run.calls) == 2


# --- Windows: pure helpers -----------------------------------------------------------------------

def test_format_volume_serial() -> None:
    assert windows.format_volume_serial(0xD44E9303) == "D44E-9303"  # os-facts: same as Linux FAT UUID
    assert windows.format_volume_serial(0x0000ABCD) == "0000-ABCD"
    assert windows.format_volume_serial(-1) == "FFFF-FFFF"  # a signed DWORD read back


@pytest.mark.parametrize(("drive_type", "bus_type", "removable"), [
    (windows.DRIVE_REMOVABLE, None, True),
    (windows.DRIVE_FIXED, windows.BUS_TYPE_USB, True),  # USB hard disk saying DRIVE_FIXED
    (windows.DRIVE_FIXED, 11, False),  # SATA
    (windows.DRIVE_FIXED, 17, False),  # NVMe
    (windows.DRIVE_FIXED, None, False),
])
def test_windows_removable(drive_type: int, bus_type: int | None, removable: bool) -> None:
    assert windows.windows_removable(drive_type, bus_type) is removable


def test_drive_letters() -> None:
    assert windows.drive_letters(0b10101) == ["A:", "C:", "E:"]
    assert windows.drive_letters(1 << 25) == ["Z:"]
    assert windows.drive_letters(0) == []


# --- WindowsPlatform -----------------------------------------------------------------------------

def fake_windows(monkeypatch: pytest.MonkeyPatch, drives: dict[str, dict]) -> None:
    """Only the small ctypes functions are replaced; a drive's dict gives their answers."""
    mask = sum(1 << (ord(letter[0]) - ord("A")) for letter in drives)
    monkeypatch.setattr(windows, "logical_drives_mask", lambda: mask)
    monkeypatch.setattr(windows, "drive_type", lambda root: drives[root[:2]]["type"])
    monkeypatch.setattr(windows, "volume_information", lambda root: drives[root[:2]].get("info"))
    monkeypatch.setattr(windows, "disk_total_bytes", lambda root: drives[root[:2]].get("size"))
    monkeypatch.setattr(windows, "storage_bus_type", lambda letter: drives[letter]["bus"])
    monkeypatch.setenv("SYSTEMDRIVE", "C:")


def test_windows_mounted_volumes(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_windows(monkeypatch, {
        "C:": {"type": 3, "info": ("Windows", 0x11112222, "NTFS"), "size": 500, "bus": 17},
        "D:": {"type": 3, "info": ("Data", 0x33334444, "NTFS"), "size": 1000, "bus": 11},
        "E:": {"type": 3, "info": ("WD Passport", 0xD44E9303, "exFAT"), "size": 2000, "bus": 7},
        "F:": {"type": 2, "info": (ODD_LABEL, 0xABCD, "FAT32"), "size": None, "bus": None},
        "G:": {"type": windows.DRIVE_NO_ROOT_DIR, "bus": None},  # unplugged after GetLogicalDrives
        "H:": {"type": 2, "info": None, "bus": 7},  # gone (or emptied) before GetVolumeInformation
        "M:": {"type": 5, "info": ("CDROM", 1, "CDFS"), "bus": 1},  # optical
        "Z:": {"type": 4, "info": ("share", 2, "NTFS"), "bus": None},  # network
    })
    volumes = WindowsPlatform().mounted_volumes()
    assert volumes == [
        Volume("D:", "D:\\", "NTFS", "Data", "3333-4444", 1000, False),
        Volume("E:", "E:\\", "exFAT", "WD Passport", "D44E-9303", 2000, True),
        Volume("F:", "F:\\", "FAT32", ODD_LABEL, "0000-ABCD", None, True),
    ]


def test_windows_system_drive_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_windows(monkeypatch, {
        "C:": {"type": 3, "info": ("Old", 1, "NTFS"), "size": 1, "bus": 11},
        "D:": {"type": 3, "info": ("Windows", 2, "NTFS"), "size": 1, "bus": 11},
    })
    monkeypatch.setenv("SYSTEMDRIVE", "d:")
    assert [v.device for v in WindowsPlatform().mounted_volumes()] == ["C:"]


@pytest.mark.skipif(sys.platform == "win32", reason="off Windows only: on Windows the window is real "
                    "(tests/test_windows_lane.py, the USB pop-up)")
def test_windows_still_has_no_mount_event() -> None:
    with pytest.raises(NotSupported):
        WindowsPlatform().wait_for_mount_change(1.0)


def test_windows_eject(monkeypatch: pytest.MonkeyPatch) -> None:
    run = Recorder()
    monkeypatch.setattr(proc, "run", run)
    WindowsPlatform().eject(Volume("E:", "E:\\", "exFAT", "WD Passport", "D44E-9303", 2000, True))
    [(argv, timeout)] = run.calls
    assert timeout == 60
    assert argv[0] == "powershell.exe" and argv[-2] == "-Command"
    assert argv[-1] == ("(New-Object -ComObject Shell.Application).Namespace(17)"
                        ".ParseName('E:').InvokeVerb('Eject')")


@pytest.mark.parametrize("device", ["E:; rm", "E:\n", "e:", "E:'", "E:\\", "EE:", "", "E:') ; calc ; ('"])
def test_windows_eject_refuses_anything_but_a_letter(monkeypatch: pytest.MonkeyPatch, device: str) -> None:
    run = Recorder()
    monkeypatch.setattr(proc, "run", run)
    with pytest.raises(ToolFailed):
        WindowsPlatform().eject(Volume(device, "E:\\", "exFAT"))
    assert run.calls == []


# --- Microsoft Defender: only its explicit answer counts (issue 15, point 1) -----------------------

THREAT_CAPTURE = ("win-mpcmdrun-scan-threat-rbtree.txt", "C:\\Users\\rbtree\\Desktop\\Test\\test.html")
CLEAN_CAPTURE = ("win-mpcmdrun-scan-clean.txt", "C:\\temp\\tempFiles\\P1090487.JPG")
FAILED = load_fixture("win-mpcmdrun-scan-failed-80508023-zweilosec.txt")
DISABLED = load_fixture("win-mpcmdrun-scan-disabled-yolofy.txt")
STICK_E = Volume("E:", "E:\\", "FAT32", "CLE", "D44E-9303", 8_000_000_000, True)


def on_drive_e(capture: tuple[str, str]) -> str:
    """CONSTRUCTED from a real capture: the path it scanned replaced by the drive's root."""
    name, scanned = capture
    return load_fixture(name).replace(scanned, "E:\\")


def test_mpcmdrun_answers_in_real_captures() -> None:
    assert parsers.parse_mpcmdrun_scan(load_fixture(THREAT_CAPTURE[0]), THREAT_CAPTURE[1]) == 1
    assert parsers.parse_mpcmdrun_scan(load_fixture(CLEAN_CAPTURE[0]), CLEAN_CAPTURE[1]) == 0
    assert parsers.parse_mpcmdrun_scan(load_fixture(CLEAN_CAPTURE[0]), CLEAN_CAPTURE[1].lower()) == 0  # no case
    assert parsers.parse_mpcmdrun_scan(load_fixture(CLEAN_CAPTURE[0]), "E:\\") is None  # about another path
    assert parsers.parse_mpcmdrun_scan(FAILED, "\\\\10.10.14.187\\test") is None  # hr = 0x80508023
    assert parsers.parse_mpcmdrun_scan(DISABLED, "E:\\") is None  # Defender switched off
    assert parsers.parse_mpcmdrun_scan("", "E:\\") is None


class MpCmdRun:
    """Stands in for proc.run at the OS edge: MpCmdRun's exit code and output; `then` runs before it
    answers (the drive pulled out meanwhile)."""

    def __init__(self, returncode: int, stdout: str, then=lambda: None) -> None:
        self.answer = proc.Result(returncode, stdout, "")
        self.then = then
        self.argv: list[str] = []

    def __call__(self, argv, timeout, **kwargs) -> proc.Result:
        self.argv = list(argv)
        self.then()
        return self.answer


@pytest.mark.parametrize(("returncode", "stdout", "threats"), [
    (0, on_drive_e(CLEAN_CAPTURE), 0),
    (2, on_drive_e(THREAT_CAPTURE), 1),
], ids=["clean", "threat"])
def test_defender_explicit_answers(monkeypatch: pytest.MonkeyPatch, returncode: int, stdout: str,
                                   threats: int) -> None:
    run = MpCmdRun(returncode, stdout)
    monkeypatch.setattr(proc, "run", run)
    result = WindowsPlatform().scan_volume(STICK_E, 60)
    assert result == ScanResult("Microsoft Defender", ("Windows Security",) * threats, unread=0)
    assert run.argv[1:] == ["-Scan", "-ScanType", "3", "-File", "E:\\", "-DisableRemediation"]


@pytest.mark.parametrize(("returncode", "stdout"), [
    (2, FAILED),  # the scan failed: exit 2, as for threats, was read as « Menace trouvée »
    (2, DISABLED),  # Defender switched off by another antivirus: exit 2 as well
    (0, ""),  # nothing said: was « Aucune menace trouvée »
    (0, "Scan starting...\n"),  # cut short
    (2, on_drive_e(CLEAN_CAPTURE)),  # "no threats" with the threats' exit code: no clear answer
    (0, on_drive_e(THREAT_CAPTURE)),
], ids=["failed-0x80508023", "defender-off", "empty", "cut-short", "clean-with-exit-2", "threat-with-exit-0"])
def test_defender_without_an_explicit_answer_is_no_result(monkeypatch: pytest.MonkeyPatch, returncode: int,
                                                          stdout: str) -> None:
    monkeypatch.setattr(proc, "run", MpCmdRun(returncode, stdout))
    with pytest.raises(ToolFailed) as failed:
        WindowsPlatform().scan_volume(STICK_E, 60)
    assert failed.value.reason == T("Microsoft Defender gave no result for the drive.")


def test_defender_clean_but_the_drive_left_meanwhile_is_not_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows end to end through the USB guard: Defender says "found no threats", but the drive letter
    went while it read. Only GetLogicalDrives & co (ctypes) and MpCmdRun (proc.run) are stood in for."""
    import harness
    from support.fake_services import Recorder as Core
    from vigie.features.usb.events import VolumeChoice, VolumeScanned
    from vigie.features.usb.guard import UsbGuard

    system = {"C:": {"type": 3, "info": ("Windows", 0x11112222, "NTFS"), "size": 500, "bus": 17}}
    fake_windows(monkeypatch, {**system, "E:": {"type": 2, "info": ("CLE", 0xD44E9303, "FAT32"),
                                                 "size": 8_000_000_000, "bus": 7}})
    monkeypatch.setattr(proc, "run", MpCmdRun(0, on_drive_e(CLEAN_CAPTURE),
                                              then=lambda: fake_windows(monkeypatch, system)))
    [stick] = [v for v in WindowsPlatform().mounted_volumes() if v.removable]
    core = Core(platform=WindowsPlatform())
    guard = UsbGuard(core.services())
    guard.handle(VolumeChoice(stick, "scan"))
    [scanned] = harness.wait_for(lambda: [e for e in core.submitted if isinstance(e, VolumeScanned)],
                                 timeout=5, what="the scan's end")
    guard.handle(scanned)
    assert core.said()[-1] == ("L’analyse de «\u00a0CLE\u00a0» n’a pas pu se faire",
                               "Le support a été retiré pendant l’analyse.")
    assert [data for _, kind, data in core.journal.events() if kind == "usb_scan"] == [
        {"label": "CLE", "uuid": "D44E-9303", "done": False}]
