/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The log lines of one host-changing call: its caller gets the library's
 * warnings and errors that its operation logs (a direct run prints them),
 * and its info lines too when the method's `t flags` has FLAG_LOG_INFO
 * (hostdevctl -v), each as a Log(i level, s line) signal sent to the
 * caller alone, in the order they are logged and so before the method's
 * reply (one connection keeps its order), also before an error reply.  The
 * daemon's own log is not changed by it: a line is written there only at
 * the level the daemon's -v allows, and the context's level is put back
 * when the call returns.  authz_run() brackets every authorized method
 * with call_log_begin() and call_log_end(); Apply and MdevApply carry
 * their lines in their reply's log instead (call_log_level()).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostdevd.h"

static struct {
        struct daemon *d;
        sd_bus_message *m;      /* the call (its sender gets the lines) */
        int level;              /* the caller's level: HD_LOG_INFO (-v), or HD_LOG_WARNING */
        int saved_level;        /* the context's level before the call */
        unsigned paused;        /* call_log_pause() deep */
} call;

/* The position of the one top-level 't' (the flags) in the signature @sig
 * of a host-changing method's arguments: how many characters of @sig
 * precede it, or -1 for none. */
static int flags_position(const char *sig) {
        int depth = 0;

        for (const char *p = sig; *p; p++) {
                if (*p == '(' || *p == '{')
                        depth++;
                else if (*p == ')' || *p == '}')
                        depth--;
                else if (*p == 't' && depth == 0 && (p == sig || p[-1] != 'a'))
                        return (int) (p - sig);
        }
        return -1;
}

/* The flags the call @m carries (0 for a method without flags) */
static uint64_t call_flags(sd_bus_message *m) {
        const char *sig = sd_bus_message_get_signature(m, true);
        uint64_t flags = 0;
        char *before;
        int pos, r;

        if (!sig || (pos = flags_position(sig)) < 0)
                return 0;
        before = strndup(sig, pos);
        if (!before)
                return 0;
        r = sd_bus_message_rewind(m, true);
        if (r >= 0 && *before)
                r = sd_bus_message_skip(m, before);
        if (r >= 0)
                r = sd_bus_message_read(m, "t", &flags);
        (void) sd_bus_message_rewind(m, true);
        free(before);
        return r > 0 ? flags : 0;
}

static void call_log_fn(void *userdata, int level, const char *file, int line, const char *fn, const char *format,
                        va_list args) {
        sd_bus_message *s = NULL;
        char *text = NULL;
        va_list copy;
        int r;

        if (call.m && level <= call.level) {
                va_copy(copy, args);
                r = vasprintf(&text, format, copy) < 0 ? -ENOMEM : 0;
                va_end(copy);
                if (r >= 0)
                        r = sd_bus_message_new_signal(call.d->bus, &s, MANAGER_PATH, MANAGER_IFACE, "Log");
                if (r >= 0)
                        r = sd_bus_message_set_destination(s, sd_bus_message_get_sender(call.m));
                if (r >= 0)
                        r = sd_bus_message_append(s, "is", (int32_t) level, text);
                if (r >= 0)
                        r = sd_bus_send(call.d->bus, s, NULL);
                if (r < 0)
                        daemon_logf(3, "cannot send a log line to %s: %s", sd_bus_message_get_sender(call.m) ?: "?",
                                    strerror(-r));
                sd_bus_message_unref(s);
                free(text);
        }
        /* the daemon's own log, at its own level */
        daemon_log_fn(userdata, level, file, line, fn, format, args);
}

void call_log_begin(struct daemon *d, sd_bus_message *m) {
        call.d = d;
        call.m = m;
        /* the warnings and errors always (a direct run prints them); the
         * info lines too for the caller's -v */
        call.level = call_flags(m) & FLAG_LOG_INFO ? HD_LOG_INFO : HD_LOG_WARNING;
        call.saved_level = hd_ctx_get_log_level(d->ctx);
        if (call.saved_level < call.level)
                hd_ctx_set_log_level(d->ctx, call.level);
        hd_ctx_set_log_fn(d->ctx, call_log_fn, NULL);
}

int call_log_level(void) {
        return call.m ? call.level : HD_LOG_WARNING;
}

void call_log_resume(struct daemon *d) {
        hd_ctx_set_log_fn(d->ctx, call.m && !call.paused ? call_log_fn : daemon_log_fn, NULL);
}

struct daemon *call_log_pause(struct daemon *d) {
        call.paused++;
        call_log_resume(d);
        return d;
}

void call_log_unpausep(struct daemon **p) {
        if (call.paused > 0)
                call.paused--;
        call_log_resume(*p);
}

void call_log_end(struct daemon *d) {
        if (call.m) {
                hd_ctx_set_log_fn(d->ctx, daemon_log_fn, NULL);
                hd_ctx_set_log_level(d->ctx, call.saved_level);
        }
        call = (typeof(call)) { .paused = call.paused };
}
