#!/usr/bin/env bash
# Build the Debian package of Vigie from the PyInstaller bundle.
#   build-deb.sh [--bundle DIR] [--out DIR] [--compress xz|gzip|zstd|none]
# Without --bundle, installer/build-bundle.sh builds one first. Prints the path of the .deb.
# Layout: /opt/vigie (the bundle), /usr/bin/vigie -> /opt/vigie/vigie, /etc/xdg/autostart/vigie.desktop
# (conffile), /usr/share/applications/vigie.desktop, /usr/share/icons/hicolor/*/apps/vigie.png.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY="$ROOT/.venv/bin/python"
BUNDLE=""
OUT="$ROOT/dist"
COMPRESS=xz
while (($#)); do
  case "$1" in
    --bundle) BUNDLE=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --compress) COMPRESS=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"
if [[ -z "$BUNDLE" ]]; then
  bash "$ROOT/installer/build-bundle.sh" --dist "$OUT" >/dev/null
  BUNDLE="$OUT/vigie"
fi
[[ -x "$BUNDLE/vigie" ]] || { echo "no bundle at $BUNDLE" >&2; exit 1; }

meta() { "$PY" "$ROOT/installer/vigie_meta.py" "$1"; }
VERSION=$(meta version)
ARCH=$(dpkg --print-architecture)
PREFIX=$(meta linux-prefix)
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
PKG="$STAGE/vigie"

install -d "$PKG$PREFIX" "$PKG/usr/bin" "$PKG/etc/xdg/autostart" "$PKG/usr/share/applications" \
  "$PKG/usr/share/doc/vigie" "$PKG/DEBIAN"
cp -a "$BUNDLE/." "$PKG$PREFIX/"
ln -s "$PREFIX/vigie" "$PKG/usr/bin/vigie"
meta xdg-autostart > "$PKG/etc/xdg/autostart/vigie.desktop"
meta xdg-menu > "$PKG/usr/share/applications/vigie.desktop"
for size in $(meta icon-sizes); do
  install -D -m 0644 "$ROOT/agent/vigie/ui/icon_png/vigie-ok-$size.png" "$PKG/usr/share/icons/hicolor/${size}x${size}/apps/vigie.png"
done
cat > "$PKG/usr/share/doc/vigie/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: Vigie
Comment: Vigie bundles a Python runtime and libraries (PyInstaller); their licences are in
 $PREFIX/_internal/*.dist-info where the packages ship them.

Files: *
Copyright: Vigie
License: proprietary
COPYRIGHT

# Normalise permissions whatever the umask: directories 755, files 644, executables 755.
chmod -R u+rwX,go+rX,go-w "$PKG"

install -m 0755 "$ROOT/installer/linux/debian/prerm" "$PKG/DEBIAN/prerm"
(cd "$PKG" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
  > "$PKG/DEBIAN/md5sums"  # for dpkg --verify and debsums
echo "/etc/xdg/autostart/vigie.desktop" > "$PKG/DEBIAN/conffiles"
INSTALLED_KB=$(du -sk --exclude=DEBIAN "$PKG" | cut -f1)
# The bundle carries its own Python, GTK and AppIndicator libraries (PyInstaller's gi hooks), but
# not what they read from the system: GTK's icon themes, settings and modules, and glibc itself
# (the bundle needs the glibc it was built against, or newer). A desktop session bus, a tray host
# (StatusNotifierItem) and a notification server come with every desktop and cannot be named here.
cat > "$PKG/DEBIAN/control" <<CONTROL
Package: vigie
Version: $VERSION
Architecture: $ARCH
Maintainer: $(meta maintainer)
Installed-Size: $INSTALLED_KB
Depends: libc6 (>= $(ldd --version | awk 'NR==1{print $NF}')), libgtk-3-0, gir1.2-ayatanaappindicator3-0.1
Recommends: gnome-keyring | keepassxc, libnotify-bin, pcscd
Suggests: gnome-shell-extension-appindicator, clamav, restic, borgbackup
Section: utils
Priority: optional
Description: security watch for the computers of independent health practices
 Vigie (« vigie » : lookout) keeps watch over the computer of a medical, nursing,
 physiotherapy or dental practice: pending security updates, backups and their
 restore tests, screen locking when nobody is there, USB drives, the CPS card.
 It lives next to the clock as a tray icon and speaks French.
 .
 Settings stay in the desktop's keyring (Secret Service); an IT provider can lock
 them machine-wide in /etc/vigie/policy.toml. Nothing leaves the computer.
CONTROL

DEB="$OUT/vigie_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Z"$COMPRESS" --build "$PKG" "$DEB" >/dev/null
echo "$DEB"
