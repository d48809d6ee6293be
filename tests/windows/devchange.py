"""A USB stick arriving on Windows, as far as Wine lets us make one (run with Windows' Python).

    devchange.py arrive R /linux/folder    drive R: (DRIVE_REMOVABLE) on that folder, then the broadcast

Wine's mount manager (IOCTL_MOUNTMGR_DEFINE_UNIX_DRIVE, what winecfg uses) gives the letter; Wine 8 does
not broadcast the arrival itself, so this script sends WM_DEVICECHANGE DBT_DEVICEARRIVAL with a
DEV_BROADCAST_VOLUME to every top-level window, as Windows' mount manager does for a USB stick.
Vigie's hidden window and its handling are real; only the sender is us.
The stick leaving cannot be made: Wine 8's mount manager keeps the letter in GetLogicalDrives after the
drive is undefined (and after its dosdevices links are removed), so the pop-up closing with its stick
is tested where removal is real (Linux) and on the broadcast parser (test_usb_events_other_os.py).
"""

from __future__ import annotations

import ctypes
import struct
import sys
from ctypes import wintypes

from vigie.platform.windows import (
    DBT_DEVICEARRIVAL,
    DBT_DEVTYP_VOLUME,
    DEV_BROADCAST_VOLUME,
    WM_DEVICECHANGE,
)

DRIVE_REMOVABLE = 2
IOCTL_MOUNTMGR_DEFINE_UNIX_DRIVE = (0x6D << 16) | (3 << 14) | (32 << 2)
HWND_BROADCAST, SMTO_ABORTIFHUNG = 0xFFFF, 0x0002

kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
kernel32.CreateFileW.restype = wintypes.HANDLE
kernel32.CreateFileW.argtypes = [wintypes.LPCWSTR, wintypes.DWORD, wintypes.DWORD, ctypes.c_void_p, wintypes.DWORD,
                                 wintypes.DWORD, wintypes.HANDLE]
kernel32.DeviceIoControl.argtypes = [wintypes.HANDLE, wintypes.DWORD, ctypes.c_void_p, wintypes.DWORD, ctypes.c_void_p,
                                     wintypes.DWORD, ctypes.POINTER(wintypes.DWORD), ctypes.c_void_p]
kernel32.CloseHandle.argtypes = [wintypes.HANDLE]
user32 = ctypes.WinDLL("user32", use_last_error=True)
user32.SendMessageTimeoutW.argtypes = [wintypes.HWND, wintypes.UINT, ctypes.c_size_t, ctypes.c_ssize_t, wintypes.UINT,
                                       wintypes.UINT, ctypes.POINTER(ctypes.c_size_t)]
user32.SendMessageTimeoutW.restype = ctypes.c_ssize_t


def define_drive(letter: str, unix_path: str) -> None:
    """mountmgr's struct mountmgr_unix_drive: size, type, fs_type, serial, padding, letter, offsets."""
    header = 32
    path = unix_path.encode() + b"\0"
    data = struct.pack("<IIIIQHHHH", header + len(path), DRIVE_REMOVABLE, 2, 0x1234ABCD, 0, ord(letter.lower()),
                       header, 0, 0) + path
    handle = kernel32.CreateFileW(r"\\.\MountPointManager", 0xC0000000, 3, None, 3, 0, None)
    if handle in (None, wintypes.HANDLE(-1).value):
        raise ctypes.WinError(ctypes.get_last_error())
    try:
        buffer, returned = ctypes.create_string_buffer(data, len(data)), wintypes.DWORD()
        if not kernel32.DeviceIoControl(handle, IOCTL_MOUNTMGR_DEFINE_UNIX_DRIVE, buffer, len(data), None, 0,
                                        ctypes.byref(returned), None):
            raise ctypes.WinError(ctypes.get_last_error())
    finally:
        kernel32.CloseHandle(handle)


def broadcast(event: int, letter: str) -> None:
    volume = DEV_BROADCAST_VOLUME(ctypes.sizeof(DEV_BROADCAST_VOLUME), DBT_DEVTYP_VOLUME, 0,
                                  1 << (ord(letter.upper()) - ord("A")), 0)
    result = ctypes.c_size_t()
    if not user32.SendMessageTimeoutW(HWND_BROADCAST, WM_DEVICECHANGE, event, ctypes.addressof(volume),
                                      SMTO_ABORTIFHUNG, 5000, ctypes.byref(result)):
        raise ctypes.WinError(ctypes.get_last_error())


def main(argv: list[str]) -> int:
    action, letter, folder = argv
    if action != "arrive":
        raise SystemExit(__doc__)
    define_drive(letter, folder)
    broadcast(DBT_DEVICEARRIVAL, letter)
    print(action, letter, "done")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
