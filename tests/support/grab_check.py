"""Exit 0 and print LOCKED when another client holds the keyboard grab (a screen locker); else exit 1."""

import sys

from Xlib import X, display

d = display.Display()
root = d.screen().root
status = root.grab_keyboard(False, X.GrabModeAsync, X.GrabModeAsync, X.CurrentTime)
if status == X.GrabSuccess:
    d.ungrab_keyboard(X.CurrentTime)
d.sync()
print("LOCKED" if status == X.AlreadyGrabbed else "FREE")
sys.exit(0 if status == X.AlreadyGrabbed else 1)
