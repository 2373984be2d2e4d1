#!/usr/bin/env bash
# The consumer test: pack pidset and its x64 platform package as npm would
# publish them, install the tarballs into a fresh project outside the
# repository with no Rust toolchain on PATH, and use them from CommonJS, an
# ES module and type-checked TypeScript. Then report the binary's glibc
# floor and the installed sizes. Needs npm/build.sh and `npm run build:ts`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
here="$repo/__test__/consumer"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

binary="$repo/npm/linux-x64-gnu/pidset.linux-x64-gnu.node"
[ -f "$binary" ] || { echo "consumer test: run npm/build.sh first ($binary is missing)" >&2; exit 1; }
( cd "$repo" && npm pack --silent --pack-destination "$work" >/dev/null )
( cd "$repo/npm/linux-x64-gnu" && npm pack --silent --pack-destination "$work" >/dev/null )

mkdir "$work/app"
cp "$here/consumer.cjs" "$here/consumer.mjs" "$here/consumer.ts" "$here/tsconfig.json" "$work/app/"
cd "$work/app"
echo '{ "name": "pidset-consumer", "private": true }' > package.json
# Only the two tarballs and the TypeScript tools a user would have.
npm install --no-audit --no-fund --silent "$work"/pidset-0*.tgz "$work"/pidset-linux-x64-gnu-*.tgz \
  "typescript@$(node -p "require('$repo/node_modules/typescript/package.json').version")" \
  "@types/node@$(node -p "require('$repo/node_modules/@types/node/package.json').version")"

# A PATH with node and sh only: the package must not need cargo or rustc.
mkdir "$work/bin"
ln -s "$(command -v node)" "$work/bin/node"
ln -s "$(command -v sh)" "$work/bin/sh"
if PATH="$work/bin" command -v cargo >/dev/null; then echo "cargo is on the clean PATH" >&2; exit 1; fi
run() { env PATH="$work/bin" node "$@"; }
run consumer.cjs
run consumer.mjs
run node_modules/typescript/bin/tsc -p tsconfig.json
echo "typescript ok"
# The command the package installs, as a user runs it from node_modules/.bin.
version=$(env PATH="$work/bin:$PWD/node_modules/.bin" pidset --version)
[ "$version" = "$(node -p "require('$repo/package.json').version")" ] || { echo "pidset --version said: $version" >&2; exit 1; }
status=0
env PATH="$work/bin:$PWD/node_modules/.bin" pidset run -- sh -c 'exit 4' 2>/dev/null || status=$?
[ "$status" = 4 ] || { echo "pidset run -- sh -c 'exit 4' exited $status" >&2; exit 1; }
echo "the pidset command ok ($version)"

# The two ways README gives to use a local build before anything is
# published. The root tarball alone has no binary (its platform packages
# become optionalDependencies only at publish): one clear error.
mkdir "$work/alone" && cd "$work/alone"
echo '{ "name": "pidset-alone", "private": true }' > package.json
npm install --no-audit --no-fund --silent "$work"/pidset-0*.tgz
code=$(env PATH="$work/bin" node -e "try { require('pidset') } catch (e) { console.log(e.code, /pidset-linux-x64-gnu/.test(e.message)) }")
[ "$code" = "ERR_PIDSET_BINARY_MISSING true" ] || { echo "root tarball alone: expected ERR_PIDSET_BINARY_MISSING naming the platform package, got: $code" >&2; exit 1; }
echo "root tarball alone: $code"
# A path install of the clone, whose built binary sits beside binding.js.
if [ -f "$repo/pidset.linux-x64-gnu.node" ]; then
  mkdir "$work/path" && cd "$work/path"
  echo '{ "name": "pidset-path", "private": true }' > package.json
  npm install --no-audit --no-fund --silent "$repo"
  cp "$here/consumer.cjs" . && run consumer.cjs
  echo "path install ok"
fi

# npm picks the platform package by its os, cpu and libc fields: with all
# four as optional dependencies (as published), a glibc x64 machine gets
# the gnu one and an Alpine x64 machine the musl one (--libc tells npm
# which it is on; __test__/musl/run.sh then runs the musl install).
for platform in linux-arm64-gnu linux-x64-musl linux-arm64-musl; do
  [ -f "$repo/npm/$platform/pidset.$platform.node" ] || { echo "consumer test: run npm/build.sh first" >&2; exit 1; }
  ( cd "$repo/npm/$platform" && npm pack --silent --pack-destination "$work" >/dev/null )
done
for libc in glibc musl; do
  mkdir "$work/select-$libc" && cd "$work/select-$libc"
  optional=$(for p in linux-x64-gnu linux-arm64-gnu linux-x64-musl linux-arm64-musl; do
    printf '"pidset-%s": "file:%s",' "$p" "$(ls "$work/pidset-$p-"*.tgz)"; done)
  echo "{ \"name\": \"pidset-select\", \"private\": true, \"dependencies\": { \"pidset\": \"file:$(ls "$work"/pidset-0*.tgz)\" }, \"optionalDependencies\": { ${optional%,} } }" > package.json
  npm install --no-audit --no-fund --silent --os=linux --cpu=x64 --libc=$libc
  chosen=$(cd node_modules && ls -d pidset-linux-* | tr '\n' ' ')
  expected="pidset-linux-x64-$([ $libc = glibc ] && echo gnu || echo musl) "
  [ "$chosen" = "$expected" ] || { echo "npm install --libc=$libc chose: $chosen" >&2; exit 1; }
  echo "x64 $libc: npm installs $chosen"
done
cd "$work/app"

echo "== binary report"
for so in node_modules/pidset-linux-*/pidset.*.node; do
  floor=$(objdump -T "$so" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
  if readelf -S "$so" | grep -q '\.symtab'; then stripped="not stripped"; else stripped="stripped"; fi
  echo "$(basename "$so"): needs $floor, $stripped, $(du -k "$so" | cut -f1) KiB"
done
for pkg in pidset pidset-linux-x64-gnu; do
  echo "installed size of $pkg: $(du -sk "node_modules/$pkg" | cut -f1) KiB"
done
echo "consumer test passed"
