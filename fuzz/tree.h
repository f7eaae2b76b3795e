/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The tree harnesses: a private copy of the fake host that fuzz/seeds.py
 * built (FUZZ_DATA_DIR/tree, or $HOSTDEV_FUZZ_DATA/tree), in a temporary
 * directory removed at exit ($HOSTDEV_FUZZ_TMPDIR, else /dev/shm, else
 * $TMPDIR or /tmp), and a context on it. */
#pragma once

#include <spawn.h>
#include <stdarg.h>
#include <sys/wait.h>

#include "fuzz.h"

extern char **environ;

static char fuzz_tmpdir[4096];

static void fuzz_spawn(const char *const argv[]) {
        pid_t pid;
        int st = 0;
        pid_t w = -1;
        /* POSIX's char *const argv[] predates const; the strings are not written */
        if (posix_spawnp(&pid, argv[0], NULL, NULL, (char *const *) argv, environ) == 0)
                /* libFuzzer's -timeout alarm interrupts waitpid() */
                while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
                        ;
        if (w < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                fprintf(stderr, "fuzz: %s failed\n", argv[0]);
                abort();
        }
}

static void fuzz_tree_cleanup(void) {
        if (fuzz_tmpdir[0]) {
                const char *const argv[] = { "rm", "-rf", "--", fuzz_tmpdir, NULL };
                fuzz_spawn(argv);
                fuzz_tmpdir[0] = 0;
        }
}

/* Log everything, formatted and dropped: the messages carry parsed values. */
static void fuzz_log(void *userdata, int level, const char *file, int line, const char *fn, const char *fmt,
                     va_list ap) {
        char buf[1024];
        vsnprintf(buf, sizeof(buf), fmt, ap);
}

/* Returns the sysroot path (static storage) and a context on it. */
static const char *fuzz_tree_setup(hd_ctx **ret) {
        const char *data = getenv("HOSTDEV_FUZZ_DATA") ?: FUZZ_DATA_DIR;
        /* tmpfs: every execution rewrites files, which costs milliseconds
         * on a disk file system */
        const char *tmp = getenv("HOSTDEV_FUZZ_TMPDIR") ?: access("/dev/shm", W_OK) == 0 ? "/dev/shm"
                                                                                      : getenv("TMPDIR") ?: "/tmp";
        static char root[4096 + 8];
        char src[4096];

        snprintf(fuzz_tmpdir, sizeof(fuzz_tmpdir), "%s/hostdev-fuzz.XXXXXX", tmp);
        if (!mkdtemp(fuzz_tmpdir))
                abort();
        atexit(fuzz_tree_cleanup);
        snprintf(src, sizeof(src), "%s/tree", data);
        snprintf(root, sizeof(root), "%s/tree", fuzz_tmpdir);
        {
                const char *const argv[] = { "cp", "-a", "--", src, root, NULL };
                fuzz_spawn(argv);
        }
        if (hd_ctx_new(root, ret) < 0)
                abort();
        hd_ctx_set_log_fn(*ret, fuzz_log, NULL);
        hd_ctx_set_log_level(*ret, HD_LOG_DEBUG);
        return root;
}
