#!/usr/bin/env bash
# matrix.sh [SERIES...]: runs the whole ava suite under each kernel series,
# then the behaviour suite through the portable front-end
# (default: 5.10 6.1 6.12 6.16 7.3, the lines of Debian 11, 12 and 13, the
# first after 6.15's PIDFD_INFO_EXIT and the newest Debian serves, which has
# 7.1's CLONE_PIDFD_AUTOKILL), each booted under qemu by boot.sh,
# and fails naming every kernel on which a test failed. Run it after `npm
# test` on the host, which builds the package, the fault build and the test
# fixtures that the guests (without a compiler) use.
#
# Kernels and images are cached in $KERNELS (default target/kernels); each
# kernel's TAP output is kept in $KERNELS/results/<release>.tap.
set -euo pipefail
cd "$(dirname "$0")/../.."
export KERNELS=${KERNELS:-$PWD/target/kernels}
here=.ci/kernels
[ $# -gt 0 ] || set -- 5.10 6.1 6.12 6.16 7.3
mkdir -p "$KERNELS/results"
failed=()

# progress RELEASE STARTED PID: while PID (the guest) runs, prints every
# 30 s how long it has run and how many tests have reported so far (from
# the TAP the guest writes into the shared job folder).
progress() {
  local release=$1 started=$2 pid=$3 tick=0 job tap
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    tick=$((tick + 1))
    [ $((tick % 30)) = 0 ] || continue
    job=$(ls -td "$KERNELS/jobs/$release".* 2>/dev/null | head -1)
    tap=${job:+$job/tap}
    if [ -n "$tap" ] && [ -s "$tap" ]; then
      echo "  [$release] $(($(date +%s) - started)) s: $(grep -c '^ok ' "$tap" || true) ok, $(grep -c '^not ok ' "$tap" || true) not ok so far"
    else
      echo "  [$release] $(($(date +%s) - started)) s: booting, the suite not reporting yet"
    fi
  done
}

for series in "$@"; do
  echo "kernel $series: fetching Debian's image unless cached in $KERNELS (5.10 57 MB, 6.1 71 MB, 6.12 109 MB, 6.16 170 MB, 7.3 121 MB)"
  dir=$(bash "$here/fetch.sh" "$series")
  release=$(basename "$dir")
  tap=$KERNELS/results/$release.tap
  started=$(date +%s)
  # Longer time limits: under emulation a test's own subprocesses (Node
  # start-ups) take seconds, and nine at once on two emulated CPUs outrun
  # the tests' 20 s limits (__test__/helpers.ts, TIME_SCALE).
  echo "kernel $release: fetched ($(du -sh "$dir" | cut -f1) unpacked), booting under qemu (TCG) and running the ava suite"
  rc=0
  # Then the behaviour suite through the portable front-end (what Bun and
  # Deno use), whose thread and timerfd the ava run above does not take.
  bash "$here/boot.sh" "$dir" 'PIDSET_TEST_TIME_SCALE=6 node node_modules/ava/entrypoints/cli.mjs --tap --timeout=180s >/job/tap 2>&1; PIDSET_FRONTEND=portable node __test__/runtimes/behaviour.mjs >/job/portable 2>&1' &
  boot=$!
  progress "$release" "$started" "$boot"
  wait "$boot" || rc=$?
  job=$(ls -td "$KERNELS/jobs/$release".* | head -1)
  cp "$job/tap" "$tap" 2>/dev/null || : >"$tap"
  seconds=$(($(date +%s) - started))
  passed=$(grep -c '^ok ' "$tap" || true)
  skipped=$(grep -c '^ok .*# SKIP' "$tap" || true)
  failing=$(grep -c '^not ok ' "$tap" || true)
  portable=$KERNELS/results/$release.portable
  cp "$job/portable" "$portable" 2>/dev/null || : >"$portable"
  echo "kernel $release: $((passed - skipped)) passed, $skipped skipped, $failing failed, exit $rc, ${seconds} s"
  echo "kernel $release, portable front-end: $(tail -1 "$portable")"
  if [ "$rc" != 0 ] || [ "$failing" != 0 ] || [ "$passed" = 0 ] || ! grep -q '^all [0-9]* checks passed' "$portable"; then
    grep -A12 '^not ok ' "$tap" | sed "s/^/  [$release] /" || true
    grep -A3 '^FAIL' "$portable" | sed "s/^/  [$release, portable] /" || true
    failed+=("$release")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "kernel matrix: failed on ${failed[*]}" >&2
  exit 1
fi
echo "kernel matrix: all green on $*"
