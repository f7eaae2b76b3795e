/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * no-openat2 CMD [ARG...]: run CMD with openat2(2) failing with ENOSYS,
 * as on a kernel older than 5.6, through a seccomp filter (inherited by
 * CMD).  libhostdev then resolves sysroot paths by hand (util/sysfs.c);
 * tests/test-harden.sh checks both ways give the same answers.  Tests only.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#endif

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

int main(int argc, char **argv) {
        struct sock_filter filter[] = {
#ifdef NATIVE_ARCH
                /* another ABI's syscall numbers mean other calls: let them be */
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
#endif
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { .len = sizeof(filter) / sizeof(filter[0]), .filter = filter };

        if (argc < 2) {
                fprintf(stderr, "usage: no-openat2 CMD [ARG...]\n");
                return 2;
        }
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) {
                fprintf(stderr, "no-openat2: cannot install the seccomp filter: %s\n", strerror(errno));
                return 2;
        }
        execvp(argv[1], argv + 1);
        fprintf(stderr, "no-openat2: %s: %s\n", argv[1], strerror(errno));
        return 127;
}
