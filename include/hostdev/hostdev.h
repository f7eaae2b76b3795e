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
 * @sysroot: NULL (or "/") for the live host, otherwise a directory that
 *           holds a captured tree: sysroot/sys, sysroot/run/udev/data,
 *           sysroot/dev, sysroot/etc/machine-id.
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
/* Returns the enum value, or -EINVAL. */
int hd_cap_type_from_string(const char *s);

/* ---- node devices ----------------------------------------------------- */

/**
 * hd_nodedev_list_new: enumerate every node device of the context's host
 * into a capability tree rooted at "computer".  Devices that cannot be read
 * are skipped with a warning through the log function.
 */
int hd_nodedev_list_new(hd_ctx *ctx, hd_nodedev_list **ret);
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
 *         "/sys/class/net/eth0"), or an mdev UUID.
 *
 * Returns 0 and the device, -ENODEV when nothing matches, -EINVAL for a
 * malformed query (e.g. a path leaving /sys), -ENOTUNIQ when an mdev UUID
 * matches several parents.
 */
int hd_nodedev_list_lookup(hd_nodedev_list *list, const char *query, hd_device **ret);

const char *hd_device_get_name(hd_device *d);
/* sysfs path as seen on the host ("/sys/devices/..."); NULL for computer. */
const char *hd_device_get_syspath(hd_device *d);
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
        char vendor[16];        /* "intel", "amd", "virtio", "arm-smmu" or "" */
        char hint[160];         /* what to do when disabled, else "" */
} hd_iommu_info;

int hd_iommu_get_info(hd_ctx *ctx, hd_iommu_info *ret);

/* IOMMU group number of a PCI device or mdev; -ENOENT without one. */
int hd_device_get_iommu_group(hd_device *d);
/* Sorted group numbers present on the host; caller frees *ret. */
int hd_iommu_list_groups(hd_nodedev_list *list, unsigned **ret, size_t *ret_n);
/* Devices of a group (PCI functions, or an mdev), sorted by address;
 * caller frees *ret (not the devices, which belong to the list). */
int hd_iommu_group_get_devices(hd_nodedev_list *list, unsigned group, hd_device ***ret, size_t *ret_n);
/* vfio-pci, a vfio variant driver (mlx5_vfio_pci, ...) or pci-stub: a driver
 * that holds a device for a guest rather than for the host. */
bool hd_driver_is_passthrough(const char *driver);
/* pci.ids names of a PCI device ("" when unknown). */
int hd_pci_device_get_names(hd_device *d, char *vendor, size_t vsize, char *product, size_t psize);
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
 * finding per line.
 */
int hd_iommu_explain(hd_device *d, char **ret);

/* ---- passthrough (vfio/) ---------------------------------------------- */

/* Where journals and the lock live: default /var/lib/hostdev, or
 * SYSROOT/var/lib/hostdev with a sysroot. */
int hd_ctx_set_state_dir(hd_ctx *ctx, const char *dir);
const char *hd_ctx_get_state_dir(hd_ctx *ctx);
/* How long to wait for a driver to bind (default 10000 ms). */
void hd_ctx_set_bind_timeout(hd_ctx *ctx, unsigned msec);

enum {
        HD_VFIO_GROUP = 1 << 0,   /* every endpoint of the device's IOMMU group */
        HD_VFIO_DRY_RUN = 1 << 1, /* plan and check only; change nothing */
        HD_VFIO_FORCE = 1 << 2,   /* override host-safety refusals */
};

enum hd_vfio_step_result {
        HD_STEP_DONE,           /* the device moved */
        HD_STEP_NOOP,           /* already where it should be */
        HD_STEP_PLANNED,        /* dry run */
        HD_STEP_FAILED,         /* this device failed (see error) */
        HD_STEP_ROLLED_BACK,    /* moved, then put back after a failure */
        HD_STEP_NOT_ATTEMPTED,  /* not reached because an earlier device failed */
};

typedef struct hd_vfio_step {
        char addr[32];          /* PCI address */
        char from[64];          /* driver before ("" = unbound) */
        char to[64];            /* driver after ("" = unbound) */
        enum hd_vfio_step_result result;
        int error;              /* -errno for HD_STEP_FAILED */
} hd_vfio_step;

typedef struct hd_vfio_result {
        int status;             /* 0 success, -EBUSY refused, other -errno failed */
        char reason[512];       /* refusal or failure, for humans */
        hd_vfio_step *steps;
        size_t n_steps;
} hd_vfio_result;

void hd_vfio_result_free(hd_vfio_result *r);

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
 * failure); otherwise 0 and *ret, whose status tells the outcome.
 */
int hd_vfio_detach(hd_nodedev_list *list, hd_device *d, const char *driver, unsigned flags,
                   hd_vfio_result **ret);
int hd_vfio_reattach(hd_nodedev_list *list, hd_device *d, unsigned flags, hd_vfio_result **ret);
/* Finish or undo an interrupted transaction; drop records of devices no
 * longer bound to a stub driver (e.g. after a reboot). */
int hd_vfio_recover(hd_ctx *ctx, hd_vfio_result **ret);

/**
 * hd_host_safety_check: 0 when @d can leave its host driver; -EBUSY with
 * a reason when the host needs it (see hd_vfio_detach).
 */
int hd_host_safety_check(hd_nodedev_list *list, hd_device *d, char *reason, size_t size);

/**
 * hd_pci_reset: reset a PCI function through the kernel ("reset").  The
 * kernel's methods are in "reset_method"; the first one is reported in
 * @method.  Skipped (returns 1) when bound to vfio-pci, which resets the
 * device itself; -EBUSY when only a bus reset is possible and other bound
 * devices share the bus (reason in @reason); -EOPNOTSUPP without a method.
 */
int hd_pci_reset(hd_nodedev_list *list, hd_device *d, unsigned flags, char *method, size_t msize,
                 char *reason, size_t rsize);

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
 * -EOPNOTSUPP for other capability types.
 */
int hd_device_format_hostdev_xml(hd_device *d, unsigned flags, char **ret);

/* ---- capture ---------------------------------------------------------- */

typedef struct hd_capture_stats {
        size_t devices, files, links, udev_entries;
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

#include "hostdev/sriov.h"
#include "hostdev/mdev.h"
#include "hostdev/boot.h"
