/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>

#include "hostdev/hostdev.h"
#include "macro.h"

void hd_strv_free(char **v);
static inline void strv_freep(char ***v) { hd_strv_free(*v); }
#define _cleanup_strv_free_ _cleanup_(strv_freep)

struct hd_ctx {
        int n_ref;
        int root_fd;            /* "/" or the sysroot directory */
        char *sysroot;          /* NULL for the live host */
        hd_log_fn log_fn;
        void *log_data;
        int log_level;
        struct pci_access *pacc; /* lazily created, for pci.ids names */
        struct hd_pciids *pciids; /* the first lookups: util/pciids.c */
        char *state_dir;
        unsigned bind_timeout_ms;
        uint64_t lock_timeout_usec; /* hd_ctx_set_lock_timeout; UINT64_MAX: forever */
        const struct hd_kernel_ops *kops; /* tests: a fake kernel */
        void *kops_data;
        hd_in_use_fn in_use_fn;  /* domain/: is a device used by a VM? */
        void *in_use_data;
        void (*in_use_free)(void *); /* the context owns in_use_data when set */
        char *error;             /* hd_ctx_get_error() */
};

/* The context's error (hd_ctx_get_error): a public function that reports
 * its failures this way calls hd_error_clear() first, and fails with
 * `return hd_error(ctx, -EINVAL, "...", ...)`: the text is logged (info
 * level) and kept; @r (a -errno) is returned.  @ctx may be NULL. */
void hd_error_clear(hd_ctx *ctx);
int hd_error(hd_ctx *ctx, int r, const char *fmt, ...) _printf_(3, 4);
int hd_verror(hd_ctx *ctx, int r, const char *fmt, va_list ap) _printf_(3, 0);

/* Ask the context's in-use function (hd_ctx_set_in_use_fn) about a device
 * (@kind "pci" with an address, "mdev" with a UUID) before taking it from a
 * guest: 0 when free or nobody can be asked (no function set); -EBUSY with
 * the reason in *@ret_reason (caller frees) when a running domain uses it
 * (even with @force), or when it cannot be told and @force is not set;
 * -ENOMEM.  Like the in-use function, it hands its answer back rather
 * than setting the context's error: the callers put it in their result. */
int hd_ctx_check_in_use(hd_ctx *ctx, const char *kind, const char *id, bool force, char **ret_reason);
/* hd_ctx_set_in_use_fn() that hands @userdata to the context: @free_fn
 * frees it when another function is set and with the context. */
void hd_ctx_set_in_use_fn_owned(hd_ctx *ctx, hd_in_use_fn fn, void *userdata, void (*free_fn)(void *));
/* The userdata of the context's in-use function when that is @fn, else NULL. */
void *hd_ctx_get_in_use_data(hd_ctx *ctx, hd_in_use_fn fn);
/* ---- helpers the modules share (util/host.c) ------------------------- */
/* snprintf "%s" of @src ("" for NULL), truncated to @size */
void hd_copy_str(char *dst, size_t size, const char *src);
/* The one PCI device path builder: "sys/bus/pci/devices/ADDR[/ATTR]";
 * -ENAMETOOLONG when it does not fit. */
int hd_pci_path(char *buf, size_t size, const char *addr, const char *attr);
int hd_pci_pathf(char *buf, size_t size, const char *addr, const char *fmt, ...) _printf_(4, 5);
/* Driver lookup: the name of the driver bound to the device directory
 * @devpath (its "driver" link), or -errno (-ENOENT: none bound). */
int hd_sysfs_read_driver(hd_ctx *ctx, const char *devpath, char **ret);
/* The same for a PCI address into a buffer, "" when none. */
void hd_pci_read_driver(hd_ctx *ctx, const char *addr, char *buf, size_t size);
/* State lock: open (create, 0600, no symlink) and flock(LOCK_EX) @path,
 * waiting for the holder as long as the context's lock timeout allows
 * (-ETIMEDOUT with the context's error set after it); the fd in @ret_fd. */
int hd_state_lock(hd_ctx *ctx, const char *path, int *ret_fd);
/* Every /proc/PID/fd link the context can read: @fn(userdata, pid, target);
 * a non-zero return from @fn ends the scan and is returned. */
typedef int (*hd_proc_fd_fn)(void *userdata, int pid, const char *target);
int hd_proc_foreach_fd(hd_ctx *ctx, hd_proc_fd_fn fn, void *userdata);
/* 1 and the pid when a process has @target (or @target2) open among its
 * /proc/PID/fd links, 0 when none. */
int hd_proc_scan_fds(hd_ctx *ctx, const char *target, const char *target2, int *ret_pid);

/* util/pciids.c: pci.ids names from the mapped file, each lookup reading
 * one vendor's section (libpci parses the whole file into a hash first).
 * hd_pciids_find(): the name of @vendor (@device < 0) or of
 * @vendor:@device in pci.ids text, as libpci reads it; -ENOENT when absent.
 * hd_pciids_lookup(): 1 with the name in @buf, -ENOENT when the file has
 * none, 0 when libpci should be asked (a compressed or missing file). */
struct hd_pciids;
int hd_pciids_find(const char *text, size_t len, unsigned vendor, int device, const char **ret, size_t *ret_len);
int hd_pciids_lookup(struct hd_pciids **ids, const char *path, unsigned vendor, int device, char *buf, size_t size);
void hd_pciids_free(struct hd_pciids *ids);

/* Test hook: a fake kernel that gives sysfs writes and module loading their
 * kernel meaning on a fake tree.  Not exported. */
struct hd_kernel_ops {
        int (*write)(hd_ctx *ctx, const char *path, const char *value, void *userdata);
        int (*modprobe)(hd_ctx *ctx, const char *module, void *userdata);
};
void hd_ctx_set_kernel_ops(hd_ctx *ctx, const struct hd_kernel_ops *ops, void *userdata);
/* Load a kernel module (modprobe on the live host, never with a sysroot
 * unless a fake kernel is set). */
int hd_kmod_load(hd_ctx *ctx, const char *module);

void hd_log(hd_ctx *ctx, int level, const char *file, int line, const char *fn,
            const char *fmt, ...) _printf_(6, 7);

#define hd_log_cond(ctx, level, ...)                                            \
        do {                                                                    \
                hd_ctx *_c = (ctx);                                             \
                if (_c && _c->log_level >= (level))                             \
                        hd_log(_c, level, __FILE__, __LINE__, __func__, __VA_ARGS__); \
        } while (0)
#define log_err(ctx, ...) hd_log_cond(ctx, HD_LOG_ERR, __VA_ARGS__)
#define log_warn(ctx, ...) hd_log_cond(ctx, HD_LOG_WARNING, __VA_ARGS__)
#define log_info(ctx, ...) hd_log_cond(ctx, HD_LOG_INFO, __VA_ARGS__)
#define log_debug(ctx, ...) hd_log_cond(ctx, HD_LOG_DEBUG, __VA_ARGS__)

/* ---- sysfs/devfs root abstraction (util/sysfs.c) ----------------------
 * Every kernel file access goes through these.  Paths are relative to the
 * context root ("sys/bus/pci/devices/0000:00:01.0/vendor"); a leading '/'
 * is accepted and skipped.  Paths containing ".." components are refused
 * (-EINVAL) unless produced by hd_path_resolve_link(). */
int hd_sysfs_open(hd_ctx *ctx, const char *path, int flags, int *ret_fd);
/* openat2(2) with @flags and @resolve, again while it fails with EAGAIN:
 * a scoped lookup (RESOLVE_IN_ROOT, RESOLVE_BENEATH) that crossed ".."
 * while any rename or mount happened anywhere on the system says EAGAIN
 * and leaves the retry to its caller.  -1 with errno set, as openat2(). */
int hd_openat2(int dfd, const char *path, int flags, mode_t mode, uint64_t resolve);
/* Whole file (at most 1 MiB), NUL-terminated; *ret_len excludes the NUL. */
int hd_sysfs_read_full(hd_ctx *ctx, const char *path, char **ret, size_t *ret_len);
/* The same with another limit: -EFBIG for a file of @max bytes or more. */
int hd_sysfs_read_full_max(hd_ctx *ctx, const char *path, size_t max, char **ret, size_t *ret_len);
/* First line without trailing whitespace; -ENODATA if empty. */
int hd_sysfs_read_str(hd_ctx *ctx, const char *path, char **ret);
int hd_sysfs_read_strf(hd_ctx *ctx, char **ret, const char *fmt, ...) _printf_(3, 4);
int hd_sysfs_read_long(hd_ctx *ctx, const char *path, int base, long long *ret);
int hd_sysfs_read_longf(hd_ctx *ctx, int base, long long *ret, const char *fmt, ...) _printf_(4, 5);
/* Raw bytes into buf, returns bytes read (a short read ends it: for sysfs
 * attributes and regular files, not for /proc files). */
int hd_sysfs_read_bytes(hd_ctx *ctx, const char *path, void *buf, size_t size);
int hd_sysfs_readlink(hd_ctx *ctx, const char *path, char **ret);
/* Resolve a symlink path to the normalized absolute sysfs path ("/sys/..."). */
int hd_sysfs_resolve_link(hd_ctx *ctx, const char *path, char **ret);
int hd_sysfs_opendir(hd_ctx *ctx, const char *path, DIR **ret);
bool hd_sysfs_exists(hd_ctx *ctx, const char *path);
bool hd_sysfs_is_dir(hd_ctx *ctx, const char *path);
int hd_sysfs_write(hd_ctx *ctx, const char *path, const char *value);
/* Sorted names in a directory, "." and ".." skipped. */
int hd_sysfs_list_dir(hd_ctx *ctx, const char *path, char ***ret, size_t *ret_n);

/* Lexically normalize "/a/b/../c" → "/a/c"; fails with -EINVAL if the path
 * climbs above "/". */
int hd_path_normalize(const char *path, char **ret);
/* Join the directory of @link_path with @target and normalize. */
int hd_path_join_link(const char *link_path, const char *target, char **ret);
const char *hd_path_basename(const char *p);

/* mkdir -p below a directory fd (AT_FDCWD for the current directory); not
 * for kernel trees: for state and capture directories. */
int hd_mkdir_p_at(int dfd, const char *path, mode_t mode);

/* Write a whole file through PATH.hostdev-tmp, fsync and rename, so that
 * readers see the old or the new content, never a partial one (state and
 * configuration files, not kernel files). */
int hd_write_file_atomic(const char *path, const char *data, mode_t mode);

/* ---- strings (util/strutil.c) ---------------------------------------- */
char *hd_strdup(const char *s);
int hd_asprintf(char **ret, const char *fmt, ...) _printf_(2, 3);
int hd_vasprintf(char **ret, const char *fmt, va_list ap) _printf_(2, 0);
void hd_strip(char *s);                      /* trailing whitespace */
/* Every byte of an invalid UTF-8 sequence (or an encoded surrogate or
 * code point above U+10FFFF) becomes '?', in place: sysfs attributes are
 * bytes, our XML and JSON must be valid UTF-8.  Returns @s. */
char *hd_utf8_sanitize(char *s);
char *hd_strip_both(char *s);                /* both ends, returns start */
int hd_strv_push(char ***v, size_t *n, char *s);      /* takes s */
int hd_safe_atoll(const char *s, int base, long long *ret);
int hd_safe_atou(const char *s, int base, unsigned *ret);
int hd_cmpstringp(const void *a, const void *b);

/* growable string buffer */
struct hd_buf {
        char *s;
        size_t len, cap;
        int err;                /* sticky -ENOMEM */
};
void hd_buf_add(struct hd_buf *b, const char *s, size_t n);
void hd_buf_puts(struct hd_buf *b, const char *s);
void hd_buf_printf(struct hd_buf *b, const char *fmt, ...) _printf_(2, 3);
void hd_buf_putc(struct hd_buf *b, char c);
/* Returns the string (caller frees) or NULL on error. */
int hd_buf_steal(struct hd_buf *b, char **ret);
void hd_buf_done(struct hd_buf *b);

/* ---- string → pointer hash map (util/hashmap.c) ----------------------- */
struct hd_hashmap;
int hd_hashmap_new(struct hd_hashmap **ret);
void hd_hashmap_free(struct hd_hashmap *h);
/* Key is borrowed and must outlive the entry.  -EEXIST on duplicates. */
int hd_hashmap_put(struct hd_hashmap *h, const char *key, void *value);
void *hd_hashmap_get(struct hd_hashmap *h, const char *key);
/* 0, or -ENOENT when @key is not there */
int hd_hashmap_remove(struct hd_hashmap *h, const char *key);
