/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libhostdev boot-time passthrough (boot/): plan, apply, verify and undo
 * what binds a device to vfio-pci (or pci-stub) from the first moment of
 * boot; persistent driverctl-compatible driver overrides; the passthrough
 * preflight ("doctor").  Included by hostdev/hostdev.h.
 *
 * A "root" is the system whose configuration is changed: NULL for this
 * host, or the directory of an offline root (an image, a chroot).  Devices
 * are always those of the context's node-device list.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
        HD_BOOT_DRY_RUN = 1 << 0,       /* plan and check only; change nothing */
        HD_BOOT_FORCE = 1 << 1,         /* override host-safety refusals */
        HD_BOOT_NO_REGENERATE = 1 << 2, /* write the files, do not run the commands */
        HD_BOOT_STUB = 1 << 3,          /* pci-stub instead of vfio-pci */
};

/* The strings of the boot structs are owned by the struct (freed by its free
 * function); NULL means none, as each member says. */
typedef struct hd_boot_device {
        char *addr;
        char *ids;              /* "8086:10d3" */
        char *driver_now;       /* bound driver now (NULL = none) */
        char *host_module;      /* module of the host driver to delay (NULL = none/unknown) */
        char *reason;           /* "requested" or "IOMMU group 2 mate of 0000:01:00.0" */
} hd_boot_device;

typedef struct hd_boot_file {
        char *path;             /* absolute inside the root: "/etc/default/grub" */
        char *before;           /* NULL: the file does not exist */
        char *after;            /* NULL: the file is removed */
        unsigned mode;          /* of the new file */
        char *why;
} hd_boot_file;

typedef struct hd_boot_plan {
        char *root;             /* NULL: this host */
        char *driver;           /* "vfio-pci" or "pci-stub" */
        char *initramfs;        /* "initramfs-tools", "dracut", "mkinitcpio" or NULL */
        char *bootloader;       /* "grub", "grubby (BLS)", "systemd-boot", "kernel-install" or NULL */
        char *iommu_vendor;     /* "intel", "amd" or NULL */
        bool by_ids;            /* vfio-pci.ids= rather than per-address binding */
        char *ids;              /* "10de:1b80,10de:10f0" when by_ids, else NULL */
        hd_boot_device *devices;
        size_t n_devices;
        char **kargs;           /* kernel arguments the boot needs */
        size_t n_kargs;
        char **notes;           /* warnings for humans */
        size_t n_notes;
        hd_boot_file *files;    /* every file that differs, sorted by path */
        size_t n_files;
        char **commands;        /* regeneration commands, in order */
        size_t n_commands;
} hd_boot_plan;

/**
 * hd_boot_plan_new: what must change in @root (NULL: this host) so that
 * @devs, plus the endpoints of their IOMMU groups (bridges excluded), are
 * bound to vfio-pci (pci-stub with HD_BOOT_STUB) at boot.  Refuses
 * (-EBUSY) devices the host needs (root disk controller, default-route
 * NIC, boot console GPU) unless HD_BOOT_FORCE; -EINVAL for a bridge, a
 * non-PCI device or a @root of "" or "/"; -EBADMSG for a configuration
 * file it cannot edit safely (GRUB continuation lines, unbalanced quotes);
 * -ENOENT when no boot loader configuration is found.  The reason of each
 * failure is the error of @list's context (hd_ctx_get_error()).
 */
int hd_boot_plan_new(hd_nodedev_list *list, const char *root, hd_device *const *devs, size_t n, unsigned flags,
                     hd_boot_plan **ret);
void hd_boot_plan_free(hd_boot_plan *p);
/* The plan in words (newline terminated lines). */
int hd_boot_plan_format_text(const hd_boot_plan *p, char **ret);
/* Every file change as a unified diff (a/ b/ prefixes, /dev/null for
 * created and removed files). */
int hd_boot_plan_format_diff(const hd_boot_plan *p, char **ret);

typedef void (*hd_boot_command_fn)(void *userdata, const char *command, int status);

/**
 * hd_boot_apply: carry out @p: save a backup of every file it changes and
 * a journal under STATE/boot (STATE = ROOT/var/lib/hostdev with a root,
 * else the context's state dir), write each file atomically, then run the
 * regeneration commands (chrooted into the root) unless
 * HD_BOOT_NO_REGENERATE or HD_BOOT_DRY_RUN.  If a write fails, every file
 * already written is put back, and nothing is left changed.  @cb (may be
 * NULL) hears each command with its exit status (-1: not run).  Returns
 * the number of files changed (0: already applied); on failure the reason
 * is the context's error (hd_ctx_get_error()).
 */
int hd_boot_apply(hd_ctx *ctx, const hd_boot_plan *p, unsigned flags, hd_boot_command_fn cb, void *userdata);

/**
 * hd_boot_undo: restore the exact pre-apply bytes (and modes) of every file
 * the journal of @root lists, remove the files apply created, then
 * regenerate.  Returns the number of files restored, 0 when nothing was
 * applied; on failure (the journal then stays, and undo can be run again)
 * the reason is the context's error.
 */
int hd_boot_undo(hd_ctx *ctx, const char *root, unsigned flags, hd_boot_command_fn cb, void *userdata);

typedef struct hd_boot_status_device {
        char *addr;
        char *want;             /* driver configured at boot */
        char *now;              /* bound now (NULL = none) */
} hd_boot_status_device;

typedef struct hd_boot_status {
        const char *state;      /* "not configured", "configured, active after reboot", "active",
                                 * "active, no longer configured", "drift" */
        bool configured, active;
        bool kargs_live;        /* every karg is in /proc/cmdline */
        char **drift;           /* files changed since apply, or missing kargs/softdeps */
        size_t n_drift;
        char **kargs;
        size_t n_kargs;
        hd_boot_status_device *devices;
        size_t n_devices;
        char **softdeps;        /* softdep lines configured */
        size_t n_softdeps;
} hd_boot_status;

/* The reason of a failure is the error of @list's context. */
int hd_boot_get_status(hd_nodedev_list *list, const char *root, hd_boot_status **ret);
void hd_boot_status_free(hd_boot_status *s);

/* ---- driver overrides (driverctl-compatible) ------------------------- */

typedef struct hd_result hd_result;

typedef struct hd_override {
        char *addr;
        char *driver;
        bool has_identity;      /* hostdev recorded the device's identity */
        char *ids;              /* recorded "vendor:device" (NULL without identity) */
        char *subsys;           /* recorded subsystem ids (NULL without identity) */
        char *serial;           /* recorded serial (NULL = none) */
        char *now;              /* bound now (NULL = none or absent) */
        const char *match;      /* "ok", "absent", "mismatch", "unchecked" (driverctl file) */
        char *why;              /* mismatch detail (NULL = none) */
} hd_override;

/* The overrides' functions report the reason of a failure as the error of
 * @list's context (hd_ctx_get_error()). */

/* Persist @driver for @d in ROOT/etc/driverctl.d/pci-ADDR (driverctl's
 * format) with its identity in ROOT/etc/hostdev/overrides/pci-ADDR, and
 * install the udev rule and script that apply overrides at boot and
 * hotplug (it does not bind now: nodedev-detach does).  Nothing is written
 * with HD_BOOT_DRY_RUN.  Returns 1 when something changed, 0 when already so; -EINVAL when @d is
 * not a PCI function or @driver not a driver name. */
int hd_override_set(hd_nodedev_list *list, const char *root, hd_device *d, const char *driver, unsigned flags);
/* -ENOENT when there is no override for @addr, -EINVAL when @addr is not
 * a PCI address. */
int hd_override_unset(hd_nodedev_list *list, const char *root, const char *addr, unsigned flags);
/* Every override (hostdev's and driverctl's), checked against the devices;
 * free with hd_override_array_free(). */
int hd_override_list(hd_nodedev_list *list, const char *root, hd_override **ret, size_t *ret_n);
void hd_override_array_free(hd_override *v, size_t n);

/**
 * hd_device_apply_persisted: apply the persisted configuration of @d, a
 * device that has just appeared (hotplug; hostdevd calls it for every
 * device a rebuild finds new), from @root (NULL: this host): its driver
 * override (ROOT/etc/driverctl.d/pci-ADDR).  When hostdev recorded the
 * identity the override was made for (ROOT/etc/hostdev/overrides/pci-ADDR)
 * and the device there now is another one (ids, subsystem ids, serial),
 * nothing changes: the result is refused (-EBUSY) and its reason names
 * both identities (drift).  A vfio-pci or pci-stub override is applied
 * through hd_vfio_detach() (journaled; its refusals apply); another
 * driver is left to the override script the udev rule runs (status
 * -EOPNOTSUPP).  @flags: HD_VFIO_DRY_RUN only.  Returns 0 when nothing is
 * persisted for @d (*ret untouched), 1 with *ret (kind HD_RESULT_DRIVERS)
 * otherwise, <0 when the root or the override file cannot be read (the
 * context's error).
 */
int hd_device_apply_persisted(hd_nodedev_list *list, const char *root, hd_device *d, unsigned flags,
                              hd_result **ret);

/* ---- passthrough preflight ------------------------------------------- */

enum hd_check_result { HD_CHECK_PASS, HD_CHECK_WARN, HD_CHECK_FAIL };

typedef struct hd_check {
        char *name;             /* "iommu", "interrupt-remapping", ... */
        char *subject;          /* device address, or NULL for the host */
        enum hd_check_result result;
        char *detail;
        char *fix;              /* NULL when nothing to do */
} hd_check;

/* Checks of the host and of @devs (may be empty; devices that are not PCI
 * are skipped); free with hd_check_array_free(). */
int hd_doctor(hd_nodedev_list *list, hd_device *const *devs, size_t n, hd_check **ret, size_t *ret_n);
void hd_check_array_free(hd_check *v, size_t n);
const char *hd_check_result_to_string(enum hd_check_result r);

/* ---- JSON (what hostdevctl prints with --json, and hostdevd answers) -- */

struct json_object;
/* `boot plan --json` (also `boot apply --dry-run --json`): root, driver,
 * initramfs, bootloader, iommu_vendor, binding, ids, devices, kernel_arguments,
 * files (with each file's diff), commands, notes.  Caller puts *ret. */
int hd_boot_plan_to_json(const hd_boot_plan *p, struct json_object **ret);
/* `boot status --json` */
int hd_boot_status_to_json(const hd_boot_status *s, struct json_object **ret);
/* `override list --json` of hd_override_list()'s array */
int hd_override_array_to_json(const hd_override *v, size_t n, struct json_object **ret);

#ifdef __cplusplus
}
#endif
