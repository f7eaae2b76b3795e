/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdevd's boot-time and override methods (BOOT_METHODS_VTABLE, in
 * hostdevd.c's manager vtable): ListOverrides, SetOverride, RemoveOverride
 * (hostdevctl override list|set|unset), BootPlan, BootApply, BootStatus,
 * BootUndo (hostdevctl boot plan|apply|status|undo); ListDevices'
 * filters; the InUse property of the device objects.  Each calls the
 * library function the hostdevctl verb calls and answers with the same
 * rendering (the library's: boot.h, listing.h); failures are named errors
 * with the CLI's words.  The configuration root is the daemon's --sysroot
 * tree (as hostdevctl's --root defaults to its --sysroot), else this host.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostdev/listing.h"
#include "hostdevd.h"

/* the flags: Detach's bits, and one of their own */
#define BOOT_DRY_RUN 2ULL
#define BOOT_FORCE 4ULL
#define BOOT_NO_REGENERATE 8ULL

static unsigned boot_flags(uint64_t flags) {
        return (flags & BOOT_DRY_RUN ? HD_BOOT_DRY_RUN : 0) | (flags & BOOT_FORCE ? HD_BOOT_FORCE : 0) |
               (flags & BOOT_NO_REGENERATE ? HD_BOOT_NO_REGENERATE : 0);
}

static int check_flags(sd_bus_message *m, const char *verb, uint64_t flags, uint64_t allowed) {
        /* and the caller's -v (daemon/call-log.c) */
        allowed |= FLAG_LOG_INFO;
        if (!(flags & ~allowed))
                return 0;
        (void) sd_bus_reply_method_errorf(m, ERROR_INVALID, "%s: unknown flags 0x%llx", verb,
                                          (unsigned long long) (flags & ~allowed));
        return -EINVAL;
}

/* hostdevctl's error_exit(): "VERB: the context's error", Refused for
 * -EBUSY (exit status 2), InvalidArgument for -EINVAL, Busy for
 * -ETIMEDOUT (the state lock), else Failed */
static int reply_error(struct daemon *d, sd_bus_message *m, const char *verb, int r) {
        /* -ETIMEDOUT: the state lock (hd_ctx_set_lock_timeout), Busy as
         * the other writes' */
        return sd_bus_reply_method_errorf(m, r == -ETIMEDOUT ? ERROR_BUSY : r == -EBUSY ? ERROR_REFUSED
                                             : r == -EINVAL ? ERROR_INVALID
                                             : r == -ENOENT ? ERROR_NOT_FOUND : ERROR_FAILED,
                                          "%s: %s", verb, hd_ctx_get_error(d->ctx) ?: strerror(-r));
}

/* a JSON document as hostdevctl prints it (the library's text) */
static int json_text(json_object *o, char **ret) {
        int r = hd_json_to_text(o, ret);
        json_object_put(o);
        return r;
}

/* the tree of now for the devices @names (tree_for_write: on the live host
 * no enumeration) */
static int rebuild_or_reply(struct daemon *d, sd_bus_message *m, const char *const *names, size_t n) {
        int r = tree_for_write(d, names, n);
        if (r < 0)
                (void) sd_bus_reply_method_errorf(m, ERROR_FAILED, "cannot enumerate devices: %s", strerror(-r));
        return r;
}

/* ---- overrides ---- */

/* `override list --json` of the tree of now */
static int overrides_text(struct daemon *d, char **ret) {
        hd_override *v = NULL;
        json_object *o = NULL;
        size_t n = 0;
        int r;

        r = hd_override_list(d->list, d->sysroot, &v, &n);
        if (r < 0)
                return r;
        r = hd_override_array_to_json(v, n, &o);
        hd_override_array_free(v, n);
        return r < 0 ? r : json_text(o, ret);
}

/* The reads (ListOverrides, BootPlan, BootStatus) answer from the cached
 * tree, as ListDevices does: a caller nobody authorized cannot make the
 * daemon enumerate (that is Rescan's, an authorized method). */
int method_list_overrides(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct daemon *d = userdata;
        char *text = NULL;
        int r;

        r = overrides_text(d, &text);
        if (r < 0)
                return reply_error(d, m, "override list", r);
        r = sd_bus_reply_method_return(m, "s", text);
        free(text);
        return r;
}

/* the reply of SetOverride and RemoveOverride: whether it changed, and
 * the overrides after it */
static int reply_overrides(struct daemon *d, sd_bus_message *m, const char *verb, bool changed) {
        char *text = NULL;
        int r = overrides_text(d, &text);

        if (r < 0)
                return reply_error(d, m, verb, r);
        r = sd_bus_reply_method_return(m, "bs", (int) changed, text);
        free(text);
        return r;
}

static int do_set_override(struct daemon *d, sd_bus_message *m) {
        const char *name, *drv;
        uint64_t flags;
        hd_device *dev;
        int r;

        r = sd_bus_message_read(m, "sst", &name, &drv, &flags);
        if (r < 0)
                return r;
        if (check_flags(m, "override set", flags, BOOT_DRY_RUN) < 0)
                return 0;
        /* hostdevctl's: an alias (vfio, stub) or a driver's own name */
        drv = hd_driver_from_alias(drv, 0) ?: drv;
        if (rebuild_or_reply(d, m, &name, 1) < 0 || lookup(d, m, name, &dev) < 0)
                return 0;
        r = hd_override_set(d->list, d->sysroot, dev, drv, boot_flags(flags));
        if (r < 0)
                return reply_error(d, m, "override set", r);
        return reply_overrides(d, m, "override set", r > 0 && !(flags & BOOT_DRY_RUN));
}

static int do_remove_override(struct daemon *d, sd_bus_message *m) {
        const char *name, *addr;
        uint64_t flags;
        hd_device *dev;
        int r;

        r = sd_bus_message_read(m, "st", &name, &flags);
        if (r < 0)
                return r;
        if (check_flags(m, "override unset", flags, BOOT_DRY_RUN) < 0)
                return 0;
        if (!*name)
                return sd_bus_reply_method_errorf(m, ERROR_INVALID, "empty device name");
        if (rebuild_or_reply(d, m, &name, 1) < 0)
                return 0;
        /* as hostdevctl: a device of the tree by any of its names, else
         * the address given (the device may be gone) */
        addr = name;
        if (hd_nodedev_list_lookup(d->list, name, &dev) >= 0 && hd_device_get_cap_type(dev) == HD_CAP_PCI)
                addr = hd_device_get_pci_address(dev);
        r = hd_override_unset(d->list, d->sysroot, addr, boot_flags(flags));
        if (r < 0)
                return reply_error(d, m, "override unset", r);
        return reply_overrides(d, m, "override unset", !(flags & BOOT_DRY_RUN));
}

int method_set_override(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.override", do_set_override);
}
int method_remove_override(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.override", do_remove_override);
}

/* ---- boot plan, apply, status, undo ---- */

/* BootPlan's and BootApply's arguments: the driver, the flags and the
 * devices (the array last: sd-bus 252 refused to register the vtable, EINVAL,
 * with a named "ast" signature; "stas" it takes), then the plan: 1 with
 * *ret, 0 when an error was replied */
static int make_plan(struct daemon *d, sd_bus_message *m, const char *verb, uint64_t allowed, bool fresh,
                     uint64_t *ret_flags, hd_boot_plan **ret) {
        hd_device **devs = NULL;
        const char *drv, *driver = "vfio-pci";
        char **names = NULL;
        size_t n = 0;
        uint64_t flags;
        unsigned bf;
        int r;

        r = sd_bus_message_read(m, "st", &drv, &flags);
        if (r >= 0)
                r = sd_bus_message_read_strv(m, &names);
        if (r < 0)
                goto out;
        if (check_flags(m, verb, flags, allowed) < 0) {
                r = 0;
                goto out;
        }
        if (*drv && !(driver = hd_driver_from_alias(drv, 0))) {
                r = sd_bus_reply_method_errorf(m, ERROR_INVALID, "%s: --driver must be vfio or stub, not '%.64s'", verb, drv);
                r = r < 0 ? r : 0;
                goto out;
        }
        while (names && names[n])
                n++;
        if (n == 0) {
                r = sd_bus_reply_method_errorf(m, ERROR_INVALID, "expected at least one device (see 'hostdevctl boot --help')");
                r = r < 0 ? r : 0;
                goto out;
        }
        /* an apply plans on the tree of now (a plan, a read, on the cached one) */
        if (fresh && rebuild_or_reply(d, m, (const char *const *) names, n) < 0) {
                r = 0;
                goto out;
        }
        devs = calloc(n, sizeof(*devs));
        if (!devs) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < n; i++)
                if (lookup(d, m, names[i], &devs[i]) < 0) {
                        r = 0;
                        goto out;
                }
        bf = boot_flags(flags) | (strcmp(driver, "pci-stub") == 0 ? HD_BOOT_STUB : 0);
        r = hd_boot_plan_new(d->list, d->sysroot, devs, n, bf, ret);
        if (r < 0) {
                r = reply_error(d, m, verb, r);
                r = r < 0 ? r : 0;
                goto out;
        }
        *ret_flags = flags;
        r = 1;
out:
        free(devs);
        if (names)
                for (size_t i = 0; names[i]; i++)
                        free(names[i]);
        free(names);
        return r;
}

static int plan_text(const hd_boot_plan *p, char **ret) {
        json_object *o = NULL;
        int r = hd_boot_plan_to_json(p, &o);
        return r < 0 ? r : json_text(o, ret);
}

int method_boot_plan(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct daemon *d = userdata;
        hd_boot_plan *p = NULL;
        char *text = NULL;
        uint64_t flags;
        int r;

        r = make_plan(d, m, "boot plan", BOOT_FORCE, false, &flags, &p);
        if (r <= 0)
                return r;
        r = plan_text(p, &text);
        hd_boot_plan_free(p);
        if (r < 0)
                return sd_bus_reply_method_errorf(m, ERROR_FAILED, "boot plan: %s", strerror(-r));
        r = sd_bus_reply_method_return(m, "s", text);
        free(text);
        return r;
}

/* the regeneration commands: the first failure, in hostdevctl's words;
 * each command and its exit status, for BootApply's and BootUndo's
 * error (a(si)) */
struct commands {
        char *failed;
        size_t n;
        char **command;
        int *status;
        bool oom;
        bool undo;      /* BootUndo's: the files are restored, not written */
};

static void command_cb(void *userdata, const char *command, int status) {
        struct commands *c = userdata;
        char **v;
        int *st;

        if (status > 0 && !c->failed &&
            asprintf(&c->failed, c->undo ? "'%s' failed with exit status %d; the files are restored"
                                         : "'%s' failed with exit status %d; the files are written, 'hostdevctl boot undo' "
                                           "puts them back", command, status) < 0)
                c->failed = NULL;
        v = realloc(c->command, (c->n + 1) * sizeof(*v));
        if (v)
                c->command = v;
        st = v ? realloc(c->status, (c->n + 1) * sizeof(*st)) : NULL;
        if (st)
                c->status = st;
        if (!v || !st || !(v[c->n] = strdup(command)))
                c->oom = true;
        else
                st[c->n++] = status;
}

static void commands_done(struct commands *c) {
        for (size_t i = 0; i < c->n; i++)
                free(c->command[i]);
        free(c->command);
        free(c->status);
        free(c->failed);
}

/* A regeneration command failed: Failed with hostdevctl's sentence,
 * carrying what `boot apply` prints then: the files changed (@n), the
 * plan, and each command run with its exit status (its "ran:" lines);
 * for `boot undo` (@plan NULL) the files restored and the commands */
static int reply_regeneration_failed(sd_bus_message *m, const struct commands *c, int n, const char *plan) {
        sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        if (c->oom)
                return sd_bus_reply_method_errorf(m, ERROR_FAILED, "%s", c->failed);
        sd_bus_error_set(&e, ERROR_FAILED, c->failed);
        r = sd_bus_message_new_method_error(m, &reply, &e);
        if (r >= 0)
                r = plan ? sd_bus_message_append(reply, "is", (int32_t) n, plan)
                         : sd_bus_message_append(reply, "i", (int32_t) n);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(si)");
        for (size_t i = 0; r >= 0 && i < c->n; i++)
                r = sd_bus_message_append(reply, "(si)", c->command[i], (int32_t) c->status[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        sd_bus_error_free(&e);
        return r;
}

static int do_boot_apply(struct daemon *d, sd_bus_message *m) {
        struct commands c = {};
        hd_boot_plan *p = NULL;
        char *text = NULL;
        uint64_t flags;
        int r, n = 0;

        r = make_plan(d, m, "boot apply", BOOT_DRY_RUN | BOOT_FORCE | BOOT_NO_REGENERATE, true, &flags, &p);
        if (r <= 0)
                return r;
        r = plan_text(p, &text);
        if (r < 0) {
                r = sd_bus_reply_method_errorf(m, ERROR_FAILED, "boot apply: %s", strerror(-r));
                goto out;
        }
        if (!(flags & BOOT_DRY_RUN) && p->n_files > 0) {
                n = hd_boot_apply(d->ctx, p, boot_flags(flags), command_cb, &c);
                if (n < 0) {
                        r = reply_error(d, m, "boot apply", n);
                        goto out;
                }
        }
        if (c.failed)
                r = reply_regeneration_failed(m, &c, n, text);
        else
                r = sd_bus_reply_method_return(m, "is", (int32_t) n, text);
out:
        commands_done(&c);
        free(text);
        hd_boot_plan_free(p);
        return r;
}

int method_boot_apply(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.boot", do_boot_apply);
}

int method_boot_status(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct daemon *d = userdata;
        hd_boot_status *s = NULL;
        json_object *o = NULL;
        char *text = NULL;
        int r;

        r = hd_boot_get_status(d->list, d->sysroot, &s);
        if (r < 0)
                return reply_error(d, m, "boot status", r);
        r = hd_boot_status_to_json(s, &o);
        hd_boot_status_free(s);
        if (r >= 0)
                r = json_text(o, &text);
        if (r < 0)
                return sd_bus_reply_method_errorf(m, ERROR_FAILED, "boot status: %s", strerror(-r));
        r = sd_bus_reply_method_return(m, "s", text);
        free(text);
        return r;
}

static int do_boot_undo(struct daemon *d, sd_bus_message *m) {
        struct commands c = { .undo = true };
        uint64_t flags;
        int r;

        r = sd_bus_message_read(m, "t", &flags);
        if (r < 0)
                return r;
        if (check_flags(m, "boot undo", flags, BOOT_DRY_RUN | BOOT_NO_REGENERATE) < 0)
                return 0;
        r = hd_boot_undo(d->ctx, d->sysroot, boot_flags(flags), command_cb, &c);
        if (r < 0)
                return reply_error(d, m, "boot undo", r);
        /* a regeneration command failed: the files are restored; the
         * error carries their number and the commands run ("ran:") */
        if (c.failed)
                r = reply_regeneration_failed(m, &c, r, NULL);
        else
                r = sd_bus_reply_method_return(m, "i", (int32_t) r);
        commands_done(&c);
        return r;
}

int method_boot_undo(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.boot", do_boot_undo);
}

/* ---- ListDevices(s filter): nodedev-list's filters ---- */

int list_devices_filtered(struct daemon *d, sd_bus_message *m, const char *spec) {
        hd_nodedev_filter *f = NULL;
        json_object *o = NULL;
        char *why = NULL, *text = NULL;
        int r;

        r = hd_nodedev_filter_parse(spec, &f, &why);
        if (r < 0) {
                r = why ? sd_bus_reply_method_errorf(m, ERROR_INVALID, "%s", why)
                        : sd_bus_reply_method_errorf(m, ERROR_FAILED, "ListDevices: %s", strerror(-r));
                free(why);
                return r;
        }
        /* the tree has the defined mdevs (rebuild()): a state filter sees them */
        r = hd_nodedev_list_to_json(d->list, hd_nodedev_filter_match, f, &o);
        hd_nodedev_filter_free(f);
        if (r >= 0)
                r = json_text(o, &text);
        if (r < 0)
                return sd_bus_reply_method_errorf(m, ERROR_FAILED, "nodedev-list: %s", strerror(-r));
        r = sd_bus_reply_method_return(m, "s", text);
        free(text);
        return r;
}

/* ---- the InUse property: which running guest holds the device ---- */

struct in_use {
        char *name, *reason;
};

static int in_use_cmp(const void *a, const void *b) {
        return strcmp(((const struct in_use *) a)->name, ((const struct in_use *) b)->name);
}

/* the in-use question of hostdevctl's refusals (hd_domain_usage_check),
 * for a PCI function or an active mdev: the reason when a running guest
 * uses it, else NULL */
static char *reason_of(struct daemon *d, hd_domain_usage *u, hd_device *dev) {
        const char *kind = NULL, *id = NULL;
        const hd_domain_use **uses = NULL;
        size_t n = 0;
        bool running = false;
        char *why = NULL;

        if (hd_device_get_cap_type(dev) == HD_CAP_PCI) {
                kind = "pci";
                id = hd_device_get_pci_address(dev);
        } else if (hd_device_get_cap_type(dev) == HD_CAP_MDEV && hd_device_is_active(dev) && hd_device_get_syspath(dev)) {
                kind = "mdev";
                id = strrchr(hd_device_get_syspath(dev), '/');
                id = id ? id + 1 : NULL;
        }
        if (!kind || !id)
                return NULL;
        /* only where a running domain uses it: the question itself warns
         * about each device a stopped domain names, at every refresh */
        if (hd_domain_usage_find(u, dev, &uses, &n) < 0)
                return NULL;
        for (size_t i = 0; i < n; i++)
                running |= uses[i]->running;
        free(uses);
        if (!running)
                return NULL;
        if (hd_domain_usage_check(u, d->ctx, kind, id, &why) != 1) {
                free(why);
                return NULL;
        }
        return why ?: strdup("in use by a running guest");
}

static void in_use_free(struct in_use *v, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(v[i].name);
                free(v[i].reason);
        }
        free(v);
}

/* After a rebuild: libvirt asked afresh (where it is asked at all), the
 * devices a running guest uses, and PropertiesChanged for each device
 * whose InUse changed. */
void in_use_refresh(struct daemon *d) {
        hd_domain_usage *u = NULL;
        struct in_use *v = NULL, *old = d->in_use;
        size_t n = 0, n_old = d->n_in_use, i = 0, j = 0;

        if (ask_libvirt(d) >= 0 && hd_domain_usage_get(d->ctx, d->list, 0, &u) > 0) {
                v = calloc(hd_nodedev_list_count(d->list) + 1, sizeof(*v));
                for (size_t k = 0; v && k < hd_nodedev_list_count(d->list); k++) {
                        hd_device *dev = hd_nodedev_list_get(d->list, k);
                        char *why = reason_of(d, u, dev);
                        if (!why)
                                continue;
                        v[n].name = strdup(hd_device_get_name(dev));
                        v[n].reason = why;
                        if (!v[n].name) {
                                free(why);
                                continue;
                        }
                        n++;
                }
                if (v)
                        qsort(v, n, sizeof(*v), in_use_cmp);
        }
        d->in_use = v;
        d->n_in_use = n;
        /* both sorted: the names that came, went or changed their reason */
        while (i < n_old || j < n) {
                int c = i == n_old ? 1 : j == n ? -1 : strcmp(old[i].name, v[j].name);
                const char *name = c < 0 ? old[i].name : v[j].name;
                char *path = NULL;
                if (c != 0 || strcmp(old[i].reason, v[j].reason) != 0) {
                        hd_device *dev;
                        /* a device gone from the tree has no object left */
                        if (hd_nodedev_list_lookup(d->list, name, &dev) >= 0 &&
                            sd_bus_path_encode(DEVICES_PATH, name, &path) >= 0 && d->bus)
                                (void) sd_bus_emit_properties_changed(d->bus, path, DEVICE_IFACE, "InUse", NULL);
                        free(path);
                }
                if (c <= 0)
                        i++;
                if (c >= 0)
                        j++;
        }
        in_use_free(old, n_old);
}

void in_use_clear(struct daemon *d) {
        in_use_free(d->in_use, d->n_in_use);
        d->in_use = NULL;
        d->n_in_use = 0;
}

int device_property_in_use(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        struct daemon *d = userdata;
        struct in_use key = {}, *hit = NULL;
        hd_device *dev = device_of_path(d, path);

        if (!dev)
                return sd_bus_error_setf(error, ERROR_NOT_FOUND, "no node device at %s", path);
        key.name = (char *) hd_device_get_name(dev);
        if (d->in_use)
                hit = bsearch(&key, d->in_use, d->n_in_use, sizeof(*d->in_use), in_use_cmp);
        return sd_bus_message_append(reply, "s", hit ? hit->reason : "");
}
