/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirt domain device XML that passes a node device to a guest:
 *   PCI device                       → <hostdev mode='subsystem' type='pci'>
 *   SR-IOV VF with a network netdev  → <interface type='hostdev'>
 *   (or that VF's network interface)
 *   USB device                       → <hostdev mode='subsystem' type='usb'>
 *   SCSI device (H:B:T:L)            → <hostdev mode='subsystem' type='scsi'>
 *   mediated device                  → <hostdev mode='subsystem' type='mdev'>
 * The document is built with util/dom.h and rendered by its XML writer, so
 * the output has libvirt's layout (two-space indent, single quotes) and
 * validates against libvirt's domain.rng.  Device data is read live through
 * the context's root, like the node-device capabilities.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>

#include "nodedev/device.h"

#define HOSTDEV_XML_ALL_FLAGS \
        (HD_HOSTDEV_XML_MANAGED | HD_HOSTDEV_XML_UNMANAGED | HD_HOSTDEV_XML_BY_ADDRESS)

static const char *managed_str(unsigned flags) {
        return flags & HD_HOSTDEV_XML_UNMANAGED ? "no" : "yes";
}

static void add_pci_source_address(struct hd_node *source, const struct hd_pci_addr *a, bool typed) {
        struct hd_node *n = hd_node_add(source, "address", 0);
        if (typed)
                hd_node_attr(n, "type", "pci");
        hd_node_attr(n, "domain", "0x%04x", a->domain);
        hd_node_attr(n, "bus", "0x%02x", a->bus);
        hd_node_attr(n, "slot", "0x%02x", a->slot);
        hd_node_attr(n, "function", "0x%x", a->function);
}

/* ---- PCI ---- */

/* An SR-IOV VF: "physfn" links to its PF (as pci.c's phys_function). */
static bool pci_is_vf(hd_device *d) {
        _cleanup_free_ char *target = NULL;
        struct hd_pci_addr a;
        char path[PATH_MAX];

        return hd_device_attr_path(d, "physfn", path, sizeof(path)) >= 0 &&
               hd_sysfs_readlink(hd_device_get_ctx(d), path, &target) >= 0 &&
               hd_pci_addr_parse(hd_path_basename(target), &a) >= 0;
}

/* First network interface in the VF's net/ directory (sorted), or -ENOENT. */
static int pci_vf_netdev(hd_device *d, char **ret) {
        _cleanup_strv_free_ char **names = NULL;
        char path[PATH_MAX];
        size_t n = 0;
        int r;

        r = hd_device_attr_path(d, "net", path, sizeof(path));
        if (r < 0)
                return r;
        if (hd_sysfs_list_dir(hd_device_get_ctx(d), path, &names, &n) < 0 || n == 0)
                return -ENOENT;
        *ret = hd_strdup(names[0]);
        return *ret ? 0 : -ENOMEM;
}

/* A unicast, non-zero MAC in libvirt's spelling (lower case) into @out. */
static bool mac_usable(const char *mac, char out[18]) {
        bool zero = true;

        if (!mac || strlen(mac) != 17)
                return false;
        for (size_t i = 0; i < 17; i++) {
                if (i % 3 == 2) {
                        if (mac[i] != ':')
                                return false;
                } else {
                        if (!isxdigit((unsigned char) mac[i]))
                                return false;
                        if (mac[i] != '0')
                                zero = false;
                }
                out[i] = (char) tolower((unsigned char) mac[i]);
        }
        out[17] = 0;
        /* domain.rng uniMacAddr: the group bit must be clear */
        if (zero || (strchr("13579bdf", out[1]) != NULL))
                return false;
        return true;
}

/* <interface type='hostdev'> for VF @vf with the MAC @addr (the current
 * address of its network interface; left out when unknown or unusable). */
static int build_vf_interface(hd_device *vf, const char *addr, unsigned flags, struct hd_node **ret) {
        _cleanup_node_ struct hd_node *root = hd_node_new_root("interface");
        struct hd_pci_addr a;
        struct hd_node *source;
        char mac[18];
        int r;

        if (!root)
                return -ENOMEM;
        r = hd_pci_addr_parse(hd_device_get_sysname(vf), &a);
        if (r < 0)
                return r;
        hd_node_attr(root, "type", "hostdev");
        hd_node_attr(root, "managed", "%s", managed_str(flags));
        source = hd_node_add(root, "source", 0);
        add_pci_source_address(source, &a, true);
        if (mac_usable(addr, mac))
                hd_node_attr(hd_node_add(root, "mac", 0), "address", "%s", mac);
        if (root->err)
                return root->err;
        *ret = TAKE_PTR(root);
        return 0;
}

static int build_pci(hd_device *d, unsigned flags, struct hd_node **ret) {
        _cleanup_node_ struct hd_node *root = NULL;
        _cleanup_free_ char *ifname = NULL, *mac = NULL;
        struct hd_pci_addr a;
        int r;

        r = hd_pci_addr_parse(hd_device_get_sysname(d), &a);
        if (r < 0)
                return r;
        if (pci_is_vf(d) && pci_vf_netdev(d, &ifname) >= 0) {
                char attr[NAME_MAX + 16];
                snprintf(attr, sizeof(attr), "net/%s/address", ifname);
                (void) hd_device_read_attr(d, attr, &mac);
                return build_vf_interface(d, mac, flags, ret);
        }
        if (hd_pci_device_is_bridge(d))
                return hd_error(hd_device_get_ctx(d), -EINVAL, "%s: PCI bridges cannot be assigned to a guest",
                                hd_device_get_name(d));

        root = hd_node_new_root("hostdev");
        if (!root)
                return -ENOMEM;
        hd_node_attr(root, "mode", "subsystem");
        hd_node_attr(root, "type", "pci");
        hd_node_attr(root, "managed", "%s", managed_str(flags));
        hd_node_attr(hd_node_add(root, "driver", 0), "name", "vfio");
        add_pci_source_address(hd_node_add(root, "source", 0), &a, false);
        if (root->err)
                return root->err;
        *ret = TAKE_PTR(root);
        return 0;
}

/* -EOPNOTSUPP, with the context's error: @d is of a kind no guest takes. */
static int not_assignable(hd_device *d) {
        return hd_error(hd_device_get_ctx(d), -EOPNOTSUPP, "%s: a %s device cannot be given to a guest (PCI, SR-IOV "
                        "VF network interface, USB device, SCSI device or mdev only)", hd_device_get_name(d),
                        hd_cap_type_to_string(hd_device_get_cap_type(d)));
}

/* A network interface of an SR-IOV VF: the VF's <interface type='hostdev'>. */
static int build_net(hd_device *d, unsigned flags, struct hd_node **ret) {
        _cleanup_free_ char *mac = NULL;
        hd_device *p = hd_device_get_parent(d);

        if (!p || hd_device_get_cap_type(p) != HD_CAP_PCI || !pci_is_vf(p)) {
                log_debug(hd_device_get_ctx(d), "%s: not the network interface of an SR-IOV VF", hd_device_get_name(d));
                return not_assignable(d);
        }
        (void) hd_device_read_attr(d, "address", &mac);
        return build_vf_interface(p, mac, flags, ret);
}

/* ---- USB ---- */

static long long usb_num(hd_device *d, const char *prop, const char *file, int base) {
        const char *v = hd_device_get_property(d, prop);
        long long x = -1;

        if (!v || hd_safe_atoll(v, base, &x) < 0)
                (void) hd_device_read_attr_long(d, file, base, &x);
        return x;
}

static int build_usb(hd_device *d, unsigned flags, struct hd_node **ret) {
        _cleanup_node_ struct hd_node *root = hd_node_new_root("hostdev");
        long long vendor = usb_num(d, "ID_VENDOR_ID", "idVendor", 16);
        long long product = usb_num(d, "ID_MODEL_ID", "idProduct", 16);
        bool have_ids = vendor >= 0 && vendor <= 0xffff && product >= 0 && product <= 0xffff;
        struct hd_node *source;

        if (!root)
                return -ENOMEM;
        hd_node_attr(root, "mode", "subsystem");
        hd_node_attr(root, "type", "usb");
        hd_node_attr(root, "managed", "%s", managed_str(flags));
        source = hd_node_add(root, "source", 0);
        if (have_ids) {
                hd_node_attr(hd_node_add(source, "vendor", 0), "id", "0x%04llx", vendor);
                hd_node_attr(hd_node_add(source, "product", 0), "id", "0x%04llx", product);
        }
        /* Without ids the address is the only way to name the device. */
        if ((flags & HD_HOSTDEV_XML_BY_ADDRESS) || !have_ids) {
                long long bus = usb_num(d, "BUSNUM", "busnum", 10);
                long long dev = usb_num(d, "DEVNUM", "devnum", 10);
                struct hd_node *n;

                /* domain.rng: usbAddr is at most three digits */
                if (bus < 0 || dev < 0 || bus > 999 || dev > 999) {
                        log_debug(hd_device_get_ctx(d), "%s: no usable USB ids nor bus/device numbers",
                                  hd_device_get_name(d));
                        return -ENODATA;
                }
                n = hd_node_add(source, "address", 0);
                hd_node_attr(n, "bus", "%lld", bus);
                hd_node_attr(n, "device", "%lld", dev);
        }
        if (root->err)
                return root->err;
        *ret = TAKE_PTR(root);
        return 0;
}

/* ---- SCSI ---- */

static int build_scsi(hd_device *d, struct hd_node **ret) {
        _cleanup_node_ struct hd_node *root = hd_node_new_root("hostdev");
        unsigned h, b, t, l;
        struct hd_node *source, *n;
        char c;

        if (!root)
                return -ENOMEM;
        if (sscanf(hd_device_get_sysname(d), "%u:%u:%u:%u%c", &h, &b, &t, &l, &c) != 4)
                return -EINVAL;
        /* domain.rng: driveBus is at most two digits */
        if (b > 99) {
                log_debug(hd_device_get_ctx(d), "%s: SCSI bus %u cannot be expressed in domain XML",
                          hd_device_get_name(d), b);
                return -EINVAL;
        }
        /* managed has no meaning for SCSI; libvirt itself writes 'no' */
        hd_node_attr(root, "mode", "subsystem");
        hd_node_attr(root, "type", "scsi");
        hd_node_attr(root, "managed", "no");
        source = hd_node_add(root, "source", 0);
        hd_node_attr(hd_node_add(source, "adapter", 0), "name", "scsi_host%u", h);
        n = hd_node_add(source, "address", 0);
        hd_node_attr(n, "bus", "%u", b);
        hd_node_attr(n, "target", "%u", t);
        hd_node_attr(n, "unit", "%u", l);
        if (root->err)
                return root->err;
        *ret = TAKE_PTR(root);
        return 0;
}

/* ---- mdev ---- */

static bool uuid_syntax_ok(const char *s) {
        /* 8-4-4-4-12 hex digits, as domain.rng's UUID */
        static const int groups[] = { 8, 4, 4, 4, 12 };
        for (size_t g = 0; g < ELEMENTSOF(groups); g++) {
                for (int i = 0; i < groups[g]; i++, s++)
                        if (!isxdigit((unsigned char) *s))
                                return false;
                if (g + 1 < ELEMENTSOF(groups) && *s++ != '-')
                        return false;
        }
        return *s == 0;
}

static int build_mdev(hd_device *d, struct hd_node **ret) {
        _cleanup_node_ struct hd_node *root = hd_node_new_root("hostdev");
        _cleanup_free_ char *api = NULL;
        int r;

        if (!root)
                return -ENOMEM;
        if (!uuid_syntax_ok(hd_device_get_sysname(d)))
                return -EINVAL;
        r = hd_device_read_attr(d, "mdev_type/device_api", &api);
        if (r < 0) {
                log_debug(hd_device_get_ctx(d), "%s: cannot read mdev_type/device_api: %s", hd_device_get_name(d),
                          strerror(-r));
                return r;
        }
        if (!streq(api, "vfio-pci") && !streq(api, "vfio-ccw") && !streq(api, "vfio-ap")) {
                log_debug(hd_device_get_ctx(d), "%s: device API '%s' has no libvirt model", hd_device_get_name(d), api);
                return not_assignable(d);
        }
        hd_node_attr(root, "mode", "subsystem");
        hd_node_attr(root, "type", "mdev");
        hd_node_attr(root, "model", "%s", api);
        hd_node_attr(hd_node_add(hd_node_add(root, "source", 0), "address", 0), "uuid", "%s", hd_device_get_sysname(d));
        if (root->err)
                return root->err;
        *ret = TAKE_PTR(root);
        return 0;
}

/* ---- entry point ---- */

_public_ int hd_device_format_hostdev_xml(hd_device *d, unsigned flags, char **ret) {
        return hd_device_format_hostdev_xml_rom(d, flags, NULL, ret);
}

static int format_hostdev_xml(hd_device *d, unsigned flags, const char *rom_file, char **ret);

_public_ int hd_device_format_hostdev_xml_rom(hd_device *d, unsigned flags, const char *rom_file, char **ret) {
        hd_ctx *ctx;
        int r;

        if (!d || !ret)
                return -EINVAL;
        ctx = hd_device_get_ctx(d);
        hd_error_clear(ctx);
        r = format_hostdev_xml(d, flags, rom_file, ret);
        if (r < 0 && !hd_ctx_get_error(ctx))
                hd_error(ctx, r, "%s: cannot format domain XML: %s", hd_device_get_name(d), strerror(-r));
        return r;
}

static int format_hostdev_xml(hd_device *d, unsigned flags, const char *rom_file, char **ret) {
        _cleanup_node_ struct hd_node *dom = NULL;
        hd_ctx *ctx = hd_device_get_ctx(d);
        hd_device *parent = hd_device_get_parent(d);
        int r;

        if (rom_file && rom_file[0] != '/')
                return hd_error(ctx, -EINVAL, "the ROM file '%s' is not an absolute path", rom_file);
        if (rom_file && hd_device_get_cap_type(d) != HD_CAP_PCI)
                return hd_error(ctx, -EOPNOTSUPP, "%s: a ROM file applies to PCI devices only", hd_device_get_name(d));
        if (flags & ~(unsigned) HOSTDEV_XML_ALL_FLAGS)
                return -EINVAL;
        if ((flags & HD_HOSTDEV_XML_MANAGED) && (flags & HD_HOSTDEV_XML_UNMANAGED))
                return hd_error(ctx, -EINVAL, "managed and unmanaged exclude each other");
        if (!hd_device_get_syspath(d))
                return not_assignable(d);     /* computer */

        switch (hd_device_get_cap_type(d)) {
        case HD_CAP_PCI: r = build_pci(d, flags, &dom); break;
        case HD_CAP_NET: r = build_net(d, flags, &dom); break;
        case HD_CAP_USB_DEV:
                /* a root hub (sysfs "usbN") is the host controller's own
                 * device: it cannot be assigned */
                if (startswith(hd_device_get_sysname(d), "usb") && hd_device_get_sysname(d)[3] >= '0' &&
                    hd_device_get_sysname(d)[3] <= '9')
                        return hd_error(ctx, -EPERM, "%s: a USB root hub belongs to its host controller and cannot "
                                        "be given to a guest (pass the controller %s, or a device plugged into the "
                                        "hub)", hd_device_get_name(d), parent ? hd_device_get_name(parent) : "");
                r = build_usb(d, flags, &dom);
                break;
        case HD_CAP_SCSI: r = build_scsi(d, &dom); break;
        case HD_CAP_MDEV: r = build_mdev(d, &dom); break;
        case HD_CAP_USB_INTERFACE:
                /* its device is what can be assigned */
                if (parent)
                        return hd_error(ctx, -EOPNOTSUPP, "%s is an interface of USB device %s; a guest gets the "
                                        "whole device ('hostdevctl hostdev-xml %s')", hd_device_get_name(d),
                                        hd_device_get_name(parent), hd_device_get_name(parent));
                return not_assignable(d);
        default: return not_assignable(d);
        }
        if (r < 0)
                return r;
        if (rom_file) {
                /* <hostdev> and <interface type='hostdev'> take <rom file=.../> alike */
                hd_node_attr(hd_node_add(dom, "rom", 0), "file", "%s", rom_file);
                if (dom->err)
                        return dom->err;
        }
        return hd_node_render_xml(dom, ret);
}
