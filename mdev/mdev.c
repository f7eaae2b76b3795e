/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mediated devices without mdevctl: create and remove through sysfs
 * (mdev_supported_types/<type>/create, <mdev>/remove), persistent
 * definitions in mdevctl's config directory (<dir>/<parent>/<uuid>, JSON).
 * Kernel files go through util/sysfs.c; the config directory is a plain
 * directory (like the state directory).
 */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "mdev-internal.h"
#include "util/result-internal.h"

static int parent_arg(hd_ctx *ctx, const char *parent, char **ret);

/* ---- small helpers ---- */

_public_ bool hd_uuid_is_valid(const char *s) {
        static const char pat[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
        if (!s || strlen(s) != sizeof(pat) - 1)
                return false;
        for (size_t i = 0; pat[i]; i++)
                if (pat[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char) s[i]))
                        return false;
        return true;
}

_public_ int hd_uuid_generate(char ret[37]) {
        unsigned char b[16];
        size_t got = 0;

        while (got < sizeof(b)) {
                ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                got += (size_t) n;
        }
        b[6] = (unsigned char) ((b[6] & 0x0f) | 0x40); /* version 4 */
        b[8] = (unsigned char) ((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
        snprintf(ret, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                 b[14], b[15]);
        return 0;
}

/* lower-case copy of a valid UUID into buf[37] */
int hd_mdev_uuid_norm(const char *in, char buf[37]) {
        if (!hd_uuid_is_valid(in))
                return -EINVAL;
        for (size_t i = 0; i < 37; i++)
                buf[i] = (char) tolower((unsigned char) in[i]);
        return 0;
}

/* one path component, no tricks (parent addresses, type ids, attributes) */
bool hd_mdev_name_ok(const char *s) {
        if (isempty(s) || streq(s, ".") || streq(s, "..") || strlen(s) > 200)
                return false;
        for (const char *p = s; *p; p++)
                if (*p == '/' || (unsigned char) *p < 0x20)
                        return false;
        return true;
}

_public_ void hd_mdev_free(hd_mdev *m) {
        if (!m)
                return;
        free(m->parent);
        free(m->type);
        for (size_t i = 0; i < m->n_attrs; i++) {
                free(m->attrs[i].name);
                free(m->attrs[i].value);
        }
        free(m->attrs);
        free(m);
}

void hd_mdev_clear(hd_mdev *m) {
        free(m->parent);
        free(m->type);
        for (size_t i = 0; i < m->n_attrs; i++) {
                free(m->attrs[i].name);
                free(m->attrs[i].value);
        }
        free(m->attrs);
        memset(m, 0, sizeof(*m));
        m->iommu_group = -1;
}

_public_ void hd_mdev_array_free(hd_mdev *m, size_t n) {
        if (!m)
                return;
        for (size_t i = 0; i < n; i++)
                hd_mdev_clear(&m[i]);
        free(m);
}

_public_ int hd_mdev_add_attr(hd_mdev *m, const char *name, const char *value) {
        hd_mdev_attr *a;

        if (!m || !name || !value)
                return -EINVAL;
        a = realloc(m->attrs, (m->n_attrs + 1) * sizeof(*a));
        if (!a)
                return -ENOMEM;
        m->attrs = a;
        a[m->n_attrs].name = strdup(name);
        a[m->n_attrs].value = strdup(value);
        if (!a[m->n_attrs].name || !a[m->n_attrs].value) {
                free(a[m->n_attrs].name);
                free(a[m->n_attrs].value);
                return -ENOMEM;
        }
        m->n_attrs++;
        return 0;
}

/* deep copy into *dst (which is overwritten) */
int hd_mdev_copy_into(const hd_mdev *src, hd_mdev *dst) {
        memset(dst, 0, sizeof(*dst));
        memcpy(dst->uuid, src->uuid, sizeof(dst->uuid));
        dst->active = src->active;
        dst->defined = src->defined;
        dst->autostart = src->autostart;
        dst->iommu_group = src->iommu_group;
        if ((src->parent && !(dst->parent = strdup(src->parent))) ||
            (src->type && !(dst->type = strdup(src->type))))
                goto oom;
        for (size_t i = 0; i < src->n_attrs; i++)
                if (hd_mdev_add_attr(dst, src->attrs[i].name, src->attrs[i].value) < 0)
                        goto oom;
        return 0;
oom:
        hd_mdev_clear(dst);
        return -ENOMEM;
}

_public_ int hd_mdev_copy(const hd_mdev *m, hd_mdev **ret) {
        hd_mdev *c;
        int r;

        if (!m || !ret)
                return -EINVAL;
        c = malloc(sizeof(*c));
        if (!c)
                return -ENOMEM;
        r = hd_mdev_copy_into(m, c);
        if (r < 0) {
                free(c);
                return r;
        }
        *ret = c;
        return 0;
}

static int push_mdev(hd_mdev **v, size_t *n, hd_mdev *m) {
        hd_mdev *nv = realloc(*v, (*n + 1) * sizeof(*nv));
        if (!nv)
                return -ENOMEM;
        *v = nv;
        nv[(*n)++] = *m; /* takes the contents */
        memset(m, 0, sizeof(*m));
        return 0;
}

/* ---- config directory ---- */

_public_ int hd_mdev_config_dir(hd_ctx *ctx, char **ret) {
        const char *env = secure_getenv("HOSTDEV_MDEVCTL_DIR");
        const char *root = hd_ctx_get_sysroot(ctx);
        char *s;

        if (!ctx || !ret)
                return -EINVAL;
        if (!isempty(env))
                s = strdup(env);
        else if (root) {
                if (hd_asprintf(&s, "%s/etc/mdevctl.d", root) < 0)
                        return -ENOMEM;
        } else
                s = strdup("/etc/mdevctl.d");
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int def_path(hd_ctx *ctx, const char *parent, const char *uuid, char *buf, size_t size) {
        _cleanup_free_ char *dir = NULL;
        int r = hd_mdev_config_dir(ctx, &dir);
        if (r < 0)
                return r;
        r = snprintf(buf, size, "%s/%s%s%s", dir, parent, uuid ? "/" : "", uuid ? uuid : "");
        return r < 0 || (size_t) r >= size ? -ENAMETOOLONG : 0;
}

static int read_text_file(const char *path, char **ret) {
        _cleanup_close_ int fd = -1;
        struct hd_buf b = {};
        char chunk[4096];
        ssize_t n;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
                hd_buf_add(&b, chunk, (size_t) n);
                if (b.len > (1u << 20)) {
                        hd_buf_done(&b);
                        return -EFBIG;
                }
        }
        if (n < 0) {
                int r = negative_errno();
                hd_buf_done(&b);
                return r;
        }
        hd_buf_add(&b, "", 0);
        if (!b.s && !b.err) {
                *ret = strdup("");
                return *ret ? 0 : -ENOMEM;
        }
        return hd_buf_steal(&b, ret);
}

/* Read one definition file.  -ENOENT when absent, -EBADMSG malformed. */
int hd_mdev_def_read(hd_ctx *ctx, const char *parent, const char *uuid, hd_mdev **ret) {
        char path[PATH_MAX], err[256] = "";
        _cleanup_free_ char *text = NULL;
        hd_mdev *m;
        int r;

        r = def_path(ctx, parent, uuid, path, sizeof(path));
        if (r < 0)
                return r;
        r = read_text_file(path, &text);
        if (r < 0)
                return r;
        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->iommu_group = -1;
        r = hd_mdev_parse_json(text, m, err, sizeof(err));
        if (r < 0) {
                log_warn(ctx, "%s: invalid mdev definition: %s", path, err);
                hd_mdev_free(m);
                return r;
        }
        memcpy(m->uuid, uuid, 37);
        m->parent = strdup(parent);
        if (!m->parent) {
                hd_mdev_free(m);
                return -ENOMEM;
        }
        m->defined = true;
        *ret = m;
        return 0;
}

static int def_write(hd_ctx *ctx, const hd_mdev *m) {
        char path[PATH_MAX], dir[PATH_MAX];
        _cleanup_free_ char *json = NULL;
        int r;

        r = hd_mdev_format_json(m, &json);
        if (r < 0)
                return r;
        r = def_path(ctx, m->parent, NULL, dir, sizeof(dir));
        if (r >= 0)
                r = def_path(ctx, m->parent, m->uuid, path, sizeof(path));
        if (r < 0)
                return r;
        r = hd_mkdir_p_at(AT_FDCWD, dir, 0755);
        if (r < 0) {
                log_err(ctx, "cannot create %s: %s", dir, strerror(-r));
                return r;
        }
        r = hd_write_file_atomic(path, json, 0644);
        if (r < 0)
                log_err(ctx, "cannot write %s: %s", path, strerror(-r));
        else
                log_debug(ctx, "wrote %s", path);
        return r;
}

/* Every definition; malformed ones are skipped with a warning. */
static int defs_load(hd_ctx *ctx, hd_mdev **ret, size_t *ret_n) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        hd_mdev *v = NULL;
        size_t n = 0;
        struct dirent *de;
        int r;

        r = hd_mdev_config_dir(ctx, &dir);
        if (r < 0)
                return r;
        d = opendir(dir);
        if (!d) {
                if (errno != ENOENT)
                        log_warn(ctx, "cannot read %s: %s", dir, strerror(errno));
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        while ((de = readdir(d))) {
                _cleanup_closedir_ DIR *pd = NULL;
                struct dirent *fe;
                char pdir[PATH_MAX];

                if (de->d_name[0] == '.' || streq(de->d_name, "scripts.d"))
                        continue;
                if (snprintf(pdir, sizeof(pdir), "%s/%s", dir, de->d_name) >= (int) sizeof(pdir))
                        continue;
                pd = opendir(pdir);
                if (!pd)
                        continue;
                while ((fe = readdir(pd))) {
                        char uuid[37];
                        hd_mdev *m = NULL;
                        if (hd_mdev_uuid_norm(fe->d_name, uuid) < 0)
                                continue; /* temporary files, editor backups */
                        if (!streq(uuid, fe->d_name))
                                continue; /* mdevctl writes lower case only */
                        r = hd_mdev_def_read(ctx, de->d_name, uuid, &m);
                        if (r == -ENOMEM) {
                                hd_mdev_array_free(v, n);
                                return r;
                        }
                        if (r < 0)
                                continue;
                        r = push_mdev(&v, &n, m);
                        free(m);
                        if (r < 0) {
                                hd_mdev_array_free(v, n);
                                return r;
                        }
                }
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* ---- sysfs side ---- */

static int read_link_base(hd_ctx *ctx, const char *path, char **ret) {
        _cleanup_free_ char *t = NULL;
        int r = hd_sysfs_readlink(ctx, path, &t);
        if (r < 0)
                return r;
        *ret = strdup(hd_path_basename(t));
        return *ret ? 0 : -ENOMEM;
}

/* The active mdev @uuid (normalized): parent address, type, group. */
static int active_load(hd_ctx *ctx, const char *uuid, hd_mdev *m) {
        char path[PATH_MAX];
        _cleanup_free_ char *syspath = NULL, *grp = NULL;
        char *slash;
        int r;

        snprintf(path, sizeof(path), "sys/bus/mdev/devices/%s", uuid);
        r = hd_sysfs_resolve_link(ctx, path, &syspath);
        if (r < 0)
                return r == -ENOMEM ? r : -ENODEV;
        memset(m, 0, sizeof(*m));
        memcpy(m->uuid, uuid, 37);
        m->active = true;
        m->iommu_group = -1;
        slash = strrchr(syspath, '/');
        if (!slash || slash == syspath)
                return -ENODEV;
        *slash = 0;
        m->parent = strdup(hd_path_basename(syspath));
        if (!m->parent)
                return -ENOMEM;
        snprintf(path, sizeof(path), "sys/bus/mdev/devices/%s/mdev_type", uuid);
        r = read_link_base(ctx, path, &m->type);
        if (r == -ENOMEM)
                return r;
        snprintf(path, sizeof(path), "sys/bus/mdev/devices/%s/iommu_group", uuid);
        if (read_link_base(ctx, path, &grp) >= 0) {
                unsigned g;
                if (hd_safe_atou(grp, 10, &g) >= 0 && g <= INT_MAX)
                        m->iommu_group = (int) g;
        }
        return 0;
}

static bool mdev_active(hd_ctx *ctx, const char *uuid) {
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "sys/bus/mdev/devices/%s", uuid);
        return hd_sysfs_exists(ctx, path);
}

static bool parent_present(hd_ctx *ctx, const char *parent) {
        char path[PATH_MAX];
        if (!hd_mdev_name_ok(parent))
                return false;
        snprintf(path, sizeof(path), "sys/class/mdev_bus/%s", parent);
        return hd_sysfs_is_dir(ctx, path);
}

static bool type_present(hd_ctx *ctx, const char *parent, const char *type) {
        char path[PATH_MAX];
        if (!hd_mdev_name_ok(type))
                return false;
        snprintf(path, sizeof(path), "sys/class/mdev_bus/%s/mdev_supported_types/%s", parent, type);
        return hd_sysfs_is_dir(ctx, path);
}

_public_ int hd_mdev_resolve_parent(hd_ctx *ctx, const char *spec, char **ret) {
        hd_nodedev_list *list = NULL;
        hd_device *d = NULL;
        char *s = NULL;
        int r;

        if (!ctx || isempty(spec) || !ret)
                return -EINVAL;
        if (parent_present(ctx, spec)) {
                s = strdup(spec);
                if (!s)
                        return -ENOMEM;
                *ret = s;
                return 0;
        }
        /* a node-device name or a short PCI address: looked up alone,
         * without enumerating the host */
        r = hd_nodedev_list_new_lazy(ctx, &list);
        if (r < 0)
                return r;
        r = hd_nodedev_list_lookup(list, spec, &d);
        if (r >= 0 && hd_device_get_syspath(d)) {
                const char *base = hd_path_basename(hd_device_get_syspath(d));
                if (parent_present(ctx, base))
                        s = strdup(base);
                else
                        r = -ENODEV;
        } else
                r = -ENODEV;
        hd_nodedev_list_unref(list);
        if (r < 0)
                return r;
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* ---- types ---- */

_public_ void hd_mdev_types_free(hd_mdev_type *t, size_t n) {
        if (!t)
                return;
        for (size_t i = 0; i < n; i++)
                hd_mdev_type_clear(&t[i]);
        free(t);
}

void hd_mdev_type_clear(hd_mdev_type *t) {
        free(t->parent);
        free(t->id);
        free(t->name);
        free(t->device_api);
        free(t->description);
        *t = (hd_mdev_type) {};
}

static char *read_type_attr(hd_ctx *ctx, const char *dir, const char *id, const char *attr, bool whole) {
        char path[PATH_MAX];
        char *s = NULL;
        size_t len;
        snprintf(path, sizeof(path), "%s/%s/%s", dir, id, attr);
        if (whole) {
                if (hd_sysfs_read_full(ctx, path, &s, &len) < 0)
                        return NULL;
                hd_strip(s);
                if (!*s) {
                        free(s);
                        return NULL;
                }
                return s;
        }
        return hd_sysfs_read_str(ctx, path, &s) < 0 ? NULL : s;
}

void hd_mdev_type_read(hd_ctx *ctx, const char *dir, const char *id, bool description, hd_mdev_type *t) {
        _cleanup_free_ char *avail = NULL;
        long long a;

        t->name = read_type_attr(ctx, dir, id, "name", false);
        t->device_api = read_type_attr(ctx, dir, id, "device_api", false);
        if (description)
                t->description = read_type_attr(ctx, dir, id, "description", true);
        avail = read_type_attr(ctx, dir, id, "available_instances", false);
        t->available = avail && hd_safe_atoll(avail, 10, &a) >= 0 && a >= 0 ? (long) a : -1;
}

static int list_parent_types(hd_ctx *ctx, const char *parent, hd_mdev_type **v, size_t *n) {
        _cleanup_strv_free_ char **ids = NULL;
        char path[PATH_MAX];
        size_t nids = 0;
        int r;

        snprintf(path, sizeof(path), "sys/class/mdev_bus/%s/mdev_supported_types", parent);
        r = hd_sysfs_list_dir(ctx, path, &ids, &nids);
        if (r < 0)
                return r == -ENOMEM ? r : 0;
        for (size_t i = 0; i < nids; i++) {
                hd_mdev_type *t, *nv;

                nv = realloc(*v, (*n + 1) * sizeof(*nv));
                if (!nv)
                        return -ENOMEM;
                *v = nv;
                t = &nv[*n];
                memset(t, 0, sizeof(*t));
                t->parent = strdup(parent);
                t->id = strdup(ids[i]);
                (*n)++;
                if (!t->parent || !t->id)
                        return -ENOMEM;
                hd_mdev_type_read(ctx, path, ids[i], true, t);
        }
        return 0;
}

_public_ int hd_mdev_list_types(hd_ctx *ctx, const char *parent, hd_mdev_type **ret, size_t *ret_n) {
        _cleanup_strv_free_ char **parents = NULL;
        _cleanup_free_ char *addr = NULL;
        hd_mdev_type *v = NULL;
        size_t n = 0, np = 0;
        int r;

        if (!ctx || !ret || !ret_n)
                return -EINVAL;
        if (parent) {
                r = hd_mdev_resolve_parent(ctx, parent, &addr);
                if (r < 0)
                        return r;
                r = list_parent_types(ctx, addr, &v, &n);
        } else {
                r = hd_sysfs_list_dir(ctx, "sys/class/mdev_bus", &parents, &np);
                if (r == -ENOENT)
                        r = 0;
                for (size_t i = 0; r >= 0 && i < np; i++)
                        r = list_parent_types(ctx, parents[i], &v, &n);
        }
        if (r < 0) {
                hd_mdev_types_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* ---- listing ---- */

static int cmp_mdev(const void *a, const void *b) {
        const hd_mdev *x = a, *y = b;
        int c = strcmp(strempty(x->parent), strempty(y->parent));
        return c ? c : strcmp(x->uuid, y->uuid);
}

_public_ int hd_mdev_list(hd_ctx *ctx, unsigned flags, hd_mdev **ret, size_t *ret_n) {
        _cleanup_strv_free_ char **uuids = NULL;
        hd_mdev *v = NULL, *defs = NULL;
        size_t n = 0, ndefs = 0, nu = 0;
        int r;

        if (!ctx || !ret || !ret_n)
                return -EINVAL;
        r = hd_sysfs_list_dir(ctx, "sys/bus/mdev/devices", &uuids, &nu);
        if (r < 0 && r != -ENOENT)
                return r;
        for (size_t i = 0; i < nu; i++) {
                hd_mdev m;
                char uuid[37];
                if (hd_mdev_uuid_norm(uuids[i], uuid) < 0)
                        continue;
                r = active_load(ctx, uuid, &m);
                if (r >= 0)
                        r = push_mdev(&v, &n, &m);
                if (r < 0)
                        hd_mdev_clear(&m);
                if (r == -ENOMEM)
                        goto fail;
        }
        r = defs_load(ctx, &defs, &ndefs);
        if (r < 0)
                goto fail;
        for (size_t i = 0; i < ndefs; i++) {
                hd_mdev *match = NULL;
                for (size_t j = 0; j < n; j++)
                        if (v[j].active && streq(v[j].uuid, defs[i].uuid) && streq_ptr(v[j].parent, defs[i].parent)) {
                                match = &v[j];
                                break;
                        }
                if (match) {
                        /* the running device with its definition's policy and attributes */
                        match->defined = true;
                        match->autostart = defs[i].autostart;
                        match->attrs = defs[i].attrs;
                        match->n_attrs = defs[i].n_attrs;
                        defs[i].attrs = NULL;
                        defs[i].n_attrs = 0;
                        continue;
                }
                r = push_mdev(&v, &n, &defs[i]);
                if (r < 0)
                        goto fail;
        }
        hd_mdev_array_free(defs, ndefs);
        defs = NULL;
        if (flags & (HD_MDEV_LIST_DEFINED | HD_MDEV_LIST_ACTIVE)) {
                size_t k = 0;
                for (size_t i = 0; i < n; i++) {
                        bool keep = (!(flags & HD_MDEV_LIST_DEFINED) || v[i].defined) &&
                                    (!(flags & HD_MDEV_LIST_ACTIVE) || v[i].active);
                        if (keep)
                                v[k++] = v[i];
                        else
                                hd_mdev_clear(&v[i]);
                }
                n = k;
        }
        if (n > 1)
                qsort(v, n, sizeof(*v), cmp_mdev);
        *ret = v;
        *ret_n = n;
        return 0;
fail:
        hd_mdev_array_free(defs, ndefs);
        hd_mdev_array_free(v, n);
        return r;
}

_public_ int hd_mdev_get(hd_ctx *ctx, const char *uuid_in, const char *parent, hd_mdev **ret) {
        _cleanup_free_ char *paddr = NULL;
        hd_mdev *v = NULL, *found = NULL;
        char uuid[37];
        size_t n = 0;
        int r;

        if (!ctx || !ret)
                return -EINVAL;
        r = hd_mdev_uuid_norm(strempty(uuid_in), uuid);
        if (r < 0)
                return r;
        if (parent) {
                r = parent_arg(ctx, parent, &paddr);
                if (r < 0)
                        return r;
        }
        r = hd_mdev_list(ctx, 0, &v, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                if (!streq(v[i].uuid, uuid) || (paddr && !streq_ptr(v[i].parent, paddr)))
                        continue;
                if (found) {
                        hd_mdev_array_free(v, n);
                        return -ENOTUNIQ;
                }
                found = &v[i];
        }
        if (!found) {
                hd_mdev_array_free(v, n);
                return -ENODEV;
        }
        r = hd_mdev_copy(found, ret);
        hd_mdev_array_free(v, n);
        return r;
}

/* ---- create / remove ---- */

static int write_attrs(hd_ctx *ctx, const char *devpath, const hd_mdev_attr *attrs, size_t n) {
        for (size_t i = 0; i < n; i++) {
                char path[PATH_MAX];
                int r;
                if (!hd_mdev_name_ok(attrs[i].name) || strstr(attrs[i].name, ".."))
                        return -EINVAL;
                if (snprintf(path, sizeof(path), "%s/%s", devpath, attrs[i].name) >= (int) sizeof(path))
                        return -ENAMETOOLONG;
                r = hd_sysfs_write(ctx, path, attrs[i].value);
                if (r < 0) {
                        log_debug(ctx, "cannot set attribute %s=%s: %s", attrs[i].name, attrs[i].value, strerror(-r));
                        return r == -ENOENT ? -ENXIO : r;
                }
        }
        return 0;
}

static int do_remove(hd_ctx *ctx, const char *uuid) {
        char path[PATH_MAX];
        _cleanup_free_ char *syspath = NULL;
        int r;

        snprintf(path, sizeof(path), "sys/bus/mdev/devices/%s", uuid);
        r = hd_sysfs_resolve_link(ctx, path, &syspath);
        if (r < 0)
                return r == -ENOMEM ? r : -ENODEV;
        snprintf(path, sizeof(path), "%s/remove", syspath);
        return hd_sysfs_write(ctx, path, "1");
}

_public_ int hd_mdev_create(hd_ctx *ctx, const char *parent, const char *type, const char *uuid_in,
                            const hd_mdev_attr *attrs, size_t n_attrs, char ret_uuid[37]) {
        return hd_mdev_create_full(ctx, parent, type, uuid_in, attrs, n_attrs, 0, ret_uuid);
}

_public_ int hd_mdev_create_full(hd_ctx *ctx, const char *parent, const char *type, const char *uuid_in,
                                 const hd_mdev_attr *attrs, size_t n_attrs, unsigned flags, char ret_uuid[37]) {
        _cleanup_free_ char *paddr = NULL, *psys = NULL, *avail = NULL;
        char uuid[37], path[PATH_MAX];
        long long a;
        int r;

        if (!ctx || isempty(parent) || isempty(type) || (n_attrs && !attrs))
                return -EINVAL;
        if (uuid_in) {
                r = hd_mdev_uuid_norm(uuid_in, uuid);
                if (r < 0) {
                        log_debug(ctx, "'%s' is not a valid UUID", uuid_in);
                        return r;
                }
        } else {
                r = hd_uuid_generate(uuid);
                if (r < 0)
                        return r;
        }
        r = hd_mdev_resolve_parent(ctx, parent, &paddr);
        if (r < 0) {
                if (r == -ENODEV)
                        log_debug(ctx, "'%s' is not a mediated-device parent on this host", parent);
                return r;
        }
        if (!type_present(ctx, paddr, type)) {
                log_debug(ctx, "parent %s has no mdev type '%s'", paddr, type);
                return -ENOENT;
        }
        if (mdev_active(ctx, uuid)) {
                log_debug(ctx, "an mdev with UUID %s exists already", uuid);
                return -EEXIST;
        }
        snprintf(path, sizeof(path), "sys/class/mdev_bus/%s/mdev_supported_types", paddr);
        avail = read_type_attr(ctx, path, type, "available_instances", false);
        if (avail && hd_safe_atoll(avail, 10, &a) >= 0 && a <= 0) {
                log_debug(ctx, "no available instances of %s on %s", type, paddr);
                return -ENOSPC;
        }
        snprintf(path, sizeof(path), "sys/class/mdev_bus/%s", paddr);
        r = hd_sysfs_resolve_link(ctx, path, &psys);
        if (r < 0)
                return r == -ENOMEM ? r : -ENODEV;
        if (flags & HD_MDEV_CREATE_DRY_RUN) {
                /* every check passed; attributes can only be tried on a real device */
                if (ret_uuid)
                        memcpy(ret_uuid, uuid, 37);
                return 0;
        }
        snprintf(path, sizeof(path), "%s/mdev_supported_types/%s/create", psys, type);
        r = hd_sysfs_write(ctx, path, uuid);
        if (r < 0) {
                log_debug(ctx, "cannot create mdev %s of type %s on %s: %s", uuid, type, paddr, strerror(-r));
                return r;
        }
        snprintf(path, sizeof(path), "%s/%s", psys, uuid);
        r = write_attrs(ctx, path, attrs, n_attrs);
        if (r < 0) {
                int k = do_remove(ctx, uuid);
                if (k < 0)
                        log_warn(ctx, "cannot remove %s again: %s", uuid, strerror(-k));
                return r;
        }
        log_info(ctx, "created mdev %s (%s on %s)", uuid, type, paddr);
        if (ret_uuid)
                memcpy(ret_uuid, uuid, 37);
        return 0;
}

_public_ int hd_mdev_in_use(hd_ctx *ctx, const char *uuid_in, int *ret_pid) {
        _cleanup_strv_free_ char **cdevs = NULL;
        _cleanup_free_ char *grp = NULL;
        char uuid[37], path[PATH_MAX], node[64], cdev[PATH_MAX];
        size_t nc = 0;
        int r;

        if (!ctx)
                return -EINVAL;
        r = hd_mdev_uuid_norm(strempty(uuid_in), uuid);
        if (r < 0)
                return r;
        if (!mdev_active(ctx, uuid))
                return -ENODEV;
        snprintf(path, sizeof(path), "sys/bus/mdev/devices/%s/iommu_group", uuid);
        if (read_link_base(ctx, path, &grp) < 0)
                return 0; /* no group: nothing can hold it through VFIO */
        snprintf(node, sizeof(node), "/dev/vfio/%s", grp);
        /* the iommufd character device too (vfio-dev/vfioN) */
        snprintf(path, sizeof(path), "sys/bus/mdev/devices/%s/vfio-dev", uuid);
        cdev[0] = 0;
        if (hd_sysfs_list_dir(ctx, path, &cdevs, &nc) >= 0 && nc > 0)
                snprintf(cdev, sizeof(cdev), "/dev/vfio/devices/%s", cdevs[0]);
        return hd_proc_scan_fds(ctx, node, cdev[0] ? cdev : NULL, ret_pid);
}

_public_ int hd_mdev_remove(hd_ctx *ctx, const char *uuid_in) {
        char uuid[37];
        int pid = 0, r;

        if (!ctx)
                return -EINVAL;
        r = hd_mdev_uuid_norm(strempty(uuid_in), uuid);
        if (r < 0)
                return r;
        if (!mdev_active(ctx, uuid))
                return -ENODEV;
        {
                _cleanup_free_ char *why = NULL;
                if (hd_ctx_check_in_use(ctx, "mdev", uuid, false, &why) == -EBUSY) {
                        log_err(ctx, "%s", why);
                        return -EBUSY;
                }
        }
        r = hd_mdev_in_use(ctx, uuid, &pid);
        if (r < 0)
                return r;
        if (r > 0) {
                log_debug(ctx, "mdev %s is in use: process %d has its VFIO device open", uuid, pid);
                return -EBUSY;
        }
        r = do_remove(ctx, uuid);
        if (r == -EBUSY)
                log_debug(ctx, "mdev %s is in use (the kernel refused to remove it)", uuid);
        else if (r < 0)
                log_debug(ctx, "cannot remove mdev %s: %s", uuid, strerror(-r));
        else
                log_info(ctx, "removed mdev %s", uuid);
        return r;
}

/* ---- definitions ---- */

/* the address of a parent given by the user: a present parent in any
 * spelling, else the string itself (definitions may name absent parents) */
static int parent_arg(hd_ctx *ctx, const char *parent, char **ret) {
        if (hd_mdev_resolve_parent(ctx, parent, ret) >= 0)
                return 0;
        if (!hd_mdev_name_ok(parent))
                return -EINVAL;
        *ret = strdup(parent);
        return *ret ? 0 : -ENOMEM;
}

/* the single definition of @uuid (under @parent when given) */
static int def_find(hd_ctx *ctx, const char *uuid_in, const char *parent, hd_mdev **ret) {
        _cleanup_free_ char *paddr = NULL;
        hd_mdev *v = NULL, *found = NULL;
        size_t n = 0;
        char uuid[37];
        int r;

        r = hd_mdev_uuid_norm(strempty(uuid_in), uuid);
        if (r < 0)
                return r;
        if (parent) {
                r = parent_arg(ctx, parent, &paddr);
                if (r < 0)
                        return r;
        }
        /* the definitions themselves, not merged with the running devices */
        r = defs_load(ctx, &v, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (streq(v[i].uuid, uuid) && (!paddr || streq_ptr(v[i].parent, paddr))) {
                        if (found) {
                                hd_mdev_array_free(v, n);
                                return -ENOTUNIQ;
                        }
                        found = &v[i];
                }
        r = found ? hd_mdev_copy(found, ret) : -ENODEV;
        hd_mdev_array_free(v, n);
        return r;
}

_public_ int hd_mdev_define(hd_ctx *ctx, hd_mdev *m, unsigned flags) {
        _cleanup_free_ char *paddr = NULL;
        hd_mdev copy = {};
        hd_mdev *old = NULL;
        char uuid[37];
        int r;

        if (!ctx || !m)
                return -EINVAL;
        if (m->uuid[0]) {
                r = hd_mdev_uuid_norm(m->uuid, uuid);
                if (r < 0) {
                        log_debug(ctx, "'%s' is not a valid UUID", m->uuid);
                        return r;
                }
        } else {
                r = hd_uuid_generate(uuid);
                if (r < 0)
                        return r;
        }
        /* a running device: defaults from it */
        if ((!m->parent || !m->type) && mdev_active(ctx, uuid)) {
                hd_mdev live;
                r = active_load(ctx, uuid, &live);
                if (r < 0)
                        return r;
                if (!m->parent)
                        m->parent = TAKE_PTR(live.parent);
                if (!m->type)
                        m->type = TAKE_PTR(live.type);
                hd_mdev_clear(&live);
        }
        if (!m->parent || !m->type) {
                log_debug(ctx, "an mdev definition needs a parent and a type");
                return -EINVAL;
        }
        if (hd_mdev_resolve_parent(ctx, m->parent, &paddr) >= 0) {
                if (!type_present(ctx, paddr, m->type)) {
                        log_debug(ctx, "parent %s has no mdev type '%s'", paddr, m->type);
                        return -ENOENT;
                }
        } else {
                /* definitions for parents that come later are allowed, as mdevctl does */
                if (!hd_mdev_name_ok(m->parent)) {
                        log_debug(ctx, "'%s' is not a valid parent address", m->parent);
                        return -EINVAL;
                }
                if (!hd_mdev_name_ok(m->type)) {
                        log_debug(ctx, "'%s' is not a valid mdev type", m->type);
                        return -EINVAL;
                }
                paddr = strdup(m->parent);
                if (!paddr)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < m->n_attrs; i++)
                if (!hd_mdev_name_ok(m->attrs[i].name) || strstr(m->attrs[i].name, "..")) {
                        log_debug(ctx, "'%s' is not a valid attribute name", m->attrs[i].name);
                        return -EINVAL;
                }
        r = def_find(ctx, uuid, NULL, &old);
        if (r >= 0) {
                bool same_parent = streq_ptr(old->parent, paddr);
                hd_mdev_free(old);
                if (!same_parent) {
                        log_debug(ctx, "mdev %s is already defined under another parent", uuid);
                        return -EEXIST;
                }
                if (!(flags & HD_MDEV_DEFINE_REPLACE)) {
                        log_debug(ctx, "mdev %s is already defined", uuid);
                        return -EEXIST;
                }
        } else if (r == -ENOTUNIQ) {
                log_debug(ctx, "mdev %s is already defined under several parents", uuid);
                return -EEXIST;
        } else if (r != -ENODEV)
                return r;

        r = hd_mdev_copy_into(m, &copy);
        if (r < 0)
                return r;
        memcpy(copy.uuid, uuid, 37);
        free(copy.parent);
        copy.parent = TAKE_PTR(paddr);
        r = def_write(ctx, &copy);
        if (r >= 0) {
                memcpy(m->uuid, uuid, 37);
                free(m->parent);
                m->parent = TAKE_PTR(copy.parent);
                m->defined = true;
        }
        hd_mdev_clear(&copy);
        return r;
}

_public_ int hd_mdev_undefine(hd_ctx *ctx, const char *uuid, const char *parent) {
        char path[PATH_MAX];
        hd_mdev *m = NULL;
        int r;

        if (!ctx)
                return -EINVAL;
        r = def_find(ctx, uuid, parent, &m);
        if (r < 0)
                return r;
        r = def_path(ctx, m->parent, m->uuid, path, sizeof(path));
        if (r >= 0 && unlink(path) < 0)
                r = negative_errno();
        if (r < 0)
                log_err(ctx, "cannot remove %s: %s", path, strerror(-r));
        else {
                /* drop the parent's directory when it is now empty, as mdevctl does */
                char *slash = strrchr(path, '/');
                if (slash) {
                        *slash = 0;
                        (void) rmdir(path);
                }
        }
        hd_mdev_free(m);
        return r;
}

_public_ int hd_mdev_start(hd_ctx *ctx, const char *uuid, const char *parent) {
        hd_mdev *m = NULL;
        int r;

        if (!ctx)
                return -EINVAL;
        r = def_find(ctx, uuid, parent, &m);
        if (r < 0)
                return r;
        if (mdev_active(ctx, m->uuid)) {
                hd_mdev_free(m);
                return -EALREADY;
        }
        r = hd_mdev_create(ctx, m->parent, m->type, m->uuid, m->attrs, m->n_attrs, NULL);
        hd_mdev_free(m);
        return r;
}

_public_ int hd_mdev_modify_definition(hd_ctx *ctx, const char *uuid, const char *parent, const hd_mdev_modify *mod) {
        hd_mdev *m = NULL;
        int r;

        if (!ctx || !mod)
                return -EINVAL;
        r = def_find(ctx, uuid, parent, &m);
        if (r < 0)
                return r;
        if (mod->type) {
                if (parent_present(ctx, m->parent) && !type_present(ctx, m->parent, mod->type)) {
                        log_debug(ctx, "parent %s has no mdev type '%s'", m->parent, mod->type);
                        r = -ENOENT;
                        goto out;
                }
                if (!hd_mdev_name_ok(mod->type)) {
                        r = -EINVAL;
                        goto out;
                }
                free(m->type);
                m->type = strdup(mod->type);
                if (!m->type) {
                        r = -ENOMEM;
                        goto out;
                }
        }
        if (mod->autostart >= 0)
                m->autostart = mod->autostart > 0;
        if (mod->clear_attrs) {
                for (size_t i = 0; i < m->n_attrs; i++) {
                        free(m->attrs[i].name);
                        free(m->attrs[i].value);
                }
                m->n_attrs = 0;
        }
        for (size_t d = 0; d < mod->n_del_attrs; d++) {
                size_t k = 0;
                bool found = false;
                for (size_t i = 0; i < m->n_attrs; i++) {
                        if (streq(m->attrs[i].name, mod->del_attrs[d])) {
                                free(m->attrs[i].name);
                                free(m->attrs[i].value);
                                found = true;
                                continue;
                        }
                        m->attrs[k++] = m->attrs[i];
                }
                m->n_attrs = k;
                if (!found) {
                        log_debug(ctx, "mdev %s has no attribute '%s'", m->uuid, mod->del_attrs[d]);
                        r = -ENOENT;
                        goto out;
                }
        }
        for (size_t i = 0; i < mod->n_add_attrs; i++) {
                if (!hd_mdev_name_ok(mod->add_attrs[i].name) || strstr(mod->add_attrs[i].name, "..")) {
                        log_debug(ctx, "'%s' is not a valid attribute name", mod->add_attrs[i].name);
                        r = -EINVAL;
                        goto out;
                }
                r = hd_mdev_add_attr(m, mod->add_attrs[i].name, mod->add_attrs[i].value);
                if (r < 0)
                        goto out;
        }
        r = def_write(ctx, m);
out:
        hd_mdev_free(m);
        return r;
}

_public_ int hd_mdev_set_autostart(hd_ctx *ctx, const char *uuid, const char *parent, bool autostart) {
        hd_mdev_modify mod = { .autostart = autostart ? 1 : 0 };
        return hd_mdev_modify_definition(ctx, uuid, parent, &mod);
}

/* ---- apply ---- */

_public_ int hd_mdev_apply(hd_ctx *ctx, hd_result **ret) {
        return hd_mdev_apply_full(ctx, 0, ret);
}

_public_ int hd_mdev_apply_full(hd_ctx *ctx, unsigned flags, hd_result **ret) {
        _hd_cleanup_result_ hd_result *res = NULL;
        bool dry_run = flags & HD_MDEV_APPLY_DRY_RUN;
        hd_mdev *v = NULL;
        size_t n = 0, n_auto = 0, n_failed = 0;
        int r, first_err = 0;

        if (!ctx || !ret)
                return -EINVAL;
        r = hd_result_new(HD_RESULT_MDEV_APPLY, &res);
        if (r < 0)
                return r;
        r = hd_mdev_list(ctx, HD_MDEV_LIST_DEFINED, &v, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                enum hd_outcome o;
                int err = 0;
                if (!v[i].autostart)
                        continue;
                n_auto++;
                if (v[i].active)
                        o = HD_OUTCOME_UNCHANGED;
                else if (!parent_present(ctx, v[i].parent)) {
                        o = HD_OUTCOME_SKIPPED;
                        log_info(ctx, "mdev %s: parent %s is not present, not started", v[i].uuid, v[i].parent);
                } else {
                        r = hd_mdev_create_full(ctx, v[i].parent, v[i].type, v[i].uuid, v[i].attrs, v[i].n_attrs,
                                                dry_run ? HD_MDEV_CREATE_DRY_RUN : 0, NULL);
                        if (r >= 0)
                                o = dry_run ? HD_OUTCOME_PLANNED : HD_OUTCOME_DONE;
                        else {
                                o = HD_OUTCOME_FAILED;
                                err = r;
                                n_failed++;
                                log_info(ctx, "mdev %s on %s: %s", v[i].uuid, strempty(v[i].parent), strerror(-r));
                                if (!first_err)
                                        first_err = r;
                        }
                }
                r = hd_result_add_step(res, &(struct hd_result_step_spec) {
                        .subject = v[i].uuid, .action = "start", .parent = strempty(v[i].parent),
                        .type = strempty(v[i].type), .outcome = o, .error = err });
                if (r < 0) {
                        hd_mdev_array_free(v, n);
                        return r;
                }
        }
        hd_mdev_array_free(v, n);
        if (first_err)
                hd_result_fail(res, ctx, first_err, "%zu of %zu auto-start mediated devices %s", n_failed, n_auto,
                               dry_run ? "could not be started" : "failed to start");
        *ret = TAKE_PTR(res);
        return 0;
}
