/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "nodedev/device.h"

/* mdev.c */
int hd_mdev_uuid_norm(const char *in, char buf[37]);
bool hd_mdev_name_ok(const char *s);
void hd_mdev_clear(hd_mdev *m);
int hd_mdev_copy_into(const hd_mdev *src, hd_mdev *dst);
/* format.c: hd_mdev_parse_json() without a context: the reason of
 * -EBADMSG in *err (replaced; caller frees). */
int hd_mdev_json_parse(const char *json, hd_mdev *m, char **err);
/* One definition file; -ENOENT when absent, -EBADMSG when malformed. */
int hd_mdev_def_read(hd_ctx *ctx, const char *parent, const char *uuid, hd_mdev **ret);
/* The definitions in the directory of @parent (as the definitions'
 * directory names it), sorted by UUID, as the listing of every definition
 * reads them: malformed ones skipped, a directory that is not there (or
 * scripts.d, or a hidden name) holds none. */
int hd_mdev_defs_load_parent(hd_ctx *ctx, const char *parent, hd_mdev **ret, size_t *ret_n);
/* The attributes of mediated-device type @id under @dir (a parent's
 * mdev_supported_types): the one reader of types. Unreadable attributes
 * stay NULL, an unreadable available_instances is -1. */
void hd_mdev_type_read(hd_ctx *ctx, const char *dir, const char *id, bool description, hd_mdev_type *t);
void hd_mdev_type_clear(hd_mdev_type *t);

/* format.c: mdev/'s node-device extension (extensions.c) */
extern const struct hd_nodedev_ext hd_mdev_nodedev_ext;
