"""Explicit migrations of stored sections from one schema_version to the next.

MIGRATIONS[section][n] turns the data of version n into version n + 1. Add one whenever a
stored field is renamed or changes meaning, and bump schema.SCHEMA_VERSION.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from vigie.errors import VigieError
from vigie.model import T

Migration = Callable[[dict], dict]

MIGRATIONS: Mapping[str, Mapping[int, Migration]] = {}


class MigrationMissing(VigieError):
    """A stored section is older than any migration Vigie knows: it is quarantined like a damaged one."""

    def __init__(self, log_detail: str) -> None:
        super().__init__(T("Vigie could not read these settings; defaults are used for them."), log_detail)


def migrate(
    section: str,
    data: dict,
    from_version: int,
    to_version: int,
    migrations: Mapping[str, Mapping[int, Migration]] = MIGRATIONS,
) -> dict:
    steps = migrations.get(section, {})
    for version in range(from_version, to_version):
        if version not in steps:
            raise MigrationMissing(f"{section}: no migration from version {version}")
        data = steps[version](dict(data))
    return data
