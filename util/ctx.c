/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <pci/pci.h>

#include "internal.h"

static void log_stderr(void *userdata _unused_, int level _unused_, const char *file _unused_,
                       int line _unused_, const char *fn _unused_, const char *fmt, va_list args) {
        fputs("libhostdev: ", stderr);
        vfprintf(stderr, fmt, args);
        fputc('\n', stderr);
}

void hd_log(hd_ctx *ctx, int level, const char *file, int line, const char *fn, const char *fmt, ...) {
        va_list ap;

        if (!ctx->log_fn)
                return;
        va_start(ap, fmt);
        ctx->log_fn(ctx->log_data, level, file, line, fn, fmt, ap);
        va_end(ap);
}

_public_ int hd_ctx_new(const char *sysroot, hd_ctx **ret) {
        _cleanup_free_ hd_ctx *ctx = NULL;
        _cleanup_free_ char *root = NULL;
        int fd;

        if (!ret)
                return -EINVAL;
        /* NULL is the live host.  Nothing else may ever mean it: an empty
         * sysroot (an unset shell variable) or one that resolves to "/"
         * ("/", "/tmp/..", a link to /) is refused, never taken as the host. */
        if (sysroot) {
                if (isempty(sysroot))
                        return -EINVAL;
                root = realpath(sysroot, NULL);
                if (!root)
                        return negative_errno();
                if (streq(root, "/"))
                        return -EINVAL;
        }

        fd = open(root ?: "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();

        ctx = calloc(1, sizeof(*ctx));
        if (!ctx) {
                close(fd);
                return -ENOMEM;
        }
        ctx->n_ref = 1;
        ctx->root_fd = fd;
        ctx->sysroot = TAKE_PTR(root);
        ctx->log_fn = log_stderr;
        ctx->log_level = HD_LOG_ERR;
        ctx->bind_timeout_ms = 10000;
        ctx->lock_timeout_usec = UINT64_MAX;
        *ret = TAKE_PTR(ctx);
        return 0;
}

_public_ hd_ctx *hd_ctx_ref(hd_ctx *ctx) {
        if (ctx)
                ctx->n_ref++;
        return ctx;
}

_public_ hd_ctx *hd_ctx_unref(hd_ctx *ctx) {
        if (!ctx || --ctx->n_ref > 0)
                return NULL;
        hd_ctx_set_in_use_fn_owned(ctx, NULL, NULL, NULL);
        if (ctx->pacc)
                pci_cleanup(ctx->pacc);
        hd_pciids_free(ctx->pciids);
        if (ctx->root_fd >= 0)
                close(ctx->root_fd);
        free(ctx->sysroot);
        free(ctx->state_dir);
        free(ctx->error);
        free(ctx);
        return NULL;
}

_public_ void hd_ctx_set_log_fn(hd_ctx *ctx, hd_log_fn fn, void *userdata) {
        ctx->log_fn = fn;
        ctx->log_data = userdata;
}

_public_ void hd_ctx_set_log_level(hd_ctx *ctx, int level) {
        ctx->log_level = level;
}

_public_ int hd_ctx_get_log_level(hd_ctx *ctx) {
        return ctx->log_level;
}

_public_ const char *hd_ctx_get_sysroot(hd_ctx *ctx) {
        return ctx->sysroot;
}

_public_ bool hd_ctx_is_live(hd_ctx *ctx) {
        return !ctx->sysroot;
}

_public_ const char *hd_ctx_get_error(hd_ctx *ctx) {
        return ctx ? ctx->error : NULL;
}

void hd_error_clear(hd_ctx *ctx) {
        if (ctx)
                free(TAKE_PTR(ctx->error));
}

int hd_verror(hd_ctx *ctx, int r, const char *fmt, va_list ap) {
        char *text;

        if (!ctx)
                return r;
        /* Out of memory keeps the old text away rather than a wrong one. */
        if (hd_vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        free(ctx->error);
        ctx->error = text;
        if (text)
                log_info(ctx, "%s", text);
        return r;
}

int hd_error(hd_ctx *ctx, int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        hd_verror(ctx, r, fmt, ap);
        va_end(ap);
        return r;
}

_public_ int hd_ctx_set_state_dir(hd_ctx *ctx, const char *dir) {
        char *d;

        if (!ctx || isempty(dir) || dir[0] != '/')
                return -EINVAL;
        d = strdup(dir);
        if (!d)
                return -ENOMEM;
        free(ctx->state_dir);
        ctx->state_dir = d;
        return 0;
}

_public_ const char *hd_ctx_get_state_dir(hd_ctx *ctx) {
        if (!ctx->state_dir) {
                if (ctx->sysroot) {
                        if (hd_asprintf(&ctx->state_dir, "%s/var/lib/hostdev", ctx->sysroot) < 0)
                                return NULL;
                } else
                        ctx->state_dir = strdup("/var/lib/hostdev");
        }
        return ctx->state_dir;
}

_public_ void hd_ctx_set_bind_timeout(hd_ctx *ctx, unsigned msec) {
        ctx->bind_timeout_ms = msec;
}

_public_ void hd_ctx_set_lock_timeout(hd_ctx *ctx, uint64_t usec) {
        if (ctx)
                ctx->lock_timeout_usec = usec;
}

void hd_ctx_set_kernel_ops(hd_ctx *ctx, const struct hd_kernel_ops *ops, void *userdata) {
        ctx->kops = ops;
        ctx->kops_data = userdata;
}

void hd_ctx_set_in_use_fn_owned(hd_ctx *ctx, hd_in_use_fn fn, void *userdata, void (*free_fn)(void *)) {
        void *old = ctx->in_use_data;
        void (*old_free)(void *) = ctx->in_use_free;

        ctx->in_use_fn = fn;
        ctx->in_use_data = userdata;
        ctx->in_use_free = free_fn;
        if (old_free && old != userdata)
                old_free(old);
}

_public_ void hd_ctx_set_in_use_fn(hd_ctx *ctx, hd_in_use_fn fn, void *userdata) {
        hd_ctx_set_in_use_fn_owned(ctx, fn, userdata, NULL);
}

void *hd_ctx_get_in_use_data(hd_ctx *ctx, hd_in_use_fn fn) {
        return ctx && fn && ctx->in_use_fn == fn ? ctx->in_use_data : NULL;
}

int hd_ctx_check_in_use(hd_ctx *ctx, const char *kind, const char *id, bool force, char **ret_reason) {
        _cleanup_free_ char *why = NULL, *error = NULL;
        int r;

        if (!ctx || !ctx->in_use_fn)
                return 0;
        /* the answer comes back in @why: whatever the function does to the
         * context's error (it may connect to libvirt) is not the caller's */
        error = TAKE_PTR(ctx->error);
        r = ctx->in_use_fn(ctx, kind, id, &why, ctx->in_use_data);
        free(ctx->error);
        ctx->error = TAKE_PTR(error);
        if (r == 0)
                return 0;
        if (r > 0) {
                *ret_reason = TAKE_PTR(why);
                if (!*ret_reason && hd_asprintf(ret_reason, "%s is used by a running domain", id) < 0)
                        return -ENOMEM;
                return -EBUSY;
        }
        if (force) {
                log_warn(ctx, "%s: %s; going on (--force)", id, strempty(why));
                return 0;
        }
        if (hd_asprintf(ret_reason, "%s: cannot tell whether a domain uses it (%s); --force to proceed", id,
                        why ?: strerror(-r)) < 0)
                return -ENOMEM;
        return -EBUSY;
}
