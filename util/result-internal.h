/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Building an hd_result (include/hostdev/result.h) inside the library. */
#pragma once

#include "hostdev/hostdev.h"
#include "util/internal.h"

struct hd_result_step_spec {
        const char *subject, *action, *parent, *type, *from, *to;
        enum hd_outcome outcome;
        int error;              /* -errno for a failed step */
        const char *error_text; /* NULL: strerror(-error) when error != 0 */
        const char *xml;        /* HD_RESULT_DOMAIN: the device XML given to libvirt */
};

/* A new result of @kind, status 0, no reason, no steps. */
int hd_result_new(enum hd_result_kind kind, hd_result **ret);
/* Append a step (copies the strings); -ENOMEM. */
int hd_result_add_step(hd_result *r, const struct hd_result_step_spec *s);
/* Only the status (the reason is kept). */
void hd_result_set_status(hd_result *r, int status);
/* Replace the reason; a hint on success is set this way. */
void hd_result_set_reason(hd_result *r, const char *fmt, ...) _printf_(2, 3);
/* Set status and reason together where a refusal or failure happens, and
 * log the reason there through @ctx (may be NULL), at info level: the
 * caller prints the result's reason itself. */
#define hd_result_fail(r, ctx, status, ...)                                     \
        do {                                                                    \
                hd_result *_r = (r);                                            \
                hd_result_set_status(_r, status);                               \
                hd_result_set_reason(_r, __VA_ARGS__);                          \
                log_info(ctx, "%s", strempty(hd_result_get_reason(_r)));        \
        } while (0)
/* Append @text to the reason. */
void hd_result_append_reason(hd_result *r, const char *text);
/* The step array for changes in place (outcome of step i). */
void hd_result_set_step_outcome(hd_result *r, size_t i, enum hd_outcome o);
/* Append the steps of @from to @into; @from's status and reason become
 * @into's when @into has none yet (the first failure is the one reported). */
int hd_result_merge(hd_result *into, const hd_result *from);
