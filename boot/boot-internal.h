/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "nodedev/device.h"
#include "hostdev/boot.h"

/* ---- files of a root (boot/files.c) ------------------------------------
 * Paths are absolute inside the root ("/etc/default/grub") and are resolved
 * with openat2(RESOLVE_IN_ROOT) beneath @rfd, so symlinks of an offline
 * root never leave it.  These are configuration files, never kernel files. */

/* Open @root ("/" for NULL); "" is refused so that an empty variable never
 * means this host. */
int hd_root_open(const char *root, int *ret_fd);
/* The same for a public function: "" and "/" are refused (-EINVAL), and a
 * failure is the context's error (hd_error()). */
int hd_boot_root_open(hd_ctx *ctx, const char *root, int *ret_fd);
/* -ENOENT when absent. */
int hd_root_read(int rfd, const char *path, char **ret, unsigned *ret_mode);
bool hd_root_exists(int rfd, const char *path);
int hd_root_list_dir(int rfd, const char *path, char ***ret, size_t *ret_n);
/* mkdir -p of the parent, write PATH.hostdev-tmp, fchmod, fsync, rename.
 * Directories it had to create are pushed to @created (may be NULL). */
int hd_root_write_atomic(int rfd, const char *path, const char *data, unsigned mode, char ***created,
                         size_t *n_created);
int hd_root_unlink(int rfd, const char *path);
int hd_root_rmdir(int rfd, const char *path);

/* Unified diff of two texts (NULL = absent file), appended to @b. */
void hd_diff_unified(struct hd_buf *b, const char *path, const char *before, const char *after);

/* the generated files */
#define HD_BOOT_MODPROBE "/etc/modprobe.d/hostdev-vfio.conf"
#define HD_BOOT_SCRIPT "/etc/hostdev/hostdev-override.sh"
#define HD_BOOT_UDEV_RULE "/etc/udev/rules.d/40-hostdev-override.rules"
#define HD_DRIVERCTL_DIR "/etc/driverctl.d"
#define HD_OVERRIDE_ID_DIR "/etc/hostdev/overrides"

/* boot/override.c: texts of the shared override files */
extern const char hd_override_script[];
extern const char hd_override_udev_rule[];
/* The identity file of an override. */
int hd_override_identity_text(hd_device *d, char **ret);

/* boot/plan.c */
void hd_boot_file_done(hd_boot_file *f);
/* STATE/boot for @root */
int hd_boot_state_dir(hd_ctx *ctx, const char *root, char **ret);
/* The state lock the other writes take (vfio/: STATE/lock), for the
 * override and boot writes: @root's ROOT/var/lib/hostdev/lock, else the
 * context's state directory's; waits as long as the context's lock
 * timeout, then -ETIMEDOUT with the context's error.  *ret_fd: close it
 * to unlock. */
int hd_boot_lock(hd_ctx *ctx, const char *root, int *ret_fd);
