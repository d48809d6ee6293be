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
# PyInstaller and everything bundled come from the lock, exactly (installer/update-locks.sh).
case "$(uname -s)" in
  Linux) lock="linux-dev" ;;  # extras gtk (the tray's AppIndicator/GTK backends), test, build
  Darwin) lock="macos-build" ;;
  *) echo "no lock for $(uname -s): see installer/windows/README.md" >&2; exit 1 ;;
esac
stamp="$ROOT/.venv/.vigie-installed-$lock"  # the same stamp as installer/linux/setup-dev.sh
if [[ ! -f "$stamp" || "$ROOT/requirements/$lock.txt" -nt "$stamp" || "$ROOT/requirements/pip.txt" -nt "$stamp" ]]; then
  "$PY" -m pip install -q --require-hashes -r "$ROOT/requirements/pip.txt"
  "$PY" -m pip install -q --require-hashes -r "$ROOT/requirements/$lock.txt"
  "$PY" -m pip install -q --no-deps --no-build-isolation -e "$ROOT"
  touch "$stamp"
fi
ls "$ROOT"/agent/vigie/locale/*/LC_MESSAGES/vigie.mo >/dev/null  # compiled translations must exist
# No DISPLAY while analysing: nothing gets imported against the user's session.
env -u DISPLAY -u WAYLAND_DISPLAY "$PY" -m PyInstaller --noconfirm --log-level WARN \
  --distpath "$DIST" --workpath "$WORK" "$@" "$ROOT/installer/vigie.spec"
echo "$DIST/vigie"
