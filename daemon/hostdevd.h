/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hostdevd's shared state (daemon/hostdevd.c, daemon/authz.c). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "hostdev/hostdev.h"

#define BUS_NAME "org.hostdev.Hostdev1"
#define MANAGER_PATH "/org/hostdev/Hostdev1/Manager"
#define MANAGER_IFACE "org.hostdev.Hostdev1.Manager"
#define DEVICES_PATH "/org/hostdev/Hostdev1/devices"
#define DEVICE_IFACE "org.hostdev.Hostdev1.Device"
#define ERROR_NOT_FOUND "org.hostdev.Hostdev1.Error.NotFound"
#define ERROR_REFUSED "org.hostdev.Hostdev1.Error.Refused"
#define ERROR_FAILED "org.hostdev.Hostdev1.Error.Failed"
#define ERROR_INVALID "org.hostdev.Hostdev1.Error.InvalidArgument"

/* what a device looked like at the last rebuild, for the change signals */
struct dev_snap {
        char *name, *driver, *parent;
        unsigned long long caps;        /* bit c: hd_device_has_cap(c) */
        bool added;                     /* new since the tree before */
};

struct daemon {
        sd_event *event;
        sd_bus *bus;
        hd_ctx *ctx;
        const char *sysroot;            /* NULL: the live host */
        hd_nodedev_list *list;          /* the cached tree */
        struct dev_snap *snap;          /* its devices, sorted by name */
        size_t n_snap;
        char *list_json, *iommu_json;   /* ListDevices, ListIommuGroups (lazily) */
        unsigned long long generation;  /* rebuilds so far */
};

/* A host-changing method's work, run once the caller is authorized: it
 * sends the reply (or returns <0 for sd-bus to turn into an error). */
typedef int (*authorized_fn)(struct daemon *d, sd_bus_message *m);

/*
 * authz_run: run @fn for @m when its sender may do @action: a sender with
 * effective uid 0 (or the daemon's own uid: one that could change the
 * daemon anyway) at once; anyone else when polkit's CheckAuthorization
 * says so (asynchronously); AccessDenied when polkit says no or is not on
 * the bus.  Returns what a method handler returns.
 */
int authz_run(struct daemon *d, sd_bus_message *m, const char *action, authorized_fn fn);

/* daemon/ctx-new.c (tests: tests/fake-daemon-ctx.c, the fake kernel) */
int daemon_ctx_new(const char *sysroot, hd_ctx **ret);
