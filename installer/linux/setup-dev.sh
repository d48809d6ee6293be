#!/usr/bin/env bash
# Prepare a Debian/Ubuntu machine to run Vigie from this checkout:
# system packages (apt) and a virtual environment in .venv with Vigie installed (editable).
#   setup-dev.sh          what the agent needs at run time
#   setup-dev.sh --test   plus the real desktop services the test suite drives
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"

RUNTIME_PKGS=(python3 python3-venv python3-tk
  libgirepository1.0-dev libcairo2-dev pkg-config gir1.2-gtk-3.0 gir1.2-ayatanaappindicator3-0.1
  libnotify-bin gnome-keyring libsecret-tools i3lock
  pcscd libpcsclite-dev)
TEST_PKGS=(xvfb x11-utils xdotool imagemagick x11-apps trayer haskell-gtk-sni-tray-utils haskell-status-notifier-item-utils
  dunst xprintidle xsecurelock dbus apt-utils dpkg-dev gettext desktop-file-utils
  gsettings-desktop-schemas libglib2.0-bin btrfs-progs clamav
  restic borgbackup pcsc-tools vsmartcard-vpcd poppler-utils iproute2
  binutils)  # PyInstaller (objcopy) and the bundle build (strip, readelf)

pkgs=("${RUNTIME_PKGS[@]}")
extras="gtk"
if [[ "${1:-}" == "--test" ]]; then
  pkgs+=("${TEST_PKGS[@]}")
  extras="gtk,test,build"  # build: PyInstaller, for the packaging tests
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  echo "Installing system packages: ${missing[*]}"
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "Vigie needs Python 3.11 or newer" >&2; exit 1; }
[[ -x .venv/bin/python ]] || "$PY" -m venv .venv
stamp=".venv/.vigie-installed-$extras"
if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" ]]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e ".[$extras]"
  touch "$stamp"
fi
