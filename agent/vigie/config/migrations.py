"""Explicit migrations of stored sections from one schema_version to the next.

MIGRATIONS[section][n] turns the data of version n into version n + 1. Add one whenever a
stored field is renamed or changes meaning, and bump schema.SCHEMA_VERSION.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

Migration = Callable[[dict], dict]

MIGRATIONS: Mapping[str, Mapping[int, Migration]] = {}


class MigrationMissing(Exception):
    pass


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
