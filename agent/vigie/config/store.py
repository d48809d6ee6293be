"""The configuration, kept in the OS keyring: one entry per section, validated on the way in and out.

Stored form of a section: {"schema_version": N, "data": {...}} as JSON.
Faults never crash and never lose data:
- keyring missing, locked, hung or unsafe: defaults for everything, read-only;
- a section that is corrupt or invalid (bad JSON or UTF-8, nested too deep, wrong types, far too long):
  its raw text is quarantined in a 0600 file, that section alone goes back to its defaults;
- a section written by a newer Vigie: read (as far as we understand it), never overwritten.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
import typing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import msgspec

from vigie import paths
from vigie.config import migrations, policy
from vigie.config.keyring_access import KeyringAccess, KeyringUnavailable
from vigie.config.schema import MAX_ENTRY_CHARS, SCHEMA_VERSION, SECTIONS, Config, Section
from vigie.errors import VigieError
from vigie.model import T, Text

log = logging.getLogger(__name__)
# Vigie writes each section in less than MAX_ENTRY_CHARS: anything far longer is not ours, and is not parsed.
MAX_STORED_CHARS = 4 * MAX_ENTRY_CHARS
MAX_QUARANTINE_CHARS = 1_000_000
# What a damaged entry can raise while decoded: bad JSON or text (ValueError), nesting too deep
# (RecursionError), wrong types (TypeError, ValidationError), no migration for its version.
UNDECODABLE = (ValueError, TypeError, RecursionError, msgspec.ValidationError, migrations.MigrationMissing)

@dataclass(frozen=True)
class Problem:
    code: str
    message: Text
    section: str | None = None


class ConfigError(VigieError):
    """A user-facing refusal (unknown key, bad value, read-only...)."""


@dataclass
class LoadedConfig:
    config: Config
    read_only: bool = False
    read_only_sections: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)
    stored_sections: set[str] = field(default_factory=set)
    locked: set[str] = field(default_factory=set)  # "section.key" set by the IT provider's policy
    quit_code: str | None = None  # hashed code protecting « Quitter » (policy)
    user_config: Config | None = None  # the user's own settings, before the policy (None: not read)

    def to_json(self) -> str:
        """Everything the agent needs, for `vigie config export` (read by the agent, or an IT tool)."""
        return json.dumps({
            "config": msgspec.to_builtins(self.config),
            "read_only": self.read_only,
            "read_only_sections": sorted(self.read_only_sections),
            "stored_sections": sorted(self.stored_sections),
            "locked": sorted(self.locked),
            "quit_code": self.quit_code,
            "user_config": None if self.user_config is None else msgspec.to_builtins(self.user_config),
            "problems": [{"code": p.code, "section": p.section, "msgid": p.message.msgid,
                          "params": dict(p.message.params)} for p in self.problems],
        }, ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str) -> LoadedConfig:
        data = json.loads(text)
        return cls(
            config=msgspec.convert(data["config"], Config),
            read_only=bool(data["read_only"]),
            read_only_sections=set(data["read_only_sections"]),
            stored_sections=set(data["stored_sections"]),
            locked=set(data.get("locked", [])),
            quit_code=data.get("quit_code"),
            user_config=None if data.get("user_config") is None else msgspec.convert(data["user_config"], Config),
            # Text(), not T(): the message id is data here, not a string for Babel to extract.
            problems=[Problem(p["code"], Text(p["msgid"], params=MappingProxyType(p["params"])), p["section"])
                      for p in data["problems"]],
        )


class ConfigStore:
    def __init__(self, access: KeyringAccess | None = None, quarantine_dir: Path | None = None,
                 policy_file: Path | None = None) -> None:
        self.access = access or KeyringAccess()
        self.quarantine_dir = quarantine_dir or paths.quarantine_dir()
        self.policy_file = policy_file

    # --- reading -----------------------------------------------------------------------------
    def load(self) -> LoadedConfig:
        """The user's settings from the keyring, then the IT provider's policy over them."""
        return self._with_policy(self._load_keyring())

    def _load_keyring(self) -> LoadedConfig:
        loaded = LoadedConfig(Config())
        values: dict[str, Section] = {}
        for name, section_type in SECTIONS.items():
            try:
                raw = self.access.get(name)
            except KeyringUnavailable as exc:
                return self._defaults_read_only(exc)
            if raw is not None:
                values[name] = self._decode(name, section_type, raw, loaded)
        loaded.config = msgspec.structs.replace(loaded.config, **values)
        return loaded

    def _with_policy(self, loaded: LoadedConfig) -> LoadedConfig:
        return with_policy(loaded, self.policy_file or policy.policy_path())

    @staticmethod
    def _defaults_read_only(exc: KeyringUnavailable) -> LoadedConfig:
        problem = Problem(exc.code, exc.reason)
        return LoadedConfig(Config(), read_only=True, problems=[problem])

    def _decode(self, name: str, section_type: type[Section], raw: str, loaded: LoadedConfig) -> Section:
        try:
            version, data = _envelope(raw)
            if version > SCHEMA_VERSION:
                return self._decode_newer(name, section_type, data, loaded)
            if version < SCHEMA_VERSION:
                data = migrations.migrate(name, data, version, SCHEMA_VERSION)
            value = msgspec.convert(data, section_type)
            encode_section(value).encode("utf-8")  # a lone surrogate (JSON "\ud800") would break every print
        except UNDECODABLE as exc:
            return self._quarantine(name, section_type, raw, f"{type(exc).__name__}: {exc}", loaded)
        loaded.stored_sections.add(name)
        if version < SCHEMA_VERSION:
            self._write_quietly(name, value, loaded)
        return value

    @staticmethod
    def _decode_newer(name: str, section_type: type[Section], data: dict, loaded: LoadedConfig) -> Section:
        # Keep what this version understands; the entry itself belongs to the newer Vigie.
        log.warning("config section %s was written by a newer Vigie: read-only", name)
        loaded.read_only_sections.add(name)
        loaded.stored_sections.add(name)
        loaded.problems.append(
            Problem("section_newer", T("These settings come from a newer version of Vigie."), name)
        )
        known = {k: v for k, v in data.items() if k in section_type.__struct_fields__}
        try:
            value = msgspec.convert(known, section_type)
            encode_section(value).encode("utf-8")
        except UNDECODABLE:
            return section_type()
        return value

    def _quarantine(
        self, name: str, section_type: type[Section], raw: str, reason: str, loaded: LoadedConfig
    ) -> Section:
        log.warning("config section %s is invalid (%s, %d characters): quarantining it", name, reason[:200],
                    len(raw))
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = self.quarantine_dir / f"{name}-{stamp}-{secrets.token_hex(3)}.txt"
        if len(raw) > MAX_QUARANTINE_CHARS:  # no Vigie ever wrote this: keep a bounded copy of it
            log.warning("config section %s: only its first %d characters are kept", name, MAX_QUARANTINE_CHARS)
        try:
            paths.write_private_file(target, _as_stored(raw[:MAX_QUARANTINE_CHARS]))
        except OSError as exc:
            # Without a safe copy the entry stays as it is: nothing is ever lost.
            log.error("could not quarantine section %s: %s", name, exc)
            loaded.read_only_sections.add(name)
            loaded.problems.append(Problem("section_invalid", T("Some settings were unreadable."), name))
            return section_type()
        loaded.problems.append(
            Problem(
                "section_invalid",
                T("Some settings were unreadable and were reset; a copy was kept in {path}.", path=str(target)),
                name,
            )
        )
        try:
            self.access.delete(name)
        except KeyringUnavailable as exc:
            log.warning("could not clear quarantined section %s: %s", name, exc)
        return section_type()

    def _write_quietly(self, name: str, value: Section, loaded: LoadedConfig) -> None:
        try:
            self.access.set(name, encode_section(value))
        except KeyringUnavailable as exc:
            log.warning("could not store migrated section %s: %s", name, exc)

    # --- writing -----------------------------------------------------------------------------
    def set_value(self, loaded: LoadedConfig, key: str, raw_value: str) -> Section:
        name, field_name = split_key(key)
        if key in loaded.locked:
            raise ConfigError(MANAGED_BY_PROVIDER)
        self._ensure_writable(loaded, name)
        current = getattr(loaded.config, name)
        data = msgspec.to_builtins(current)
        data[field_name] = _coerce_words(raw_value)
        try:
            value = msgspec.convert(data, type(current), strict=False)
        except msgspec.ValidationError as exc:
            log.info("config set %s refused: %s", key, exc)
            raise ConfigError(
                T("Invalid value for {key}: expected {expected}.", key=key,
                  expected=describe_expected(type(current), field_name))
            ) from exc
        self._store(name, value)
        return value

    def replace_section(self, loaded: LoadedConfig, name: str, value: Section) -> None:
        """Store a whole section (lists such as backup destinations cannot be set key by key)."""
        current = getattr(loaded.config, name)
        if any(getattr(value, key) != getattr(current, key) for key in _locked_fields(loaded, name)):
            raise ConfigError(MANAGED_BY_PROVIDER)
        self._ensure_writable(loaded, name)
        self._store(name, value)

    def reset(self, loaded: LoadedConfig, section: str | None = None) -> list[str]:
        names = [section] if section else list(SECTIONS)
        for name in names:
            if name not in SECTIONS:
                raise ConfigError(T("Unknown settings section: {section}.", section=name))
            self._ensure_writable(loaded, name)
        for name in names:
            try:
                self.access.delete(name)
            except KeyringUnavailable as exc:
                raise _keyring_refusal(exc) from exc
        announce_change()
        return names

    def _store(self, name: str, value: Section) -> None:
        text = encode_section(value)
        if len(text) >= MAX_ENTRY_CHARS:
            raise ConfigError(T("These settings are too long to be stored ({size} characters).", size=len(text)))
        try:
            self.access.set(name, text)
        except KeyringUnavailable as exc:
            raise _keyring_refusal(exc) from exc
        announce_change()

    @staticmethod
    def _ensure_writable(loaded: LoadedConfig, name: str) -> None:
        if loaded.read_only:
            raise ConfigError(T("The settings are read-only for now: the system keyring cannot be used."))
        if name in loaded.read_only_sections:
            raise ConfigError(
                T("The settings “{section}” belong to a newer version of Vigie and are left untouched.",
                  section=name)
            )


def with_policy(loaded: LoadedConfig, policy_file: Path) -> LoadedConfig:
    """`loaded` (the keyring's settings) under the policy file as it is now."""
    found = policy.read_policy(policy_file)
    loaded.user_config = loaded.config
    loaded.config, loaded.locked, refused = policy.apply(loaded.config, found)
    loaded.quit_code = found.quit_code
    loaded.problems += [Problem(found.problem_code, message) for message in found.problems]
    loaded.problems += [Problem(policy.INVALID, message) for message in refused]
    if loaded.locked:
        log.info("policy: %d setting(s) set by the IT provider", len(loaded.locked))
    return loaded


def policy_again(loaded: LoadedConfig, policy_file: Path | None = None) -> LoadedConfig:
    """The settings read before, under the policy file as it is now: when only the policy changed, the
    user's own settings (kept under the old policy) need no new keyring read. None of `loaded` is changed."""
    if loaded.user_config is None:
        raise ValueError("these settings were not read from the keyring")
    keyring_part = LoadedConfig(
        loaded.user_config, read_only=loaded.read_only, read_only_sections=set(loaded.read_only_sections),
        problems=[p for p in loaded.problems if p.code not in policy.PROBLEM_CODES],
        stored_sections=set(loaded.stored_sections))
    return with_policy(keyring_part, policy_file or policy.policy_path())


def announce_change() -> None:
    """Tell the running agent that the stored settings changed: it watches this marker (vigie.settings_watch)
    and applies them within a second or two. A marker that cannot be written only delays that to its next start."""
    try:
        paths.replace_private_file(paths.settings_marker(), f"{time.time_ns()} {os.getpid()}\n")
    except OSError as exc:
        log.warning("cannot tell the agent that the settings changed: %s", exc)


MANAGED_BY_PROVIDER = T("This setting is managed by your IT provider: it cannot be changed here.")


def _locked_fields(loaded: LoadedConfig, name: str) -> list[str]:
    return [key.partition(".")[2] for key in loaded.locked if key.partition(".")[0] == name]


def _keyring_refusal(exc: KeyringUnavailable) -> ConfigError:
    reason = exc.reason
    return ConfigError(T("Nothing was saved: {reason}", reason=reason))


def encode_section(value: Section) -> str:
    return json.dumps(
        {"schema_version": SCHEMA_VERSION, "data": msgspec.to_builtins(value)},
        separators=(",", ":"), ensure_ascii=False, sort_keys=True,
    )


def _envelope(raw: str) -> tuple[int, dict]:
    if len(raw) > MAX_STORED_CHARS:
        raise ValueError(f"{len(raw)} characters, more than {MAX_STORED_CHARS}")
    raw.encode("utf-8")  # UnicodeEncodeError: the entry's bytes were not UTF-8 (KeyringAccess.get)
    document = json.loads(raw)  # RecursionError when nested too deep
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    version, data = document.get("schema_version"), document.get("data")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1 or not isinstance(data, dict):
        raise ValueError("missing schema_version or data")
    return version, data


def _as_stored(raw: str) -> bytes:
    """The entry as the keyring holds it (bytes that were not UTF-8 come back as they were)."""
    try:
        return raw.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return raw.encode("utf-8", "backslashreplace")


def split_key(key: str) -> tuple[str, str]:
    name, _, field_name = key.partition(".")
    section_type = SECTIONS.get(name)
    if section_type is None or field_name not in section_type.__struct_fields__:
        raise ConfigError(T("Unknown setting: {key}.", key=key))
    return name, field_name


_WORDS = {"oui": "true", "non": "false", "yes": "true", "no": "false", "vrai": "true", "faux": "false"}


def _coerce_words(raw: str) -> Any:
    return _WORDS.get(raw.strip().lower(), raw.strip())


def describe_expected(section_type: type[Section], field_name: str) -> Text:
    """What a field accepts, in words (from its type and bounds)."""
    info = msgspec.inspect.type_info(section_type)
    kind = next(f.type for f in info.fields if f.name == field_name)  # type: ignore[attr-defined]
    if isinstance(kind, msgspec.inspect.IntType):
        return T("a whole number from {low} to {high}", low=kind.ge, high=kind.le)
    if isinstance(kind, msgspec.inspect.FloatType):
        return T("a number from {low} to {high}", low=kind.ge, high=kind.le)
    if isinstance(kind, msgspec.inspect.BoolType):
        return T("yes or no")
    if isinstance(kind, msgspec.inspect.StrType):
        return T("a text of at most {size} characters", size=kind.max_length)
    if isinstance(kind, msgspec.inspect.LiteralType):
        # typing keeps the declared order (msgspec sorts): the default comes first.
        annotation = next(f.type for f in msgspec.structs.fields(section_type) if f.name == field_name)
        return T("one of: {values}", values=", ".join(str(v) for v in typing.get_args(annotation)))
    return T("a value of type {kind}", kind=type(kind).__name__)
