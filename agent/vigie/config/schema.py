"""The configuration schema: one msgspec Struct per section, defaults in code.

Each section is stored as its own keyring entry (service "Vigie", username = section name)
and must stay under 1,000 characters once encoded (Windows Credential Manager's limit is
1,280 UTF-16 characters, and it fails with a raw error beyond).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

SCHEMA_VERSION = 1
MAX_ENTRY_CHARS = 1000


class Section(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every section; a field's type (with its Meta bounds) is its validation."""


class General(Section):
    language: Literal["fr", "en"] = "fr"


class OsUpdates(Section):
    enabled: bool = True
    interval_minutes: Annotated[int, msgspec.Meta(ge=15, le=7 * 24 * 60)] = 240
    security_grace_days: Annotated[int, msgspec.Meta(ge=0, le=60)] = 7
    timeout_seconds: Annotated[int, msgspec.Meta(ge=10, le=3600)] = 300


class Notifications(Section):
    enabled: bool = True
    repeat_minutes: Annotated[int, msgspec.Meta(ge=15, le=7 * 24 * 60)] = 240  # while a problem stays
    max_per_hour: Annotated[int, msgspec.Meta(ge=1, le=60)] = 4


class IdleLock(Section):
    enabled: bool = True
    remind_after_seconds: Annotated[int, msgspec.Meta(ge=2, le=4 * 3600)] = 240
    lock_after_seconds: Annotated[int, msgspec.Meta(ge=3, le=4 * 3600)] = 300
    interval_minutes: Annotated[int, msgspec.Meta(ge=15, le=7 * 24 * 60)] = 60  # the idle_lock check


class LockPolicySettings(Section):
    enabled: bool = True
    interval_minutes: Annotated[int, msgspec.Meta(ge=15, le=7 * 24 * 60)] = 720
    max_minutes: Annotated[int, msgspec.Meta(ge=1, le=60)] = 15  # the OS must lock by itself within this


class UsbStorage(Section):
    enabled: bool = True  # a warning pop-up when an unknown USB drive is plugged in
    scan_timeout_minutes: Annotated[int, msgspec.Meta(ge=1, le=240)] = 30


class BackupFolder(Section):
    """A folder enrolled with `vigie backup enroll` (it holds the .vigie-backup-id marker)."""

    id: Annotated[str, msgspec.Meta(max_length=36)]
    path: Annotated[str, msgspec.Meta(max_length=260)]
    relative: Annotated[str, msgspec.Meta(max_length=260)] = ""  # its path inside its drive
    originals: Annotated[str, msgspec.Meta(max_length=260)] = ""  # the folder it is a copy of


class BackupRepository(Section):
    """A restic or borg repository; its password is a keyring entry of its own."""

    kind: Literal["restic", "borg"]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[\w.-]+$")]
    repository: Annotated[str, msgspec.Meta(max_length=300)]


class BackupAge(Section):
    enabled: bool = True
    interval_minutes: Annotated[int, msgspec.Meta(ge=15, le=7 * 24 * 60)] = 60
    warning_days: Annotated[int, msgspec.Meta(ge=1, le=60)] = 2
    critical_days: Annotated[int, msgspec.Meta(ge=1, le=365)] = 7
    system_tools: bool = True  # File History, Time Machine, Déjà Dup… when they are set up
    destinations: Annotated[list[BackupFolder], msgspec.Meta(max_length=4)] = msgspec.field(default_factory=list)
    repositories: Annotated[list[BackupRepository], msgspec.Meta(max_length=4)] = msgspec.field(
        default_factory=list)
    timeout_seconds: Annotated[int, msgspec.Meta(ge=10, le=3600)] = 120  # restic, borg, OS tools


class BackupDrive(Section):
    enabled: bool = True
    interval_minutes: Annotated[int, msgspec.Meta(ge=1, le=24 * 60)] = 5
    # A backup drive left plugged in is encrypted along with the PC: remind this long after the backup.
    unplug_after_minutes: Annotated[float, msgspec.Meta(ge=0.01, le=24 * 60)] = 30


class RestoreDrill(Section):
    enabled: bool = True
    interval_minutes: Annotated[int, msgspec.Meta(ge=15, le=7 * 24 * 60)] = 360  # how often "is one due?"
    every_days: Annotated[int, msgspec.Meta(ge=1, le=365)] = 30
    files: Annotated[int, msgspec.Meta(ge=1, le=50)] = 5
    timeout_minutes: Annotated[int, msgspec.Meta(ge=1, le=240)] = 30


class CpsCard(Section):
    """The CPS card watch (PC/SC). Without a reader it does nothing and shows nothing."""

    enabled: bool = True
    interval_minutes: Annotated[int, msgspec.Meta(ge=15, le=7 * 24 * 60)] = 60
    lock_on_removal: bool = True
    lock_delay_seconds: Annotated[int, msgspec.Meta(ge=0, le=10)] = 0
    remind_on_return: bool = True
    end_of_day: Annotated[str, msgspec.Meta(pattern=r"^(?:(?:[01]\d|2[0-3]):[0-5]\d)?$")] = "19:00"  # "" = never
    enrolled_atr: Annotated[str, msgspec.Meta(max_length=100, pattern=r"^[0-9A-Fa-f ]*$")] = ""
    enrolled_reader: Annotated[str, msgspec.Meta(max_length=200)] = ""


class Contacts(Section):
    """Whom to call when attacked (the incident guide), usually set by the IT provider's policy."""

    it_provider_name: Annotated[str, msgspec.Meta(max_length=100)] = ""
    it_provider_phone: Annotated[str, msgspec.Meta(max_length=40)] = ""
    insurer_name: Annotated[str, msgspec.Meta(max_length=100)] = ""
    insurer_phone: Annotated[str, msgspec.Meta(max_length=40)] = ""
    insurance_policy_number: Annotated[str, msgspec.Meta(max_length=60)] = ""


class Practice(Section):
    """Who the practice is, for the incident report's header (issue 19, point 6). Optional, usually set by
    the IT provider's policy; an empty value is left out of the report."""

    name: Annotated[str, msgspec.Meta(max_length=120)] = ""  # « Cabinet médical des Tilleuls »
    practitioner: Annotated[str, msgspec.Meta(max_length=120)] = ""  # « Dr Claire Martin »
    rpps: Annotated[str, msgspec.Meta(pattern=r"^(\d{11})?$")] = ""  # the 11-digit RPPS number
    address: Annotated[str, msgspec.Meta(max_length=300)] = ""  # its postal code names the ARS
    phone: Annotated[str, msgspec.Meta(max_length=40)] = ""
    ars_contact: Annotated[str, msgspec.Meta(max_length=200)] = ""  # the region's health agency, if known


class FirstRun(Section):
    """The setup assistant opened at the agent's first start (an IT provider who set everything up may turn
    it off). Whether it was already shown is in the journal, not here."""

    enabled: bool = True


class Lock(Section):
    # Used when the desktop offers no way to lock (e.g. "i3lock -n", "xsecurelock"). Linux only.
    locker_command: Annotated[str, msgspec.Meta(max_length=300)] = ""



# --- Access checks (issue 20) ---------------------------------------------------------------------
RemoteKind = Literal["ssh", "rdp", "vnc", "anydesk", "teamviewer", "file_sharing"]


class RemoteAccessSettings(Section):
    enabled: bool = True
    interval_minutes: Annotated[int, msgspec.Meta(ge=15, le=7 * 24 * 60)] = 60
    # The ways in the IT provider's policy declares expected (its own remote support, a shared folder).
    expected: Annotated[list[RemoteKind], msgspec.Meta(max_length=6)] = msgspec.field(default_factory=list)


class SignInSettings(Section):
    enabled: bool = True
    interval_minutes: Annotated[int, msgspec.Meta(ge=15, le=7 * 24 * 60)] = 720


class WifiSecuritySettings(Section):
    enabled: bool = True
    interval_minutes: Annotated[int, msgspec.Meta(ge=15, le=7 * 24 * 60)] = 30  # a laptop changes networks


class PasswordManagerSettings(Section):
    enabled: bool = True
    interval_minutes: Annotated[int, msgspec.Meta(ge=15, le=7 * 24 * 60)] = 1440


class TipsSettings(Section):
    """One short security tip now and then (the IT provider's policy can turn them off)."""

    enabled: bool = True
    every_days: Annotated[int, msgspec.Meta(ge=1, le=60)] = 7
# --- Protection checks (issue 20) ---------------------------------------------------------------


class DiskEncryptionSettings(Section):
    """The system disk and every enrolled backup drive (backup_age.destinations)."""

    enabled: bool = True
    interval_minutes: Annotated[int, msgspec.Meta(ge=15, le=7 * 24 * 60)] = 720
    timeout_seconds: Annotated[int, msgspec.Meta(ge=5, le=600)] = 60


class AntivirusSettings(Section):
    enabled: bool = True
    interval_minutes: Annotated[int, msgspec.Meta(ge=15, le=7 * 24 * 60)] = 240
    warning_days: Annotated[int, msgspec.Meta(ge=1, le=60)] = 7  # virus list older than this: Attention
    critical_days: Annotated[int, msgspec.Meta(ge=1, le=365)] = 30  # … and Urgent beyond this
    timeout_seconds: Annotated[int, msgspec.Meta(ge=5, le=600)] = 60


class FirewallSettings(Section):
    enabled: bool = True
    interval_minutes: Annotated[int, msgspec.Meta(ge=15, le=7 * 24 * 60)] = 240
    timeout_seconds: Annotated[int, msgspec.Meta(ge=5, le=600)] = 60


class OsSupportSettings(Section):
    enabled: bool = True
    interval_minutes: Annotated[int, msgspec.Meta(ge=15, le=7 * 24 * 60)] = 1440
    # Vigie's table of end dates older than this: the check says it may be out of date.
    table_max_age_months: Annotated[int, msgspec.Meta(ge=1, le=60)] = 12


class Config(msgspec.Struct, kw_only=True):
    general: General = msgspec.field(default_factory=General)
    notifications: Notifications = msgspec.field(default_factory=Notifications)
    lock: Lock = msgspec.field(default_factory=Lock)
    idle_lock: IdleLock = msgspec.field(default_factory=IdleLock)
    usb_storage: UsbStorage = msgspec.field(default_factory=UsbStorage)
    os_updates: OsUpdates = msgspec.field(default_factory=OsUpdates)
    lock_policy: LockPolicySettings = msgspec.field(default_factory=LockPolicySettings)
    backup_age: BackupAge = msgspec.field(default_factory=BackupAge)
    backup_drive: BackupDrive = msgspec.field(default_factory=BackupDrive)
    restore_drill: RestoreDrill = msgspec.field(default_factory=RestoreDrill)
    cps_card: CpsCard = msgspec.field(default_factory=CpsCard)
    contacts: Contacts = msgspec.field(default_factory=Contacts)
    # Access checks (issue 20)
    remote_access: RemoteAccessSettings = msgspec.field(default_factory=RemoteAccessSettings)
    sign_in: SignInSettings = msgspec.field(default_factory=SignInSettings)
    wifi_security: WifiSecuritySettings = msgspec.field(default_factory=WifiSecuritySettings)
    password_manager: PasswordManagerSettings = msgspec.field(default_factory=PasswordManagerSettings)
    tips: TipsSettings = msgspec.field(default_factory=TipsSettings)
    practice: Practice = msgspec.field(default_factory=Practice)
    first_run: FirstRun = msgspec.field(default_factory=FirstRun)
    # Protection checks (issue 20)
    disk_encryption: DiskEncryptionSettings = msgspec.field(default_factory=DiskEncryptionSettings)
    antivirus: AntivirusSettings = msgspec.field(default_factory=AntivirusSettings)
    firewall: FirewallSettings = msgspec.field(default_factory=FirewallSettings)
    os_support: OsSupportSettings = msgspec.field(default_factory=OsSupportSettings)


SECTIONS: dict[str, type[Section]] = {
    field.name: field.type for field in msgspec.structs.fields(Config)  # type: ignore[misc]
}
