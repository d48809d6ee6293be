"""The IT provider's policy: a machine-wide TOML file that sets values and locks them.

    [idle_lock]
    lock_after_seconds = 300          # set, and locked: the user's keyring cannot change it
    [contacts]
    it_provider_name = "InfoSanté 35"
    it_provider_phone = "02 99 00 00 00"
    [agent]
    quit_code = "pbkdf2_sha256$600000$<salt>$<hash>"   # optional: « Quitter » asks for this code

Every value the file sets is locked. A file that cannot be read, or that an account other than an
administrator could write (policy_file.py), is ignored as a whole; a value that is invalid is ignored
alone; both are reported (French) and logged, never a crash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from vigie.config import policy_file
from vigie.config.schema import SECTIONS
from vigie.model import T, Text

log = logging.getLogger(__name__)
MAX_POLICY_BYTES = 64 * 1024
AGENT_TABLE = "agent"
INVALID, UNTRUSTED = "policy_invalid", "policy_untrusted"  # the problem codes a policy file can raise
PROBLEM_CODES = (INVALID, UNTRUSTED)
HASH_ITERATIONS = 600_000


def policy_path(platform_name: str | None = None) -> Path:
    """VIGIE_POLICY (tests, unusual installs), else the machine-wide place of this OS."""
    override = os.environ.get("VIGIE_POLICY")
    if override and not getattr(sys, "frozen", False):  # the installed program reads the machine's file only
        return Path(override)
    from vigie.platform import platform_name as current

    name = platform_name or current()
    if name == "windows":
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "Vigie" / "policy.toml"
    if name == "macos":
        return Path("/Library/Application Support/Vigie/policy.toml")
    return Path("/etc/vigie/policy.toml")


@dataclass
class Policy:
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # section -> key -> value
    quit_code: str | None = None
    problems: list[Text] = field(default_factory=list)
    problem_code: str = INVALID  # UNTRUSTED: ignored for who may write it, or what it is


def read_policy(path: Path) -> Policy:
    """The policy at path; an absent file is an empty policy (most PCs have none)."""
    try:
        raw = policy_file.read_trusted(path, MAX_POLICY_BYTES)
    except policy_file.PolicyRefused as exc:
        log.warning("policy file ignored: %s", exc.log_detail)
        return Policy(problems=[exc.reason], problem_code=UNTRUSTED)
    except OSError as exc:
        log.error("policy file unreadable: %s", exc)
        return Policy(problems=[T("The IT provider's settings file cannot be read: {reason}.",
                                  reason=exc.strerror or type(exc).__name__)])
    if raw is None:
        return Policy()
    if len(raw) > MAX_POLICY_BYTES:
        log.error("policy file larger than %d bytes: ignored", MAX_POLICY_BYTES)
        return Policy(problems=[T("The IT provider's settings file is too large; Vigie ignores it.")])
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:  # RecursionError: [[[[…
        log.error("policy file invalid: %s", exc)
        return Policy(problems=[T("The IT provider's settings file is not valid ({reason}); Vigie ignores it.",
                                  reason=str(exc))])
    return parse_policy(document)


def parse_policy(document: dict[str, Any]) -> Policy:
    policy = Policy()
    for name, table in document.items():
        if not isinstance(table, dict):
            policy.problems.append(T("IT provider's settings: “{name}” is not a section; ignored.", name=name))
        elif name == AGENT_TABLE:
            _agent_table(table, policy)
        elif name not in SECTIONS:
            policy.problems.append(T("IT provider's settings: unknown section “{name}”; ignored.", name=name))
        else:
            fields = SECTIONS[name].__struct_fields__
            for key, value in table.items():
                if key in fields:
                    policy.values.setdefault(name, {})[key] = value
                else:
                    policy.problems.append(T("IT provider's settings: unknown setting “{key}”; ignored.",
                                             key=f"{name}.{key}"))
    return policy


def _agent_table(table: dict[str, Any], policy: Policy) -> None:
    for key, value in table.items():
        if key == "quit_code" and isinstance(value, str) and parse_code_hash(value) is not None:
            policy.quit_code = value
        else:
            policy.problems.append(T("IT provider's settings: unknown setting “{key}”; ignored.",
                                     key=f"{AGENT_TABLE}.{key}"))


def apply(config, policy: Policy) -> tuple[Any, set[str], list[Text]]:
    """The configuration with the policy's values; the keys locked; the values refused (and why)."""
    locked: set[str] = set()
    problems: list[Text] = []
    replaced = {}
    for name, values in policy.values.items():
        section = getattr(config, name)
        for key, value in values.items():
            data = msgspec.to_builtins(section)
            data[key] = value
            try:
                section = msgspec.convert(data, type(section), strict=False)
            except msgspec.ValidationError as exc:
                log.error("policy value %s.%s refused: %s", name, key, exc)
                problems.append(T("IT provider's settings: the value of “{key}” is not valid; ignored.",
                                  key=f"{name}.{key}"))
                continue
            locked.add(f"{name}.{key}")
        replaced[name] = section
    return msgspec.structs.replace(config, **replaced), locked, problems


# --- the code that protects « Quitter » ------------------------------------------------------------

def hash_code(code: str, salt: bytes | None = None, iterations: int = HASH_ITERATIONS) -> str:
    """What the IT provider puts in [agent] quit_code (`vigie policy hash-code`)."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", code.encode("utf-8"), salt, iterations)
    return f"pbkdf2_sha256${iterations}${_b64(salt)}${_b64(digest)}"


def parse_code_hash(text: str) -> tuple[int, bytes, bytes] | None:
    try:
        scheme, iterations, salt, digest = text.split("$")
        if scheme != "pbkdf2_sha256" or not 10_000 <= int(iterations) <= 10_000_000:
            return None
        return int(iterations), base64.b64decode(salt, validate=True), base64.b64decode(digest, validate=True)
    except ValueError:
        return None


def code_matches(code: str, stored: str) -> bool:
    parsed = parse_code_hash(stored)
    if parsed is None:
        return False
    iterations, salt, digest = parsed
    return hmac.compare_digest(hashlib.pbkdf2_hmac("sha256", code.encode("utf-8"), salt, iterations), digest)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
