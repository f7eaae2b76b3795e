/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device source for a captured tree (--sysroot): walks sys/bus/<bus>/devices
 * and sys/class/<class> the way libudev's enumerator does, and merges each
 * device's uevent file with its udev database entry (run/udev/data/<id>).
 */
#include <fcntl.h>
#include <limits.h>

#include "nodedev-internal.h"

/* libvirt does not enumerate these: nothing of interest lives there */
const char *const hd_skip_subsystems[] = { "acpi", "tty", "vc", "i2c", NULL };

void hd_raw_device_done(struct hd_raw_device *raw) {
        free(raw->syspath);
        free(raw->subsystem);
        hd_strv_free(raw->props);
        hd_strv_free(raw->devlinks);
        memset(raw, 0, sizeof(*raw));
}

const char *hd_raw_get_prop(const struct hd_raw_device *raw, const char *key) {
        size_t kl = strlen(key);
        /* from the end: the udev database overrides the uevent file */
        for (size_t i = raw->n_props; i-- > 0;)
                if (strncmp(raw->props[i], key, kl) == 0 && raw->props[i][kl] == '=')
                        return raw->props[i] + kl + 1;
        return NULL;
}

int hd_raw_add_propn(struct hd_raw_device *raw, const char *key, size_t keylen, const char *value, size_t vlen) {
        char *s;

        if (raw->n_props + 2 > raw->cap_props) {
                size_t ncap = raw->cap_props ? raw->cap_props * 2 : 16;
                char **n = realloc(raw->props, ncap * sizeof(char *));
                if (!n)
                        return -ENOMEM;
                raw->props = n;
                raw->cap_props = ncap;
        }
        s = malloc(keylen + vlen + 2);
        if (!s)
                return -ENOMEM;
        memcpy(s, key, keylen);
        s[keylen] = '=';
        memcpy(s + keylen + 1, value, vlen);
        s[keylen + 1 + vlen] = 0;
        raw->props[raw->n_props++] = s;
        raw->props[raw->n_props] = NULL;
        return 0;
}

int hd_raw_add_prop(struct hd_raw_device *raw, const char *key, size_t keylen, const char *value) {
        return hd_raw_add_propn(raw, key, keylen, value, strlen(value));
}

int hd_uevent_parse(const char *text, struct hd_raw_device *raw) {
        const char *p = text;

        while (*p) {
                const char *nl = strchrnul(p, '\n');
                const char *eq = memchr(p, '=', (size_t) (nl - p));
                if (eq && eq > p) {
                        int r = hd_raw_add_propn(raw, p, (size_t) (eq - p), eq + 1, (size_t) (nl - eq - 1));
                        if (r < 0)
                                return r;
                }
                p = *nl ? nl + 1 : nl;
        }
        return 0;
}

int hd_udev_db_parse(const char *text, struct hd_raw_device *raw) {
        const char *p = text;
        int r;

        while (*p) {
                const char *nl = strchrnul(p, '\n');
                size_t len = (size_t) (nl - p);

                if (len > 2 && p[1] == ':') {
                        if (p[0] == 'E') {
                                const char *eq = memchr(p + 2, '=', len - 2);
                                if (eq && eq > p + 2) {
                                        r = hd_raw_add_propn(raw, p + 2, (size_t) (eq - p - 2), eq + 1,
                                                             (size_t) (nl - eq - 1));
                                        if (r < 0)
                                                return r;
                                }
                        } else if (p[0] == 'S') {
                                char *link;
                                if (asprintf(&link, "/dev/%.*s", (int) (len - 2), p + 2) < 0)
                                        return -ENOMEM;
                                r = hd_strv_push(&raw->devlinks, &raw->n_devlinks, link);
                                if (r < 0)
                                        return r;
                        }
                }
                p = *nl ? nl + 1 : nl;
        }
        return 0;
}

/* Read a small file (uevent, udev db entry) into buf, NUL-terminated;
 * returns its length or -errno (-EFBIG when it does not fit). */
static ssize_t read_small(hd_ctx *ctx, const char *path, char *buf, size_t size) {
        int n = hd_sysfs_read_bytes(ctx, path, buf, size - 1);
        if (n < 0)
                return n;
        if ((size_t) n >= size - 1)
                return -EFBIG;
        buf[n] = 0;
        return n;
}

int hd_udev_db_path(const struct hd_raw_device *raw, char *buf, size_t size) {
        const char *major = hd_raw_get_prop(raw, "MAJOR"), *minor = hd_raw_get_prop(raw, "MINOR");
        const char *ifindex = hd_raw_get_prop(raw, "IFINDEX");
        int r;

        if (major && minor)
                r = snprintf(buf, size, "run/udev/data/%c%s:%s", streq(raw->subsystem, "block") ? 'b' : 'c', major,
                             minor);
        else if (ifindex && streq(raw->subsystem, "net"))
                r = snprintf(buf, size, "run/udev/data/n%s", ifindex);
        else
                r = snprintf(buf, size, "run/udev/data/+%s:%s", raw->subsystem, hd_path_basename(raw->syspath));
        return r < 0 || (size_t) r >= size ? -ENAMETOOLONG : 0;
}

/* udev keeps data worth reading only for devices with a node or an
 * interface (block, char, net) and for USB devices. */
static int read_udev_db(hd_ctx *ctx, struct hd_raw_device *raw) {
        char path[PATH_MAX], buf[16384];
        ssize_t n;

        if (!hd_raw_get_prop(raw, "MAJOR") && !hd_raw_get_prop(raw, "IFINDEX") && !streq(raw->subsystem, "usb"))
                return 0;
        if (hd_udev_db_path(raw, path, sizeof(path)) < 0)
                return 0;
        n = read_small(ctx, path, buf, sizeof(buf));
        if (n < 0)
                return 0; /* no database entry: fine */
        return hd_udev_db_parse(buf, raw);
}

/* Read one device directory: its uevent file, its subsystem link (which
 * decides, as in libudev: a device can also be listed under another class,
 * e.g. mdev_bus, and a damaged tree can disagree with the directory it was
 * found in; @dir_subsystem is the fallback when the link is unreadable) and,
 * where udev keeps some, its udev database entry.  Returns 1 and fills @raw
 * (taking @syspath), 0 when this is no device to report (no uevent file,
 * no subsystem, or one libvirt skips), or -errno. */
int hd_source_sysfs_read_device(hd_ctx *ctx, char *syspath, const char *dir_subsystem, struct hd_raw_device *raw) {
        _cleanup_free_ char *path = syspath;
        const char *subsystem = dir_subsystem;
        char upath[PATH_MAX], uevent[8192], sublink[PATH_MAX];
        ssize_t n;
        int r;

        if (!startswith(path, "/sys/"))
                return 0;
        if (snprintf(upath, sizeof(upath), "%s/uevent", path + 1) >= (int) sizeof(upath))
                return 0;
        n = read_small(ctx, upath, uevent, sizeof(uevent));
        if (n < 0) {
                /* libudev ignores directories without a uevent file. */
                log_debug(ctx, "%s: no uevent (%s), skipped", path, strerror((int) -n));
                return 0;
        }
        {
                _cleanup_free_ char *target = NULL;
                snprintf(upath, sizeof(upath), "%s/subsystem", path + 1);
                if (hd_sysfs_readlink(ctx, upath, &target) >= 0 && !isempty(target)) {
                        snprintf(sublink, sizeof(sublink), "%s", hd_path_basename(target));
                        subsystem = sublink;
                }
        }
        if (!subsystem)
                return 0;
        for (size_t k = 0; hd_skip_subsystems[k]; k++)
                if (streq(subsystem, hd_skip_subsystems[k]))
                        return 0;

        raw->syspath = TAKE_PTR(path);
        raw->subsystem = strdup(subsystem);
        if (!raw->subsystem) {
                hd_raw_device_done(raw);
                return -ENOMEM;
        }
        r = hd_uevent_parse(uevent, raw);
        if (r >= 0)
                r = hd_raw_add_prop(raw, "SUBSYSTEM", strlen("SUBSYSTEM"), subsystem);
        if (r >= 0)
                r = hd_raw_add_prop(raw, "DEVPATH", strlen("DEVPATH"), raw->syspath + strlen("/sys"));
        if (r >= 0)
                r = read_udev_db(ctx, raw);
        if (r < 0) {
                hd_raw_device_done(raw);
                return r;
        }
        return 1;
}

static int add_one(hd_ctx *ctx, struct hd_hashmap *seen, char ***keys, size_t *n_keys,
                   const char *subsystem, char *syspath, hd_raw_cb cb, void *userdata) {
        _cleanup_free_ char *path = syspath;
        struct hd_raw_device raw = {};
        char *copy;
        int r;

        if (hd_hashmap_get(seen, path))
                return 0;
        copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        r = hd_strv_push(keys, n_keys, copy);
        if (r < 0)
                return r;
        r = hd_hashmap_put(seen, (*keys)[*n_keys - 1], (void *) 1);
        if (r < 0)
                return r;
        r = hd_source_sysfs_read_device(ctx, TAKE_PTR(path), subsystem, &raw);
        if (r <= 0)
                return r;
        return cb(userdata, &raw);
}

static int scan_dir(hd_ctx *ctx, struct hd_hashmap *seen, char ***keys, size_t *n_keys,
                    const char *subsystem, const char *dir, hd_raw_cb cb, void *userdata) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r;

        r = hd_sysfs_opendir(ctx, dir, &d);
        if (r < 0)
                return r == -ENOMEM ? r : 0;
        while ((de = readdir(d))) {
                char target[PATH_MAX], linkpath[PATH_MAX];
                char *syspath;
                ssize_t n;

                if (de->d_name[0] == '.')
                        continue;
                n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
                if (n < 0) {
                        if (errno != EINVAL)
                                log_warn(ctx, "/%s/%s: %m, skipped", dir, de->d_name);
                        continue;
                }
                target[n] = 0;
                if (snprintf(linkpath, sizeof(linkpath), "/%s/%s", dir, de->d_name) >= (int) sizeof(linkpath))
                        continue;
                r = hd_path_join_link(linkpath, target, &syspath);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || !startswith(syspath, "/sys/devices/")) {
                        if (r >= 0)
                                free(syspath);
                        log_warn(ctx, "%s: link to '%s' leaves /sys/devices, skipped", linkpath, target);
                        continue;
                }
                r = add_one(ctx, seen, keys, n_keys, subsystem, syspath, cb, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

int hd_sysfs_subsystem_dirs(hd_ctx *ctx, char ***ret_subs, char ***ret_dirs, size_t *ret_n) {
        static const char *const tops[] = { "sys/bus", "sys/class" };
        _cleanup_strv_free_ char **subs = NULL, **dirs = NULL;
        size_t n = 0, nd = 0;

        for (size_t t = 0; t < ELEMENTSOF(tops); t++) {
                _cleanup_strv_free_ char **names = NULL;
                size_t nn = 0;

                if (hd_sysfs_list_dir(ctx, tops[t], &names, &nn) < 0)
                        continue;
                for (size_t i = 0; i < nn; i++) {
                        char *dir = NULL;
                        bool skip = false;

                        for (size_t k = 0; hd_skip_subsystems[k]; k++)
                                if (streq(names[i], hd_skip_subsystems[k]))
                                        skip = true;
                        if (skip)
                                continue;
                        if (hd_asprintf(&dir, t == 0 ? "sys/bus/%s/devices" : "sys/class/%s", names[i]) < 0 ||
                            hd_strv_push(&dirs, &nd, dir) < 0 || hd_strv_push(&subs, &n, strdup(names[i])) < 0)
                                return -ENOMEM;
                }
        }
        *ret_subs = TAKE_PTR(subs);
        *ret_dirs = TAKE_PTR(dirs);
        *ret_n = n;
        return 0;
}

int hd_source_sysfs_scan(hd_ctx *ctx, hd_raw_cb cb, void *userdata) {
        _cleanup_strv_free_ char **subs = NULL, **dirs = NULL;
        struct hd_hashmap *seen = NULL;
        char **keys = NULL;
        size_t n_keys = 0, n = 0;
        int r;

        if (!hd_sysfs_is_dir(ctx, "sys/devices")) {
                log_debug(ctx, "%s: no sys/devices directory: not a sysfs tree", ctx->sysroot ?: "/");
                return -ENOTDIR;
        }
        r = hd_hashmap_new(&seen);
        if (r < 0)
                return r;
        r = hd_sysfs_subsystem_dirs(ctx, &subs, &dirs, &n);
        for (size_t i = 0; i < n && r >= 0; i++)
                r = scan_dir(ctx, seen, &keys, &n_keys, subs[i], dirs[i], cb, userdata);
        hd_hashmap_free(seen);
        hd_strv_free(keys);
        return r < 0 ? r : 0;
}
