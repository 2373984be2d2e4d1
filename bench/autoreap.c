// Does CLONE_AUTOREAP (Linux 7.1) make the exit path cheaper? Measured
// side by side on one kernel, interleaved in rounds:
//   reap:      clone3(CLONE_PIDFD), exit signal SIGCHLD; poll the pidfd,
//              then waitid(P_PIDFD, WEXITED) with rusage: status, resource
//              usage and the reap in one call (what spawn() does);
//   quiet:     as reap, but with no exit signal (exit_signal 0), reaped
//              with __WALL: which part of any saving is the signal's;
//   autoreap:  clone3(CLONE_PIDFD | CLONE_AUTOREAP), no exit signal; poll
//              the pidfd, then PIDFD_GET_INFO(PIDFD_INFO_EXIT): the status
//              the kernel kept (there is no zombie to reap).
// The child exits at once (a fork without exec: what differs is the exit
// path, not the start). A SIGCHLD handler like libuv's is installed, so the
// signal the first way costs is paid as in Node. Per exit it reports the
// median wall time from clone3 to the status known, from the pidfd's
// readiness to the status known, and this process's CPU time per exit;
// and whether autoreap's waitid still gives the resource usage.
// Build: cc -O2 -static -o target/autoreap bench/autoreap.c (run it where
// the kernel has CLONE_AUTOREAP, for example in the 7.3 guest of
// .ci/kernels). Not part of npm run bench: the host kernel (6.18) lacks it.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_AUTOREAP
#define CLONE_AUTOREAP 0x400000000ULL
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

struct pidfd_info {
    uint64_t mask, cgroupid;
    uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
    int32_t exit_code;
};
#define PIDFD_INFO_EXIT (1ULL << 3)
#define PIDFD_GET_INFO _IOWR(0xFF, 11, struct pidfd_info)

static volatile sig_atomic_t sigchld_count;
static void on_sigchld(int sig) { (void)sig; sigchld_count++; }

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static double cpu_us(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, n, sizeof *v, cmp);
    return v[n / 2];
}

enum way { REAP, QUIET, AUTOREAP, WAYS };
static const char *const names[WAYS] = {"reap", "quiet", "autoreap"};

/** One exit the given way; fills the two intervals. Returns the exit code or -errno. */
static int one(enum way way, double *total, double *after_ready) {
    struct clone_args args;
    int pidfd = -1;
    int autoreap = way == AUTOREAP;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_PIDFD | (autoreap ? CLONE_AUTOREAP : 0);
    args.pidfd = (uint64_t)(uintptr_t)&pidfd;
    args.exit_signal = way == REAP ? SIGCHLD : 0;
    double t0 = now_us();
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) _exit(3);
    if (pid < 0) return -errno;
    // The kernel keeps an autoreaped child's status once it has reaped it,
    // which the pidfd shows as POLLHUP (POLLIN comes at the exit, a moment
    // before): that is what autoreap must wait for; reaping, the exit.
    struct pollfd p = {.fd = pidfd, .events = autoreap ? 0 : POLLIN};
    do {
        while (poll(&p, 1, -1) < 0 && errno == EINTR) {}
    } while (autoreap && !(p.revents & POLLHUP));
    double t1 = now_us();
    int code;
    if (autoreap) {
        struct pidfd_info info = {.mask = PIDFD_INFO_EXIT};
        while (ioctl(pidfd, PIDFD_GET_INFO, &info) < 0 && errno == EINTR) {}
        code = (info.mask & PIDFD_INFO_EXIT) ? WEXITSTATUS(info.exit_code) : -ENODATA;
    } else {
        siginfo_t si;
        struct rusage ru;
        memset(&si, 0, sizeof si);
        int flags = WEXITED | (way == QUIET ? __WALL : 0);
        while (syscall(SYS_waitid, P_PIDFD, pidfd, &si, flags, &ru) < 0 && errno == EINTR) {}
        code = si.si_status;
    }
    double t2 = now_us();
    close(pidfd);
    *total = t2 - t0;
    *after_ready = t2 - t1;
    return code;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 10, per_round = argc > 2 ? atoi(argv[2]) : 200;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigchld;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);

    // Whether the kernel takes the flag, and what waitid says afterwards.
    double a, b;
    int probe = one(AUTOREAP, &a, &b);
    // Without the flag, the other two are still compared.
    int ways = probe < 0 ? AUTOREAP : WAYS;
    int n = rounds * per_round;
    double *total[WAYS], *after[WAYS], cpu[WAYS] = {0};
    for (int w = 0; w < WAYS; w++) {
        total[w] = calloc(n, sizeof(double));
        after[w] = calloc(n, sizeof(double));
    }
    long signals[WAYS] = {0};
    for (int r = 0; r < rounds; r++) {
        for (int w = 0; w < ways; w++) {
            // Rotate which goes first, so that none always runs warm.
            enum way way = (enum way)((w + r) % ways);
            sig_atomic_t before_signals = sigchld_count;
            double c0 = cpu_us();
            for (int i = 0; i < per_round; i++) {
                int at = r * per_round + i;
                if (one(way, &total[way][at], &after[way][at]) != 3) {
                    fprintf(stderr, "way %d: wrong status\n", way);
                    return 1;
                }
            }
            cpu[way] += cpu_us() - c0;
            signals[way] += sigchld_count - before_signals;
        }
    }
    // Resource usage after an autoreap exit: the kernel reaped it, so
    // waitid has nothing (ECHILD) and the child's rusage is gone.
    const char *rusage_after = probe < 0 ? strerrorname_np(-probe) : "available";
    if (probe >= 0) {
        struct clone_args args;
        int pidfd = -1;
        memset(&args, 0, sizeof args);
        args.flags = CLONE_PIDFD | CLONE_AUTOREAP;
        args.pidfd = (uint64_t)(uintptr_t)&pidfd;
        long pid = syscall(SYS_clone3, &args, sizeof args);
        if (pid == 0) _exit(3);
        struct pollfd p = {.fd = pidfd, .events = 0};
        poll(&p, 1, -1);
        siginfo_t si;
        struct rusage ru;
        if (syscall(SYS_waitid, P_PIDFD, pidfd, &si, WEXITED | WNOHANG | __WALL, &ru) < 0) rusage_after = strerrorname_np(errno);
    }
    printf("{\"exitsEach\": %d, ", n);
    for (int w = 0; w < ways; w++) {
        printf("\"%s\": {\"totalUs\": %.1f, \"afterReadyUs\": %.2f, \"cpuUsPerExit\": %.1f, \"sigchld\": %ld}, ",
               names[w], median(total[w], n), median(after[w], n), cpu[w] / n, signals[w]);
    }
    printf(probe < 0 ? "\"autoreap\": \"%s\"}\n" : "\"autoreapWaitidAfterExit\": \"%s\"}\n", rusage_after);
    return 0;
}
