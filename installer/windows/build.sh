#!/usr/bin/env bash
# Build Vigie's Windows installer on Linux, with Wine: dist/windows/vigie-setup-<version>.exe.
#
#   bash installer/windows/build.sh [--out DIR]
#
# 1. a Wine prefix with CPython 3.11 for Windows and requirements/windows-build.txt (PyInstaller's
#    win_amd64 wheel and its bootloaders): tests/windows/setup-prefix.sh build, cached in ~/.cache/vigie-wine;
# 2. Inno Setup's compiler from the npm package `innosetup` (installer/windows/package-lock.json, `npm ci`);
# 3. installer/windows/build_installer.py run by Windows' Python under Wine: PyInstaller's onedir bundle
#    (vigie.exe without a console, vigie-cli.exe with one) from installer/vigie.spec, then ISCC.exe on
#    installer/windows/vigie.iss.
# Nothing is downloaded from anywhere but Debian (wine: installer/linux/setup-dev.sh --test), PyPI and npm.
# The prefix is copied for the build and thrown away after it. Prints the installer's path last.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/dist/windows
while (($#)); do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
CACHE=${VIGIE_WINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vigie-wine}
t0=$(date +%s)
step() { printf '[windows build %3ss] %s\n' "$(( $(date +%s) - t0 ))" "$*" >&2; }
win_path() { printf 'Z:%s' "${1//\//\\}"; }

step "Wine prefix with PyInstaller (cached)"
template=$(bash "$ROOT/tests/windows/setup-prefix.sh" build)

step "Inno Setup from npm (cached)"
npm_key=$(sha256sum "$ROOT/installer/windows/package-lock.json" | cut -c1-16)
inno=$CACHE/innosetup-$npm_key
if [[ ! -f $inno/node_modules/innosetup/bin/ISCC.exe ]]; then
  rm -rf "$inno"; mkdir -p "$inno"
  cp "$ROOT/installer/windows/package.json" "$ROOT/installer/windows/package-lock.json" "$inno/"
  (cd "$inno" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
fi
iscc=$inno/node_modules/innosetup/bin/ISCC.exe

work=$(mktemp -d "${TMPDIR:-/tmp}/vigie-windows-build.XXXXXX")
export WINEPREFIX=$work/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=;winedbg.exe=d"
cleanup() { wineserver -k 2>/dev/null || true; wineserver -w 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
# Hard links for what Wine only reads, real copies of the registry hives it rewrites (tests/wine.py).
cp -al "$template" "$WINEPREFIX"
for hive in "$WINEPREFIX"/*.reg; do rm "$hive"; cp "$template/$(basename "$hive")" "$hive"; done

step "PyInstaller bundle and ISCC, under Wine"
# Vigie from this checkout; Windows' Python needs pipes, not files, as standard handles (tests/wine.py).
(cd "$ROOT" && env -u DISPLAY PYTHONPATH="$(win_path "$ROOT/agent")" PYTHONPYCACHEPREFIX="$(win_path "$work/pycache")" \
  wine 'C:\Python311\python.exe' installer/windows/build_installer.py --iscc "$(win_path "$iscc")" \
    --out "$(win_path "$OUT")" --work "$(win_path "$work/defines")" </dev/null 2>&1 | cat >&2)
version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$ROOT/agent/vigie/__init__.py")
setup=$OUT/vigie-setup-$version.exe
[[ -f $setup ]] || { echo "no $setup: see the messages above" >&2; exit 1; }
step "done: $(du -h "$setup" | cut -f1) $setup; bundle $(du -sh "$OUT/vigie" | cut -f1)"
echo "$setup"
