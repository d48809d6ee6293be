#!/bin/sh
# Remove Vigie from this Mac (run as root). Users' settings (their keychain) and logs are kept.
#   uninstall.sh [--policy]   --policy also removes /Library/Application Support/Vigie/policy.toml
set -u
LABEL="fr.vigie.agent"
EXE="/Applications/Vigie.app/Contents/MacOS/vigie"
[ "$(id -u)" -eq 0 ] || { echo "run as root (sudo)" >&2; exit 1; }
for uid in $(ps -axo uid=,args= | awk -v exe="$EXE" '$2 == exe {print $1}' | sort -u); do
    launchctl bootout "gui/$uid/$LABEL" 2>/dev/null || true
done
rm -f "/Library/LaunchAgents/$LABEL.plist"
rm -rf "/Applications/Vigie.app"
if [ "${1:-}" = "--policy" ]; then
    rm -f "/Library/Application Support/Vigie/policy.toml"
    rmdir "/Library/Application Support/Vigie" 2>/dev/null || true
fi
pkgutil --forget fr.vigie.agent.pkg >/dev/null 2>&1 || true
exit 0
