"""The backup feature's tray menu item, declared in a light module: the agent builds its menu, and shows
its icon, before it imports any feature (vigie.features.MENU_OWNERS)."""

from __future__ import annotations

from vigie.features.backup.actions import DRILL
from vigie.features.base import MenuItem, Place
from vigie.model import T

MENU = (MenuItem(T("Test my backup"), DRILL, Place.TOOLS),)
