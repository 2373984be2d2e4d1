# The Node versions the matrices run: the newest release of each supported
# line on the npm registry when they were last updated. Sourced by
# .ci/node/matrix.sh (x64) and __test__/emulated/run.sh (arm64); the host's
# own Node (20 here) runs `npm test` itself.
NODE_X64_VERSIONS=(22.23.5 24.22.3 26.12.1)
NODE_ARM64_VERSIONS=(22.23.5 24.22.1)
