/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdevctl capture: copy the part of sysfs and the udev database that
 * libhostdev reads into a directory that hd_ctx_new() can replay.
 * Source reads go through the sysfs root abstraction; writes go to the
 * destination directory only.
 */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "nodedev-internal.h"

#define CAPTURE_FILE_MAX (64 * 1024)

struct capture {
        hd_ctx *ctx;
        int dfd;                        /* destination root */
        hd_capture_stats st;
        struct hd_hashmap *seen;        /* captured device syspaths */
        char **keys;
        size_t n_keys;
};

/* Attributes that act on read or are of no use: never read them. */
static const char *const skip_files[] = {
        "remove", "rescan", "reset", "bind", "unbind", "new_id", "remove_id", "rom",
        "uevent_seqnum", "broken_parity_status", "resource", "enable",
};

static int parent_dir(int dfd, const char *rel) {
        char buf[PATH_MAX];
        const char *slash = strrchr(rel, '/');
        if (!slash)
                return 0;
        snprintf(buf, sizeof(buf), "%.*s", (int) (slash - rel), rel);
        return hd_mkdir_p_at(dfd, buf, 0755);
}

static int write_file(struct capture *c, const char *rel, const char *data, size_t len) {
        _cleanup_close_ int fd = -1;
        int r = parent_dir(c->dfd, rel);
        if (r < 0)
                return r;
        fd = openat(c->dfd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return negative_errno();
        if (write(fd, data, len) != (ssize_t) len)
                return -EIO;
        c->st.files++;
        return 0;
}

static int copy_file(struct capture *c, const char *rel) {
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r;

        r = hd_sysfs_read_full(c->ctx, rel, &data, &len);
        if (r < 0)
                return r == -ENOMEM ? r : 0; /* unreadable (root only, EIO): left out */
        if (len > CAPTURE_FILE_MAX)
                return 0;
        return write_file(c, rel, data, len);
}

static int copy_link(struct capture *c, const char *rel) {
        _cleanup_free_ char *target = NULL;
        int r;

        r = hd_sysfs_readlink(c->ctx, rel, &target);
        if (r < 0)
                return r == -ENOMEM ? r : 0;
        if (target[0] == '/')
                return 0;
        r = parent_dir(c->dfd, rel);
        if (r < 0)
                return r;
        if (symlinkat(target, c->dfd, rel) < 0 && errno != EEXIST)
                return negative_errno();
        c->st.links++;
        /* Keep the target directory too (physfn/virtfn may point at a
         * directory that is not an enumerated device). */
        {
                _cleanup_free_ char *abs = NULL, *resolved = NULL;
                if (hd_asprintf(&abs, "/%s", rel) >= 0 && hd_path_join_link(abs, target, &resolved) >= 0 &&
                    startswith(resolved, "/sys/devices/") && hd_sysfs_is_dir(c->ctx, resolved))
                        (void) hd_mkdir_p_at(c->dfd, resolved + 1, 0755);
        }
        return 0;
}

static bool keep_link(const char *name) {
        static const char *const keep[] = { "subsystem", "driver", "iommu_group", "physfn", "mdev_type",
                                            "device", "firmware_node" };
        for (size_t i = 0; i < ELEMENTSOF(keep); i++)
                if (streq(name, keep[i]))
                        return true;
        return startswith(name, "virtfn") != NULL;
}

static bool skip_file(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(skip_files); i++)
                if (streq(name, skip_files[i]))
                        return true;
        return startswith(name, "resource") != NULL;
}

/* Copy one directory level; recurse into @recurse-listed subdirectories
 * (and everything below them) but never into another device. */
static int copy_dir(struct capture *c, const char *rel, bool recurse_all, int depth) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r;

        if (depth > 4)
                return 0;
        r = hd_sysfs_opendir(c->ctx, rel, &d);
        if (r < 0)
                return r == -ENOMEM ? r : 0;
        r = hd_mkdir_p_at(c->dfd, rel, 0755);
        if (r < 0)
                return r;
        while ((de = readdir(d))) {
                char path[PATH_MAX];
                struct stat st;

                if (de->d_name[0] == '.')
                        continue;
                if (snprintf(path, sizeof(path), "%s/%s", rel, de->d_name) >= (int) sizeof(path))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISLNK(st.st_mode)) {
                        if (recurse_all || keep_link(de->d_name))
                                r = copy_link(c, path);
                } else if (S_ISREG(st.st_mode)) {
                        if (skip_file(de->d_name))
                                continue;
                        if (st.st_mode & 0444)
                                r = copy_file(c, path);
                        else
                                r = write_file(c, path, "", 0); /* write-only: its existence matters */
                } else if (S_ISDIR(st.st_mode)) {
                        char uevent[PATH_MAX];
                        /* too long for PATH_MAX: so would its entries be (skipped above) */
                        if (snprintf(uevent, sizeof(uevent), "%s/uevent", path) >= (int) sizeof(uevent))
                                continue;
                        if (hd_sysfs_exists(c->ctx, uevent))
                                continue; /* a device of its own */
                        if (recurse_all || streq(de->d_name, "queue") ||
                            streq(de->d_name, "mdev_supported_types"))
                                r = copy_dir(c, path, true, depth + 1);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static int capture_device(void *userdata, struct hd_raw_device *raw) {
        struct capture *c = userdata;
        _cleanup_free_ char *sub = NULL;
        char linkpath[PATH_MAX], rel[PATH_MAX], target[PATH_MAX];
        int r;

        if (hd_hashmap_get(c->seen, raw->syspath)) {
                hd_raw_device_done(raw);
                return 0;
        }
        r = hd_strv_push(&c->keys, &c->n_keys, strdup(raw->syspath));
        if (r >= 0)
                r = hd_hashmap_put(c->seen, c->keys[c->n_keys - 1], (void *) 1);
        if (r < 0)
                goto out;
        c->st.devices++;

        r = copy_dir(c, raw->syspath + 1, false, 0);
        if (r < 0)
                goto out;

        /* the bus or class entry that points at the device */
        snprintf(rel, sizeof(rel), "%s/subsystem", raw->syspath + 1);
        if (hd_sysfs_resolve_link(c->ctx, rel, &sub) >= 0) {
                const char *devrel = raw->syspath + strlen("/sys/");
                if (startswith(sub, "/sys/bus/")) {
                        snprintf(linkpath, sizeof(linkpath), "sys/bus/%s/devices/%s", hd_path_basename(sub),
                                 hd_path_basename(raw->syspath));
                        snprintf(target, sizeof(target), "../../../%s", devrel);
                        /* drivers/ directories, so "driver" links resolve */
                        snprintf(rel, sizeof(rel), "sys/bus/%s/drivers", hd_path_basename(sub));
                        (void) hd_mkdir_p_at(c->dfd, rel, 0755);
                } else {
                        snprintf(linkpath, sizeof(linkpath), "sys/class/%s/%s", hd_path_basename(sub),
                                 hd_path_basename(raw->syspath));
                        snprintf(target, sizeof(target), "../../%s", devrel);
                }
                r = parent_dir(c->dfd, linkpath);
                if (r < 0)
                        goto out;
                if (symlinkat(target, c->dfd, linkpath) == 0)
                        c->st.links++;
        }

        /* a placeholder for the device node (its existence is checked) */
        const char *devname = hd_raw_get_prop(raw, "DEVNAME");
        if (devname && !strstr(devname, "..")) {
                snprintf(rel, sizeof(rel), "dev/%s", devname[0] == '/' ? devname + strlen("/dev/") : devname);
                r = write_file(c, rel, "", 0);
                if (r < 0)
                        goto out;
        }

        /* the udev database entry */
        if (hd_udev_db_path(raw, rel, sizeof(rel)) >= 0 && hd_sysfs_exists(c->ctx, rel)) {
                size_t before = c->st.files;
                r = copy_file(c, rel);
                if (r < 0)
                        goto out;
                if (c->st.files > before)
                        c->st.udev_entries++;
        }
        r = 0;
out:
        hd_raw_device_done(raw);
        return r;
}

/* Drivers' directories for every bound driver link we copied. */
static int capture_drivers(struct capture *c) {
        _cleanup_strv_free_ char **buses = NULL;
        size_t n = 0;

        if (hd_sysfs_list_dir(c->ctx, "sys/bus", &buses, &n) < 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                _cleanup_strv_free_ char **drv = NULL;
                size_t nd = 0;
                char rel[PATH_MAX];
                if (snprintf(rel, sizeof(rel), "sys/bus/%s/drivers", buses[i]) >= (int) sizeof(rel))
                        continue;
                if (hd_sysfs_list_dir(c->ctx, rel, &drv, &nd) < 0)
                        continue;
                for (size_t k = 0; k < nd; k++) {
                        char p[PATH_MAX];
                        int r;
                        if (snprintf(p, sizeof(p), "%s/%s", rel, drv[k]) >= (int) sizeof(p))
                                continue; /* no such driver directory in a tree we can capture */
                        r = hd_mkdir_p_at(c->dfd, p, 0755);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int capture_tree(struct capture *c, const char *rel) {
        if (!hd_sysfs_is_dir(c->ctx, rel))
                return 0;
        return copy_dir(c, rel, true, 0);
}

_public_ int hd_capture(hd_ctx *ctx, const char *dir, hd_capture_stats *ret_stats) {
        struct capture c = { .ctx = ctx, .dfd = -1 };
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r;

        if (!ctx || isempty(dir))
                return -EINVAL;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        c.dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c.dfd < 0)
                return negative_errno();
        d = fdopendir(fcntl(c.dfd, F_DUPFD_CLOEXEC, 3));
        if (!d) {
                close(c.dfd);
                return negative_errno();
        }
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                        log_debug(ctx, "%s: not empty; capture needs an empty or new directory", dir);
                        close(c.dfd);
                        return -ENOTEMPTY;
                }

        r = hd_hashmap_new(&c.seen);
        if (r >= 0)
                r = ctx->sysroot ? hd_source_sysfs_scan(ctx, capture_device, &c)
                                 : hd_source_udev_scan(ctx, capture_device, &c);
        if (r >= 0)
                r = capture_drivers(&c);
        if (r >= 0)
                r = capture_tree(&c, "sys/kernel/iommu_groups");
        if (r >= 0)
                r = capture_tree(&c, "sys/class/mdev_bus");
        if (r >= 0)
                r = hd_mkdir_p_at(c.dfd, "dev", 0755);
        hd_hashmap_free(c.seen);
        hd_strv_free(c.keys);
        close(c.dfd);
        if (r < 0)
                return r;
        /* what a user counts: the node devices the capture replays */
        {
                hd_ctx *cap = NULL;
                hd_nodedev_list *list = NULL;
                if (hd_ctx_new(dir, &cap) >= 0) {
                        hd_ctx_set_log_level(cap, HD_LOG_ERR);
                        if (hd_nodedev_list_new(cap, &list) >= 0)
                                c.st.node_devices = hd_nodedev_list_count(list);
                        hd_nodedev_list_unref(list);
                        hd_ctx_unref(cap);
                }
        }
        if (ret_stats)
                *ret_stats = c.st;
        return 0;
}
