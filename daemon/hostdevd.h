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
/* the state directory stayed locked by another run past the lock timeout */
#define ERROR_BUSY "org.hostdev.Hostdev1.Error.Busy"

/* what a device looked like at the last rebuild, for the change signals */
struct dev_snap {
        char *name, *driver, *parent;
        unsigned long long caps;        /* bit c: hd_device_has_cap(c) */
        int group;                      /* a PCI function's IOMMU group, else -1 */
        bool added;                     /* new since the tree before */
        /* its object in ListDevices' answer (daemon/hostdevd.c reply_list) */
        signed char listed;             /* 1 json is it, -1 not listed (inactive), 0 to render */
        char *json;                     /* in daemon.frag_block, or its own (json_owned) */
        size_t json_len;
        bool json_owned;
};

struct monitor;

struct daemon {
        sd_event *event;
        sd_bus *bus;
        hd_ctx *ctx;
        const char *sysroot;            /* NULL: the live host */
        hd_nodedev_list *list;          /* the cached tree */
        struct dev_snap *snap;          /* its devices, sorted by name */
        size_t n_snap;
        char *frag_block;               /* the whole list's rendering the fragments lie in */
        bool frags_ready;               /* every dev_snap.json rendered once since the last enumeration */
        char *iommu_json;               /* ListIommuGroups (lazily) */
        unsigned long long generation;  /* rebuilds so far */
        bool applying;                  /* in apply_added(): its rebuilds apply nothing themselves */
        const char *connect;            /* --connect: the libvirt URI asked (NULL: the default) */
        struct in_use *in_use;          /* the devices running guests use (daemon/methods-boot.c) */
        size_t n_in_use;
        struct monitor *monitor;        /* the live host's udev monitor (hostdevd.c); NULL on a --sysroot tree */
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

/* daemon/hostdevd.c, for the methods of daemon/methods.c */
int rebuild(struct daemon *d);                  /* enumerate again, announce the changes */
int lookup(struct daemon *d, sd_bus_message *m, const char *name, hd_device **ret); /* <0: error replied */
int reply_result(sd_bus_message *m, const char *verb, const hd_result *res);
/* The operation could not take the state directory's lock within the
 * daemon's lock timeout (it returned -ETIMEDOUT): Busy, "VERB: " and the
 * library's sentence; nothing was changed. */
int reply_busy(struct daemon *d, sd_bus_message *m, const char *verb);
int ask_libvirt(struct daemon *d);              /* before a host-changing operation */
/* ask_libvirt, rebuild and lookup of @name: 1 found, 0 replied, <0 */
/* the error @name with @msg and @res's JSON as a second argument */
int reply_result_error(sd_bus_message *m, const char *name, const char *msg, const hd_result *res);
int prepare_write(struct daemon *d, sd_bus_message *m, const char *name, hd_device **ret);
/* The tree current for a write that plans on the devices @names (@n of
 * them; none: the queued events only).  On a --sysroot tree (no uevents)
 * a full rebuild.  On the live host, where uevents keep the tree, no
 * enumeration: every uevent already queued is taken (the event path),
 * then each named device, the other members of its IOMMU group and a
 * PF's VFs are read again (hd_nodedev_list_update); a full rebuild only
 * when something cannot be placed, a name is not in the tree or names a
 * mediated device (the definitions are read with the tree).  0 or <0. */
int tree_for_write(struct daemon *d, const char *const *names, size_t n);
/* After a write (not a dry run): on a --sysroot tree a full rebuild; on
 * the live host the queued uevents and the same devices read again (the
 * write's own uevents, udevd's later, then change nothing): no
 * enumeration unless something cannot be placed. */
void tree_after_write(struct daemon *d, const char *const *names, size_t n);
/* daemon/methods.c: mdev create of @parent, @type, @uuid ("" a random
 * one) with @attrs, replied (MdevCreate, MdevCreateWithAttrs) */
int mdev_create_reply(struct daemon *d, sd_bus_message *m, const char *parent, const char *type, const char *uuid,
                      const hd_mdev_attr *attrs, size_t n_attrs, uint64_t flags);

/* daemon/methods.c: the manager's further methods (METHODS_VTABLE, in
 * hostdevd.c's manager vtable) and the recovery at start */
int method_reset(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_get_hostdev_xml(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_sriov_set_numvfs(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_mdev_create(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_mdev_remove(sd_bus_message *m, void *userdata, sd_bus_error *error);
void recover_at_start(struct daemon *d);
#define METHODS_VTABLE \
        SD_BUS_METHOD_WITH_NAMES("Reset", "st", SD_BUS_PARAM(name) SD_BUS_PARAM(flags), "s", SD_BUS_PARAM(result), \
                                 method_reset, SD_BUS_VTABLE_UNPRIVILEGED), \
        SD_BUS_METHOD_WITH_NAMES("GetHostdevXML", "st", SD_BUS_PARAM(name) SD_BUS_PARAM(flags), "s", SD_BUS_PARAM(xml), \
                                 method_get_hostdev_xml, SD_BUS_VTABLE_UNPRIVILEGED), \
        SD_BUS_METHOD_WITH_NAMES("SriovSetNumVfs", "sut", SD_BUS_PARAM(pf) SD_BUS_PARAM(numvfs) SD_BUS_PARAM(flags), "s", \
                                 SD_BUS_PARAM(result), method_sriov_set_numvfs, SD_BUS_VTABLE_UNPRIVILEGED), \
        SD_BUS_METHOD_WITH_NAMES("MdevCreate", "ssst", SD_BUS_PARAM(parent) SD_BUS_PARAM(type) SD_BUS_PARAM(uuid) \
                                 SD_BUS_PARAM(flags), "s", SD_BUS_PARAM(result), method_mdev_create, SD_BUS_VTABLE_UNPRIVILEGED), \
        SD_BUS_METHOD_WITH_NAMES("MdevRemove", "st", SD_BUS_PARAM(uuid) SD_BUS_PARAM(flags), "s", SD_BUS_PARAM(result), \
                                 method_mdev_remove, SD_BUS_VTABLE_UNPRIVILEGED)

/* daemon/methods-apply.c: Apply and MdevApply (APPLY_VTABLE, in hostdevd.c's manager
 * vtable) and the hotplug apply of a device that appeared (override, its
 * SR-IOV state as a PF, its auto-start mdevs as a parent), announced as
 * PersistedConfigApplied; whether something changed */
int method_apply(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_mdev_apply(sd_bus_message *m, void *userdata, sd_bus_error *error);
bool apply_persisted(struct daemon *d, hd_device *dev);
#define APPLY_VTABLE \
        SD_BUS_METHOD_WITH_NAMES("Apply", "t", SD_BUS_PARAM(flags), "ssasa(is)", \
                                 SD_BUS_PARAM(result) SD_BUS_PARAM(text) SD_BUS_PARAM(messages) SD_BUS_PARAM(log), \
                                 method_apply, SD_BUS_VTABLE_UNPRIVILEGED), \
        SD_BUS_METHOD_WITH_NAMES("MdevApply", "t", SD_BUS_PARAM(flags), "ssasa(is)", \
                                 SD_BUS_PARAM(result) SD_BUS_PARAM(text) SD_BUS_PARAM(messages) SD_BUS_PARAM(log), \
                                 method_mdev_apply, SD_BUS_VTABLE_UNPRIVILEGED)
/* hostdevd.c: the library's log function of the daemon's context */
void daemon_log_fn(void *userdata, int level, const char *file, int line, const char *fn, const char *format,
                   va_list args);
/* hostdevd.c: log at syslog @level ("<N>" on stderr) when -v allows it */
void daemon_logf(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* daemon/defs-watch.c: the mdev definition directories watched with
 * inotify; a change settles, then the defined mdevs of the parents whose
 * directories changed are read again (tree_update_defined_mdevs), or
 * rebuild() when the top directory itself changed or events were lost.
 * defs_watch_absorb(): at a rebuild's start, the changes queued so far
 * (that rebuild reads them). */
int defs_watch_start(struct daemon *d);
void defs_watch_absorb(struct daemon *d);
void defs_watch_stop(struct daemon *d);
/* hostdevd.c: the defined mdevs of @parents (@n; names of the definitions'
 * subdirectories) read again into the tree, no enumeration
 * (hd_nodedev_list_update_defined_mdevs), announced as the uevent path
 * announces its changes; on the live host the queued uevents first.  A
 * full rebuild when a parent's cannot be placed.  0 or <0. */
int tree_update_defined_mdevs(struct daemon *d, char *const *parents, size_t n);
/* daemon/methods-boot.c: the override and boot methods
 * (BOOT_METHODS_VTABLE, in hostdevd.c's manager vtable), ListDevices'
 * filters, the device objects' InUse property */
hd_device *device_of_path(struct daemon *d, const char *path); /* hostdevd.c: the device of an object */
int method_list_overrides(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_set_override(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_remove_override(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_boot_plan(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_boot_apply(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_boot_status(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_boot_undo(sd_bus_message *m, void *userdata, sd_bus_error *error);
int list_devices_filtered(struct daemon *d, sd_bus_message *m, const char *filter);
void in_use_refresh(struct daemon *d);  /* after each rebuild */
void in_use_clear(struct daemon *d);
int device_property_in_use(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *error);
#define BOOT_METHODS_VTABLE \
        SD_BUS_METHOD_WITH_NAMES("ListOverrides", "", , "s", SD_BUS_PARAM(json), method_list_overrides, \
                                 SD_BUS_VTABLE_UNPRIVILEGED), \
        SD_BUS_METHOD_WITH_NAMES("SetOverride", "sst", SD_BUS_PARAM(name) SD_BUS_PARAM(driver) SD_BUS_PARAM(flags), "bs", \
                                 SD_BUS_PARAM(changed) SD_BUS_PARAM(overrides), method_set_override, \
                                 SD_BUS_VTABLE_UNPRIVILEGED), \
        SD_BUS_METHOD_WITH_NAMES("RemoveOverride", "st", SD_BUS_PARAM(name) SD_BUS_PARAM(flags), "bs", \
                                 SD_BUS_PARAM(changed) SD_BUS_PARAM(overrides), method_remove_override, \
                                 SD_BUS_VTABLE_UNPRIVILEGED), \
        SD_BUS_METHOD_WITH_NAMES("BootPlan", "stas", SD_BUS_PARAM(driver) SD_BUS_PARAM(flags) SD_BUS_PARAM(devices), "s", \
                                 SD_BUS_PARAM(plan), method_boot_plan, SD_BUS_VTABLE_UNPRIVILEGED), \
        SD_BUS_METHOD_WITH_NAMES("BootApply", "stas", SD_BUS_PARAM(driver) SD_BUS_PARAM(flags) SD_BUS_PARAM(devices), "is", \
                                 SD_BUS_PARAM(changed) SD_BUS_PARAM(plan), method_boot_apply, SD_BUS_VTABLE_UNPRIVILEGED), \
        SD_BUS_METHOD_WITH_NAMES("BootStatus", "", , "s", SD_BUS_PARAM(json), method_boot_status, \
                                 SD_BUS_VTABLE_UNPRIVILEGED), \
        SD_BUS_METHOD_WITH_NAMES("BootUndo", "t", SD_BUS_PARAM(flags), "i", SD_BUS_PARAM(restored), method_boot_undo, \
                                 SD_BUS_VTABLE_UNPRIVILEGED)

/* daemon/call-log.c: the log lines of one host-changing call.  The
 * library's warnings and errors that the call logs go to the caller as
 * Log(i level, s line) signals before the reply; bit 32 of every
 * host-changing method's `t flags` (the caller's -v; each method takes it
 * beside its own bits) adds its info lines (docs/dbus.md).  authz_run()
 * brackets each authorized method with call_log_begin() and
 * call_log_end(); call_log_level(): the caller's level (HD_LOG_INFO for
 * -v, else HD_LOG_WARNING), for a method that carries the
 * lines in its reply (Apply, MdevApply) and then call_log_resume(). */
#define FLAG_LOG_INFO (UINT64_C(1) << 32)
void call_log_begin(struct daemon *d, sd_bus_message *m);
int call_log_level(void);
void call_log_resume(struct daemon *d);
void call_log_end(struct daemon *d);
/* the daemon's own work within a call (a rebuild, the tree's update, its
 * InUse question): its lines are the daemon's, not the caller's:
 * __attribute__((cleanup(call_log_unpausep))) struct daemon *p = call_log_pause(d); */
struct daemon *call_log_pause(struct daemon *d);
void call_log_unpausep(struct daemon **p);
#define LOG_SIGNAL_VTABLE SD_BUS_SIGNAL_WITH_NAMES("Log", "is", SD_BUS_PARAM(level) SD_BUS_PARAM(line), 0)

/* daemon/ctx-new.c (tests: tests/fake-daemon-ctx.c, the fake kernel) */
int daemon_ctx_new(const char *sysroot, hd_ctx **ret);
