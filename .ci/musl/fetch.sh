#!/usr/bin/env bash
# fetch.sh ARCH (x86_64 or aarch64): the C library that building and
# testing the musl packages take, fetched once into target/musl/ARCH/ and
# kept; prints that directory, which then holds
#   root/  Debian trixie's musl 1.2.5 (the C library the tests run on);
#   sdk/   Debian bookworm's musl 1.2.3 and musl-dev (the C library and crt
#          files the packages link against: the oldest musl they promise
#          to load on, that of Alpine 3.16; a newer musl keeps every symbol);
#          both unpacked with dpkg-deb -x, never installed.
# The musl Node the tests run comes from fetch-node.sh.
#
# The tests run on trixie's musl, not bookworm's: 1.2.3 makes the musl Node
# segfault. Each comes through an apt state of its own (as
# .ci/kernels/fetch.sh fetches kernels), so the host's package lists are
# not touched.
set -euo pipefail
arch=${1:?usage: fetch.sh x86_64|aarch64}
case $arch in
  x86_64) deb_arch=amd64 ;;
  aarch64) deb_arch=arm64 ;;
  *) echo "fetch.sh: x86_64 or aarch64, not $arch" >&2; exit 2 ;;
esac
repo=$(cd "$(dirname "$0")/../.." && pwd)
dir=$repo/target/musl/$arch

# unpack SUITE DEST PACKAGE...: Debian SUITE's PACKAGEs for this
# architecture, unpacked into DEST once.
unpack() {
  local suite=$1 dest=$2
  shift 2
  [ -f "$dest/.complete" ] && return
  local state=$repo/target/musl/apt-$suite-$deb_arch
  mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/etc/preferences.d"
  local uri
  uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources)
  [ -n "$uri" ] || { echo "fetch.sh: no Debian mirror in /etc/apt/sources.list.d/*.sources" >&2; exit 1; }
  cat >"$state/etc/extra.sources" <<SOURCES
Types: deb
URIs: $uri
Suites: $suite
Components: main
Architectures: $deb_arch
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  local apt_opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$state/etc"
    -o Dir::Etc::Preferences=/dev/null -o "Dir::Etc::PreferencesParts=$state/etc/preferences.d"
    -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache" -o APT::Get::List-Cleanup=0
    -o APT::Sandbox::User=root -o "APT::Architectures::=$deb_arch")
  apt-get -q "${apt_opts[@]}" update >&2
  local debs
  debs=$(mktemp -d)
  (cd "$debs" && apt-get -q "${apt_opts[@]}" download "${@/%/:$deb_arch}" >&2)
  rm -rf "$dest"
  mkdir -p "$dest"
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$dest"; done
  rm -rf "$debs"
  touch "$dest/.complete"
}
unpack trixie "$dir/root" musl
unpack bookworm "$dir/sdk" musl musl-dev
echo "$dir"
