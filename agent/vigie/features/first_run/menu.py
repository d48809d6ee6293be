"""The setup assistant's tray menu item, declared in a light module: the agent builds its menu, and shows
its icon, before it imports any feature (vigie.features.MENU_OWNERS)."""

from __future__ import annotations

from vigie.features.base import MenuItem
from vigie.model import T

OPEN = "open"

MENU = (MenuItem(T("Setup assistant…"), OPEN),)
