/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdevd's Apply and MdevApply methods (hostdevctl apply, mdev apply:
 * what the CLI prints, all of it the library's) and the hotplug apply of a
 * device that appears: its driver override, the SR-IOV state persisted
 * for it as a PF, and the auto-start mdevs whose parent it is, in that
 * order, each announced as PersistedConfigApplied(name, result JSON) and
 * logged (drift, a refusal, as a warning).
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostdevd.h"
#include "hostdev/boot.h"
#include "hostdev/listing.h"
#include "hostdev/mdev.h"
#include "hostdev/sriov.h"

#define APPLY_DRY_RUN 2ULL      /* Detach's bit */

static const char *strempty_(const char *s) { return s ?: ""; }

/* ---- hotplug ---- */

/* Log and announce what the apply of one kind did for @name. */
static void announce(struct daemon *d, const char *name, const hd_result *res) {
        json_object *o = NULL;
        char *text = NULL;
        int st = hd_result_get_status(res), r;

        if (st >= 0)
                daemon_logf(5, "%s: persisted configuration applied (%zu changed)", name,
                            hd_result_count_outcome(res, HD_OUTCOME_DONE));
        else
                daemon_logf(4, "%s: persisted configuration %s: %s", name, hd_result_get_status_string(res),
                            hd_result_get_reason(res) ?: strerror(-st));
        if (hd_result_to_json(res, &o) >= 0 && hd_json_to_text(o, &text) >= 0) {
                r = sd_bus_emit_signal(d->bus, MANAGER_PATH, MANAGER_IFACE, "PersistedConfigApplied", "ss", name, text);
                if (r < 0)
                        daemon_logf(3, "cannot emit PersistedConfigApplied(%s): %s", name, strerror(-r));
        }
        free(text);
        json_object_put(o);
}

/* the result of one kind: announced; whether it changed something */
static bool done(struct daemon *d, const char *name, int r, hd_result *res, const char *what) {
        bool changed;

        if (r < 0) {
                daemon_logf(3, "%s: cannot apply the persisted %s: %s", name, what,
                            hd_ctx_get_error(d->ctx) ?: strerror(-r));
                return false;
        }
        if (r == 0)
                return false;   /* nothing of this kind persisted for it */
        changed = hd_result_get_status(res) >= 0 && hd_result_count_outcome(res, HD_OUTCOME_DONE) > 0;
        announce(d, name, res);
        hd_result_unref(res);
        return changed;
}

bool apply_persisted(struct daemon *d, hd_device *dev) {
        const char *path = hd_device_get_syspath(dev), *base = path ? strrchr(path, '/') : NULL;
        /* its directory's name: an mdev parent's name under mdev_bus */
        char *name = strdup(hd_device_get_name(dev)), *sysname = strdup(base ? base + 1 : "");
        char *dir = NULL;
        hd_result *res = NULL;
        bool changed = false;
        int r;

        if (!name || !sysname) {
                free(name);
                free(sysname);
                return false;
        }
        /* 1. the driver override (identity checked; through nodedev-detach) */
        r = ask_libvirt(d);
        if (r >= 0)
                r = hd_device_apply_persisted(d->list, d->sysroot, dev, 0, &res);
        changed |= done(d, name, r, res, "configuration");
        /* 2. a PF: its VF count, VF drivers and VF settings (identity checked) */
        res = NULL;
        r = hd_sriov_config_dir(d->ctx, &dir);
        if (r >= 0)
                r = hd_sriov_apply_device(d->list, dir, dev, 0, &res);
        changed |= done(d, name, r, res, "SR-IOV state");
        free(dir);
        /* 3. a parent: its auto-start mdevs (VFs that step 2 created are
         * new in the next round's tree, and get theirs then) */
        res = NULL;
        r = *sysname ? hd_mdev_apply_parent(d->ctx, sysname, 0, &res) : 0;
        changed |= done(d, name, r, res, "auto-start mdevs");
        free(name);
        free(sysname);
        return changed;
}

/* ---- Apply(t flags), MdevApply(t flags) -> s result, s text, as messages,
 * a(is) log: hostdevctl apply, hostdevctl mdev apply ---- */

/* The library's warnings and errors during an apply (the lines hostdevctl
 * prints as "warning: ", "error: " while it runs), and its info lines
 * too for a caller that set FLAG_LOG_INFO (hostdevctl -v: here in the
 * reply's log, not as Log signals, so that they keep their order among
 * the warnings), passed on to the daemon's log too (at its level) */
struct captured {
        size_t n;
        int *level;
        char **text;
        bool oom;
};

static void capture_fn(void *userdata, int level, const char *file, int line, const char *fn, const char *format,
                       va_list args) {
        struct captured *c = userdata;
        va_list copy;
        char *s = NULL;

        /* and the info lines when the caller asked for them (its -v) */
        if (level <= call_log_level()) {
                int *lv = realloc(c->level, (c->n + 1) * sizeof(*lv));
                char **v = lv ? realloc(c->text, (c->n + 1) * sizeof(*v)) : NULL;
                if (lv)
                        c->level = lv;
                if (v)
                        c->text = v;
                va_copy(copy, args);
                if (!v || vasprintf(&s, format, copy) < 0)
                        c->oom = true;
                else {
                        lv[c->n] = level;
                        v[c->n++] = s;
                }
                va_end(copy);
        }
        daemon_log_fn(NULL, level, file, line, fn, format, args);
}

static void capture_start(struct daemon *d, struct captured *c) {
        hd_ctx_set_log_fn(d->ctx, capture_fn, c);
}

static void capture_stop(struct daemon *d) {
        call_log_resume(d);
}

static void captured_done(struct captured *c) {
        for (size_t i = 0; i < c->n; i++)
                free(c->text[i]);
        free(c->text);
        free(c->level);
}

/* The reply of Apply and MdevApply: @doc (the --json document), @text
 * (the lines on stdout) and the sentences on stderr, all the library's
 * (include/hostdev/sriov.h), and the library's warnings meanwhile; a
 * refusal or failure is the error Refused or Failed with the library's
 * sentence, carrying the same four values. */
static int reply_apply(sd_bus_message *m, const hd_apply_result *res, json_object *doc, const char *text,
                       const struct captured *log) {
        sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char **msgs = NULL, *err = NULL, *json = NULL;
        int verdict = hd_apply_result_get_verdict(res), r;

        r = verdict < 0 ? verdict : hd_json_to_text(doc, &json);
        if (r >= 0)
                r = hd_apply_result_format_messages(res, &msgs);
        if (r >= 0)
                r = hd_apply_result_format_error(res, &err);
        if (r < 0)
                goto out;
        if (verdict == HD_APPLY_OK)
                r = sd_bus_message_new_method_return(m, &reply);
        else {
                sd_bus_error_set(&e, verdict == HD_APPLY_REFUSED ? ERROR_REFUSED : ERROR_FAILED, strempty_(err));
                r = sd_bus_message_new_method_error(m, &reply, &e);
        }
        if (r >= 0)
                r = sd_bus_message_append(reply, "ss", json, strempty_(text));
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, msgs);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(is)");
        for (size_t i = 0; r >= 0 && i < log->n; i++)
                r = sd_bus_message_append(reply, "(is)", (int32_t) log->level[i], log->text[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
out:
        sd_bus_message_unref(reply);
        sd_bus_error_free(&e);
        for (char **p = msgs; p && *p; p++)
                free(*p);
        free(msgs);
        free(err);
        free(json);
        return r;
}

/* An apply that attempted nothing: the library's sentence as Failed */
static int reply_nothing(sd_bus_message *m, const hd_apply_result *res) {
        char *msg = NULL;
        int r = hd_apply_result_format_error(res, &msg);

        if (r >= 0)
                r = sd_bus_reply_method_errorf(m, ERROR_FAILED, "%s", strempty_(msg));
        free(msg);
        return r;
}

static int read_flags(sd_bus_message *m, const char *verb, uint64_t *flags) {
        int r = sd_bus_message_read(m, "t", flags);
        if (r < 0)
                return r;
        *flags &= ~FLAG_LOG_INFO;        /* the caller's -v: daemon/call-log.c */
        if (*flags & ~APPLY_DRY_RUN) {
                r = sd_bus_reply_method_errorf(m, ERROR_INVALID, "%s: unknown flags 0x%llx", verb,
                                               (unsigned long long) (*flags & ~APPLY_DRY_RUN));
                return r < 0 ? r : 0;
        }
        return 1;
}

static int do_apply(struct daemon *d, sd_bus_message *m) {
        struct captured log = {};
        hd_apply_result *res = NULL;
        json_object *o = NULL;
        char *text = NULL;
        uint64_t flags;
        int r;

        r = read_flags(m, "apply", &flags);
        if (r <= 0)
                return r;
        /* as every write: the tree of now, libvirt asked afresh */
        r = tree_for_write(d, NULL, 0);
        if (r < 0)
                return sd_bus_reply_method_errorf(m, ERROR_FAILED, "cannot enumerate devices: %s", strerror(-r));
        r = ask_libvirt(d);
        if (r < 0)
                return r;
        capture_start(d, &log);
        r = hd_apply(d->list, flags & APPLY_DRY_RUN ? HD_SRIOV_DRY_RUN : 0, &res);
        capture_stop(d);
        if (r == -ETIMEDOUT) {
                r = reply_busy(d, m, "apply");
                goto out;
        }
        if (r < 0) {
                r = hd_ctx_get_error(d->ctx) ? sd_bus_reply_method_errorf(m, ERROR_FAILED, "%s", hd_ctx_get_error(d->ctx))
                                             : sd_bus_reply_method_errorf(m, ERROR_FAILED, "apply: %s", strerror(-r));
                goto out;
        }
        if (res->sriov_error < 0) {
                r = reply_nothing(m, res);
                goto out;
        }
        r = hd_apply_result_to_json(res, &o);
        if (r >= 0)
                r = hd_apply_result_format_text(res, &text);
        if (r >= 0)
                r = reply_apply(m, res, o, text, &log);
out:
        captured_done(&log);
        free(text);
        json_object_put(o);
        hd_apply_result_free(res);
        if (!(flags & APPLY_DRY_RUN))
                tree_after_write(d, NULL, 0);
        return r;
}

int method_apply(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.apply", do_apply);
}

/* mdev apply: the mdev stage alone (an hd_apply_result without its
 * SR-IOV stage), the document of mdev apply --json */
static int do_mdev_apply(struct daemon *d, sd_bus_message *m) {
        struct captured log = {};
        hd_apply_result res = {};
        json_object *o = NULL;
        char *text = NULL;
        uint64_t flags;
        int r;

        r = read_flags(m, "mdev apply", &flags);
        if (r <= 0)
                return r;
        capture_start(d, &log);
        res.mdev_error = hd_mdev_apply_full(d->ctx, flags & APPLY_DRY_RUN ? HD_MDEV_APPLY_DRY_RUN : 0, &res.mdev);
        capture_stop(d);
        if (res.mdev_error < 0)
                r = reply_nothing(m, &res);
        else {
                r = hd_result_to_json(res.mdev, &o);
                if (r >= 0)
                        r = hd_result_format_text(res.mdev, &text);
                if (r >= 0)
                        r = reply_apply(m, &res, o, text, &log);
        }
        captured_done(&log);
        free(text);
        json_object_put(o);
        hd_result_unref(res.mdev);
        if (!(flags & APPLY_DRY_RUN))
                (void) rebuild(d);
        return r;
}

int method_mdev_apply(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.apply", do_mdev_apply);
}
