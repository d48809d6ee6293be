#!/usr/bin/env bash
# Prepare a Debian/Ubuntu machine to run Vigie from this checkout:
# system packages (apt) and a virtual environment in .venv with Vigie installed (editable).
#   setup-dev.sh          what the agent needs at run time (Python packages: requirements/linux-runtime.txt)
#   setup-dev.sh --test   plus the real desktop services the test suite drives (requirements/linux-dev.txt)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"

RUNTIME_PKGS=(python3 python3-venv python3-tk
  libgirepository1.0-dev libcairo2-dev pkg-config gir1.2-gtk-3.0 gir1.2-ayatanaappindicator3-0.1
  libnotify-bin gnome-keyring libsecret-tools i3lock
  pcscd libpcsclite-dev)
TEST_PKGS=(xvfb x11-utils xdotool imagemagick x11-apps trayer haskell-gtk-sni-tray-utils haskell-status-notifier-item-utils
  dunst xprintidle xsecurelock mate-screensaver dbus apt-utils dpkg-dev gettext desktop-file-utils
  gsettings-desktop-schemas libglib2.0-bin btrfs-progs clamav
  restic borgbackup pcsc-tools vsmartcard-vpcd poppler-utils iproute2
  cryptsetup nftables  # the protection checks (issue 20): LUKS drives, firewall rules in a namespace
  binutils  # PyInstaller (objcopy) and the bundle build (strip, readelf)
  openssh-server network-manager python3-dbusmock  # access checks (issue 20): sshd in a namespace, nmcli + stand-in
  locales  # localedef: the Windows lane's console code pages
  # The Windows lane: a real Windows CPython under Wine (tests/windows/setup-prefix.sh). wine32 too: Inno
  # Setup's compiler and the setup programs it makes are 32-bit (installer/windows/build.sh).
  wine wine64 libwine wine32:i386 unzip
  # The real desktops (issue 16, tests/shells.py): GNOME Shell with Ubuntu's AppIndicator extension,
  # KDE Plasma, XFCE with xscreensaver and light-locker (~560 packages, about 2 minutes).
  gnome-shell gnome-shell-extension-appindicator gjs plasma-workspace plasma-desktop-data kwin-x11 kded5
  xfce4-panel xfce4-notifyd xfce4-power-manager xfwm4 xfce4-session xscreensaver light-locker)

pkgs=("${RUNTIME_PKGS[@]}")
lock="requirements/linux-runtime.txt"  # extras gtk
if [[ "${1:-}" == "--test" ]]; then
  pkgs+=("${TEST_PKGS[@]}")
  lock="requirements/linux-dev.txt"  # extras gtk,test,build (build: PyInstaller, for the packaging tests)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  echo "Installing system packages: ${missing[*]}"
  if [[ " ${missing[*]} " == *":i386 "* ]] && ! dpkg --print-foreign-architectures | grep -qx i386; then
    $SUDO dpkg --add-architecture i386  # wine32
  fi
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "Vigie needs Python 3.11 or newer" >&2; exit 1; }
"$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
  || echo "note: the locks in requirements/ are made for Python 3.11, not $("$PY" -V)" >&2
[[ -x .venv/bin/python ]] || "$PY" -m venv .venv
# Exact versions with hashes from the lock (installer/update-locks.sh makes it from pyproject.toml's
# ranges); installed again whenever the lock changes. pip itself first, pinned in requirements/pip.txt.
stamp=".venv/.vigie-installed-$(basename "$lock" .txt)"
if [[ ! -f "$stamp" || "$lock" -nt "$stamp" || requirements/pip.txt -nt "$stamp" ]]; then
  .venv/bin/python -m pip install -q --require-hashes -r requirements/pip.txt
  .venv/bin/python -m pip install -q --require-hashes -r "$lock"
  # Vigie itself, editable; its build backend (setuptools) comes from the lock.
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
  # A pyproject.toml edited without `bash installer/update-locks.sh`: Vigie's ranges unmet.
  if ! unmet=$(.venv/bin/python -m pip check 2>&1); then
    echo "$unmet" >&2
    echo "$lock does not fit pyproject.toml: run bash installer/update-locks.sh" >&2
    exit 1
  fi
  touch "$stamp"
fi
