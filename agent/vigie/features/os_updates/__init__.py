"""Pending operating-system updates: the os_updates check."""
