#!/usr/bin/env bash
# Build Vigie's PyInstaller onedir bundle from this checkout: DIST/vigie/ (and DIST/Vigie.app on macOS).
#   build-bundle.sh [--dist DIR] [--work DIR] [-- extra PyInstaller arguments]
# Defaults: dist/ and build/pyinstaller/ at the top of the checkout. Uses .venv (see installer/linux/setup-dev.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIST="$ROOT/dist"
WORK="$ROOT/build/pyinstaller"
while (($#)); do
  case "$1" in
    --dist) DIST=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
PY="$ROOT/.venv/bin/python"
[[ -x "$PY" ]] || { echo "no .venv: run installer/linux/setup-dev.sh first" >&2; exit 1; }
extras="build"
[[ "$(uname -s)" == Linux ]] && extras="build,gtk"  # the tray's AppIndicator/GTK backends
if ! "$PY" -c 'import PyInstaller' 2>/dev/null; then
  "$PY" -m pip install -q -e "$ROOT[$extras]"
fi
ls "$ROOT"/agent/vigie/locale/*/LC_MESSAGES/vigie.mo >/dev/null  # compiled translations must exist
# No DISPLAY while analysing: nothing gets imported against the user's session.
env -u DISPLAY -u WAYLAND_DISPLAY "$PY" -m PyInstaller --noconfirm --log-level WARN \
  --distpath "$DIST" --workpath "$WORK" "$@" "$ROOT/installer/vigie.spec"
echo "$DIST/vigie"
