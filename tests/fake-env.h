/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A library context on a fake tree with the fake kernel attached, for the
 * C tests of write paths (test-vfio.c, test-sriov.c). */
#pragma once

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fake-kernel.h"
#include "nodedev/device.h"

struct env {
        hd_ctx *ctx;
        hd_nodedev_list *list;
        struct fake_kernel *k;
};

/* Open ROOT with the journal in STATE; TEST_DEBUG=1 shows the library's log. */
static inline void fake_env_open(struct env *e, const char *root, const char *state, int log_level) {
        if (hd_ctx_new(root, &e->ctx) < 0)
                abort();
        hd_ctx_set_log_level(e->ctx, getenv("TEST_DEBUG") ? HD_LOG_DEBUG : log_level);
        hd_ctx_set_state_dir(e->ctx, state);
        hd_ctx_set_bind_timeout(e->ctx, 300);
        if (fake_kernel_attach(e->ctx, root, &e->k) < 0 || hd_nodedev_list_new(e->ctx, &e->list) < 0)
                abort();
}

static inline void env_close(struct env *e) {
        hd_nodedev_list_unref(e->list);
        hd_ctx_unref(e->ctx);
        fake_kernel_free(e->k);
}

static inline hd_device *dev(struct env *e, const char *q) {
        hd_device *d = NULL;
        if (hd_nodedev_list_lookup(e->list, q, &d) < 0)
                abort();
        return d;
}

/* The driver a PCI device of the tree at ROOT is bound to ("" if none). */
static inline void fake_driver_of(const char *root, const char *addr, char *buf, size_t size) {
        char link[PATH_MAX], t[PATH_MAX];
        ssize_t n;
        snprintf(link, sizeof(link), "%s/sys/bus/pci/devices/%s/driver", root, addr);
        n = readlink(link, t, sizeof(t) - 1);
        buf[0] = 0;
        if (n > 0) {
                t[n] = 0;
                snprintf(buf, size, "%s", hd_path_basename(t));
        }
}
