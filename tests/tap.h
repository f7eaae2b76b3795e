/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TAP output for the C tests: CHECK(cond, fmt, ...) and tap_finish(). */
#pragma once

#include <stdbool.h>
#include <stdio.h>

static int n_test, n_fail;

#define CHECK(cond, ...)                                                  \
        do {                                                              \
                bool _ok = (cond);                                        \
                n_test++;                                                 \
                if (!_ok)                                                 \
                        n_fail++;                                         \
                printf("%s %d - ", _ok ? "ok" : "not ok", n_test);        \
                printf(__VA_ARGS__);                                      \
                printf("\n");                                             \
                fflush(stdout);                                           \
        } while (0)

/* "1..N"; the exit status of main. */
static inline int tap_finish(void) {
        printf("1..%d\n", n_test);
        return n_fail ? 1 : 0;
}
