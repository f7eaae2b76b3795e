/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IOMMU groups: membership, viability ("can this group go to a VM?") and
 * why a group is large (ACS isolation along the path to the root complex).
 */
#include <ctype.h>
#include <limits.h>

#include "nodedev/device.h"

/* The hypervisor this system runs under, from DMI and the CPU's
 * 'hypervisor' flag, in *ret; NULL on bare metal. */
static int detect_hypervisor(hd_ctx *ctx, const char *cpuinfo, char **ret) {
        /* a signature in the DMI strings, and the name when not the same */
        static const struct {
                const char *needle, *name;
        } known[] = {
                { "QEMU", "QEMU/KVM" }, { "KVM", "QEMU/KVM" }, { "Bochs", "QEMU/KVM" },
                { "VMware", NULL },     { "VirtualBox", NULL }, { "innotek", "VirtualBox" },
                { "Xen", NULL },        { "Virtual Machine", "Hyper-V" }, { "Amazon EC2", NULL },
                { "Google Compute Engine", NULL }, { "Parallels", NULL }, { "Cloud Hypervisor", NULL },
        };
        static const char *const files[] = { "sys/class/dmi/id/sys_vendor", "sys/class/dmi/id/product_name",
                                             "sys/class/dmi/id/bios_vendor", "sys/class/dmi/id/board_vendor" };

        for (size_t f = 0; f < ELEMENTSOF(files); f++) {
                _cleanup_free_ char *v = NULL;
                if (hd_sysfs_read_full(ctx, files[f], &v, NULL) < 0)
                        continue;
                for (size_t k = 0; k < ELEMENTSOF(known); k++)
                        if (strstr(v, known[k].needle))
                                return (*ret = strdup(known[k].name ?: known[k].needle)) ? 0 : -ENOMEM;
        }
        /* the CPUID 'hypervisor' bit, as /proc/cpuinfo's flags show it */
        for (const char *p = cpuinfo; p && (p = strstr(p, "hypervisor")); p++)
                if ((p == cpuinfo || p[-1] == ' ') && (p[10] == ' ' || p[10] == '\n' || p[10] == 0))
                        return (*ret = strdup("unknown hypervisor")) ? 0 : -ENOMEM;
        *ret = NULL;
        return 0;
}

_public_ hd_iommu_info *hd_iommu_info_free(hd_iommu_info *info) {
        if (info) {
                free(info->vendor);
                free(info->hint);
                free(info->hypervisor);
                free(info);
        }
        return NULL;
}

/* What to do about an IOMMU that is off (or unsafe); NULL when nothing. */
static int iommu_hint(hd_ctx *ctx, const hd_iommu_info *info, const char *cpuinfo, char **ret) {
        _cleanup_free_ char *cmdline = NULL;
        bool intel = streq_ptr(info->vendor, "intel"), amd = streq_ptr(info->vendor, "amd");

        *ret = NULL;
        if (info->enabled)
                return info->intremap == 0 ?
                        hd_asprintf(ret, "interrupt remapping is off: VFIO refuses devices unless "
                                    "vfio_iommu_type1.allow_unsafe_interrupts=1 (unsafe)") : 0;
        (void) hd_sysfs_read_full(ctx, "proc/cmdline", &cmdline, NULL);
        if (!info->vendor && cpuinfo) {
                intel = strstr(cpuinfo, "GenuineIntel") != NULL;
                amd = strstr(cpuinfo, "AuthenticAMD") != NULL;
        }
        if (info->hypervisor)
                /* no firmware switch to find: the VM needs a virtual IOMMU */
                return hd_asprintf(ret, "this is a virtual machine (%s): give it a virtual IOMMU (libvirt: <iommu "
                                   "model='%s'/>; QEMU: -device %s) and boot it with %s",
                                   info->hypervisor, amd ? "amd" : "intel", amd ? "amd-iommu" : "intel-iommu,intremap=on",
                                   amd ? "amd_iommu=on" : "intel_iommu=on");
        if (intel && !(cmdline && strstr(cmdline, "intel_iommu=on")))
                return hd_asprintf(ret, "add 'intel_iommu=on iommu=pt' to the kernel command line and enable VT-d in "
                                   "the firmware");
        if (intel)
                return hd_asprintf(ret, "intel_iommu=on is set but no IOMMU is active: enable VT-d in the firmware setup");
        if (amd)
                return hd_asprintf(ret, "enable AMD-Vi/IOMMU in the firmware setup (and do not pass amd_iommu=off)");
        return hd_asprintf(ret, "enable the platform IOMMU in the firmware and the kernel (e.g. iommu.passthrough=1 "
                           "on arm64)");
}

_public_ int hd_iommu_get_info(hd_ctx *ctx, hd_iommu_info **ret) {
        _cleanup_strv_free_ char **groups = NULL, **iommus = NULL;
        _cleanup_free_ char *interrupts = NULL, *cpuinfo = NULL;
        _cleanup_(hd_iommu_info_freep) hd_iommu_info *info = NULL;
        size_t ng = 0, ni = 0;
        int r;

        if (!ctx || !ret)
                return -EINVAL;
        info = calloc(1, sizeof(*info));
        if (!info)
                return -ENOMEM;
        info->intremap = -1;
        (void) hd_sysfs_list_dir(ctx, "sys/kernel/iommu_groups", &groups, &ng);
        (void) hd_sysfs_list_dir(ctx, "sys/class/iommu", &iommus, &ni);
        info->enabled = ng > 0;
        for (size_t i = 0; i < ni && !info->vendor; i++) {
                const char *v = startswith(iommus[i], "dmar") ? "intel"
                                : startswith(iommus[i], "ivhd") ? "amd"
                                : startswith(iommus[i], "smmu") || strstr(iommus[i], ".smmu") ? "arm-smmu"
                                : startswith(iommus[i], "virtio") || startswith(iommus[i], "viommu") ? "virtio" : NULL;
                if (v && !(info->vendor = strdup(v)))
                        return -ENOMEM;
        }
        /* Remapped interrupt domains are named IR-PCI-MSI, IR-IO-APIC, ... */
        if (hd_sysfs_read_full(ctx, "proc/interrupts", &interrupts, NULL) >= 0)
                info->intremap = strstr(interrupts, "IR-") ? 1 : 0;

        (void) hd_sysfs_read_full(ctx, "proc/cpuinfo", &cpuinfo, NULL);
        r = detect_hypervisor(ctx, cpuinfo, &info->hypervisor);
        if (r >= 0)
                r = iommu_hint(ctx, info, cpuinfo, &info->hint);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(info);
        return 0;
}

_public_ int hd_device_get_iommu_group(hd_device *d) {
        char path[PATH_MAX];
        _cleanup_free_ char *target = NULL;
        unsigned n;

        if (!d || !hd_device_get_syspath(d))
                return -ENOENT;
        if (hd_device_attr_path(d, "iommu_group", path, sizeof(path)) < 0 ||
            hd_sysfs_readlink(hd_device_get_ctx(d), path, &target) < 0)
                return -ENOENT;
        if (hd_safe_atou(hd_path_basename(target), 10, &n) < 0 || n > INT_MAX)
                return -ENOENT;
        return (int) n;
}

static int cmp_uint(const void *a, const void *b) {
        unsigned x = *(const unsigned *) a, y = *(const unsigned *) b;
        return x < y ? -1 : x > y;
}

_public_ int hd_iommu_list_groups(hd_nodedev_list *list, unsigned **ret, size_t *ret_n) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ unsigned *v = NULL;
        size_t n = 0, k = 0;
        int r;

        if (!list || !ret || !ret_n)
                return -EINVAL;
        r = hd_sysfs_list_dir(hd_nodedev_list_get_ctx(list), "sys/kernel/iommu_groups", &names, &n);
        if (r < 0 && r != -ENOENT)
                return r;
        v = calloc(n ? n : 1, sizeof(unsigned));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (hd_safe_atou(names[i], 10, &v[k]) >= 0)
                        k++;
        qsort(v, k, sizeof(unsigned), cmp_uint);
        *ret = TAKE_PTR(v);
        *ret_n = k;
        return 0;
}

_public_ int hd_iommu_group_get_devices(hd_nodedev_list *list, unsigned group, hd_device ***ret, size_t *ret_n) {
        _cleanup_free_ hd_device **v = NULL;
        char path[PATH_MAX], **names;
        size_t n = 0, k = 0;
        int r;

        if (!list || !ret || !ret_n)
                return -EINVAL;
        names = hd_nodedev_list_cached_members(list, group, &n);
        if (!names) {
                size_t nn = 0;
                snprintf(path, sizeof(path), "sys/kernel/iommu_groups/%u/devices", group);
                r = hd_sysfs_list_dir(hd_nodedev_list_get_ctx(list), path, &names, &nn);
                if (r < 0)
                        return r;
                hd_nodedev_list_cache_members(list, group, names, nn);
                n = nn;
        }
        v = calloc(n ? n : 1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                struct hd_pci_addr a;
                char name[64];
                hd_device *d = NULL;
                /* through the lookup: a lazy list reads the member now */
                if (hd_pci_addr_parse(names[i], &a) >= 0) {
                        snprintf(name, sizeof(name), "pci_%04x_%02x_%02x_%x", a.domain, a.bus, a.slot, a.function);
                        if (hd_nodedev_list_lookup(list, name, &d) < 0)
                                d = NULL;
                } else if (hd_uuid_is_valid(names[i])) {
                        /* mediated devices sit in groups of their own */
                        if (hd_nodedev_list_lookup(list, names[i], &d) < 0 || hd_device_get_cap_type(d) != HD_CAP_MDEV)
                                d = NULL;
                }
                if (d)
                        v[k++] = d;
                else
                        log_warn(hd_nodedev_list_get_ctx(list), "IOMMU group %u: member %s is not a known device",
                                 group, names[i]);
        }
        /* names were sorted by string, which for fixed-width addresses is address order */
        *ret = TAKE_PTR(v);
        *ret_n = k;
        return 0;
}

/* @path once in @v (taken) */
static int path_add(char ***v, size_t *n, char *path) {
        if (!path)
                return -ENOMEM;
        for (size_t i = 0; i < *n; i++)
                if (streq((*v)[i], path)) {
                        free(path);
                        return 0;
                }
        return hd_strv_push(v, n, path);
}

/* the devices that the links in @dir named @prefix... point to, each by
 * its "/sys/devices/..." path */
static int path_add_links(hd_ctx *ctx, const char *dir, const char *prefix, char ***v, size_t *n) {
        _cleanup_strv_free_ char **names = NULL;
        size_t k = 0;
        int r = 0;

        if (hd_sysfs_list_dir(ctx, dir, &names, &k) < 0)
                return 0;       /* none (any more) */
        for (size_t i = 0; r >= 0 && i < k; i++) {
                _cleanup_free_ char *link = NULL;
                char *target = NULL;
                if (!startswith(names[i], prefix))
                        continue;
                if (hd_asprintf(&link, "%s/%s", dir, names[i]) < 0)
                        return -ENOMEM;
                if (hd_sysfs_resolve_link(ctx, link, &target) < 0)
                        continue;
                if (!startswith(target, "/sys/devices/")) {
                        free(target);
                        continue;
                }
                r = path_add(v, n, target);
        }
        return r;
}

_public_ int hd_iommu_group_refresh(hd_nodedev_list *list, hd_device *dev, hd_nodedev_change_fn fn, void *userdata) {
        _cleanup_strv_free_ char **paths = NULL;
        size_t n = 0;
        char dir[PATH_MAX];
        const char *sp;
        bool pci;
        int group, r, changed = 0;

        if (!list || !dev)
                return -EINVAL;
        if (hd_device_get_cap_type(dev) == HD_CAP_MDEV)
                return -ESTALE;
        sp = hd_device_get_syspath(dev);
        if (!sp || !startswith(sp, "/sys/devices/"))
                return 0;       /* "computer" */
        pci = hd_device_get_cap_type(dev) == HD_CAP_PCI;
        group = hd_device_get_iommu_group(dev);
        r = path_add(&paths, &n, strdup(sp));
        if (r >= 0 && group >= 0) {
                _cleanup_free_ hd_device **members = NULL;
                size_t k = 0;
                /* the list's members, then the kernel's */
                if (hd_iommu_group_get_devices(list, (unsigned) group, &members, &k) >= 0)
                        for (size_t i = 0; r >= 0 && i < k; i++)
                                if (hd_device_get_syspath(members[i]))
                                        r = path_add(&paths, &n, strdup(hd_device_get_syspath(members[i])));
                snprintf(dir, sizeof(dir), "sys/kernel/iommu_groups/%d/devices", group);
                if (r >= 0)
                        r = path_add_links(hd_nodedev_list_get_ctx(list), dir, "", &paths, &n);
        }
        if (r >= 0 && pci)
                r = path_add_links(hd_nodedev_list_get_ctx(list), sp + 1, "virtfn", &paths, &n);
        if (r < 0)
                return r;
        /* @dev may be freed from here on */
        for (size_t i = 0; i < n; i++) {
                r = hd_nodedev_list_update(list, "change", paths[i], NULL, fn, userdata);
                log_debug(hd_nodedev_list_get_ctx(list), "%s read again: %s", paths[i],
                          r < 0 ? strerror(-r) : r ? "the list changed" : "no node device");
                if (r < 0)
                        return r;
                changed |= r;
        }
        return changed;
}

static bool pci_is_bridge(hd_device *d) {
        const char *cls;
        long long k = -1;
        unsigned char hdr;

        cls = hd_device_get_property(d, "PCI_CLASS");
        if (!cls || hd_safe_atoll(cls, 16, &k) < 0)
                (void) hd_device_read_attr_long(d, "class", 16, &k);
        if (k >= 0 && (k >> 8) == 0x0604)
                return true;
        {
                char path[PATH_MAX];
                unsigned char b[16];
                if (hd_device_attr_path(d, "config", path, sizeof(path)) >= 0 &&
                    hd_sysfs_read_bytes(hd_device_get_ctx(d), path, b, sizeof(b)) == (int) sizeof(b)) {
                        hdr = b[0x0e] & 0x7f;
                        return hdr == 1 || hdr == 2;
                }
        }
        return false;
}

_public_ bool hd_pci_device_is_bridge(hd_device *d) {
        if (!d || hd_device_get_cap_type(d) != HD_CAP_PCI)
                return false;
        /* the header type of a function does not change: read it once */
        if (!hd_device_get_bridge_cache(d))
                hd_device_set_bridge_cache(d, pci_is_bridge(d) ? 1 : -1);
        return hd_device_get_bridge_cache(d) > 0;
}

_public_ bool hd_driver_is_passthrough(const char *drv) {
        return drv && (streq(drv, "vfio-pci") || streq(drv, "pci-stub") || strstr(drv, "vfio") != NULL);
}

_public_ int hd_iommu_group_is_viable(hd_nodedev_list *list, unsigned group, hd_device **ret_blocker) {
        _cleanup_free_ hd_device **devs = NULL;
        size_t n = 0;
        int r;

        r = hd_iommu_group_get_devices(list, group, &devs, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                /* bridges do not count (as in the kernel); mdevs are vfio's own */
                if (hd_device_get_cap_type(devs[i]) != HD_CAP_PCI || hd_pci_device_is_bridge(devs[i]))
                        continue;
                const char *drv = hd_device_get_driver(devs[i]);
                if (drv && !hd_driver_is_passthrough(drv)) {
                        if (ret_blocker)
                                *ret_blocker = devs[i];
                        return 0;
                }
        }
        if (ret_blocker)
                *ret_blocker = NULL;
        return 1;
}

/* ---- ACS analysis ---- */

#define PCI_EXT_CAP_ID_ACS 0x000d
#define ACS_SV 0x01
#define ACS_RR 0x04
#define ACS_CR 0x08
#define ACS_UF 0x10
#define ACS_NEEDED (ACS_SV | ACS_RR | ACS_CR | ACS_UF)

static void acs_missing(unsigned ctrl, char *buf, size_t size) {
        snprintf(buf, size, "%s%s%s%s", ctrl & ACS_SV ? "" : " SV", ctrl & ACS_RR ? "" : " RR",
                 ctrl & ACS_CR ? "" : " CR", ctrl & ACS_UF ? "" : " UF");
}

/* PCIe device/port type from the PCIe capability, -1 for conventional PCI,
 * -2 when unknown (config not readable). */
static int pcie_type(const struct hd_pci_config *c) {
        int pos = hd_pci_config_find_cap(c, 0x10);
        if (pos < 0)
                return -2;
        if (pos == 0)
                return -1;
        return (int) ((hd_pci_cfg16(c, (size_t) pos + 2) >> 4) & 0xf);
}

static const char *pcie_type_name(int t) {
        switch (t) {
        case 0: return "PCIe endpoint";
        case 1: return "legacy PCIe endpoint";
        case 4: return "root port";
        case 5: return "switch upstream port";
        case 6: return "switch downstream port";
        case 7: return "PCIe-to-PCI bridge";
        case 8: return "PCI-to-PCIe bridge";
        case 9: return "root-complex integrated endpoint";
        case 10: return "root-complex event collector";
        case -1: return "conventional PCI device";
        default: return "PCI device";
        }
}

/* The other functions of @d's slot (same domain:bus:device) in its IOMMU
 * group, as " addr addr ..." in @buf; returns how many. */
static size_t group_siblings(hd_device *d, int grp, char *buf, size_t size) {
        _cleanup_free_ hd_device **devs = NULL;
        const char *dot = strrchr(hd_device_get_sysname(d), '.');
        size_t n = 0, k = 0, len = 0;

        buf[0] = 0;
        if (!dot || grp < 0 || hd_iommu_group_get_devices(hd_device_get_list(d), (unsigned) grp, &devs, &n) < 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                hd_device *x = devs[i];
                if (x == d || hd_device_get_cap_type(x) != HD_CAP_PCI ||
                    strncmp(hd_device_get_sysname(x), hd_device_get_sysname(d),
                            (size_t)(dot - hd_device_get_sysname(d) + 1)) != 0)
                        continue;
                if (len < size) {
                        int w = snprintf(buf + len, size - len, " %s", hd_device_get_sysname(x));
                        len += w > 0 ? (size_t) w : 0;
                }
                k++;
        }
        return k;
}

_public_ int hd_iommu_explain(hd_device *d, char **ret) {
        struct hd_buf b = {};
        struct hd_pci_config *cfg = NULL;
        int grp, r;
        bool found = false;

        if (!d || !ret)
                return -EINVAL;
        hd_error_clear(hd_device_get_ctx(d));
        if (hd_device_get_cap_type(d) != HD_CAP_PCI)
                return hd_error(hd_device_get_ctx(d), -EOPNOTSUPP, "%s is not a PCI device", hd_device_get_name(d));
        cfg = malloc(sizeof(*cfg));
        if (!cfg)
                return -ENOMEM;

        grp = hd_device_get_iommu_group(d);
        if (grp < 0) {
                hd_buf_printf(&b, "%s is in no IOMMU group: the IOMMU is off or does not cover it\n",
                              hd_device_get_sysname(d));
                goto out;
        }
        {
                _cleanup_free_ hd_device **devs = NULL;
                size_t n = 0;
                if (hd_iommu_group_get_devices(hd_device_get_list(d), (unsigned) grp, &devs, &n) >= 0) {
                        hd_buf_printf(&b, "%s is in IOMMU group %d with %zu device%s:", hd_device_get_sysname(d), grp,
                                      n, n == 1 ? "" : "s");
                        for (size_t i = 0; i < n; i++)
                                hd_buf_printf(&b, " %s", hd_device_get_sysname(devs[i]));
                        hd_buf_putc(&b, '\n');
                        if (n == 1) {
                                hd_buf_puts(&b, "it is alone in its group: nothing to explain\n");
                                goto out;
                        }
                }
        }

        /* 1. multifunction siblings without ACS share a group */
        r = hd_pci_config_read(d, cfg);
        if (r < 0) {
                hd_buf_printf(&b, "cannot read the config space of %s: %s\n", hd_device_get_sysname(d), strerror(-r));
                goto out;
        }
        if (cfg->len < 256)
                hd_buf_puts(&b, "note: only the first 64 bytes of config space are readable; run as root for the ACS analysis\n");

        for (hd_device *cur = d; cur && hd_device_get_cap_type(cur) == HD_CAP_PCI; cur = hd_device_get_parent(cur)) {
                int type, acs;
                unsigned ctrl = 0;
                bool multifunction;
                char miss[32];

                if (hd_pci_config_read(cur, cfg) < 0)
                        break;
                type = pcie_type(cfg);
                multifunction = (hd_pci_cfg8(cfg, 0x0e) & 0x80) != 0;
                acs = cfg->len >= 0x104 ? hd_pci_config_find_ext_cap(cfg, PCI_EXT_CAP_ID_ACS) : -1;
                if (acs > 0)
                        ctrl = hd_pci_cfg16(cfg, (size_t) acs + 6);

                if (cur == d) {
                        /* ACS absent (acs == 0), or not there to read: 256 bytes
                         * of config space have no extended capabilities at all */
                        char sib[256] = "";
                        size_t nsib = group_siblings(d, grp, sib, sizeof(sib));
                        if ((multifunction || nsib > 0) && acs <= 0 && (acs == 0 || cfg->len >= 256)) {
                                hd_buf_printf(&b,
                                              "%s is a function of a multifunction device without ACS: "
                                              "its sibling function%s%s share%s its group\n",
                                              hd_device_get_sysname(cur), nsib == 1 ? "" : "s", nsib ? sib : "",
                                              nsib == 1 ? "s" : "");
                                found = true;
                        } else if ((multifunction || nsib > 0) && acs < 0)
                                hd_buf_printf(&b, "%s is a function of a multifunction device; its ACS cannot be "
                                              "read (sibling functions in the group:%s)\n", hd_device_get_sysname(cur),
                                              nsib ? sib : " none");
                        continue;
                }
                if (type == -1 || type == 7) {
                        hd_buf_printf(&b, "%s is a %s: every device behind it shares one requester ID and one group\n",
                                      hd_device_get_sysname(cur), pcie_type_name(type));
                        found = true;
                        break;
                }
                if (type == 4 || type == 6) {
                        if (acs < 0) {
                                hd_buf_printf(&b, "%s (%s): ACS unknown (extended config space not readable)\n",
                                              hd_device_get_sysname(cur), pcie_type_name(type));
                                continue;
                        }
                        if (acs == 0) {
                                hd_buf_printf(&b, "%s (%s) has no ACS capability: devices below it are not isolated "
                                              "from each other%s\n", hd_device_get_sysname(cur), pcie_type_name(type),
                                              type == 4 ? " nor from other root ports' devices" : "");
                                found = true;
                                break;
                        }
                        if ((ctrl & ACS_NEEDED) != ACS_NEEDED) {
                                acs_missing(ctrl, miss, sizeof(miss));
                                hd_buf_printf(&b, "%s (%s) has ACS but does not enable:%s\n",
                                              hd_device_get_sysname(cur), pcie_type_name(type), miss);
                                found = true;
                                break;
                        }
                        hd_buf_printf(&b, "%s (%s): ACS SV RR CR UF enabled\n", hd_device_get_sysname(cur),
                                      pcie_type_name(type));
                }
        }
        if (!found)
                hd_buf_puts(&b, "no upstream port lacks ACS: the grouping comes from the platform "
                                "(e.g. devices integrated into the root complex without ACS quirks)\n");
out:
        free(cfg);
        return hd_buf_steal(&b, ret);
}
