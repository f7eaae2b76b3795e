/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Capability data of every node-device type, read from sysfs and udev
 * properties when asked for (nothing is cached: SR-IOV, IOMMU and driver
 * state change at run time), in libvirt's element order.
 */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <linux/devlink.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "nodedev-internal.h"
#include "util/netlink.h"

static struct hd_node *leaf_str(struct hd_node *p, const char *name, const char *v) {
        return v ? hd_node_leaf(p, name, 0, "%s", v) : NULL;
}

/* libvirt drops control characters and treats "" as absent */
static char *clean(char *s) {
        if (!s)
                return NULL;
        for (char *p = s; *p; p++)
                if (iscntrl((unsigned char) *p))
                        *p = ' ';
        char *t = hd_strip_both(s);
        if (!*t) {
                free(s);
                return NULL;
        }
        if (t != s)
                memmove(s, t, strlen(t) + 1);
        return s;
}

static char *attr(hd_device *d, const char *name) {
        char *s = NULL;
        (void) hd_device_read_attr(d, name, &s);
        return clean(s);
}

/* ---- system ---- */

static bool uuid_valid(const char *s) {
        unsigned hex = 0;
        bool all_same = true;
        char first = 0;
        for (const char *p = s; *p; p++) {
                if (*p == '-')
                        continue;
                if (!isxdigit((unsigned char) *p))
                        return false;
                if (!first)
                        first = (char) tolower((unsigned char) *p);
                else if (tolower((unsigned char) *p) != first)
                        all_same = false;
                hex++;
        }
        return hex == 32 && !all_same;
}

static void build_system(hd_ctx *ctx, struct hd_node *cap) {
        static const char *dirs[] = { "sys/devices/virtual/dmi/id", "sys/class/dmi/id" };
        const char *dir = NULL;
        struct hd_node *hw, *fw;
        _cleanup_free_ char *uuid = NULL;

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                if (hd_sysfs_is_dir(ctx, dirs[i])) {
                        dir = dirs[i];
                        break;
                }
#define DMI(var, file) _cleanup_free_ char *var = NULL; \
        if (dir) { (void) hd_sysfs_read_strf(ctx, &var, "%s/%s", dir, file); var = clean(var); }
        DMI(product, "product_name");
        DMI(hw_vendor, "sys_vendor");
        DMI(hw_version, "product_version");
        DMI(hw_serial, "product_serial");
        DMI(fw_vendor, "bios_vendor");
        DMI(fw_version, "bios_version");
        DMI(fw_date, "bios_date");
#undef DMI
        if (dir)
                (void) hd_sysfs_read_strf(ctx, &uuid, "%s/product_uuid", dir);
        leaf_str(cap, "product", product);
        hw = hd_node_add(cap, "hardware", 0);
        leaf_str(hw, "vendor", hw_vendor);
        leaf_str(hw, "version", hw_version);
        leaf_str(hw, "serial", hw_serial);
        /* As libvirt: the DMI product UUID, else all zeroes. */
        if (uuid && uuid_valid(uuid)) {
                /* canonical form: lower case, 8-4-4-4-12 */
                char canon[37];
                size_t o = 0;
                for (const char *p = uuid; *p; p++) {
                        if (*p == '-')
                                continue;
                        if (o == 8 || o == 13 || o == 18 || o == 23)
                                canon[o++] = '-';
                        canon[o++] = (char) tolower((unsigned char) *p);
                }
                canon[o] = 0;
                leaf_str(hw, "uuid", canon);
        } else
                leaf_str(hw, "uuid", "00000000-0000-0000-0000-000000000000");
        fw = hd_node_add(cap, "firmware", HD_NODE_BLOCK); /* "<firmware>\n</firmware>" when empty, as libvirt */
        leaf_str(fw, "vendor", fw_vendor);
        leaf_str(fw, "version", fw_version);
        leaf_str(fw, "release_date", fw_date);
}

/* ---- usb ---- */

static void id_name(struct hd_node *cap, const char *el, long long id, const char *name) {
        struct hd_node *n = hd_node_add(cap, el, 0);
        if (n)
                n->text_key = "name";
        hd_node_attr(n, "id", "0x%04llx", id < 0 ? 0 : id);
        if (name)
                hd_node_text(n, name);
}

static long long hex_prop_or_attr(hd_device *d, const char *prop, const char *file) {
        const char *v = hd_device_get_property(d, prop);
        long long x = -1;
        if (!v || hd_safe_atoll(v, 16, &x) < 0)
                (void) hd_device_read_attr_long(d, file, 16, &x);
        return x;
}

static void build_usb_dev(hd_device *d, struct hd_node *cap) {
        const char *bus = hd_device_get_property(d, "BUSNUM"), *dev = hd_device_get_property(d, "DEVNUM");
        long long b = 0, n = 0;
        _cleanup_free_ char *vname = NULL, *pname = NULL;
        const char *vdb = hd_device_get_property(d, "ID_VENDOR_FROM_DATABASE");
        const char *pdb = hd_device_get_property(d, "ID_MODEL_FROM_DATABASE");

        if (!bus || hd_safe_atoll(bus, 10, &b) < 0)
                (void) hd_device_read_attr_long(d, "busnum", 10, &b);
        if (!dev || hd_safe_atoll(dev, 10, &n) < 0)
                (void) hd_device_read_attr_long(d, "devnum", 10, &n);
        if (!vdb)
                vname = attr(d, "manufacturer");
        if (!pdb)
                pname = attr(d, "product");
        hd_node_leaf(cap, "bus", HD_NODE_NUMBER, "%lld", b);
        hd_node_leaf(cap, "device", HD_NODE_NUMBER, "%lld", n);
        id_name(cap, "product", hex_prop_or_attr(d, "ID_MODEL_ID", "idProduct"), pdb ?: pname);
        id_name(cap, "vendor", hex_prop_or_attr(d, "ID_VENDOR_ID", "idVendor"), vdb ?: vname);
}

static void build_usb_if(hd_device *d, struct hd_node *cap) {
        static const char *const f[][2] = {
                { "number", "bInterfaceNumber" }, { "class", "bInterfaceClass" },
                { "subclass", "bInterfaceSubClass" }, { "protocol", "bInterfaceProtocol" },
        };
        for (size_t i = 0; i < ELEMENTSOF(f); i++) {
                long long v = 0;
                (void) hd_device_read_attr_long(d, f[i][1], 16, &v);
                hd_node_leaf(cap, f[i][0], HD_NODE_NUMBER, "%lld", v);
        }
}

/* ---- net ---- */

static const struct {
        const char *name;
        uint32_t cmd;
        uint32_t flag; /* for ETHTOOL_GFLAGS */
} net_features[] = {
        { "rx", ETHTOOL_GRXCSUM, 0 },   { "tx", ETHTOOL_GTXCSUM, 0 }, { "sg", ETHTOOL_GSG, 0 },
        { "tso", ETHTOOL_GTSO, 0 },     { "gso", ETHTOOL_GGSO, 0 },   { "gro", ETHTOOL_GGRO, 0 },
        { "lro", ETHTOOL_GFLAGS, ETH_FLAG_LRO },
        { "rxvlan", ETHTOOL_GFLAGS, ETH_FLAG_RXVLAN },
        { "txvlan", ETHTOOL_GFLAGS, ETH_FLAG_TXVLAN },
        { "ntuple", ETHTOOL_GFLAGS, ETH_FLAG_NTUPLE },
        { "rxhash", ETHTOOL_GFLAGS, ETH_FLAG_RXHASH },
};

/* libvirt's TX_UDP_TNL: bit 25 of ETHTOOL_GFEATURES' active word 0 (named
 * for NETIF_F_GSO_UDP_TUNNEL of old kernels; since 4.x the bit is
 * tx-ipxip6-segmentation, which ifb, veth and virtio_net turn on).  libvirt
 * tests that bit whatever it means, and so do we. */
#define TX_UDP_TNL_BIT 25
#define GFEATURES_BLOCKS 2

/* RDMA as libvirt decides it: some /sys/class/infiniband/X/device/resource
 * has the same content as the interface's device/resource. */
static bool net_has_rdma(hd_device *d, const char *ifname) {
        hd_ctx *ctx = d->list->ctx;
        _cleanup_strv_free_ char **ibs = NULL;
        _cleanup_free_ char *res = NULL;
        size_t n = 0, len = 0;

        if (hd_sysfs_list_dir(ctx, "sys/class/infiniband", &ibs, &n) < 0 || n == 0)
                return false;
        {
                char path[PATH_MAX];
                snprintf(path, sizeof(path), "sys/class/net/%s/device/resource", ifname);
                if (hd_sysfs_read_full(ctx, path, &res, &len) < 0)
                        return false;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *ib = NULL;
                char path[PATH_MAX];
                size_t l = 0;

                snprintf(path, sizeof(path), "sys/class/infiniband/%s/device/resource", ibs[i]);
                if (hd_sysfs_read_full(ctx, path, &ib, &l) >= 0 && l > 0 && l == len && memcmp(ib, res, l) == 0)
                        return true;
        }
        return false;
}

/* The PCI device whose devlink eswitch libvirt asks about for an
 * interface (virNetDevSwitchdevFeature): its own device, or for a VF the
 * PF, when the PF has an interface.  0 and the address, or -ENOENT. */
static int net_devlink_pci(hd_device *d, const char *ifname, char *ret, size_t size) {
        hd_ctx *ctx = d->list->ctx;
        _cleanup_free_ char *target = NULL;
        char path[PATH_MAX];
        struct hd_pci_addr a;
        const char *base;

        snprintf(path, sizeof(path), "sys/class/net/%s/device/physfn", ifname);
        if (hd_sysfs_exists(ctx, path)) {
                _cleanup_strv_free_ char **pf_nets = NULL;
                size_t n = 0;
                snprintf(path, sizeof(path), "sys/class/net/%s/device/physfn/net", ifname);
                if (hd_sysfs_list_dir(ctx, path, &pf_nets, &n) < 0 || n == 0)
                        return -ENOENT; /* libvirt: no PF interface, no feature */
                snprintf(path, sizeof(path), "sys/class/net/%s/device/physfn", ifname);
        } else
                snprintf(path, sizeof(path), "sys/class/net/%s/device", ifname);
        if (hd_sysfs_readlink(ctx, path, &target) < 0)
                return -ENOENT;
        base = hd_path_basename(target);
        if (hd_pci_addr_parse(base, &a) < 0 || strlen(base) >= size)
                return -ENOENT;
        memcpy(ret, base, strlen(base) + 1);
        return 0;
}

/* Offload features as libvirt's virNetDevGetFeatures() reports them, in
 * its order: the ethtool get commands and flags, rdma, txudptnl, and
 * switchdev (the PCI device's devlink eswitch is in switchdev mode).  Only
 * meaningful on the live host, where the interface exists in our network
 * namespace. */
static void add_net_features(hd_device *d, struct hd_node *cap, const char *ifname) {
        _cleanup_close_ int fd = -1;
        /* struct ethtool_gfeatures ends in a flexible array: room for
         * GFEATURES_BLOCKS blocks after it, aligned for the struct */
        union {
                struct ethtool_gfeatures g;
                unsigned char buf[sizeof(struct ethtool_gfeatures) +
                                  GFEATURES_BLOCKS * sizeof(struct ethtool_get_features_block)];
        } gf = {};
        struct ifreq ifr = {};
        bool ifindex_known;

        if (!hd_ctx_is_live(d->list->ctx) || strlen(ifname) >= IFNAMSIZ)
                return;
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return;
        memcpy(ifr.ifr_name, ifname, strlen(ifname));
        ifindex_known = ioctl(fd, SIOCGIFINDEX, &ifr) == 0;
        for (size_t i = 0; i < ELEMENTSOF(net_features); i++) {
                struct ethtool_value ev = { .cmd = net_features[i].cmd };
                bool on;

                ifr.ifr_data = (void *) &ev;
                if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
                        continue;
                on = net_features[i].flag ? (ev.data & net_features[i].flag) != 0 : ev.data != 0;
                if (on)
                        hd_node_attr(hd_node_add(cap, "feature", HD_NODE_ARRAY), "name", "%s", net_features[i].name);
        }
        if (net_has_rdma(d, ifname))
                hd_node_attr(hd_node_add(cap, "feature", HD_NODE_ARRAY), "name", "rdma");
        gf.g.cmd = ETHTOOL_GFEATURES;
        gf.g.size = GFEATURES_BLOCKS;
        ifr.ifr_data = (void *) &gf;
        if (ioctl(fd, SIOCETHTOOL, &ifr) == 0 &&
            (gf.g.features[TX_UDP_TNL_BIT / 32].active & (1u << (TX_UDP_TNL_BIT % 32))))
                hd_node_attr(hd_node_add(cap, "feature", HD_NODE_ARRAY), "name", "txudptnl");
        /* devlink only for an interface of this network namespace
         * (SIOCGIFINDEX found it): a tree bind-mounted over /sys
         * names interfaces the kernel does not have */
        if (ifindex_known) {
                char pci[32];
                int mode;
                if (net_devlink_pci(d, ifname, pci, sizeof(pci)) == 0 &&
                    hd_devlink_eswitch_mode("pci", pci, &mode) == 0 && mode == DEVLINK_ESWITCH_MODE_SWITCHDEV)
                        hd_node_attr(hd_node_add(cap, "feature", HD_NODE_ARRAY), "name", "switchdev");
        }
}

/* A sysfs number as libvirt's virStrToLong_ui() takes it: "-N" wraps to
 * 2^32 - N (the kernel writes "-1" for an unknown speed); -1 when it is
 * not a number or does not fit 32 bits. */
static long long uint_wrapped(long long v) {
        if (v < 0)
                return -v > 0xffffffffLL ? -1 : (long long) (uint32_t) v;
        return v > 0xffffffffLL ? -1 : v;
}

static void build_net(hd_device *d, struct hd_node *cap) {
        const char *ifname = hd_device_get_property(d, "INTERFACE") ?: d->sysname;
        _cleanup_free_ char *mac = attr(d, "address"), *state = attr(d, "operstate");
        long long speed = 0;
        struct hd_node *l;

        leaf_str(cap, "interface", ifname);
        leaf_str(cap, "address", mac);
        /* as libvirt: the speed only of a link that is up, as an unsigned
         * 32-bit number, printed unless 0 */
        if (state && streq(state, "up") && hd_device_read_attr_long(d, "speed", 10, &speed) >= 0)
                speed = uint_wrapped(speed);
        else
                speed = 0;
        if (speed > 0 || state) {
                l = hd_node_add(cap, "link", 0);
                if (speed > 0)
                        hd_node_attr_num(l, "speed", "%lld", speed);
                if (state)
                        hd_node_attr(l, "state", "%s", state);
        }
        add_net_features(d, cap, ifname);
        hd_node_cap(cap, streq_ptr(d->devtype, "wlan") ? "80211" : "80203");
}

/* ---- scsi ---- */

static char *strip_0x(char *s) {
        if (s && (startswith(s, "0x") || startswith(s, "0X")))
                memmove(s, s + 2, strlen(s + 2) + 1);
        return s;
}

static void build_scsi_host(hd_device *d, struct hd_node *cap) {
        hd_ctx *ctx = d->list->ctx;
        const char *num = startswith(d->sysname, "host");
        long long uid;
        char dir[PATH_MAX];

        hd_node_leaf(cap, "host", HD_NODE_NUMBER, "%s", num ?: "0");
        if (hd_sysfs_read_longf(ctx, 10, &uid, "sys/class/scsi_host/%s/unique_id", d->sysname) >= 0)
                hd_node_leaf(cap, "unique_id", HD_NODE_NUMBER, "%lld", uid);

        snprintf(dir, sizeof(dir), "sys/class/fc_host/%s", d->sysname);
        if (hd_sysfs_is_dir(ctx, dir)) {
                _cleanup_free_ char *wwnn = NULL, *wwpn = NULL, *fabric = NULL;
                (void) hd_sysfs_read_strf(ctx, &wwnn, "%s/node_name", dir);
                (void) hd_sysfs_read_strf(ctx, &wwpn, "%s/port_name", dir);
                (void) hd_sysfs_read_strf(ctx, &fabric, "%s/fabric_name", dir);
                if (wwnn && wwpn) {
                        struct hd_node *fc = hd_node_cap(cap, "fc_host");
                        leaf_str(fc, "wwnn", strip_0x(wwnn));
                        leaf_str(fc, "wwpn", strip_0x(wwpn));
                        leaf_str(fc, "fabric_wwn", strip_0x(fabric));
                }
                if (hd_sysfs_exists(ctx, strcat(dir, "/vport_create"))) {
                        long long max = 0, inuse = 0;
                        struct hd_node *vp = hd_node_cap(cap, "vport_ops");
                        (void) hd_sysfs_read_longf(ctx, 10, &max, "sys/class/fc_host/%s/max_npiv_vports", d->sysname);
                        (void) hd_sysfs_read_longf(ctx, 10, &inuse, "sys/class/fc_host/%s/npiv_vports_inuse", d->sysname);
                        hd_node_leaf(vp, "max_vports", HD_NODE_NUMBER, "%lld", max);
                        hd_node_leaf(vp, "vports", HD_NODE_NUMBER, "%lld", inuse);
                }
        }
}

static void build_scsi_target(hd_device *d, struct hd_node *cap) {
        hd_ctx *ctx = d->list->ctx;
        const char *slash;
        char rport[NAME_MAX + 1];
        size_t len;

        hd_node_leaf(cap, "target", 0, "%s", d->sysname);
        slash = d->sysname - 1;
        if (slash <= d->raw.syspath)
                return;
        const char *pstart = slash - 1;
        while (pstart > d->raw.syspath && *pstart != '/')
                pstart--;
        len = (size_t) (slash - pstart - 1);
        if (len == 0 || len > NAME_MAX)
                return;
        memcpy(rport, pstart + 1, len);
        rport[len] = 0;
        if (startswith(rport, "rport-")) {
                _cleanup_free_ char *wwpn = NULL;
                if (hd_sysfs_read_strf(ctx, &wwpn, "sys/class/fc_remote_ports/%s/port_name", rport) >= 0) {
                        struct hd_node *fc = hd_node_cap(cap, "fc_remote_port");
                        leaf_str(fc, "rport", rport);
                        leaf_str(fc, "wwpn", wwpn);
                }
        }
}

static const char *scsi_type_name(long long t) {
        switch (t) {
        case 0x00: return "disk";
        case 0x01: return "tape";
        case 0x03: return "processor";
        case 0x04: return "worm";
        case 0x05: return "cdrom";
        case 0x06: return "scanner";
        case 0x07: return "mod";
        case 0x08: return "changer";
        case 0x0d: return "enclosure";
        case 0x0c: return "raid";
        default: return NULL;
        }
}

static void build_scsi(hd_device *d, struct hd_node *cap) {
        unsigned h = 0, b = 0, t = 0, l = 0;
        long long type;

        (void) sscanf(d->sysname, "%u:%u:%u:%u", &h, &b, &t, &l);
        hd_node_leaf(cap, "host", HD_NODE_NUMBER, "%u", h);
        hd_node_leaf(cap, "bus", HD_NODE_NUMBER, "%u", b);
        hd_node_leaf(cap, "target", HD_NODE_NUMBER, "%u", t);
        hd_node_leaf(cap, "lun", HD_NODE_NUMBER, "%u", l);
        if (hd_device_read_attr_long(d, "type", 0, &type) >= 0 && scsi_type_name(type))
                hd_node_leaf(cap, "type", 0, "%s", scsi_type_name(type));
}

/* ---- storage ---- */

static void build_storage(hd_device *d, struct hd_node *cap) {
        const char *dt = hd_storage_drive_type(d);
        _cleanup_free_ char *vendor = attr(d, "device/vendor"), *model = attr(d, "device/model");
        long long sectors = 0, lbs = 0;
        bool is_removable_type = dt && (streq(dt, "cd") || streq(dt, "floppy") || streq(dt, "sd"));
        unsigned long long size;

        leaf_str(cap, "block", d->devnode);
        leaf_str(cap, "bus", hd_device_get_property(d, "ID_BUS"));
        leaf_str(cap, "drive_type", dt && streq(dt, "cd") ? "cdrom" : dt);
        if (!model)
                model = clean(hd_strdup(hd_device_get_property(d, "ID_MODEL")));
        leaf_str(cap, "model", model);
        leaf_str(cap, "vendor", vendor);
        leaf_str(cap, "serial", hd_device_get_property(d, "ID_SERIAL"));

        (void) hd_device_read_attr_long(d, "size", 10, &sectors);
        (void) hd_device_read_attr_long(d, "queue/logical_block_size", 10, &lbs);
        /* sysfs "size" counts 512-byte sectors whatever the block size */
        size = (unsigned long long) (sectors < 0 ? 0 : sectors) * 512ULL;

        if (is_removable_type) {
                struct hd_node *rm = hd_node_cap(cap, "removable");
                bool media;
                if (streq(dt, "cd"))
                        media = streq_ptr(hd_device_get_property(d, "ID_CDROM_MEDIA"), "1");
                else if (streq(dt, "floppy"))
                        media = hd_device_get_property(d, "ID_CDROM_MEDIA")
                                        ? streq_ptr(hd_device_get_property(d, "DKD_MEDIA_AVAILABLE"), "1")
                                        : hd_device_get_property(d, "ID_FS_LABEL") != NULL;
                else
                        media = sectors > 0;
                hd_node_leaf(rm, "media_available", HD_NODE_NUMBER, "%d", media ? 1 : 0);
                hd_node_leaf(rm, "media_size", HD_NODE_NUMBER, "%llu", media ? size : 0);
                if (media) {
                        leaf_str(rm, "media_label", hd_device_get_property(d, "ID_FS_LABEL"));
                        if (lbs > 0)
                                hd_node_leaf(rm, "logical_block_size", HD_NODE_NUMBER, "%lld", lbs);
                        if (lbs > 0 && size / (unsigned long long) lbs > 0)
                                hd_node_leaf(rm, "num_blocks", HD_NODE_NUMBER, "%llu", size / (unsigned long long) lbs);
                }
        } else {
                hd_node_leaf(cap, "size", HD_NODE_NUMBER, "%llu", size);
                if (lbs > 0)
                        hd_node_leaf(cap, "logical_block_size", HD_NODE_NUMBER, "%lld", lbs);
                if (lbs > 0 && size / (unsigned long long) lbs > 0)
                        hd_node_leaf(cap, "num_blocks", HD_NODE_NUMBER, "%llu", size / (unsigned long long) lbs);
        }
}

/* ---- drm, vdpa ---- */

static void build_drm(hd_device *d, struct hd_node *cap) {
        static const char *const types[] = { "primary", "control", "render" };
        const char *m = hd_device_get_property(d, "MINOR");
        unsigned minor = 0;
        if (m && hd_safe_atou(m, 10, &minor) >= 0 && (minor >> 6) < 3)
                hd_node_leaf(cap, "type", 0, "%s", types[minor >> 6]);
}

/* "/dev/vhost-vdpa-N" of a vDPA device when that node exists. */
bool hd_vdpa_chardev(hd_device *d, char **ret) {
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0;

        if (hd_sysfs_list_dir(d->list->ctx, d->raw.syspath, &names, &n) < 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (startswith(names[i], "vhost-vdpa-")) {
                        char dev[PATH_MAX];
                        snprintf(dev, sizeof(dev), "dev/%s", names[i]);
                        if (!hd_sysfs_exists(d->list->ctx, dev))
                                return false;
                        if (ret && hd_asprintf(ret, "/%s", dev) < 0)
                                return false;
                        return true;
                }
        return false;
}

static void build_vdpa(hd_device *d, struct hd_node *cap) {
        _cleanup_free_ char *dev = NULL;
        if (hd_vdpa_chardev(d, &dev))
                hd_node_leaf(cap, "chardev", 0, "%s", dev);
}

/* ---- the device ---- */

int hd_device_build_dom(hd_device *d, struct hd_node **ret) {
        _cleanup_node_ struct hd_node *root = hd_node_new_root("device");
        const char *driver;
        struct hd_node *cap, *n;
        int r = 0;

        if (!root)
                return -ENOMEM;
        hd_node_leaf(root, "name", 0, "%s", d->name);
        if (d->raw.syspath)
                hd_node_leaf(root, "path", 0, "%s", d->raw.syspath);
        if (d->devnode) {
                n = hd_node_leaf(root, "devnode", HD_NODE_ARRAY, "%s", d->devnode);
                hd_node_attr(n, "type", "dev");
        }
        for (size_t i = 0; d->devnode && i < d->raw.n_devlinks; i++) {
                n = hd_node_leaf(root, "devnode", HD_NODE_ARRAY, "%s", d->raw.devlinks[i]);
                hd_node_attr(n, "type", "link");
        }
        if (d->parent)
                hd_node_leaf(root, "parent", 0, "%s", d->parent->name);
        driver = hd_device_get_driver(d);
        if (driver)
                hd_node_leaf(hd_node_add(root, "driver", 0), "name", 0, "%s", driver);

        if (d->type == HD_CAP_MDEV_TYPES) {
                /* generic mediated-device parent: the types are the
                 * capability (mdev/, through its extension) */
                hd_nodedev_ext_build_cap(d, HD_CAP_MDEV_TYPES, root);
        } else {
                cap = hd_node_cap(root, hd_cap_type_to_string(d->type));
                switch (d->type) {
                case HD_CAP_SYSTEM: build_system(d->list->ctx, cap); break;
                case HD_CAP_PCI: r = hd_pci_build_caps(d, cap); break;
                case HD_CAP_USB_DEV: build_usb_dev(d, cap); break;
                case HD_CAP_USB_INTERFACE: build_usb_if(d, cap); break;
                case HD_CAP_NET: build_net(d, cap); break;
                case HD_CAP_SCSI_HOST: build_scsi_host(d, cap); break;
                case HD_CAP_SCSI_TARGET: build_scsi_target(d, cap); break;
                case HD_CAP_SCSI: build_scsi(d, cap); break;
                case HD_CAP_STORAGE: build_storage(d, cap); break;
                case HD_CAP_SCSI_GENERIC: leaf_str(cap, "char", d->devnode); break;
                case HD_CAP_DRM: build_drm(d, cap); break;
                case HD_CAP_MDEV: hd_nodedev_ext_build_cap(d, HD_CAP_MDEV, cap); break;
                case HD_CAP_VDPA: build_vdpa(d, cap); break;
                default: break;
                }
        }
        if (r < 0)
                return r;
        if (root->err)
                return root->err;
        *ret = TAKE_PTR(root);
        return 0;
}

_public_ int hd_device_format_xml(hd_device *d, char **ret) {
        _cleanup_node_ struct hd_node *dom = NULL;
        int r;

        if (!d || !ret)
                return -EINVAL;
        r = hd_device_build_dom(d, &dom);
        return r < 0 ? r : hd_node_render_xml(dom, ret);
}

_public_ int hd_device_format_json(hd_device *d, char **ret) {
        _cleanup_node_ struct hd_node *dom = NULL;
        int r;

        if (!d || !ret)
                return -EINVAL;
        r = hd_device_build_dom(d, &dom);
        return r < 0 ? r : hd_node_render_json(dom, true, ret);
}

_public_ int hd_device_format_text(hd_device *d, char **ret) {
        _cleanup_node_ struct hd_node *dom = NULL;
        int r;

        if (!d || !ret)
                return -EINVAL;
        r = hd_device_build_dom(d, &dom);
        return r < 0 ? r : hd_node_render_text(dom, ret);
}
