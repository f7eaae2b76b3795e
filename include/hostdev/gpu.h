/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * GPUs (gpu/): one view of every display-class PCI function for
 * passthrough, its option ROM, and vGPU types behind one interface.
 * Included by hostdev.h.
 *
 * DRM facts (driver name and version, card and render nodes) come from
 * libdrm (drmGetDevices2, drmGetVersion) on the live host.  libdrm reads
 * /sys and /dev itself and cannot be re-rooted, so with a sysroot the same
 * facts are read from the tree (drm/cardN, the device's driver link, the
 * node's DEVNAME); hd_gpu.drm_source says which.
 *
 * The strings of these structs are owned by them and freed by their free
 * functions; NULL means none, as each member says.  Failures that have a
 * reason set the context's error (hd_ctx_get_error()).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hd_ctx hd_ctx;
typedef struct hd_nodedev_list hd_nodedev_list;
typedef struct hd_device hd_device;

/* A process that holds one of a GPU's DRM nodes open. */
typedef struct hd_gpu_user {
        int pid;
        char *comm;             /* "?" when unreadable */
        char *node;             /* "/dev/dri/card0" */
} hd_gpu_user;

/* Another function of the same card (same PCI slot). */
typedef struct hd_gpu_companion {
        char *addr;
        char *kind;             /* "audio", "usb", "serial-bus", "other" */
        char *driver;           /* NULL when unbound */
} hd_gpu_companion;

typedef struct hd_gpu {
        hd_device *device;      /* borrowed from the list */
        char *addr;
        unsigned vendor_id, device_id;
        unsigned class_code;    /* 24-bit */
        char *vendor, *product; /* pci.ids names, NULL when unknown */
        char *driver;           /* PCI driver, NULL when unbound */
        char *drm_driver;       /* DRM driver name, NULL without DRM nodes */
        char *drm_version;      /* "1.0.0"; NULL when not read (sysroot) */
        char *drm_date;         /* NULL when not read */
        char *drm_desc;         /* NULL when not read */
        const char *drm_source; /* "libdrm", "sysfs" or NULL (static text) */
        char *card, *render;    /* "/dev/dri/card0", NULL when none */
        hd_gpu_companion *companions;
        size_t n_companions;
        bool boot_vga;
        char *console_holder;   /* fbcon / efifb / simpledrm holding it, or NULL */
        hd_gpu_user *users;
        size_t n_users;
        int iommu_group;        /* -1 without one */
        int group_viable;       /* 1, 0, -1 unknown (no group) */
        char *group_blocker;    /* first blocking member when not viable, else NULL */
        char *reset_methods;    /* kernel reset_method ("flr bus"), NULL when none */
        char *quirk;            /* known-quirk note (gpu/quirks.tsv), or NULL */
        bool has_rom;
        unsigned n_vfs;         /* SR-IOV VFs enabled */
        bool ready;             /* can be passed through now */
        char *reason;           /* why not when !ready, else NULL */
} hd_gpu;

/* Every display-class (0x03) PCI function, SR-IOV VFs left out, sorted by
 * address. */
int hd_gpu_list(hd_nodedev_list *list, hd_gpu **ret, size_t *ret_n);
/* One GPU (free with hd_gpu_free()); -ENOTTY when @d is not a
 * display-class PCI function. */
int hd_gpu_get(hd_nodedev_list *list, hd_device *d, hd_gpu **ret);
void hd_gpu_free(hd_gpu *g);
void hd_gpu_array_free(hd_gpu *g, size_t n);
/* true for a display-class PCI function */
bool hd_device_is_gpu(hd_device *d);
/* The other functions of @d's slot, sorted by address; free with
 * hd_gpu_companions_free().  0 and none for devices that are not PCI. */
int hd_gpu_get_companions(hd_nodedev_list *list, hd_device *d, hd_gpu_companion **ret, size_t *ret_n);
void hd_gpu_companions_free(hd_gpu_companion *v, size_t n);

/* ---- option ROM --------------------------------------------------------- */

typedef struct hd_rom_image {
        size_t offset, length;
        unsigned vendor_id, device_id;
        unsigned code_type;     /* 0 x86 BIOS, 1 Open Firmware, 2 PA-RISC, 3 EFI */
        bool checksum_ok;       /* x86 images: byte sum 0; others: true */
} hd_rom_image;

typedef struct hd_rom_check {
        bool signature_ok;      /* 0x55AA at the start */
        bool pcir_ok;           /* a "PCIR" data structure */
        bool ids_match;         /* first image names the device's vendor:device */
        bool usable;            /* fit for libvirt's <rom file=.../> */
        char *reason;           /* why not usable, NULL when usable */
        hd_rom_image *images;   /* the images in ROM order (at most 64) */
        size_t n_images;
} hd_rom_check;

/* Check a ROM image against @vendor_id:@device_id (pure; no I/O); free
 * *ret with hd_rom_check_free(). */
int hd_rom_check_image(const uint8_t *data, size_t size, unsigned vendor_id, unsigned device_id,
                       hd_rom_check **ret);
void hd_rom_check_free(hd_rom_check *c);
/**
 * hd_gpu_rom_read: read @d's option ROM through sysfs: write "1" to
 * "rom", read it, write "0"; the ROM is disabled again on every path that
 * enabled it, errors included.  -ENOENT when the device has no ROM BAR,
 * -ENODATA when the enabled ROM reads empty, -EINVAL when @d is not a PCI
 * device; the reason is the error of @d's context.  Caller frees *ret.
 */
int hd_gpu_rom_read(hd_device *d, uint8_t **ret, size_t *ret_size);

/* ---- vGPU ------------------------------------------------------------- */

enum hd_vgpu_layout {
        HD_VGPU_MDEV,           /* mdev_supported_types (GVT-g, NVIDIA GRID) */
        HD_VGPU_NVIDIA_VF,      /* NVIDIA per-VF: nvidia/creatable_vgpu_types (kernel >= 6.8) */
};
/* "mdev", "nvidia-vf" */
const char *hd_vgpu_layout_to_string(enum hd_vgpu_layout l);

typedef struct hd_vgpu_type {
        char *parent;           /* mdev parent or the PF, as an address */
        char *id;               /* mdev type id, or NVIDIA's numeric type id */
        char *name;             /* NULL when none */
        enum hd_vgpu_layout layout;
        long available;         /* instances left; -1 unknown */
} hd_vgpu_type;

typedef struct hd_vgpu {
        char *id;               /* mdev UUID, or the VF address */
        char *parent;
        char *type;
        enum hd_vgpu_layout layout;
} hd_vgpu;

/* vGPU types of display-class devices, or of @d only (a PF includes its
 * VFs); -ENODEV when @d has none.  Sorted by parent, then id; free with
 * hd_vgpu_types_free().  The reason of a failure is the error of @list's
 * context, as for the two functions below. */
int hd_vgpu_list_types(hd_nodedev_list *list, hd_device *d, hd_vgpu_type **ret, size_t *ret_n);
void hd_vgpu_types_free(hd_vgpu_type *v, size_t n);
/**
 * hd_vgpu_create: create a vGPU of @type on @d through the layout @d uses:
 * an mdev (random UUID) on an mdev parent, or NVIDIA's current_vgpu_type
 * on the first free VF (of @d, a PF, or @d itself, a VF) that offers
 * @type (its id or name).  *ret (free with hd_vgpu_free()) names the mdev
 * UUID or the VF address.  -ENODEV: @d offers no vGPU types; -ENOENT:
 * unknown type; -ENOSPC: none left; -EEXIST: @d is a VF that has a vGPU
 * already.
 */
int hd_vgpu_create(hd_nodedev_list *list, hd_device *d, const char *type, hd_vgpu **ret);
void hd_vgpu_free(hd_vgpu *v);
/**
 * hd_vgpu_remove: remove the vGPU @id (an mdev UUID, or a VF address or
 * name).  -EBUSY when a process holds its VFIO group open; -ENODEV when
 * there is no such vGPU.
 */
int hd_vgpu_remove(hd_nodedev_list *list, const char *id);

#ifdef __cplusplus
}
#endif
