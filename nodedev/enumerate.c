/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Build the capability tree: classify every device the source reports,
 * name it and parent it exactly as libvirt's udev node-device driver does.
 */
#include <assert.h>
#include <ctype.h>
#include <limits.h>

#include "nodedev-internal.h"

static const char *const cap_names[_HD_CAP_MAX] = {
        [HD_CAP_SYSTEM] = "system",
        [HD_CAP_PCI] = "pci",
        [HD_CAP_USB_DEV] = "usb_device",
        [HD_CAP_USB_INTERFACE] = "usb",
        [HD_CAP_NET] = "net",
        [HD_CAP_SCSI_HOST] = "scsi_host",
        [HD_CAP_SCSI_TARGET] = "scsi_target",
        [HD_CAP_SCSI] = "scsi",
        [HD_CAP_STORAGE] = "storage",
        [HD_CAP_FC_HOST] = "fc_host",
        [HD_CAP_VPORTS] = "vports",
        [HD_CAP_SCSI_GENERIC] = "scsi_generic",
        [HD_CAP_DRM] = "drm",
        [HD_CAP_MDEV_TYPES] = "mdev_types",
        [HD_CAP_MDEV] = "mdev",
        [HD_CAP_VDPA] = "vdpa",
        [HD_CAP_VPD] = "vpd",
        [HD_CAP_PHYS_FUNCTION] = "phys_function",
        [HD_CAP_VIRT_FUNCTIONS] = "virt_functions",
};

_public_ const char *hd_cap_type_to_string(enum hd_cap_type t) {
        return (unsigned) t < _HD_CAP_MAX ? cap_names[t] : NULL;
}

_public_ int hd_cap_type_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        for (int i = 0; i < _HD_CAP_MAX; i++)
                if (streq(cap_names[i], s))
                        return i;
        /* virsh also accepts these spellings */
        if (streq(s, "usb_interface"))
                return HD_CAP_USB_INTERFACE;
        if (streq(s, "vport_ops"))
                return HD_CAP_VPORTS;
        /* libvirt's s390 capabilities: valid names, no such devices here */
        static const char *const s390[] = { "ccw", "css", "ap_card", "ap_queue", "ap_matrix", "ccwgroup" };
        for (size_t i = 0; i < ELEMENTSOF(s390); i++)
                if (streq(s, s390[i]))
                        return -EOPNOTSUPP;
        return -EINVAL;
}

/* ---- device helpers ---- */

int hd_device_attr_path(hd_device *d, const char *attr, char *buf, size_t size) {
        int n;
        if (!d->raw.syspath) /* computer, inactive mdevs */
                return -ENOENT;
        n = snprintf(buf, size, "%s/%s", d->raw.syspath + 1, attr);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

int hd_device_read_attr(hd_device *d, const char *attr, char **ret) {
        char path[PATH_MAX];
        int r = hd_device_attr_path(d, attr, path, sizeof(path));
        return r < 0 ? r : hd_sysfs_read_str(d->list->ctx, path, ret);
}

int hd_device_read_attr_long(hd_device *d, const char *attr, int base, long long *ret) {
        char path[PATH_MAX];
        int r = hd_device_attr_path(d, attr, path, sizeof(path));
        return r < 0 ? r : hd_sysfs_read_long(d->list->ctx, path, base, ret);
}

void hd_device_free(hd_device *d) {
        if (!d)
                return;
        for (size_t i = 0; hd_nodedev_extensions[i]; i++)
                if (d->ext_data[i] && hd_nodedev_extensions[i]->free_device_data)
                        hd_nodedev_extensions[i]->free_device_data(d->ext_data[i]);
        hd_raw_device_done(&d->raw);
        free(d->devnode);
        free(d->name);
        free(d->own_sysname);
        free(d->children);
        free(d->driver);
        free(d);
}

/* libvirt: "<subsystem>_<sysname>[_<suffix>]", every non-alnum → '_' */
static int make_name(hd_device *d, const char *suffix) {
        char *s;
        int r;

        if (suffix)
                r = hd_asprintf(&s, "%s_%s_%s", d->raw.subsystem, d->sysname, suffix);
        else
                r = hd_asprintf(&s, "%s_%s", d->raw.subsystem, d->sysname);
        if (r < 0)
                return r;
        for (char *p = s; *p; p++)
                if (!isalnum((unsigned char) *p))
                        *p = '_';
        free(d->name);
        d->name = s;
        return 0;
}

static bool prop_is_1(hd_device *d, const char *key) {
        const char *v = hd_device_get_property(d, key);
        long long n;
        return v && hd_safe_atoll(v, 0, &n) >= 0 && n == 1;
}

/* The drive type as libvirt derives it; NULL when libvirt would drop it. */
const char *hd_storage_drive_type(hd_device *d) {
        const char *t = hd_device_get_property(d, "ID_TYPE");

        if (!t || streq(t, "generic")) {
                if (prop_is_1(d, "ID_DRIVE_FLOPPY"))
                        t = "floppy";
                else if (prop_is_1(d, "ID_CDROM"))
                        t = "cd";
                else if (prop_is_1(d, "ID_DRIVE_FLASH_SD"))
                        t = "sd";
                else if (d->devnode && (startswith(d->devnode, "/dev/vd") ||
                                        startswith(d->devnode, "/dev/nvme")))
                        t = "disk";
                else
                        t = NULL;
        }
        if (t && (streq(t, "cd") || streq(t, "disk") || streq(t, "floppy") || streq(t, "sd")))
                return t;
        return NULL;
}

/* Returns 1 when the device is a node device, 0 when it is not one, <0 on
 * allocation failure.  Fills type and name. */
static int classify(hd_nodedev_list *list, hd_device *d) {
        hd_ctx *ctx = list->ctx;
        const char *devtype = d->devtype, *sub = d->raw.subsystem;
        const char *devname = hd_device_get_property(d, "DEVNAME");
        int type = -1;
        int r;

        if (devname) {
                r = hd_asprintf(&d->devnode, "%s%s", devname[0] == '/' ? "" : "/dev/", devname);
                if (r < 0)
                        return r;
        }

        if (devtype) {
                if (streq(devtype, "usb_device"))
                        type = HD_CAP_USB_DEV;
                else if (streq(devtype, "usb_interface"))
                        type = HD_CAP_USB_INTERFACE;
                else if (streq(devtype, "scsi_host"))
                        type = HD_CAP_SCSI_HOST;
                else if (streq(devtype, "scsi_target"))
                        type = HD_CAP_SCSI_TARGET;
                else if (streq(devtype, "scsi_device"))
                        type = HD_CAP_SCSI;
                else if (streq(devtype, "disk"))
                        type = HD_CAP_STORAGE;
                else if (streq(devtype, "wlan"))
                        type = HD_CAP_NET;
                else if (streq(devtype, "drm_minor"))
                        type = HD_CAP_DRM;
        } else {
                if (hd_device_get_property(d, "PCI_CLASS"))
                        type = HD_CAP_PCI;
                if (hd_device_get_property(d, "INTERFACE"))
                        type = HD_CAP_NET;
                if (streq(sub, "scsi_generic"))
                        type = HD_CAP_SCSI_GENERIC;
                else if (streq(sub, "mdev"))
                        type = HD_CAP_MDEV;
                else if (streq(sub, "vdpa"))
                        type = HD_CAP_VDPA;
        }
        /* A generic mediated-device parent (mtty, ...): listed in
         * /sys/class/mdev_bus but neither PCI nor s390. */
        if (type < 0 && list->mdev_bus && hd_hashmap_get(list->mdev_bus, d->raw.syspath)) {
                struct hd_node *probe = hd_node_new_root("device");
                if (!probe)
                        return -ENOMEM;
                /* only with at least one readable type, as libvirt */
                hd_nodedev_ext_build_cap(d, HD_CAP_MDEV_TYPES, probe);
                if (probe->n_kids > 0)
                        type = HD_CAP_MDEV_TYPES;
                else
                        log_warn(ctx, "%s: mediated-device parent without readable types, skipped", d->raw.syspath);
                hd_node_free(probe);
        }
        if (type < 0)
                return 0;
        d->type = (enum hd_cap_type) type;

        switch (d->type) {
        case HD_CAP_PCI: {
                struct hd_pci_addr a;
                char path[PATH_MAX];
                if (hd_pci_addr_parse(d->sysname, &a) < 0) {
                        log_warn(ctx, "%s: cannot parse a PCI address from the sysfs path, skipped", d->raw.syspath);
                        return 0;
                }
                /* libvirt drops PCI devices whose config space it cannot open */
                r = hd_device_attr_path(d, "config", path, sizeof(path));
                if (r < 0 || !hd_sysfs_exists(ctx, path)) {
                        log_warn(ctx, "%s: no PCI config space, skipped", d->raw.syspath);
                        return 0;
                }
                return make_name(d, NULL) < 0 ? -ENOMEM : 1;
        }
        case HD_CAP_NET: {
                _cleanup_free_ char *mac = NULL;
                (void) hd_device_read_attr(d, "address", &mac);
                return make_name(d, mac) < 0 ? -ENOMEM : 1;
        }
        case HD_CAP_STORAGE:
                if (!d->devnode) {
                        log_debug(ctx, "%s: no device node, skipped", d->raw.syspath);
                        return 0;
                }
                if (!hd_storage_drive_type(d)) {
                        log_debug(ctx, "%s: unknown drive type, skipped (as libvirt does)", d->raw.syspath);
                        return 0;
                }
                return make_name(d, hd_device_get_property(d, "ID_SERIAL")) < 0 ? -ENOMEM : 1;
        case HD_CAP_SCSI_HOST: {
                unsigned n;
                const char *s = startswith(d->sysname, "host");
                if (!s || hd_safe_atou(s, 10, &n) < 0) {
                        log_warn(ctx, "%s: cannot parse SCSI host number, skipped", d->raw.syspath);
                        return 0;
                }
                break;
        }
        case HD_CAP_SCSI: {
                unsigned h, b, t, l;
                char c;
                if (sscanf(d->sysname, "%u:%u:%u:%u%c", &h, &b, &t, &l, &c) != 4) {
                        log_warn(ctx, "%s: cannot parse SCSI address, skipped", d->raw.syspath);
                        return 0;
                }
                break;
        }
        case HD_CAP_SCSI_GENERIC:
                if (!devname)
                        return 0;
                break;
        case HD_CAP_DRM: {
                const char *m = hd_device_get_property(d, "MINOR");
                unsigned minor;
                if (!m || hd_safe_atou(m, 10, &minor) < 0 || (minor >> 6) > 2)
                        return 0;
                break;
        }
        case HD_CAP_MDEV: {
                _cleanup_free_ char *parent = NULL;
                char path[PATH_MAX];
                const char *slash;
                r = hd_device_attr_path(d, "mdev_type", path, sizeof(path));
                if (r < 0 || !hd_sysfs_exists(ctx, path)) {
                        log_warn(ctx, "%s: mediated device without mdev_type, skipped", d->raw.syspath);
                        return 0;
                }
                slash = strrchr(d->raw.syspath, '/');
                if (slash == d->raw.syspath)
                        return 0;
                parent = strndup(d->raw.syspath, (size_t) (slash - d->raw.syspath));
                if (!parent)
                        return -ENOMEM;
                return make_name(d, hd_path_basename(parent)) < 0 ? -ENOMEM : 1;
        }
        case HD_CAP_VDPA:
                /* libvirt drops vDPA devices whose character device is missing */
                if (!hd_vdpa_chardev(d, NULL)) {
                        log_debug(ctx, "%s: no vhost-vdpa character device, skipped", d->raw.syspath);
                        return 0;
                }
                break;
        default:
                break;
        }
        return make_name(d, NULL) < 0 ? -ENOMEM : 1;
}

/* ---- list construction ---- */

struct collect {
        hd_device **devs;
        size_t n, cap;
        hd_nodedev_list *list;
};

/* A device of @list from a source's raw device (taken, also on failure). */
static hd_device *device_from_raw(hd_nodedev_list *list, struct hd_raw_device *raw) {
        hd_device *d = calloc(1, sizeof(*d));

        if (!d) {
                hd_raw_device_done(raw);
                return NULL;
        }
        d->list = list;
        d->raw = *raw;
        memset(raw, 0, sizeof(*raw));
        d->sysname = hd_path_basename(d->raw.syspath);
        d->devtype = hd_raw_get_prop(&d->raw, "DEVTYPE");
        /* libudev hands devlinks out sorted */
        if (d->raw.n_devlinks > 1)
                qsort(d->raw.devlinks, d->raw.n_devlinks, sizeof(char *), hd_cmpstringp);
        return d;
}

static int collect_cb(void *userdata, struct hd_raw_device *raw) {
        struct collect *c = userdata;
        hd_device *d;

        if (c->n == c->cap) {
                size_t ncap = c->cap ? c->cap * 2 : 256;
                hd_device **n = realloc(c->devs, ncap * sizeof(*n));
                if (!n) {
                        hd_raw_device_done(raw);
                        return -ENOMEM;
                }
                c->devs = n;
                c->cap = ncap;
        }
        d = device_from_raw(c->list, raw);
        if (!d)
                return -ENOMEM;
        c->devs[c->n++] = d;
        return 0;
}

static int cmp_syspath(const void *a, const void *b) {
        return strcmp((*(hd_device *const *) a)->raw.syspath, (*(hd_device *const *) b)->raw.syspath);
}

static int cmp_name(const void *a, const void *b) {
        return strcmp((*(hd_device *const *) a)->name, (*(hd_device *const *) b)->name);
}

static int add_child(hd_device *parent, hd_device *child) {
        if (parent->n_children == parent->cap_children) {
                size_t ncap = parent->cap_children ? parent->cap_children * 2 : 4;
                hd_device **n = realloc(parent->children, ncap * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                parent->children = n;
                parent->cap_children = ncap;
        }
        parent->children[parent->n_children++] = child;
        child->parent = parent;
        return 0;
}

/* nearest ancestor directory that is a known node device */
static hd_device *find_parent(hd_nodedev_list *list, const char *syspath) {
        char buf[PATH_MAX];
        size_t l = strlen(syspath);

        if (l >= sizeof(buf))
                return list->root;
        memcpy(buf, syspath, l + 1);
        for (;;) {
                char *slash = strrchr(buf, '/');
                hd_device *p;
                if (!slash || slash == buf)
                        return list->root;
                *slash = 0;
                p = hd_hashmap_get(list->by_path, buf);
                if (p)
                        return p;
        }
}

static int load_mdev_bus(hd_nodedev_list *list) {
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0;
        int r;

        if (hd_sysfs_list_dir(list->ctx, "sys/class/mdev_bus", &names, &n) < 0 || n == 0)
                return 0;
        r = hd_hashmap_new(&list->mdev_bus);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                char link[PATH_MAX];
                char *target;
                snprintf(link, sizeof(link), "sys/class/mdev_bus/%s", names[i]);
                if (hd_sysfs_resolve_link(list->ctx, link, &target) < 0)
                        continue;
                /* PCI (and s390) parents carry mdev_types as a nested capability. */
                r = hd_strv_push(&list->mdev_bus_paths, &list->n_mdev_bus_paths, target);
                if (r < 0)
                        return r;
                r = hd_hashmap_put(list->mdev_bus, target, target);
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

_public_ hd_nodedev_list *hd_nodedev_list_unref(hd_nodedev_list *list) {
        if (!list)
                return NULL;
        for (size_t i = 0; i < list->n; i++)
                hd_device_free(list->devs[i]);
        free(list->devs);
        hd_hashmap_free(list->by_path);
        hd_hashmap_free(list->by_name);
        hd_hashmap_free(list->mdev_bus);
        hd_strv_free(list->mdev_bus_paths);
        if (list->n == 0) /* not yet in devs */
                hd_device_free(list->root);
        hd_strv_free(list->members);
        for (size_t i = 0; hd_nodedev_extensions[i]; i++)
                if (list->ext_data[i] && hd_nodedev_extensions[i]->free_list_data)
                        hd_nodedev_extensions[i]->free_list_data(list->ext_data[i]);
        hd_hashmap_free(list->not_nodes);
        hd_strv_free(list->not_node_paths);
        hd_ctx_unref(list->ctx);
        free(list);
        return NULL;
}

static inline void list_unrefp(hd_nodedev_list **l) { hd_nodedev_list_unref(*l); }

/* An empty list: hashes, the mdev_bus parents and the "computer" root. */
static int list_init(hd_ctx *ctx, hd_nodedev_list **ret) {
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        hd_device *root;
        int r;

        list = calloc(1, sizeof(*list));
        if (!list)
                return -ENOMEM;
        list->ctx = hd_ctx_ref(ctx);
        list->members_group = -1;
        r = hd_hashmap_new(&list->by_path);
        if (r >= 0)
                r = hd_hashmap_new(&list->by_name);
        if (r >= 0)
                r = load_mdev_bus(list);
        if (r < 0)
                return r;

        root = calloc(1, sizeof(*root));
        if (!root)
                return -ENOMEM;
        root->list = list;
        root->type = HD_CAP_SYSTEM;
        root->name = strdup("computer");
        root->sysname = "computer";
        list->root = root;
        if (!root->name)
                return -ENOMEM;
        *ret = TAKE_PTR(list);
        return 0;
}

/* The live host is read by the sysfs walker, like a sysroot, with udev's
 * database (run/udev/data) for what udev alone knows.  libudev's
 * enumerator stays available (HOSTDEV_ENUMERATE=libudev): the tests
 * compare the two, and it is a fallback should udev's database ever move. */
static bool use_libudev(hd_ctx *ctx) {
        const char *e = ctx->sysroot ? NULL : secure_getenv("HOSTDEV_ENUMERATE");
        return e && streq(e, "libudev");
}

_public_ int hd_nodedev_list_new(hd_ctx *ctx, hd_nodedev_list **ret) {
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        struct collect c = {};
        hd_device *root;
        size_t kept = 0;
        int r;

        if (!ctx || !ret)
                return -EINVAL;
        r = list_init(ctx, &list);
        if (r < 0)
                return r;
        root = list->root;

        c.list = list;
        r = use_libudev(ctx) ? hd_source_udev_scan(ctx, collect_cb, &c)
                             : hd_source_sysfs_scan(ctx, collect_cb, &c);
        if (r < 0) {
                for (size_t i = 0; i < c.n; i++)
                        hd_device_free(c.devs[i]);
                free(c.devs);
                hd_device_free(root);
                list->root = NULL;
                return r;
        }

        /* Parents before children, as libudev's enumerator orders them. */
        qsort(c.devs, c.n, sizeof(*c.devs), cmp_syspath);

        list->devs = malloc((c.n + 1) * sizeof(*list->devs));
        if (!list->devs) {
                r = -ENOMEM;
                goto fail;
        }
        list->devs[kept++] = root;
        r = hd_hashmap_put(list->by_name, root->name, root);
        if (r < 0)
                goto fail;

        for (size_t i = 0; i < c.n; i++) {
                hd_device *d = c.devs[i];

                c.devs[i] = NULL;
                r = classify(list, d);
                if (r <= 0) {
                        hd_device_free(d);
                        if (r < 0)
                                goto fail;
                        continue;
                }
                r = hd_hashmap_put(list->by_name, d->name, d);
                if (r == -EEXIST) {
                        log_warn(ctx, "%s: duplicate node device name '%s', skipped", d->raw.syspath, d->name);
                        hd_device_free(d);
                        continue;
                }
                if (r < 0) {
                        hd_device_free(d);
                        goto fail;
                }
                list->devs[kept++] = d;
                r = hd_hashmap_put(list->by_path, d->raw.syspath, d);
                if (r < 0 && r != -EEXIST)
                        goto fail;
                r = add_child(find_parent(list, d->raw.syspath), d);
                if (r < 0)
                        goto fail;
        }
        free(c.devs);
        list->n = kept;

        qsort(list->devs, list->n, sizeof(*list->devs), cmp_name);
        for (size_t i = 0; i < list->n; i++)
                if (list->devs[i]->n_children > 1)
                        qsort(list->devs[i]->children, list->devs[i]->n_children,
                              sizeof(hd_device *), cmp_name);
        *ret = TAKE_PTR(list);
        return 0;

fail:
        for (size_t i = 0; i < c.n; i++)
                hd_device_free(c.devs[i]);
        free(c.devs);
        list->n = kept;
        return r;
}

/* Move the last of @n devices, sorted by name before it, into its place
 * (binary search and one memmove: a lazy list inserts thousands). */
static void sort_last(hd_device **v, size_t n) {
        hd_device *d;
        size_t lo = 0, hi;

        if (n < 2)
                return;
        d = v[n - 1];
        hi = n - 1;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp(v[mid]->name, d->name) <= 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        memmove(v + lo + 1, v + lo, (n - 1 - lo) * sizeof(*v));
        v[lo] = d;
}

int hd_nodedev_list_insert(hd_nodedev_list *list, hd_device *d, hd_device *parent) {
        hd_device **n;
        int r;

        d->list = list;
        if (!parent)
                parent = list->root;
        n = realloc(list->devs, (list->n + 1) * sizeof(*n));
        if (!n) {
                hd_device_free(d);
                return -ENOMEM;
        }
        list->devs = n;
        r = add_child(parent, d);
        if (r < 0) {
                hd_device_free(d);
                return r;
        }
        r = hd_hashmap_put(list->by_name, d->name, d);
        if (r < 0) {
                parent->n_children--; /* appended last by add_child */
                hd_device_free(d);
                return r;
        }
        list->devs[list->n++] = d;
        sort_last(list->devs, list->n);
        sort_last(parent->children, parent->n_children);
        return 0;
}

/* ---- lazy lists: one device and its parent chain, without enumerating ---- */

static int mark_not_node(hd_nodedev_list *list, const char *syspath) {
        char *k = strdup(syspath);
        int r;

        if (!k)
                return -ENOMEM;
        r = hd_strv_push(&list->not_node_paths, &list->n_not_node_paths, k);
        if (r < 0)
                return r;
        r = hd_hashmap_put(list->not_nodes, k, (void *) 1);
        return r == -EEXIST ? 0 : r;
}

static int resolve_syspath(hd_nodedev_list *list, const char *syspath, hd_device **ret);

/* The nearest ancestor of @syspath that is a node device, else the root:
 * what find_parent() gives in a full enumeration. */
static int resolve_parent(hd_nodedev_list *list, const char *syspath, hd_device **ret) {
        char buf[PATH_MAX];
        size_t l = strlen(syspath);

        if (l < sizeof(buf)) {
                memcpy(buf, syspath, l + 1);
                for (;;) {
                        char *slash = strrchr(buf, '/');
                        hd_device *p;
                        int r;

                        if (!slash || slash == buf)
                                break;
                        *slash = 0;
                        if (!startswith(buf, "/sys/devices/"))
                                break;
                        r = resolve_syspath(list, buf, &p);
                        if (r < 0)
                                return r;
                        if (p) {
                                *ret = p;
                                return 0;
                        }
                }
        }
        *ret = list->root;
        return 0;
}

/* The node device at @syspath (normalized, "/sys/devices/..."): the known
 * one, or, in a lazy list, read now from sysfs and classified exactly as
 * the full enumeration does (same source code, same classify()), with its
 * parent chain.  *ret = NULL when it is no node device. */
static int resolve_syspath(hd_nodedev_list *list, const char *syspath, hd_device **ret) {
        struct hd_raw_device raw = {};
        hd_device *d, *parent;
        char *copy;
        int r;

        d = hd_hashmap_get(list->by_path, syspath);
        if (d || !list->lazy || !startswith(syspath, "/sys/devices/") || hd_hashmap_get(list->not_nodes, syspath)) {
                *ret = d;
                return 0;
        }
        *ret = NULL;
        copy = strdup(syspath);
        if (!copy)
                return -ENOMEM;
        r = hd_source_sysfs_read_device(list->ctx, copy, NULL, &raw);
        if (r < 0)
                return r;
        if (r == 0)
                return mark_not_node(list, syspath);
        d = device_from_raw(list, &raw);
        if (!d)
                return -ENOMEM;
        r = classify(list, d);
        if (r <= 0) {
                hd_device_free(d);
                return r < 0 ? r : mark_not_node(list, syspath);
        }
        r = resolve_parent(list, d->raw.syspath, &parent);
        if (r < 0) {
                hd_device_free(d);
                return r;
        }
        r = hd_nodedev_list_insert(list, d, parent); /* takes d */
        if (r == -EEXIST) {
                log_warn(list->ctx, "%s: duplicate node device name, skipped", syspath);
                return mark_not_node(list, syspath);
        }
        if (r < 0)
                return r;
        r = hd_hashmap_put(list->by_path, d->raw.syspath, d);
        if (r < 0 && r != -EEXIST)
                return r;
        for (size_t i = 0; hd_nodedev_extensions[i]; i++)
                if (hd_nodedev_extensions[i]->device_added)
                        hd_nodedev_extensions[i]->device_added(d);
        *ret = d;
        return 0;
}

hd_device *hd_nodedev_list_find_syspath(hd_nodedev_list *list, const char *syspath) {
        hd_device *d = NULL;
        return resolve_syspath(list, syspath, &d) < 0 ? NULL : d;
}

/* The device that the link @dir/@entry points to (sys/bus/X/devices/Y,
 * sys/class/X/Y), if it is a node device named @name (any name when
 * @name is NULL). */
static int resolve_entry(hd_nodedev_list *list, const char *dir, const char *entry, const char *name,
                         hd_device **ret) {
        _cleanup_free_ char *target = NULL;
        char link[PATH_MAX];
        hd_device *d;
        int r;

        *ret = NULL;
        if (isempty(entry) || strchr(entry, '/') || streq(entry, ".") || streq(entry, ".."))
                return 0;
        if (snprintf(link, sizeof(link), "%s/%s", dir, entry) >= (int) sizeof(link))
                return 0;
        r = hd_sysfs_resolve_link(list->ctx, link, &target);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        r = resolve_syspath(list, target, &d);
        if (r < 0)
                return r;
        if (d && (!name || streq(d->name, name)))
                *ret = d;
        return 0;
}

static bool is_mangled(const char *s) {
        for (; *s; s++)
                if (!isalnum((unsigned char) *s) && *s != '_')
                        return false;
        return true;
}

/* Does @s start with @entry as a node-device name spells it (every
 * non-alnum as '_'), followed by the end or a '_'? */
static bool mangled_prefix(const char *s, const char *entry) {
        size_t l = strlen(entry);

        if (strlen(s) < l || (s[l] != 0 && s[l] != '_'))
                return false;
        for (size_t k = 0; k < l; k++)
                if (isalnum((unsigned char) entry[k]) ? s[k] != entry[k] : s[k] != '_')
                        return false;
        return true;
}

/* Compare the entries of @dir, by name only, with @rest (the query past
 * "<subsystem>_"), or with every "_"-led part of @name when @rest is NULL;
 * read the ones that fit.  @all: also entries that need no mangling. */
static int scan_entries(hd_nodedev_list *list, const char *dir, const char *name, const char *rest, bool all,
                        hd_device **ret) {
        _cleanup_strv_free_ char **ents = NULL;
        size_t ne = 0;
        int r;

        *ret = NULL;
        if (hd_sysfs_list_dir(list->ctx, dir, &ents, &ne) < 0)
                return 0;
        for (size_t e = 0; e < ne; e++) {
                bool fits = false;

                if (!all && is_mangled(ents[e]))
                        continue; /* tried directly */
                if (rest)
                        fits = mangled_prefix(rest, ents[e]);
                else
                        for (const char *p = strchr(name, '_'); p && !fits; p = strchr(p + 1, '_'))
                                fits = mangled_prefix(p + 1, ents[e]);
                if (!fits)
                        continue;
                r = resolve_entry(list, dir, ents[e], name, ret);
                if (r < 0 || *ret)
                        return r;
        }
        return 0;
}

/* A node-device name ("<subsystem>_<sysname>[_<suffix>]", every non-alnum
 * turned into '_') back to its device.  PCI and mdev names give their sysfs
 * entry directly; otherwise, for each subsystem whose name starts the
 * query, the entries named by the query's '_'-separated prefixes are tried
 * (eth0, sda, card0, host0: one readlink each), and only then are the
 * subsystem's entries with other characters in their names (usb "1-1:1.0",
 * scsi "0:0:0:0") compared, by name, without reading them.  A name that
 * none of this finds (a device whose subsystem link disagrees with the
 * directory listing it, or no device at all) is compared with the entry
 * names of every subsystem. */
static int resolve_name(hd_nodedev_list *list, const char *name, hd_device **ret) {
        _cleanup_strv_free_ char **subs = NULL, **dirs = NULL;
        unsigned dom, bus, slot, fn;
        char entry[64];
        size_t n = 0;
        int r;

        *ret = NULL;
        if (sscanf(name, "pci_%4x_%2x_%2x_%1x", &dom, &bus, &slot, &fn) == 4) {
                char canon[64];
                snprintf(canon, sizeof(canon), "pci_%04x_%02x_%02x_%x", dom, bus, slot, fn);
                snprintf(entry, sizeof(entry), "%04x:%02x:%02x.%x", dom, bus, slot, fn);
                if (streq(canon, name)) {
                        r = resolve_entry(list, "sys/bus/pci/devices", entry, name, ret);
                        if (r < 0 || *ret)
                                return r;
                }
        }
        if (startswith(name, "mdev_") && strlen(name) >= 5 + 36) {
                memcpy(entry, name + 5, 36);
                entry[36] = 0;
                for (size_t i = 8; i < 36; i += 5)
                        if (entry[i] == '_')
                                entry[i] = '-';
                if (hd_uuid_is_valid(entry)) {
                        r = resolve_entry(list, "sys/bus/mdev/devices", entry, name, ret);
                        if (r < 0 || *ret)
                                return r;
                }
        }
        r = hd_sysfs_subsystem_dirs(list->ctx, &subs, &dirs, &n);
        if (r < 0)
                return r;
        for (int phase = 0; phase < 2; phase++)
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *prefix = NULL, *cand = NULL;
                        const char *rest, *dir = dirs[i];

                        if (phase == 1) {
                                r = scan_entries(list, dir, name, NULL, true, ret);
                                if (r < 0 || *ret)
                                        return r;
                                continue;
                        }
                        if (hd_asprintf(&prefix, "%s_", subs[i]) < 0)
                                return -ENOMEM;
                        for (char *p = prefix; *p; p++)
                                if (!isalnum((unsigned char) *p))
                                        *p = '_';
                        rest = startswith(name, prefix);
                        if (isempty(rest))
                                continue;
                        cand = strdup(rest);
                        if (!cand)
                                return -ENOMEM;
                        /* the whole rest, then shorter and shorter '_' prefixes */
                        for (;;) {
                                char *us;
                                r = resolve_entry(list, dir, cand, name, ret);
                                if (r < 0 || *ret)
                                        return r;
                                us = strrchr(cand, '_');
                                if (!us)
                                        break;
                                *us = 0;
                        }
                        r = scan_entries(list, dir, name, rest, false, ret);
                        if (r < 0 || *ret)
                                return r;
                }
        return 0;
}

_public_ int hd_nodedev_list_new_lazy(hd_ctx *ctx, hd_nodedev_list **ret) {
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        int r;

        if (!ctx || !ret)
                return -EINVAL;
        if (!hd_sysfs_is_dir(ctx, "sys/devices"))
                return -ENOTDIR;
        r = list_init(ctx, &list);
        if (r >= 0)
                r = hd_hashmap_new(&list->not_nodes);
        if (r < 0)
                return r;
        list->lazy = true;
        list->devs = malloc(sizeof(*list->devs));
        if (!list->devs)
                return -ENOMEM;
        r = hd_hashmap_put(list->by_name, list->root->name, list->root);
        if (r < 0)
                return r;
        list->devs[list->n++] = list->root;
        *ret = TAKE_PTR(list);
        return 0;
}

_public_ size_t hd_nodedev_list_count(hd_nodedev_list *list) {
        return list ? list->n : 0;
}

_public_ hd_device *hd_nodedev_list_get(hd_nodedev_list *list, size_t i) {
        return list && i < list->n ? list->devs[i] : NULL;
}

_public_ hd_device *hd_nodedev_list_root(hd_nodedev_list *list) {
        return list ? list->root : NULL;
}

/* ---- lookup ---- */

static int lookup_path(hd_nodedev_list *list, const char *query, hd_device **ret) {
        _cleanup_free_ char *norm = NULL, *resolved = NULL;
        const char *p;
        hd_device *d;
        int r;

        r = hd_path_normalize(query, &norm);
        if (r < 0)
                return r;
        if (!startswith(norm, "/sys/"))
                return -EINVAL;
        p = norm;
        /* /sys/bus/X/devices/Y and /sys/class/X/Y are links: resolve them
         * inside the root.  Only the last component may be a link. */
        if (startswith(norm, "/sys/bus/") || startswith(norm, "/sys/class/") ||
            startswith(norm, "/sys/block/")) {
                r = hd_sysfs_resolve_link(list->ctx, norm, &resolved);
                if (r < 0)
                        return r == -ENOMEM ? r : -ENODEV;
                p = resolved;
        }
        r = resolve_syspath(list, p, &d);
        if (r < 0)
                return r;
        if (!d)
                return -ENODEV;
        *ret = d;
        return 0;
}

/* "00:1g.0", "0000:00:02.8": the shape of [[DOMAIN:]BUS:]SLOT.FUNC, whether
 * or not its fields are valid */
static bool looks_like_pci_addr(const char *s) {
        size_t colons = 0, dots = 0;
        for (const char *p = s; *p; p++) {
                if (*p == ':')
                        colons++;
                else if (*p == '.') {
                        if (colons == 0)
                                return false;
                        dots++;
                } else if (!isalnum((unsigned char) *p))
                        return false;
        }
        return colons >= 1 && colons <= 2 && dots == 1 && s[0] != ':' && s[strlen(s) - 1] != '.';
}

/* a device node or one of its udev links ("/dev/vda", "/dev/dri/card0",
 * "/dev/disk/by-id/...") */
static hd_device *lookup_devnode(hd_nodedev_list *list, const char *node) {
        for (size_t i = 0; i < list->n; i++) {
                hd_device *x = list->devs[i];
                if (streq_ptr(x->devnode, node))
                        return x;
                for (size_t k = 0; k < x->raw.n_devlinks; k++)
                        if (streq(x->raw.devlinks[k], node))
                                return x;
        }
        return NULL;
}

/* A device node or udev link ("/dev/sda", "/dev/disk/by-id/...").  Only
 * udev's database maps a node name to its device, so a lazy list asks a
 * full enumeration for the syspath and then reads just that device (and
 * its parents) into itself: the one lookup that is O(host), by nature. */
static int find_devnode(hd_nodedev_list *list, const char *node, hd_device **ret) {
        _cleanup_(list_unrefp) hd_nodedev_list *full = NULL;
        hd_device *x;
        int r;

        *ret = lookup_devnode(list, node);
        if (*ret || !list->lazy)
                return 0;
        r = hd_nodedev_list_new(list->ctx, &full);
        if (r < 0)
                return r;
        x = lookup_devnode(full, node);
        if (!x)
                return 0;
        return resolve_syspath(list, x->raw.syspath, ret);
}

_public_ int hd_nodedev_list_lookup(hd_nodedev_list *list, const char *query, hd_device **ret) {
        hd_device *d;
        struct hd_pci_addr a;
        bool pci_shape = false;

        if (!list || !query || !ret)
                return -EINVAL;
        if (isempty(query) || strlen(query) > PATH_MAX)
                return -EINVAL;

        d = hd_hashmap_get(list->by_name, query);
        if (!d && list->lazy && !strchr(query, '/') && !strstr(query, "..")) {
                int r = resolve_name(list, query, &d);
                if (r < 0)
                        return r;
        }
        if (d) {
                *ret = d;
                return 0;
        }
        if (startswith(query, "/dev/")) {
                _cleanup_free_ char *norm = NULL;
                int r = hd_path_normalize(query, &norm);
                if (r < 0)
                        return r;
                r = find_devnode(list, norm, &d);
                if (r < 0)
                        return r;
                if (!d)
                        return -ENODEV;
                *ret = d;
                return 0;
        }
        if (query[0] == '/')
                return lookup_path(list, query, ret);
        if (strstr(query, "..") || strchr(query, '/'))
                return -EINVAL;

        if (hd_pci_addr_parse(query, &a) >= 0) {
                char name[64];
                snprintf(name, sizeof(name), "pci_%04x_%02x_%02x_%x", a.domain, a.bus, a.slot, a.function);
                d = hd_hashmap_get(list->by_name, name);
                if (!d && list->lazy) {
                        int r = resolve_name(list, name, &d);
                        if (r < 0)
                                return r;
                }
                if (!d)
                        return -ENODEV;
                *ret = d;
                return 0;
        }
        pci_shape = looks_like_pci_addr(query);
        if (hd_uuid_is_valid(query)) {
                hd_device *found = NULL;
                for (size_t i = 0; i < list->n; i++) {
                        hd_device *x = list->devs[i];
                        if (x->type == HD_CAP_MDEV && strcasecmp(x->sysname, query) == 0) {
                                if (found)
                                        return -ENOTUNIQ;
                                found = x;
                        }
                }
                if (!found && list->lazy) {
                        char lower[37];
                        int r;
                        for (size_t i = 0; i < sizeof(lower); i++)
                                lower[i] = (char) tolower((unsigned char) query[i]);
                        r = resolve_entry(list, "sys/bus/mdev/devices", lower, NULL, &found);
                        if (r < 0)
                                return r;
                        if (found && found->type != HD_CAP_MDEV)
                                found = NULL;
                }
                if (found) {
                        *ret = found;
                        return 0;
                }
                return -ENODEV;
        }
        /* network interface name */
        if (list->lazy) {
                int r = resolve_entry(list, "sys/class/net", query, NULL, &d);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < list->n; i++) {
                hd_device *x = list->devs[i];
                if (x->type == HD_CAP_NET && streq_ptr(hd_device_get_property(x, "INTERFACE"), query)) {
                        *ret = x;
                        return 0;
                }
        }
        if (pci_shape)
                return -EDOM;
        /* a block device or other device node by its name: "vda", "sr0" */
        {
                _cleanup_free_ char *node = NULL;
                int r;
                if (hd_asprintf(&node, "/dev/%s", query) < 0)
                        return -ENOMEM;
                r = find_devnode(list, node, &d);
                if (r < 0)
                        return r;
                if (d) {
                        *ret = d;
                        return 0;
                }
        }
        return -ENODEV;
}

/* ---- accessors ---- */

_public_ const char *hd_device_get_name(hd_device *d) {
        return d ? d->name : NULL;
}

_public_ const char *hd_device_get_syspath(hd_device *d) {
        return d ? d->raw.syspath : NULL;
}

_public_ const char *hd_device_get_pci_address(hd_device *d) {
        const char *slash;
        if (!d || !d->raw.syspath || !streq_ptr(hd_device_get_subsystem(d), "pci"))
                return NULL;
        slash = strrchr(d->raw.syspath, '/');
        return slash ? slash + 1 : NULL;
}

_public_ hd_device *hd_device_get_parent(hd_device *d) {
        return d ? d->parent : NULL;
}

_public_ size_t hd_device_get_n_children(hd_device *d) {
        return d ? d->n_children : 0;
}

_public_ hd_device *hd_device_get_child(hd_device *d, size_t i) {
        return d && i < d->n_children ? d->children[i] : NULL;
}

_public_ enum hd_cap_type hd_device_get_cap_type(hd_device *d) {
        return d->type;
}

_public_ const char *hd_device_get_subsystem(hd_device *d) {
        return d ? d->raw.subsystem : NULL;
}

_public_ const char *hd_device_get_devnode(hd_device *d) {
        return d ? d->devnode : NULL;
}

_public_ const char *hd_device_get_property(hd_device *d, const char *key) {
        return d && d->raw.props ? hd_raw_get_prop(&d->raw, key) : NULL;
}

_public_ const char *hd_device_get_driver(hd_device *d) {
        if (!d || !d->raw.syspath)
                return NULL;
        if (!d->driver_loaded) {
                d->driver_loaded = true;
                (void) hd_sysfs_read_driver(d->list->ctx, d->raw.syspath, &d->driver);
        }
        return d->driver;
}

_public_ bool hd_device_has_cap(hd_device *d, enum hd_cap_type cap) {
        char path[PATH_MAX];

        if (!d)
                return false;
        if (d->type == cap)
                return true;
        switch (d->type) {
        case HD_CAP_PCI:
                return hd_pci_has_nested_cap(d, cap);
        case HD_CAP_SCSI_HOST:
                if (cap != HD_CAP_FC_HOST && cap != HD_CAP_VPORTS)
                        return false;
                snprintf(path, sizeof(path), "sys/class/fc_host/%s/%s", d->sysname,
                         cap == HD_CAP_FC_HOST ? "port_name" : "vport_create");
                return hd_sysfs_exists(d->list->ctx, path);
        default:
                return false;
        }
}

/* ---- library-internal accessors (nodedev/device.h) ---- */

hd_ctx *hd_device_get_ctx(hd_device *d) {
        return d->list->ctx;
}

hd_nodedev_list *hd_device_get_list(hd_device *d) {
        return d->list;
}

const char *hd_device_get_sysname(hd_device *d) {
        return d->sysname;
}

hd_ctx *hd_nodedev_list_get_ctx(hd_nodedev_list *list) {
        return list->ctx;
}

int hd_device_get_bridge_cache(hd_device *d) {
        return d->bridge;
}

void hd_device_set_bridge_cache(hd_device *d, int bridge) {
        d->bridge = (signed char) bridge;
}

char **hd_nodedev_list_cached_members(hd_nodedev_list *list, long long group, size_t *ret_n) {
        if (list->members_group != group || !list->members)
                return NULL;
        *ret_n = list->n_members;
        return list->members;
}

void hd_nodedev_list_cache_members(hd_nodedev_list *list, long long group, char **members, size_t n) {
        hd_strv_free(list->members);
        list->members = members;
        list->n_members = n;
        list->members_group = group;
}

_public_ bool hd_device_is_active(hd_device *d) {
        return d && !d->inactive;
}

/* ---- extensions (nodedev/device.h) ---- */

static size_t ext_index(const struct hd_nodedev_ext *ext) {
        size_t i = 0;
        while (hd_nodedev_extensions[i] && hd_nodedev_extensions[i] != ext)
                i++;
        assert(hd_nodedev_extensions[i] && i < HD_NODEDEV_EXT_MAX);
        return i;
}

void *hd_device_get_ext_data(hd_device *d, const struct hd_nodedev_ext *ext) {
        return d->ext_data[ext_index(ext)];
}

void hd_device_set_ext_data(hd_device *d, const struct hd_nodedev_ext *ext, void *data) {
        size_t i = ext_index(ext);
        if (d->ext_data[i] && d->ext_data[i] != data && ext->free_device_data)
                ext->free_device_data(d->ext_data[i]);
        d->ext_data[i] = data;
}

void *hd_nodedev_list_get_ext_data(hd_nodedev_list *list, const struct hd_nodedev_ext *ext) {
        return list->ext_data[ext_index(ext)];
}

void hd_nodedev_list_set_ext_data(hd_nodedev_list *list, const struct hd_nodedev_ext *ext, void *data) {
        size_t i = ext_index(ext);
        if (list->ext_data[i] && list->ext_data[i] != data && ext->free_list_data)
                ext->free_list_data(list->ext_data[i]);
        list->ext_data[i] = data;
}

int hd_device_new_inactive(enum hd_cap_type type, const char *subsystem, const char *sysname, char *name,
                           hd_device **ret) {
        hd_device *d = calloc(1, sizeof(*d));

        if (!d) {
                free(name);
                return -ENOMEM;
        }
        d->name = name;
        d->type = type;
        d->inactive = true;
        d->driver_loaded = true;
        d->raw.subsystem = strdup(subsystem);
        d->own_sysname = strdup(sysname);
        if (!d->raw.subsystem || !d->own_sysname) {
                hd_device_free(d);
                return -ENOMEM;
        }
        d->sysname = d->own_sysname;
        *ret = d;
        return 0;
}

void hd_nodedev_ext_build_cap(hd_device *d, enum hd_cap_type what, struct hd_node *cap) {
        for (size_t i = 0; hd_nodedev_extensions[i]; i++)
                if (hd_nodedev_extensions[i]->build_cap)
                        hd_nodedev_extensions[i]->build_cap(d, what, cap);
}

bool hd_nodedev_ext_has_cap(hd_device *d, enum hd_cap_type what) {
        for (size_t i = 0; hd_nodedev_extensions[i]; i++)
                if (hd_nodedev_extensions[i]->has_cap && hd_nodedev_extensions[i]->has_cap(d, what))
                        return true;
        return false;
}

int hd_nodedev_list_collect(hd_nodedev_list *list, const struct hd_collect *c, void *ret, size_t *ret_n) {
        char *v = NULL;
        size_t n = 0, cap = 0;

        if (!list || !ret || !ret_n)
                return -EINVAL;
        for (size_t i = 0; i < list->n; i++) {
                int r;
                if (!c->take(list->devs[i]))
                        continue;
                if (n == cap) {
                        char *nv = realloc(v, (cap ? cap * 2 : 8) * c->size);
                        if (!nv) {
                                c->free_array(v, n);
                                return -ENOMEM;
                        }
                        v = nv;
                        cap = cap ? cap * 2 : 8;
                }
                memset(v + n * c->size, 0, c->size);
                r = c->fill(list, list->devs[i], v + n * c->size);
                if (r < 0) {
                        c->free_array(v, n + 1);
                        return r;
                }
                n++;
        }
        if (n == 0) {
                free(v);
                v = NULL;
        } else if (n > 1)
                qsort(v, n, c->size, c->cmp);
        memcpy(ret, &v, sizeof(v)); /* an element pointer of the caller's type */
        *ret_n = n;
        return 0;
}

int hd_nodedev_list_collect_one(hd_nodedev_list *list, const struct hd_collect *c, hd_device *d, void *ret) {
        void *v;
        int r;

        if (!list || !d || !ret)
                return -EINVAL;
        if (!c->accepts(d))
                return c->refusal;
        v = calloc(1, c->size);
        if (!v)
                return -ENOMEM;
        r = c->fill(list, d, v);
        if (r < 0) {
                c->free_array(v, 1);
                return r;
        }
        memcpy(ret, &v, sizeof(v)); /* an element pointer of the caller's type */
        return 0;
}

/* ---- one event at a time: hd_nodedev_list_update ---- */

static void forget_members(hd_nodedev_list *list) {
        hd_strv_free(list->members);
        list->members = NULL;
        list->n_members = 0;
        list->members_group = -1;
}

/* index of @d in the name-sorted devs, or list->n */
static size_t index_of(hd_nodedev_list *list, hd_device *d) {
        size_t lo = 0, hi = list->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(list->devs[mid]->name, d->name);
                if (c == 0)
                        return list->devs[mid] == d ? mid : list->n;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return list->n;
}

static void unlink_child(hd_device *parent, hd_device *child) {
        for (size_t i = 0; parent && i < parent->n_children; i++)
                if (parent->children[i] == child) {
                        memmove(parent->children + i, parent->children + i + 1,
                                (parent->n_children - i - 1) * sizeof(hd_device *));
                        parent->n_children--;
                        return;
                }
}

/* @d and every device below it out of the list and freed, the deepest
 * first, each announced to @fn before it goes */
static void remove_subtree(hd_nodedev_list *list, hd_device *d, hd_nodedev_change_fn fn, void *userdata) {
        size_t i;

        while (d->n_children > 0)
                remove_subtree(list, d->children[d->n_children - 1], fn, userdata);
        if (fn)
                fn(list, d, HD_NODEDEV_REMOVED, userdata);
        unlink_child(d->parent, d);
        i = index_of(list, d);
        if (i < list->n) {
                memmove(list->devs + i, list->devs + i + 1, (list->n - i - 1) * sizeof(hd_device *));
                list->n--;
        }
        (void) hd_hashmap_remove(list->by_name, d->name);
        if (d->raw.syspath && hd_hashmap_get(list->by_path, d->raw.syspath) == d)
                (void) hd_hashmap_remove(list->by_path, d->raw.syspath);
        hd_device_free(d);
}

void hd_nodedev_list_remove(hd_nodedev_list *list, hd_device *d, hd_nodedev_change_fn fn, void *userdata) {
        remove_subtree(list, d, fn, userdata);
        forget_members(list);
}

hd_device *hd_nodedev_list_find_name(hd_nodedev_list *list, const char *name) {
        return hd_hashmap_get(list->by_name, name);
}

bool hd_nodedev_list_is_lazy(hd_nodedev_list *list) {
        return list->lazy;
}

static void run_device_added(hd_device *d) {
        for (size_t i = 0; hd_nodedev_extensions[i]; i++)
                if (hd_nodedev_extensions[i]->device_added)
                        hd_nodedev_extensions[i]->device_added(d);
}

/* @d (read and classified, not in the list) under its nearest known
 * ancestor; the devices below it that hung on that ancestor move under it */
static int insert_new(hd_nodedev_list *list, hd_device *d, hd_nodedev_change_fn fn, void *userdata) {
        hd_device *parent = find_parent(list, d->raw.syspath);
        size_t l = strlen(d->raw.syspath);
        int r;

        if (hd_hashmap_get(list->by_name, d->name)) {
                log_debug(list->ctx, "%s: its name %s is taken: cannot place it", d->raw.syspath, d->name);
                hd_device_free(d);
                return -ESTALE;
        }
        r = hd_nodedev_list_insert(list, d, parent); /* takes d */
        if (r < 0)
                return r == -EEXIST ? -ESTALE : r;
        r = hd_hashmap_put(list->by_path, d->raw.syspath, d);
        if (r < 0 && r != -EEXIST)
                return r;
        for (size_t i = 0; i < parent->n_children;) {
                hd_device *c = parent->children[i];
                if (c != d && c->raw.syspath && strncmp(c->raw.syspath, d->raw.syspath, l) == 0 &&
                    c->raw.syspath[l] == '/') {
                        unlink_child(parent, c);
                        r = add_child(d, c);
                        if (r < 0)
                                return r;
                        sort_last(d->children, d->n_children);
                } else
                        i++;
        }
        run_device_added(d);
        if (fn)
                fn(list, d, HD_NODEDEV_ADDED, userdata);
        return 1;
}

/* @fresh's reading in place of @d's (same name and place in the tree) */
static int refresh(hd_nodedev_list *list, hd_device *d, hd_device *fresh) {
#define SWAP_(f) do { __typeof__(d->f) t_ = d->f; d->f = fresh->f; fresh->f = t_; } while (0)
        int r;

        (void) hd_hashmap_remove(list->by_name, d->name);
        if (d->raw.syspath && hd_hashmap_get(list->by_path, d->raw.syspath) == d)
                (void) hd_hashmap_remove(list->by_path, d->raw.syspath);
        SWAP_(raw);
        SWAP_(sysname);
        /* an inactive node (a defined mdev) started, or one stopped */
        SWAP_(inactive);
        SWAP_(own_sysname);
        SWAP_(devtype);
        SWAP_(devnode);
        SWAP_(name);
        SWAP_(type);
        SWAP_(driver);
        SWAP_(driver_loaded);
        SWAP_(bridge);
        for (size_t i = 0; i < HD_NODEDEV_EXT_MAX; i++)
                SWAP_(ext_data[i]);
#undef SWAP_
        hd_device_free(fresh);
        r = hd_hashmap_put(list->by_name, d->name, d);
        if (r >= 0 && d->raw.syspath)
                r = hd_hashmap_put(list->by_path, d->raw.syspath, d);
        if (r < 0)
                return r;
        run_device_added(d);
        return 1;
}

/* ---- mediated devices, one event at a time ---- */

static int read_one(hd_nodedev_list *list, const char *syspath, hd_device **ret);

/* the inactive node an extension keeps in @d's place, if any */
static int inactive_node(hd_device *d, hd_device **ret) {
        for (size_t i = 0; hd_nodedev_extensions[i]; i++)
                if (hd_nodedev_extensions[i]->inactive_node) {
                        int r = hd_nodedev_extensions[i]->inactive_node(d, ret);
                        if (r != 0)
                                return r;
                }
        return 0;
}

/* the active mdev @d is gone: its defined node takes its place (refreshed
 * in place: the same name), else it is removed */
static int mdev_gone(hd_nodedev_list *list, hd_device *d, hd_nodedev_change_fn fn, void *userdata) {
        hd_device *def = NULL;
        int r;

        if (d->n_children == 0 && (r = inactive_node(d, &def)) != 0) {
                if (r < 0)
                        return r;
                if (!streq(def->name, d->name)) {
                        hd_device_free(def);
                        return -ESTALE;
                }
                r = refresh(list, d, def);
                if (r < 0)
                        return r;
                if (fn)
                        fn(list, d, HD_NODEDEV_REFRESHED, userdata);
                return 1;
        }
        remove_subtree(list, d, fn, userdata);
        return 1;
}

/* the active mdev @fresh came: a defined node of its name under the same
 * parent takes its reading in place (started), else it is inserted */
static int mdev_came(hd_nodedev_list *list, hd_device *fresh, hd_nodedev_change_fn fn, void *userdata) {
        hd_device *old = hd_hashmap_get(list->by_name, fresh->name);
        int r;

        if (!old)
                return insert_new(list, fresh, fn, userdata);
        if (!old->inactive || old->n_children > 0 || find_parent(list, fresh->raw.syspath) != old->parent) {
                hd_device_free(fresh);
                return -ESTALE;
        }
        r = refresh(list, old, fresh);
        if (r < 0)
                return r;
        if (fn)
                fn(list, old, HD_NODEDEV_REFRESHED, userdata);
        return 1;
}

/* An event of the mdev at @syspath (.../PARENT/UUID): created, removed,
 * bound, changed.  Its parent is announced refreshed too (its types'
 * available instances are read when rendered). */
static int update_mdev(hd_nodedev_list *list, const char *action, const char *syspath, hd_nodedev_change_fn fn,
                       void *userdata) {
        hd_device *d = hd_hashmap_get(list->by_path, syspath), *fresh = NULL, *parent = d ? d->parent : NULL;
        int r;

        if (streq(action, "move"))
                return -ESTALE;
        if (streq(action, "remove")) {
                if (!d)
                        return 0;
                r = mdev_gone(list, d, fn, userdata);
        } else {
                r = read_one(list, syspath, &fresh);
                if (r == -ESTALE && d)
                        r = mdev_gone(list, d, fn, userdata);   /* gone already: its remove event follows */
                else if (r < 0)
                        return r;
                else if (r == 0)
                        return d ? -ESTALE : 0; /* not (any more) a mediated device */
                else if (d) {
                        r = refresh(list, d, fresh);
                        if (r >= 0 && fn)
                                fn(list, d, HD_NODEDEV_REFRESHED, userdata);
                } else {
                        parent = find_parent(list, fresh->raw.syspath);
                        r = mdev_came(list, fresh, fn, userdata);
                }
        }
        if (r < 0)
                return r;
        forget_members(list);
        if (parent && parent != list->root && fn)
                fn(list, parent, HD_NODEDEV_REFRESHED, userdata);
        return 1;
}

/* the device at @syspath read now: 1 and *ret, 0 no node device, -ESTALE gone */
static int read_one(hd_nodedev_list *list, const char *syspath, hd_device **ret) {
        struct hd_raw_device raw = {};
        hd_device *d;
        char *copy;
        int r;

        if (!hd_sysfs_is_dir(list->ctx, syspath + 1))
                return -ESTALE;
        copy = strdup(syspath);
        if (!copy)
                return -ENOMEM;
        r = hd_source_sysfs_read_device(list->ctx, copy, NULL, &raw); /* takes copy */
        if (r <= 0)
                return r;
        d = device_from_raw(list, &raw);
        if (!d)
                return -ENOMEM;
        r = classify(list, d);
        if (r <= 0) {
                hd_device_free(d);
                return r;
        }
        *ret = d;
        return 1;
}

/* The mdev_bus parents read again: a device that came or went may be one. */
static int reload_mdev_bus(hd_nodedev_list *list) {
        hd_hashmap_free(list->mdev_bus);
        list->mdev_bus = NULL;
        hd_strv_free(list->mdev_bus_paths);
        list->mdev_bus_paths = NULL;
        list->n_mdev_bus_paths = 0;
        return load_mdev_bus(list);
}

_public_ int hd_nodedev_list_update(hd_nodedev_list *list, const char *action, const char *syspath,
                                    const char *old_syspath, hd_nodedev_change_fn fn, void *userdata) {
        hd_device *d, *fresh = NULL;
        int r;

        if (!list || !action || !syspath || list->lazy)
                return -EINVAL;
        if (!startswith(syspath, "/sys/devices/"))
                return 0;       /* modules, drivers, buses: no node device */
        /* a parent's mdev type: a change of the parent */
        if (strstr(syspath, "/mdev_supported_types/")) {
                _cleanup_free_ char *p = strndup(syspath, (size_t) (strstr(syspath, "/mdev_supported_types/") - syspath));
                if (!p)
                        return -ENOMEM;
                return hd_nodedev_list_update(list, "change", p, NULL, fn, userdata);
        }
        /* an mdev (defined and active devices share names) */
        if (hd_uuid_is_valid(hd_path_basename(syspath)))
                return update_mdev(list, action, syspath, fn, userdata);

        if (streq(action, "move")) {
                hd_device *old = old_syspath ? hd_hashmap_get(list->by_path, old_syspath) : NULL;
                if (old && old->n_children > 0)
                        return -ESTALE;
                if (old)
                        remove_subtree(list, old, fn, userdata);
                action = "add";
        }

        d = hd_hashmap_get(list->by_path, syspath);
        if (streq(action, "remove")) {
                if (!d)
                        return 0;
                remove_subtree(list, d, fn, userdata);
                forget_members(list);
                r = reload_mdev_bus(list);
                return r < 0 ? r : 1;
        }

        r = read_one(list, syspath, &fresh);
        if (r == -ESTALE && d) {
                /* gone already: its remove event follows */
                remove_subtree(list, d, fn, userdata);
                forget_members(list);
                return 1;
        }
        if (r < 0)
                return r;
        if (r >= 0) {
                int m = reload_mdev_bus(list);
                if (m < 0) {
                        hd_device_free(fresh);
                        return m;
                }
        }
        if (r == 0) {
                /* no node device (any more) */
                if (!d)
                        return 0;
                if (d->n_children > 0)
                        return -ESTALE;
                remove_subtree(list, d, fn, userdata);
                forget_members(list);
                return 1;
        }
        if (!d) {
                forget_members(list);
                return insert_new(list, fresh, fn, userdata);
        }
        if (!streq(d->name, fresh->name)) {
                /* a new name (a netdev's address): gone and new */
                if (d->n_children > 0 || hd_hashmap_get(list->by_name, fresh->name)) {
                        hd_device_free(fresh);
                        return -ESTALE;
                }
                remove_subtree(list, d, fn, userdata);
                forget_members(list);
                return insert_new(list, fresh, fn, userdata);
        }
        r = refresh(list, d, fresh);
        if (r < 0)
                return r;
        /* a driver bound or unbound: the viability of its IOMMU group */
        forget_members(list);
        if (fn)
                fn(list, d, HD_NODEDEV_REFRESHED, userdata);
        return 1;
}
