/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The node-device API of nodedev/ for the rest of the library: hd_device and
 * hd_nodedev_list stay opaque outside nodedev/ (their fields are in
 * nodedev-internal.h, which only nodedev/ includes). */

#include "util/internal.h"
#include "util/dom.h"

/* One kernel device as the enumeration sources report it. */
struct hd_raw_device {
        char *syspath;          /* "/sys/devices/..." */
        char *subsystem;
        char **props;           /* "KEY=VALUE", NULL-terminated; uevent + udev db;
                                 * a later entry overrides an earlier one */
        size_t n_props, cap_props;
        char **devlinks;        /* "/dev/disk/by-id/...", NULL-terminated */
        size_t n_devlinks;
};

/* enumerate.c: the node device at a "/sys/devices/..." path: the known one,
 * or for a lazy list read now (with its parent chain); NULL when none. */
hd_device *hd_nodedev_list_find_syspath(hd_nodedev_list *list, const char *syspath);

/* enumerate.c: insert a device built elsewhere (mdev/): named, typed,
 * parented; takes ownership, also on failure. */
int hd_nodedev_list_insert(hd_nodedev_list *list, hd_device *d, hd_device *parent);
/* enumerate.c: @d and every device below it out of the list and freed, the
 * deepest first, each announced to @fn (may be NULL) before it goes, as
 * hd_nodedev_list_update() removes them (mdev/: a definition gone). */
void hd_nodedev_list_remove(hd_nodedev_list *list, hd_device *d, hd_nodedev_change_fn fn, void *userdata);
/* enumerate.c: the device named @name exactly, NULL when none (a lazy
 * list: only the devices read so far) */
hd_device *hd_nodedev_list_find_name(hd_nodedev_list *list, const char *name);
/* enumerate.c: made by hd_nodedev_list_new_lazy() */
bool hd_nodedev_list_is_lazy(hd_nodedev_list *list);
void hd_device_free(hd_device *d);

typedef int (*hd_raw_cb)(void *userdata, struct hd_raw_device *raw);

/* Sources: call @cb for every candidate device (ownership of raw's
 * contents passes to the callback on success). */
int hd_source_sysfs_scan(hd_ctx *ctx, hd_raw_cb cb, void *userdata);
int hd_source_udev_scan(hd_ctx *ctx, hd_raw_cb cb, void *userdata);
/* One device directory ("/sys/devices/...", taken), as the sysfs source
 * reads it: 1 and @raw filled, 0 when it is no device to report, or -errno.
 * @dir_subsystem: the subsystem to assume when the device has no readable
 * subsystem link (NULL: then it is none). */
int hd_source_sysfs_read_device(hd_ctx *ctx, char *syspath, const char *dir_subsystem, struct hd_raw_device *raw);
extern const char *const hd_skip_subsystems[]; /* NULL-terminated */
/* "run/udev/data/<id>" of a device: c|bMAJ:MIN, nIFINDEX or +SUBSYSTEM:SYSNAME */
int hd_udev_db_path(const struct hd_raw_device *raw, char *buf, size_t size);
/* Parse a udev database file ("E:KEY=VALUE", "S:link") into raw. */
int hd_udev_db_parse(const char *text, struct hd_raw_device *raw);
/* Parse a uevent file into raw->props. */
int hd_uevent_parse(const char *text, struct hd_raw_device *raw);
int hd_raw_add_prop(struct hd_raw_device *raw, const char *key, size_t keylen, const char *value);
int hd_raw_add_propn(struct hd_raw_device *raw, const char *key, size_t keylen, const char *value, size_t vlen);
void hd_raw_device_done(struct hd_raw_device *raw);
const char *hd_raw_get_prop(const struct hd_raw_device *raw, const char *key);

/* "sys/devices/..." relative path of a device attribute, in a static-free
 * caller buffer. */
int hd_device_attr_path(hd_device *d, const char *attr, char *buf, size_t size);
int hd_device_read_attr(hd_device *d, const char *attr, char **ret);
int hd_device_read_attr_long(hd_device *d, const char *attr, int base, long long *ret);

const char *hd_storage_drive_type(hd_device *d);
bool hd_vdpa_chardev(hd_device *d, char **ret);

/* caps.c: build the DOM of a device (libvirt element order). */
int hd_device_build_dom(hd_device *d, struct hd_node **ret);

/* pci.c */
struct hd_pci_addr {
        unsigned domain, bus, slot, function;
};
int hd_pci_addr_parse(const char *s, struct hd_pci_addr *ret);
const char *hd_pci_lookup_vendor(hd_ctx *ctx, unsigned vendor, char *buf, size_t size);
const char *hd_pci_lookup_device(hd_ctx *ctx, unsigned vendor, unsigned device, char *buf, size_t size);
int hd_pci_build_caps(hd_device *d, struct hd_node *cap);

struct hd_pci_config {
        unsigned char b[4096];
        size_t len;             /* bytes readable (64 without root) */
        off_t file_size;
};
/* Needs at least 64 readable bytes, else -ENODATA. */
int hd_pci_config_read(hd_device *d, struct hd_pci_config *c);
unsigned hd_pci_cfg8(const struct hd_pci_config *c, size_t o);
unsigned hd_pci_cfg16(const struct hd_pci_config *c, size_t o);
uint32_t hd_pci_cfg32(const struct hd_pci_config *c, size_t o);
int hd_pci_config_find_cap(const struct hd_pci_config *c, unsigned id);
int hd_pci_config_find_ext_cap(const struct hd_pci_config *c, unsigned id);
/* <pci-express> with its links (libvirt's layout) from a config space */
void hd_pci_config_add_pcie(struct hd_node *cap, const struct hd_pci_config *c);
bool hd_pci_has_nested_cap(hd_device *d, enum hd_cap_type t);

/* VPD (the sysfs `vpd` attribute): the parser is separate from the read
 * so that fuzz/ can drive it with raw bytes. */
struct hd_pci_vpd_field {
        char key[3];
        char *value;
};
struct hd_pci_vpd {
        char *name;
        struct hd_pci_vpd_field ro[64], rw[64];
        size_t n_ro, n_rw;
};
/* -EBADMSG when malformed (bad tags, lengths, keywords or checksum);
 * @ret is written only on success and then released with _done(). */
int hd_pci_vpd_parse(const void *data, size_t len, struct hd_pci_vpd *ret);
void hd_pci_vpd_done(struct hd_pci_vpd *v);
/* <capability type='vpd'> under @cap */
void hd_pci_vpd_build(struct hd_node *cap, const struct hd_pci_vpd *v);

/* identity.c: the stable identity of a PCI function */
struct hd_pci_identity {
        unsigned vendor, device, subsystem_vendor, subsystem_device, class_code;
        char serial[128];       /* PCIe DSN "xx-xx-..-xx" or VPD SN; "" if none */
        bool serial_is_dsn;
};
/* PCIe Device Serial Number or VPD SN; "" when none or unreadable.
 * Returns 1 for a DSN, 2 for a VPD serial, 0 for none. */
int hd_pci_device_read_serial(hd_device *d, char *buf, size_t size);
int hd_pci_device_read_identity(hd_device *d, struct hd_pci_identity *ret);
/* 0 when @have is the device @want describes (the serial only when @want
 * has one); -ESTALE with the difference in @why otherwise. */
int hd_pci_identity_compare(const struct hd_pci_identity *want, const struct hd_pci_identity *have, char *why,
                            size_t size);

/* enumerate.c: library-internal accessors of the opaque device and list
 * (the public ones are in hostdev/hostdev.h). */
hd_ctx *hd_device_get_ctx(hd_device *d);
hd_nodedev_list *hd_device_get_list(hd_device *d);
/* last component of the syspath ("0000:00:01.0"); an inactive mdev's UUID */
const char *hd_device_get_sysname(hd_device *d);
hd_ctx *hd_nodedev_list_get_ctx(hd_nodedev_list *list);
/* iommu/: whether a PCI device is a bridge, cached on the device:
 * 0 not known yet, 1 a bridge, -1 not one */
int hd_device_get_bridge_cache(hd_device *d);
void hd_device_set_bridge_cache(hd_device *d, int bridge);
/* iommu/: the members of the IOMMU group listed last, cached on the list
 * (the CLI lists a group, then asks whether it is viable, which lists it
 * again; membership changes only when devices come or go). The getter
 * returns the cached syspaths of @group or NULL; the setter takes @members. */
char **hd_nodedev_list_cached_members(hd_nodedev_list *list, long long group, size_t *ret_n);
void hd_nodedev_list_cache_members(hd_nodedev_list *list, long long group, char **members, size_t n);

/* ---- extensions ----
 * nodedev/ knows no module above it. A module that adds node devices or
 * capability content (mdev/: defined mdevs, the mdev capability and the
 * mediated-device types of a parent) describes itself in a struct
 * hd_nodedev_ext, listed in the library's table (extensions.c). nodedev/
 * calls the hooks and keeps one data slot per extension on every device
 * and list, released with the extension's free functions. */
#define HD_NODEDEV_EXT_MAX 4
struct hd_nodedev_ext {
        const char *name;
        /* @d joined its list later than the list was built (a lazy read) */
        void (*device_added)(hd_device *d);
        /* capability content of @d: @what is the device's own type (fill
         * @cap) or a nested capability (add it under @cap) */
        void (*build_cap)(hd_device *d, enum hd_cap_type what, struct hd_node *cap);
        /* whether @d has the nested capability @what */
        bool (*has_cap)(hd_device *d, enum hd_cap_type what);
        void (*free_device_data)(void *data);
        void (*free_list_data)(void *data);
        /* hd_nodedev_list_update: @d, an active device, is gone; the
         * inactive node that stays in its place (a defined mdev's, as the
         * enumeration of the list would show it): 1 and *ret (not in a
         * list), 0 none, <0 */
        int (*inactive_node)(hd_device *d, hd_device **ret);
};
/* extensions.c: NULL-terminated, at most HD_NODEDEV_EXT_MAX */
extern const struct hd_nodedev_ext *const hd_nodedev_extensions[];

void *hd_device_get_ext_data(hd_device *d, const struct hd_nodedev_ext *ext);
/* takes @data; releases what the slot held */
void hd_device_set_ext_data(hd_device *d, const struct hd_nodedev_ext *ext, void *data);
void *hd_nodedev_list_get_ext_data(hd_nodedev_list *list, const struct hd_nodedev_ext *ext);
void hd_nodedev_list_set_ext_data(hd_nodedev_list *list, const struct hd_nodedev_ext *ext, void *data);
/* A device without a kernel device (inactive, no syspath) for an extension
 * to fill and hd_nodedev_list_insert(); @name is taken, also on failure. */
int hd_device_new_inactive(enum hd_cap_type type, const char *subsystem, const char *sysname, char *name,
                           hd_device **ret);
/* nodedev/: ask every extension */
void hd_nodedev_ext_build_cap(hd_device *d, enum hd_cap_type what, struct hd_node *cap);
bool hd_nodedev_ext_has_cap(hd_device *d, enum hd_cap_type what);

/* The list builder: one element of @size bytes (zeroed, then @fill) for
 * every device of @list that @take takes, sorted with @cmp; NULL and 0
 * when none. On failure the elements made so far go to @free_array.
 * @ret is the address of the caller's element pointer (hd_gpu **, ...). */
struct hd_collect {
        size_t size;
        bool (*take)(hd_device *d);
        int (*fill)(hd_nodedev_list *list, hd_device *d, void *elem);
        void (*free_array)(void *v, size_t n);
        int (*cmp)(const void *a, const void *b);
        /* collect_one: which devices have such an element, and the error
         * for the others */
        bool (*accepts)(hd_device *d);
        int refusal;
};
int hd_nodedev_list_collect(hd_nodedev_list *list, const struct hd_collect *c, void *ret, size_t *ret_n);
/* The same for the one device @d: @accepts decides, not @take. */
int hd_nodedev_list_collect_one(hd_nodedev_list *list, const struct hd_collect *c, hd_device *d, void *ret);
