/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vGPU types behind one interface.  The kernel has two layouts:
 *   - mdev: <dev>/mdev_supported_types/<type>/ (Intel GVT-g, NVIDIA GRID
 *     before kernel 6.8, also on the VFs of SR-IOV GPUs), through mdev/;
 *   - NVIDIA per-VF (kernel >= 6.8): <VF>/nvidia/creatable_vgpu_types
 *     ("ID : vGPU Name" lines: the types this VF can take now) and
 *     <VF>/nvidia/current_vgpu_type (0 = none; write an ID to create,
 *     0 to remove).
 */
#include <ctype.h>
#include <limits.h>

#include "gpu/gpu-internal.h"
#include "mdev/mdev-internal.h"

_public_ const char *hd_vgpu_layout_to_string(enum hd_vgpu_layout l) {
        return l == HD_VGPU_MDEV ? "mdev" : l == HD_VGPU_NVIDIA_VF ? "nvidia-vf" : NULL;
}

struct nv_type {
        char id[16];
        char name[96];
};

static bool has_nvidia_vf(hd_device *d) {
        char path[PATH_MAX];
        return hd_device_attr_path(d, "nvidia/creatable_vgpu_types", path, sizeof(path)) >= 0 &&
               hd_sysfs_exists(hd_device_get_ctx(d), path);
}

static bool has_mdev_types(hd_device *d) {
        char path[PATH_MAX];
        return hd_device_attr_path(d, "mdev_supported_types", path, sizeof(path)) >= 0 &&
               hd_sysfs_is_dir(hd_device_get_ctx(d), path);
}

/* current_vgpu_type of a VF: 0 none, >0 a type id, <0 error */
static long nv_current(hd_device *vf) {
        long long v;
        int r = hd_device_read_attr_long(vf, "nvidia/current_vgpu_type", 10, &v);
        return r < 0 ? r : (long) v;
}

/* Parse creatable_vgpu_types: a header line, then "ID : Name" lines. */
static int nv_types(hd_device *vf, struct nv_type **ret, size_t *ret_n) {
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ struct nv_type *v = NULL;
        char path[PATH_MAX];
        size_t n = 0;
        int r;

        r = hd_device_attr_path(vf, "nvidia/creatable_vgpu_types", path, sizeof(path));
        if (r < 0)
                return r;
        r = hd_sysfs_read_full(hd_device_get_ctx(vf), path, &text, NULL);
        if (r < 0)
                return r;
        for (char *line = text, *next; line && *line; line = next) {
                char *colon, *id, *name;
                unsigned u;
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                colon = strchr(line, ':');
                if (!colon)
                        continue;
                *colon = 0;
                id = hd_strip_both(line);
                name = hd_strip_both(colon + 1);
                if (hd_safe_atou(id, 10, &u) < 0 || u == 0)
                        continue; /* the "ID : vGPU Name" header */
                struct nv_type *nt = realloc(v, (n + 1) * sizeof(*v));
                if (!nt)
                        return -ENOMEM;
                v = nt;
                snprintf(v[n].id, sizeof(v[n].id), "%u", u);
                snprintf(v[n].name, sizeof(v[n].name), "%s", name);
                n++;
        }
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

_public_ void hd_vgpu_types_free(hd_vgpu_type *v, size_t n) {
        for (size_t i = 0; v && i < n; i++) {
                free(v[i].parent);
                free(v[i].id);
                free(v[i].name);
        }
        free(v);
}

_public_ void hd_vgpu_free(hd_vgpu *v) {
        if (!v)
                return;
        free(v->id);
        free(v->parent);
        free(v->type);
        free(v);
}

static void vgpu_freep(hd_vgpu **v) { hd_vgpu_free(*v); }

static int vgpu_new(const char *id, const char *parent, const char *type, enum hd_vgpu_layout layout, hd_vgpu **ret) {
        _cleanup_(vgpu_freep) hd_vgpu *v = calloc(1, sizeof(*v));
        if (!v || !(v->id = strdup(id)) || !(v->parent = strdup(parent)) || !(v->type = strdup(type)))
                return -ENOMEM;
        v->layout = layout;
        *ret = TAKE_PTR(v);
        return 0;
}

static int push_type(hd_vgpu_type **v, size_t *n, const char *parent, const char *id, const char *name,
                     enum hd_vgpu_layout layout, long available) {
        hd_vgpu_type *nt;
        for (size_t i = 0; layout == HD_VGPU_NVIDIA_VF && i < *n; i++)
                if ((*v)[i].layout == layout && streq((*v)[i].parent, parent) && streq((*v)[i].id, id)) {
                        (*v)[i].available += available;
                        return 0;
                }
        nt = realloc(*v, (*n + 1) * sizeof(**v));
        if (!nt)
                return -ENOMEM;
        *v = nt;
        nt = &(*v)[(*n)++];
        *nt = (hd_vgpu_type) { .layout = layout, .available = available };
        if (!(nt->parent = strdup(parent)) || !(nt->id = strdup(id)) || (!isempty(name) && !(nt->name = strdup(name))))
                return -ENOMEM;
        return 0;
}

static int cmp_type(const void *a, const void *b) {
        const hd_vgpu_type *x = a, *y = b;
        int c = strcmp(x->parent, y->parent);
        if (c)
                return c;
        /* NVIDIA's ids are numbers */
        if (x->layout == HD_VGPU_NVIDIA_VF && y->layout == HD_VGPU_NVIDIA_VF && strlen(x->id) != strlen(y->id))
                return strlen(x->id) < strlen(y->id) ? -1 : 1;
        return strcmp(x->id, y->id);
}

static int no_types(hd_ctx *ctx, hd_device *d, int r) {
        return hd_error(ctx, r, "%s offers no vGPU types", hd_device_get_name(d));
}

_public_ int hd_vgpu_list_types(hd_nodedev_list *list, hd_device *d, hd_vgpu_type **ret, size_t *ret_n) {
        hd_ctx *ctx;
        hd_vgpu_type *v = NULL;
        size_t n = 0;
        int r = 0;

        if (!list || !ret || !ret_n)
                return -EINVAL;
        ctx = hd_nodedev_list_get_ctx(list);
        hd_error_clear(ctx);
        for (size_t i = 0; i < hd_nodedev_list_count(list) && r >= 0; i++) {
                hd_device *x = hd_nodedev_list_get(list, i);
                char pf[32] = "";
                bool is_vf;

                if (!hd_device_is_gpu(x))
                        continue;
                is_vf = hd_pci_physfn(x, pf, sizeof(pf)) >= 0;
                if (d && x != d && !(is_vf && streq(pf, hd_device_get_sysname(d))))
                        continue;
                if (has_mdev_types(x)) {
                        hd_mdev_type *t = NULL;
                        size_t nt = 0;
                        r = hd_mdev_list_types(ctx, hd_device_get_sysname(x), &t, &nt);
                        if (r < 0)
                                break;
                        for (size_t k = 0; k < nt && r >= 0; k++)
                                r = push_type(&v, &n, hd_device_get_sysname(x), t[k].id, t[k].name, HD_VGPU_MDEV,
                                              t[k].available);
                        hd_mdev_types_free(t, nt);
                }
                if (r >= 0 && has_nvidia_vf(x)) {
                        _cleanup_free_ struct nv_type *t = NULL;
                        size_t nt = 0;
                        long cur = nv_current(x);
                        /* aggregated per PF, unless the VF itself was asked for */
                        const char *parent = is_vf && x != d ? pf : hd_device_get_sysname(x);
                        if (nv_types(x, &t, &nt) < 0)
                                continue;
                        for (size_t k = 0; k < nt && r >= 0; k++)
                                r = push_type(&v, &n, parent, t[k].id, t[k].name, HD_VGPU_NVIDIA_VF, cur == 0 ? 1 : 0);
                }
        }
        if (r < 0) {
                hd_vgpu_types_free(v, n);
                return r;
        }
        if (d && n == 0 && !has_mdev_types(d)) {
                free(v);
                return no_types(ctx, d, -ENODEV);
        }
        if (n > 1)
                qsort(v, n, sizeof(*v), cmp_type);
        *ret = v;
        *ret_n = n;
        return 0;
}

/* The VFs a create on @d may use: @d itself (a VF), or @d's VFs in index
 * order (a PF). */
static int candidate_vfs(hd_nodedev_list *list, hd_device *d, hd_device ***ret, size_t *ret_n) {
        _cleanup_free_ hd_device **v = NULL;
        size_t n = 0;

        if (has_nvidia_vf(d)) {
                v = calloc(1, sizeof(*v));
                if (!v)
                        return -ENOMEM;
                v[n++] = d;
        } else
                for (unsigned idx = 0; idx < 4096; idx++) {
                        _cleanup_free_ char *target = NULL;
                        char attr[32], path[PATH_MAX];
                        hd_device *vf;
                        hd_device **nv;
                        snprintf(attr, sizeof(attr), "virtfn%u", idx);
                        if (hd_device_attr_path(d, attr, path, sizeof(path)) < 0 ||
                            hd_sysfs_readlink(hd_nodedev_list_get_ctx(list), path, &target) < 0)
                                break;
                        if (hd_nodedev_list_lookup(list, hd_path_basename(target), &vf) < 0 || !has_nvidia_vf(vf))
                                continue;
                        nv = realloc(v, (n + 1) * sizeof(*v));
                        if (!nv)
                                return -ENOMEM;
                        v = nv;
                        v[n++] = vf;
                }
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

/* -ENOENT (or @r): @type is not one of @d's */
static int unknown_type(hd_ctx *ctx, hd_device *d, const char *type, int r) {
        return hd_error(ctx, r, "unknown vGPU type '%s' for %s (see 'hostdevctl vgpu types %s')", type,
                        hd_device_get_name(d), hd_device_get_name(d));
}

static int none_left(hd_ctx *ctx, hd_device *d, const char *type) {
        return hd_error(ctx, -ENOSPC, "no instance of vGPU type '%s' left on %s", type, hd_device_get_name(d));
}

_public_ int hd_vgpu_create(hd_nodedev_list *list, hd_device *d, const char *type, hd_vgpu **ret) {
        _cleanup_free_ hd_device **vfs = NULL;
        hd_ctx *ctx;
        size_t nvf = 0;
        bool known = false;
        int r;

        if (!list || !d || !type || !ret)
                return -EINVAL;
        ctx = hd_nodedev_list_get_ctx(list);
        hd_error_clear(ctx);
        if (hd_device_get_cap_type(d) != HD_CAP_PCI)
                return no_types(ctx, d, -EINVAL);
        if (!*type)
                return unknown_type(ctx, d, type, -EINVAL);
        if (has_nvidia_vf(d) && nv_current(d) != 0)
                return hd_error(ctx, -EEXIST, "%s has a vGPU already (see 'hostdevctl vgpu remove')",
                                hd_device_get_name(d));
        r = candidate_vfs(list, d, &vfs, &nvf);
        if (r < 0)
                return r;
        for (size_t i = 0; i < nvf; i++) {
                _cleanup_free_ struct nv_type *t = NULL;
                size_t nt = 0;
                if (nv_types(vfs[i], &t, &nt) < 0)
                        continue;
                for (size_t k = 0; k < nt; k++) {
                        char path[PATH_MAX], pf[32] = "";
                        if (!streq(t[k].id, type) && !streq(t[k].name, type))
                                continue;
                        known = true;
                        if (nv_current(vfs[i]) != 0)
                                break;
                        hd_pci_path(path, sizeof(path), hd_device_get_sysname(vfs[i]), "nvidia/current_vgpu_type");
                        r = hd_sysfs_write(ctx, path, t[k].id);
                        if (r < 0)
                                return hd_error(ctx, r, "%s: writing %s to current_vgpu_type failed: %s",
                                                hd_device_get_sysname(vfs[i]), t[k].id, strerror(-r));
                        (void) hd_pci_physfn(vfs[i], pf, sizeof(pf));
                        return vgpu_new(hd_device_get_sysname(vfs[i]), pf[0] ? pf : hd_device_get_sysname(vfs[i]),
                                        t[k].id, HD_VGPU_NVIDIA_VF, ret);
                }
        }
        if (nvf > 0) {
                /* a VF that has a type lists none: known ids come from the others */
                return known ? none_left(ctx, d, type) : unknown_type(ctx, d, type, -ENOENT);
        }
        if (has_mdev_types(d)) {
                _hd_cleanup_result_ hd_result *mr = NULL;
                r = hd_mdev_create(ctx, hd_device_get_sysname(d), type, NULL, NULL, 0, 0, &mr);
                if (r >= 0)
                        r = hd_result_get_status(mr);
                /* the mdev module's failures in the words of vGPUs */
                if (r == -ENOENT)
                        return unknown_type(ctx, d, type, r);
                if (r == -ENOSPC)
                        return none_left(ctx, d, type);
                if (r == -ENODEV || r == -EINVAL)
                        return no_types(ctx, d, r);
                if (r < 0)
                        return hd_error(ctx, r, "%s", hd_result_get_reason(mr) ?: strerror(-r));
                return vgpu_new(hd_result_step_get_subject(hd_result_get_step(mr, 0)), hd_device_get_sysname(d), type,
                                HD_VGPU_MDEV, ret);
        }
        return no_types(ctx, d, -ENODEV);
}

static int no_vgpu(hd_ctx *ctx, const char *id, int r) {
        return hd_error(ctx, r, "no vGPU '%s'", id);
}

static int in_use(hd_ctx *ctx, const char *id) {
        return hd_error(ctx, -EBUSY, "%s is in use (its VFIO group is open); nothing changed", id);
}

_public_ int hd_vgpu_remove(hd_nodedev_list *list, const char *id) {
        hd_ctx *ctx;
        hd_device *vf;
        char path[PATH_MAX], node[64];
        int group, pid = 0, r;
        long cur;

        if (!list || !id)
                return -EINVAL;
        ctx = hd_nodedev_list_get_ctx(list);
        hd_error_clear(ctx);
        if (!*id)
                return no_vgpu(ctx, id, -EINVAL);
        if (hd_uuid_is_valid(id)) {
                _hd_cleanup_result_ hd_result *mr = NULL;
                r = hd_mdev_remove(ctx, id, &mr);
                if (r >= 0)
                        r = hd_result_get_status(mr);
                if (r == -EBUSY)
                        return in_use(ctx, id);
                if (r == -ENODEV)
                        return no_vgpu(ctx, id, r);
                if (r < 0)
                        return hd_error(ctx, r, "%s", hd_result_get_reason(mr) ?: strerror(-r));
                return 0;
        }
        r = hd_nodedev_list_lookup(list, id, &vf);
        if (r < 0)
                return r == -EINVAL || r == -ENODEV ? no_vgpu(ctx, id, -ENODEV) : r;
        if (hd_device_get_cap_type(vf) != HD_CAP_PCI || !has_nvidia_vf(vf))
                return no_vgpu(ctx, id, -ENODEV);
        cur = nv_current(vf);
        if (cur < 0)
                return hd_error(ctx, (int) cur, "cannot read the current_vgpu_type of %s: %s", hd_device_get_sysname(vf),
                                strerror((int) -cur));
        if (cur == 0)
                return no_vgpu(ctx, id, -ENODEV);
        group = hd_device_get_iommu_group(vf);
        if (group >= 0) {
                snprintf(node, sizeof(node), "/dev/vfio/%d", group);
                if (hd_proc_scan_fds(ctx, node, NULL, &pid) > 0) {
                        log_debug(ctx, "%s: %s is open by process %d", hd_device_get_sysname(vf), node, pid);
                        return in_use(ctx, id);
                }
        }
        hd_pci_path(path, sizeof(path), hd_device_get_sysname(vf), "nvidia/current_vgpu_type");
        r = hd_sysfs_write(ctx, path, "0");
        if (r < 0)
                return hd_error(ctx, r, "%s: writing 0 to current_vgpu_type failed: %s", hd_device_get_sysname(vf),
                                strerror(-r));
        return 0;
}
