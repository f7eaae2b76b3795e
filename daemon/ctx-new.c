/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one place where hostdevd makes its library context: on the real
 * kernel.  hostdevd-fake, the daemon's test build, links
 * tests/fake-daemon-ctx.c in this file's place, whose context on a
 * --sysroot tree has the fake kernel (tests/fake-kernel.c), as
 * hostdevctl-fake does for the CLI.
 */
#include "hostdevd.h"

int daemon_ctx_new(const char *sysroot, hd_ctx **ret) {
        return hd_ctx_new(sysroot, ret);
}
