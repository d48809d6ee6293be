"""User interface: tray, icons and windows. Nothing here is imported by `vigie check`."""
