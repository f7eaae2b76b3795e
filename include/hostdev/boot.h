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

typedef struct hd_boot_device {
        char addr[32];
        char ids[16];           /* "8086:10d3" */
        char driver_now[64];    /* bound driver now ("" = none) */
        char host_module[64];   /* module of the host driver to delay ("" = none/unknown) */
        char reason[160];       /* "requested" or "IOMMU group 2 mate of 0000:01:00.0" */
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
        char driver[16];        /* "vfio-pci" or "pci-stub" */
        char initramfs[24];     /* "initramfs-tools", "dracut", "mkinitcpio" or "" */
        char bootloader[48];    /* "grub", "grubby (BLS)", "systemd-boot", "kernel-install" or "" */
        char iommu_vendor[16];  /* "intel", "amd" or "" */
        bool by_ids;            /* vfio-pci.ids= rather than per-address binding */
        char ids[256];          /* "10de:1b80,10de:10f0" when by_ids */
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
 * (-EBUSY, reason in @err) devices the host needs (root disk controller,
 * default-route NIC, boot console GPU) unless HD_BOOT_FORCE; -EINVAL for a
 * bridge or a non-PCI device; -EBADMSG for a configuration file it cannot
 * edit safely (GRUB continuation lines, unbalanced quotes); -ENOENT when
 * no boot loader configuration is found.  @err always says why.
 */
int hd_boot_plan_new(hd_nodedev_list *list, const char *root, hd_device *const *devs, size_t n, unsigned flags,
                     hd_boot_plan **ret, char *err, size_t errsize);
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
 * the number of files changed (0: already applied).
 */
int hd_boot_apply(hd_ctx *ctx, const hd_boot_plan *p, unsigned flags, hd_boot_command_fn cb, void *userdata);

/**
 * hd_boot_undo: restore the exact pre-apply bytes (and modes) of every file
 * the journal of @root lists, remove the files apply created, then
 * regenerate.  Returns the number of files restored, 0 when nothing was
 * applied.
 */
int hd_boot_undo(hd_ctx *ctx, const char *root, unsigned flags, hd_boot_command_fn cb, void *userdata);

typedef struct hd_boot_status_device {
        char addr[32];
        char want[16];          /* driver configured at boot */
        char now[64];           /* bound now ("" = none) */
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

int hd_boot_get_status(hd_nodedev_list *list, const char *root, hd_boot_status **ret);
void hd_boot_status_free(hd_boot_status *s);

/* ---- driver overrides (driverctl-compatible) ------------------------- */

typedef struct hd_override {
        char addr[32];
        char driver[64];
        bool has_identity;      /* hostdev recorded the device's identity */
        char ids[16];           /* recorded "vendor:device" ("" without identity) */
        char subsys[16];        /* recorded subsystem ids */
        char serial[128];       /* recorded serial ("" = none) */
        char now[64];           /* bound now ("" = none or absent) */
        const char *match;      /* "ok", "absent", "mismatch", "unchecked" (driverctl file) */
        char why[160];          /* mismatch detail */
} hd_override;

/* Persist @driver for @d in ROOT/etc/driverctl.d/pci-ADDR (driverctl's
 * format) with its identity in ROOT/etc/hostdev/overrides/pci-ADDR, and
 * install the udev rule and script that apply overrides at boot and
 * hotplug.  With a live host and no HD_BOOT_DRY_RUN it also binds now.
 * Returns 1 when something changed, 0 when already so. */
int hd_override_set(hd_nodedev_list *list, const char *root, hd_device *d, const char *driver, unsigned flags);
/* -ENOENT when there is no override for @addr. */
int hd_override_unset(hd_nodedev_list *list, const char *root, const char *addr, unsigned flags);
/* Every override (hostdev's and driverctl's), checked against the devices. */
int hd_override_list(hd_nodedev_list *list, const char *root, hd_override **ret, size_t *ret_n);

/* ---- passthrough preflight ------------------------------------------- */

enum hd_check_result { HD_CHECK_PASS, HD_CHECK_WARN, HD_CHECK_FAIL };

typedef struct hd_check {
        char name[48];          /* "iommu", "interrupt-remapping", ... */
        char subject[32];       /* device address, or "" for the host */
        enum hd_check_result result;
        char detail[256];
        char fix[256];          /* "" when nothing to do */
} hd_check;

/* Checks of the host and of @devs (may be empty). */
int hd_doctor(hd_nodedev_list *list, hd_device *const *devs, size_t n, hd_check **ret, size_t *ret_n);
const char *hd_check_result_to_string(enum hd_check_result r);

#ifdef __cplusplus
}
#endif
