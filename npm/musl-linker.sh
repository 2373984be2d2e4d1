#!/usr/bin/env bash
# musl-linker.sh ARCH GCC: makes the linker for ARCH's musl package (x86_64
# or aarch64) in target/musl/ARCH/link and prints its path. It is GCC (a
# glibc cross gcc, used as a driver only) told by musl-dev's own specs file
# to take musl's crt files and C library from .ci/musl/fetch.sh's sdk
# (musl 1.2.3: what links against it loads on every newer musl).
#
# Two names are decided here, because what the .node asks for at load time
# is what Alpine must have:
# - the C library is linked under Alpine's name for it,
#   libc.musl-ARCH.so.1 (musl's libc.so has no soname, so the name the
#   linker finds it under is the one recorded);
# - rustc asks for libgcc_s (the unwinder), which an Alpine system without
#   the libgcc package lacks: the unwinder is linked in from the driver's
#   libgcc_eh.a instead. That gcc (4.8.5, from the glibc 2.17 toolchain)
#   builds it against nothing glibc-only: it needs dl_iterate_phdr, malloc
#   and abort, which musl has; npm/build.sh checks the result.
set -euo pipefail
arch=${1:?usage: musl-linker.sh x86_64|aarch64 GCC}
gcc=${2:?usage: musl-linker.sh x86_64|aarch64 GCC}
repo=$(cd "$(dirname "$0")/.." && pwd)
sdk=$repo/target/musl/$arch/sdk
musl=$sdk/usr/lib/$arch-linux-musl
libc=$sdk/lib/$arch-linux-musl/libc.so
link=$repo/target/musl/$arch/link
[ -f "$musl/musl-gcc.specs" ] && [ -f "$libc" ] || { echo "musl-linker.sh: run .ci/musl/fetch.sh $arch first" >&2; exit 1; }

# Files are replaced, never written through: an old symlink must not carry
# a write into what it points at.
rm -rf "$link"
mkdir -p "$link"
# musl-dev's specs name /usr/lib/ARCH-linux-musl; ours is under $sdk, and
# the link directory is searched first.
sed -e "s|/usr/lib/$arch-linux-musl|$musl|g" \
  -e "s|/usr/include/$arch-linux-musl|$sdk/usr/include/$arch-linux-musl|g" \
  -e "s|^-L$musl |-L$link -L$musl |" \
  "$musl/musl-gcc.specs" >"$link/musl-gcc.specs"
grep -q -- "-L$link " "$link/musl-gcc.specs" || { echo "musl-linker.sh: musl-gcc.specs has no link_libgcc line to extend" >&2; exit 1; }
ln -s "$libc" "$link/libc.musl-$arch.so.1"
printf '/* -lc: the C library, recorded under the name Alpine gives it. */\nINPUT(-l:libc.musl-%s.so.1)\n' "$arch" >"$link/libc.so"
printf '/* -lgcc_s: the unwinder, linked in rather than loaded. */\nINPUT(%s)\n' "$("$gcc" -print-file-name=libgcc_eh.a)" >"$link/libgcc_s.so"
printf '#!/bin/sh\nexec %q -specs=%q "$@"\n' "$gcc" "$link/musl-gcc.specs" >"$link/cc"
chmod +x "$link/cc"
echo "$link/cc"
