/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fake-kernel semantics for sriov sysfs files (see fake-kernel.h), on a
 * fakesys tree: writing N to a PF's sriov_numvfs creates VFs laid out as
 * tests/fakesys/fakesys.py vf() does (sibling directories of the PF with
 * address from sriov_offset/stride, relative physfn/virtfnN links,
 * sys/bus/pci/devices entries, an own IOMMU group each, uevent with
 * PCI_CLASS/PCI_ID/..., a PCIe config space) and binds them to the VF
 * driver when sriov_drivers_autoprobe is 1; 0 removes them.  The kernel's
 * refusals: N > sriov_totalvfs → -ERANGE, N when M > 0 VFs exist → -EBUSY,
 * a PF without driver → -ENOENT, garbage → -EINVAL.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fake-kernel.h"
#include "util/internal.h"

/* ---- plain file helpers (absolute paths) ---- */

static int put_file(const char *path, const void *data, size_t len, mode_t mode) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        if (write(fd, data, len) != (ssize_t) len) {
                close(fd);
                return -EIO;
        }
        close(fd);
        return 0;
}

_printf_(3, 4) static int put_attr(const char *dir, const char *name, const char *fmt, ...) {
        char path[PATH_MAX], buf[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        return put_file(path, buf, strlen(buf), 0644);
}

static int get_attr(const char *dir, const char *name, char *buf, size_t size) {
        char path[PATH_MAX];
        FILE *f;
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        buf[0] = 0;
        f = fopen(path, "re");
        if (!f)
                return -errno;
        if (!fgets(buf, (int) size, f))
                buf[0] = 0;
        fclose(f);
        hd_strip(buf);
        return 0;
}

static long get_long(const char *dir, const char *name, int base, long dflt) {
        char buf[64], *end;
        long v;
        if (get_attr(dir, name, buf, sizeof(buf)) < 0 || !buf[0])
                return dflt;
        v = strtol(buf, &end, base);
        return *end ? dflt : v;
}

/* Relative symlink @link → @target (both absolute, normalized). */
static int rel_symlink(const char *target, const char *link) {
        char from[PATH_MAX], rel[PATH_MAX] = "";
        const char *f, *t;

        snprintf(from, sizeof(from), "%s", link);
        *strrchr(from, '/') = 0; /* the link's directory */
        f = from;
        t = target;
        /* f and t point at the '/' before their next component */
        while (*f && *t) {
                const char *fe = strchrnul(f + 1, '/'), *te = strchrnul(t + 1, '/');
                if (fe - f != te - t || strncmp(f, t, (size_t) (fe - f)) != 0)
                        break;
                f = fe;
                t = te;
        }
        for (const char *p = f; *p; p++)
                if (*p == '/')
                        strcat(rel, "../");
        strcat(rel, *t ? t + 1 : ".");
        unlink(link);
        return symlink(rel, link) < 0 ? -errno : 0;
}

static void rm_rf(const char *path) {
        struct stat st;
        if (lstat(path, &st) < 0)
                return;
        if (S_ISDIR(st.st_mode)) {
                DIR *d = opendir(path);
                struct dirent *de;
                while (d && (de = readdir(d))) {
                        char sub[PATH_MAX];
                        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                continue;
                        snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
                        rm_rf(sub);
                }
                if (d)
                        closedir(d);
                rmdir(path);
        } else
                unlink(path);
}

static void link_basename(const char *link, char *buf, size_t size) {
        char t[PATH_MAX];
        ssize_t n = readlink(link, t, sizeof(t) - 1);
        buf[0] = 0;
        if (n > 0) {
                t[n] = 0;
                snprintf(buf, size, "%s", hd_path_basename(t));
        }
}

/* ---- VF layout ---- */

static const char *vf_driver_for(const char *pf_driver) {
        static const char *const map[][2] = {
                { "igb", "igbvf" }, { "ixgbe", "ixgbevf" }, { "i40e", "iavf" }, { "ice", "iavf" },
                { "bnxt_en", "bnxt_en" }, { "mlx5_core", "mlx5_core" }, { "nvme", "nvme" },
        };
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(map[i][0], pf_driver))
                        return map[i][1];
        return pf_driver;
}

static int next_iommu_group(const char *root) {
        char dir[PATH_MAX];
        DIR *d;
        struct dirent *de;
        int max = -1;
        snprintf(dir, sizeof(dir), "%s/sys/kernel/iommu_groups", root);
        d = opendir(dir);
        while (d && (de = readdir(d))) {
                char *end;
                long v = strtol(de->d_name, &end, 10);
                if (!*end && de->d_name[0] && v > max)
                        max = (int) v;
        }
        if (d)
                closedir(d);
        return max + 1;
}

/* A VF's config space: header, PCIe endpoint capability with FLR and the
 * PF's link capabilities, link status 0, no extended capabilities. */
static void vf_config(const char *pfdir, unsigned vendor, unsigned device, unsigned cls, unsigned rev,
                      unsigned sv, unsigned sd, unsigned char *c) {
        char path[PATH_MAX];
        unsigned char pf[4096] = {};
        uint32_t lnkcap = 0;
        int fd;

        snprintf(path, sizeof(path), "%s/config", pfdir);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                ssize_t n = read(fd, pf, sizeof(pf));
                close(fd);
                if (n >= 64 && (pf[6] & 0x10)) {
                        unsigned pos = pf[0x34] & ~3u;
                        for (int i = 0; pos >= 0x40 && pos + 0x10 < (unsigned) n && i < 48; i++) {
                                if (pf[pos] == 0x10) {
                                        memcpy(&lnkcap, pf + pos + 0x0c, 4);
                                        break;
                                }
                                pos = pf[pos + 1] & ~3u;
                        }
                }
        }
        memset(c, 0, 4096);
        c[0] = vendor & 0xff, c[1] = vendor >> 8;
        c[2] = device & 0xff, c[3] = device >> 8;
        c[6] = 0x10; /* capability list */
        c[8] = rev & 0xff;
        c[9] = cls & 0xff, c[10] = (cls >> 8) & 0xff, c[11] = (cls >> 16) & 0xff;
        c[0x2c] = sv & 0xff, c[0x2d] = sv >> 8, c[0x2e] = sd & 0xff, c[0x2f] = sd >> 8;
        c[0x34] = 0x40;
        c[0x40] = 0x10;                 /* PCI Express, last capability */
        c[0x42] = 0x02;                 /* version 2, endpoint */
        c[0x44 + 3] = 0x10;             /* DEVCAP bit 28: FLR */
        memcpy(c + 0x4c, &lnkcap, 4);   /* LNKCAP; LNKSTA (0x52) stays 0 */
}

static int bind_driver(const char *root, const char *vfdir, const char *addr, const char *drv) {
        char ddir[PATH_MAX], link[PATH_MAX];
        snprintf(ddir, sizeof(ddir), "%s/sys/bus/pci/drivers/%s", root, drv);
        if (mkdir(ddir, 0755) == 0) {
                /* as if udev loaded the module for the VF's modalias */
                static const char *const files[] = { "bind", "unbind", "new_id", "remove_id", "uevent" };
                for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                        char f[PATH_MAX + 16];
                        snprintf(f, sizeof(f), "%s/%s", ddir, files[i]);
                        put_file(f, "", 0, 0200);
                }
        }
        snprintf(link, sizeof(link), "%s/driver", vfdir);
        if (rel_symlink(ddir, link) < 0)
                return -errno;
        snprintf(link, sizeof(link), "%s/%s", ddir, addr);
        return rel_symlink(vfdir, link);
}

static void remember_native(const char *root, const char *addr, const char *drv) {
        char db[PATH_MAX];
        FILE *f;
        snprintf(db, sizeof(db), "%s/.fake-kernel-natives", root);
        f = fopen(db, "ae");
        if (f) {
                fprintf(f, "%s %s\n", addr, drv);
                fclose(f);
        }
}

static int create_vf(const char *root, const char *pfdir, const char *pfaddr, unsigned index, bool autoprobe) {
        char vfdir[PATH_MAX], addr[32], link[PATH_MAX], gdir[PATH_MAX], pfdrv[64], tmp[256];
        unsigned dom, bus, slot, fn, rid;
        long offset = get_long(pfdir, "sriov_offset", 10, 1), stride = get_long(pfdir, "sriov_stride", 10, 1);
        unsigned vendor = (unsigned) get_long(pfdir, "vendor", 16, 0);
        unsigned device = (unsigned) get_long(pfdir, "sriov_vf_device", 16, 0);
        unsigned cls = (unsigned) get_long(pfdir, "class", 16, 0);
        unsigned rev = (unsigned) get_long(pfdir, "revision", 16, 0);
        unsigned sv = (unsigned) get_long(pfdir, "subsystem_vendor", 16, 0);
        unsigned sd = (unsigned) get_long(pfdir, "subsystem_device", 16, 0);
        long numa = get_long(pfdir, "numa_node", 10, -1);
        unsigned char cfg[4096];
        char modalias[128];
        int group, r;

        if (sscanf(pfaddr, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) != 4)
                return -EINVAL;
        rid = (slot << 3 | fn) + (unsigned) offset + index * (unsigned) stride;
        bus += rid >> 8;
        snprintf(addr, sizeof(addr), "%04x:%02x:%02x.%x", dom, bus, (rid >> 3) & 0x1f, rid & 7);
        snprintf(vfdir, sizeof(vfdir), "%.*s/%s", (int) (strrchr(pfdir, '/') - pfdir), pfdir, addr);
        if (mkdir(vfdir, 0755) < 0)
                return -errno;

        snprintf(modalias, sizeof(modalias), "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X", vendor, device, sv, sd,
                 cls >> 16, (cls >> 8) & 0xff, cls & 0xff);
        put_attr(vfdir, "vendor", "0x%04x\n", vendor);
        put_attr(vfdir, "device", "0x%04x\n", device);
        put_attr(vfdir, "subsystem_vendor", "0x%04x\n", sv);
        put_attr(vfdir, "subsystem_device", "0x%04x\n", sd);
        put_attr(vfdir, "class", "0x%06x\n", cls);
        put_attr(vfdir, "revision", "0x%02x\n", rev);
        put_attr(vfdir, "numa_node", "%ld\n", numa);
        put_attr(vfdir, "irq", "0\n");
        put_attr(vfdir, "enable", "0\n");
        put_attr(vfdir, "driver_override", "(null)\n");
        put_attr(vfdir, "modalias", "%s\n", modalias);
        put_attr(vfdir, "reset_method", "flr\n");
        put_attr(vfdir, "ari_enabled", "0\n");
        if (get_attr(pfdir, "local_cpulist", tmp, sizeof(tmp)) >= 0)
                put_attr(vfdir, "local_cpulist", "%s\n", tmp);
        if (get_attr(pfdir, "local_cpus", tmp, sizeof(tmp)) >= 0)
                put_attr(vfdir, "local_cpus", "%s\n", tmp);
        for (const char *const *w = (const char *const[]) { "remove", "rescan", "reset", NULL }; *w; w++) {
                snprintf(link, sizeof(link), "%s/%s", vfdir, *w);
                put_file(link, "", 0, 0200);
        }
        vf_config(pfdir, vendor, device, cls, rev, sv, sd, cfg);
        snprintf(link, sizeof(link), "%s/config", vfdir);
        put_file(link, cfg, sizeof(cfg), 0644);

        /* links: subsystem, bus entry, physfn/virtfnN */
        snprintf(gdir, sizeof(gdir), "%s/sys/bus/pci", root);
        snprintf(link, sizeof(link), "%s/subsystem", vfdir);
        if ((r = rel_symlink(gdir, link)) < 0)
                return r;
        snprintf(link, sizeof(link), "%s/sys/bus/pci/devices/%s", root, addr);
        if ((r = rel_symlink(vfdir, link)) < 0)
                return r;
        snprintf(link, sizeof(link), "%s/physfn", vfdir);
        if ((r = rel_symlink(pfdir, link)) < 0)
                return r;
        snprintf(link, sizeof(link), "%s/virtfn%u", pfdir, index);
        if ((r = rel_symlink(vfdir, link)) < 0)
                return r;

        /* an own IOMMU group (ACS on the path, as on servers) */
        group = next_iommu_group(root);
        snprintf(gdir, sizeof(gdir), "%s/sys/kernel/iommu_groups/%d", root, group);
        mkdir(gdir, 0755);
        put_attr(gdir, "type", "DMA\n");
        put_attr(gdir, "reserved_regions", "0x00000000fee00000 0x00000000feefffff msi\n");
        snprintf(link, sizeof(link), "%s/devices", gdir);
        mkdir(link, 0755);
        snprintf(link, sizeof(link), "%s/devices/%s", gdir, addr);
        if ((r = rel_symlink(vfdir, link)) < 0)
                return r;
        snprintf(link, sizeof(link), "%s/iommu_group", vfdir);
        if ((r = rel_symlink(gdir, link)) < 0)
                return r;

        snprintf(link, sizeof(link), "%s/driver", pfdir);
        link_basename(link, pfdrv, sizeof(pfdrv));
        {
                const char *vdrv = vf_driver_for(pfdrv);
                char ue[1024];
                remember_native(root, addr, vdrv);
                snprintf(ue, sizeof(ue), "%s%s%sPCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\n"
                         "PCI_SLOT_NAME=%s\nMODALIAS=%s\n", autoprobe ? "DRIVER=" : "", autoprobe ? vdrv : "",
                         autoprobe ? "\n" : "", cls, vendor, device, sv, sd, addr, modalias);
                put_attr(vfdir, "uevent", "%s", ue);
                if (autoprobe && (r = bind_driver(root, vfdir, addr, vdrv)) < 0)
                        return r;
        }
        return 0;
}

static void destroy_vf(const char *root, const char *pfdir, unsigned index) {
        char link[PATH_MAX], vfdir[PATH_MAX], addr[64], drv[64], grp[64];

        snprintf(link, sizeof(link), "%s/virtfn%u", pfdir, index);
        if (!realpath(link, vfdir)) {
                unlink(link);
                return;
        }
        snprintf(addr, sizeof(addr), "%s", hd_path_basename(vfdir));
        unlink(link);
        snprintf(link, sizeof(link), "%s/driver", vfdir);
        link_basename(link, drv, sizeof(drv));
        if (drv[0]) {
                snprintf(link, sizeof(link), "%s/sys/bus/pci/drivers/%s/%s", root, drv, addr);
                unlink(link);
        }
        snprintf(link, sizeof(link), "%s/iommu_group", vfdir);
        link_basename(link, grp, sizeof(grp));
        if (grp[0]) {
                snprintf(link, sizeof(link), "%s/sys/kernel/iommu_groups/%s/devices/%s", root, grp, addr);
                unlink(link);
                snprintf(link, sizeof(link), "%s/sys/kernel/iommu_groups/%s/devices", root, grp);
                if (rmdir(link) == 0) {
                        snprintf(link, sizeof(link), "%s/sys/kernel/iommu_groups/%s", root, grp);
                        rm_rf(link);
                        snprintf(link, sizeof(link), "%s/dev/vfio/%s", root, grp);
                        unlink(link);
                }
        }
        snprintf(link, sizeof(link), "%s/sys/bus/pci/devices/%s", root, addr);
        unlink(link);
        rm_rf(vfdir);
}

int fake_sriov_write(struct fake_kernel *k, const char *root, const char *path, const char *value) {
        char rel[PATH_MAX], abs[PATH_MAX], pfdir[PATH_MAX], v[64], drv[64], *slash, *end;
        const char *attr;
        long total, cur, n;
        (void) k;

        snprintf(rel, sizeof(rel), "%s", path);
        slash = strrchr(rel, '/');
        if (!slash)
                return -ENOTTY;
        attr = slash + 1;
        if (!streq(attr, "sriov_numvfs"))
                return -ENOTTY;
        *slash = 0;
        snprintf(abs, sizeof(abs), "%s/%s", root, rel);
        if (!realpath(abs, pfdir))
                return -ENOENT;
        if (!startswith(pfdir, root))
                return -EINVAL;

        snprintf(v, sizeof(v), "%s", value);
        hd_strip(v);
        n = strtol(v, &end, 10);
        if (!v[0] || *end || n < 0 || n > 65535)
                return -EINVAL;
        total = get_long(pfdir, "sriov_totalvfs", 10, 0);
        cur = get_long(pfdir, "sriov_numvfs", 10, 0);
        if (n > total)
                return -ERANGE;
        if (n == cur)
                return 0;
        snprintf(abs, sizeof(abs), "%s/driver", pfdir);
        link_basename(abs, drv, sizeof(drv));
        if (!drv[0])
                return -ENOENT; /* "no driver bound to device; cannot configure SR-IOV" */
        if (n == 0) {
                for (long i = cur; i-- > 0;)
                        destroy_vf(root, pfdir, (unsigned) i);
                return put_attr(pfdir, "sriov_numvfs", "0\n");
        }
        if (cur > 0)
                return -EBUSY; /* "%d VFs already enabled. Disable before enabling %d VFs" */
        {
                char pfaddr[64];
                bool autoprobe = get_long(pfdir, "sriov_drivers_autoprobe", 10, 1) != 0;
                snprintf(pfaddr, sizeof(pfaddr), "%s", hd_path_basename(pfdir));
                for (long i = 0; i < n; i++) {
                        int r = create_vf(root, pfdir, pfaddr, (unsigned) i, autoprobe);
                        if (r < 0) {
                                for (long j = i + 1; j-- > 0;)
                                        destroy_vf(root, pfdir, (unsigned) j);
                                put_attr(pfdir, "sriov_numvfs", "0\n");
                                return r;
                        }
                }
        }
        return put_attr(pfdir, "sriov_numvfs", "%ld\n", n);
}
