#!/usr/bin/env bash
# The arm64 package, built and tested on this x64 machine: cross-build the
# addon with Debian's rustc-web (which has the aarch64 standard library),
# then run __test__/emulated/arm64.test.cjs under Debian's arm64 Node 18
# through qemu-user. Needs root for apt-get; everything comes from Debian.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
sysroot="$repo/target/arm64-sysroot"

echo "== arm64 toolchain (Debian: rustc-web, gcc-aarch64-linux-gnu, qemu-user-static)"
export DEBIAN_FRONTEND=noninteractive
dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
apt-get update -q >/dev/null
apt-get install -y -q rustc-web gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static \
  libstd-rust-web-dev:arm64 >/dev/null

echo "== cross-build with $(/usr/bin/rustc --version)"
# Plain cargo, not `napi build`, which would rewrite the x64 build's
# generated binding files; the .so is the addon, named as napi-rs names it.
RUSTC=/usr/bin/rustc CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
  cargo build --release -p pidset-node --target aarch64-unknown-linux-gnu --target-dir target/cross
cp target/cross/aarch64-unknown-linux-gnu/release/libpidset_node.so pidset.linux-arm64-gnu.node
cp pidset.linux-arm64-gnu.node npm/linux-arm64-gnu/
so=pidset.linux-arm64-gnu.node
floor=$(objdump -T "$so" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
if readelf -S "$so" | grep -q '\.symtab'; then stripped="not stripped"; else stripped="stripped"; fi
echo "$so: $(readelf -h "$so" | awk '/Machine/ {$1=""; print}'), needs $floor, $stripped, $(du -k "$so" | cut -f1) KiB"

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
