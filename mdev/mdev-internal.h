/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "nodedev/nodedev-internal.h"

/* mdev.c */
int hd_mdev_uuid_norm(const char *in, char buf[37]);
bool hd_mdev_name_ok(const char *s);
void hd_mdev_clear(hd_mdev *m);
int hd_mdev_copy_into(const hd_mdev *src, hd_mdev *dst);
/* One definition file; -ENOENT when absent, -EBADMSG when malformed. */
int hd_mdev_def_read(hd_ctx *ctx, const char *parent, const char *uuid, hd_mdev **ret);
