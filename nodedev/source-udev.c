/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Device source for the live host: libudev's enumerator. */
#include <libudev.h>

#include "nodedev-internal.h"

static void udev_unrefp(struct udev **u) { if (*u) udev_unref(*u); }
static void udev_enumerate_unrefp(struct udev_enumerate **e) { if (*e) udev_enumerate_unref(*e); }

static int raw_from_udev(struct udev_device *dev, struct hd_raw_device *raw) {
        struct udev_list_entry *e;
        const char *s;
        int r;

        s = udev_device_get_syspath(dev);
        raw->syspath = hd_strdup(s);
        raw->subsystem = hd_strdup(udev_device_get_subsystem(dev));
        if (!raw->syspath || !raw->subsystem)
                return -ENOMEM;
        udev_list_entry_foreach(e, udev_device_get_properties_list_entry(dev)) {
                const char *k = udev_list_entry_get_name(e), *v = udev_list_entry_get_value(e);
                r = hd_raw_add_prop(raw, k, strlen(k), v ?: "");
                if (r < 0)
                        return r;
        }
        udev_list_entry_foreach(e, udev_device_get_devlinks_list_entry(dev)) {
                r = hd_strv_push(&raw->devlinks, &raw->n_devlinks, hd_strdup(udev_list_entry_get_name(e)));
                if (r < 0)
                        return r;
        }
        return 0;
}

int hd_source_udev_scan(hd_ctx *ctx, hd_raw_cb cb, void *userdata) {
        _cleanup_(udev_unrefp) struct udev *udev = NULL;
        _cleanup_(udev_enumerate_unrefp) struct udev_enumerate *en = NULL;
        struct udev_list_entry *e;
        int r;

        udev = udev_new();
        if (!udev)
                return negative_errno();
        en = udev_enumerate_new(udev);
        if (!en)
                return negative_errno();
        for (size_t i = 0; hd_skip_subsystems[i]; i++) {
                r = udev_enumerate_add_nomatch_subsystem(en, hd_skip_subsystems[i]);
                if (r < 0)
                        return r;
        }
        r = udev_enumerate_scan_devices(en);
        if (r < 0) {
                log_err(ctx, "udev enumeration failed: %s", strerror(-r));
                return r;
        }
        udev_list_entry_foreach(e, udev_enumerate_get_list_entry(en)) {
                struct udev_device *dev = udev_device_new_from_syspath(udev, udev_list_entry_get_name(e));
                struct hd_raw_device raw = {};

                if (!dev) {
                        log_debug(ctx, "%s: vanished during enumeration", udev_list_entry_get_name(e));
                        continue;
                }
                if (!udev_device_get_subsystem(dev)) {
                        udev_device_unref(dev);
                        continue;
                }
                r = raw_from_udev(dev, &raw);
                udev_device_unref(dev);
                if (r < 0) {
                        hd_raw_device_done(&raw);
                        return r;
                }
                r = cb(userdata, &raw);
                if (r < 0)
                        return r;
        }
        return 0;
}
