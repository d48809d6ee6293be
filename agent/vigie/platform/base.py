"""The Platform contract: what Vigie asks of the operating system, and how it says no.

Per-OS modules only fetch data (each OS call in one small function); parsing lives in
`parsers` and is tested on real captured outputs. Every method exists on every OS: an OS that
cannot do something raises NotSupported with a reason the user can read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Protocol

from vigie.model import Text
from vigie.platform.errors import (  # noqa: F401 - re-exported: the contract's errors
    LockUnproven,
    NotSupported,
    PlatformError,
    ToolFailed,
    ToolMissing,
    ToolTimeout,
)


@dataclass(frozen=True)
class PendingUpdate:
    name: str
    version: str = ""
    security: bool = False


@dataclass(frozen=True)
class UpdateStatus:
    source: str  # "apt", "dnf", "windows_update", "softwareupdate"
    updates: tuple[PendingUpdate, ...]

    @property
    def security_updates(self) -> tuple[PendingUpdate, ...]:
        return tuple(u for u in self.updates if u.security)


@dataclass(frozen=True)
class IdleState:
    seconds: float  # since the last keyboard or mouse input
    screensaver_active: bool = False
    source: str = ""


@dataclass(frozen=True)
class LockProof:
    """A lock that was seen to happen: `how` locked it, `proof` is what showed the session locked."""

    how: str  # "org.gnome.ScreenSaver", "i3lock", "LockWorkStation"…
    proof: str  # "org.gnome.ScreenSaver GetActive", "keyboard grab", "logind LockedHint", "input desktop"…


@dataclass(frozen=True)
class LockRoute:
    """How Vigie would lock this session now, and how that lock is proven each time (None: Vigie
    cannot tell in advance whether that way really locks, e.g. a program it does not know)."""

    how: str
    proof: str | None


@dataclass(frozen=True)
class LockPolicy:
    """The OS's own automatic lock: `lock_after_seconds` None means it never locks by itself."""

    lock_after_seconds: int | None
    source: str  # "gnome", "kde", "windows", "macos"
    detail: str = ""  # what was read, for the log and the JSON facts


@dataclass(frozen=True)
class Volume:
    """A mounted file system, as the user would see it (label may hold any character)."""

    device: str
    mount_point: str
    fs_type: str
    label: str = ""
    uuid: str = ""  # file-system UUID or volume serial; "" when unknown
    size_bytes: int | None = None
    removable: bool = False  # a USB stick or disk, as far as the OS can tell
    # The kernel's id of this mount (Linux; "" elsewhere): the same stick unmounted and mounted again at
    # the same place between two looks is a new mount, which the volume watch must not miss.
    mount_id: str = field(default="", compare=False)

    @property
    def identity(self) -> str:
        """What Vigie remembers it by."""
        return self.uuid or f"{self.label}|{self.size_bytes}|{self.fs_type}"


class MountChange(IntEnum):
    """What Platform.wait_for_mount_change() saw."""

    NONE = 0  # the timeout passed
    CHANGED = 1  # the mounts changed: look at them
    UNSEEN = 2  # the OS said they changed, yet they read as at the last look: a mount came and went between


@dataclass(frozen=True)
class ScanResult:
    """A scanner's explicit answer. A scan that gave none raises PlatformError instead."""

    scanner: str
    findings: tuple[str, ...]  # "file name: threat" (names only, never contents)
    unread: int = 0  # files or folders it did not check whole (unreadable, too big, skipped): not clean

    @property
    def infected(self) -> bool:
        return bool(self.findings)


# What a connection is, in the words the user knows (NetworkState.kinds): the guide names these, never
# an interface name (issue 19, point 2).
WIRED, WIFI, MOBILE, PHONE, VPN, OTHER = "wired", "wifi", "mobile", "phone", "vpn", "other"


@dataclass(frozen=True)
class NetworkState:
    """Is this computer still connected? ("cut": no default route, no routable address in use.)"""

    connected: tuple[str, ...]  # interfaces with a routable address and a route through them
    default_via: tuple[str, ...]  # interfaces that carry a default route
    kinds: tuple[tuple[str, str], ...] = ()  # (interface, WIRED | WIFI | …) where the platform knows it

    @property
    def cut(self) -> bool:
        return not self.connected and not self.default_via

    @property
    def interfaces(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.default_via, *self.connected)))

    def kind_of(self, interface: str) -> str:
        return dict(self.kinds).get(interface, OTHER)

    def detail(self) -> dict[str, str | bool]:
        return {"cut": self.cut, "connected": ", ".join(self.connected), "default_via": ", ".join(self.default_via)}


@dataclass(frozen=True)
class BackupRecord:
    """What one of the OS's own backup tools says of its newest complete backup.

    `last_backup` is timezone-aware, or None when the tool is set up but has never finished one;
    `error` is set (and `last_backup` None) when the tool is set up but could not be read.
    """

    source: str  # "file_history", "wbadmin", "time_machine", "deja_dup"
    last_backup: datetime | None
    destination: str = ""  # where it backs up to, as the tool names it (for the status window)
    error: Text | None = None



# --- Access checks (issue 20) ---------------------------------------------------------------------

@dataclass(frozen=True)
class RemoteAccess:
    """One way into this computer from the network, found open."""

    kind: str  # "ssh", "rdp", "vnc", "anydesk", "teamviewer", "file_sharing"
    detail: str  # what was seen, for the facts and the log: "port 22 (sshd)", "share Compta"


@dataclass(frozen=True)
class RemoteAccessReport:
    found: tuple[RemoteAccess, ...]
    unreadable: tuple[str, ...] = ()  # "what: why" for each source that could not be read


@dataclass(frozen=True)
class SignInState:
    """How this computer lets people in. None anywhere means "could not tell"."""

    user: str  # the account Vigie runs in (the daily account)
    auto_login_user: str | None  # the account opened without a password at start; None: no automatic sign-in
    auto_login_source: str  # where it was read: "gdm", "lightdm", "sddm", "winlogon", "loginwindow"; "" when none
    password_on_wake: bool | None  # a password is asked when the computer wakes up
    admin: bool | None  # the daily account is an administrator
    unreadable: tuple[str, ...] = ()  # "what: why" for each part that could not be read
    auto_login_read: bool = True  # False: the automatic sign-in setting could not be read


@dataclass(frozen=True)
class WifiState:
    """The Wi-Fi network in use; `connected` False means no Wi-Fi is in use (none, off, not joined)."""

    connected: bool
    source: str  # "nmcli", "sysfs", "netsh", "system_profiler"
    ssid: str = ""
    security: str = ""  # as the OS names it ("WPA2-Personal", "WPA1 WPA2", "" for none)
    level: str = ""  # the weakest protection accepted: "open", "wep", "wpa1", "wpa2", "wpa3", "owe", "unknown"


@dataclass(frozen=True)
class InstalledApps:
    """Names of the applications installed for this user, lower-cased (desktop entries, executables,
    uninstall entries, .app bundles): what a check matches against its own list."""

    names: frozenset[str]
    sources: tuple[str, ...]  # where they were read: "desktop", "path", "flatpak", "uninstall", "applications"

class Platform(Protocol):
    name: str  # "linux", "windows" or "macos"
    lock_shortcut: Text  # the keys that lock the session here, for advice

    def pending_updates(self, timeout: float) -> UpdateStatus: ...

    def lock_screen(self, locker_command: Sequence[str] = (), budget: float = 2.0) -> LockProof:
        """Lock the session now and prove it: each way tried has `budget` seconds to show the session
        locked (a program that exits 0 proves nothing). Blocks that long: never on the engine thread.
        Raise PlatformError when nothing worked (LockUnproven: started, but never seen locked)."""
        ...

    def lock_route(self, locker_command: Sequence[str] = ()) -> LockRoute:
        """How lock_screen() would lock here, without locking. Raise PlatformError when it cannot."""
        ...

    def session_active(self) -> bool | None:
        """True when this session is the one in use at the console (where the smart-card reader is),
        False when another one is, None when the OS cannot tell."""
        ...

    def screen_locked(self) -> bool | None:
        """True when the session is locked, False when not, None when this cannot be told."""
        ...

    def input_grabbed(self) -> bool | None:
        """True when another program holds the keyboard, as screen lockers do (X11). Only for the
        idle watcher at the lock threshold: while the probe runs, keystrokes would go nowhere."""
        ...

    def on_unlock(self, callback: Callable[[], None]) -> None:
        """Call `callback` when a lock ends, where the OS lets Vigie know at once (Linux: its own locker
        process exits, a screen saver's ActiveChanged(false), logind's LockedHint turning false,
        xscreensaver's UNBLANK). Elsewhere it is never called: watchers poll."""
        ...

    def idle_state(self) -> IdleState:
        """Time since the last user input. Raise NotSupported when this desktop cannot tell."""
        ...

    def media_in_use(self) -> bool | None:
        """True while a camera or microphone is in use (a teleconsultation); None when unknown."""
        ...

    def mounted_volumes(self) -> list[Volume]:
        """Mounted file systems that may be removable media (system ones excluded)."""
        ...

    def wait_for_mount_change(self, timeout: float | None) -> MountChange:
        """Block until the set of mounts changes (CHANGED) or the timeout passes (NONE); UNSEEN where
        the OS tells of changes gone before they could be read (Linux). Raise NotSupported where
        the OS has no such event: the caller polls instead."""
        ...

    def eject(self, volume: Volume) -> None:
        """Unmount safely (and power off where possible). Raise PlatformError on failure."""
        ...

    def updater_command(self) -> list[str] | None:
        """The command that opens the OS's own updater window; None when there is none installed."""
        ...

    def scanner_available(self) -> bool:
        """An antivirus Vigie can run on a volume (ClamAV with a database, Microsoft Defender)."""
        ...

    def scan_volume(self, volume: Volume, timeout: float) -> ScanResult:
        """Scan the whole volume; raise PlatformError when the scan cannot be done."""
        ...

    def system_backups(self, timeout: float) -> list[BackupRecord]:
        """The OS's own backup tools that are set up here, each with its newest backup.
        A tool that is not set up is left out; one that cannot be read comes with `error`."""
        ...

    def smartcards(self, timeout: float) -> list[tuple[str, str]] | None:
        """(reader, ATR hex) of every card in a smart-card reader now; None when there is no reader.
        Presence only: never talks to a card. Raise PlatformError (NotSupported without PC/SC)."""
        ...

    def network_state(self) -> NetworkState:
        """Which interfaces still connect this computer. Raise PlatformError when it cannot be read."""
        ...

    def can_cut_network(self) -> bool:
        """Whether Vigie has a way, and the right, to cut the network here (the guide offers its button
        only then). Quick: looks for the tools and rights, cuts nothing."""
        ...

    def cut_network(self, timeout: float) -> str:
        """Turn every network connection off; return how. Raise PlatformError (NotSupported when Vigie
        has no way or no right to do it here): the user then does it by hand."""
        ...

    def lock_policy(self) -> LockPolicy:
        """The OS's automatic-lock setting. Raise PlatformError when it cannot be read."""
        ...

    # --- Access checks (issue 20) ---------------------------------------------------------------
    def remote_access(self) -> RemoteAccessReport:
        """Remote desktop, SSH, AnyDesk/TeamViewer and file sharing open on this computer."""
        ...

    def sign_in(self) -> SignInState:
        """Automatic sign-in, password on wake, the daily account's rights."""
        ...

    def wifi(self) -> WifiState:
        """The Wi-Fi network in use. Raise PlatformError when it cannot be read."""
        ...

    def installed_apps(self) -> InstalledApps:
        """The applications installed here (for the password manager check)."""
        ...
    # Protection checks (issue 20)
    def disk_encryption(self, folder: str | None, timeout: float) -> DiskEncryption:
        """Encryption of the volume holding `folder` (None: the system disk). Raise PlatformError
        when it cannot be read (no right to ask, tool missing)."""
        ...

    def antivirus_status(self, timeout: float) -> AntivirusStatus:
        """The antivirus protecting this computer. Raise PlatformError when it cannot be read."""
        ...

    def firewall_status(self, timeout: float) -> FirewallStatus:
        """The firewall's state, per profile. Raise PlatformError when it cannot be read."""
        ...

    def os_version(self) -> OsVersion:
        """The running system's name and version. Raise PlatformError when it cannot be read."""
        ...


# --- Protection checks (issue 20) ----------------------------------------------------------------
# What the disk_encryption, antivirus, firewall and os_support checks ask of the OS. Each value
# keeps what was read (`detail`) for the log and the JSON facts.

ENCRYPTED = "encrypted"
NOT_ENCRYPTED = "not_encrypted"
ENCRYPTING = "encrypting"  # conversion under way: not yet protecting everything
SUSPENDED = "suspended"  # encrypted, but the key is left in clear (BitLocker protection off)
ENCRYPTION_UNKNOWN = "unknown"  # the tool answered something Vigie cannot read (another language...)


@dataclass(frozen=True)
class DiskEncryption:
    """Is the volume that holds a folder encrypted at rest?"""

    state: str  # one of the constants above
    method: str = ""  # "LUKS2", "dm-crypt", "BitLocker", "FileVault"
    volume: str = ""  # what holds the folder: a device, a drive letter
    detail: str = ""
    percent: float | None = None  # BitLocker's "Percentage Encrypted", FileVault's progress


@dataclass(frozen=True)
class AntivirusProduct:
    name: str
    enabled: bool | None  # real-time protection on; None: not said
    up_to_date: bool | None = None  # signatures current, as the product or Windows says
    signature_age_days: int | None = None
    tamper_protected: bool | None = None
    detail: str = ""
    signatures_date: datetime | None = None  # when its virus list was built (ClamAV), or last updated (XProtect)


@dataclass(frozen=True)
class AntivirusStatus:
    """`source`: "defender", "security_center", "clamav", "xprotect"; "none" when no product is there."""

    source: str
    products: tuple[AntivirusProduct, ...] = ()
    detail: str = ""


@dataclass(frozen=True)
class FirewallProfile:
    name: str  # Windows "Domain", "Private", "Public"; elsewhere one profile per firewall read
    enabled: bool | None


@dataclass(frozen=True)
class FirewallStatus:
    """`source`: "windows", "netsh", "socketfilterfw", "nftables", "ufw", "firewalld"; "none"."""

    source: str
    profiles: tuple[FirewallProfile, ...] = ()
    detail: str = ""


@dataclass(frozen=True)
class OsVersion:
    """The running system, as the OS itself names it."""

    system: str  # "windows", "macos", or os-release's ID ("debian", "ubuntu", "fedora"...)
    version: str  # Windows DisplayVersion ("22H2"), macOS ProductVersion, os-release VERSION_ID
    name: str  # for the user: "Windows 10 Pro 22H2", "macOS 14.8.9", PRETTY_NAME
    build: str = ""  # Windows CurrentBuild ("19045"), macOS BuildVersion
    edition: str = ""  # Windows EditionID ("Professional", "Core", "Enterprise"...)
    support_end: str = ""  # os-release SUPPORT_END (YYYY-MM-DD) when the system states it
    like: tuple[str, ...] = ()  # os-release ID_LIKE
