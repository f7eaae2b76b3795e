/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Persisted SR-IOV state: CONFIG_DIR/sriov/<pci-address>.json, one file
 * per PF (docs/sriov.md), and hd_sriov_apply() that re-creates it.
 * Files are written to a temporary name, fsync()ed and renamed.
 */
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <sys/stat.h>

#include "util/result-internal.h"
#include "sriov/sriov-internal.h"

#define CONFIG_SUBDIR "sriov"

_public_ void hd_sriov_pf_config_free(hd_sriov_pf_config *c) {
        if (!c)
                return;
        free(c->address);
        free(c->serial);
        free(c->driver);
        free(c->vfs);
        free(c);
}

/* *dst = a copy of @s (replacing it); NULL for NULL or "" */
static int set_str(char **dst, const char *s) {
        char *c = NULL;
        if (!isempty(s) && !(c = strdup(s)))
                return -ENOMEM;
        free(*dst);
        *dst = c;
        return 0;
}

static void config_freep(hd_sriov_pf_config **c) { hd_sriov_pf_config_free(*c); }

_public_ int hd_sriov_default_config_dir(hd_ctx *ctx, char **ret) {
        const char *root = ctx ? hd_ctx_get_sysroot(ctx) : NULL;
        char *s = NULL;
        if (!ret)
                return -EINVAL;
        if (root && !streq(root, "/")) {
                if (hd_asprintf(&s, "%s/etc/hostdev", root) < 0)
                        return -ENOMEM;
        } else if (!(s = strdup("/etc/hostdev")))
                return -ENOMEM;
        *ret = s;
        return 0;
}

_public_ int hd_sriov_config_dir(hd_ctx *ctx, char **ret) {
        const char *env = secure_getenv("HOSTDEV_CONFIG_DIR");
        char *s;

        if (!ret)
                return -EINVAL;
        hd_error_clear(ctx);
        if (isempty(env))
                return hd_sriov_default_config_dir(ctx, ret);
        if (env[0] != '/')
                return hd_error(ctx, -EINVAL, "HOSTDEV_CONFIG_DIR must be an absolute path");
        s = strdup(env);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int file_path(const char *dir, const char *addr, char *buf, size_t size) {
        int n = addr ? snprintf(buf, size, "%s/%s/%s.json", dir, CONFIG_SUBDIR, addr)
                     : snprintf(buf, size, "%s/%s", dir, CONFIG_SUBDIR);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

static bool valid_addr(const char *a) {
        struct hd_pci_addr pa;
        char canon[32];
        if (!a || hd_pci_addr_parse(a, &pa) < 0)
                return false;
        snprintf(canon, sizeof(canon), "%04x:%02x:%02x.%x", pa.domain, pa.bus, pa.slot, pa.function);
        return streq(canon, a);
}

/* ---- reading ---- */

/* the reason of -EBADMSG into *err (replaced) */
_printf_(2, 3) static int bad(char **err, const char *fmt, ...) {
        va_list ap;
        free(*err);
        va_start(ap, fmt);
        if (hd_vasprintf(err, fmt, ap) < 0)
                *err = NULL;
        va_end(ap);
        return -EBADMSG;
}

static int get_hex_id(json_object *v, unsigned *ret) {
        const char *s;
        unsigned x;
        if (!json_object_is_type(v, json_type_string))
                return -EINVAL;
        s = json_object_get_string(v);
        if (!startswith(s, "0x") || strlen(s) != 6 || hd_safe_atou(s + 2, 16, &x) < 0)
                return -EINVAL;
        *ret = x;
        return 0;
}

static int get_uint(json_object *v, unsigned max, unsigned *ret) {
        int64_t x;
        if (!json_object_is_type(v, json_type_int))
                return -EINVAL;
        x = json_object_get_int64(v);
        if (x < 0 || x > (int64_t) max)
                return -ERANGE;
        *ret = (unsigned) x;
        return 0;
}

static int parse_vf(json_object *o, size_t i, unsigned numvfs, hd_sriov_vf_config *vf, char **err) {
        bool have_index = false;

        *vf = (hd_sriov_vf_config) { .trust = -1, .spoofchk = -1 };
        if (!json_object_is_type(o, json_type_object))
                return bad(err, "vfs[%zu] is not an object", i);
        json_object_object_foreach(o, key, v) {
                if (streq(key, "index")) {
                        if (get_uint(v, 65535, &vf->index) < 0)
                                return bad(err, "vfs[%zu].index must be a non-negative integer", i);
                        have_index = true;
                } else if (streq(key, "mac")) {
                        if (json_object_is_type(v, json_type_null))
                                continue;
                        if (!json_object_is_type(v, json_type_string) ||
                            hd_sriov_parse_mac(json_object_get_string(v), vf->mac) < 0)
                                return bad(err, "vfs[%zu].mac is not a unicast MAC address (aa:bb:cc:dd:ee:ff)", i);
                        vf->set_mac = true;
                } else if (streq(key, "vlan")) {
                        if (json_object_is_type(v, json_type_null))
                                continue;
                        if (get_uint(v, 4095, &vf->vlan) < 0)
                                return bad(err, "vfs[%zu].vlan must be an integer 0..4095", i);
                        vf->set_vlan = true;
                } else if (streq(key, "qos")) {
                        if (json_object_is_type(v, json_type_null))
                                continue;
                        if (get_uint(v, 7, &vf->qos) < 0)
                                return bad(err, "vfs[%zu].qos must be an integer 0..7", i);
                } else if (streq(key, "trust") || streq(key, "spoofchk")) {
                        int *dst = streq(key, "trust") ? &vf->trust : &vf->spoofchk;
                        if (json_object_is_type(v, json_type_null))
                                continue;
                        if (!json_object_is_type(v, json_type_boolean))
                                return bad(err, "vfs[%zu].%s must be true, false or null", i, key);
                        *dst = json_object_get_boolean(v);
                } else
                        return bad(err, "vfs[%zu]: unknown key '%s'", i, key);
        }
        if (!have_index)
                return bad(err, "vfs[%zu] has no index", i);
        if (vf->index >= numvfs)
                return bad(err, "vfs[%zu].index %u is not below numvfs %u", i, vf->index, numvfs);
        if (vf->qos && !vf->set_vlan)
                return bad(err, "vfs[%zu].qos needs a vlan", i);
        return 0;
}

static int cmp_vf_index(const void *x, const void *y) {
        const hd_sriov_vf_config *a = x, *b = y;
        return a->index < b->index ? -1 : a->index > b->index;
}

static int parse_config(json_object *o, const char *addr, hd_sriov_pf_config *c, char **err) {
        bool have[4] = {};      /* address, vendor, device, numvfs */
        bool have_ap = false;
        json_object *vfs = NULL;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return bad(err, "not a JSON object");
        json_object_object_foreach(o, key, v) {
                if (streq(key, "address")) {
                        if (!json_object_is_type(v, json_type_string) || !valid_addr(json_object_get_string(v)))
                                return bad(err, "address must be a PCI address like \"0000:02:00.0\"");
                        if (set_str(&c->address, json_object_get_string(v)) < 0)
                                return -ENOMEM;
                        have[0] = true;
                } else if (streq(key, "vendor") || streq(key, "device")) {
                        bool ven = streq(key, "vendor");
                        if (get_hex_id(v, ven ? &c->vendor : &c->device) < 0)
                                return bad(err, "%s must be a string like \"0x8086\"", key);
                        have[ven ? 1 : 2] = true;
                } else if (streq(key, "serial")) {
                        if (json_object_is_type(v, json_type_null))
                                continue;
                        if (!json_object_is_type(v, json_type_string) || !*json_object_get_string(v) ||
                            strlen(json_object_get_string(v)) >= HD_SERIAL_MAX)
                                return bad(err, "serial must be a non-empty string or null");
                        if (set_str(&c->serial, json_object_get_string(v)) < 0)
                                return -ENOMEM;
                } else if (streq(key, "numvfs")) {
                        if (get_uint(v, 65535, &c->numvfs) < 0)
                                return bad(err, "numvfs must be a non-negative integer");
                        have[3] = true;
                } else if (streq(key, "driver")) {
                        const char *s;
                        if (json_object_is_type(v, json_type_null))
                                continue;
                        s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
                        if (!streq(s, "vfio-pci") && !streq(s, "pci-stub"))
                                return bad(err, "driver must be \"vfio-pci\", \"pci-stub\" or null");
                        if (set_str(&c->driver, s) < 0)
                                return -ENOMEM;
                } else if (streq(key, "autoprobe")) {
                        if (!json_object_is_type(v, json_type_boolean))
                                return bad(err, "autoprobe must be true or false");
                        c->autoprobe = json_object_get_boolean(v);
                        have_ap = true;
                } else if (streq(key, "vfs")) {
                        if (!json_object_is_type(v, json_type_array))
                                return bad(err, "vfs must be an array");
                        vfs = v;
                } else
                        return bad(err, "unknown key '%s'", key);
        }
        if (!have[0] || !have[1] || !have[2] || !have[3])
                return bad(err, "missing %s", !have[0] ? "address" : !have[1] ? "vendor" : !have[2] ? "device" : "numvfs");
        if (addr && !streq(addr, c->address))
                return bad(err, "address %s does not match the file name (%s.json)", c->address, addr);
        if (!have_ap)
                c->autoprobe = c->driver ? 0 : 1;
        if (vfs) {
                size_t n = json_object_array_length(vfs);
                c->vfs = calloc(n ? n : 1, sizeof(*c->vfs));
                if (!c->vfs)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++) {
                        r = parse_vf(json_object_array_get_idx(vfs, i), i, c->numvfs, &c->vfs[i], err);
                        if (r < 0)
                                return r;
                }
                c->n_vfs = n;
                /* duplicates are neighbours once sorted: not a quadratic
                 * search over up to 65535 entries */
                qsort(c->vfs, n, sizeof(*c->vfs), cmp_vf_index);
                for (size_t i = 1; i < n; i++)
                        if (c->vfs[i - 1].index == c->vfs[i].index)
                                return bad(err, "VF %u appears twice in vfs", c->vfs[i].index);
        }
        return 0;
}

int hd_sriov_config_parse(const char *text, size_t len, const char *addr, hd_sriov_pf_config **ret, char **err) {
        _cleanup_(config_freep) hd_sriov_pf_config *c = NULL;
        struct json_tokener *tok;
        enum json_tokener_error jerr;
        json_object *o;
        int r;

        if (!text || !ret || !err || len > INT_MAX)
                return -EINVAL;
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, text, (int) len);
        jerr = json_tokener_get_error(tok);
        if (!o || jerr != json_tokener_success || json_tokener_get_parse_end(tok) < len) {
                size_t end = json_tokener_get_parse_end(tok), line = 1;
                bool trailing = o && jerr == json_tokener_success;
                for (size_t i = 0; i < end && i < len; i++)
                        if (text[i] == '\n')
                                line++;
                /* trailing whitespace is fine */
                if (trailing) {
                        size_t i = end;
                        while (i < len && strchr(" \t\r\n", text[i]))
                                i++;
                        trailing = i < len;
                }
                if (!o || jerr != json_tokener_success || trailing) {
                        json_object_put(o);
                        json_tokener_free(tok);
                        return bad(err, "line %zu: %s", line,
                                   len == 0 ? "empty file"
                                   : jerr == json_tokener_continue ? "unexpected end of file"
                                   : jerr != json_tokener_success ? json_tokener_error_desc(jerr)
                                                                  : "trailing garbage after the JSON object");
                }
        }
        json_tokener_free(tok);

        c = calloc(1, sizeof(*c));
        if (!c) {
                json_object_put(o);
                return -ENOMEM;
        }
        r = parse_config(o, addr, c, err);
        json_object_put(o);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

/* hd_sriov_config_read without the context: the reason of -EBADMSG (with
 * the file's name) in *err */
static int config_read(const char *dir, const char *addr, hd_sriov_pf_config **ret, char **err) {
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = -1;
        char path[PATH_MAX];
        size_t len = 0, cap = 0;
        int r;

        if (!dir || !addr || !ret)
                return -EINVAL;
        if (!valid_addr(addr))
                return -EINVAL;
        r = file_path(dir, addr, path, sizeof(path));
        if (r < 0)
                return r;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        for (;;) {
                ssize_t n;
                if (len + 4096 + 1 > cap) {
                        char *t;
                        if (cap > (1 << 20))
                                return bad(err, "%s: larger than 1 MiB", path);
                        cap = cap ? cap * 2 : 8192;
                        t = realloc(text, cap);
                        if (!t)
                                return -ENOMEM;
                        text = t;
                }
                n = read(fd, text + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        text[len] = 0;

        r = hd_sriov_config_parse(text, len, addr, ret, err);
        if (r == -EBADMSG) {
                _cleanup_free_ char *msg = TAKE_PTR(*err);
                (void) bad(err, "%s: %s", path, strempty(msg));
        }
        return r;
}

_public_ int hd_sriov_config_read(hd_ctx *ctx, const char *dir, const char *addr, hd_sriov_pf_config **ret) {
        _cleanup_free_ char *err = NULL;
        int r;

        hd_error_clear(ctx);
        r = config_read(dir, addr, ret, &err);
        if (r == -EINVAL)
                return hd_error(ctx, r, "'%s' is not a PCI address as the kernel writes it (0000:02:00.0)", strempty(addr));
        return r < 0 && err ? hd_error(ctx, r, "%s", err) : r;
}

/* ---- writing ---- */

static json_object *config_to_json(const hd_sriov_pf_config *c) {
        json_object *o = json_object_new_object(), *vfs = json_object_new_array();
        char buf[32];

        json_object_object_add(o, "address", json_object_new_string(strempty(c->address)));
        snprintf(buf, sizeof(buf), "0x%04x", c->vendor);
        json_object_object_add(o, "vendor", json_object_new_string(buf));
        snprintf(buf, sizeof(buf), "0x%04x", c->device);
        json_object_object_add(o, "device", json_object_new_string(buf));
        json_object_object_add(o, "serial", c->serial ? json_object_new_string(c->serial) : NULL);
        json_object_object_add(o, "numvfs", json_object_new_int((int) c->numvfs));
        json_object_object_add(o, "driver", c->driver ? json_object_new_string(c->driver) : NULL);
        json_object_object_add(o, "autoprobe", json_object_new_boolean(c->autoprobe > 0));
        for (size_t i = 0; i < c->n_vfs; i++) {
                const hd_sriov_vf_config *v = &c->vfs[i];
                json_object *jv = json_object_new_object();
                json_object_object_add(jv, "index", json_object_new_int((int) v->index));
                if (v->set_mac) {
                        char m[18];
                        snprintf(m, sizeof(m), "%02x:%02x:%02x:%02x:%02x:%02x", v->mac[0], v->mac[1], v->mac[2],
                                 v->mac[3], v->mac[4], v->mac[5]);
                        json_object_object_add(jv, "mac", json_object_new_string(m));
                }
                if (v->set_vlan) {
                        json_object_object_add(jv, "vlan", json_object_new_int((int) v->vlan));
                        if (v->qos)
                                json_object_object_add(jv, "qos", json_object_new_int((int) v->qos));
                }
                if (v->trust >= 0)
                        json_object_object_add(jv, "trust", json_object_new_boolean(v->trust));
                if (v->spoofchk >= 0)
                        json_object_object_add(jv, "spoofchk", json_object_new_boolean(v->spoofchk));
                json_object_array_add(vfs, jv);
        }
        json_object_object_add(o, "vfs", vfs);
        return o;
}

int hd_sriov_config_format(const hd_sriov_pf_config *c, char **ret) {
        json_object *o;
        int r = 0;

        if (!c || !ret)
                return -EINVAL;
        o = config_to_json(c);
        if (!o)
                return -ENOMEM;
        if (hd_asprintf(ret, "%s\n",
                        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
                r = -ENOMEM;
        json_object_put(o);
        return r;
}

_public_ int hd_sriov_config_write(const char *dir, const hd_sriov_pf_config *c) {
        _cleanup_free_ char *text = NULL;
        char path[PATH_MAX];
        int r;

        if (!dir || !c || !valid_addr(c->address))
                return -EINVAL;
        r = file_path(dir, NULL, path, sizeof(path));
        if (r < 0)
                return r;
        r = hd_mkdir_p_at(AT_FDCWD, path, 0755);
        if (r < 0)
                return r;
        r = file_path(dir, c->address, path, sizeof(path));
        if (r < 0)
                return r;
        r = hd_sriov_config_format(c, &text);
        if (r < 0)
                return r;
        return hd_write_file_atomic(path, text, 0644);
}

_public_ int hd_sriov_config_list(const char *dir, char ***ret, size_t *ret_n) {
        _cleanup_strv_free_ char **v = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        char path[PATH_MAX];
        struct dirent *de;
        size_t n = 0;
        int r;

        if (!dir || !ret || !ret_n)
                return -EINVAL;
        r = file_path(dir, NULL, path, sizeof(path));
        if (r < 0)
                return r;
        v = calloc(1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        d = opendir(path);
        if (!d && errno != ENOENT)
                return negative_errno();
        while (d && (de = readdir(d))) {
                const char *dot = strrchr(de->d_name, '.');
                char *a;
                if (!dot || !streq(dot, ".json"))
                        continue;
                a = strndup(de->d_name, (size_t) (dot - de->d_name));
                if (!a)
                        return -ENOMEM;
                if (!valid_addr(a)) {
                        free(a);
                        continue;
                }
                r = hd_strv_push(&v, &n, a);
                if (r < 0)
                        return r;
        }
        qsort(v, n, sizeof(char *), hd_cmpstringp);
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

static int config_from_device(hd_device *d, hd_sriov_pf_config **ret) {
        _cleanup_(config_freep) hd_sriov_pf_config *c = calloc(1, sizeof(*c));
        char serial[HD_SERIAL_MAX];
        long long v;
        if (!c || set_str(&c->address, hd_device_get_sysname(d)) < 0)
                return -ENOMEM;
        if (hd_device_read_attr_long(d, "vendor", 16, &v) >= 0)
                c->vendor = (unsigned) v;
        if (hd_device_read_attr_long(d, "device", 16, &v) >= 0)
                c->device = (unsigned) v;
        if (hd_device_read_attr_long(d, "sriov_numvfs", 10, &v) >= 0 && v >= 0)
                c->numvfs = (unsigned) v;
        c->autoprobe = hd_device_read_attr_long(d, "sriov_drivers_autoprobe", 10, &v) >= 0 ? !!v : 1;
        hd_pci_device_read_serial(d, serial, sizeof(serial));
        if (set_str(&c->serial, serial) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(c);
        return 0;
}

static int merge_vf(hd_sriov_pf_config *c, const hd_sriov_vf_config *vf) {
        hd_sriov_vf_config *e = NULL;
        for (size_t i = 0; i < c->n_vfs; i++)
                if (c->vfs[i].index == vf->index)
                        e = &c->vfs[i];
        if (!e) {
                hd_sriov_vf_config *n = realloc(c->vfs, (c->n_vfs + 1) * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                c->vfs = n;
                e = &n[c->n_vfs++];
                *e = (hd_sriov_vf_config) { .index = vf->index, .trust = -1, .spoofchk = -1 };
        }
        if (vf->set_mac) {
                e->set_mac = true;
                memcpy(e->mac, vf->mac, 6);
        }
        if (vf->set_vlan) {
                e->set_vlan = true;
                e->vlan = vf->vlan;
                e->qos = vf->qos;
        }
        if (vf->trust >= 0)
                e->trust = vf->trust;
        if (vf->spoofchk >= 0)
                e->spoofchk = vf->spoofchk;
        qsort(c->vfs, c->n_vfs, sizeof(*c->vfs), cmp_vf_index);
        return 0;
}

/* The body of hd_sriov_persist: 0, or <0 with the reason in @res. */
static int persist(hd_nodedev_list *list, hd_device *pf, const char *dir, const hd_sriov_set_opts *set,
                   const hd_sriov_vf_config *vf, hd_result *res) {
        _cleanup_(config_freep) hd_sriov_pf_config *c = NULL, *now = NULL;
        hd_ctx *ctx = hd_nodedev_list_get_ctx(list);
        _cleanup_free_ char *err = NULL;
        int r;

        r = config_from_device(pf, &now);
        if (r < 0)
                goto fail;
        r = config_read(dir, hd_device_get_sysname(pf), &c, &err);
        if (r == -ENOENT)
                c = TAKE_PTR(now);
        else if (r == -EBADMSG) {
                hd_result_fail(res, ctx, r, "not persisted: the existing config is malformed: %s", strempty(err));
                return r;
        } else if (r < 0)
                goto fail;
        else {
                /* the device at this address now: its identity wins */
                c->vendor = now->vendor;
                c->device = now->device;
                free(c->serial);
                c->serial = TAKE_PTR(now->serial);
        }
        if (set) {
                c->numvfs = set->numvfs;
                if (set->driver && set_str(&c->driver, streq(set->driver, "host") ? NULL : set->driver) < 0) {
                        r = -ENOMEM;
                        goto fail;
                }
                if (set->autoprobe >= 0)
                        c->autoprobe = set->autoprobe;
                else if (set->driver)
                        c->autoprobe = c->driver ? 0 : 1;
                /* settings of VFs that no longer exist go */
                size_t k = 0;
                for (size_t i = 0; i < c->n_vfs; i++)
                        if (c->vfs[i].index < c->numvfs)
                                c->vfs[k++] = c->vfs[i];
                c->n_vfs = k;
        }
        if (vf) {
                if (vf->index >= c->numvfs) {
                        hd_result_fail(res, ctx, -ERANGE, "not persisted: %s has %u VFs in its persisted state: no VF %u",
                                       hd_device_get_sysname(pf), c->numvfs, vf->index);
                        return -ERANGE;
                }
                r = merge_vf(c, vf);
                if (r < 0)
                        goto fail;
        }
        r = hd_sriov_config_write(dir, c);
        if (r >= 0)
                return 0;
fail:
        hd_result_fail(res, ctx, r, "cannot persist into %s/%s: %s", dir, CONFIG_SUBDIR, strerror(-r));
        return r;
}

_public_ int hd_sriov_persist(hd_nodedev_list *list, hd_device *pf, const char *dir, const hd_sriov_set_opts *set,
                              const hd_sriov_vf_config *vf, hd_result **ret) {
        _hd_cleanup_result_ hd_result *res = NULL;
        _cleanup_free_ char *what = NULL;
        long long total = 0;
        int r;

        if (!list || !pf || !dir || !ret)
                return -EINVAL;
        if (hd_device_get_cap_type(pf) != HD_CAP_PCI || hd_device_read_attr_long(pf, "sriov_totalvfs", 10, &total) < 0 || total <= 0)
                return -EOPNOTSUPP;
        if (set && (set->numvfs > total ||
                    (set->driver && !streq(set->driver, "vfio-pci") && !streq(set->driver, "pci-stub") &&
                     !streq(set->driver, "host"))))
                return -EINVAL;
        r = hd_result_new(HD_RESULT_SRIOV, &res);
        if (r < 0)
                return r;
        if (persist(list, pf, dir, set, vf, res) >= 0) {
                if (asprintf(&what, "persisted in %s/%s/%s.json", dir, CONFIG_SUBDIR, hd_device_get_sysname(pf)) < 0)
                        return -ENOMEM;
                r = hd_result_add_step(res, &(struct hd_result_step_spec) {
                        .subject = hd_device_get_sysname(pf), .action = what, .outcome = HD_OUTCOME_DONE });
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(res);
        return 0;
}

/* ---- apply ---- */

_printf_(5, 6) static void add_simple(hd_result *res, hd_ctx *ctx, const char *pf, enum hd_outcome st,
                                      const char *fmt, ...) {
        _cleanup_free_ char *what = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&what, fmt, ap);
        va_end(ap);
        if (r < 0 || hd_result_add_step(res, &(struct hd_result_step_spec) {
                        .subject = pf, .action = what, .outcome = st,
                        .error = st == HD_OUTCOME_FAILED ? -EBADMSG : 0 }) < 0)
                if (hd_result_get_status(res) == 0)
                        hd_result_fail(res, ctx, -ENOMEM, "out of memory");
}

/* The identity of the device @d as "VVVV:DDDD" (and " serial S" when
 * @with_serial), into @buf. */
static void identity_of(hd_device *d, bool with_serial, char *buf, size_t size) {
        char serial[HD_SERIAL_MAX] = "";
        long long vendor = -1, device = -1;
        (void) hd_device_read_attr_long(d, "vendor", 16, &vendor);
        (void) hd_device_read_attr_long(d, "device", 16, &device);
        if (with_serial)
                hd_pci_device_read_serial(d, serial, sizeof(serial));
        snprintf(buf, size, "%04llx:%04llx%s%s", vendor, device, with_serial ? " serial " : "",
                 with_serial ? (serial[0] ? serial : "unreadable") : "");
}

/* Apply the persisted state of the PF at @addr (@d: the device there, or
 * NULL to look it up in @list) into @res.  With @d given (a device that
 * has just appeared, hd_sriov_apply_device()) another device at the
 * address is drift: refused (status -EBUSY, the reason names both
 * identities); otherwise (hd_sriov_apply()) skipped with a warning.
 * -ENOENT when there is no file for @addr and @d is given; <0 only when
 * memory ran out otherwise. */
static int apply_pf(hd_nodedev_list *list, const char *dir, const char *addr, hd_device *d, unsigned flags,
                    hd_result *res) {
        _cleanup_(config_freep) hd_sriov_pf_config *c = NULL;
        _cleanup_free_ char *err = NULL;
        hd_ctx *ctx = hd_nodedev_list_get_ctx(list);
        char serial[HD_SERIAL_MAX];
        bool appeared = d != NULL;
        long long vendor = -1, device = -1;
        int r;

        r = config_read(dir, addr, &c, &err);
        if (r == -ENOENT && appeared)
                return r;
        if (r == -EBADMSG && !err)
                r = -ENOMEM;
        if (r < 0) {
                log_err(ctx, "%s", r == -EBADMSG ? err : strerror(-r));
                add_simple(res, ctx, addr, HD_OUTCOME_FAILED, "config file: %s", r == -EBADMSG ? err : strerror(-r));
                if (!hd_result_get_status(res)) {
                        hd_result_set_status(res, r);
                        hd_result_set_reason(res, "%s", r == -EBADMSG ? err : strerror(-r));
                }
                return 0;
        }
        if (!d && (hd_nodedev_list_lookup(list, addr, &d) < 0 || hd_device_get_cap_type(d) != HD_CAP_PCI)) {
                log_warn(ctx, "%s: no PCI device at this address any more (hardware moved?); skipped", addr);
                add_simple(res, ctx, addr, HD_OUTCOME_SKIPPED, "no device at %s (hardware moved?)", addr);
                return 0;
        }
        (void) hd_device_read_attr_long(d, "vendor", 16, &vendor);
        (void) hd_device_read_attr_long(d, "device", 16, &device);
        if (c->serial)
                hd_pci_device_read_serial(d, serial, sizeof(serial));
        if (appeared && (vendor != c->vendor || device != c->device || (c->serial && !streq(serial, c->serial)))) {
                char now[HD_SERIAL_MAX + 32];
                identity_of(d, c->serial != NULL, now, sizeof(now));
                /* drift: the record is another device's; nothing changes */
                add_simple(res, ctx, addr, HD_OUTCOME_SKIPPED, "persisted SR-IOV state is for %04x:%04x%s%s, device is %s",
                           c->vendor, c->device, c->serial ? " serial " : "", strempty(c->serial), now);
                hd_result_fail(res, ctx, -EBUSY,
                               "%s: the persisted SR-IOV state was made for %04x:%04x%s%s, the device there now is %s; "
                               "not applied", addr, c->vendor, c->device, c->serial ? " serial " : "", strempty(c->serial), now);
                log_warn(ctx, "%s", hd_result_get_reason(res));
                return 0;
        }
        if (vendor != c->vendor || device != c->device) {
                log_warn(ctx, "%s: the device there is %04llx:%04llx, the config is for %04x:%04x "
                         "(hardware moved?); skipped", addr, vendor, device, c->vendor, c->device);
                add_simple(res, ctx, addr, HD_OUTCOME_SKIPPED,
                           "device is %04llx:%04llx, config is for %04x:%04x (hardware moved?)", vendor,
                           device, c->vendor, c->device);
                return 0;
        }
        if (c->serial && !streq(serial, c->serial)) {
                log_warn(ctx, "%s: serial number %s, the config is for %s (hardware moved?); skipped",
                         addr, serial[0] ? serial : "unreadable", c->serial);
                add_simple(res, ctx, addr, HD_OUTCOME_SKIPPED,
                           "serial number is %s, config is for %s (hardware moved?)",
                           serial[0] ? serial : "unreadable", c->serial);
                return 0;
        }
        {
                _hd_cleanup_result_ hd_result *one = NULL;
                r = hd_result_new(HD_RESULT_SRIOV, &one);
                if (r < 0)
                        return r;
                (void) hd_sriov_apply_one(list, d, c, flags, one);
                r = hd_result_merge(res, one);
                if (r < 0)
                        return r;
        }
        return 0;
}

_public_ int hd_sriov_apply(hd_nodedev_list *list, const char *dir, unsigned flags, hd_result **ret) {
        _cleanup_strv_free_ char **addrs = NULL;
        _cleanup_close_ int lock = -1;
        _hd_cleanup_result_ hd_result *res = NULL;
        hd_ctx *ctx;
        size_t n = 0;
        int r;

        if (!list || !dir || !ret)
                return -EINVAL;
        ctx = hd_nodedev_list_get_ctx(list);
        r = hd_sriov_config_list(dir, &addrs, &n);
        if (r < 0) {
                log_err(ctx, "cannot read %s/%s: %s", dir, CONFIG_SUBDIR, strerror(-r));
                return r;
        }
        if (!(flags & HD_SRIOV_DRY_RUN) && n > 0) {
                r = hd_sriov_lock(ctx, &lock);
                if (r < 0)
                        return r;
        }
        r = hd_result_new(HD_RESULT_SRIOV, &res);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = apply_pf(list, dir, addrs[i], NULL, flags, res);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(res);
        return 0;
}

_public_ int hd_sriov_apply_device(hd_nodedev_list *list, const char *dir, hd_device *pf, unsigned flags,
                                   hd_result **ret) {
        _cleanup_close_ int lock = -1;
        _hd_cleanup_result_ hd_result *res = NULL;
        const char *addr;
        char path[PATH_MAX];
        hd_ctx *ctx;
        int r;

        if (!list || !dir || !pf || !ret || (flags & ~(unsigned) HD_SRIOV_DRY_RUN))
                return -EINVAL;
        ctx = hd_nodedev_list_get_ctx(list);
        addr = hd_device_get_sysname(pf);
        if (hd_device_get_cap_type(pf) != HD_CAP_PCI || !valid_addr(addr))
                return 0;       /* the state is persisted for PCI functions only */
        r = file_path(dir, addr, path, sizeof(path));
        if (r < 0)
                return r;
        if (access(path, F_OK) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!(flags & HD_SRIOV_DRY_RUN)) {
                r = hd_sriov_lock(ctx, &lock);
                if (r < 0)
                        return r;
        }
        r = hd_result_new(HD_RESULT_SRIOV, &res);
        if (r < 0)
                return r;
        r = apply_pf(list, dir, addr, pf, flags, res);
        if (r == -ENOENT)
                return 0;       /* gone meanwhile */
        if (r < 0)
                return r;
        *ret = TAKE_PTR(res);
        return 1;
}

_public_ void hd_apply_result_free(hd_apply_result *r) {
        if (!r)
                return;
        free(r->config_dir);
        hd_result_unref(r->sriov);
        hd_result_unref(r->mdev);
        free(r);
}

static void apply_result_freep(hd_apply_result **r) { hd_apply_result_free(*r); }

_public_ int hd_apply(hd_nodedev_list *list, unsigned flags, hd_apply_result **ret) {
        _cleanup_(apply_result_freep) hd_apply_result *res = NULL;
        int r;

        if (!list || !ret)
                return -EINVAL;
        res = calloc(1, sizeof(*res));
        if (!res)
                return -ENOMEM;
        r = hd_sriov_config_dir(hd_nodedev_list_get_ctx(list), &res->config_dir);
        if (r < 0)
                return r;
        /* SR-IOV first: VFs can be mdev parents */
        r = hd_sriov_apply(list, res->config_dir, flags & HD_SRIOV_DRY_RUN, &res->sriov);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                res->sriov_error = r;
                *ret = TAKE_PTR(res);
                return 0;
        }
        res->mdev_error = hd_mdev_apply_full(hd_nodedev_list_get_ctx(list), flags & HD_SRIOV_DRY_RUN ? HD_MDEV_APPLY_DRY_RUN : 0,
                                             &res->mdev);
        *ret = TAKE_PTR(res);
        return 0;
}

_public_ int hd_apply_result_to_json(const hd_apply_result *r, json_object **ret) {
        json_object *doc = NULL, *mdevs = NULL;
        bool mdev_failed;
        int k;

        if (!r || !ret)
                return -EINVAL;
        if (r->sriov_error < 0)
                return r->sriov_error;  /* nothing was attempted: no document */
        if (!r->sriov)
                return -EINVAL;
        k = hd_result_to_json(r->sriov, &doc);
        if (k < 0)
                return k;
        mdev_failed = r->mdev_error < 0 || !r->mdev || hd_result_get_status(r->mdev) < 0;
        if (r->mdev_error >= 0 && r->mdev) {
                k = hd_result_to_json(r->mdev, &mdevs);
                if (k < 0) {
                        json_object_put(doc);
                        return k;
                }
        } else if (!(mdevs = json_object_new_array())) {
                json_object_put(doc);
                return -ENOMEM;
        }
        json_object_object_add(doc, "mdevs", mdevs);
        /* a failed mdev stage fails a document that was "ok" */
        if (mdev_failed && streq(hd_result_get_status_string(r->sriov), "ok"))
                json_object_object_add(doc, "status", json_object_new_string("failed"));
        *ret = doc;
        return 0;
}

/* @s, newline-terminated when not empty, appended to *buf */
static int append_lines(char **buf, const char *s) {
        size_t n = strlen(s), have = *buf ? strlen(*buf) : 0;
        bool nl = n > 0 && s[n - 1] != '\n';
        char *t;

        if (n == 0)
                return 0;
        t = realloc(*buf, have + n + nl + 1);
        if (!t)
                return -ENOMEM;
        memcpy(t + have, s, n);
        if (nl)
                t[have + n++] = '\n';
        t[have + n] = 0;
        *buf = t;
        return 0;
}

_public_ int hd_apply_result_format_text(const hd_apply_result *r, char **ret) {
        _cleanup_free_ char *out = strdup(""), *sriov = NULL, *mdev = NULL;
        const hd_result *s;

        if (!r || !ret)
                return -EINVAL;
        if (!out)
                return -ENOMEM;
        if (r->sriov_error < 0)
                return r->sriov_error;
        if (!(s = r->sriov))
                return -EINVAL;
        if (hd_result_format_text(s, &sriov) < 0 || append_lines(&out, sriov) < 0)
                return -ENOMEM;
        if (hd_result_count_outcome(s, HD_OUTCOME_SKIPPED) == hd_result_get_n_steps(s) && hd_result_get_status(s) == 0 &&
            append_lines(&out, "sriov: nothing changed") < 0)
                return -ENOMEM;
        if (r->mdev_error >= 0 && r->mdev &&
            (hd_result_format_text(r->mdev, &mdev) < 0 || append_lines(&out, mdev) < 0))
                return -ENOMEM;
        *ret = TAKE_PTR(out);
        return 0;
}

_public_ int hd_apply_result_get_verdict(const hd_apply_result *r) {
        int st;

        if (!r)
                return -EINVAL;
        if (r->sriov_error < 0)
                return HD_APPLY_FAILED;
        /* no SR-IOV stage: the mdev stage alone (mdev apply) */
        st = r->sriov ? hd_result_get_status(r->sriov) : 0;
        if (st == -EBUSY)
                return HD_APPLY_REFUSED;
        if (st < 0 || r->mdev_error < 0 || !r->mdev || hd_result_get_status(r->mdev) < 0)
                return HD_APPLY_FAILED;
        return HD_APPLY_OK;
}

/* hostdevctl apply's sentences on stderr (hd_apply_result_format_messages),
 * with the index of the first refusal or failure in *ret_first (-1: none) */
static int apply_messages(const hd_apply_result *r, char ***ret, ssize_t *ret_first) {
        _cleanup_strv_free_ char **v = NULL;
        ssize_t first = -1;
        size_t n = 0;
        const char *why;
        char *s = NULL;
        int st, k;

        if (!r || !ret)
                return -EINVAL;
        if (!(v = calloc(1, sizeof(char *))))
                return -ENOMEM;
        if (r->sriov_error < 0) {
                if (hd_asprintf(&s, "apply: %s/sriov: %s", strempty(r->config_dir), strerror(-r->sriov_error)) < 0 ||
                    hd_strv_push(&v, &n, s) < 0)
                        return -ENOMEM;
                first = 0;
                goto done;
        }
        /* the SR-IOV stage (none: mdev apply): a note, a refusal or a failure */
        st = r->sriov ? hd_result_get_status(r->sriov) : 0;
        why = r->sriov ? hd_result_get_reason(r->sriov) : NULL;
        k = 0;
        if (st == 0 && why)
                k = hd_asprintf(&s, "note: %s", why);
        else if (st < 0) {
                k = hd_asprintf(&s, "apply %s: %s", st == -EBUSY ? "refused" : "failed", strempty(why));
                first = (ssize_t) n;
        }
        if (k < 0 || (s && hd_strv_push(&v, &n, TAKE_PTR(s)) < 0))
                return -ENOMEM;
        /* then the mdev stage's failure */
        if (r->mdev_error < 0 || !r->mdev)
                k = hd_asprintf(&s, "apply: mediated devices: %s", strerror(r->mdev_error < 0 ? -r->mdev_error : EINVAL));
        else if (hd_result_get_status(r->mdev) < 0)
                k = hd_asprintf(&s, "apply: %s", strempty(hd_result_get_reason(r->mdev)));
        if (k < 0)
                return -ENOMEM;
        if (s) {
                if (first < 0)
                        first = (ssize_t) n;
                if (hd_strv_push(&v, &n, TAKE_PTR(s)) < 0)
                        return -ENOMEM;
        }
done:
        *ret = TAKE_PTR(v);
        if (ret_first)
                *ret_first = first;
        return 0;
}

_public_ int hd_apply_result_format_messages(const hd_apply_result *r, char ***ret) {
        return apply_messages(r, ret, NULL);
}

_public_ int hd_apply_result_format_error(const hd_apply_result *r, char **ret) {
        _cleanup_strv_free_ char **v = NULL;
        ssize_t first;
        int k;

        if (!ret)
                return -EINVAL;
        k = apply_messages(r, &v, &first);
        if (k < 0)
                return k;
        *ret = NULL;
        if (first >= 0 && !(*ret = strdup(v[first])))
                return -ENOMEM;
        return 0;
}
