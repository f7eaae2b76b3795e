/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PCI capability data: addresses, pci.ids names (libpci), config space
 * (header type, PCI Express link), SR-IOV, mediated-device types, VPD and
 * IOMMU groups.
 */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <pci/pci.h>
#include <sys/stat.h>

#include "nodedev-internal.h"

int hd_pci_addr_parse(const char *s, struct hd_pci_addr *ret) {
        unsigned v[4];
        int n = 0, parts;
        const char *p = s;
        char *end;

        if (isempty(s))
                return -EINVAL;
        /* DDDD:BB:SS.F or BB:SS.F */
        parts = 0;
        for (const char *q = s; *q; q++)
                if (*q == ':')
                        parts++;
        if (parts != 1 && parts != 2)
                return -EINVAL;
        if (parts == 1)
                v[n++] = 0;
        for (; n < 4; n++) {
                unsigned long x;
                char sep = n < 2 ? ':' : (n == 2 ? '.' : 0);
                if (!isxdigit((unsigned char) *p))
                        return -EINVAL;
                errno = 0;
                x = strtoul(p, &end, 16);
                if (errno || end - p > 8 || x > 0xffffffffUL)
                        return -EINVAL;
                if (*end != sep)
                        return -EINVAL;
                v[n] = (unsigned) x;
                p = sep ? end + 1 : end;
        }
        if (v[1] > 0xff || v[2] > 0x1f || v[3] > 7)
                return -EINVAL;
        ret->domain = v[0];
        ret->bus = v[1];
        ret->slot = v[2];
        ret->function = v[3];
        return 0;
}

/* ---- pci.ids names through libpci ---- */

static void pci_warn(char *msg _unused_, ...) {}
static void pci_debug(char *msg _unused_, ...) {}
static void __attribute__((noreturn)) pci_error(char *msg, ...) {
        /* libpci only reports fatal allocation failures here and expects no
         * return; we cannot continue either, but we must not exit(). */
        (void) msg;
        abort();
}

static struct pci_access *get_pacc(hd_ctx *ctx) {
        if (!ctx->pacc) {
                const char *ids = secure_getenv("HOSTDEV_PCI_IDS");
                ctx->pacc = pci_alloc();
                if (!ctx->pacc)
                        return NULL;
                ctx->pacc->warning = pci_warn;
                ctx->pacc->debug = pci_debug;
                ctx->pacc->error = pci_error;
                if (ids)
                        pci_set_name_list_path(ctx->pacc, (char *) ids, 0);
        }
        return ctx->pacc;
}

const char *hd_pci_lookup_vendor(hd_ctx *ctx, unsigned vendor, char *buf, size_t size) {
        struct pci_access *a = get_pacc(ctx);
        int r;
        if (!a)
                return NULL;
        r = hd_pciids_lookup(&ctx->pciids, a->id_file_name, vendor, -1, buf, size);
        if (r != 0)
                return r > 0 ? buf : NULL;
        return pci_lookup_name(a, buf, (int) size, PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB,
                               vendor);
}

const char *hd_pci_lookup_device(hd_ctx *ctx, unsigned vendor, unsigned device, char *buf, size_t size) {
        struct pci_access *a = get_pacc(ctx);
        int r;
        if (!a)
                return NULL;
        r = hd_pciids_lookup(&ctx->pciids, a->id_file_name, vendor, (int) device, buf, size);
        if (r != 0)
                return r > 0 ? buf : NULL;
        return pci_lookup_name(a, buf, (int) size, PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB,
                               vendor, device);
}

/* ---- config space ---- */

int hd_pci_config_read(hd_device *d, struct hd_pci_config *c) {
        _cleanup_close_ int fd = -1;
        char path[PATH_MAX];
        struct stat st;
        int r;

        memset(c, 0, sizeof(*c));
        r = hd_device_attr_path(d, "config", path, sizeof(path));
        if (r < 0)
                return r;
        r = hd_sysfs_open(d->list->ctx, path, O_RDONLY, &fd);
        if (r < 0)
                return r;
        if (fstat(fd, &st) == 0)
                c->file_size = st.st_size;
        while (c->len < sizeof(c->b)) {
                ssize_t n = read(fd, c->b + c->len, sizeof(c->b) - c->len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (n == 0)
                        break;
                c->len += (size_t) n;
        }
        return c->len >= 64 ? 0 : -ENODATA;
}

unsigned hd_pci_cfg8(const struct hd_pci_config *c, size_t o) {
        return o < c->len ? c->b[o] : 0;
}
unsigned hd_pci_cfg16(const struct hd_pci_config *c, size_t o) {
        return hd_pci_cfg8(c, o) | hd_pci_cfg8(c, o + 1) << 8;
}
uint32_t hd_pci_cfg32(const struct hd_pci_config *c, size_t o) {
        return (uint32_t) hd_pci_cfg16(c, o) | (uint32_t) hd_pci_cfg16(c, o + 2) << 16;
}

/* Offset of an extended capability (>= 0x100), 0 if absent, -1 if the
 * extended space is not readable (unprivileged, or conventional PCI). */
int hd_pci_config_find_ext_cap(const struct hd_pci_config *c, unsigned id) {
        unsigned pos = 0x100;

        if (c->len < 0x104)
                return -1;
        for (int i = 0; pos >= 0x100 && i < 480; i++) {
                uint32_t h;
                if (pos + 4 > c->len)
                        return -1;
                h = hd_pci_cfg32(c, pos);
                if (h == 0 || h == 0xffffffff)
                        return 0;
                if ((h & 0xffff) == id)
                        return (int) pos;
                pos = (h >> 20) & 0xffc;
        }
        return 0;
}

/* Offset of a standard capability, 0 if absent, -1 if unreadable. */
int hd_pci_config_find_cap(const struct hd_pci_config *c, unsigned id) {
        unsigned pos;

        if (!(hd_pci_cfg16(c, 0x06) & 0x10)) /* status: capability list */
                return 0;
        pos = hd_pci_cfg8(c, 0x34) & ~3u;
        for (int i = 0; pos >= 0x40 && i < 48; i++) {
                if (pos + 2 > c->len)
                        return -1;
                if (hd_pci_cfg8(c, pos) == id)
                        return (int) pos;
                pos = hd_pci_cfg8(c, pos + 1) & ~3u;
        }
        return 0;
}

static const char *link_speed(unsigned s) {
        static const char *const speeds[] = { NULL, "2.5", "5", "8", "16", "32", "64" };
        return s < ELEMENTSOF(speeds) ? speeds[s] : NULL;
}

static void add_link(struct hd_node *pe, const char *validity, int port, unsigned speed, unsigned width) {
        struct hd_node *l = hd_node_add(pe, "link", HD_NODE_ARRAY);
        const char *sp = link_speed(speed);

        hd_node_attr(l, "validity", "%s", validity);
        if (port >= 0)
                hd_node_attr_num(l, "port", "%d", port);
        if (sp)
                hd_node_attr_num(l, "speed", "%s", sp);
        hd_node_attr_num(l, "width", "%u", width);
}

void hd_pci_config_add_pcie(struct hd_node *cap, const struct hd_pci_config *c) {
        int pos = hd_pci_config_find_cap(c, 0x10);
        struct hd_node *pe;
        unsigned type;

        if (pos <= 0) {
                /* As libvirt (virPCIDeviceInit): without a PCI Express
                 * capability it could find (none listed, Status Cap-, or
                 * only 64 bytes readable without root) it goes by the size
                 * of the config file, which is 256 bytes for conventional
                 * PCI: any other size counts as PCI Express, without link. */
                if (c->file_size != 256)
                        hd_node_add(cap, "pci-express", 0);
                return;
        }
        pe = hd_node_add(cap, "pci-express", 0);
        type = (hd_pci_cfg16(c, (size_t) pos + 2) >> 4) & 0xf;
        /* root-complex integrated endpoints and event collectors have no link */
        if (type == 9 || type == 10 || (size_t) pos + 0x14 > c->len)
                return;
        uint32_t lnkcap = hd_pci_cfg32(c, (size_t) pos + 0x0c);
        unsigned lnksta = hd_pci_cfg16(c, (size_t) pos + 0x12);
        add_link(pe, "cap", (int) (lnkcap >> 24), lnkcap & 0xf, (lnkcap >> 4) & 0x3f);
        add_link(pe, "sta", -1, lnksta & 0xf, (lnksta >> 4) & 0x3f);
}

/* ---- helpers ---- */

static void add_address(struct hd_node *parent, const struct hd_pci_addr *a) {
        struct hd_node *n = hd_node_add(parent, "address", HD_NODE_ARRAY);
        hd_node_attr(n, "domain", "0x%04x", a->domain);
        hd_node_attr(n, "bus", "0x%02x", a->bus);
        hd_node_attr(n, "slot", "0x%02x", a->slot);
        hd_node_attr(n, "function", "0x%x", a->function);
}

/* PCI address of the device a link (physfn, virtfnN) points to; the
 * target must exist. */
static int link_addr(hd_device *d, const char *link, struct hd_pci_addr *ret) {
        char path[PATH_MAX];
        _cleanup_free_ char *target = NULL;
        int r = hd_device_attr_path(d, link, path, sizeof(path));
        if (r < 0)
                return r;
        r = hd_sysfs_resolve_link(d->list->ctx, path, &target);
        if (r < 0)
                return r;
        if (!hd_sysfs_is_dir(d->list->ctx, target))
                return -ENOENT;
        return hd_pci_addr_parse(hd_path_basename(target), ret);
}

static int cmp_addr(const void *x, const void *y) {
        const struct hd_pci_addr *a = x, *b = y;
        if (a->domain != b->domain)
                return a->domain < b->domain ? -1 : 1;
        if (a->bus != b->bus)
                return a->bus < b->bus ? -1 : 1;
        if (a->slot != b->slot)
                return a->slot < b->slot ? -1 : 1;
        return (int) a->function - (int) b->function;
}

static int iommu_group(hd_device *d, long long *ret) {
        char path[PATH_MAX];
        _cleanup_free_ char *target = NULL;
        int r = hd_device_attr_path(d, "iommu_group", path, sizeof(path));
        if (r < 0)
                return r;
        r = hd_sysfs_readlink(d->list->ctx, path, &target);
        if (r < 0)
                return r;
        return hd_safe_atoll(hd_path_basename(target), 10, ret);
}

static void add_iommu_group(hd_device *d, struct hd_node *cap) {
        _cleanup_strv_free_ char **members = NULL;
        _cleanup_free_ struct hd_pci_addr *addrs = NULL;
        struct hd_node *g;
        char path[PATH_MAX];
        long long grp;
        size_t n = 0, na = 0;

        if (iommu_group(d, &grp) < 0 || grp < 0)
                return;
        snprintf(path, sizeof(path), "sys/kernel/iommu_groups/%lld/devices", grp);
        if (hd_sysfs_list_dir(d->list->ctx, path, &members, &n) < 0) {
                log_warn(d->list->ctx, "%s: IOMMU group %lld has no readable devices/ directory", d->raw.syspath, grp);
                return;
        }
        g = hd_node_add(cap, "iommuGroup", 0);
        hd_node_attr_num(g, "number", "%lld", grp);
        addrs = calloc(n ? n : 1, sizeof(*addrs));
        if (!addrs) {
                hd_node_set_error(cap, -ENOMEM);
                return;
        }
        for (size_t i = 0; i < n; i++)
                if (hd_pci_addr_parse(members[i], &addrs[na]) >= 0)
                        na++;
        qsort(addrs, na, sizeof(*addrs), cmp_addr);
        for (size_t i = 0; i < na; i++)
                add_address(g, &addrs[i]);
}

static void add_sriov(hd_device *d, struct hd_node *cap) {
        struct hd_pci_addr a;
        long long total = 0;
        struct hd_node *vf = NULL;

        if (link_addr(d, "physfn", &a) >= 0)
                add_address(hd_node_cap(cap, "phys_function"), &a);

        (void) hd_device_read_attr_long(d, "sriov_totalvfs", 10, &total);
        for (unsigned i = 0;; i++) {
                char name[32];
                snprintf(name, sizeof(name), "virtfn%u", i);
                if (link_addr(d, name, &a) < 0)
                        break;
                if (!vf)
                        vf = hd_node_cap(cap, "virt_functions");
                add_address(vf, &a);
        }
        if (total > 0 && !vf)
                vf = hd_node_cap(cap, "virt_functions");
        if (vf && total > 0) {
                /* maxCount goes right after type */
                hd_node_attr_num(vf, "maxCount", "%lld", total);
        }
}

/* ---- VPD (PCI Local Bus 3.0 §6.4 / PCIe 6.0 §6.28) ---- */

void hd_pci_vpd_done(struct hd_pci_vpd *v) {
        free(v->name);
        for (size_t i = 0; i < v->n_ro; i++)
                free(v->ro[i].value);
        for (size_t i = 0; i < v->n_rw; i++)
                free(v->rw[i].value);
}

static char *vpd_string(const unsigned char *p, size_t len) {
        char *s = malloc(len + 1);
        size_t o = 0;
        if (!s)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                if (p[i] == 0)
                        break;
                if (!isprint(p[i]))
                        goto bad;
                s[o++] = (char) p[i];
        }
        s[o] = 0;
        /* trailing spaces are padding */
        hd_strip(s);
        return s;
bad:
        free(s);
        errno = EBADMSG;
        return NULL;
}

static int vpd_parse(const unsigned char *b, size_t len, struct hd_pci_vpd *v) {
        size_t pos = 0;
        bool seen_rv = false;

        while (pos < len) {
                unsigned tag = b[pos];
                size_t rlen, start;

                if (tag == 0x78) /* end tag */
                        return v->name ? 0 : -EBADMSG;
                if (!(tag & 0x80) || pos + 3 > len)
                        return -EBADMSG;
                rlen = b[pos + 1] | (size_t) b[pos + 2] << 8;
                start = pos + 3;
                if (start + rlen > len)
                        return -EBADMSG;
                switch (tag) {
                case 0x82:
                        if (v->name)
                                return -EBADMSG;
                        v->name = vpd_string(b + start, rlen);
                        if (!v->name)
                                return -EBADMSG;
                        break;
                case 0x90:
                case 0x91: {
                        bool rw = tag == 0x91;
                        size_t f = start;
                        if (!v->name)
                                return -EBADMSG;
                        while (f + 3 <= start + rlen) {
                                char key[3] = { (char) b[f], (char) b[f + 1], 0 };
                                size_t flen = b[f + 2];
                                struct hd_pci_vpd_field *fld;
                                if (f + 3 + flen > start + rlen)
                                        return -EBADMSG;
                                if (!rw && streq(key, "RV")) {
                                        unsigned sum = 0;
                                        /* the checksum is the first byte of RV's
                                         * data: an empty RV has none (and the sum
                                         * would take the byte after the field) */
                                        if (flen == 0)
                                                return -EBADMSG;
                                        for (size_t i = 0; i <= f + 3; i++)
                                                sum += b[i];
                                        if ((sum & 0xff) != 0)
                                                return -EBADMSG;
                                        seen_rv = true;
                                } else if (rw && streq(key, "RW")) {
                                        /* remaining read/write space */
                                } else {
                                        /* keywords are two upper-case letters or digits */
                                        for (int k = 0; k < 2; k++)
                                                if (!isupper((unsigned char) key[k]) && !isdigit((unsigned char) key[k]))
                                                        return -EBADMSG;
                                        if ((rw ? v->n_rw : v->n_ro) >= 64)
                                                return -EBADMSG;
                                        fld = rw ? &v->rw[v->n_rw] : &v->ro[v->n_ro];
                                        memcpy(fld->key, key, 3);
                                        fld->value = vpd_string(b + f + 3, flen);
                                        if (!fld->value)
                                                return -EBADMSG;
                                        if (rw)
                                                v->n_rw++;
                                        else
                                                v->n_ro++;
                                }
                                f += 3 + flen;
                        }
                        break;
                }
                default:
                        break;
                }
                pos = start + rlen;
        }
        return seen_rv && v->name ? 0 : -EBADMSG;
}

int hd_pci_vpd_parse(const void *data, size_t len, struct hd_pci_vpd *ret) {
        struct hd_pci_vpd v = {};
        int r = vpd_parse(data, len, &v);
        if (r < 0) {
                hd_pci_vpd_done(&v);
                return r;
        }
        *ret = v;
        return 0;
}

static int read_vpd(hd_device *d, struct hd_pci_vpd *v) {
        char path[PATH_MAX];
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r;

        r = hd_device_attr_path(d, "vpd", path, sizeof(path));
        if (r < 0)
                return r;
        r = hd_sysfs_read_full(d->list->ctx, path, &data, &len);
        if (r < 0)
                return r;
        r = hd_pci_vpd_parse(data, len, v);
        if (r < 0)
                log_debug(d->list->ctx, "%s: malformed VPD ignored", d->raw.syspath);
        return r;
}

static const char *vpd_ro_key(const char *k, const char **index) {
        *index = NULL;
        if (streq(k, "EC"))
                return "change_level";
        if (streq(k, "MN"))
                return "manufacture_id";
        if (streq(k, "PN"))
                return "part_number";
        if (streq(k, "SN"))
                return "serial_number";
        if (k[0] == 'V') {
                *index = k + 1;
                return "vendor_field";
        }
        return NULL;
}

static const char *vpd_rw_key(const char *k, const char **index) {
        *index = NULL;
        if (streq(k, "YA"))
                return "asset_tag";
        if (k[0] == 'V') {
                *index = k + 1;
                return "vendor_field";
        }
        if (k[0] == 'Y') {
                *index = k + 1;
                return "system_field";
        }
        return NULL;
}

static void add_vpd_fields(struct hd_node *cap, const char *access, const struct hd_pci_vpd_field *f, size_t n,
                           bool rw) {
        static const char *const order_ro[] = { "change_level", "manufacture_id", "part_number",
                                                "serial_number", "vendor_field" };
        static const char *const order_rw[] = { "asset_tag", "vendor_field", "system_field" };
        const char *const *order = rw ? order_rw : order_ro;
        size_t n_order = rw ? ELEMENTSOF(order_rw) : ELEMENTSOF(order_ro);
        struct hd_node *fields;

        if (n == 0)
                return;
        fields = hd_node_add(cap, "fields", HD_NODE_ARRAY);
        hd_node_attr(fields, "access", "%s", access);
        for (size_t o = 0; o < n_order; o++)
                for (size_t i = 0; i < n; i++) {
                        const char *idx, *el = rw ? vpd_rw_key(f[i].key, &idx) : vpd_ro_key(f[i].key, &idx);
                        struct hd_node *x;
                        if (!el || !streq(el, order[o]))
                                continue;
                        x = hd_node_leaf(fields, el, idx ? HD_NODE_ARRAY : 0, "%s", f[i].value);
                        if (idx)
                                hd_node_attr(x, "index", "%s", idx);
                }
}

void hd_pci_vpd_build(struct hd_node *cap, const struct hd_pci_vpd *v) {
        struct hd_node *c = hd_node_cap(cap, "vpd");
        hd_node_leaf(c, "name", 0, "%s", v->name);
        add_vpd_fields(c, "readonly", v->ro, v->n_ro, false);
        add_vpd_fields(c, "readwrite", v->rw, v->n_rw, true);
}

static void add_vpd(hd_device *d, struct hd_node *cap) {
        struct hd_pci_vpd v = {};

        if (read_vpd(d, &v) < 0)
                return;
        hd_pci_vpd_build(cap, &v);
        hd_pci_vpd_done(&v);
}

/* ---- the pci capability ---- */

/* Vendor and device ids: the uevent's PCI_ID ("8086:1901", written by the
 * kernel from the same fields as the vendor and device attributes), else
 * the attributes.  -1 when unknown. */
static void pci_ids(hd_device *d, long long *vendor, long long *device) {
        const char *id = hd_device_get_property(d, "PCI_ID");
        unsigned v, p;
        char c;

        if (id && strlen(id) == 9 && sscanf(id, "%4x:%4x%c", &v, &p, &c) == 2 && isxdigit((unsigned char) id[8])) {
                *vendor = v;
                *device = p;
                return;
        }
        *vendor = *device = -1;
        (void) hd_device_read_attr_long(d, "vendor", 16, vendor);
        (void) hd_device_read_attr_long(d, "device", 16, device);
}

int hd_pci_build_caps(hd_device *d, struct hd_node *cap) {
        hd_ctx *ctx = d->list->ctx;
        struct hd_pci_addr a;
        struct hd_pci_config *cfg;
        const char *cls = hd_device_get_property(d, "PCI_CLASS");
        long long vendor = -1, device = -1, numa = -1, klass = -1;
        char nbuf[256];
        const char *name;
        struct hd_node *n;
        bool have_cfg;

        if (hd_pci_addr_parse(d->sysname, &a) < 0)
                return -EINVAL;
        if (!cls || hd_safe_atoll(cls, 16, &klass) < 0)
                (void) hd_device_read_attr_long(d, "class", 16, &klass);
        pci_ids(d, &vendor, &device);

        if (klass >= 0)
                hd_node_leaf(cap, "class", 0, "0x%06llx", klass);
        hd_node_leaf(cap, "domain", HD_NODE_NUMBER, "%u", a.domain);
        hd_node_leaf(cap, "bus", HD_NODE_NUMBER, "%u", a.bus);
        hd_node_leaf(cap, "slot", HD_NODE_NUMBER, "%u", a.slot);
        hd_node_leaf(cap, "function", HD_NODE_NUMBER, "%u", a.function);

        n = hd_node_add(cap, "product", 0);
        if (n)
                n->text_key = "name";
        hd_node_attr(n, "id", "0x%04llx", device < 0 ? 0 : device);
        name = vendor >= 0 && device >= 0 ? hd_pci_lookup_device(ctx, (unsigned) vendor, (unsigned) device, nbuf, sizeof(nbuf)) : NULL;
        if (name)
                hd_node_text(n, name);
        n = hd_node_add(cap, "vendor", 0);
        if (n)
                n->text_key = "name";
        hd_node_attr(n, "id", "0x%04llx", vendor < 0 ? 0 : vendor);
        name = vendor >= 0 ? hd_pci_lookup_vendor(ctx, (unsigned) vendor, nbuf, sizeof(nbuf)) : NULL;
        if (name)
                hd_node_text(n, name);

        add_sriov(d, cap);

        cfg = malloc(sizeof(*cfg));
        if (!cfg)
                return -ENOMEM;
        have_cfg = hd_pci_config_read(d, cfg) >= 0;
        if (have_cfg) {
                unsigned ht = hd_pci_cfg8(cfg, 0x0e) & 0x7f;
                if (ht == 1)
                        hd_node_cap(cap, "pci-bridge");
                else if (ht == 2)
                        hd_node_cap(cap, "cardbus-bridge");
        }
        hd_nodedev_ext_build_cap(d, HD_CAP_MDEV_TYPES, cap); /* mdev/ */
        add_vpd(d, cap);
        add_iommu_group(d, cap);
        if (hd_device_read_attr_long(d, "numa_node", 10, &numa) >= 0 && numa >= 0)
                hd_node_attr_num(hd_node_add(cap, "numa", 0), "node", "%lld", numa);
        if (have_cfg)
                hd_pci_config_add_pcie(cap, cfg);
        free(cfg);
        return 0;
}

bool hd_pci_has_nested_cap(hd_device *d, enum hd_cap_type t) {
        struct hd_pci_addr a;
        long long total = 0;

        switch (t) {
        case HD_CAP_PHYS_FUNCTION:
                return link_addr(d, "physfn", &a) >= 0;
        case HD_CAP_VIRT_FUNCTIONS:
                return (hd_device_read_attr_long(d, "sriov_totalvfs", 10, &total) >= 0 && total > 0) ||
                       link_addr(d, "virtfn0", &a) >= 0;
        case HD_CAP_MDEV_TYPES:
                return hd_nodedev_ext_has_cap(d, t);
        case HD_CAP_VPD: {
                struct hd_pci_vpd v = {};
                if (read_vpd(d, &v) < 0)
                        return false;
                hd_pci_vpd_done(&v);
                return true;
        }
        default:
                return false;
        }
}

_public_ int hd_pci_device_get_names(hd_device *d, char *vendor, size_t vsize, char *product, size_t psize) {
        long long v = -1, dev = -1;
        const char *n;

        if (!d || d->type != HD_CAP_PCI || !vendor || !product || !vsize || !psize)
                return -EINVAL;
        vendor[0] = product[0] = 0;
        pci_ids(d, &v, &dev);
        if (v < 0 || dev < 0)
                return -ENODATA;
        n = hd_pci_lookup_vendor(d->list->ctx, (unsigned) v, vendor, vsize);
        if (!n)
                vendor[0] = 0;
        else if (n != vendor)
                snprintf(vendor, vsize, "%s", n);
        n = hd_pci_lookup_device(d->list->ctx, (unsigned) v, (unsigned) dev, product, psize);
        if (!n)
                product[0] = 0;
        else if (n != product)
                snprintf(product, psize, "%s", n);
        return 0;
}

_public_ int hd_device_get_vendor_product(hd_device *d, char *vendor, size_t vsize, char *product, size_t psize) {
        const char *v, *p;

        if (!d || !vendor || !product || !vsize || !psize)
                return -EINVAL;
        if (d->type == HD_CAP_PCI)
                return hd_pci_device_get_names(d, vendor, vsize, product, psize);
        /* USB, storage, net: what udev's hwdb and the device report */
        v = hd_device_get_property(d, "ID_VENDOR_FROM_DATABASE") ?: hd_device_get_property(d, "ID_VENDOR");
        p = hd_device_get_property(d, "ID_MODEL_FROM_DATABASE") ?: hd_device_get_property(d, "ID_MODEL");
        snprintf(vendor, vsize, "%s", strempty(v));
        snprintf(product, psize, "%s", strempty(p));
        return 0;
}

_public_ int hd_pci_device_get_ids(hd_device *d, unsigned *ret_vendor, unsigned *ret_device, unsigned *ret_class) {
        long long v = -1, dev = -1, cls = -1;
        const char *id, *c;

        if (!d || d->type != HD_CAP_PCI)
                return -EINVAL;
        id = hd_device_get_property(d, "PCI_ID");
        if (id) {
                unsigned a, b;
                char extra;
                if (sscanf(id, "%x:%x%c", &a, &b, &extra) == 2) {
                        v = a;
                        dev = b;
                }
        }
        if (v < 0 || dev < 0) {
                if (hd_device_read_attr_long(d, "vendor", 16, &v) < 0 ||
                    hd_device_read_attr_long(d, "device", 16, &dev) < 0)
                        return -ENODATA;
        }
        c = hd_device_get_property(d, "PCI_CLASS");
        if (!c || hd_safe_atoll(c, 16, &cls) < 0)
                (void) hd_device_read_attr_long(d, "class", 16, &cls);
        if (ret_vendor)
                *ret_vendor = (unsigned) v;
        if (ret_device)
                *ret_device = (unsigned) dev;
        if (ret_class)
                *ret_class = cls < 0 ? 0 : (unsigned) cls;
        return 0;
}

/* ---- lspci's filters ---- */

static int parse_hex_field(const char *s, size_t len, unsigned max, int *ret) {
        unsigned long x;
        char buf[16], *end;

        if (len == 0 || (len == 1 && s[0] == '*')) {
                *ret = -1;
                return 0;
        }
        if (len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, len);
        buf[len] = 0;
        for (size_t i = 0; i < len; i++)
                if (!isxdigit((unsigned char) buf[i]))
                        return -EINVAL;
        errno = 0;
        x = strtoul(buf, &end, 16);
        if (errno || *end || x > max)
                return -EINVAL;
        *ret = (int) x;
        return 0;
}

_public_ void hd_pci_match_init(hd_pci_match *m) {
        *m = (hd_pci_match) { -1, -1, -1, -1, -1, -1, -1, 0 };
}

_public_ int hd_pci_match_parse_slot(hd_pci_match *m, const char *s) {
        const char *dot, *c1, *c2;
        const char *bus_s = NULL, *slot_s = s;
        size_t bus_len = 0;
        int r;

        if (!m || !s)
                return -EINVAL;
        /* [[[DOMAIN]:]BUS]:][SLOT][.[FUNC]] as lspci -s */
        dot = strchr(s, '.');
        c1 = strchr(s, ':');
        c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if ((c2 && strchr(c2 + 1, ':')) || (dot && strchr(dot + 1, '.')) || (dot && c1 && dot < (c2 ?: c1)))
                return -EINVAL;
        if (c2) {
                r = parse_hex_field(s, (size_t) (c1 - s), 0xffff, &m->domain);
                if (r < 0)
                        return r;
                bus_s = c1 + 1;
                bus_len = (size_t) (c2 - bus_s);
                slot_s = c2 + 1;
        } else if (c1) {
                bus_s = s;
                bus_len = (size_t) (c1 - s);
                slot_s = c1 + 1;
        }
        if (bus_s && (r = parse_hex_field(bus_s, bus_len, 0xff, &m->bus)) < 0)
                return r;
        r = parse_hex_field(slot_s, dot ? (size_t) (dot - slot_s) : strlen(slot_s), 0x1f, &m->slot);
        if (r < 0)
                return r;
        if (dot && (r = parse_hex_field(dot + 1, strlen(dot + 1), 7, &m->function)) < 0)
                return r;
        return 0;
}

_public_ int hd_pci_match_parse_id(hd_pci_match *m, const char *s) {
        const char *c = s ? strchr(s, ':') : NULL;
        int r;

        /* [VENDOR]:[DEVICE] as lspci -d */
        if (!m || !c || strchr(c + 1, ':'))
                return -EINVAL;
        r = parse_hex_field(s, (size_t) (c - s), 0xffff, &m->vendor);
        if (r >= 0)
                r = parse_hex_field(c + 1, strlen(c + 1), 0xffff, &m->device);
        return r;
}

_public_ int hd_pci_match_parse_class(hd_pci_match *m, const char *s) {
        const char *p = s;
        size_t len;
        int r, v;

        if (!m || !s)
                return -EINVAL;
        /* 02 (base class), 0200 (with subclass) or 020000 / 0x020000 (with
         * programming interface) */
        if (startswith(p, "0x") || startswith(p, "0X"))
                p += 2;
        len = strlen(p);
        if (len != 2 && len != 4 && len != 6)
                return -EINVAL;
        r = parse_hex_field(p, len, 0xffffff, &v);
        if (r < 0 || v < 0)
                return -EINVAL;
        m->cls = v;
        m->cls_digits = (unsigned) len;
        return 0;
}

_public_ bool hd_device_matches_pci(hd_device *d, const hd_pci_match *m) {
        struct hd_pci_addr a;
        unsigned vendor, device, cls;
        bool need_ids = m->vendor >= 0 || m->device >= 0 || m->cls >= 0;

        if (!d || d->type != HD_CAP_PCI || hd_pci_addr_parse(d->sysname, &a) < 0)
                return false;
        if ((m->domain >= 0 && (unsigned) m->domain != a.domain) || (m->bus >= 0 && (unsigned) m->bus != a.bus) ||
            (m->slot >= 0 && (unsigned) m->slot != a.slot) || (m->function >= 0 && (unsigned) m->function != a.function))
                return false;
        if (!need_ids)
                return true;
        if (hd_pci_device_get_ids(d, &vendor, &device, &cls) < 0)
                return false;
        if ((m->vendor >= 0 && (unsigned) m->vendor != vendor) || (m->device >= 0 && (unsigned) m->device != device))
                return false;
        if (m->cls >= 0 && (cls >> (4 * (6 - m->cls_digits))) != (unsigned) m->cls)
                return false;
        return true;
}
