#!/bin/sh
# Stand-in for dunst's "dmenu" (context menu of a notification's actions): prints the first menu
# line containing the text in $DMENU_PICK_FILE, as a user choosing that button would.
pick=$(cat "${DMENU_PICK_FILE:-/dev/null}" 2>/dev/null)
grep -F -m1 -- "${pick:-default]}"
