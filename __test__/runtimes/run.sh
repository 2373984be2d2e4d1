#!/usr/bin/env bash
# The runtime-neutral behaviour suite (behaviour.mjs) under Bun and Deno,
# which load Node-API addons but give them no libuv (pidset waits there
# through its portable front-end), and under this Node through each
# front-end, so that the suite itself is known to hold where ava runs.
# Bun and Deno come from the npm registry, as packages holding their
# binaries, fetched once into target/runtimes. The versions tested are the
# ones README's platform table names.
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

bun=$(fetch @oven/bun-linux-x64 "$BUN_VERSION" bin/bun)
deno=$(fetch @deno/linux-x64-glibc "$DENO_VERSION" deno)
cd "$repo/__test__/runtimes"
status=0
timeout 120 "$bun" behaviour.mjs || { echo "FAILED under Bun $BUN_VERSION"; status=1; }
DENO_NO_UPDATE_CHECK=1 timeout 120 "$deno" run --allow-all behaviour.mjs || { echo "FAILED under Deno $DENO_VERSION"; status=1; }
for front_end in libuv portable; do
  PIDSET_FRONTEND=$front_end timeout 120 node behaviour.mjs || { echo "FAILED under Node, $front_end front-end"; status=1; }
done
exit $status
