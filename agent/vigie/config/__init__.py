"""Configuration: schema (msgspec), keyring store, migrations."""

from vigie.config.schema import SCHEMA_VERSION, SECTIONS, Config
from vigie.config.store import ConfigError, ConfigStore, LoadedConfig, Problem

__all__ = ["SCHEMA_VERSION", "SECTIONS", "Config", "ConfigError", "ConfigStore", "LoadedConfig", "Problem"]
