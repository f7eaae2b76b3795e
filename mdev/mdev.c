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
#include <stdarg.h>
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

_public_ int hd_uuid_generate(char **ret) {
        unsigned char b[16];
        size_t got = 0;

        if (!ret)
                return -EINVAL;
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
        if (hd_asprintf(ret, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                        b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                        b[14], b[15]) < 0)
                return -ENOMEM;
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
        free(m->uuid);
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
        free(m->uuid);
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
        dst->active = src->active;
        dst->defined = src->defined;
        dst->autostart = src->autostart;
        dst->iommu_group = src->iommu_group;
        if ((src->uuid && !(dst->uuid = strdup(src->uuid))) || (src->parent && !(dst->parent = strdup(src->parent))) ||
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
        char path[PATH_MAX];
        _cleanup_free_ char *text = NULL, *err = NULL;
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
        r = hd_mdev_json_parse(text, m, &err);
        if (r < 0) {
                log_warn(ctx, "%s: invalid mdev definition: %s", path, err ?: strerror(-r));
                hd_mdev_free(m);
                return r;
        }
        m->uuid = strdup(uuid);
        m->parent = strdup(parent);
        if (!m->uuid || !m->parent) {
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

/* The definitions in @dir's directory @parent, appended to *v; malformed
 * ones are skipped with a warning, a directory that cannot be read has
 * none. */
static int defs_load_dir(hd_ctx *ctx, const char *dir, const char *parent, hd_mdev **v, size_t *n) {
        _cleanup_closedir_ DIR *pd = NULL;
        struct dirent *fe;
        char pdir[PATH_MAX];
        int r;

        if (parent[0] == '.' || streq(parent, "scripts.d"))
                return 0;
        if (snprintf(pdir, sizeof(pdir), "%s/%s", dir, parent) >= (int) sizeof(pdir))
                return 0;
        pd = opendir(pdir);
        if (!pd)
                return 0;
        while ((fe = readdir(pd))) {
                char uuid[37];
                hd_mdev *m = NULL;
                if (hd_mdev_uuid_norm(fe->d_name, uuid) < 0)
                        continue; /* temporary files, editor backups */
                if (!streq(uuid, fe->d_name))
                        continue; /* mdevctl writes lower case only */
                r = hd_mdev_def_read(ctx, parent, uuid, &m);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        continue;
                r = push_mdev(v, n, m);
                free(m);
                if (r < 0)
                        return r;
        }
        return 0;
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
                r = defs_load_dir(ctx, dir, de->d_name, &v, &n);
                if (r < 0) {
                        hd_mdev_array_free(v, n);
                        return r;
                }
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static int cmp_mdev(const void *a, const void *b);

int hd_mdev_defs_load_parent(hd_ctx *ctx, const char *parent, hd_mdev **ret, size_t *ret_n) {
        _cleanup_free_ char *dir = NULL;
        hd_mdev *v = NULL;
        size_t n = 0;
        int r;

        r = hd_mdev_config_dir(ctx, &dir);
        if (r < 0)
                return r;
        r = defs_load_dir(ctx, dir, parent, &v, &n);
        if (r < 0) {
                hd_mdev_array_free(v, n);
                return r;
        }
        if (n > 1)
                qsort(v, n, sizeof(*v), cmp_mdev);
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
        m->active = true;
        m->iommu_group = -1;
        m->uuid = strdup(uuid);
        if (!m->uuid)
                return -ENOMEM;
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

/* hd_mdev_resolve_parent without the context's error */
static int resolve_parent(hd_ctx *ctx, const char *spec, char **ret) {
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

#define INVALID_TEXT "invalid argument (a UUID is 8-4-4-4-12 hex digits; names may not contain '/')"

/* The reason of a failed resolve_parent(): its error set (ENODEV, EINVAL)
 * on @ctx, as for hd_mdev_resolve_parent(); returns @r. */
static int parent_error(hd_ctx *ctx, int r, const char *spec) {
        if (r == -ENODEV)
                return hd_error(ctx, r, "'%s' is not a mediated-device parent on this host (see 'hostdevctl mdev types')",
                                spec);
        if (r == -EINVAL)
                return hd_error(ctx, r, INVALID_TEXT);
        return r;
}

_public_ int hd_mdev_resolve_parent(hd_ctx *ctx, const char *spec, char **ret) {
        int r;

        hd_error_clear(ctx);
        r = resolve_parent(ctx, spec, ret);
        return r < 0 ? parent_error(ctx, r, spec) : r;
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
        hd_error_clear(ctx);
        if (parent) {
                r = resolve_parent(ctx, parent, &addr);
                if (r < 0)
                        return parent_error(ctx, r, parent);
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
        return c ? c : strcmp(strempty(x->uuid), strempty(y->uuid));
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
                        if (v[j].active && streq_ptr(v[j].uuid, defs[i].uuid) && streq_ptr(v[j].parent, defs[i].parent)) {
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

#define NOT_PARENT_FMT "'%s' is not a mediated-device parent on this host (see 'hostdevctl mdev types')"
#define UNKNOWN_TYPE_FMT "unknown mdev type '%s' for parent %s (see 'hostdevctl mdev types %s')"
#define NOT_DEFINED_FMT "%s is not defined (see 'hostdevctl mdev list --defined')"
#define SEVERAL_FMT "%s is defined under several parents; give --parent"

_public_ int hd_mdev_get(hd_ctx *ctx, const char *uuid_in, const char *parent, hd_mdev **ret) {
        _cleanup_free_ char *paddr = NULL;
        hd_mdev *v = NULL, *found = NULL;
        char uuid[37];
        size_t n = 0;
        int r;

        if (!ctx || !ret)
                return -EINVAL;
        hd_error_clear(ctx);
        r = hd_mdev_uuid_norm(strempty(uuid_in), uuid);
        if (r < 0)
                return hd_error(ctx, r, INVALID_TEXT);
        if (parent) {
                r = parent_arg(ctx, parent, &paddr);
                if (r < 0)
                        return r == -EINVAL ? hd_error(ctx, r, INVALID_TEXT) : r;
        }
        r = hd_mdev_list(ctx, 0, &v, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                if (!streq_ptr(v[i].uuid, uuid) || (paddr && !streq_ptr(v[i].parent, paddr)))
                        continue;
                if (found) {
                        hd_mdev_array_free(v, n);
                        return hd_error(ctx, -ENOTUNIQ, SEVERAL_FMT, uuid_in);
                }
                found = &v[i];
        }
        if (!found) {
                hd_mdev_array_free(v, n);
                return hd_error(ctx, -ENODEV, "no mediated device %s", uuid_in);
        }
        r = hd_mdev_copy(found, ret);
        hd_mdev_array_free(v, n);
        return r;
}

/* ---- one operation, one result ---- */

/* An operation on one mdev: its step (what it learns on the way) and
 * where its refusal or failure goes. */
struct op {
        hd_ctx *ctx;
        hd_result *res;         /* NULL: reasons are only logged (apply) */
        char *uuid, *parent, *type;
};

static void op_done(struct op *o) {
        free(o->uuid);
        free(o->parent);
        free(o->type);
        hd_result_unref(o->res);
}

/* The step's field @f becomes @v (a copy; NULL keeps it). */
static int op_set(char **f, const char *v) {
        char *c;
        if (!v)
                return 0;
        c = strdup(v);
        if (!c)
                return -ENOMEM;
        free(*f);
        *f = c;
        return 0;
}

/* Refusal or failure @r with its reason, where it is detected; returns @r. */
_printf_(3, 4) static int op_fail(struct op *o, int r, const char *fmt, ...) {
        _cleanup_free_ char *text = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (hd_vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        va_end(ap);
        if (o->res)
                hd_result_fail(o->res, o->ctx, r, "%s", strempty(text));
        else
                log_debug(o->ctx, "%s", strempty(text));
        return r;
}

static int op_begin(struct op *o, hd_ctx *ctx) {
        *o = (struct op) { .ctx = ctx };
        return hd_result_new(HD_RESULT_MDEV, &o->res);
}

/* The one step of @o's result (outcome from @r), handed to *ret. */
static int op_finish(struct op *o, const char *action, int r, bool dry_run, hd_result **ret) {
        int k;

        if (r == -ENOMEM) {
                op_done(o);
                return r;
        }
        if (r < 0 && hd_result_get_status(o->res) == 0)
                hd_result_set_status(o->res, r);
        k = hd_result_add_step(o->res, &(struct hd_result_step_spec) {
                .subject = o->uuid, .action = action, .parent = o->parent, .type = o->type,
                .outcome = r < 0 ? HD_OUTCOME_FAILED : dry_run ? HD_OUTCOME_PLANNED : HD_OUTCOME_DONE,
                .error = r < 0 ? r : 0, .error_text = r < 0 ? hd_result_get_reason(o->res) : NULL });
        if (k < 0) {
                op_done(o);
                return k;
        }
        *ret = TAKE_PTR(o->res);
        op_done(o);
        return 0;
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

/* The body of hd_mdev_create: @parent as the user gave it (the reasons
 * name it so), @uuid_in NULL for a random UUID. */
static int create_impl(struct op *o, const char *parent, const char *type, const char *uuid_in,
                       const hd_mdev_attr *attrs, size_t n_attrs, unsigned flags) {
        hd_ctx *ctx = o->ctx;
        _cleanup_free_ char *paddr = NULL, *psys = NULL, *avail = NULL, *gen = NULL;
        char uuid[37], path[PATH_MAX];
        const char *label;
        long long a;
        int r;

        if (op_set(&o->parent, parent) < 0 || op_set(&o->type, type) < 0)
                return -ENOMEM;
        if (isempty(parent) || isempty(type) || (n_attrs && !attrs))
                return op_fail(o, -EINVAL, INVALID_TEXT);
        if (uuid_in) {
                if (hd_mdev_uuid_norm(uuid_in, uuid) < 0)
                        return op_fail(o, -EINVAL, INVALID_TEXT);
        } else {
                r = hd_uuid_generate(&gen);
                if (r < 0)
                        return r;
                hd_copy_str(uuid, sizeof(uuid), gen);
        }
        label = uuid_in ?: uuid;
        if (op_set(&o->uuid, uuid) < 0)
                return -ENOMEM;
        r = resolve_parent(ctx, parent, &paddr);
        if (r == -ENODEV)
                return op_fail(o, r, NOT_PARENT_FMT, parent);
        if (r == -EINVAL)
                return op_fail(o, r, INVALID_TEXT);
        if (r < 0)
                return r;
        if (op_set(&o->parent, paddr) < 0)
                return -ENOMEM;
        if (!type_present(ctx, paddr, type))
                return op_fail(o, -ENOENT, UNKNOWN_TYPE_FMT, type, parent, parent);
        if (mdev_active(ctx, uuid))
                return op_fail(o, -EEXIST, "mediated device %s exists already", label);
        snprintf(path, sizeof(path), "sys/class/mdev_bus/%s/mdev_supported_types", paddr);
        avail = read_type_attr(ctx, path, type, "available_instances", false);
        if (avail && hd_safe_atoll(avail, 10, &a) >= 0 && a <= 0)
                return op_fail(o, -ENOSPC, "no available instances of %s on %s", type, parent);
        snprintf(path, sizeof(path), "sys/class/mdev_bus/%s", paddr);
        r = hd_sysfs_resolve_link(ctx, path, &psys);
        if (r < 0)
                return r == -ENOMEM ? r : op_fail(o, -ENODEV, NOT_PARENT_FMT, parent);
        if (flags & HD_MDEV_CREATE_DRY_RUN)
                return 0; /* every check passed; attributes can only be tried on a real device */
        snprintf(path, sizeof(path), "%s/mdev_supported_types/%s/create", psys, type);
        r = hd_sysfs_write(ctx, path, uuid);
        if (r < 0) {
                log_debug(ctx, "cannot create mdev %s of type %s on %s: %s", uuid, type, paddr, strerror(-r));
                switch (r) {
                case -EEXIST: return op_fail(o, r, "mediated device %s exists already", label);
                case -ENOSPC: return op_fail(o, r, "no available instances of %s on %s", type, parent);
                case -EINVAL: return op_fail(o, r, INVALID_TEXT);
                case -ENODEV: return op_fail(o, r, NOT_PARENT_FMT, parent);
                case -EBUSY: return op_fail(o, r, "mediated device %s is in use; nothing changed", label);
                default: return r;
                }
        }
        snprintf(path, sizeof(path), "%s/%s", psys, uuid);
        r = write_attrs(ctx, path, attrs, n_attrs);
        if (r < 0) {
                int k = do_remove(ctx, uuid);
                if (k < 0)
                        log_warn(ctx, "cannot remove %s again: %s", uuid, strerror(-k));
                if (r == -ENXIO)
                        return op_fail(o, r, "the new device has no such attribute (see its type's driver); it was removed again");
                if (r == -EINVAL)
                        return op_fail(o, r, INVALID_TEXT);
                return r;
        }
        log_info(ctx, "created mdev %s (%s on %s)", uuid, type, paddr);
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

/* The body of hd_mdev_remove; @name: the mdev in the reasons (its UUID as
 * given, or its node-device name). */
static int remove_impl(struct op *o, const char *uuid_in, const char *name) {
        hd_ctx *ctx = o->ctx;
        _cleanup_free_ char *why = NULL;
        char uuid[37];
        hd_mdev live = {};
        int pid = 0, r;

        if (hd_mdev_uuid_norm(strempty(uuid_in), uuid) < 0)
                return op_fail(o, -EINVAL, INVALID_TEXT);
        if (op_set(&o->uuid, uuid) < 0)
                return -ENOMEM;
        if (!mdev_active(ctx, uuid))
                return op_fail(o, -ENODEV, "no mediated device %s", uuid_in);
        r = active_load(ctx, uuid, &live);
        if (r >= 0 && (op_set(&o->parent, live.parent) < 0 || op_set(&o->type, live.type) < 0))
                r = -ENOMEM;
        hd_mdev_clear(&live);
        if (r == -ENOMEM)
                return r;
        r = hd_mdev_in_use(ctx, uuid, &pid);
        if (r == -ENODEV)
                return op_fail(o, r, "no mediated device %s", uuid_in);
        if (r < 0)
                return r;
        if (r > 0)
                return op_fail(o, -EBUSY, "%s is in use: process %d has its VFIO group open; nothing changed", name, pid);
        if (hd_ctx_check_in_use(ctx, "mdev", uuid, false, &why) == -EBUSY) {
                log_err(ctx, "%s", why);
                return op_fail(o, -EBUSY,
                               "%s is in use (by the domain named above, or the kernel refused to remove it); nothing changed",
                               name);
        }
        r = do_remove(ctx, uuid);
        if (r == -EBUSY)
                return op_fail(o, r,
                               "%s is in use (by the domain named above, or the kernel refused to remove it); nothing changed",
                               name);
        if (r == -ENODEV)
                return op_fail(o, r, "no mediated device %s", uuid_in);
        if (r < 0) {
                log_debug(ctx, "cannot remove mdev %s: %s", uuid, strerror(-r));
                return r;
        }
        log_info(ctx, "removed mdev %s", uuid);
        return 0;
}

/* ---- definitions ---- */

/* the address of a parent given by the user: a present parent in any
 * spelling, else the string itself (definitions may name absent parents) */
static int parent_arg(hd_ctx *ctx, const char *parent, char **ret) {
        if (resolve_parent(ctx, parent, ret) >= 0)
                return 0;
        if (!hd_mdev_name_ok(parent))
                return -EINVAL;
        *ret = strdup(parent);
        return *ret ? 0 : -ENOMEM;
}

/* the single definition of @uuid_in (under @parent when given); with @o,
 * the reasons of -EINVAL, -ENODEV and -ENOTUNIQ on it */
static int def_find(struct op *o, hd_ctx *ctx, const char *uuid_in, const char *parent, hd_mdev **ret) {
        _cleanup_free_ char *paddr = NULL;
        hd_mdev *v = NULL, *found = NULL;
        size_t n = 0;
        char uuid[37];
        int r;

        r = hd_mdev_uuid_norm(strempty(uuid_in), uuid);
        if (r < 0)
                return o ? op_fail(o, r, INVALID_TEXT) : r;
        if (o && op_set(&o->uuid, uuid) < 0)
                return -ENOMEM;
        if (parent) {
                r = parent_arg(ctx, parent, &paddr);
                if (r < 0)
                        return o && r == -EINVAL ? op_fail(o, r, INVALID_TEXT) : r;
        }
        /* the definitions themselves, not merged with the running devices */
        r = defs_load(ctx, &v, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (streq_ptr(v[i].uuid, uuid) && (!paddr || streq_ptr(v[i].parent, paddr))) {
                        if (found) {
                                hd_mdev_array_free(v, n);
                                return o ? op_fail(o, -ENOTUNIQ, SEVERAL_FMT, uuid_in) : -ENOTUNIQ;
                        }
                        found = &v[i];
                }
        r = found ? hd_mdev_copy(found, ret) : o ? op_fail(o, -ENODEV, NOT_DEFINED_FMT, uuid_in) : -ENODEV;
        hd_mdev_array_free(v, n);
        if (r >= 0 && o && (op_set(&o->parent, (*ret)->parent) < 0 || op_set(&o->type, (*ret)->type) < 0)) {
                hd_mdev_free(*ret);
                return -ENOMEM;
        }
        return r;
}

static int define_impl(struct op *o, hd_mdev *m, unsigned flags) {
        hd_ctx *ctx = o->ctx;
        _cleanup_free_ char *paddr = NULL, *gen = NULL;
        const char *label;
        hd_mdev copy = {};
        hd_mdev *old = NULL;
        char uuid[37];
        int r;

        if (m->uuid) {
                if (hd_mdev_uuid_norm(m->uuid, uuid) < 0)
                        return op_fail(o, -EINVAL, INVALID_TEXT);
        } else {
                r = hd_uuid_generate(&gen);
                if (r < 0)
                        return r;
                hd_copy_str(uuid, sizeof(uuid), gen);
        }
        label = m->uuid ?: uuid;
        if (op_set(&o->uuid, uuid) < 0)
                return -ENOMEM;
        /* a running device: defaults from it */
        if ((!m->parent || !m->type) && mdev_active(ctx, uuid)) {
                hd_mdev live;
                r = active_load(ctx, uuid, &live);
                if (r < 0) {
                        hd_mdev_clear(&live);
                        return r;
                }
                if (!m->parent)
                        m->parent = TAKE_PTR(live.parent);
                if (!m->type)
                        m->type = TAKE_PTR(live.type);
                hd_mdev_clear(&live);
        }
        if (op_set(&o->parent, m->parent) < 0 || op_set(&o->type, m->type) < 0)
                return -ENOMEM;
        if (!m->parent || !m->type)
                return op_fail(o, -EDESTADDRREQ, "give --parent and --type (or the UUID of a running mdev)");
        if (resolve_parent(ctx, m->parent, &paddr) >= 0) {
                if (!type_present(ctx, paddr, m->type))
                        return op_fail(o, -ENOENT, UNKNOWN_TYPE_FMT, m->type, m->parent, m->parent);
        } else {
                /* definitions for parents that come later are allowed, as mdevctl does */
                if (!hd_mdev_name_ok(m->parent) || !hd_mdev_name_ok(m->type))
                        return op_fail(o, -EINVAL, INVALID_TEXT);
                paddr = strdup(m->parent);
                if (!paddr)
                        return -ENOMEM;
        }
        if (op_set(&o->parent, paddr) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_attrs; i++)
                if (!hd_mdev_name_ok(m->attrs[i].name) || strstr(m->attrs[i].name, ".."))
                        return op_fail(o, -EINVAL, INVALID_TEXT);
        r = def_find(NULL, ctx, uuid, NULL, &old);
        if (r >= 0 || r == -ENOTUNIQ) {
                /* another parent's, or several: never replaced */
                bool replace = r >= 0 && streq_ptr(old->parent, paddr) && (flags & HD_MDEV_DEFINE_REPLACE);
                hd_mdev_free(old);
                if (!replace)
                        return flags & HD_MDEV_DEFINE_REPLACE
                                       ? op_fail(o, -EEXIST, "mediated device %s exists already", label)
                                       : op_fail(o, -EEXIST, "%s is already defined (use 'mdev modify')", label);
        } else if (r != -ENODEV)
                return r;

        r = hd_mdev_copy_into(m, &copy);
        if (r < 0)
                return r;
        free(copy.uuid);
        free(copy.parent);
        copy.uuid = strdup(uuid);
        copy.parent = strdup(paddr);
        r = copy.uuid && copy.parent ? def_write(ctx, &copy) : -ENOMEM;
        if (r >= 0) {
                free(m->uuid);
                free(m->parent);
                m->uuid = TAKE_PTR(copy.uuid);
                m->parent = TAKE_PTR(copy.parent);
                m->defined = true;
        }
        hd_mdev_clear(&copy);
        return r;
}

static int undefine_impl(struct op *o, const char *uuid, const char *parent) {
        char path[PATH_MAX];
        hd_mdev *m = NULL;
        int r;

        r = def_find(o, o->ctx, uuid, parent, &m);
        if (r < 0)
                return r;
        r = def_path(o->ctx, m->parent, m->uuid, path, sizeof(path));
        if (r >= 0 && unlink(path) < 0)
                r = negative_errno();
        if (r < 0)
                log_err(o->ctx, "cannot remove %s: %s", path, strerror(-r));
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

static int start_impl(struct op *o, const char *uuid, const char *parent) {
        hd_mdev *m = NULL;
        int r;

        r = def_find(o, o->ctx, uuid, parent, &m);
        if (r < 0)
                return r;
        if (mdev_active(o->ctx, m->uuid))
                r = op_fail(o, -EALREADY, "mediated device %s is already running", uuid);
        else
                r = create_impl(o, m->parent, m->type, m->uuid, m->attrs, m->n_attrs, 0);
        hd_mdev_free(m);
        return r;
}

static int modify_impl(struct op *o, const char *uuid, const char *parent, const hd_mdev_modify *mod) {
        hd_ctx *ctx = o->ctx;
        hd_mdev *m = NULL;
        int r;

        r = def_find(o, ctx, uuid, parent, &m);
        if (r < 0)
                return r;
        if (mod->type) {
                if (parent_present(ctx, m->parent) && !type_present(ctx, m->parent, mod->type)) {
                        r = op_fail(o, -ENOENT, UNKNOWN_TYPE_FMT, mod->type, m->parent, m->parent);
                        goto out;
                }
                if (!hd_mdev_name_ok(mod->type)) {
                        r = op_fail(o, -EINVAL, INVALID_TEXT);
                        goto out;
                }
                free(m->type);
                m->type = strdup(mod->type);
                if (!m->type || op_set(&o->type, mod->type) < 0) {
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
                        r = op_fail(o, -ENOENT, "%s has no such attribute; nothing changed", uuid);
                        goto out;
                }
        }
        for (size_t i = 0; i < mod->n_add_attrs; i++) {
                if (!hd_mdev_name_ok(mod->add_attrs[i].name) || strstr(mod->add_attrs[i].name, "..")) {
                        r = op_fail(o, -EINVAL, INVALID_TEXT);
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

/* ---- the public operations ---- */

enum op_kind { OP_CREATE, OP_REMOVE, OP_DEFINE, OP_UNDEFINE, OP_START, OP_MODIFY, OP_DEVICE };
enum device_action { DEVICE_DESTROY, DEVICE_UNDEFINE, DEVICE_START, DEVICE_AUTOSTART, DEVICE_NO_AUTOSTART };

struct op_args {
        enum op_kind kind;
        const char *action;     /* of the step */
        const char *parent, *type, *uuid;
        const hd_mdev_attr *attrs;
        size_t n_attrs;
        unsigned flags;
        hd_mdev *m;
        const hd_mdev_modify *mod;
        hd_device *d;
        enum device_action what;
};

static int device_impl(struct op *o, hd_device *d, enum device_action what);

/* One operation on @ctx and its result. */
static int run_op(hd_ctx *ctx, const struct op_args *a, hd_result **ret) {
        struct op o;
        int r;

        if (!ctx || !ret)
                return -EINVAL;
        r = op_begin(&o, ctx);
        if (r >= 0)
                switch (a->kind) {
                case OP_CREATE:
                        r = create_impl(&o, a->parent, a->type, a->uuid, a->attrs, a->n_attrs, a->flags);
                        break;
                case OP_REMOVE: r = remove_impl(&o, a->uuid, a->uuid); break;
                case OP_DEFINE: r = define_impl(&o, a->m, a->flags); break;
                case OP_UNDEFINE: r = undefine_impl(&o, a->uuid, a->parent); break;
                case OP_START: r = start_impl(&o, a->uuid, a->parent); break;
                case OP_MODIFY: r = modify_impl(&o, a->uuid, a->parent, a->mod); break;
                case OP_DEVICE: r = device_impl(&o, a->d, a->what); break;
                }
        return op_finish(&o, a->action, r, a->kind == OP_CREATE && (a->flags & HD_MDEV_CREATE_DRY_RUN), ret);
}

_public_ int hd_mdev_create(hd_ctx *ctx, const char *parent, const char *type, const char *uuid_in,
                            const hd_mdev_attr *attrs, size_t n_attrs, unsigned flags, hd_result **ret) {
        return run_op(ctx, &(struct op_args) { OP_CREATE, "create", .parent = parent, .type = type, .uuid = uuid_in,
                                               .attrs = attrs, .n_attrs = n_attrs, .flags = flags }, ret);
}

_public_ int hd_mdev_remove(hd_ctx *ctx, const char *uuid, hd_result **ret) {
        return run_op(ctx, &(struct op_args) { OP_REMOVE, "remove", .uuid = uuid }, ret);
}

_public_ int hd_mdev_define(hd_ctx *ctx, hd_mdev *m, unsigned flags, hd_result **ret) {
        return m ? run_op(ctx, &(struct op_args) { OP_DEFINE, "define", .m = m, .flags = flags }, ret) : -EINVAL;
}

_public_ int hd_mdev_undefine(hd_ctx *ctx, const char *uuid, const char *parent, hd_result **ret) {
        return run_op(ctx, &(struct op_args) { OP_UNDEFINE, "undefine", .uuid = uuid, .parent = parent }, ret);
}

_public_ int hd_mdev_start(hd_ctx *ctx, const char *uuid, const char *parent, hd_result **ret) {
        return run_op(ctx, &(struct op_args) { OP_START, "start", .uuid = uuid, .parent = parent }, ret);
}

_public_ int hd_mdev_modify_definition(hd_ctx *ctx, const char *uuid, const char *parent, const hd_mdev_modify *mod,
                                       hd_result **ret) {
        return mod ? run_op(ctx, &(struct op_args) { OP_MODIFY, "modify", .uuid = uuid, .parent = parent, .mod = mod }, ret)
                   : -EINVAL;
}

_public_ int hd_mdev_set_autostart(hd_ctx *ctx, const char *uuid, const char *parent, bool autostart,
                                   hd_result **ret) {
        hd_mdev_modify mod = { .autostart = autostart ? 1 : 0 };
        return hd_mdev_modify_definition(ctx, uuid, parent, &mod, ret);
}

/* ---- the same on node devices (libvirt's nodedev-* verbs) ---- */

static int device_impl(struct op *o, hd_device *d, enum device_action what) {
        const char *name = hd_device_get_name(d);
        hd_mdev *m = NULL;
        int r;

        if (hd_device_get_cap_type(d) != HD_CAP_MDEV)
                return op_fail(o, -EOPNOTSUPP, "%s is a %s device; only mediated devices are supported", name,
                               hd_cap_type_to_string(hd_device_get_cap_type(d)));
        r = hd_device_get_mdev(d, &m);
        if (r < 0)
                return r == -ENOMEM ? r : op_fail(o, r, "%s: %s", name, strerror(-r));
        if (op_set(&o->uuid, m->uuid) < 0 || op_set(&o->parent, m->parent) < 0 || op_set(&o->type, m->type) < 0)
                r = -ENOMEM;
        else
                switch (what) {
                case DEVICE_DESTROY:
                        r = !m->active ? op_fail(o, -ENODEV, "%s is not active", name) : remove_impl(o, m->uuid, name);
                        break;
                case DEVICE_UNDEFINE:
                        r = !m->defined ? op_fail(o, -ENODEV, "%s is not a persistent (defined) device", name)
                                        : undefine_impl(o, m->uuid, m->parent);
                        break;
                case DEVICE_START:
                        r = m->active ? op_fail(o, -EALREADY, "%s is already active", name)
                                      : start_impl(o, m->uuid, m->parent);
                        break;
                case DEVICE_AUTOSTART:
                case DEVICE_NO_AUTOSTART:
                        if (!m->defined)
                                r = op_fail(o, -ENODEV, "%s is not a persistent (defined) device; cannot set autostart",
                                            name);
                        else
                                r = modify_impl(o, m->uuid, m->parent,
                                                &(hd_mdev_modify) { .autostart = what == DEVICE_AUTOSTART });
                        break;
                }
        hd_mdev_free(m);
        return r;
}

static int device_op(hd_device *d, enum device_action what, const char *action, hd_result **ret) {
        return d ? run_op(hd_device_get_ctx(d), &(struct op_args) { OP_DEVICE, action, .d = d, .what = what }, ret)
                 : -EINVAL;
}

_public_ int hd_mdev_device_destroy(hd_device *d, hd_result **ret) {
        return device_op(d, DEVICE_DESTROY, "remove", ret);
}

_public_ int hd_mdev_device_undefine(hd_device *d, hd_result **ret) {
        return device_op(d, DEVICE_UNDEFINE, "undefine", ret);
}

_public_ int hd_mdev_device_start(hd_device *d, hd_result **ret) {
        return device_op(d, DEVICE_START, "start", ret);
}

_public_ int hd_mdev_device_set_autostart(hd_device *d, bool autostart, hd_result **ret) {
        return device_op(d, autostart ? DEVICE_AUTOSTART : DEVICE_NO_AUTOSTART, "modify", ret);
}

/* ---- apply ---- */

_public_ int hd_mdev_apply(hd_ctx *ctx, hd_result **ret) {
        return hd_mdev_apply_full(ctx, 0, ret);
}

/* Start the auto-start definitions (of @only_parent alone, when not NULL)
 * into *ret; with @only_parent, 0 when it has none (*ret untouched), else 1. */
static int apply_auto(hd_ctx *ctx, const char *only_parent, unsigned flags, hd_result **ret) {
        _hd_cleanup_result_ hd_result *res = NULL;
        bool dry_run = flags & HD_MDEV_APPLY_DRY_RUN;
        hd_mdev *v = NULL;
        size_t n = 0, n_auto = 0, n_failed = 0;
        int r, first_err = 0;

        r = hd_result_new(HD_RESULT_MDEV_APPLY, &res);
        if (r < 0)
                return r;
        r = hd_mdev_list(ctx, HD_MDEV_LIST_DEFINED, &v, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                enum hd_outcome o;
                int err = 0;
                if (!v[i].autostart || (only_parent && !streq_ptr(v[i].parent, only_parent)))
                        continue;
                n_auto++;
                if (v[i].active)
                        o = HD_OUTCOME_UNCHANGED;
                else if (!parent_present(ctx, v[i].parent)) {
                        o = HD_OUTCOME_SKIPPED;
                        log_info(ctx, "mdev %s: parent %s is not present, not started", v[i].uuid, v[i].parent);
                } else {
                        struct op op = { .ctx = ctx }; /* reasons logged, steps say strerror() */
                        r = create_impl(&op, v[i].parent, v[i].type, v[i].uuid, v[i].attrs, v[i].n_attrs,
                                        dry_run ? HD_MDEV_CREATE_DRY_RUN : 0);
                        op_done(&op);
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
        if (only_parent && n_auto == 0)
                return 0;
        if (first_err)
                hd_result_fail(res, ctx, first_err, "%zu of %zu auto-start mediated devices %s", n_failed, n_auto,
                               dry_run ? "could not be started" : "failed to start");
        *ret = TAKE_PTR(res);
        return only_parent ? 1 : 0;
}

_public_ int hd_mdev_apply_full(hd_ctx *ctx, unsigned flags, hd_result **ret) {
        if (!ctx || !ret)
                return -EINVAL;
        return apply_auto(ctx, NULL, flags, ret);
}

_public_ int hd_mdev_apply_parent(hd_ctx *ctx, const char *parent, unsigned flags, hd_result **ret) {
        if (!ctx || !ret || isempty(parent) || (flags & ~(unsigned) HD_MDEV_APPLY_DRY_RUN))
                return -EINVAL;
        if (!parent_present(ctx, parent))
                return 0;       /* not an mdev parent (yet): nothing to start on it */
        return apply_auto(ctx, parent, flags, ret);
}
