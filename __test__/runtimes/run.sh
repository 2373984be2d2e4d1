#!/usr/bin/env bash
# The runtime-neutral behaviour suite (behaviour.mjs) under Bun and Deno,
# which load Node-API addons but give them no libuv (pidset waits there
# through its portable front-end), and under this Node through each
# front-end, so that the suite itself is known to hold where ava runs.
# Bun and Deno come from the npm registry, as packages holding their
# binaries, fetched once into target/runtimes by fetch.sh, which sets the
# versions.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
paths=$(bash "$repo/__test__/runtimes/fetch.sh")
bun=$(sed -n 's/^bun=//p' <<<"$paths")
deno=$(sed -n 's/^deno=//p' <<<"$paths")
cd "$repo/__test__/runtimes"
status=0
timeout 120 "$bun" behaviour.mjs || { echo "FAILED under Bun"; status=1; }
DENO_NO_UPDATE_CHECK=1 timeout 120 "$deno" run --allow-all behaviour.mjs || { echo "FAILED under Deno"; status=1; }
for front_end in libuv portable; do
  PIDSET_FRONTEND=$front_end timeout 120 node behaviour.mjs || { echo "FAILED under Node, $front_end front-end"; status=1; }
done
exit $status
