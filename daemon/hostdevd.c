/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdevd: libhostdev as a D-Bus service (docs/dbus.md, hostdevd(8)).
 * A front end like hostdevctl: it parses what a caller sends, calls one
 * library operation and sends back the library's rendering; no sysfs
 * logic and no policy live here.  The node-device tree is enumerated once
 * and kept: updated by each uevent (live host, hd_nodedev_list_update),
 * rebuilt when an event cannot be placed or events were lost, on Rescan()
 * or SIGHUP (--sysroot trees), and around a host-changing method (on the
 * live host only the devices the method plans on are read again, after
 * the queued uevents: tree_for_write(), tree_after_write()); the mdev
 * definitions another program changed are read again per parent
 * (daemon/defs-watch.c, tree_update_defined_mdevs()); each rebuild is
 * compared with the one before, and each update tells what it touched:
 * announced as DeviceAdded, DeviceRemoved and DeviceChanged signals.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <libudev.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "hostdev/listing.h"
#include "hostdevd.h"
#include "methods-gpu.h"
#include "methods-reads.h"
#include "methods-sriov-mdev.h"

#ifndef HOSTDEV_VERSION
#define HOSTDEV_VERSION "unknown"
#endif

/* longest device name a method takes (a /sys path at most) */
#define MAX_NAME_LEN PATH_MAX

static int arg_log_level = 4;   /* warnings */

static void log_fn(void *userdata, int level, const char *file, int line, const char *fn, const char *format,
                   va_list args) {
        /* "<N>" is the syslog level the journal reads from stderr */
        fprintf(stderr, "<%d>", level);
        vfprintf(stderr, format, args);
        fputc('\n', stderr);
}

static void logf_(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(int level, const char *fmt, ...) {
        va_list ap;
        if (level > arg_log_level)
                return;
        va_start(ap, fmt);
        log_fn(NULL, level, NULL, 0, NULL, fmt, ap);
        va_end(ap);
}

/* the daemon's log function, for a method that captures the library's
 * log a while (daemon/methods-apply.c, daemon/call-log.c) and passes it
 * on: at the daemon's own level (a caller's -v raises the context's for
 * its call) */
void daemon_log_fn(void *userdata, int level, const char *file, int line, const char *fn, const char *format,
                   va_list args) {
        if (level > arg_log_level)
                return;
        log_fn(userdata, level, file, line, fn, format, args);
}

/* the same for daemon/methods-apply.c */
void daemon_logf(int level, const char *fmt, ...) {
        va_list ap;
        if (level > arg_log_level)
                return;
        va_start(ap, fmt);
        log_fn(NULL, level, NULL, 0, NULL, fmt, ap);
        va_end(ap);
}

/* ---- the cached tree and its change signals ---- */

static void snap_free_one(struct dev_snap *e) {
        if (e->json_owned)
                free(e->json);
        free(e->name);
        free(e->driver);
        free(e->parent);
}

static void snap_free(struct dev_snap *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                snap_free_one(&s[i]);
        free(s);
}

static int snap_cmp(const void *a, const void *b) {
        return strcmp(((const struct dev_snap *) a)->name, ((const struct dev_snap *) b)->name);
}

static char *strdup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static int snap_group(hd_device *dev) {
        return hd_device_get_cap_type(dev) == HD_CAP_PCI ? hd_device_get_iommu_group(dev) : -1;
}

static size_t snap_find(struct daemon *d, const char *name, bool *found);

static int snapshot(hd_nodedev_list *list, struct dev_snap **ret, size_t *ret_n) {
        size_t n = hd_nodedev_list_count(list);
        struct dev_snap *s = calloc(n ? n : 1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                hd_device *dev = hd_nodedev_list_get(list, i), *p = hd_device_get_parent(dev);
                s[i].name = strdup(hd_device_get_name(dev));
                s[i].driver = strdup_or_null(hd_device_get_driver(dev));
                s[i].parent = strdup_or_null(p ? hd_device_get_name(p) : NULL);
                if (!s[i].name) {
                        snap_free(s, n);
                        return -ENOMEM;
                }
                /* not VPD: it cannot change while the device exists, and
                 * parsing every device's is half the cost of a rebuild */
                for (int c = 0; c < _HD_CAP_MAX && c < 64; c++)
                        if (c != HD_CAP_VPD && hd_device_has_cap(dev, (enum hd_cap_type) c))
                                s[i].caps |= 1ULL << c;
                s[i].group = snap_group(dev);
        }
        qsort(s, n, sizeof(*s), snap_cmp);
        *ret = s;
        *ret_n = n;
        return 0;
}

static bool streq_(const char *a, const char *b) { return strcmp(a, b) == 0; }
static bool streq_ptr_(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

/* A change: the manager's signal, and the device object's
 * InterfacesAdded, InterfacesRemoved or PropertiesChanged. */
static void emit(struct daemon *d, const char *member, const char *name) {
        char *path = NULL;
        int r = sd_bus_emit_signal(d->bus, MANAGER_PATH, MANAGER_IFACE, member, "s", name);
        if (r < 0)
                logf_(3, "cannot emit %s(%s): %s", member, name, strerror(-r));
        if (sd_bus_path_encode(DEVICES_PATH, name, &path) < 0)
                return;
        if (streq_(member, "DeviceAdded"))
                r = sd_bus_emit_interfaces_added(d->bus, path, DEVICE_IFACE, NULL);
        else if (streq_(member, "DeviceRemoved"))
                r = sd_bus_emit_interfaces_removed(d->bus, path, DEVICE_IFACE, NULL);
        else
                r = sd_bus_emit_properties_changed(d->bus, path, DEVICE_IFACE, "Parent", "Capability", "Driver",
                                                   "IommuGroup", "IommuGroupViable", NULL);
        if (r < 0)
                logf_(4, "cannot announce the change of %s: %s", path, strerror(-r));
        free(path);
}

/* both sorted by name: a merge walk; the devices added are marked in @b */
static void emit_diff(struct daemon *d, const struct dev_snap *a, size_t na, struct dev_snap *b, size_t nb) {
        size_t i = 0, j = 0;
        while (i < na || j < nb) {
                int c = i == na ? 1 : j == nb ? -1 : strcmp(a[i].name, b[j].name);
                if (c < 0)
                        emit(d, "DeviceRemoved", a[i++].name);
                else if (c > 0) {
                        b[j].added = true;
                        emit(d, "DeviceAdded", b[j++].name);
                } else {
                        if (!streq_ptr_(a[i].driver, b[j].driver) || !streq_ptr_(a[i].parent, b[j].parent) ||
                            a[i].caps != b[j].caps)
                                emit(d, "DeviceChanged", b[j].name);
                        /* hotplug apply (daemon/methods-apply.c): a device bound to a driver
                         * after it appeared is applied again, now that a PF can take a VF
                         * count and a parent offers its mdev types */
                        if (!a[i].driver && b[j].driver)
                                b[j].added = true;
                        i++;
                        j++;
                }
        }
}

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

/* Hotplug apply: the persisted configuration of every device the last
 * rebuild found new (apply_persisted(), daemon/methods-apply.c: its
 * driver override, its SR-IOV state, its auto-start mdevs; identity
 * checked), announced as PersistedConfigApplied(name, result JSON) and
 * logged, drift (a refusal) as a warning.  Returns whether something
 * changed. */
static bool apply_added_once(struct daemon *d) {
        bool changed = false;

        for (size_t i = 0; i < d->n_snap; i++) {
                hd_device *dev;
                if (d->snap[i].added && hd_nodedev_list_lookup(d->list, d->snap[i].name, &dev) >= 0 &&
                    apply_persisted(d, dev))
                        changed = true;
        }
        return changed;
}

/* After a change the tree is read again (its signals: DeviceChanged);
 * devices that appeared meanwhile are new in that tree and applied in
 * the next round. */
static void apply_added(struct daemon *d) {
        if (d->applying)
                return;
        d->applying = true;
        for (unsigned round = 0; round < 8 && apply_added_once(d); round++)
                (void) rebuild(d);
        d->applying = false;
}

/* Enumerate again; announce the difference unless it is the first tree,
 * and apply what is persisted for the devices that appeared. */
int rebuild(struct daemon *d) {
        /* the daemon's own work: not a caller's log lines (call-log.c) */
        __attribute__((cleanup(call_log_unpausep))) struct daemon *paused = call_log_pause(d);
        hd_nodedev_list *list = NULL;
        struct dev_snap *s = NULL, *old;
        size_t n = 0, n_old;
        double t0 = now_ms(), t1;
        int r;

        /* the definition changes queued so far: this enumeration reads
         * them (a method's own write causes no second one) */
        defs_watch_absorb(d);
        r = hd_nodedev_list_new(d->ctx, &list);
        if (r < 0) {
                logf_(3, "cannot enumerate devices%s%s: %s", d->sysroot ? " of " : "", d->sysroot ?: "", strerror(-r));
                return r;
        }
        /* defined mdevs, as nodedev-dumpxml sees them (ListDevices shows
         * the active devices only, as nodedev-list) */
        r = hd_nodedev_list_add_defined_mdevs(list);
        if (r < 0)
                logf_(4, "cannot read mdev definitions: %s", strerror(-r));
        t1 = now_ms();
        r = snapshot(list, &s, &n);
        if (r < 0) {
                hd_nodedev_list_unref(list);
                return r;
        }
        /* the new tree in place first: the signals of the device objects
         * carry their new properties */
        old = d->snap;
        n_old = d->n_snap;
        d->snap = s;
        d->n_snap = n;
        hd_nodedev_list_unref(d->list);
        d->list = list;
        d->frags_ready = false;
        free(d->iommu_json);
        d->iommu_json = NULL;
        if (d->generation > 0)
                emit_diff(d, old, n_old, s, n);
        snap_free(old, n_old);
        free(d->frag_block);
        d->frag_block = NULL;
        in_use_refresh(d);      /* daemon/methods-boot.c */
        /* the old tree and the enumeration's scratch: back to the system */
        malloc_trim(0);
        d->generation++;
        logf_(7, "tree rebuilt: %zu devices (generation %llu): enumerated in %.1f ms, compared in %.1f ms", n,
              d->generation, t1 - t0, now_ms() - t1);
        if (d->generation > 1)
                apply_added(d);
        return 0;
}

/* ---- errors as the CLI words them ---- */

static int reply_lookup_error(sd_bus_message *m, int r, const char *name) {
        switch (r) {
        case -ENODEV:
                return sd_bus_reply_method_errorf(m, ERROR_NOT_FOUND, "no node device matches '%s'", name);
        case -EDOM:
                return sd_bus_reply_method_errorf(
                        m, ERROR_INVALID,
                        "'%s' is not a PCI address ([[DOMAIN:]BUS:]SLOT.FUNC in hex, slot 00-1f, function 0-7)", name);
        case -ENOTUNIQ:
                return sd_bus_reply_method_errorf(m, ERROR_INVALID,
                                                  "'%s' matches several mediated devices; use the full node-device name",
                                                  name);
        case -EINVAL:
                return sd_bus_reply_method_errorf(
                        m, ERROR_INVALID, "'%s' is not a valid device name, PCI address, interface, mdev UUID or /sys path",
                        name);
        default:
                return sd_bus_reply_method_errorf(m, ERROR_FAILED, "lookup of '%s' failed: %s", name, strerror(-r));
        }
}

int lookup(struct daemon *d, sd_bus_message *m, const char *name, hd_device **ret) {
        int r;
        if (strlen(name) > MAX_NAME_LEN) {
                sd_bus_reply_method_errorf(m, ERROR_INVALID, "device name too long (%zu bytes; at most %d)", strlen(name),
                                           MAX_NAME_LEN);
                return -EINVAL;
        }
        if (!*name) {
                sd_bus_reply_method_errorf(m, ERROR_INVALID, "empty device name");
                return -EINVAL;
        }
        r = hd_nodedev_list_lookup(d->list, name, ret);
        if (r < 0)
                reply_lookup_error(m, r, name);
        return r;
}

static int reply_text(sd_bus_message *m, char *text) {
        if (!text)
                return -ENOMEM;
        return sd_bus_reply_method_return(m, "s", text);
}

/* ---- read methods: answered from the cache ---- */

static bool is_active(hd_device *dev, void *userdata) { return hd_device_is_active(dev); }

/* ListDevices is answered from one rendered fragment per device, kept in
 * the snapshot (dev_snap.json: the device's object as it stands, indented,
 * in nodedev-list --json's array): a full rendering once per enumerated
 * tree, then only the devices an event touched are rendered again, and
 * the reply is the fragments copied straight into the message.  The
 * ListIommuGroups answer is made once per change. */
static bool is_one(hd_device *dev, void *userdata) { return dev == userdata; }

/* @o's text as it stands in a pretty array: two more spaces a line */
static int fragment(json_object *o, char **ret, size_t *ret_len) {
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        size_t lines = 1, n = 0;
        char *f;

        if (!s)
                return -ENOMEM;
        for (const char *p = s; *p; p++)
                lines += *p == '\n';
        f = malloc(strlen(s) + 2 * lines + 1);
        if (!f)
                return -ENOMEM;
        f[n++] = ' ';
        f[n++] = ' ';
        for (const char *p = s; *p; p++) {
                f[n++] = *p;
                if (*p == '\n') {
                        f[n++] = ' ';
                        f[n++] = ' ';
                }
        }
        f[n] = 0;
        *ret = f;
        *ret_len = n;
        return 0;
}

static void frag_clear(struct dev_snap *e);

static void frag_set(struct dev_snap *e, hd_device *dev, json_object *o) {
        frag_clear(e);
        if (!hd_device_is_active(dev)) {
                e->listed = -1;
                return;
        }
        if (fragment(o, &e->json, &e->json_len) < 0)
                return;         /* out of memory: again next time */
        e->json_owned = true;
        e->listed = 1;
}

static void frag_clear(struct dev_snap *e) {
        if (e->json_owned)
                free(e->json);
        e->json = NULL;
        e->json_len = 0;
        e->json_owned = false;
        e->listed = 0;
}

/* every device's fragment, from one rendering of the whole list: the
 * fragments lie in that one text (d->frag_block), cut where json-c ends an
 * element of the array ("\n  }": the objects are flat, and a newline
 * inside a string is escaped), so the heap keeps no thousands of small
 * blocks between the freed json-c objects */
static int frags_render_all(struct daemon *d) {
        json_object *a = NULL;
        size_t n = hd_nodedev_list_count(d->list);
        char *text = NULL, *p;
        int r;

        if (n != d->n_snap)
                return -ESTALE;
        r = hd_nodedev_list_to_json(d->list, is_active, NULL, &a);
        if (r >= 0)
                r = hd_json_to_text(a, &text);
        json_object_put(a);
        malloc_trim(0);
        if (r < 0)
                return r;
        if (strncmp(text, "[\n", 2) != 0) {
                free(text);
                return -EBADMSG;
        }
        for (size_t i = 0; i < n; i++)
                frag_clear(&d->snap[i]);
        free(d->frag_block);
        d->frag_block = text;
        p = text + 2;
        for (size_t i = 0; i < n; i++) {
                hd_device *dev = hd_nodedev_list_get(d->list, i);
                char *end;

                if (!streq_(hd_device_get_name(dev), d->snap[i].name))
                        return -ESTALE;
                if (!hd_device_is_active(dev)) {
                        d->snap[i].listed = -1;
                        continue;
                }
                end = strstr(p, "\n  }");
                if (!end || strncmp(p, "  {", 3) != 0)
                        return -EBADMSG;
                end += 4;
                d->snap[i].json = p;
                d->snap[i].json_len = (size_t) (end - p);
                d->snap[i].listed = 1;
                p = end + 2;    /* ",\n", or "\n]" after the last */
        }
        d->frags_ready = true;
        return 0;
}

/* the fragments the events left out of date */
static int frags_render_dirty(struct daemon *d) {
        size_t n = hd_nodedev_list_count(d->list);

        if (n != d->n_snap)
                return -ESTALE;
        for (size_t i = 0; i < n; i++) {
                hd_device *dev = hd_nodedev_list_get(d->list, i);
                json_object *a = NULL;
                int r;

                if (!streq_(hd_device_get_name(dev), d->snap[i].name))
                        return -ESTALE;
                if (d->snap[i].listed != 0)
                        continue;
                if (!hd_device_is_active(dev)) {
                        frag_set(&d->snap[i], dev, NULL);
                        continue;
                }
                r = hd_nodedev_list_to_json(d->list, is_one, dev, &a);
                if (r < 0)
                        return r;
                if (json_object_array_length(a) == 1)
                        frag_set(&d->snap[i], dev, json_object_array_get_idx(a, 0));
                json_object_put(a);
        }
        return 0;
}

/* an event changed what @name's object shows: rendered again when asked */
static void frag_dirty(struct daemon *d, const char *name) {
        bool found;
        size_t i = snap_find(d, name, &found);
        if (found)
                frag_clear(&d->snap[i]);
}

static int reply_list(sd_bus_message *m, struct daemon *d) {
        sd_bus_message *reply = NULL;
        double t0 = now_ms();
        size_t total = 0, k = 0;
        char *p;
        int r;

        r = d->frags_ready ? frags_render_dirty(d) : -ESTALE;
        if (r == -ESTALE)
                r = frags_render_all(d);
        if (r < 0)
                return sd_bus_reply_method_errorf(m, ERROR_FAILED, "nodedev-list: %s", strerror(-r));
        for (size_t i = 0; i < d->n_snap; i++)
                if (d->snap[i].listed > 0) {
                        total += d->snap[i].json_len + (k ? 2 : 0);
                        k++;
                }
        /* json-c's array: "[\n" ITEM ",\n" ITEM ... "\n]"; "[\n]" when empty */
        total += k ? 4 : 3;
        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_append_string_space(reply, total, &p);
        if (r < 0) {
                sd_bus_message_unref(reply);
                return r;
        }
        memcpy(p, "[\n", 2);
        p += 2;
        k = 0;
        for (size_t i = 0; i < d->n_snap; i++)
                if (d->snap[i].listed > 0) {
                        if (k++) {
                                memcpy(p, ",\n", 2);
                                p += 2;
                        }
                        memcpy(p, d->snap[i].json, d->snap[i].json_len);
                        p += d->snap[i].json_len;
                }
        memcpy(p, k ? "\n]" : "]", k ? 2 : 1);
        logf_(7, "nodedev-list: answer of %zu bytes made in %.2f ms", total, now_ms() - t0);
        r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        return r;
}

static int build_iommu_json(struct daemon *d, json_object **ret) {
        return hd_iommu_to_json(d->list, ret);
}

static int reply_cached_json(sd_bus_message *m, struct daemon *d, char **cache,
                             int (*build)(struct daemon *d, json_object **ret), const char *what) {
        if (!*cache) {
                json_object *o = NULL;
                double t0 = now_ms();
                int r = build(d, &o);
                if (r >= 0)
                        r = hd_json_to_text(o, cache);
                json_object_put(o);
                /* the tree of small json-c objects is gone: its pages go
                 * back to the system, not kept for the next rendering */
                malloc_trim(0);
                if (r < 0)
                        return sd_bus_reply_method_errorf(m, ERROR_FAILED, "%s: %s", what, strerror(-r));
                logf_(7, "%s: answer made in %.1f ms (%zu bytes)", what, now_ms() - t0, strlen(*cache));
        }
        return sd_bus_reply_method_return(m, "s", *cache);
}

static int method_list_devices(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct daemon *d = userdata;
        const char *filter;
        int r;

        r = sd_bus_message_read(m, "s", &filter);
        if (r < 0)
                return r;
        /* nodedev-list's filter options (daemon/methods-boot.c) */
        if (*filter && strcmp(filter, "{}") != 0)
                return list_devices_filtered(d, m, filter);
        return reply_list(m, d);
}

/* The device a method's first argument names: 1 found; 0 when not (the
 * NotFound error is the reply); <0 a malformed message. */
static int read_device(struct daemon *d, sd_bus_message *m, hd_device **ret) {
        const char *name;
        int r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        return lookup(d, m, name, ret) < 0 ? 0 : 1;
}

static int method_get_device_object(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct daemon *d = userdata;
        char *path = NULL;
        hd_device *dev;
        int r = read_device(d, m, &dev);

        if (r <= 0)
                return r;
        r = sd_bus_path_encode(DEVICES_PATH, hd_device_get_name(dev), &path);
        if (r < 0)
                return r;
        r = sd_bus_reply_method_return(m, "o", path);
        free(path);
        return r;
}

static int method_list_iommu_groups(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct daemon *d = userdata;

        return reply_cached_json(m, d, &d->iommu_json, build_iommu_json, "iommu");
}

static int method_get_device(sd_bus_message *m, void *userdata, bool xml) {
        struct daemon *d = userdata;
        char *out = NULL;
        hd_device *dev;
        int r = read_device(d, m, &dev);

        if (r <= 0)
                return r;
        r = xml ? hd_device_format_xml(dev, &out) : hd_device_format_json(dev, &out);
        if (r < 0)
                return sd_bus_reply_method_errorf(m, ERROR_FAILED, xml ? "%s: cannot format XML: %s" : "%s: %s",
                                                  hd_device_get_name(dev), strerror(-r));
        r = reply_text(m, out);
        free(out);
        return r;
}

static int method_get_device_xml(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return method_get_device(m, userdata, true);
}
static int method_get_device_json(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return method_get_device(m, userdata, false);
}

/* ---- host-changing methods ---- */

enum {
        FLAG_GROUP = 1 << 0,    /* HD_VFIO_GROUP */
        FLAG_DRY_RUN = 1 << 1,  /* HD_VFIO_DRY_RUN */
        FLAG_FORCE = 1 << 2,    /* HD_VFIO_FORCE */
        FLAGS_ALL = FLAG_GROUP | FLAG_DRY_RUN | FLAG_FORCE,
};

/* The result as the reply (its JSON), or as the error hostdevctl would
 * print (Refused, Failed) with the JSON as a second argument. */
/* The error @name with @msg, and @res's JSON document as its second
 * argument (as Detach's refusals carry theirs). */
int reply_result_error(sd_bus_message *m, const char *name, const char *msg, const hd_result *res) {
        sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        json_object *o = NULL;
        char *text = NULL;
        int r;

        r = hd_result_to_json(res, &o);
        if (r >= 0)
                r = hd_json_to_text(o, &text);
        json_object_put(o);
        if (r < 0)
                return r;
        sd_bus_error_set(&e, name, msg);
        r = sd_bus_message_new_method_error(m, &reply, &e);
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", text);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        sd_bus_error_free(&e);
        free(text);
        return r;
}

int reply_result(sd_bus_message *m, const char *verb, const hd_result *res) {
        int st = hd_result_get_status(res), r;
        const char *why = hd_result_get_reason(res);
        char *msg = NULL;

        if (st >= 0) {
                json_object *o = NULL;
                char *text = NULL;
                r = hd_result_to_json(res, &o);
                if (r >= 0)
                        r = hd_json_to_text(o, &text);
                json_object_put(o);
                if (r >= 0)
                        r = sd_bus_reply_method_return(m, "s", text);
                free(text);
                return r;
        }
        if (asprintf(&msg, "%s %s: %s", verb, st == -EBUSY ? "refused" : "failed", why ?: "") < 0)
                return -ENOMEM;
        r = reply_result_error(m, st == -EBUSY ? ERROR_REFUSED : ERROR_FAILED, msg, res);
        free(msg);
        return r;
}

int reply_busy(struct daemon *d, sd_bus_message *m, const char *verb) {
        daemon_logf(4, "%s: %s", verb, hd_ctx_get_error(d->ctx) ?: strerror(ETIMEDOUT));
        return sd_bus_reply_method_errorf(m, ERROR_BUSY, "%s: %s", verb, hd_ctx_get_error(d->ctx) ?: strerror(ETIMEDOUT));
}

/* The in-use question of the next operation: libvirt (the default URI,
 * only where a libvirt daemon listens) is asked once per operation, so a
 * domain started since the last call is seen. */
int ask_libvirt(struct daemon *d) {
        /* on a --sysroot tree without --connect the library does not ask
         * (and says so in the words hostdevctl's -v shows) */
        return hd_domain_usage_install_lazy(d->ctx, d->connect);
}

/* Before an operation on the device @name: libvirt is asked afresh
 * whether a running guest holds a device, as hostdevctl does (on a sysroot
 * libvirt is not asked), and the operation plans on the tree as it is now.
 * 1 with *ret; 0 when the reply (an error) has been sent; <0 failed. */
int prepare_write(struct daemon *d, sd_bus_message *m, const char *name, hd_device **ret) {
        int r = tree_for_write(d, &name, 1);

        if (r < 0)
                return sd_bus_reply_method_errorf(m, ERROR_FAILED, "cannot enumerate devices: %s", strerror(-r));
        /* after the tree (whose rebuild asks for InUse): the operation's
         * own question, asked when it needs the answer (and logged then,
         * as hostdevctl's is) */
        r = ask_libvirt(d);
        if (r < 0)
                return r;
        return lookup(d, m, name, ret) < 0 ? 0 : 1;
}

static void names_freep(char ***p) {
        for (char **s = *p; s && *s; s++)
                free(*s);
        free(*p);
}
static void devs_freep(hd_device ***p) { free(*p); }

/* Detach, Reattach (s name) and DetachDevices, ReattachDevices (as
 * names: one transaction, as `hostdevctl nodedev-detach A B ...`) */
static int detach_reattach(struct daemon *d, sd_bus_message *m, bool detach, bool many) {
        const char *verb = detach ? "nodedev-detach" : "nodedev-reattach";
        const char *name = NULL, *drv = "", *driver = "vfio-pci";
        __attribute__((cleanup(names_freep))) char **names = NULL;
        __attribute__((cleanup(devs_freep))) hd_device **devs = NULL;
        hd_result *res = NULL;
        uint64_t flags;
        size_t n = 0;
        int r;

        r = many ? sd_bus_message_read_strv(m, &names) : sd_bus_message_read(m, "s", &name);
        if (r >= 0)
                r = detach ? sd_bus_message_read(m, "st", &drv, &flags) : sd_bus_message_read(m, "t", &flags);
        if (r < 0)
                return r;
        flags &= ~FLAG_LOG_INFO;        /* the caller's -v: daemon/call-log.c */
        if (flags & ~(uint64_t) FLAGS_ALL)
                return sd_bus_reply_method_errorf(m, ERROR_INVALID, "%s: unknown flags 0x%llx", verb,
                                                  (unsigned long long) (flags & ~(uint64_t) FLAGS_ALL));
        if (*drv && !(driver = hd_driver_from_alias(drv, 0)))
                return sd_bus_reply_method_errorf(m, ERROR_INVALID, "%s: unknown driver '%.64s' (vfio or stub)", verb, drv);
        if (many) {
                while (names && names[n])
                        n++;
                if (n == 0)
                        return sd_bus_reply_method_errorf(m, ERROR_INVALID, "%s: expected at least one device", verb);
        } else
                n = 1;
        devs = calloc(n, sizeof(*devs));
        if (!devs)
                return -ENOMEM;
        /* the first name plans on the tree as it is now; each is looked up
         * in turn, the first unknown one answered as the CLI does */
        r = tree_for_write(d, many ? (const char *const *) names : &name, n);
        if (r < 0)
                return sd_bus_reply_method_errorf(m, ERROR_FAILED, "cannot enumerate devices: %s", strerror(-r));
        /* after the tree, as prepare_write() */
        r = ask_libvirt(d);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (lookup(d, m, many ? names[i] : name, &devs[i]) < 0)
                        return 0;
        r = detach ? hd_vfio_detach_devices(d->list, devs, n, driver, (unsigned) flags, &res)
                   : hd_vfio_reattach_devices(d->list, devs, n, (unsigned) flags, &res);
        /* the library words the failure (the context's error), as
         * hostdevctl prints it */
        if (r == -ETIMEDOUT)
                r = reply_busy(d, m, verb);
        else if (r < 0 && hd_ctx_get_error(d->ctx))
                r = sd_bus_reply_method_errorf(m, r == -EINVAL ? ERROR_INVALID : ERROR_FAILED, "%s %s", verb,
                                               hd_ctx_get_error(d->ctx));
        else if (r < 0)
                r = sd_bus_reply_method_errorf(m, r == -EINVAL ? ERROR_INVALID : ERROR_FAILED, "%s %s%s: %s", verb,
                                               hd_device_get_name(devs[0]), n > 1 ? " ..." : "", strerror(-r));
        else
                r = reply_result(m, verb, res);
        hd_result_unref(res);
        if (!(flags & FLAG_DRY_RUN))
                tree_after_write(d, many ? (const char *const *) names : &name, n);
        return r;
}

static int do_detach(struct daemon *d, sd_bus_message *m) { return detach_reattach(d, m, true, false); }
static int do_reattach(struct daemon *d, sd_bus_message *m) { return detach_reattach(d, m, false, false); }
static int do_detach_devices(struct daemon *d, sd_bus_message *m) { return detach_reattach(d, m, true, true); }
static int do_reattach_devices(struct daemon *d, sd_bus_message *m) { return detach_reattach(d, m, false, true); }

/* hostdevctl recover: finish or undo a transaction a crash interrupted */
static int do_recover(struct daemon *d, sd_bus_message *m) {
        hd_result *res = NULL;
        int r;

        r = ask_libvirt(d);
        if (r < 0)
                return r;
        r = hd_vfio_recover(d->ctx, &res);
        if (r == -ETIMEDOUT)
                return reply_busy(d, m, "recover");
        if (r < 0)
                return sd_bus_reply_method_errorf(m, ERROR_FAILED, "recover: %s", strerror(-r));
        r = reply_result(m, "recover", res);
        hd_result_unref(res);
        /* the devices of the journal: the events of their binds */
        tree_after_write(d, NULL, 0);
        return r;
}

/* RecoverWithFlags(t flags): Recover, with the flags that carry the
 * caller's -v (FLAG_LOG_INFO: daemon/call-log.c; no other bit) */
static int do_recover_with_flags(struct daemon *d, sd_bus_message *m) {
        uint64_t flags;
        int r = sd_bus_message_read(m, "t", &flags);

        if (r < 0)
                return r;
        flags &= ~FLAG_LOG_INFO;
        if (flags)
                return sd_bus_reply_method_errorf(m, ERROR_INVALID, "recover: unknown flags 0x%llx", (unsigned long long) flags);
        return do_recover(d, m);
}

static int do_rescan(struct daemon *d, sd_bus_message *m) {
        int r = rebuild(d);
        if (r < 0)
                return sd_bus_reply_method_errorf(m, ERROR_FAILED, "cannot enumerate devices: %s", strerror(-r));
        return sd_bus_reply_method_return(m, "");
}

static int method_detach(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.detach", do_detach);
}
static int method_reattach(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.reattach", do_reattach);
}
static int method_detach_devices(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.detach", do_detach_devices);
}
static int method_reattach_devices(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.reattach", do_reattach_devices);
}
static int method_recover(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.recover", do_recover);
}
static int method_recover_with_flags(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.recover", do_recover_with_flags);
}
static int method_rescan(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.rescan", do_rescan);
}

static int property_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", HOSTDEV_VERSION);
}

/* The tree it serves ("" the live host; a --sysroot resolved) and its
 * state directory: hostdevctl goes through the daemon only when they are
 * its own (tools/bus.c). */
static int property_sysroot(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        struct daemon *d = userdata;
        char *real = d->sysroot ? realpath(d->sysroot, NULL) : NULL;
        int r = sd_bus_message_append(reply, "s", real ?: d->sysroot ?: "");
        free(real);
        return r;
}

static int property_state_dir(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        struct daemon *d = userdata;
        return sd_bus_message_append(reply, "s", hd_ctx_get_state_dir(d->ctx) ?: "");
}

/* The directories of the persisted configuration its methods read and
 * write, as the library chooses them in its environment
 * (hd_sriov_config_dir: $HOSTDEV_CONFIG_DIR; hd_mdev_config_dir:
 * $HOSTDEV_MDEVCTL_DIR; else under its --sysroot): hostdevctl goes
 * through the daemon with a verb that uses one only when it is its own
 * (tools/bus.c).  "" when the library refuses it (a relative variable). */
static int property_config_dirs(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        struct daemon *d = userdata;
        char *dir = NULL;
        int r;

        if (strcmp(property, "ConfigDir") == 0)
                r = hd_sriov_config_dir(d->ctx, &dir);
        else
                r = hd_mdev_config_dir(d->ctx, &dir);
        if (r == -ENOMEM)
                return r;
        r = sd_bus_message_append(reply, "s", r < 0 ? "" : dir);
        free(dir);
        return r;
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Sysroot", "s", property_sysroot, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StateDir", "s", property_state_dir, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ConfigDir", "s", property_config_dirs, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("MdevctlDir", "s", property_config_dirs, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_NAMES("ListDevices", "s", SD_BUS_PARAM(filter), "s", SD_BUS_PARAM(json), method_list_devices,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("GetDeviceXML", "s", SD_BUS_PARAM(name), "s", SD_BUS_PARAM(xml), method_get_device_xml,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("GetDevice", "s", SD_BUS_PARAM(name), "s", SD_BUS_PARAM(json), method_get_device_json,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("GetDeviceObject", "s", SD_BUS_PARAM(name), "o", SD_BUS_PARAM(object),
                                 method_get_device_object, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ListIommuGroups", "", , "s", SD_BUS_PARAM(json), method_list_iommu_groups,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Detach", "sst", SD_BUS_PARAM(name) SD_BUS_PARAM(driver) SD_BUS_PARAM(flags), "s",
                                 SD_BUS_PARAM(result), method_detach, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Reattach", "st", SD_BUS_PARAM(name) SD_BUS_PARAM(flags), "s", SD_BUS_PARAM(result),
                                 method_reattach, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("DetachDevices", "asst", SD_BUS_PARAM(names) SD_BUS_PARAM(driver) SD_BUS_PARAM(flags),
                                 "s", SD_BUS_PARAM(result), method_detach_devices, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ReattachDevices", "ast", SD_BUS_PARAM(names) SD_BUS_PARAM(flags), "s",
                                 SD_BUS_PARAM(result), method_reattach_devices, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Recover", "", , "s", SD_BUS_PARAM(result), method_recover, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Rescan", "", "", method_rescan, SD_BUS_VTABLE_UNPRIVILEGED),
        METHODS_VTABLE,         /* daemon/methods.c */
        APPLY_VTABLE,           /* daemon/methods-apply.c */
        SRIOV_MDEV_VTABLE,      /* daemon/methods-sriov-mdev.c */
        BOOT_METHODS_VTABLE,    /* daemon/methods-boot.c */
        READS_VTABLE,           /* daemon/methods-reads.c */
        GPU_VTABLE,             /* daemon/methods-gpu.c */
        SD_BUS_METHOD_WITH_NAMES("RecoverWithFlags", "t", SD_BUS_PARAM(flags), "s", SD_BUS_PARAM(result),
                                 method_recover_with_flags, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_NAMES("DeviceAdded", "s", SD_BUS_PARAM(name), 0),
        SD_BUS_SIGNAL_WITH_NAMES("DeviceRemoved", "s", SD_BUS_PARAM(name), 0),
        SD_BUS_SIGNAL_WITH_NAMES("DeviceChanged", "s", SD_BUS_PARAM(name), 0),
        SD_BUS_SIGNAL_WITH_NAMES("PersistedConfigApplied", "ss", SD_BUS_PARAM(name) SD_BUS_PARAM(result), 0),
        LOG_SIGNAL_VTABLE,      /* daemon/call-log.c */
        SD_BUS_VTABLE_END
};

/* ---- one object per device: DEVICES_PATH/<name, escaped> ---- */

/* the device of an object path, from the cached tree */
hd_device *device_of_path(struct daemon *d, const char *path) {
        struct dev_snap key = {}, *s;
        hd_device *dev = NULL;
        char *name = NULL;

        if (sd_bus_path_decode(path, DEVICES_PATH, &name) <= 0)
                return NULL;
        /* only a name of the tree: no lookup by address, UUID or path here */
        key.name = name;
        s = bsearch(&key, d->snap, d->n_snap, sizeof(*d->snap), snap_cmp);
        if (s && hd_nodedev_list_lookup(d->list, s->name, &dev) < 0)
                dev = NULL;
        free(name);
        return dev;
}

static int device_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                       sd_bus_error *error) {
        if (!device_of_path(userdata, path))
                return 0;
        *found = userdata;      /* the getters find the device again */
        return 1;
}

static int device_enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***nodes, sd_bus_error *error) {
        struct daemon *d = userdata;
        char **l = calloc(d->n_snap + 1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < d->n_snap; i++)
                if (sd_bus_path_encode(DEVICES_PATH, d->snap[i].name, &l[i]) < 0) {
                        for (size_t k = 0; k < i; k++)
                                free(l[k]);
                        free(l);
                        return -ENOMEM;
                }
        *nodes = l;
        return 0;
}

/* the properties are nodedev-list's columns, rendered by the library
 * (hd_device_field_to_json): "" for none, -1 for no IOMMU group, false for
 * no viability */
static int device_property(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        static const struct {
                const char *property, *key;
        } keys[] = {
                { "Name", "name" },     { "Path", "path" },         { "Parent", "parent" },
                { "Capability", "capability" }, { "Driver", "driver" }, { "IommuGroup", "iommu_group" },
                { "IommuGroupViable", "iommu_group_viable" },
        };
        struct daemon *d = userdata;
        hd_device *dev = device_of_path(d, path);
        json_object *v = NULL;
        const char *key = NULL;
        int r;

        if (!dev)
                return sd_bus_error_setf(error, ERROR_NOT_FOUND, "no node device at %s", path);
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                if (streq_(keys[i].property, property))
                        key = keys[i].key;
        if (!key)
                return -ENOENT;
        r = hd_device_field_to_json(d->list, dev, key, &v);
        if (r < 0)
                return r;
        if (streq_(property, "IommuGroup"))
                r = sd_bus_message_append(reply, "i", v ? (int32_t) json_object_get_int(v) : -1);
        else if (streq_(property, "IommuGroupViable"))
                r = sd_bus_message_append(reply, "b", v ? (int) json_object_get_boolean(v) : 0);
        else
                r = sd_bus_message_append(reply, "s", v ? json_object_get_string(v) : "");
        json_object_put(v);
        return r;
}

static const sd_bus_vtable device_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", device_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Path", "s", device_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Parent", "s", device_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Capability", "s", device_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Driver", "s", device_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("IommuGroup", "i", device_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("IommuGroupViable", "b", device_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("InUse", "s", device_property_in_use, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END
};

/* ---- udev (live host) and signals ---- */

struct monitor {
        struct daemon *d;
        struct udev *udev;
        struct udev_monitor *mon;
};

/* ---- one event at a time (hd_nodedev_list_update) ---- */

/* the snapshot entry of @dev, made anew */
static int snap_fill(hd_device *dev, struct dev_snap *e) {
        hd_device *p = hd_device_get_parent(dev);
        struct dev_snap n = {};

        n.name = strdup(hd_device_get_name(dev));
        n.driver = strdup_or_null(hd_device_get_driver(dev));
        n.parent = strdup_or_null(p ? hd_device_get_name(p) : NULL);
        if (!n.name) {
                snap_free_one(&n);
                return -ENOMEM;
        }
        for (int c = 0; c < _HD_CAP_MAX && c < 64; c++)
                if (c != HD_CAP_VPD && hd_device_has_cap(dev, (enum hd_cap_type) c))
                        n.caps |= 1ULL << c;
        n.group = snap_group(dev);
        *e = n;
        return 0;
}

/* where @name is or would go in the sorted snapshot */
static size_t snap_find(struct daemon *d, const char *name, bool *found) {
        size_t lo = 0, hi = d->n_snap;
        *found = false;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(d->snap[mid].name, name);
                if (c == 0) {
                        *found = true;
                        return mid;
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

/* A device of IOMMU group @group came, went or changed driver: whether
 * the group is viable may have changed for its other members too (their
 * ListDevices objects are rendered again; with @announce, their
 * IommuGroupViable is announced). */
static void group_touched(struct daemon *d, int group, hd_device *dev, bool announce) {
        hd_device **members = NULL;
        size_t n = 0;

        if (group < 0 || hd_iommu_group_get_devices(d->list, (unsigned) group, &members, &n) < 0)
                return;
        for (size_t k = 0; k < n; k++) {
                char *path = NULL;
                if (members[k] == dev)
                        continue;
                frag_dirty(d, hd_device_get_name(members[k]));
                if (!announce || sd_bus_path_encode(DEVICES_PATH, hd_device_get_name(members[k]), &path) < 0)
                        continue;
                if (sd_bus_emit_properties_changed(d->bus, path, DEVICE_IFACE, "IommuGroupViable", NULL) < 0)
                        logf_(4, "cannot announce the change of %s", path);
                free(path);
        }
        free(members);
}

struct update {
        struct daemon *d;
        int error;              /* the snapshot could not follow: rebuild */
        unsigned changed;
        bool full;              /* an event or a device not placed: enumerate again */
        bool differs;           /* a device added, removed or with another snapshot */
        bool write;             /* a write's round (tree_for_write, tree_after_write) */
        double t0;
};

/* The library's news of one device: the snapshot follows, the signals go
 * out (the device object's properties read the updated tree). */
static void on_change(hd_nodedev_list *list, hd_device *dev, enum hd_nodedev_change what, void *userdata) {
        struct update *u = userdata;
        struct daemon *d = u->d;
        const char *name = hd_device_get_name(dev);
        struct dev_snap e;
        bool found;
        size_t i;
        int group;

        if (u->error)
                return;
        i = snap_find(d, name, &found);
        switch (what) {
        case HD_NODEDEV_REMOVED:
                if (!found)
                        return;
                emit(d, "DeviceRemoved", name);
                group = d->snap[i].group;
                snap_free_one(&d->snap[i]);
                memmove(d->snap + i, d->snap + i + 1, (d->n_snap - i - 1) * sizeof(*d->snap));
                d->n_snap--;
                u->changed++;
                u->differs = true;
                group_touched(d, group, dev, true);
                return;
        case HD_NODEDEV_ADDED: {
                struct dev_snap *v;
                if (found || snap_fill(dev, &e) < 0 ||
                    !(v = realloc(d->snap, (d->n_snap + 1) * sizeof(*d->snap)))) {
                        if (!found)
                                u->error = -ENOMEM;
                        return;
                }
                d->snap = v;
                memmove(d->snap + i + 1, d->snap + i, (d->n_snap - i) * sizeof(*d->snap));
                e.added = true;
                d->snap[i] = e;
                d->n_snap++;
                u->changed++;
                u->differs = true;
                emit(d, "DeviceAdded", name);
                /* the devices it took over from its parent: a new parent */
                for (size_t c = 0; c < hd_device_get_n_children(dev); c++)
                        frag_dirty(d, hd_device_get_name(hd_device_get_child(dev, c)));
                group_touched(d, e.group, dev, true);
                return;
        }
        case HD_NODEDEV_REFRESHED:
                if (!found || snap_fill(dev, &e) < 0) {
                        u->error = -ENOMEM;
                        return;
                }
                u->changed++;
                frag_dirty(d, name);
                if (streq_ptr_(e.driver, d->snap[i].driver) && streq_ptr_(e.parent, d->snap[i].parent) &&
                    e.caps == d->snap[i].caps && e.group == d->snap[i].group) {
                        snap_free_one(&e);
                        return;
                }
                /* hotplug apply, as emit_diff(): a device bound to a driver
                 * after it appeared is applied again */
                e.added = d->snap[i].added || (!d->snap[i].driver && e.driver);
                if (!streq_ptr_(e.driver, d->snap[i].driver) || e.group != d->snap[i].group) {
                        group_touched(d, e.group, dev, true);
                        if (d->snap[i].group != e.group)
                                group_touched(d, d->snap[i].group, dev, true);
                }
                snap_free_one(&d->snap[i]);
                d->snap[i] = e;
                u->differs = true;
                emit(d, "DeviceChanged", name);
                return;
        }
}

/* One uevent into the tree: 0 done, <0 the tree must be enumerated again. */
static int apply_event(struct daemon *d, struct udev_device *dev, struct update *u) {
        const char *action = udev_device_get_action(dev), *syspath = udev_device_get_syspath(dev);
        const char *old = udev_device_get_property_value(dev, "DEVPATH_OLD");
        char *old_syspath = NULL;
        int r;

        if (!action || !syspath)
                return -ESTALE;
        if (old && asprintf(&old_syspath, "/sys%s", old) < 0)
                return -ENOMEM;
        r = hd_nodedev_list_update(d->list, action, syspath, old_syspath, on_change, u);
        free(old_syspath);
        if (r >= 0 && u->error)
                r = u->error;
        logf_(7, "uevent %s %s: %s", action, syspath, r < 0 ? strerror(-r) : r ? "tree updated" : "no node device");
        return r < 0 ? r : 0;
}

/* A round of updates (the event path's and a write's): the devices new
 * since the last round are those of this one */
static void update_begin(struct daemon *d, struct update *u) {
        *u = (struct update) { .d = d, .t0 = now_ms() };
        for (size_t i = 0; i < d->n_snap; i++)
                d->snap[i].added = false;
}

/* every queued event: each updates the tree where it can place it; one it
 * cannot, or events lost to a full receive buffer (ENOBUFS), make one full
 * enumeration after the queue is drained (update_end).  The socket does
 * not block: an empty queue ends it. */
static void update_drain(struct monitor *mo, struct update *u) {
        for (unsigned i = 0; i < 1000000; i++) {
                struct udev_device *dev = udev_monitor_receive_device(mo->mon);
                if (dev) {
                        if (!u->full && apply_event(mo->d, dev, u) < 0)
                                u->full = true;
                        udev_device_unref(dev);
                } else if (errno == ENOBUFS) {
                        logf_(4, "uevents were lost (receive buffer full): re-reading every device");
                        u->full = true;
                } else
                        break;  /* EAGAIN: drained */
        }
}

/* the round's end: the full enumeration it needs, or its bookkeeping and
 * the hotplug apply of the devices it added */
static int update_end(struct daemon *d, struct update *u, const char *by) {
        if (u->full)
                return rebuild(d);
        if (u->changed == 0)
                return 0;
        /* ListIommuGroups' answer (drivers, members): a write's devices
         * read again unchanged keep it */
        if (u->differs || !u->write) {
                free(d->iommu_json);
                d->iommu_json = NULL;
        }
        d->generation++;
        logf_(7, "tree updated by %s: %u devices changed in %.2f ms (generation %llu)", by, u->changed,
              now_ms() - u->t0, d->generation);
        apply_added(d);
        return 0;
}

static int on_monitor(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct monitor *mo = userdata;
        struct update u;

        update_begin(mo->d, &u);
        update_drain(mo, &u);
        (void) update_end(mo->d, &u, "events");
        return 0;
}

/* A step of a round that updates part of the tree (the library's answer
 * @r, or the snapshot's failure to follow it: u->error): when it failed,
 * the round ends in a full enumeration, logged as PREFIX NAME: why
 * (@stale for -ESTALE, a device the library cannot place). */
static void update_step_done(struct update *u, int r, const char *prefix, const char *name, const char *stale) {
        if (r >= 0 && u->error)
                r = u->error;
        if (r >= 0)
                return;
        logf_(7, "%s%s: %s: re-reading every device", prefix, name, r == -ESTALE ? stale : strerror(-r));
        u->full = true;
}

/* the live host: the queue, then the devices @names plan on read again;
 * @after: a name not in the tree is skipped (its events follow) */
static int tree_update_names(struct daemon *d, const char *const *names, size_t n, bool after) {
        __attribute__((cleanup(call_log_unpausep))) struct daemon *paused = call_log_pause(d);  /* as rebuild() */
        struct update u;

        update_begin(d, &u);
        u.write = true;
        update_drain(d->monitor, &u);
        /* each name looked up afresh: the one before may have replaced it */
        for (size_t i = 0; !u.full && i < n; i++) {
                hd_device *dev;
                int r = *names[i] && strlen(names[i]) <= MAX_NAME_LEN ? hd_nodedev_list_lookup(d->list, names[i], &dev)
                                                                      : -EINVAL;
                if (r < 0) {
                        /* new without an event yet, or no device at all:
                         * the enumeration tells (a malformed name is
                         * answered as it is) */
                        if (!after && r == -ENODEV) {
                                logf_(7, "%s is not in the tree: re-reading every device", names[i]);
                                u.full = true;
                        }
                        continue;
                }
                /* the device, its IOMMU group, a PF's VFs (iommu/) */
                r = hd_iommu_group_refresh(d->list, dev, on_change, &u);
                update_step_done(&u, r, "", names[i], "not placed (or a mediated device)");
        }
        return update_end(d, &u, after ? "a write's devices" : "a write's plan");
}

int tree_for_write(struct daemon *d, const char *const *names, size_t n) {
        if (!d->monitor)
                return rebuild(d);
        return tree_update_names(d, names, n, false);
}

void tree_after_write(struct daemon *d, const char *const *names, size_t n) {
        if (!d->monitor)
                (void) rebuild(d);
        else
                (void) tree_update_names(d, names, n, true);
}

int tree_update_defined_mdevs(struct daemon *d, char *const *parents, size_t n) {
        struct update u;

        update_begin(d, &u);
        /* the live host: the uevents queued first (an mdev started or
         * stopped meanwhile), as a write's round takes them */
        if (d->monitor)
                update_drain(d->monitor, &u);
        for (size_t i = 0; !u.full && i < n; i++) {
                int r;
                logf_(7, "re-read defined mdevs of %s", parents[i]);
                r = hd_nodedev_list_update_defined_mdevs(d->list, parents[i], on_change, &u);
                update_step_done(&u, r, "defined mdevs of ", parents[i], "cannot be placed in the tree");
        }
        return update_end(d, &u, "mdev definitions");
}

static int monitor_start(struct daemon *d, struct monitor *mo) {
        int r;

        mo->d = d;
        mo->udev = udev_new();
        if (!mo->udev)
                return -ENOMEM;
        /* the events udevd has processed (its database is current then);
         * where no udevd runs (a container) the kernel's */
        mo->mon = udev_monitor_new_from_netlink(mo->udev, access("/run/udev/control", F_OK) == 0 ? "udev" : "kernel");
        if (!mo->mon)
                return -errno ?: -EIO;
        /* a burst of uevents (udevadm trigger) must not overflow it */
        (void) udev_monitor_set_receive_buffer_size(mo->mon, 128 * 1024 * 1024);
        r = udev_monitor_enable_receiving(mo->mon);
        if (r < 0)
                return r;
        return sd_event_add_io(d->event, NULL, udev_monitor_get_fd(mo->mon), EPOLLIN, on_monitor, mo);
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        (void) rebuild(userdata);
        return 0;
}

/* ---- libvirt's domain events: InUse current without a rebuild ---- */

/* a guest's start or stop is a burst of events (defined, started,
 * resumed; device events): one refresh after it settles */
#define DOMAIN_EVENTS_SETTLE_USEC (200 * 1000)

struct domain_watch {
        struct daemon *d;
        hd_domain_watch *w;             /* domain/libvirt.c */
        sd_event_source *io, *settle;
};

static int on_domain_settled(sd_event_source *s, uint64_t usec, void *userdata) {
        struct domain_watch *dw = userdata;

        logf_(7, "libvirt domain events: which guest uses which device, asked afresh");
        in_use_refresh(dw->d);  /* daemon/methods-boot.c: PropertiesChanged(InUse) */
        return 0;
}

static int on_domain_event(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct domain_watch *dw = userdata;
        int enabled = SD_EVENT_OFF, r;

        (void) hd_domain_watch_ack(dw->w);
        if (sd_event_source_get_enabled(dw->settle, &enabled) >= 0 && enabled != SD_EVENT_OFF)
                return 0;       /* a refresh is already due */
        r = sd_event_source_set_time_relative(dw->settle, DOMAIN_EVENTS_SETTLE_USEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(dw->settle, SD_EVENT_ONESHOT);
        if (r < 0) {
                logf_(4, "libvirt domain events: %s; InUse asked now", strerror(-r));
                in_use_refresh(dw->d);
        }
        return 0;
}

/* Where libvirt is asked (the live host, or --connect other than none),
 * follow its domain events; elsewhere, or without libvirt's client
 * library, InUse changes at rebuilds only. */
static int domain_watch_start(struct daemon *d, struct domain_watch *dw) {
        int r;

        dw->d = d;
        if (d->connect ? streq_(d->connect, "none") : d->sysroot != NULL)
                return 0;
        r = hd_domain_watch_new(d->ctx, d->connect, &dw->w);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                logf_(6, "not following libvirt's domain events: %s", hd_ctx_get_error(d->ctx) ?: strerror(-r));
                return 0;
        }
        r = sd_event_add_io(d->event, &dw->io, hd_domain_watch_get_fd(dw->w), EPOLLIN, on_domain_event, dw);
        if (r >= 0)
                r = sd_event_add_time_relative(d->event, &dw->settle, CLOCK_MONOTONIC, DOMAIN_EVENTS_SETTLE_USEC, 0,
                                               on_domain_settled, dw);
        if (r >= 0)
                r = sd_event_source_set_enabled(dw->settle, SD_EVENT_OFF);
        if (r < 0)
                return r;
        logf_(6, "following libvirt's domain events (%s)", d->connect ?: "the default URI");
        return 0;
}

static void domain_watch_stop(struct domain_watch *dw) {
        dw->io = sd_event_source_unref(dw->io);
        dw->settle = sd_event_source_unref(dw->settle);
        dw->w = hd_domain_watch_free(dw->w);
}

/* ---- main ---- */

static void help(void) {
        printf("Usage: hostdevd [--system | --bus-address ADDRESS] [--sysroot DIR] [--state-dir DIR] [--connect URI]\n"
               "               [--lock-timeout SEC] [-v]\n\n"
               "The hostdev D-Bus service (org.hostdev.Hostdev1): the node-device tree, kept\n"
               "current, and the passthrough operations, for callers polkit authorizes.\n\n"
               "  --system              serve on the system bus (default)\n"
               "  --bus-address ADDR    serve on this bus instead (a private dbus-daemon)\n"
               "  --sysroot DIR         serve a captured or fake tree instead of this host;\n"
               "                        Rescan() and SIGHUP re-read it\n"
               "  --state-dir DIR       the journal and lock directory (default /var/lib/hostdev)\n"
               "  --connect URI         the libvirt asked which guest uses a device (default:\n"
               "                        libvirt's on this host, none on a --sysroot tree)\n"
               "  --lock-timeout SEC    how long an operation waits for the state directory's\n"
               "                        lock another run holds before it fails with Busy\n"
               "                        (default 10; within the unit's 30 s watchdog)\n"
               "  -v, --verbose         log more (repeat for debug)\n"
               "  --version             print the version\n"
               "  -h, --help            this help\n");
}

static int check_sysroot(const char *sysroot) {
        char *real;
        if (!sysroot)
                return 0;
        if (!*sysroot) {
                fprintf(stderr, "hostdevd: --sysroot '': empty sysroot (an unset variable?); leave --sysroot out to work on this host\n");
                return -EINVAL;
        }
        real = realpath(sysroot, NULL);
        if (real && strcmp(real, "/") == 0) {
                free(real);
                fprintf(stderr, "hostdevd: --sysroot '%s' is this host's root directory; leave --sysroot out to work on this host\n",
                        sysroot);
                return -EINVAL;
        }
        free(real);
        return 0;
}

int main(int argc, char **argv) {
        enum { ARG_SYSTEM = 0x100, ARG_BUS_ADDRESS, ARG_SYSROOT, ARG_STATE_DIR, ARG_VERSION, ARG_CONNECT, ARG_LOCK_TIMEOUT };
        static const struct option options[] = {
                { "system", no_argument, NULL, ARG_SYSTEM },
                { "bus-address", required_argument, NULL, ARG_BUS_ADDRESS },
                { "sysroot", required_argument, NULL, ARG_SYSROOT },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "connect", required_argument, NULL, ARG_CONNECT },
                { "lock-timeout", required_argument, NULL, ARG_LOCK_TIMEOUT },
                { "verbose", no_argument, NULL, 'v' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        struct daemon d = {};
        struct monitor mo = {};
        struct domain_watch dw = {};
        const char *address = NULL, *state_dir = NULL;
        /* the event loop must not wait for a --direct hostdevctl's lock
         * past the watchdog (WatchdogSec=30s): 10 s, then Busy */
        double lock_timeout = 10;
        char *end;
        sigset_t mask;
        int c, r;

        while ((c = getopt_long(argc, argv, "vh", options, NULL)) >= 0)
                switch (c) {
                case ARG_SYSTEM: address = NULL; break;
                case ARG_BUS_ADDRESS: address = optarg; break;
                case ARG_SYSROOT: d.sysroot = optarg; break;
                case ARG_STATE_DIR: state_dir = optarg; break;
                case ARG_CONNECT: d.connect = optarg; break;
                case ARG_LOCK_TIMEOUT:
                        errno = 0;
                        lock_timeout = strtod(optarg, &end);
                        if (errno || end == optarg || *end || !(lock_timeout >= 0 && lock_timeout <= 25)) {
                                fprintf(stderr, "hostdevd: --lock-timeout takes seconds 0..25, not '%s'\n", optarg);
                                return 64;
                        }
                        break;
                case 'v': arg_log_level = arg_log_level < 6 ? 6 : 7; break;
                case ARG_VERSION: printf("hostdevd %s\n", HOSTDEV_VERSION); return EXIT_SUCCESS;
                case 'h': help(); return EXIT_SUCCESS;
                default: return 64;
                }
        if (optind < argc) {
                fprintf(stderr, "hostdevd: unexpected argument '%s' (see 'hostdevd --help')\n", argv[optind]);
                return 64;
        }
        if (check_sysroot(d.sysroot) < 0)
                return 64;

        /* big blocks (a reply of megabytes, its rendering) are mapped and
         * unmapped, never kept in the heap: a fixed threshold (glibc's
         * grows with every big free otherwise) */
        (void) mallopt(M_MMAP_THRESHOLD, 128 * 1024);
        r = daemon_ctx_new(d.sysroot, &d.ctx);
        if (r < 0) {
                fprintf(stderr, "hostdevd: cannot open sysroot '%s': %s\n", d.sysroot ?: "/", strerror(-r));
                return EXIT_FAILURE;
        }
        hd_ctx_set_log_fn(d.ctx, log_fn, NULL);
        hd_ctx_set_log_level(d.ctx, arg_log_level);
        hd_ctx_set_lock_timeout(d.ctx, (uint64_t) (lock_timeout * 1e6));
        if (state_dir && hd_ctx_set_state_dir(d.ctx, state_dir) < 0) {
                fprintf(stderr, "hostdevd: --state-dir must be an absolute path\n");
                return 64;
        }

        r = sd_event_default(&d.event);
        if (r < 0)
                goto fail;
        /* WatchdogSec= of the unit: the loop pings systemd itself */
        (void) sd_event_set_watchdog(d.event, true);
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        /* SIGTERM and SIGINT: leave the loop */
        if ((r = sd_event_add_signal(d.event, NULL, SIGTERM, NULL, NULL)) < 0 ||
            (r = sd_event_add_signal(d.event, NULL, SIGINT, NULL, NULL)) < 0 ||
            (r = sd_event_add_signal(d.event, NULL, SIGHUP, on_sighup, &d)) < 0)
                goto fail;

        /* before the first tree: a guest that starts meanwhile is seen */
        r = domain_watch_start(&d, &dw);
        if (r < 0) {
                logf_(3, "cannot follow libvirt's domain events: %s", strerror(-r));
                goto fail;
        }
        /* a transaction a crash interrupted is finished or undone first
         * (daemon/methods.c), as `hostdevctl recover` would */
        recover_at_start(&d);
        /* and the mdev definitions watched before they are first read:
         * one another program writes meanwhile is seen */
        r = defs_watch_start(&d);
        if (r < 0) {
                logf_(3, "cannot watch the mdev definitions: %s", strerror(-r));
                goto fail;
        }
        /* the first tree before the name is taken: a caller never sees an
         * empty one */
        r = rebuild(&d);
        if (r < 0)
                goto fail;
        /* and ListDevices' answer: the first caller does not wait for it */
        (void) frags_render_all(&d);
        if (!d.sysroot) {
                r = monitor_start(&d, &mo);
                if (r < 0) {
                        logf_(3, "cannot listen to udev: %s", strerror(-r));
                        goto fail;
                }
                d.monitor = &mo;
        }

        if (address) {
                r = sd_bus_new(&d.bus);
                if (r >= 0)
                        r = sd_bus_set_address(d.bus, address);
                if (r >= 0)
                        r = sd_bus_set_bus_client(d.bus, 1);
                if (r >= 0)
                        r = sd_bus_start(d.bus);
        } else
                r = sd_bus_open_system(&d.bus);
        if (r < 0) {
                logf_(3, "cannot connect to the bus%s%s: %s", address ? " " : "", address ?: "", strerror(-r));
                goto fail;
        }
        r = sd_bus_add_object_vtable(d.bus, NULL, MANAGER_PATH, MANAGER_IFACE, manager_vtable, &d);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(d.bus, NULL, DEVICES_PATH, DEVICE_IFACE, device_vtable, device_find, &d);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(d.bus, NULL, DEVICES_PATH, device_enumerate, &d);
        /* GetManagedObjects, InterfacesAdded/Removed for the devices */
        if (r >= 0)
                r = sd_bus_add_object_manager(d.bus, NULL, DEVICES_PATH);
        if (r >= 0)
                r = sd_bus_attach_event(d.bus, d.event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_request_name(d.bus, BUS_NAME, 0);
        if (r < 0) {
                logf_(3, "cannot serve %s: %s", BUS_NAME, strerror(-r));
                goto fail;
        }
        (void) sd_notifyf(false, "READY=1\nSTATUS=serving %zu devices", hd_nodedev_list_count(d.list));
        logf_(6, "serving %s with %zu devices%s%s", BUS_NAME, hd_nodedev_list_count(d.list), d.sysroot ? " of " : "",
              d.sysroot ?: "");
        r = sd_event_loop(d.event);
        (void) sd_notify(false, "STOPPING=1");

fail:
        if (r < 0)
                logf_(3, "hostdevd: %s", strerror(-r));
        sd_bus_flush_close_unref(d.bus);
        domain_watch_stop(&dw);
        defs_watch_stop(&d);
        if (mo.mon)
                udev_monitor_unref(mo.mon);
        if (mo.udev)
                udev_unref(mo.udev);
        sd_event_unref(d.event);
        snap_free(d.snap, d.n_snap);
        in_use_clear(&d);
        free(d.iommu_json);
        free(d.frag_block);
        hd_nodedev_list_unref(d.list);
        hd_ctx_unref(d.ctx);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
