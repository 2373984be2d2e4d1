#!/usr/bin/env bash
# boot.sh KERNEL_DIR 'SHELL COMMAND': boots the kernel that fetch.sh
# unpacked in KERNEL_DIR under qemu-system-x86_64, runs the command in it
# (as root, in the repository, shared read-write as /pkg) and exits with
# its status: 124 if the guest timed out, 125 if no status came back.
#
# The guest is an initramfs of static busybox, this machine's `node` with
# the libraries it links, and the kernel's own virtio/9p modules. It has no
# network and no compiler: build everything (npm run build, the test
# fixtures) on the host first.
#
# Emulated (TCG): /dev/kvm on these machines boots only PVM kernels, and
# stock Debian kernels hang at boot under it. mitigations=off: page-table
# isolation and the like flush the emulated TLB on every system call, which
# costs far more under TCG than on hardware, and protects nothing here.
#
# Env: KERNELS (cache; initramfs images are kept there), BOOT_TIMEOUT (s,
# default 900), BOOT_LOG (where the console goes; default: a file in the
# job folder), BOOT_TRIES (default 3: a guest that never reached /init,
# seen about once in 50 boots under multi-threaded TCG, is booted again).
set -euo pipefail
KERNELS=${KERNELS:?set KERNELS to the cache directory}
kroot=$(cd "${1:?usage: boot.sh KERNEL_DIR COMMAND}" && pwd)
command=${2:?usage: boot.sh KERNEL_DIR COMMAND}
repo=$(cd "$(dirname "$0")/../.." && pwd)
release=$(basename "$kroot")
vmlinuz=$kroot/boot/vmlinuz-$release
moddir=$kroot/lib/modules/$release
[ -d "$moddir" ] || moddir=$kroot/usr/lib/modules/$release
# From 7.x Debian ships the kernel in the modules' directory.
[ -f "$vmlinuz" ] || vmlinuz=$moddir/vmlinuz

# --- the base image: busybox, node and its libraries, /init ---------------
mkdir -p "$KERNELS/initrd"
base=$KERNELS/initrd/base.cpio
node=$(command -v node)
if [ ! -s "$base" ] || [ "$node" -nt "$base" ] || [ "$0" -nt "$base" ]; then
  root=$(mktemp -d "$KERNELS/initrd/root.XXXX")
  # mktemp made it 0700, and it becomes the guest's `/`: other users (the
  # uid/gid spawn test runs node as nobody) must be able to search it.
  chmod 755 "$root"
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib64,lib/x86_64-linux-gnu,proc,sys,dev,tmp,run,etc,job,pkg,mods}
  cp /bin/busybox "$root/bin/busybox"
  cp "$node" "$root/usr/bin/node"
  for lib in $(ldd "$node" | awk '$3 ~ /^\// {print $3}'); do cp -L "$lib" "$root/lib/x86_64-linux-gnu/"; done
  cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
  echo 'root:x:0:0:root:/tmp:/bin/sh' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s
export PATH=/usr/bin:/bin:/sbin:/usr/sbin HOME=/tmp
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs dev /dev
# The cgroup v2 hierarchy, as systemd mounts it: spawn()'s containment is
# tested on every kernel (before 5.14 through freezing, not cgroup.kill).
mount -t cgroup2 cgroup2 /sys/fs/cgroup || echo 'guest: no cgroup2'
mkdir -p /dev/pts /dev/shm; mount -t devpts devpts /dev/pts; mount -t tmpfs shm /dev/shm
mount -t tmpfs tmp /tmp; ip link set lo up; hostname guest
# The kernel starts init with 1024/4096 open files; systemd machines give
# services a hard limit of 524288, and the suite opens 10,000 at a time.
ulimit -n 524288
for m in $(cat /mods/order); do insmod /mods/$m || echo "guest: insmod $m failed"; done
o=trans=virtio,version=9p2000.L,msize=262144
if mount -t 9p -o $o job /job && mount -t 9p -o $o pkg /pkg; then
  echo "guest: Linux $(uname -r) up after $(cut -d' ' -f1 /proc/uptime) s"
  cd /pkg; sh /job/cmd </dev/null; rc=$?
  echo "guest: done after $(cut -d' ' -f1 /proc/uptime) s"
  cd /; echo $rc >/job/exit; sync; umount /job /pkg
else
  rc=125; echo "guest: 9p mount failed"; dmesg | tail -20
fi
echo "GUEST_EXIT=$rc"
poweroff -f
INIT
  chmod +x "$root/init"
  (cd "$root" && find . | cpio -o -H newc --quiet) >"$base.tmp"
  mv "$base.tmp" "$base"
  rm -rf "$root"
fi

# --- this kernel's image: the base plus its virtio and 9p modules ---------
initrd=$KERNELS/initrd/$release.cpio
if [ ! -s "$initrd" ] || [ "$base" -nt "$initrd" ]; then
  root=$(mktemp -d "$KERNELS/initrd/mods.XXXX")
  mkdir -p "$root/mods"
  declare -A path=() added=()
  while read -r f; do
    n=$(basename "$f"); n=${n%%.ko*}; path[${n//-/_}]=$f
  done < <(find "$moddir" -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst')
  order=()
  add() { # dependencies first; a module not found is built in
    local n=${1//-/_} f dep
    [ -z "${added[$n]:-}" ] || return 0
    added[$n]=1
    f=${path[$n]:-}
    [ -n "$f" ] || return 0
    case $f in *.xz) xz -dc "$f" ;; *.zst) zstd -qdc "$f" ;; *) cat "$f" ;; esac >"$root/mods/$n.ko"
    for dep in $(tr '\0' '\n' <"$root/mods/$n.ko" | grep -a -m1 '^depends=' | cut -d= -f2 | tr ',' ' '); do add "$dep"; done
    order+=("$n.ko")
  }
  for n in virtio_pci 9pnet_virtio 9p; do add $n; done
  printf '%s\n' "${order[@]}" >"$root/mods/order"
  { cat "$base"; (cd "$root" && find mods | cpio -o -H newc --quiet); } >"$initrd.tmp"
  mv "$initrd.tmp" "$initrd"
  rm -rf "$root"
fi

# --- the job folder, shared as /job ----------------------------------------
mkdir -p "$KERNELS/jobs"
job=$(mktemp -d "$KERNELS/jobs/$release.XXXX")
printf 'export CI=true TERM=dumb\n%s\n' "$command" >"$job/cmd"
log=${BOOT_LOG:-$job/console.log}

for try in $(seq 1 "${BOOT_TRIES:-3}"); do
  set +e
  timeout -k 5 "${BOOT_TIMEOUT:-900}" qemu-system-x86_64 -accel tcg,thread=multi -cpu max \
    -m 2G -smp 2 -nographic -no-reboot -nic none \
    -kernel "$vmlinuz" -initrd "$initrd" -append 'console=ttyS0 panic=-1 quiet loglevel=3 mitigations=off' \
    -virtfs "local,path=$job,mount_tag=job,security_model=none,id=job" \
    -virtfs "local,path=$repo,mount_tag=pkg,security_model=none,id=pkg" \
    </dev/null 2>&1 | sed -u 's/\r//g; s/\x1b[^a-zA-Z]*[a-zA-Z]//g' >"$log"
  qemu_rc=${PIPESTATUS[0]}
  set -e
  grep -q '^guest: ' "$log" && break
  [ "$qemu_rc" != 124 ] || break
  echo "boot.sh: $release never reached /init (try $try), booting again" >&2
done
if [ -s "$job/exit" ]; then
  rc=$(cat "$job/exit")
elif [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
  rc=124
else
  rc=125
fi
[ "$rc" = 0 ] || echo "boot.sh: $release exited $rc; console: $log" >&2
exit "$rc"
