#!/usr/bin/env bash
# A private, offline apt world for tests and benchmarks: no root, no network, the system's apt
# lists and dpkg database untouched. Two flat repositories (one regular, one security, each with
# a Release file) offer version 1.1 of two packages; a private dpkg status file says 1.0 of each
# is installed. Prints the APT_CONFIG path to use. Needs dpkg-dev and apt-utils.
#   make_apt_repo.sh WORKDIR
set -euo pipefail
W=${1:?usage: make_apt_repo.sh WORKDIR}
rm -rf "$W"
mkdir -p "$W"/{build,regular,security,lists/partial,cache/archives/partial}
: > "$W/status"

make_package() {  # name version
  local d="$W/build/$1"
  mkdir -p "$d/DEBIAN" "$d/usr/share/doc/$1"
  printf 'Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: Vigie Tests <tests@example.invalid>\nPriority: optional\nSection: misc\nDescription: Vigie test package\n' "$1" "$2" > "$d/DEBIAN/control"
  echo "$1 $2" > "$d/usr/share/doc/$1/VERSION"
  dpkg-deb --root-owner-group --build "$d" "$W/build/${1}_${2}_all.deb" >/dev/null
}

installed() {  # name version
  printf 'Package: %s\nStatus: install ok installed\nPriority: optional\nSection: misc\nMaintainer: Vigie Tests <tests@example.invalid>\nArchitecture: all\nVersion: %s\nDescription: Vigie test package\n\n' "$1" "$2" >> "$W/status"
}

release() {  # dir origin label suite
  (cd "$1" && apt-ftparchive packages . > Packages && gzip -9kf Packages &&
    apt-ftparchive -o APT::FTPArchive::Release::Origin="$2" -o APT::FTPArchive::Release::Label="$3" \
      -o APT::FTPArchive::Release::Suite="$4" -o APT::FTPArchive::Release::Codename="$4" release . > Release)
}

make_package vigie-regular 1.1 && cp "$W/build/vigie-regular_1.1_all.deb" "$W/regular/"
make_package vigie-security 1.1 && cp "$W/build/vigie-security_1.1_all.deb" "$W/security/"
installed vigie-regular 1.0
installed vigie-security 1.0
release "$W/regular" Debian Debian bookworm-updates
release "$W/security" Debian Debian-Security bookworm-security

printf 'deb [trusted=yes] file:%s/regular ./\ndeb [trusted=yes] file:%s/security ./\n' "$W" "$W" > "$W/sources.list"
cat > "$W/apt.conf" <<CONF
Dir::Etc::SourceList "$W/sources.list";
Dir::Etc::SourceParts "/dev/null";
Dir::State::Lists "$W/lists";
Dir::State::status "$W/status";
Dir::Cache "$W/cache";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT::Get::List-Cleanup "0";
CONF
APT_CONFIG="$W/apt.conf" apt-get -q -q update >/dev/null
echo "$W/apt.conf"
