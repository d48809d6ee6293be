"""Windows process identity for the installer and for toasts; both functions do nothing elsewhere.

- hold_app_mutexes(): the named mutexes Inno Setup's AppMutex looks for, so an upgrade or an
  uninstall waits for Vigie to quit (installer/windows/vigie.iss lists the same names). The
  session-local name covers the installing user's session, the Global\\ one every other session.
  The handles are never closed: Windows drops them when the process ends, crash included.
- set_app_user_model_id(): toasts, the taskbar and the tray balloon say "Vigie" rather than
  "Python"; desktop-notifier registers the same id under HKCU\\SOFTWARE\\Classes\\AppUserModelId.

Call both once at agent start, before the tray is created.
"""

from __future__ import annotations

import logging
import sys

from vigie import APP_NAME

log = logging.getLogger(__name__)

MUTEX_NAME = "VigieAgent"
MUTEX_NAMES = (MUTEX_NAME, f"Global\\{MUTEX_NAME}")  # case-sensitive, like Inno's AppMutex
APP_USER_MODEL_ID = APP_NAME  # desktop-notifier uses its app_name as the AppUserModelID

# SYSTEM, Administrators and interactive users get full access; Everyone may wait on it
# (SYNCHRONIZE), which is all Setup's OpenMutex asks, even from another user's session.
MUTEX_SDDL = "D:(A;;0x001F0001;;;SY)(A;;0x001F0001;;;BA)(A;;0x001F0001;;;IU)(A;;0x00100000;;;WD)"
_SDDL_REVISION_1 = 1
_SYNCHRONIZE = 0x00100000
_ERROR_ACCESS_DENIED = 5

_held: list[int] = []  # module-level: the handles live as long as the process


def hold_app_mutexes() -> list[int]:
    """Create (or open) every name in MUTEX_NAMES and keep the handles; [] outside Windows."""
    if sys.platform != "win32" or _held:
        return list(_held)
    for name in MUTEX_NAMES:
        try:
            handle = _create_mutex(name)
        except OSError as exc:  # never stop the agent for this: upgrades just won't wait for it
            log.warning("cannot hold mutex %s: %s", name, exc)
            continue
        _held.append(handle)
    return list(_held)


def set_app_user_model_id() -> bool:
    """SetCurrentProcessExplicitAppUserModelID(APP_USER_MODEL_ID); False outside Windows or on failure."""
    if sys.platform != "win32":
        return False
    import ctypes

    result = ctypes.windll.shell32.SetCurrentProcessExplicitAppUserModelID(ctypes.c_wchar_p(APP_USER_MODEL_ID))
    if result != 0:
        log.warning("SetCurrentProcessExplicitAppUserModelID failed: HRESULT %#x", result & 0xFFFFFFFF)
    return result == 0


def _create_mutex(name: str) -> int:
    import ctypes
    from ctypes import wintypes

    class SecurityAttributes(ctypes.Structure):
        _fields_ = [("nLength", wintypes.DWORD), ("lpSecurityDescriptor", wintypes.LPVOID),
                    ("bInheritHandle", wintypes.BOOL)]

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    advapi32 = ctypes.WinDLL("advapi32", use_last_error=True)
    kernel32.CreateMutexW.restype = wintypes.HANDLE
    kernel32.CreateMutexW.argtypes = [ctypes.POINTER(SecurityAttributes), wintypes.BOOL, wintypes.LPCWSTR]
    kernel32.OpenMutexW.restype = wintypes.HANDLE
    kernel32.OpenMutexW.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.LPCWSTR]
    kernel32.LocalFree.argtypes = [wintypes.LPVOID]
    convert = advapi32.ConvertStringSecurityDescriptorToSecurityDescriptorW
    convert.restype = wintypes.BOOL
    convert.argtypes = [wintypes.LPCWSTR, wintypes.DWORD, ctypes.POINTER(wintypes.LPVOID),
                        ctypes.POINTER(wintypes.ULONG)]

    descriptor = wintypes.LPVOID()
    if not convert(MUTEX_SDDL, _SDDL_REVISION_1, ctypes.byref(descriptor), None):
        raise ctypes.WinError(ctypes.get_last_error())
    try:
        attributes = SecurityAttributes(ctypes.sizeof(SecurityAttributes), descriptor, False)
        handle = kernel32.CreateMutexW(ctypes.byref(attributes), False, name)
        error = ctypes.get_last_error()
    finally:
        kernel32.LocalFree(descriptor)
    if not handle and error == _ERROR_ACCESS_DENIED:
        # Another user's instance made it and we may not have full access: waiting rights are
        # enough to keep the name alive.
        handle = kernel32.OpenMutexW(_SYNCHRONIZE, False, name)
        error = ctypes.get_last_error()
    if not handle:
        raise ctypes.WinError(error)
    return int(handle)
