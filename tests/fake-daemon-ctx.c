/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdevd-fake: the daemon built from the daemon/ sources with this file
 * in place of daemon/ctx-new.c, so that its context on a --sysroot tree
 * gets the fake kernel (tests/fake-kernel.c), as hostdevctl-fake's does
 * (tests/fake-ctx.c): writes to bind/unbind/driver_override... have their
 * kernel meaning.  Tests only.
 */
#include <stdlib.h>

#include "daemon/hostdevd.h"
#include "fake-kernel.h"

static struct fake_kernel *kernel;

static void free_kernel(void) {
        fake_kernel_free(kernel);
        kernel = NULL;
}

int daemon_ctx_new(const char *sysroot, hd_ctx **ret) {
        hd_ctx *ctx = NULL;
        int r;

        r = hd_ctx_new(sysroot, &ctx);
        if (r < 0)
                return r;
        if (hd_ctx_get_sysroot(ctx) && !kernel) {
                r = fake_kernel_attach(ctx, hd_ctx_get_sysroot(ctx), &kernel);
                if (r < 0) {
                        hd_ctx_unref(ctx);
                        return r;
                }
                if (getenv("HOSTDEV_FAKE_BIND_TIMEOUT_MS"))
                        hd_ctx_set_bind_timeout(ctx, (unsigned) atoi(getenv("HOSTDEV_FAKE_BIND_TIMEOUT_MS")));
                atexit(free_kernel);
        }
        *ret = ctx;
        return 0;
}
