/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fake-kernel semantics for mdev sysfs files (see fake-kernel.h), as the
 * kernel's mdev core (drivers/vfio/mdev/mdev_sysfs.c) gives them:
 *
 *  <parent>/mdev_supported_types/<t>/create  ← UUID
 *      -EINVAL bad UUID, -EEXIST UUID in use (on any parent), -ENOSPC no
 *      available instance; else <parent>/<uuid>/ with mdev_type, subsystem
 *      (bus/mdev), uevent (MDEV_TYPE=), remove, a new IOMMU group (and its
 *      /dev/vfio node), bus/mdev/devices/<uuid>, <t>/devices/<uuid>, bound
 *      to vfio_mdev when that driver exists; available_instances - 1.
 *  <parent>/<uuid>/remove  ← 1
 *      undoes all that; -EBUSY when ROOT/.fake-mdev-busy lists the UUID
 *      (a device a guest holds, for tests).
 *  <parent>/<uuid>/<attr>  any attribute is accepted (a vendor driver's).
 * Test code: plain syscalls on the tree.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fake-kernel.h"
#include "util/internal.h"

static bool uuid_ok(const char *s) {
        static const char pat[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
        if (strlen(s) != sizeof(pat) - 1)
                return false;
        for (size_t i = 0; pat[i]; i++)
                if (pat[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char) s[i]))
                        return false;
        return true;
}

static int put(const char *path, const char *content, mode_t mode) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        if (content && write(fd, content, strlen(content)) < 0) {
                close(fd);
                return -errno;
        }
        close(fd);
        return 0;
}

static long get_long(const char *path) {
        char buf[64] = "";
        FILE *f = fopen(path, "re");
        if (!f)
                return -1;
        if (!fgets(buf, sizeof(buf), f))
                buf[0] = 0;
        fclose(f);
        return buf[0] ? strtol(buf, NULL, 10) : -1;
}

/* relative symlink @link → @target (both absolute, inside root) */
static int rel_link(const char *target, const char *link) {
        char rel[PATH_MAX] = "";
        const char *t = target, *l = link;
        size_t common = 0;

        for (size_t i = 0; t[i] && t[i] == l[i]; i++)
                if (t[i] == '/')
                        common = i + 1;
        for (const char *p = l + common; *p; p++)
                if (*p == '/')
                        strcat(rel, "../");
        strcat(rel, t + common);
        return symlink(rel, link) < 0 ? -errno : 0;
}

static int new_group(const char *root) {
        char dir[PATH_MAX];
        DIR *d;
        struct dirent *de;
        int max = -1;

        snprintf(dir, sizeof(dir), "%s/sys/kernel/iommu_groups", root);
        mkdir(dir, 0755);
        d = opendir(dir);
        while (d && (de = readdir(d)))
                if (isdigit((unsigned char) de->d_name[0]) && atoi(de->d_name) > max)
                        max = atoi(de->d_name);
        if (d)
                closedir(d);
        return max + 1;
}

static int do_create(const char *root, const char *typedir, const char *value) {
        char uuid[64], parent[PATH_MAX], dev[PATH_MAX], p[PATH_MAX], q[PATH_MAX + 64], ue[256];
        const char *type = hd_path_basename(typedir);
        long avail;
        int group;

        snprintf(uuid, sizeof(uuid), "%s", value);
        hd_strip(uuid);
        if (!uuid_ok(uuid))
                return -EINVAL;
        for (char *c = uuid; *c; c++)
                *c = (char) tolower((unsigned char) *c);
        snprintf(p, sizeof(p), "%s/sys/bus/mdev/devices/%s", root, uuid);
        if (access(p, F_OK) == 0)
                return -EEXIST;
        snprintf(p, sizeof(p), "%s/available_instances", typedir);
        avail = get_long(p);
        if (avail <= 0)
                return -ENOSPC;
        snprintf(q, sizeof(q), "%ld", avail - 1);
        put(p, q, 0644);

        snprintf(parent, sizeof(parent), "%s", typedir);
        *strrchr(parent, '/') = 0; /* .../mdev_supported_types */
        *strrchr(parent, '/') = 0; /* the parent device */
        snprintf(dev, sizeof(dev), "%s/%s", parent, uuid);
        if (mkdir(dev, 0755) < 0)
                return -errno;
        snprintf(p, sizeof(p), "%s/power", dev);
        mkdir(p, 0755);
        snprintf(p, sizeof(p), "%s/mdev_type", dev);
        rel_link(typedir, p);
        snprintf(q, sizeof(q), "%s/sys/bus/mdev", root);
        mkdir(q, 0755);
        snprintf(p, sizeof(p), "%s/sys/bus/mdev/devices", root);
        mkdir(p, 0755);
        snprintf(p, sizeof(p), "%s/subsystem", dev);
        rel_link(q, p);
        snprintf(p, sizeof(p), "%s/remove", dev);
        put(p, NULL, 0200);
        snprintf(p, sizeof(p), "%s/sys/bus/mdev/devices/%s", root, uuid);
        rel_link(dev, p);
        snprintf(p, sizeof(p), "%s/devices", typedir);
        mkdir(p, 0755);
        snprintf(p, sizeof(p), "%s/devices/%s", typedir, uuid);
        rel_link(dev, p);

        /* the vfio_mdev driver binds and gives the device its own group */
        snprintf(q, sizeof(q), "%s/sys/bus/mdev/drivers/vfio_mdev", root);
        if (access(q, F_OK) == 0) {
                snprintf(p, sizeof(p), "%s/driver", dev);
                rel_link(q, p);
                snprintf(p, sizeof(p), "%s/%s", q, uuid);
                rel_link(dev, p);
                snprintf(ue, sizeof(ue), "DRIVER=vfio_mdev\nMDEV_TYPE=%s\n", type);
        } else
                snprintf(ue, sizeof(ue), "MDEV_TYPE=%s\n", type);
        snprintf(p, sizeof(p), "%s/uevent", dev);
        put(p, ue, 0644);
        group = new_group(root);
        snprintf(q, sizeof(q), "%s/sys/kernel/iommu_groups/%d", root, group);
        mkdir(q, 0755);
        snprintf(p, sizeof(p), "%s/type", q);
        put(p, "DMA\n", 0644);
        snprintf(p, sizeof(p), "%s/devices", q);
        mkdir(p, 0755);
        snprintf(p, sizeof(p), "%s/devices/%s", q, uuid);
        rel_link(dev, p);
        snprintf(p, sizeof(p), "%s/iommu_group", dev);
        rel_link(q, p);
        snprintf(p, sizeof(p), "%s/dev/vfio", root);
        mkdir(p, 0755);
        snprintf(p, sizeof(p), "%s/dev/vfio/%d", root, group);
        put(p, NULL, 0600);
        return 0;
}

static bool listed_busy(const char *root, const char *uuid) {
        char path[PATH_MAX], line[128];
        bool busy = false;
        FILE *f;
        snprintf(path, sizeof(path), "%s/.fake-mdev-busy", root);
        f = fopen(path, "re");
        while (f && fgets(line, sizeof(line), f)) {
                hd_strip(line);
                if (strcasecmp(line, uuid) == 0)
                        busy = true;
        }
        if (f)
                fclose(f);
        return busy;
}

static int do_remove(const char *root, const char *dev, const char *value) {
        char v[16], p[PATH_MAX], t[PATH_MAX], typedir[PATH_MAX], grp[PATH_MAX];
        const char *uuid = hd_path_basename(dev);
        DIR *d;
        struct dirent *de;
        long avail;

        snprintf(v, sizeof(v), "%s", value);
        hd_strip(v);
        if (!streq(v, "1"))
                return -EINVAL;
        if (listed_busy(root, uuid))
                return -EBUSY;
        snprintf(p, sizeof(p), "%s/mdev_type", dev);
        if (!realpath(p, typedir))
                return -ENODEV;
        grp[0] = 0;
        snprintf(p, sizeof(p), "%s/iommu_group", dev);
        if (!realpath(p, grp))
                grp[0] = 0;
        snprintf(p, sizeof(p), "%s/sys/bus/mdev/devices/%s", root, uuid);
        unlink(p);
        snprintf(p, sizeof(p), "%s/sys/bus/mdev/drivers/vfio_mdev/%s", root, uuid);
        unlink(p);
        snprintf(p, sizeof(p), "%s/devices/%s", typedir, uuid);
        unlink(p);
        snprintf(p, sizeof(p), "%s/available_instances", typedir);
        avail = get_long(p);
        if (avail >= 0) {
                snprintf(t, sizeof(t), "%ld", avail + 1);
                put(p, t, 0644);
        }
        if (grp[0]) {
                snprintf(p, sizeof(p), "%s/devices/%s", grp, uuid);
                unlink(p);
                snprintf(p, sizeof(p), "%s/devices", grp);
                if (rmdir(p) == 0) {
                        snprintf(p, sizeof(p), "%s/type", grp);
                        unlink(p);
                        rmdir(grp);
                        snprintf(p, sizeof(p), "%s/dev/vfio/%s", root, hd_path_basename(grp));
                        unlink(p);
                }
        }
        /* the device directory: files, links, power/ */
        d = opendir(dev);
        while (d && (de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                snprintf(p, sizeof(p), "%s/%s", dev, de->d_name);
                if (unlink(p) < 0)
                        rmdir(p);
        }
        if (d)
                closedir(d);
        return rmdir(dev) < 0 ? -errno : 0;
}

int fake_mdev_write(struct fake_kernel *k, const char *root, const char *path, const char *value) {
        char abs[PATH_MAX], real[PATH_MAX], p[PATH_MAX + 16];
        const char *base = hd_path_basename(path);
        (void) k;

        snprintf(abs, sizeof(abs), "%s/%s", root, path);
        *strrchr(abs, '/') = 0;
        if (!realpath(abs, real) || !startswith(real, root))
                return -ENOTTY;
        if (!streq(base, "create") && !streq(base, "remove")) {
                /* a vendor attribute of an mdev: the fake driver takes any */
                snprintf(p, sizeof(p), "%s/mdev_type", real);
                if (access(p, F_OK) < 0 || strchr(base, '/'))
                        return -ENOTTY;
                snprintf(p, sizeof(p), "%s/%s", real, base);
                return put(p, value, 0644);
        }
        if (streq(base, "create")) {
                /* .../mdev_supported_types/<t> */
                char up[PATH_MAX];
                snprintf(up, sizeof(up), "%s", real);
                *strrchr(up, '/') = 0;
                if (!streq(hd_path_basename(up), "mdev_supported_types"))
                        return -ENOTTY;
                return do_create(root, real, value);
        }
        snprintf(p, sizeof(p), "%s/mdev_type", real);
        if (access(p, F_OK) < 0)
                return -ENOTTY; /* a PCI remove, not ours */
        return do_remove(root, real, value);
}
