#!/usr/bin/env bash
# Build Vigie-<version>.pkg on macOS: Vigie.app (PyInstaller), signed and notarised, plus the
# LaunchAgent for every user, as one flat package. Unsigned when VIGIE_APP_IDENTITY is unset
# (development only: notifications and the keychain then misbehave, see README.md).
#   VIGIE_APP_IDENTITY="Developer ID Application: …"  VIGIE_INSTALLER_IDENTITY="Developer ID Installer: …"
#   VIGIE_NOTARY_PROFILE=<notarytool keychain profile>  installer/macos/build-pkg.sh [--out DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/installer/macos"
OUT="$ROOT/dist"
[[ "${1:-}" == "--out" ]] && OUT=$2
[[ "$(uname -s)" == Darwin ]] || { echo "macOS only" >&2; exit 1; }
PY="$ROOT/.venv/bin/python"
meta() { "$PY" "$ROOT/installer/vigie_meta.py" "$1"; }
VERSION=$(meta version)
BUNDLE_ID=$(meta bundle-id)

bash "$ROOT/installer/build-bundle.sh" --dist "$OUT" >/dev/null
APP="$OUT/Vigie.app"
# The uninstaller travels inside the app (added before signing: Resources are sealed).
install -m 755 "$HERE/uninstall.sh" "$APP/Contents/Resources/uninstall.sh"

if [[ -n "${VIGIE_APP_IDENTITY:-}" ]]; then
  # Inside out: every Mach-O file, then the app (hardened runtime, secure timestamp).
  find "$APP/Contents" -type f \( -name "*.so" -o -name "*.dylib" -o -perm -u+x \) -print0 |
    xargs -0 codesign --force --timestamp --options runtime --entitlements "$HERE/entitlements.plist" \
      --sign "$VIGIE_APP_IDENTITY"
  codesign --force --timestamp --options runtime --entitlements "$HERE/entitlements.plist" \
    --sign "$VIGIE_APP_IDENTITY" "$APP"
  codesign --verify --strict --deep --verbose=2 "$APP"
fi

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/root/Applications" "$STAGE/root/Library/LaunchAgents" "$STAGE/scripts"
ditto "$APP" "$STAGE/root/Applications/Vigie.app"
meta macos-launch-agent > "$STAGE/root/Library/LaunchAgents/$BUNDLE_ID.plist"
plutil -lint "$STAGE/root/Library/LaunchAgents/$BUNDLE_ID.plist"
install -m 755 "$HERE/scripts/preinstall" "$HERE/scripts/postinstall" "$STAGE/scripts/"

COMPONENT="$STAGE/vigie-component.pkg"
pkgbuild --root "$STAGE/root" --scripts "$STAGE/scripts" --identifier "$BUNDLE_ID.pkg" --version "$VERSION" \
  --install-location / --ownership recommended "$COMPONENT"
PKG="$OUT/Vigie-$VERSION.pkg"
sign=()
[[ -n "${VIGIE_INSTALLER_IDENTITY:-}" ]] && sign=(--sign "$VIGIE_INSTALLER_IDENTITY" --timestamp)
productbuild --package "$COMPONENT" ${sign[@]+"${sign[@]}"} "$PKG"  # macOS bash 3.2: empty array

if [[ -n "${VIGIE_NOTARY_PROFILE:-}" ]]; then
  xcrun notarytool submit "$PKG" --keychain-profile "$VIGIE_NOTARY_PROFILE" --wait
  xcrun stapler staple "$PKG"
  xcrun stapler validate "$PKG"
fi
echo "$PKG"
