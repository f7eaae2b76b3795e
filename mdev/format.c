/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mdev documents: mdevctl's JSON definitions (read and written byte for
 * byte as mdevctl does), libvirt node-device XML (read with libxml2), and
 * defined mdevs as node devices.
 */
#include <ctype.h>
#include <json-c/json.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <stdarg.h>

#include "mdev-internal.h"

/* ---- mdevctl JSON ---- */

/* The reason of a malformed definition into *err (replaced); returns -EBADMSG. */
_printf_(2, 3) static int set_why(char **err, const char *fmt, ...) {
        va_list ap;
        free(*err);
        va_start(ap, fmt);
        if (hd_vasprintf(err, fmt, ap) < 0)
                *err = NULL;
        va_end(ap);
        return -EBADMSG;
}

int hd_mdev_json_parse(const char *json, hd_mdev *m, char **err) {
        struct json_tokener *tok;
        json_object *o, *v;
        enum json_tokener_error jerr;
        hd_mdev tmp = { .iommu_group = -1 };
        size_t len;
        int r = -EBADMSG;

        if (!json || !m)
                return -EINVAL;
        len = strlen(json);
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, json, (int) len);
        jerr = json_tokener_get_error(tok);
        if (!o || jerr != json_tokener_success) {
                set_why(err, "malformed JSON: %s",
                       jerr == json_tokener_continue ? "unexpected end of input" : json_tokener_error_desc(jerr));
                json_object_put(o);
                json_tokener_free(tok);
                return -EBADMSG;
        }
        for (size_t i = tok->char_offset; i < len; i++)
                if (!isspace((unsigned char) json[i])) {
                        set_why(err, "malformed JSON: trailing data after the object");
                        goto out;
                }
        if (!json_object_is_type(o, json_type_object)) {
                set_why(err, "the definition is not a JSON object");
                goto out;
        }
        if (!json_object_object_get_ex(o, "mdev_type", &v) || !json_object_is_type(v, json_type_string) ||
            !hd_mdev_name_ok(json_object_get_string(v))) {
                set_why(err, "\"mdev_type\" is missing or not a valid type name");
                goto out;
        }
        tmp.type = strdup(json_object_get_string(v));
        if (!tmp.type) {
                r = -ENOMEM;
                goto out;
        }
        if (!json_object_object_get_ex(o, "start", &v) || !json_object_is_type(v, json_type_string) ||
            (!streq(json_object_get_string(v), "auto") && !streq(json_object_get_string(v), "manual"))) {
                set_why(err, "\"start\" is missing or neither \"auto\" nor \"manual\"");
                goto out;
        }
        tmp.autostart = streq(json_object_get_string(v), "auto");
        if (json_object_object_get_ex(o, "attrs", &v) && !json_object_is_type(v, json_type_null)) {
                if (!json_object_is_type(v, json_type_array)) {
                        set_why(err, "\"attrs\" is not an array");
                        goto out;
                }
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        json_object *a = json_object_array_get_idx(v, i);
                        struct json_object_iterator it, end;
                        const char *name;
                        json_object *val;

                        if (!json_object_is_type(a, json_type_object) || json_object_object_length(a) != 1) {
                                set_why(err, "attribute %zu is not an object with one member", i);
                                goto out;
                        }
                        it = json_object_iter_begin(a);
                        end = json_object_iter_end(a);
                        (void) end;
                        name = json_object_iter_peek_name(&it);
                        val = json_object_iter_peek_value(&it);
                        if (!json_object_is_type(val, json_type_string)) {
                                set_why(err, "attribute \"%s\": the value must be a string", name);
                                goto out;
                        }
                        if (!hd_mdev_name_ok(name) || strstr(name, "..")) {
                                set_why(err, "attribute \"%s\": not a valid attribute name", name);
                                goto out;
                        }
                        r = hd_mdev_add_attr(&tmp, name, json_object_get_string(val));
                        if (r < 0)
                                goto out;
                        r = -EBADMSG;
                }
        }
        /* success: replace what @m held of a definition */
        free(m->type);
        for (size_t i = 0; i < m->n_attrs; i++) {
                free(m->attrs[i].name);
                free(m->attrs[i].value);
        }
        free(m->attrs);
        m->type = TAKE_PTR(tmp.type);
        m->autostart = tmp.autostart;
        m->attrs = TAKE_PTR(tmp.attrs);
        m->n_attrs = tmp.n_attrs;
        tmp.n_attrs = 0;
        r = 0;
out:
        hd_mdev_clear(&tmp);
        json_object_put(o);
        json_tokener_free(tok);
        return r;
}

static void json_str(struct hd_buf *b, const char *s) {
        json_object *o = json_object_new_string(s);
        if (!o) {
                b->err = -ENOMEM;
                return;
        }
        hd_buf_puts(b, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
}

/* serde_json's to_string_pretty() with preserve_order, as mdevctl writes */
_public_ int hd_mdev_parse_json(hd_ctx *ctx, const char *json, hd_mdev *m) {
        _cleanup_free_ char *err = NULL;
        int r;

        hd_error_clear(ctx);
        r = hd_mdev_json_parse(json, m, &err);
        return r < 0 && err ? hd_error(ctx, r, "%s", err) : r;
}

_public_ int hd_mdev_format_json(const hd_mdev *m, char **ret) {
        struct hd_buf b = {};

        if (!m || !m->type || !ret)
                return -EINVAL;
        hd_buf_puts(&b, "{\n  \"mdev_type\": ");
        json_str(&b, m->type);
        hd_buf_printf(&b, ",\n  \"start\": \"%s\",\n  \"attrs\": ", m->autostart ? "auto" : "manual");
        if (m->n_attrs == 0)
                hd_buf_puts(&b, "[]");
        else {
                hd_buf_puts(&b, "[\n");
                for (size_t i = 0; i < m->n_attrs; i++) {
                        hd_buf_puts(&b, "    {\n      ");
                        json_str(&b, m->attrs[i].name);
                        hd_buf_puts(&b, ": ");
                        json_str(&b, m->attrs[i].value);
                        hd_buf_puts(&b, i + 1 < m->n_attrs ? "\n    },\n" : "\n    }\n");
                }
                hd_buf_puts(&b, "  ]");
        }
        hd_buf_puts(&b, "\n}");
        return hd_buf_steal(&b, ret);
}

_public_ int hd_mdev_nodedev_name(const char *uuid, const char *parent, char **ret) {
        char *s;
        if (!uuid || !parent || !ret)
                return -EINVAL;
        if (hd_asprintf(&s, "mdev_%s_%s", uuid, parent) < 0)
                return -ENOMEM;
        for (char *p = s; *p; p++)
                if (!isalnum((unsigned char) *p))
                        *p = '_';
        *ret = s;
        return 0;
}

/* ---- libvirt node-device XML ---- */

static char *node_text(xmlNode *n) {
        xmlChar *c = xmlNodeGetContent(n);
        char *s;
        if (!c)
                return strdup("");
        s = strdup(hd_strip_both((char *) c));
        xmlFree(c);
        return s;
}

static char *node_prop(xmlNode *n, const char *name) {
        xmlChar *c = xmlGetProp(n, (const xmlChar *) name);
        char *s;
        if (!c)
                return NULL;
        s = strdup((const char *) c);
        xmlFree(c);
        return s;
}

static bool is_elem(xmlNode *n, const char *name) {
        return n->type == XML_ELEMENT_NODE && streq((const char *) n->name, name);
}

static int parse_mdev_cap(xmlNode *cap, hd_mdev *m, char **ret_parent_addr, char **err) {
        bool have_type = false, have_start = false;

        for (xmlNode *k = cap->children; k; k = k->next) {
                if (k->type != XML_ELEMENT_NODE)
                        continue;
                if (is_elem(k, "type")) {
                        if (have_type) {
                                set_why(err, "<capability type='mdev'> has more than one <type>");
                                return -EBADMSG;
                        }
                        have_type = true;
                        m->type = node_prop(k, "id");
                        if (isempty(m->type)) {
                                set_why(err, "<type> needs an id attribute (the mdev type, e.g. 'mtty-1')");
                                return -EBADMSG;
                        }
                } else if (is_elem(k, "uuid")) {
                        _cleanup_free_ char *u = node_text(k);
                        if (!u)
                                return -ENOMEM;
                        char uuid[37];
                        if (hd_mdev_uuid_norm(u, uuid) < 0) {
                                set_why(err, "<uuid>%s</uuid> is not a valid UUID", u);
                                return -EINVAL;
                        }
                        free(m->uuid);
                        m->uuid = strdup(uuid);
                        if (!m->uuid)
                                return -ENOMEM;
                } else if (is_elem(k, "attr")) {
                        _cleanup_free_ char *name = node_prop(k, "name"), *value = node_prop(k, "value");
                        if (isempty(name) || !value) {
                                set_why(err, "<attr> needs name and value attributes");
                                return -EBADMSG;
                        }
                        if (!hd_mdev_name_ok(name) || strstr(name, "..")) {
                                set_why(err, "<attr name='%s'> is not a valid attribute name", name);
                                return -EBADMSG;
                        }
                        if (hd_mdev_add_attr(m, name, value) < 0)
                                return -ENOMEM;
                } else if (is_elem(k, "start")) {
                        _cleanup_free_ char *t = node_prop(k, "type");
                        if (have_start || !t || (!streq(t, "auto") && !streq(t, "manual"))) {
                                set_why(err, "<start type=...> must appear once, as 'auto' or 'manual'");
                                return -EINVAL;
                        }
                        have_start = true;
                        m->autostart = streq(t, "auto");
                } else if (is_elem(k, "parent_addr")) {
                        free(*ret_parent_addr);
                        *ret_parent_addr = node_text(k);
                } else if (is_elem(k, "iommuGroup")) {
                        /* output only: ignored on input, as libvirt does */
                } else {
                        set_why(err, "unknown element <%s> in <capability type='mdev'>", (const char *) k->name);
                        return -EBADMSG;
                }
        }
        if (!have_type) {
                set_why(err, "<capability type='mdev'> needs <type id='...'/>");
                return -EBADMSG;
        }
        return 0;
}

_public_ int hd_mdev_parse_xml(hd_ctx *ctx, const char *xml, size_t len, hd_mdev **ret) {
        _cleanup_free_ char *parent = NULL, *parent_addr = NULL, *paddr = NULL, *err = NULL;
        xmlDoc *doc;
        xmlNode *root, *cap = NULL;
        hd_mdev *m;
        int r;

        if (!ctx || !xml || !ret || len > INT_MAX)
                return -EINVAL;
        hd_error_clear(ctx);
        xmlResetLastError();
        doc = xmlReadMemory(xml, (int) len, "device.xml", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc) {
                const xmlError *e = xmlGetLastError();
                char msg[200] = "unknown error";
                if (e && e->message) {
                        snprintf(msg, sizeof(msg), "%s", e->message);
                        hd_strip(msg);
                }
                return hd_error(ctx, -EBADMSG, "malformed XML (line %d): %s", e ? e->line : 0, msg);
        }
        m = calloc(1, sizeof(*m));
        if (!m) {
                xmlFreeDoc(doc);
                return -ENOMEM;
        }
        m->iommu_group = -1;
        root = xmlDocGetRootElement(doc);
        if (!root || !is_elem(root, "device")) {
                set_why(&err, "the root element must be <device>, not <%s>", root ? (const char *) root->name : "");
                r = -EBADMSG;
                goto fail;
        }
        for (xmlNode *k = root->children; k; k = k->next) {
                if (is_elem(k, "parent")) {
                        free(parent);
                        parent = node_text(k);
                } else if (is_elem(k, "capability")) {
                        if (cap) {
                                set_why(&err, "a mediated device has exactly one <capability>");
                                r = -EBADMSG;
                                goto fail;
                        }
                        cap = k;
                }
        }
        if (!cap) {
                set_why(&err, "<device> has no <capability type='mdev'>");
                r = -EBADMSG;
                goto fail;
        }
        {
                _cleanup_free_ char *t = node_prop(cap, "type");
                if (!streq_ptr(t, "mdev")) {
                        set_why(&err, "only mediated devices can be created or defined here, not <capability type='%s'>",
                               strempty(t));
                        r = -EOPNOTSUPP;
                        goto fail;
                }
        }
        r = parse_mdev_cap(cap, m, &parent_addr, &err);
        if (r < 0)
                goto fail;
        if (isempty(parent) && isempty(parent_addr)) {
                set_why(&err, "a mediated device needs a <parent> (e.g. pci_0000_00_02_0 or mtty_mtty)");
                r = -EBADMSG;
                goto fail;
        }
        r = hd_mdev_resolve_parent(ctx, !isempty(parent) ? parent : parent_addr, &paddr);
        hd_error_clear(ctx); /* the reason is this function's */
        if (r < 0) {
                if (r == -ENODEV)
                        set_why(&err, "unknown parent '%s': not a mediated-device parent on this host",
                               !isempty(parent) ? parent : parent_addr);
                goto fail;
        }
        {
                char path[PATH_MAX];
                snprintf(path, sizeof(path), "sys/class/mdev_bus/%s/mdev_supported_types/%s", paddr, m->type);
                if (!hd_mdev_name_ok(m->type) || !hd_sysfs_is_dir(ctx, path)) {
                        set_why(&err, "unknown mdev type '%s' for parent %s", m->type, paddr);
                        r = -ENOENT;
                        goto fail;
                }
        }
        m->parent = TAKE_PTR(paddr);
        xmlFreeDoc(doc);
        *ret = m;
        return 0;
fail:
        xmlFreeDoc(doc);
        hd_mdev_free(m);
        return err ? hd_error(ctx, r, "%s", err) : r;
}

/* ---- node devices (mdev/'s nodedev extension) ---- */

/* What mdev/ keeps on a node device of type mdev. */
struct mdev_node {
        char *parent;           /* parent address */
        hd_mdev *def;           /* mdevctl definition, when read and present */
        bool def_loaded;
};

static void mdev_node_free(void *p) {
        struct mdev_node *n = p;
        if (!n)
                return;
        free(n->parent);
        hd_mdev_free(n->def);
        free(n);
}

/* list data: hd_nodedev_list_add_defined_mdevs() ran */
static int defs_added = 1;

static void mdev_device_added(hd_device *d);
static void mdev_build_cap(hd_device *d, enum hd_cap_type what, struct hd_node *cap);
static bool mdev_has_cap(hd_device *d, enum hd_cap_type what);
static int mdev_inactive_node(hd_device *d, hd_device **ret);

const struct hd_nodedev_ext hd_mdev_nodedev_ext = {
        .name = "mdev",
        .device_added = mdev_device_added,
        .build_cap = mdev_build_cap,
        .has_cap = mdev_has_cap,
        .free_device_data = mdev_node_free,
        .inactive_node = mdev_inactive_node,
};

/* mdev/'s data of an mdev device, made on first use; NULL for other
 * devices and when out of memory */
static struct mdev_node *node_data(hd_device *d) {
        struct mdev_node *n;
        const char *syspath, *slash;

        if (hd_device_get_cap_type(d) != HD_CAP_MDEV)
                return NULL;
        n = hd_device_get_ext_data(d, &hd_mdev_nodedev_ext);
        if (n)
                return n;
        /* an active mdev: its parent is the directory above it */
        syspath = hd_device_get_syspath(d);
        slash = syspath ? strrchr(syspath, '/') : NULL;
        if (!slash || slash == syspath)
                return NULL;
        n = calloc(1, sizeof(*n));
        if (!n)
                return NULL;
        n->parent = strndup(syspath, (size_t) (slash - syspath));
        if (!n->parent) {
                free(n);
                return NULL;
        }
        memmove(n->parent, hd_path_basename(n->parent), strlen(hd_path_basename(n->parent)) + 1);
        hd_device_set_ext_data(d, &hd_mdev_nodedev_ext, n);
        return n;
}

/* definition of an active mdev device, read once */
static hd_mdev *device_def(hd_device *d) {
        struct mdev_node *n = node_data(d);

        if (!n)
                return NULL;
        if (!n->def_loaded && hd_device_is_active(d)) {
                char uuid[37];
                n->def_loaded = true;
                if (hd_mdev_uuid_norm(hd_device_get_sysname(d), uuid) >= 0)
                        (void) hd_mdev_def_read(hd_device_get_ctx(d), n->parent, uuid, &n->def);
        }
        return n->def;
}

static void mdev_device_added(hd_device *d) {
        if (hd_nodedev_list_get_ext_data(hd_device_get_list(d), &hd_mdev_nodedev_ext))
                (void) device_def(d);
}

_public_ bool hd_device_is_persistent(hd_device *d) {
        return d && device_def(d) != NULL;
}

_public_ bool hd_device_get_autostart(hd_device *d) {
        hd_mdev *m = d ? device_def(d) : NULL;
        return m && m->autostart;
}

_public_ int hd_device_get_mdev(hd_device *d, hd_mdev **ret) {
        _cleanup_free_ char *type = NULL, *grp = NULL;
        struct mdev_node *n;
        hd_mdev *def, *m;
        char path[PATH_MAX];
        int r;

        if (!d || !ret || hd_device_get_cap_type(d) != HD_CAP_MDEV)
                return -EINVAL;
        def = device_def(d);
        if (def) {
                r = hd_mdev_copy(def, &m);
                if (r < 0)
                        return r;
        } else {
                n = node_data(d);
                m = calloc(1, sizeof(*m));
                if (!m)
                        return -ENOMEM;
                char uuid[37];
                m->iommu_group = -1;
                if (hd_mdev_uuid_norm(hd_device_get_sysname(d), uuid) < 0 || !n || !(m->uuid = strdup(uuid)) ||
                    !(m->parent = strdup(n->parent))) {
                        hd_mdev_free(m);
                        return -ENOMEM;
                }
        }
        m->active = hd_device_is_active(d);
        m->defined = def != NULL;
        if (m->active) {
                if (hd_device_attr_path(d, "mdev_type", path, sizeof(path)) >= 0 &&
                    hd_sysfs_readlink(hd_device_get_ctx(d), path, &type) >= 0) {
                        free(m->type);
                        m->type = strdup(hd_path_basename(type));
                }
                if (hd_device_attr_path(d, "iommu_group", path, sizeof(path)) >= 0 &&
                    hd_sysfs_readlink(hd_device_get_ctx(d), path, &grp) >= 0) {
                        unsigned g;
                        if (hd_safe_atou(hd_path_basename(grp), 10, &g) >= 0 && g <= INT_MAX)
                                m->iommu_group = (int) g;
                }
        }
        *ret = m;
        return 0;
}

static void leaf_str(struct hd_node *p, const char *name, const char *v) {
        if (v)
                hd_node_leaf(p, name, 0, "%s", v);
}

/* <capability type='mdev'> */
static void build_mdev(hd_device *d, struct hd_node *cap) {
        hd_ctx *ctx = hd_device_get_ctx(d);
        char path[PATH_MAX];
        _cleanup_free_ char *type = NULL, *grp = NULL;
        struct mdev_node *n = node_data(d);
        /* only a definition read already (defined mdevs listed) */
        const hd_mdev *def = n ? n->def : NULL;

        if (!hd_device_is_active(d) && def) {
                /* defined but not running: everything comes from the definition */
                hd_node_attr(hd_node_add(cap, "type", 0), "id", "%s", def->type);
                hd_node_leaf(cap, "uuid", 0, "%s", def->uuid);
                leaf_str(cap, "parent_addr", def->parent);
        } else {
                if (hd_device_attr_path(d, "mdev_type", path, sizeof(path)) >= 0)
                        (void) hd_sysfs_readlink(ctx, path, &type);
                hd_node_attr(hd_node_add(cap, "type", 0), "id", "%s", type ? hd_path_basename(type) : "");
                hd_node_leaf(cap, "uuid", 0, "%s", hd_device_get_sysname(d));
                leaf_str(cap, "parent_addr", n ? n->parent : NULL);
                if (hd_device_attr_path(d, "iommu_group", path, sizeof(path)) >= 0 &&
                    hd_sysfs_readlink(ctx, path, &grp) >= 0)
                        hd_node_attr_num(hd_node_add(cap, "iommuGroup", 0), "number", "%s", hd_path_basename(grp));
        }
        if (def) {
                /* defined mdevs (mdevctl): attributes and start policy, as
                 * libvirt shows them (<start> is newer than libvirt 9.0's
                 * schema: docs/libvirt-compat.md) */
                for (size_t i = 0; i < def->n_attrs; i++) {
                        struct hd_node *a = hd_node_add(cap, "attr", HD_NODE_ARRAY);
                        hd_node_attr(a, "name", "%s", def->attrs[i].name);
                        hd_node_attr(a, "value", "%s", def->attrs[i].value);
                }
                hd_node_attr(hd_node_add(cap, "start", 0), "type", "%s", def->autostart ? "auto" : "manual");
        }
}

/* <capability type='mdev_types'> of a parent: the types libvirt shows
 * (a type without a readable device_api or available_instances is left
 * out, as libvirt does) */
static void build_mdev_types(hd_device *d, struct hd_node *cap) {
        hd_ctx *ctx = hd_device_get_ctx(d);
        _cleanup_strv_free_ char **ids = NULL;
        struct hd_node *mt = NULL;
        char dir[PATH_MAX];
        size_t n = 0;

        if (hd_device_attr_path(d, "mdev_supported_types", dir, sizeof(dir)) < 0 ||
            hd_sysfs_list_dir(ctx, dir, &ids, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                hd_mdev_type t = {};
                struct hd_node *e;

                hd_mdev_type_read(ctx, dir, ids[i], false, &t);
                if (!t.device_api || t.available < 0) {
                        log_warn(ctx, "/%s/%s: unreadable mediated device type, skipped", dir, ids[i]);
                        hd_mdev_type_clear(&t);
                        continue;
                }
                if (!mt)
                        mt = hd_node_cap(cap, "mdev_types");
                e = hd_node_add(mt, "type", HD_NODE_ARRAY);
                hd_node_attr(e, "id", "%s", ids[i]);
                if (t.name)
                        hd_node_leaf(e, "name", 0, "%s", t.name);
                hd_node_leaf(e, "deviceAPI", 0, "%s", t.device_api);
                hd_node_leaf(e, "availableInstances", HD_NODE_NUMBER, "%ld", t.available);
                hd_mdev_type_clear(&t);
        }
}

static void mdev_build_cap(hd_device *d, enum hd_cap_type what, struct hd_node *cap) {
        if (what == HD_CAP_MDEV && hd_device_get_cap_type(d) == HD_CAP_MDEV)
                build_mdev(d, cap);
        else if (what == HD_CAP_MDEV_TYPES)
                build_mdev_types(d, cap);
}

static bool mdev_has_cap(hd_device *d, enum hd_cap_type what) {
        char path[PATH_MAX];
        return what == HD_CAP_MDEV_TYPES &&
               hd_device_attr_path(d, "mdev_supported_types", path, sizeof(path)) >= 0 &&
               hd_sysfs_is_dir(hd_device_get_ctx(d), path);
}

static hd_device *parent_device(hd_nodedev_list *list, const char *paddr) {
        _cleanup_free_ char *syspath = NULL;
        char link[PATH_MAX];

        if (!hd_mdev_name_ok(paddr))
                return NULL;
        snprintf(link, sizeof(link), "sys/class/mdev_bus/%s", paddr);
        if (hd_sysfs_resolve_link(hd_nodedev_list_get_ctx(list), link, &syspath) < 0)
                return NULL;
        return hd_nodedev_list_find_syspath(list, syspath);
}

/* an inactive node device for a defined mdev; takes nothing */
static int new_defined(const hd_mdev *def, hd_device **ret) {
        struct mdev_node *n = NULL;
        char *name = NULL;
        hd_device *d;
        int r;

        if (hd_mdev_nodedev_name(def->uuid, def->parent, &name) < 0)
                return -ENOMEM;
        r = hd_device_new_inactive(HD_CAP_MDEV, "mdev", def->uuid, name, &d);
        if (r < 0)
                return r;
        n = calloc(1, sizeof(*n));
        if (n) {
                n->def_loaded = true;
                n->parent = strdup(def->parent);
                n->def = calloc(1, sizeof(*n->def));
        }
        if (!n || !n->parent || !n->def || hd_mdev_copy_into(def, n->def) < 0) {
                mdev_node_free(n);
                hd_device_free(d);
                return -ENOMEM;
        }
        hd_device_set_ext_data(d, &hd_mdev_nodedev_ext, n);
        *ret = d;
        return 0;
}

/* hd_nodedev_list_update: the active mdev @d is gone; in a list with the
 * defined mdevs (hd_nodedev_list_add_defined_mdevs), its definition (read
 * now) stays as an inactive node, as the list enumerated again shows it */
static int mdev_inactive_node(hd_device *d, hd_device **ret) {
        struct mdev_node *n;
        hd_mdev *def = NULL;
        char uuid[37];
        int r;

        if (hd_device_get_cap_type(d) != HD_CAP_MDEV ||
            !hd_nodedev_list_get_ext_data(hd_device_get_list(d), &hd_mdev_nodedev_ext) || !(n = node_data(d)) ||
            hd_mdev_uuid_norm(hd_device_get_sysname(d), uuid) < 0)
                return 0;
        r = hd_mdev_def_read(hd_device_get_ctx(d), n->parent, uuid, &def);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = new_defined(def, ret);
        hd_mdev_free(def);
        return r < 0 ? r : 1;
}

_public_ int hd_nodedev_list_add_defined_mdevs(hd_nodedev_list *list) {
        hd_mdev *v = NULL;
        size_t n = 0;
        int r;

        if (!list)
                return -EINVAL;
        if (hd_nodedev_list_get_ext_data(list, &hd_mdev_nodedev_ext))
                return 0;
        /* definitions of the active ones */
        for (size_t i = 0; i < hd_nodedev_list_count(list); i++)
                (void) device_def(hd_nodedev_list_get(list, i));
        r = hd_mdev_list(hd_nodedev_list_get_ctx(list), HD_MDEV_LIST_DEFINED, &v, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                hd_device *d;
                if (v[i].active)
                        continue;
                r = new_defined(&v[i], &d);
                if (r < 0)
                        break;
                r = hd_nodedev_list_insert(list, d, parent_device(list, v[i].parent));
                if (r == -EEXIST) {
                        log_warn(hd_nodedev_list_get_ctx(list), "defined mdev %s: duplicate node device name, skipped",
                                 v[i].uuid);
                        r = 0;
                }
                if (r < 0)
                        break;
        }
        hd_mdev_array_free(v, n);
        if (r >= 0)
                hd_nodedev_list_set_ext_data(list, &hd_mdev_nodedev_ext, &defs_added);
        return r < 0 ? r : 0;
}

/* ---- one parent's definitions again: hd_nodedev_list_update_defined_mdevs ---- */

/* what a node shows of a definition: type, start policy, attributes */
static bool def_same(const hd_mdev *a, const hd_mdev *b) {
        if (!a || !b)
                return a == b;
        if (!streq_ptr(a->type, b->type) || a->autostart != b->autostart || a->n_attrs != b->n_attrs)
                return false;
        for (size_t i = 0; i < a->n_attrs; i++)
                if (!streq_ptr(a->attrs[i].name, b->attrs[i].name) || !streq_ptr(a->attrs[i].value, b->attrs[i].value))
                        return false;
        return true;
}

/* @def (NULL: none) as @n's definition, read */
static int node_set_def(struct mdev_node *n, const hd_mdev *def) {
        hd_mdev *c = NULL;

        if (def) {
                int r = hd_mdev_copy(def, &c);
                if (r < 0)
                        return r;
        }
        hd_mdev_free(n->def);
        n->def = c;
        n->def_loaded = true;
        return 0;
}

/* the definition of @uuid among @v (sorted by UUID, one parent's) */
static const hd_mdev *def_find(const hd_mdev *v, size_t n, const char *uuid, size_t *ret_i) {
        size_t lo = 0, hi = n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(v[mid].uuid, uuid);
                if (c == 0) {
                        *ret_i = mid;
                        return &v[mid];
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

/* the node @d of @parent's mdev: its definition @def (NULL: none) now */
static int node_update(hd_nodedev_list *list, hd_device *d, const hd_mdev *def, hd_nodedev_change_fn fn,
                       void *userdata) {
        struct mdev_node *m = node_data(d);
        int r;

        if (!hd_device_is_active(d) && !def) {
                /* its definition removed: no node (the enumeration has
                 * none for a stopped mdev without one) */
                hd_nodedev_list_remove(list, d, fn, userdata);
                return 1;
        }
        if (m->def_loaded && def_same(m->def, def))
                return 0;
        r = node_set_def(m, def);
        if (r < 0)
                return r;
        if (fn)
                fn(list, d, HD_NODEDEV_REFRESHED, userdata);
        return 1;
}

/* @parent's definitions @v (@n, sorted by UUID) into @list */
static int update_parent(hd_nodedev_list *list, const char *parent, const hd_mdev *v, size_t n,
                         hd_nodedev_change_fn fn, void *userdata) {
        hd_ctx *ctx = hd_nodedev_list_get_ctx(list);
        _cleanup_free_ hd_device **nodes = calloc(hd_nodedev_list_count(list) ?: 1, sizeof(*nodes));
        _cleanup_free_ bool *seen = calloc(n ?: 1, sizeof(*seen));
        /* where the enumeration puts an inactive node of this parent */
        hd_device *pdev = parent_device(list, parent) ?: hd_nodedev_list_root(list);
        size_t nn = 0, i = 0, k = 0;
        int r, changed = 0;

        if (!nodes || !seen)
                return -ENOMEM;
        /* the nodes of @parent's mdevs now (by name: by UUID); first
         * whether every change can be made in place, before any is */
        for (size_t j = 0; j < hd_nodedev_list_count(list); j++) {
                hd_device *d = hd_nodedev_list_get(list, j);
                struct mdev_node *m = node_data(d);
                char uuid[37];
                size_t at;

                if (!m || !streq(m->parent, parent))
                        continue;
                if (hd_mdev_uuid_norm(hd_device_get_sysname(d), uuid) < 0)
                        return -ESTALE;
                if (def_find(v, n, uuid, &at)) {
                        /* an inactive node the enumeration would place
                         * elsewhere (its parent device came or went since) */
                        if (!hd_device_is_active(d) && hd_device_get_parent(d) != pdev) {
                                log_debug(ctx, "%s: not under its parent's device: cannot update it in place",
                                          hd_device_get_name(d));
                                return -ESTALE;
                        }
                        seen[at] = true;
                }
                nodes[nn++] = d;
        }
        for (size_t j = 0; j < n; j++) {
                _cleanup_free_ char *name = NULL;
                if (seen[j])
                        continue;
                if (hd_mdev_nodedev_name(v[j].uuid, parent, &name) < 0)
                        return -ENOMEM;
                /* another parent's node of the same name (names fold
                 * punctuation): which one the enumeration keeps depends on
                 * the order it reads them */
                if (hd_nodedev_list_find_name(list, name)) {
                        log_debug(ctx, "defined mdev %s: its node device name %s is taken", v[j].uuid, name);
                        return -ESTALE;
                }
        }

        /* the nodes there and the definitions without one, merged by UUID
         * (the order of names: the enumeration's comparison announces
         * them in it) */
        while (i < nn || k < n) {
                char uuid[37] = "";
                const hd_mdev *def;
                hd_device *d;
                size_t at;

                if (k < n && seen[k]) {
                        k++;
                        continue;
                }
                if (i < nn)
                        (void) hd_mdev_uuid_norm(hd_device_get_sysname(nodes[i]), uuid);
                if (i < nn && (k == n || strcmp(uuid, v[k].uuid) < 0)) {
                        def = def_find(v, n, uuid, &at);
                        r = node_update(list, nodes[i++], def, fn, userdata);
                        if (r < 0)
                                return r;
                        changed |= r;
                        continue;
                }
                /* a new definition: an inactive node */
                r = new_defined(&v[k++], &d);
                if (r < 0)
                        return r;
                r = hd_nodedev_list_insert(list, d, pdev); /* takes d */
                if (r < 0)
                        return r == -EEXIST ? -ESTALE : r;
                changed = 1;
                if (fn)
                        fn(list, d, HD_NODEDEV_ADDED, userdata);
        }
        return changed;
}

_public_ int hd_nodedev_list_update_defined_mdevs(hd_nodedev_list *list, const char *parent, hd_nodedev_change_fn fn,
                                                  void *userdata) {
        hd_mdev *v = NULL;
        size_t n = 0;
        int r;

        if (!list || !parent || isempty(parent) || strchr(parent, '/') || streq(parent, ".") || streq(parent, ".."))
                return -EINVAL;
        if (hd_nodedev_list_is_lazy(list) || !hd_nodedev_list_get_ext_data(list, &hd_mdev_nodedev_ext))
                return -EINVAL;
        r = hd_mdev_defs_load_parent(hd_nodedev_list_get_ctx(list), parent, &v, &n);
        if (r < 0)
                return r;
        r = update_parent(list, parent, v, n, fn, userdata);
        hd_mdev_array_free(v, n);
        return r;
}
