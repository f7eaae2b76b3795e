/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdevctl-fake: the CLI built from the tools/ sources with this file in
 * place of tools/ctx-new.c, so that every context it opens on a --sysroot
 * tree gets the fake kernel (tests/fake-kernel.c): writes to
 * create/remove/bind... have their kernel meaning.  Tests only.
 */
#include <stdlib.h>

#include "fake-kernel.h"
#include "tools/hostdevctl.h"

/* The CLI opens one context per run; its fake kernel is freed at exit. */
static struct fake_kernel *kernels[8];
static size_t n_kernels;

static void free_kernels(void) {
        for (size_t i = 0; i < n_kernels; i++)
                fake_kernel_free(kernels[i]);
        n_kernels = 0;
}

int cli_ctx_new(const char *sysroot, hd_ctx **ret) {
        struct fake_kernel *k = NULL;
        hd_ctx *ctx = NULL;
        int r;

        r = hd_ctx_new(sysroot, &ctx);
        if (r < 0)
                return r;
        if (hd_ctx_get_sysroot(ctx)) {
                r = fake_kernel_attach(ctx, hd_ctx_get_sysroot(ctx), &k);
                if (r < 0) {
                        hd_ctx_unref(ctx);
                        return r;
                }
                if (getenv("HOSTDEV_FAKE_BIND_TIMEOUT_MS"))
                        hd_ctx_set_bind_timeout(ctx, (unsigned) atoi(getenv("HOSTDEV_FAKE_BIND_TIMEOUT_MS")));
                /* k lives as long as the process, like the CLI's context */
                if (n_kernels == 0)
                        atexit(free_kernels);
                if (n_kernels < sizeof(kernels) / sizeof(kernels[0]))
                        kernels[n_kernels++] = k;
        }
        *ret = ctx;
        return 0;
}
