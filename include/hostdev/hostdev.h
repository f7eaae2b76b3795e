/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libhostdev: host-device enumeration and passthrough management.
 *
 * Conventions: every fallible function returns 0 (or a positive value) on
 * success and a negative errno on failure.  Results are returned through
 * `**ret` out-parameters, which are written only on success.  Strings
 * returned through `char **ret` belong to the caller (free()); `const char *`
 * getters return borrowed pointers valid for the lifetime of their owner.
 * The library never prints and never exits: it reports through the log
 * function of its context.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hd_ctx hd_ctx;
typedef struct hd_nodedev_list hd_nodedev_list;
typedef struct hd_device hd_device;

/* ---- context ---------------------------------------------------------- */

enum hd_log_level {
        HD_LOG_ERR = 3,
        HD_LOG_WARNING = 4,
        HD_LOG_INFO = 6,
        HD_LOG_DEBUG = 7,
};

typedef void (*hd_log_fn)(void *userdata, int level, const char *file, int line,
                          const char *func, const char *format, va_list args);

/**
 * hd_ctx_new:
 * @sysroot: NULL for the live host, otherwise a directory that
 *           holds a captured tree: sysroot/sys, sysroot/run/udev/data,
 *           sysroot/dev, sysroot/etc/machine-id.  "" and any path that
 *           resolves to "/" fail with -EINVAL: only NULL means the host.
 *
 * With a sysroot, devices are enumerated by walking sysroot/sys; on the
 * live host they are enumerated through libudev.  Every kernel file read
 * goes through the context's root directory file descriptor.
 */
int hd_ctx_new(const char *sysroot, hd_ctx **ret);
hd_ctx *hd_ctx_ref(hd_ctx *ctx);
hd_ctx *hd_ctx_unref(hd_ctx *ctx);
void hd_ctx_set_log_fn(hd_ctx *ctx, hd_log_fn fn, void *userdata);
void hd_ctx_set_log_level(hd_ctx *ctx, int level);
int hd_ctx_get_log_level(hd_ctx *ctx);
/* NULL for the live host. */
const char *hd_ctx_get_sysroot(hd_ctx *ctx);
bool hd_ctx_is_live(hd_ctx *ctx);
/*
 * hd_ctx_get_error: why the last call on @ctx that is documented to "set
 * the context's error" failed, in words for people (the text hostdevctl
 * prints after "verb: "), or NULL when it set none.  Such a call clears
 * it when it starts, logs the reason where the failure happens (info
 * level) and leaves it here; operations that return an hd_result carry
 * their reason in the result instead.  Like sqlite3_errmsg(): one per
 * context, valid until the next such call on @ctx.
 */
const char *hd_ctx_get_error(hd_ctx *ctx);

/* ---- policy shared by every front end -------------------------------- */

/*
 * hd_operation_changes_host: whether the operation @name (a hostdevctl
 * verb, "nodedev-detach", or verb and sub-verb, "sriov set") changes
 * devices, driver bindings or configuration of the host.  On the live
 * host such an operation needs root, also as a dry run (its safety checks
 * read every process's open files).
 */
bool hd_operation_changes_host(const char *name);

enum {
        HD_DRIVER_ALIAS_HOST = 1 << 0,  /* also accept "host" (the device's own driver) */
};
/*
 * hd_driver_from_alias: the passthrough driver a user's word names:
 * "vfio", "vfio-pci", "vfio_pci" -> "vfio-pci"; "stub", "pci-stub",
 * "pci_stub" -> "pci-stub"; with HD_DRIVER_ALIAS_HOST "host" -> "host".
 * NULL for anything else.
 */
const char *hd_driver_from_alias(const char *word, unsigned flags);

/* ---- capability types ------------------------------------------------- */

enum hd_cap_type {
        HD_CAP_SYSTEM,
        HD_CAP_PCI,
        HD_CAP_USB_DEV,
        HD_CAP_USB_INTERFACE,
        HD_CAP_NET,
        HD_CAP_SCSI_HOST,
        HD_CAP_SCSI_TARGET,
        HD_CAP_SCSI,
        HD_CAP_STORAGE,
        HD_CAP_FC_HOST,
        HD_CAP_VPORTS,
        HD_CAP_SCSI_GENERIC,
        HD_CAP_DRM,
        HD_CAP_MDEV_TYPES,
        HD_CAP_MDEV,
        HD_CAP_VDPA,
        HD_CAP_VPD,
        HD_CAP_PHYS_FUNCTION,
        HD_CAP_VIRT_FUNCTIONS,
        _HD_CAP_MAX,
};

/* virsh spelling: "system", "pci", "usb_device", "usb", "net", "scsi_host",
 * "scsi_target", "scsi", "storage", "fc_host", "vports", "scsi_generic",
 * "drm", "mdev_types", "mdev", "vdpa", "vpd", "phys_function",
 * "virt_functions". */
const char *hd_cap_type_to_string(enum hd_cap_type t);
/* Returns the enum value; -EOPNOTSUPP for a libvirt capability that hostdev
 * never reports (the s390 ones: ccw, css, ap_card, ap_queue, ap_matrix,
 * ccwgroup); -EINVAL for anything else. */
int hd_cap_type_from_string(const char *s);

/* ---- node devices ----------------------------------------------------- */

/**
 * hd_nodedev_list_new: enumerate every node device of the context's host
 * into a capability tree rooted at "computer".  Devices that cannot be read
 * are skipped with a warning through the log function.
 */
int hd_nodedev_list_new(hd_ctx *ctx, hd_nodedev_list **ret);
/**
 * hd_nodedev_list_new_lazy: a list that enumerates nothing up front.  Each
 * hd_nodedev_list_lookup() reads the device it names straight from sysfs,
 * with its parent chain (and IOMMU group members when asked for), so one
 * device costs the same on any size of host; the device is the one, with
 * the same name, parent and XML, that hd_nodedev_list_new() would give.
 * Count, get and children cover only the devices read so far.
 */
int hd_nodedev_list_new_lazy(hd_ctx *ctx, hd_nodedev_list **ret);

/* what hd_nodedev_list_update() did to a device */
enum hd_nodedev_change {
        HD_NODEDEV_ADDED,       /* in the list now */
        HD_NODEDEV_REMOVED,     /* called before the device is freed */
        HD_NODEDEV_REFRESHED,   /* read again: driver, properties, capabilities may differ */
};
typedef void (*hd_nodedev_change_fn)(hd_nodedev_list *list, hd_device *d, enum hd_nodedev_change what,
                                     void *userdata);

/**
 * hd_nodedev_list_update: bring a full list (hd_nodedev_list_new) up to
 * date with one kernel or udev event, @action ("add", "remove", "change",
 * "bind", "unbind", "move", ...) on the device at @syspath
 * ("/sys/devices/..."; @old_syspath: a move's former path, else NULL),
 * without enumerating: the device is read again from sysfs exactly as
 * the enumeration reads it, inserted under its nearest ancestor (taking
 * over the devices below it), refreshed in place, or removed with the
 * devices below it.  A mediated device's events too: in a list with the
 * defined mdevs (hd_nodedev_list_add_defined_mdevs) an mdev that is
 * created takes its defined node's place (refreshed), one that is removed
 * leaves its definition's node (refreshed), and its parent is refreshed
 * (its types' available instances); an event of a parent's mdev type is
 * a change of the parent.  @fn (may be NULL) hears of every device added,
 * removed or refreshed.  Returns 1 when the list changed, 0 when the
 * event concerns no node device, -ESTALE when the event cannot be placed
 * (its device is gone before its add was read, a name clashes, a device
 * with devices below it changed name, an mdev moved: the caller
 * enumerates again), -EINVAL for a lazy list, or another -errno (the
 * list may then be part-updated: enumerate again).
 */
int hd_nodedev_list_update(hd_nodedev_list *list, const char *action, const char *syspath, const char *old_syspath,
                           hd_nodedev_change_fn fn, void *userdata);
/**
 * hd_nodedev_list_update_defined_mdevs: bring the defined mdevs of one
 * parent in a full list with the defined mdevs (hd_nodedev_list_new, then
 * hd_nodedev_list_add_defined_mdevs) up to date with its definitions as
 * they are now, without enumerating: @parent is a parent as the
 * definitions' directory names it (its subdirectory of
 * hd_mdev_config_dir(): a PCI address, "mtty", ...; one that is not on
 * the host too).  Only that directory is read: a definition that is new
 * adds an inactive node (HD_NODEDEV_ADDED), one removed takes its
 * stopped mdev's node away (HD_NODEDEV_REMOVED), and a node whose
 * definition changed or went (an active mdev's: it stays, no longer
 * persistent) is HD_NODEDEV_REFRESHED; the list is then the one that
 * hd_nodedev_list_add_defined_mdevs on a fresh enumeration gives, as far
 * as the rest of the tree is current.  For a caller that keeps a list
 * (hostdevd) and learns that a parent's definitions changed (inotify).
 * @fn as hd_nodedev_list_update()'s, called in the order of the devices'
 * names.  Returns 1 when the list changed, 0 when not, -EINVAL for a
 * malformed @parent, a lazy list or one without the defined mdevs,
 * -ESTALE when a node cannot be placed in place (an inactive node under
 * another device than its parent's now, a name another parent's node
 * holds: the caller enumerates again; nothing was changed), or another
 * -errno (the list may be part-updated: enumerate again).
 */
int hd_nodedev_list_update_defined_mdevs(hd_nodedev_list *list, const char *parent, hd_nodedev_change_fn fn,
                                         void *userdata);
hd_nodedev_list *hd_nodedev_list_unref(hd_nodedev_list *list);
/* Number of devices, "computer" included. */
size_t hd_nodedev_list_count(hd_nodedev_list *list);
/* Devices sorted by name; index 0 .. count-1.  Borrowed. */
hd_device *hd_nodedev_list_get(hd_nodedev_list *list, size_t i);
/* The "computer" root.  Borrowed. */
hd_device *hd_nodedev_list_root(hd_nodedev_list *list);

/**
 * hd_nodedev_list_lookup:
 * @query: a node-device name ("pci_0000_00_03_0"), a PCI address
 *         ("0000:00:03.0" or "00:03.0"), a network interface name, a sysfs
 *         path ("/sys/devices/..." or "/sys/bus/pci/devices/..." or
 *         "/sys/class/net/eth0"), an mdev UUID, a device node or udev link
 *         ("/dev/vda", "/dev/dri/card0", "/dev/disk/by-id/..."), or the
 *         name of a device node under /dev ("vda", "sr0").
 *
 * Returns 0 and the device, -ENODEV when nothing matches, -EINVAL for a
 * malformed query (e.g. a path leaving /sys), -EDOM for something shaped
 * like a PCI address that is not one ("00:1g.0", function 8), -ENOTUNIQ
 * when an mdev UUID matches several parents.
 */
int hd_nodedev_list_lookup(hd_nodedev_list *list, const char *query, hd_device **ret);

const char *hd_device_get_name(hd_device *d);
/* sysfs path as seen on the host ("/sys/devices/..."); NULL for computer. */
const char *hd_device_get_syspath(hd_device *d);
/* The PCI address ("0000:03:00.0") of a PCI device (the last component of
 * its syspath); NULL for other devices. */
const char *hd_device_get_pci_address(hd_device *d);
/* Parent device; NULL only for "computer". */
hd_device *hd_device_get_parent(hd_device *d);
/* Children, sorted by name.  Borrowed. */
size_t hd_device_get_n_children(hd_device *d);
hd_device *hd_device_get_child(hd_device *d, size_t i);
enum hd_cap_type hd_device_get_cap_type(hd_device *d);
const char *hd_device_get_subsystem(hd_device *d);
/* Bound driver, read live from the "driver" link; NULL if unbound. */
const char *hd_device_get_driver(hd_device *d);
/* "/dev/..." or NULL. */
const char *hd_device_get_devnode(hd_device *d);
/* A udev property (kernel uevent merged with the udev database), or NULL. */
const char *hd_device_get_property(hd_device *d, const char *key);
/**
 * hd_device_has_cap: true when the device has @cap as its main capability
 * or as a nested one (virt_functions, phys_function, mdev_types, fc_host,
 * vports, vpd), as libvirt's --cap filter matches.
 */
bool hd_device_has_cap(hd_device *d, enum hd_cap_type cap);

/* libvirt node-device XML of one device (newline terminated). */
int hd_device_format_xml(hd_device *d, char **ret);
/* The same data as JSON (schema: docs/json.md). */
int hd_device_format_json(hd_device *d, char **ret);
/* Human-readable "key: value" view. */
int hd_device_format_text(hd_device *d, char **ret);

/* ---- IOMMU (iommu/) ----------------------------------------------------- */

typedef struct hd_iommu_info {
        bool enabled;           /* the kernel has IOMMU groups */
        int intremap;           /* interrupt remapping: 1 on, 0 off, -1 unknown */
        char *vendor;           /* "intel", "amd", "virtio", "arm-smmu"; NULL when unknown */
        char *hint;             /* what to do when disabled or unsafe; NULL when none */
        char *hypervisor;       /* "QEMU/KVM", "VMware", ... when this host is a VM (DMI, the
                                 * CPU's hypervisor flag); NULL on bare metal */
} hd_iommu_info;

/* The IOMMU state of the context's host; free with hd_iommu_info_free()
 * (strings owned by the struct; NULL means none). */
int hd_iommu_get_info(hd_ctx *ctx, hd_iommu_info **ret);
hd_iommu_info *hd_iommu_info_free(hd_iommu_info *info);
static inline void hd_iommu_info_freep(hd_iommu_info **p) {
        hd_iommu_info_free(*p);
}

/* IOMMU group number of a PCI device or mdev; -ENOENT without one. */
int hd_device_get_iommu_group(hd_device *d);
/* Sorted group numbers present on the host; caller frees *ret. */
int hd_iommu_list_groups(hd_nodedev_list *list, unsigned **ret, size_t *ret_n);
/* Devices of a group (PCI functions, or an mdev), sorted by address;
 * caller frees *ret (not the devices, which belong to the list). */
int hd_iommu_group_get_devices(hd_nodedev_list *list, unsigned group, hd_device ***ret, size_t *ret_n);
/* Read again, as hd_nodedev_list_update() reads a "change" of each, what
 * an operation on @dev plans on: @dev, the members of its IOMMU group (the
 * list's and the kernel's now, so one gone or new is read too) and, for a
 * PCI function, its VFs.  For a caller that keeps a list current from
 * uevents and must not plan on a driver bound or unbound whose event has
 * not come yet.  @fn as hd_nodedev_list_update()'s.  1 when the list
 * changed, 0 when not; -ESTALE for a mediated device (its definitions are
 * read by the enumeration only) or a device that cannot be placed, another
 * -errno: the caller enumerates again.  @dev may be freed by the update:
 * look it up again after. */
int hd_iommu_group_refresh(hd_nodedev_list *list, hd_device *dev, hd_nodedev_change_fn fn, void *userdata);
/* vfio-pci, a vfio variant driver (mlx5_vfio_pci, ...) or pci-stub: a driver
 * that holds a device for a guest rather than for the host. */
bool hd_driver_is_passthrough(const char *driver);
/* pci.ids names of a PCI device ("" when unknown). */
int hd_pci_device_get_names(hd_device *d, char *vendor, size_t vsize, char *product, size_t psize);
/* Vendor and product names of any device: pci.ids for PCI, udev's hwdb
 * or the device's own strings for USB, storage and others ("" when
 * unknown). */
int hd_device_get_vendor_product(hd_device *d, char *vendor, size_t vsize, char *product, size_t psize);
/* Vendor and device ids and the 24-bit class code of a PCI device (any
 * pointer may be NULL).  -EINVAL for a non-PCI device. */
int hd_pci_device_get_ids(hd_device *d, unsigned *ret_vendor, unsigned *ret_device, unsigned *ret_class);

/* lspci's filters: -s [[[DOMAIN]:]BUS]:][SLOT][.[FUNC]], -d [VENDOR]:[DEVICE]
 * (hex; an empty field or '*' matches anything) and a class: 02, 0200 or
 * 020000 (0x optional).  -1 fields match anything. */
typedef struct hd_pci_match {
        int domain, bus, slot, function;
        int vendor, device;
        int cls;                /* class code prefix, cls_digits hex digits long */
        unsigned cls_digits;
} hd_pci_match;
void hd_pci_match_init(hd_pci_match *m);
/* -EINVAL when the text is not such a filter */
int hd_pci_match_parse_slot(hd_pci_match *m, const char *s);
int hd_pci_match_parse_id(hd_pci_match *m, const char *s);
int hd_pci_match_parse_class(hd_pci_match *m, const char *s);
/* true for a PCI device that every set field matches */
bool hd_device_matches_pci(hd_device *d, const hd_pci_match *m);
/* A PCI bridge or port (header type 1/2): the kernel ignores these when it
 * decides whether a group is viable. */
bool hd_pci_device_is_bridge(hd_device *d);
/**
 * hd_iommu_group_is_viable: 1 when every endpoint of the group is bound to
 * vfio-pci (or a vfio variant driver) or pci-stub, or is unbound; 0
 * otherwise, with the first blocking device in *ret_blocker (may be NULL).
 */
int hd_iommu_group_is_viable(hd_nodedev_list *list, unsigned group, hd_device **ret_blocker);
/**
 * hd_iommu_explain: why @d shares its IOMMU group: the multifunction
 * siblings and upstream ports that lack ACS isolation (source validation,
 * request/completion redirect, upstream forwarding).  Human text, one
 * finding per line.  -EOPNOTSUPP for a device that is not PCI (the
 * context's error says so).
 */
int hd_iommu_explain(hd_device *d, char **ret);

/* ---- passthrough (vfio/) ---------------------------------------------- */

/* Where journals and the lock live: default /var/lib/hostdev, or
 * SYSROOT/var/lib/hostdev with a sysroot. */
int hd_ctx_set_state_dir(hd_ctx *ctx, const char *dir);
const char *hd_ctx_get_state_dir(hd_ctx *ctx);
/* How long to wait for a driver to bind (default 10000 ms). */
void hd_ctx_set_bind_timeout(hd_ctx *ctx, unsigned msec);
/* How long an operation waits for the state directory's lock that another
 * hostdev run holds (a transaction, an SR-IOV change): UINT64_MAX (the
 * default) waits as long as it takes; otherwise, after @usec microseconds
 * the operation fails with -ETIMEDOUT and the context's error names the
 * directory ("the state directory DIR is locked by another hostdev
 * operation (pid N) for S s"), having changed nothing.  hostdevd sets it
 * so that its event loop is never held past its watchdog. */
void hd_ctx_set_lock_timeout(hd_ctx *ctx, uint64_t usec);

enum {
        HD_VFIO_GROUP = 1 << 0,   /* every endpoint of the device's IOMMU group */
        HD_VFIO_DRY_RUN = 1 << 1, /* plan and check only; change nothing */
        HD_VFIO_FORCE = 1 << 2,   /* override host-safety refusals */
};

/* Results of detach, reattach and recover: include/hostdev/result.h
 * (kind HD_RESULT_DRIVERS); each step is one PCI function: subject its
 * address, from and to its drivers ("" = unbound), outcome DONE,
 * UNCHANGED, PLANNED (dry run), FAILED, ROLLED_BACK or NOT_ATTEMPTED. */
typedef struct hd_result hd_result;

/**
 * hd_vfio_detach: bind @d (or, with HD_VFIO_GROUP, every endpoint of its
 * IOMMU group) to @driver ("vfio-pci" or "pci-stub") through
 * driver_override + drivers_probe, as one transaction: if a device fails,
 * the ones already moved go back to their original drivers.  The original
 * driver and override of every device are journaled (state dir) before any
 * change, so that hd_vfio_reattach() restores exactly them and
 * hd_vfio_recover() can finish an interrupted transaction.  Devices the
 * host needs (mounted filesystems, swap, active dm/md/LVM, the default
 * route, the boot VGA with a framebuffer console, open DRM nodes) are
 * refused unless HD_VFIO_FORCE.
 *
 * Returns <0 when nothing could be planned (bad device, lock or journal
 * failure); otherwise 0 and *ret, whose status tells the outcome and
 * whose reason says why it was refused or failed (also logged, info level).
 */
int hd_vfio_detach(hd_nodedev_list *list, hd_device *d, const char *driver, unsigned flags,
                   hd_result **ret);
int hd_vfio_reattach(hd_nodedev_list *list, hd_device *d, unsigned flags, hd_result **ret);
/* The same for several devices (a GPU and its audio function) as one
 * transaction: every device moves, or none stays moved.  With
 * HD_VFIO_GROUP, the union of their groups; a device named twice, or
 * reached through two groups, moves once.  -EINVAL for an empty set or a
 * non-endpoint among them. */
int hd_vfio_detach_devices(hd_nodedev_list *list, hd_device *const *devs, size_t n_devs, const char *driver,
                           unsigned flags, hd_result **ret);
int hd_vfio_reattach_devices(hd_nodedev_list *list, hd_device *const *devs, size_t n_devs, unsigned flags,
                             hd_result **ret);
/* Finish or undo an interrupted transaction; drop records of devices no
 * longer bound to a stub driver (e.g. after a reboot). */
int hd_vfio_recover(hd_ctx *ctx, hd_result **ret);

/**
 * hd_host_safety_check: 0 when @d can leave its host driver; -EBUSY when
 * the host needs it (see hd_vfio_detach), and also when a fact the check
 * needs cannot be read (proc/self/mountinfo, proc/swaps, proc/net/route
 * below the root: a capture has none), the reason then saying
 * "host-safety facts unknown".  Never 0 without the facts.  On -EBUSY it
 * sets the context's error (hd_ctx_get_error) to the reason
 * ("sda2 backs the filesystem mounted on /").
 */
int hd_host_safety_check(hd_nodedev_list *list, hd_device *d);

/* true when hostdev detached the PCI function @addr and journaled its
 * original driver (hd_vfio_reattach gives it back). */
bool hd_vfio_is_journaled(hd_ctx *ctx, const char *addr);

/* true when the journal holds a transaction a crash interrupted (one
 * hd_vfio_recover finishes or undoes); reads nothing else and takes no
 * lock, so a clean start creates nothing. */
bool hd_vfio_transaction_pending(hd_ctx *ctx);

/**
 * hd_pci_reset: reset a PCI function through the kernel ("reset").  The
 * kernel's methods are in "reset_method"; the first one is used.  Returns
 * <0 only for a bad argument (-EINVAL: not a PCI device); otherwise 0 and
 * *ret (kind HD_RESULT_RESET) with one step, subject the node-device name,
 * to the kernel's method: DONE; SKIPPED when bound to vfio-pci, which
 * resets the device itself (the reason says so); status -EBUSY, unless
 * HD_VFIO_FORCE, when the host needs the device (hd_host_safety_check) or
 * only a bus reset is possible and other bound devices share the bus;
 * -EINVAL for a bridge, -EOPNOTSUPP without a method; the reason says why.
 */
int hd_pci_reset(hd_nodedev_list *list, hd_device *d, unsigned flags, hd_result **ret);
/* The kernel's reset methods of a PCI function ("flr bus"), in the order it
 * tries them; -ENOENT when it offers none. */
int hd_pci_get_reset_methods(hd_device *d, char *buf, size_t size);

/* ---- domain XML (domain/) ------------------------------------------------ */

enum {
        HD_HOSTDEV_XML_MANAGED = 1 << 0,    /* managed='yes' (default) */
        HD_HOSTDEV_XML_UNMANAGED = 1 << 1,  /* managed='no' */
        HD_HOSTDEV_XML_BY_ADDRESS = 1 << 2, /* USB: also <address bus= device=> */
};

/**
 * hd_device_format_hostdev_xml: the libvirt domain device XML that passes
 * @d to a guest: PCI → <hostdev type='pci'>, an SR-IOV VF with a network
 * interface → <interface type='hostdev'>, USB device → <hostdev type='usb'>,
 * SCSI device → <hostdev type='scsi'>, mdev → <hostdev type='mdev'>.
 * -EOPNOTSUPP for other capability types (a USB interface among them: its
 * device is what can be assigned); -EPERM for a USB root hub, which belongs
 * to its host controller; -EINVAL for a PCI bridge.  Every failure sets
 * the context's error ("usb_usb1: a USB root hub belongs to its host
 * controller and cannot be given to a guest (pass the controller ...)").
 */
int hd_device_format_hostdev_xml(hd_device *d, unsigned flags, char **ret);
/* The same with <rom file='@rom_file'/> (an absolute path) for a PCI
 * device; -EINVAL for a relative path, -EOPNOTSUPP for other devices. */
int hd_device_format_hostdev_xml_rom(hd_device *d, unsigned flags, const char *rom_file, char **ret);

/* ---- devices in use by VMs (domain/libvirt.c) ------------------------- */

/**
 * hd_in_use_fn: is the device (@kind "pci" with a PCI address, or "mdev"
 * with a UUID) used by a running guest?  Returns 0 when not (a domain that
 * is only defined: warn and return 0), 1 when a running one uses it,
 * -EAGAIN when it cannot be told.  With 1 and -EAGAIN it sets
 * *@ret_reason to a malloc()ed text (the caller frees it) naming the
 * domain, or saying why it cannot be told; it may leave it NULL.
 * Operations that take a device from a guest (reattach, reset, shrinking
 * VFs, removing an mdev) ask it; a running user refuses them (-EBUSY), an
 * unknown answer refuses them unless forced.
 */
typedef int (*hd_in_use_fn)(hd_ctx *ctx, const char *kind, const char *id, char **ret_reason, void *userdata);
void hd_ctx_set_in_use_fn(hd_ctx *ctx, hd_in_use_fn fn, void *userdata);

typedef struct hd_domain_usage hd_domain_usage;

typedef struct hd_domain_use {
        const char *domain;     /* libvirt domain name */
        bool running;           /* false: defined only */
        const char *uri;        /* the connection it was found on */
        const char *how;        /* "hostdev", "interface type='hostdev'", "network 'NAME' (VF pool)" */
        const char *xml;        /* the domain's own device element (for detach) */
} hd_domain_use;

enum {
        HD_DOMAIN_USAGE_RW = 1 << 0,    /* read-write connection (attach, detach) */
};

/**
 * hd_domain_usage_new: which libvirt domains use which devices of the
 * context's host.  First decides whether libvirt is to be asked at all:
 * -ENOENT, when no domain can use a device here, for @uri "none" (a
 * libvirt hook must not call back into libvirt), for a sysroot without
 * @uri (a captured tree has no domains), and on the live host without
 * @uri when no libvirt daemon socket exists (run/libvirt/libvirt-sock,
 * virtqemud-sock and their -ro; for a user other than root also those
 * below $XDG_RUNTIME_DIR/libvirt, a session daemon): neither libvirt's
 * client library (some fifty libraries) nor a connection is then worth
 * its time.  Otherwise connects to @uri (libvirt's default when NULL) and
 * reads every domain's XML (live XML of running ones, the persistent XML
 * of defined ones) and every network's: which PCI, USB, SCSI and mdev
 * devices each domain uses through <hostdev>, <interface type='hostdev'>
 * and <interface type='network'> on a VF pool (<forward mode='hostdev'>
 * with <pf dev=> or <address> lists; the PF's VFs are resolved through
 * @list, a full list of @ctx, or, when NULL, one the usage enumerates and
 * keeps).  -EOPNOTSUPP without libvirt's client library, -ECONNREFUSED
 * when libvirt cannot be reached.  Every failure sets the context's error
 * ("libvirt (URI) cannot be asked: <libvirt's message>"; for -ENOENT why
 * libvirt is not asked).
 */
int hd_domain_usage_new(hd_ctx *ctx, hd_nodedev_list *list, const char *uri, unsigned flags,
                        hd_domain_usage **ret);
hd_domain_usage *hd_domain_usage_free(hd_domain_usage *u);
/* Re-read the domains (after an attach or detach). */
int hd_domain_usage_reload(hd_domain_usage *u);
const char *hd_domain_usage_get_uri(hd_domain_usage *u);
/**
 * hd_domain_usage_find: the domains that use @d (a PCI function, its VF
 * network interface, a USB device, a SCSI device or an mdev).  *ret is an
 * array of borrowed entries (caller frees the array); 0 entries when none.
 */
int hd_domain_usage_find(hd_domain_usage *u, hd_device *d, const hd_domain_use ***ret, size_t *ret_n);
/* Set @u as the context's in-use function (see hd_in_use_fn); @u must
 * outlive its use.  With @u NULL, every question answers -EAGAIN with
 * @why (libvirt could not be asked); the context keeps that answer (a
 * copy of @why) and frees it with itself. */
void hd_domain_usage_install(hd_ctx *ctx, hd_domain_usage *u, const char *why);
/**
 * hd_domain_usage_install_lazy: from now on @ctx's in-use question (see
 * hd_in_use_fn) is answered from libvirt at @uri (NULL: libvirt's default
 * URI; "none": libvirt is never asked), asked when the first answer is
 * needed, not now, and once per context.  The context owns that usage:
 * hd_domain_usage_get() hands it out, and it is freed with the context or
 * when another in-use function is set.  0, or -ENOMEM.
 */
int hd_domain_usage_install_lazy(hd_ctx *ctx, const char *uri);
/**
 * hd_domain_usage_get: the usage that hd_domain_usage_install_lazy() put
 * in @ctx, read now if it was not yet: with @list (a full list of @ctx,
 * or NULL) and @flags (HD_DOMAIN_USAGE_RW: a read-write connection, for
 * attach and detach) as hd_domain_usage_new() takes them; the first call
 * decides.  Returns 1 and *@ret (owned by the context); 0 when libvirt is
 * not asked here (hd_domain_usage_new's -ENOENT cases), <0 when libvirt
 * cannot be asked; in both the context's error says why, on every call.
 * -ENXIO when no usage was installed.
 */
int hd_domain_usage_get(hd_ctx *ctx, hd_nodedev_list *list, unsigned flags, hd_domain_usage **ret);
/* The in-use question itself (hd_in_use_fn) over @u: 0, or 1 / -EAGAIN
 * with the reason in *@ret_reason (caller frees). */
int hd_domain_usage_check(hd_domain_usage *u, hd_ctx *ctx, const char *kind, const char *id, char **ret_reason);
/**
 * hd_domain_watch_new: follow libvirt's domain events at @uri (NULL:
 * libvirt's default URI), for a caller that keeps its answers of
 * hd_domain_usage_* current.  hd_domain_watch_get_fd() is an fd (an
 * eventfd) that becomes readable when a domain was started, stopped,
 * defined or undefined, or a device was attached to or detached from a
 * domain (libvirt's LIFECYCLE, DEVICE_ADDED, DEVICE_REMOVED and
 * DEVICE_REMOVAL_FAILED events), and again when the watch connected after
 * libvirt was unreachable (what changed meanwhile is unknown): the caller
 * asks libvirt afresh then.  hd_domain_watch_ack() drains it: the number
 * of signals since the last call (0 none; -errno).
 *
 * Decides as hd_domain_usage_new() whether libvirt is asked at all:
 * -ENOENT for @uri "none" and for a sysroot without @uri (no watch then,
 * the context's error says why); -EOPNOTSUPP without libvirt's client
 * library.  Otherwise it connects (read-only) at once and returns 0 even
 * when libvirt cannot be reached (no libvirt daemon socket for the
 * default URI, or libvirt refuses): it tries again in the background, 1 s
 * after, then doubling up to 60 s, and likewise when the connection
 * closes (libvirtd stopped or restarted; keepalive 5 s x 3).
 *
 * The events arrive on one thread of the library's for every watch of the
 * process, which runs libvirt's default event loop implementation: the
 * first watch registers it (virEventRegisterDefaultImpl, once per process;
 * an application that runs its own libvirt event loop in the same process
 * must not use a watch).  That thread logs through @ctx's log function
 * (connection lost and back, at info and debug); @ctx is held until the
 * watch is freed.
 */
typedef struct hd_domain_watch hd_domain_watch;
int hd_domain_watch_new(hd_ctx *ctx, const char *uri, hd_domain_watch **ret);
int hd_domain_watch_get_fd(hd_domain_watch *w);
int hd_domain_watch_ack(hd_domain_watch *w);
hd_domain_watch *hd_domain_watch_free(hd_domain_watch *w);
/**
 * hd_domain_attach_xml / hd_domain_detach_xml: virDomainAttachDeviceFlags /
 * virDomainDetachDeviceFlags of @xml on @domain; @live and @config as
 * virsh's --live and --config (neither: libvirt's "current").  -ENOENT
 * for an unknown domain, -EIO when libvirt refuses; both set the error of
 * the usage's context ("no domain 'X' on URI", libvirt's message).
 */
int hd_domain_attach_xml(hd_domain_usage *u, const char *domain, const char *xml, bool live, bool config);
int hd_domain_detach_xml(hd_domain_usage *u, const char *domain, const char *xml, bool live, bool config);
/* Flags of the operations on a device and a domain. */
enum {
        HD_DOMAIN_LIVE = 1 << 0,      /* virsh --live */
        HD_DOMAIN_CONFIG = 1 << 1,    /* virsh --config (neither: libvirt's "current") */
        HD_DOMAIN_UNMANAGED = 1 << 2, /* attach: managed='no', hostdev detaches the IOMMU group */
        HD_DOMAIN_DRY_RUN = 1 << 3,   /* plan and check only; change nothing */
        HD_DOMAIN_FORCE = 1 << 4,     /* override host-safety refusals */
};
/**
 * hd_domain_attach: pass @d (any device hd_device_format_hostdev_xml
 * takes) to libvirt domain @domain, asking the context's usage
 * (hd_domain_usage_install_lazy; read-write unless a dry run).  Refused
 * (-EBUSY) when a running domain uses @d or a member of its IOMMU group,
 * or, unless HD_DOMAIN_FORCE, when the host needs a member
 * (hd_host_safety_check); fails when libvirt cannot be asked, and in
 * managed mode when another member of the group is still on a host
 * driver (libvirt moves only @d).  With HD_DOMAIN_UNMANAGED the whole
 * group moves to vfio-pci first (journaled); if libvirt then refuses, the
 * group goes back to its drivers (a "rollback" step).  The result
 * (HD_RESULT_DOMAIN) holds the plan and what happened: the steps
 * "detach-group" and its "move"s, "managed", "attach" (with the XML), and
 * "rollback".  Returns <0 without a result only for bad arguments and
 * when out of memory; then the context's error may say why.
 */
int hd_domain_attach(hd_nodedev_list *list, const char *domain, hd_device *d, unsigned flags, hd_result **ret);
/**
 * hd_domain_detach_device: take @d from libvirt domain @domain (its own
 * device element of the domain's XML, virDomainDetachDeviceFlags; flags
 * HD_DOMAIN_LIVE, HD_DOMAIN_CONFIG, HD_DOMAIN_DRY_RUN), then give every
 * member of @d's IOMMU group that hostdev journaled back to its original
 * driver.  Fails when libvirt is not or cannot be asked, when @domain does
 * not use @d, when libvirt refuses, and when a member cannot be given
 * back.  Steps: "detach" (with the XML), "give-back" and its "move"s.
 */
int hd_domain_detach_device(hd_nodedev_list *list, const char *domain, hd_device *d, unsigned flags,
                            hd_result **ret);
/**
 * hd_domain_hook_prepare / hd_domain_hook_release: libvirt's qemu hook
 * for domain @domain with its XML @xml.  Prepare moves every unmanaged
 * PCI hostdev (hd_domain_xml_pci_hostdevs) with its IOMMU group to
 * vfio-pci (journaled, host safety applies); on a refusal or failure the
 * groups moved before go back, and the reason names the domain and the
 * device ("domain 'D': refused to detach ADDR: ...").  Release gives every
 * journaled member of those groups back to its original driver.  The
 * context must not ask libvirt (hd_domain_usage_install_lazy(ctx,
 * "none")): a hook runs while libvirt holds the domain's lock.  -EBADMSG
 * (the context's error says so) when @xml does not parse; nothing is
 * read from the host when it names no unmanaged PCI hostdev.
 */
int hd_domain_hook_prepare(hd_ctx *ctx, const char *domain, const char *xml, hd_result **ret);
int hd_domain_hook_release(hd_ctx *ctx, const char *domain, const char *xml, hd_result **ret);
/* PCI addresses ("0000:01:00.0") of a domain XML's <hostdev type='pci'> and
 * <interface type='hostdev'>, only the managed='no' ones (libvirt's default)
 * with @unmanaged_only; NULL-terminated, caller frees.  -EBADMSG for XML
 * that does not parse. */
int hd_domain_xml_pci_hostdevs(const char *xml, bool unmanaged_only, char ***ret, size_t *ret_n);
/* 1 and the pid (and its comm, may be NULL) when a process has
 * /dev/vfio/@group open; 0 when none. */
int hd_vfio_group_holder(hd_ctx *ctx, unsigned group, int *ret_pid, char **ret_comm);
/* Every /dev/vfio/N that a process has open, in one pass over /proc (the
 * first process found per group); free with hd_vfio_holders_free() (*ret
 * NULL when none). */
typedef struct hd_vfio_holder {
        unsigned group;
        int pid;
        char *comm;             /* /proc/PID/comm; NULL when unreadable */
} hd_vfio_holder;
int hd_vfio_list_holders(hd_ctx *ctx, hd_vfio_holder **ret, size_t *ret_n);
void hd_vfio_holders_free(hd_vfio_holder *v, size_t n);

/* ---- capture ---------------------------------------------------------- */

typedef struct hd_capture_stats {
        size_t devices;         /* kernel devices (sysfs directories) copied */
        size_t files, links, udev_entries;
        size_t node_devices;    /* node devices the capture replays ("computer" included) */
} hd_capture_stats;

/**
 * hd_capture: copy what libhostdev reads of the context's host (device
 * attributes and links, IOMMU groups, DMI, udev database entries) into
 * @dir, which must be empty or absent, so that hd_ctx_new(@dir) replays
 * it.  Reads only; nothing is written below the context's root.  Files
 * the caller cannot read (root-only attributes) are left out.
 */
int hd_capture(hd_ctx *ctx, const char *dir, hd_capture_stats *ret_stats);

#ifdef __cplusplus
}
#endif

#include "hostdev/result.h"
#include "hostdev/sriov.h"
#include "hostdev/mdev.h"
#include "hostdev/gpu.h"
#include "hostdev/boot.h"
