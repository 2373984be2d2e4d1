#!/usr/bin/env bash
# pidset under Bun and Deno, which load Node-API addons but lack libuv's
# uv_poll: check.mjs asserts that everything but waiting works there and
# that waiting fails with ERR_PIDSET_UNSUPPORTED_RUNTIME, never a crash
# (Bun aborted in uv_poll_init; Deno could not load the addon). Both come
# from the npm registry, as packages holding their binaries, fetched once
# into target/runtimes.
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
timeout 60 "$bun" check.mjs || { echo "FAILED under Bun $BUN_VERSION"; status=1; }
DENO_NO_UPDATE_CHECK=1 timeout 60 "$deno" run --allow-all check.mjs || { echo "FAILED under Deno $DENO_VERSION"; status=1; }
exit $status
