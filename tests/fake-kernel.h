/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
#include "hostdev/hostdev.h"

struct fake_kernel;
/* Attach a fake kernel for the tree at @root to @ctx (whose sysroot it is). */
int fake_kernel_attach(hd_ctx *ctx, const char *root, struct fake_kernel **ret);
void fake_kernel_free(struct fake_kernel *k);
unsigned fake_kernel_resets(struct fake_kernel *k);
unsigned fake_kernel_modprobes(struct fake_kernel *k);
/* drivers_probe of @addr binds nothing (a device no driver accepts) */
void fake_kernel_fail_probe(struct fake_kernel *k, const char *addr);
/* HOSTDEV_FAKE_KILL_AT=N kills the process before its Nth kernel write or
 * module load (HOSTDEV_FAKE_COUNT_STEPS=1 prints each step on stderr);
 * this restarts the count (a forked child). */
void fake_kernel_count_from_zero(void);

/* Extensions of the fake kernel for other sysfs areas, tried before the
 * PCI driver-binding rules: each returns -ENOTTY when @path is not its
 * business.  @root is the absolute sysroot. */
int fake_sriov_write(struct fake_kernel *k, const char *root, const char *path, const char *value);
int fake_mdev_write(struct fake_kernel *k, const char *root, const char *path, const char *value);
