"""The incident feature's tray menu items, declared in a light module: the agent builds its menu, and shows
its icon, before it imports any feature (vigie.features.MENU_OWNERS)."""

from __future__ import annotations

from vigie.features.base import MenuItem, Place
from vigie.model import T

OPEN = "open"
NOTE_KEY = "incident"  # the guard's tooltip note; the menu shows « Reprendre le guide » while it is set

MENU = (
    MenuItem(T("Do you think you are under attack?"), OPEN, Place.URGENT, hidden_while=NOTE_KEY),
    MenuItem(T("Resume the incident guide"), OPEN, Place.URGENT, only_while=NOTE_KEY),
)
