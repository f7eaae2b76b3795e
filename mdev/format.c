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

_printf_(3, 4) static void seterr(char *err, size_t size, const char *fmt, ...) {
        va_list ap;
        if (!err || !size)
                return;
        va_start(ap, fmt);
        vsnprintf(err, size, fmt, ap);
        va_end(ap);
}

/* ---- mdevctl JSON ---- */

_public_ int hd_mdev_parse_json(const char *json, hd_mdev *m, char *err, size_t errsize) {
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
                seterr(err, errsize, "malformed JSON: %s",
                       jerr == json_tokener_continue ? "unexpected end of input" : json_tokener_error_desc(jerr));
                json_object_put(o);
                json_tokener_free(tok);
                return -EBADMSG;
        }
        for (size_t i = tok->char_offset; i < len; i++)
                if (!isspace((unsigned char) json[i])) {
                        seterr(err, errsize, "malformed JSON: trailing data after the object");
                        goto out;
                }
        if (!json_object_is_type(o, json_type_object)) {
                seterr(err, errsize, "the definition is not a JSON object");
                goto out;
        }
        if (!json_object_object_get_ex(o, "mdev_type", &v) || !json_object_is_type(v, json_type_string) ||
            !hd_mdev_name_ok(json_object_get_string(v))) {
                seterr(err, errsize, "\"mdev_type\" is missing or not a valid type name");
                goto out;
        }
        tmp.type = strdup(json_object_get_string(v));
        if (!tmp.type) {
                r = -ENOMEM;
                goto out;
        }
        if (!json_object_object_get_ex(o, "start", &v) || !json_object_is_type(v, json_type_string) ||
            (!streq(json_object_get_string(v), "auto") && !streq(json_object_get_string(v), "manual"))) {
                seterr(err, errsize, "\"start\" is missing or neither \"auto\" nor \"manual\"");
                goto out;
        }
        tmp.autostart = streq(json_object_get_string(v), "auto");
        if (json_object_object_get_ex(o, "attrs", &v) && !json_object_is_type(v, json_type_null)) {
                if (!json_object_is_type(v, json_type_array)) {
                        seterr(err, errsize, "\"attrs\" is not an array");
                        goto out;
                }
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        json_object *a = json_object_array_get_idx(v, i);
                        struct json_object_iterator it, end;
                        const char *name;
                        json_object *val;

                        if (!json_object_is_type(a, json_type_object) || json_object_object_length(a) != 1) {
                                seterr(err, errsize, "attribute %zu is not an object with one member", i);
                                goto out;
                        }
                        it = json_object_iter_begin(a);
                        end = json_object_iter_end(a);
                        (void) end;
                        name = json_object_iter_peek_name(&it);
                        val = json_object_iter_peek_value(&it);
                        if (!json_object_is_type(val, json_type_string)) {
                                seterr(err, errsize, "attribute \"%s\": the value must be a string", name);
                                goto out;
                        }
                        if (!hd_mdev_name_ok(name) || strstr(name, "..")) {
                                seterr(err, errsize, "attribute \"%s\": not a valid attribute name", name);
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

static int parse_mdev_cap(xmlNode *cap, hd_mdev *m, char **ret_parent_addr, char *err, size_t errsize) {
        bool have_type = false, have_start = false;

        for (xmlNode *k = cap->children; k; k = k->next) {
                if (k->type != XML_ELEMENT_NODE)
                        continue;
                if (is_elem(k, "type")) {
                        if (have_type) {
                                seterr(err, errsize, "<capability type='mdev'> has more than one <type>");
                                return -EBADMSG;
                        }
                        have_type = true;
                        m->type = node_prop(k, "id");
                        if (isempty(m->type)) {
                                seterr(err, errsize, "<type> needs an id attribute (the mdev type, e.g. 'mtty-1')");
                                return -EBADMSG;
                        }
                } else if (is_elem(k, "uuid")) {
                        _cleanup_free_ char *u = node_text(k);
                        if (!u)
                                return -ENOMEM;
                        if (hd_mdev_uuid_norm(u, m->uuid) < 0) {
                                seterr(err, errsize, "<uuid>%s</uuid> is not a valid UUID", u);
                                return -EINVAL;
                        }
                } else if (is_elem(k, "attr")) {
                        _cleanup_free_ char *name = node_prop(k, "name"), *value = node_prop(k, "value");
                        if (isempty(name) || !value) {
                                seterr(err, errsize, "<attr> needs name and value attributes");
                                return -EBADMSG;
                        }
                        if (!hd_mdev_name_ok(name) || strstr(name, "..")) {
                                seterr(err, errsize, "<attr name='%s'> is not a valid attribute name", name);
                                return -EBADMSG;
                        }
                        if (hd_mdev_add_attr(m, name, value) < 0)
                                return -ENOMEM;
                } else if (is_elem(k, "start")) {
                        _cleanup_free_ char *t = node_prop(k, "type");
                        if (have_start || !t || (!streq(t, "auto") && !streq(t, "manual"))) {
                                seterr(err, errsize, "<start type=...> must appear once, as 'auto' or 'manual'");
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
                        seterr(err, errsize, "unknown element <%s> in <capability type='mdev'>", (const char *) k->name);
                        return -EBADMSG;
                }
        }
        if (!have_type) {
                seterr(err, errsize, "<capability type='mdev'> needs <type id='...'/>");
                return -EBADMSG;
        }
        return 0;
}

_public_ int hd_mdev_parse_xml(hd_ctx *ctx, const char *xml, size_t len, hd_mdev **ret, char *err, size_t errsize) {
        _cleanup_free_ char *parent = NULL, *parent_addr = NULL, *paddr = NULL;
        xmlDoc *doc;
        xmlNode *root, *cap = NULL;
        hd_mdev *m;
        int r;

        if (!ctx || !xml || !ret || len > INT_MAX)
                return -EINVAL;
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
                seterr(err, errsize, "malformed XML (line %d): %s", e ? e->line : 0, msg);
                return -EBADMSG;
        }
        m = calloc(1, sizeof(*m));
        if (!m) {
                xmlFreeDoc(doc);
                return -ENOMEM;
        }
        m->iommu_group = -1;
        root = xmlDocGetRootElement(doc);
        if (!root || !is_elem(root, "device")) {
                seterr(err, errsize, "the root element must be <device>, not <%s>", root ? (const char *) root->name : "");
                r = -EBADMSG;
                goto fail;
        }
        for (xmlNode *k = root->children; k; k = k->next) {
                if (is_elem(k, "parent")) {
                        free(parent);
                        parent = node_text(k);
                } else if (is_elem(k, "capability")) {
                        if (cap) {
                                seterr(err, errsize, "a mediated device has exactly one <capability>");
                                r = -EBADMSG;
                                goto fail;
                        }
                        cap = k;
                }
        }
        if (!cap) {
                seterr(err, errsize, "<device> has no <capability type='mdev'>");
                r = -EBADMSG;
                goto fail;
        }
        {
                _cleanup_free_ char *t = node_prop(cap, "type");
                if (!streq_ptr(t, "mdev")) {
                        seterr(err, errsize, "only mediated devices can be created or defined here, not <capability type='%s'>",
                               strempty(t));
                        r = -EOPNOTSUPP;
                        goto fail;
                }
        }
        r = parse_mdev_cap(cap, m, &parent_addr, err, errsize);
        if (r < 0)
                goto fail;
        if (isempty(parent) && isempty(parent_addr)) {
                seterr(err, errsize, "a mediated device needs a <parent> (e.g. pci_0000_00_02_0 or mtty_mtty)");
                r = -EBADMSG;
                goto fail;
        }
        r = hd_mdev_resolve_parent(ctx, !isempty(parent) ? parent : parent_addr, &paddr);
        if (r < 0) {
                if (r == -ENODEV)
                        seterr(err, errsize, "unknown parent '%s': not a mediated-device parent on this host",
                               !isempty(parent) ? parent : parent_addr);
                goto fail;
        }
        {
                char path[PATH_MAX];
                snprintf(path, sizeof(path), "sys/class/mdev_bus/%s/mdev_supported_types/%s", paddr, m->type);
                if (!hd_mdev_name_ok(m->type) || !hd_sysfs_is_dir(ctx, path)) {
                        seterr(err, errsize, "unknown mdev type '%s' for parent %s", m->type, paddr);
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
        return r;
}

/* ---- node devices ---- */

/* definition of an active mdev device, read once */
static hd_mdev *device_def(hd_device *d) {
        if (d->type != HD_CAP_MDEV)
                return NULL;
        if (!d->mdev_def_loaded && !d->inactive && d->mdev_parent_addr) {
                char uuid[37];
                d->mdev_def_loaded = true;
                if (hd_mdev_uuid_norm(d->sysname, uuid) >= 0)
                        (void) hd_mdev_def_read(d->list->ctx, d->mdev_parent_addr, uuid, &d->mdev_def);
        }
        return d->mdev_def;
}

void hd_device_load_mdev_def(hd_device *d) {
        (void) device_def(d);
}

_public_ bool hd_device_is_active(hd_device *d) {
        return d && !d->inactive;
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
        hd_mdev *def, *m;
        char path[PATH_MAX];
        int r;

        if (!d || !ret || d->type != HD_CAP_MDEV)
                return -EINVAL;
        def = device_def(d);
        if (def) {
                r = hd_mdev_copy(def, &m);
                if (r < 0)
                        return r;
        } else {
                m = calloc(1, sizeof(*m));
                if (!m)
                        return -ENOMEM;
                m->iommu_group = -1;
                if (hd_mdev_uuid_norm(d->sysname, m->uuid) < 0 || !d->mdev_parent_addr ||
                    !(m->parent = strdup(d->mdev_parent_addr))) {
                        hd_mdev_free(m);
                        return -ENOMEM;
                }
        }
        m->active = !d->inactive;
        m->defined = def != NULL;
        if (m->active) {
                if (hd_device_attr_path(d, "mdev_type", path, sizeof(path)) >= 0 &&
                    hd_sysfs_readlink(d->list->ctx, path, &type) >= 0) {
                        free(m->type);
                        m->type = strdup(hd_path_basename(type));
                }
                if (hd_device_attr_path(d, "iommu_group", path, sizeof(path)) >= 0 &&
                    hd_sysfs_readlink(d->list->ctx, path, &grp) >= 0) {
                        unsigned g;
                        if (hd_safe_atou(hd_path_basename(grp), 10, &g) >= 0 && g <= INT_MAX)
                                m->iommu_group = (int) g;
                }
        }
        *ret = m;
        return 0;
}

static hd_device *parent_device(hd_nodedev_list *list, const char *paddr) {
        _cleanup_free_ char *syspath = NULL;
        char link[PATH_MAX];

        if (!hd_mdev_name_ok(paddr))
                return NULL;
        snprintf(link, sizeof(link), "sys/class/mdev_bus/%s", paddr);
        if (hd_sysfs_resolve_link(list->ctx, link, &syspath) < 0)
                return NULL;
        return hd_nodedev_list_find_syspath(list, syspath);
}

_public_ int hd_nodedev_list_add_defined_mdevs(hd_nodedev_list *list) {
        hd_mdev *v = NULL;
        size_t n = 0;
        int r;

        if (!list)
                return -EINVAL;
        if (list->mdev_defs_added)
                return 0;
        /* definitions of the active ones */
        for (size_t i = 0; i < list->n; i++)
                (void) device_def(list->devs[i]);
        r = hd_mdev_list(list->ctx, HD_MDEV_LIST_DEFINED, &v, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                hd_device *d;
                if (v[i].active)
                        continue;
                d = calloc(1, sizeof(*d));
                if (!d) {
                        r = -ENOMEM;
                        break;
                }
                d->type = HD_CAP_MDEV;
                d->inactive = true;
                d->mdev_def_loaded = true;
                d->raw.subsystem = strdup("mdev");
                d->mdev_parent_addr = strdup(v[i].parent);
                d->mdev_def = calloc(1, sizeof(*d->mdev_def));
                if (!d->raw.subsystem || !d->mdev_parent_addr || !d->mdev_def ||
                    hd_mdev_copy_into(&v[i], d->mdev_def) < 0 ||
                    hd_mdev_nodedev_name(v[i].uuid, v[i].parent, &d->name) < 0) {
                        hd_device_free(d);
                        r = -ENOMEM;
                        break;
                }
                d->sysname = d->mdev_def->uuid;
                d->driver_loaded = true;
                r = hd_nodedev_list_insert(list, d, parent_device(list, v[i].parent));
                if (r == -EEXIST) {
                        log_warn(list->ctx, "defined mdev %s: duplicate node device name, skipped", v[i].uuid);
                        r = 0;
                }
                if (r < 0)
                        break;
        }
        hd_mdev_array_free(v, n);
        if (r >= 0)
                list->mdev_defs_added = true;
        return r < 0 ? r : 0;
}
