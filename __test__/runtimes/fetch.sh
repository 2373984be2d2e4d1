#!/usr/bin/env bash
# Fetches Bun and Deno from the npm registry (packages holding their
# binaries) into target/runtimes, once, and prints their paths as
# `bun=PATH` and `deno=PATH` lines. The versions tested are set here, and
# README's platform table names them.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
BUN_VERSION=1.4.5
DENO_VERSION=2.9.6

# fetch PACKAGE VERSION PATH-IN-PACKAGE: prints the binary's path.
fetch() {
  local dir="$repo/target/runtimes/${1//\//_}-$2"
  if [ ! -x "$dir/$3" ]; then
    local work
    work=$(mktemp -d)
    ( cd "$work" && npm pack -q "$1@$2" >/dev/null )
    rm -rf "$dir" && mkdir -p "$dir"
    tar -xzf "$work"/*.tgz -C "$dir" --strip-components=1
    rm -rf "$work"
    chmod +x "$dir/$3"
  fi
  echo "$dir/$3"
}

echo "bun=$(fetch @oven/bun-linux-x64 "$BUN_VERSION" bin/bun)"
echo "deno=$(fetch @deno/linux-x64-glibc "$DENO_VERSION" deno)"
