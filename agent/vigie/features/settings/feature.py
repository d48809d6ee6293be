"""The settings window (issue 18, point 3): what a practitioner may change (the lock and reminder delays,
the notifications, the end-of-day card reminder, the language), from the menu's « Réglages… ». The window
(window.py) runs in a child process and saves through the config store, as `vigie config set` does; the
running agent applies what it saved within a second or two (vigie.settings_watch)."""

from __future__ import annotations

from typing import ClassVar

from vigie.features.base import Feature, MenuItem, Window
from vigie.features.settings.menu import MENU, OPEN
from vigie.features.settings.windows import SETTINGS, WINDOW


class SettingsFeature(Feature):
    id: ClassVar[str] = "settings"
    menu: ClassVar[tuple[MenuItem, ...]] = MENU
    windows: ClassVar[tuple[Window, ...]] = (SETTINGS,)

    def act(self, action: str) -> None:
        if action == OPEN:
            self.services.windows.open(WINDOW, "--lang", self.services.language)
