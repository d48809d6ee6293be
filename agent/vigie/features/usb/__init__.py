"""USB storage: a warning pop-up the moment an unknown drive is plugged in, its eject and antivirus scan."""
