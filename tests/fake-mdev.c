/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fake-kernel semantics for mdev sysfs files (see fake-kernel.h). */
#include <errno.h>

#include "fake-kernel.h"

int fake_mdev_write(struct fake_kernel *k, const char *root, const char *path, const char *value) {
        (void) k;
        (void) root;
        (void) path;
        (void) value;
        return -ENOTTY; /* nothing of this area is modelled yet */
}
