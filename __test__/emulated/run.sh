#!/usr/bin/env bash
# The arm64 package, tested on this x64 machine: the binary npm/build.sh
# made runs __test__/emulated/arm64.test.cjs under Debian's arm64 Node 18
# through qemu-user. Needs root for apt-get; everything comes from Debian.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
sysroot="$repo/target/arm64-sysroot"

binary="$repo/npm/linux-arm64-gnu/pidset.linux-arm64-gnu.node"
[ -f "$binary" ] || { echo "arm64 test: run npm/build.sh first ($binary is missing)" >&2; exit 1; }
# binding.js loads a binary beside it first: the package's arm64 build.
cp "$binary" "$repo/pidset.linux-arm64-gnu.node"

echo "== qemu-user-static and Debian's arm64 Node"
export DEBIAN_FRONTEND=noninteractive
dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
if ! command -v qemu-aarch64-static >/dev/null || [ ! -x "$sysroot/usr/bin/node" ]; then
  apt-get update -q >/dev/null
  apt-get install -y -q qemu-user-static >/dev/null
fi

if [ ! -x "$sysroot/usr/bin/node" ]; then
  echo "== arm64 Node from Debian, unpacked into $sysroot"
  debs=$(mktemp -d)
  ( cd "$debs" && apt-get download -q nodejs:arm64 libnode108:arm64 libc6:arm64 libgcc-s1:arm64 \
      libstdc++6:arm64 libuv1:arm64 libssl3:arm64 libicu72:arm64 libbrotli1:arm64 libc-ares2:arm64 \
      libnghttp2-14:arm64 zlib1g:arm64 node-cjs-module-lexer node-acorn node-undici >/dev/null 2>&1 )
  mkdir -p "$sysroot"
  for deb in "$debs"/*.deb; do dpkg -x "$deb" "$sysroot"; done
  rm -rf "$debs"
fi
node_arm64() { qemu-aarch64-static -L "$sysroot" "$sysroot/usr/bin/node" "$@"; }
echo "== emulated: $(node_arm64 -p 'process.arch + " Node " + process.version')"
# Run the file itself: `node --test` would spawn a child with an arm64
# execPath, which the kernel cannot run without binfmt_misc.
timeout 300 qemu-aarch64-static -L "$sysroot" "$sysroot/usr/bin/node" __test__/emulated/arm64.test.cjs
