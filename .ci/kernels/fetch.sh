#!/usr/bin/env bash
# fetch.sh SERIES: Debian's amd64 kernel image of SERIES (5.10, 6.1, 6.12,
# 6.16 ... 7.x), unpacked (dpkg-deb -x; never installed) under
# $KERNELS/<release>/; prints that directory. Kept between runs: a series
# already unpacked is not fetched again.
#
# The image comes from the Debian archive that this machine's apt sources
# already name (main and security), through an apt state of its own under
# $KERNELS/apt, so the host's package lists are not touched.
set -euo pipefail
KERNELS=${KERNELS:?set KERNELS to the cache directory}
series=${1:?usage: fetch.sh SERIES}

cached=$(ls -d "$KERNELS"/"$series".*-amd64 2>/dev/null | sort -V | tail -1 || true)
if [ -n "$cached" ] && [ -f "$cached/.complete" ]; then echo "$cached"; exit 0; fi

sources=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
main_uri=$(awk '/^URIs:/{print $2; exit}' <<<"$sources")
security_uri=$(awk '/^URIs:/{u=$2} /^Suites:.*-security/{print u; exit}' <<<"$sources")
[ -n "$main_uri" ] && [ -n "$security_uri" ] || { echo "fetch.sh: no Debian mirror in /etc/apt/sources.list.d/*.sources" >&2; exit 1; }
# Which suite serves which series (each is the newest image of its line).
case $series in
  5.10) uri=$security_uri suite=bullseye-security ;;
  6.1) uri=$security_uri suite=bookworm-security ;;
  6.12) uri=$security_uri suite=trixie-security ;;
  6.1[6-9] | 7.*) uri=$main_uri suite=trixie-backports ;;
  *) echo "fetch.sh: Debian serves no $series kernel here (5.10, 6.1, 6.12, 6.16-7.x)" >&2; exit 2 ;;
esac

state=$KERNELS/apt/$suite
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/etc/preferences.d" "$KERNELS/debs"
cat >"$state/etc/extra.sources" <<SOURCES
Types: deb
URIs: $uri
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
apt_opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$state/etc"
  -o Dir::Etc::Preferences=/dev/null -o "Dir::Etc::PreferencesParts=$state/etc/preferences.d"
  -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache" -o APT::Get::List-Cleanup=0
  -o APT::Sandbox::User=root)
apt-get -q "${apt_opts[@]}" update >&2
pattern="^linux-image-${series//./\\.}[.-][0-9.+a-z-]*-amd64\$"
package=$(apt-cache "${apt_opts[@]}" search --names-only "$pattern" | awk '{print $1}' |
  grep -vE 'cloud|-rt-|dbg|unsigned' | sort -V | tail -1)
[ -n "$package" ] || { echo "fetch.sh: no $series kernel in $suite" >&2; exit 1; }
release=${package#linux-image-}
# From 7.x on, linux-image-* is an empty package that depends on the
# kernel itself (linux-binary-*) and its modules (linux-modules-*).
packages=("$package")
if apt-cache "${apt_opts[@]}" show "$package" | grep -q "^Depends:.*linux-binary-$release"; then
  packages=("linux-binary-$release" "linux-modules-$release")
fi
(cd "$KERNELS/debs" && apt-get -q "${apt_opts[@]}" download "${packages[@]}" >&2)
rm -rf "${KERNELS:?}/$release"
for name in "${packages[@]}"; do
  deb=$(ls -t "$KERNELS/debs/${name}_"*.deb | head -1)
  dpkg-deb -x "$deb" "$KERNELS/$release"
  rm -f "$deb"
done
# The kernel: /boot/vmlinuz-RELEASE, or (7.x) in the modules' directory.
ls "$KERNELS/$release/boot/vmlinuz-$release" >/dev/null 2>&1 || ls "$KERNELS/$release/usr/lib/modules/$release/vmlinuz" >/dev/null
touch "$KERNELS/$release/.complete"
echo "$KERNELS/$release"
