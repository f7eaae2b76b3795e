/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-c/json.h>
#include <stdarg.h>

#include "dom.h"
#include "internal.h"

static struct hd_node *root_of(struct hd_node *n) {
        while (n->parent)
                n = n->parent;
        return n;
}

void hd_node_set_error(struct hd_node *n, int err) {
        if (!n)
                return;
        n = root_of(n);
        if (!n->err)
                n->err = err;
}

struct hd_node *hd_node_new_root(const char *name) {
        struct hd_node *n = calloc(1, sizeof(*n));
        if (!n)
                return NULL;
        n->name = strdup(name);
        if (!n->name) {
                free(n);
                return NULL;
        }
        return n;
}

void hd_node_free(struct hd_node *n) {
        if (!n)
                return;
        for (size_t i = 0; i < n->n_kids; i++)
                hd_node_free(n->kids[i]);
        for (size_t i = 0; i < n->n_attrs; i++) {
                free(n->attrs[i].key);
                free(n->attrs[i].value);
        }
        free(n->kids);
        free(n->attrs);
        free(n->name);
        free(n->text);
        free(n);
}

struct hd_node *hd_node_add(struct hd_node *parent, const char *name, unsigned flags) {
        struct hd_node *n, **kids;

        if (!parent)
                return NULL;
        n = hd_node_new_root(name);
        kids = n ? realloc(parent->kids, sizeof(*kids) * (parent->n_kids + 1)) : NULL;
        if (!kids) {
                hd_node_free(n);
                hd_node_set_error(parent, -ENOMEM);
                return NULL;
        }
        n->flags = flags;
        n->parent = parent;
        kids[parent->n_kids++] = n;
        parent->kids = kids;
        return n;
}

void hd_node_text(struct hd_node *n, const char *text) {
        if (!n)
                return;
        free(n->text);
        n->text = strdup(text);
        if (!n->text)
                hd_node_set_error(n, -ENOMEM);
        else
                hd_utf8_sanitize(n->text);
}

struct hd_node *hd_node_leaf(struct hd_node *parent, const char *name, unsigned flags, const char *fmt, ...) {
        struct hd_node *n = hd_node_add(parent, name, flags);
        va_list ap;
        char *s;

        if (!n)
                return NULL;
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                hd_node_set_error(n, -ENOMEM);
        else
                n->text = hd_utf8_sanitize(s);
        va_end(ap);
        return n;
}

static void attr_v(struct hd_node *n, const char *key, bool number, const char *fmt, va_list ap) {
        struct hd_attr *a;
        char *v;

        if (!n)
                return;
        if (vasprintf(&v, fmt, ap) < 0) {
                hd_node_set_error(n, -ENOMEM);
                return;
        }
        a = realloc(n->attrs, sizeof(*a) * (n->n_attrs + 1));
        if (!a) {
                free(v);
                hd_node_set_error(n, -ENOMEM);
                return;
        }
        n->attrs = a;
        a[n->n_attrs].key = strdup(key);
        a[n->n_attrs].value = hd_utf8_sanitize(v);
        a[n->n_attrs].number = number;
        if (!a[n->n_attrs].key) {
                free(v);
                hd_node_set_error(n, -ENOMEM);
                return;
        }
        n->n_attrs++;
}

void hd_node_attr(struct hd_node *n, const char *key, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        attr_v(n, key, false, fmt, ap);
        va_end(ap);
}

void hd_node_attr_num(struct hd_node *n, const char *key, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        attr_v(n, key, true, fmt, ap);
        va_end(ap);
}

struct hd_node *hd_node_cap(struct hd_node *parent, const char *type) {
        struct hd_node *n = hd_node_add(parent, "capability", HD_NODE_CAP);
        hd_node_attr(n, "type", "%s", type);
        return n;
}

const char *hd_node_get_attr(struct hd_node *n, const char *key) {
        for (size_t i = 0; n && i < n->n_attrs; i++)
                if (streq(n->attrs[i].key, key))
                        return n->attrs[i].value;
        return NULL;
}

/* ---- XML ---- */

static void xml_escape(struct hd_buf *b, const char *s) {
        for (; *s; s++) {
                switch (*s) {
                case '&': hd_buf_puts(b, "&amp;"); break;
                case '<': hd_buf_puts(b, "&lt;"); break;
                case '>': hd_buf_puts(b, "&gt;"); break;
                case '\'': hd_buf_puts(b, "&apos;"); break;
                case '"': hd_buf_puts(b, "&quot;"); break;
                default:
                        /* Control characters are not allowed in XML 1.0. */
                        if ((unsigned char) *s < 0x20 && *s != '\t' && *s != '\n')
                                hd_buf_putc(b, ' ');
                        else
                                hd_buf_putc(b, *s);
                }
        }
}

static void xml_node(struct hd_buf *b, struct hd_node *n, int depth) {
        for (int i = 0; i < depth; i++)
                hd_buf_puts(b, "  ");
        hd_buf_putc(b, '<');
        hd_buf_puts(b, n->name);
        for (size_t i = 0; i < n->n_attrs; i++) {
                hd_buf_printf(b, " %s='", n->attrs[i].key);
                xml_escape(b, n->attrs[i].value);
                hd_buf_putc(b, '\'');
        }
        if (!n->text && n->n_kids == 0) {
                if (n->flags & HD_NODE_BLOCK) {
                        hd_buf_puts(b, ">\n");
                        for (int i = 0; i < depth; i++)
                                hd_buf_puts(b, "  ");
                        hd_buf_printf(b, "</%s>\n", n->name);
                } else
                        hd_buf_puts(b, "/>\n");
                return;
        }
        hd_buf_putc(b, '>');
        if (n->text)
                xml_escape(b, n->text);
        if (n->n_kids > 0) {
                hd_buf_putc(b, '\n');
                for (size_t i = 0; i < n->n_kids; i++)
                        xml_node(b, n->kids[i], depth + 1);
                for (int i = 0; i < depth; i++)
                        hd_buf_puts(b, "  ");
        }
        hd_buf_printf(b, "</%s>\n", n->name);
}

int hd_node_render_xml(struct hd_node *root, char **ret) {
        struct hd_buf b = {};

        if (root->err)
                return root->err;
        xml_node(&b, root, 0);
        return hd_buf_steal(&b, ret);
}

/* ---- JSON ---- */

static json_object *json_scalar(const char *s, bool number) {
        if (number) {
                long long v;
                if (hd_safe_atoll(s, 10, &v) >= 0)
                        return json_object_new_int64(v);
                char *end;
                double d = strtod(s, &end);
                if (*s && !*end)
                        return json_object_new_double(d);
        }
        return json_object_new_string(s);
}

static json_object *json_node(struct hd_node *n);

static int json_add_child(json_object *obj, struct hd_node *k) {
        json_object *v = json_node(k);
        const char *key = k->name;

        if (!v)
                return -ENOMEM;
        if (k->flags & HD_NODE_CAP) {
                json_object *caps;
                const char *type = hd_node_get_attr(k, "type");
                if (!json_object_object_get_ex(obj, "caps", &caps)) {
                        caps = json_object_new_object();
                        json_object_object_add(obj, "caps", caps);
                }
                json_object_object_add(caps, type ?: "unknown", v);
                return 0;
        }
        if (k->flags & HD_NODE_ARRAY) {
                json_object *arr;
                if (!json_object_object_get_ex(obj, key, &arr)) {
                        arr = json_object_new_array();
                        json_object_object_add(obj, key, arr);
                }
                json_object_array_add(arr, v);
                return 0;
        }
        json_object_object_add(obj, key, v);
        return 0;
}

static json_object *json_node(struct hd_node *n) {
        json_object *obj;

        if (n->n_attrs == 0 && n->n_kids == 0 && n->text && !(n->flags & HD_NODE_CAP))
                return json_scalar(n->text, n->flags & HD_NODE_NUMBER);

        obj = json_object_new_object();
        if (!obj)
                return NULL;
        for (size_t i = 0; i < n->n_attrs; i++) {
                if ((n->flags & HD_NODE_CAP) && streq(n->attrs[i].key, "type"))
                        continue;
                json_object_object_add(obj, n->attrs[i].key,
                                       json_scalar(n->attrs[i].value, n->attrs[i].number));
        }
        if (n->text)
                json_object_object_add(obj, n->text_key ?: "value",
                                       json_scalar(n->text, n->flags & HD_NODE_NUMBER));
        for (size_t i = 0; i < n->n_kids; i++)
                if (json_add_child(obj, n->kids[i]) < 0) {
                        json_object_put(obj);
                        return NULL;
                }
        return obj;
}

int hd_node_to_json_object(struct hd_node *root, void **ret) {
        json_object *o;

        if (root->err)
                return root->err;
        o = json_node(root);
        if (!o)
                return -ENOMEM;
        *ret = o;
        return 0;
}

int hd_node_render_json(struct hd_node *root, bool pretty, char **ret) {
        void *o = NULL;
        char *s;
        int r;

        r = hd_node_to_json_object(root, &o);
        if (r < 0)
                return r;
        s = strdup(json_object_to_json_string_ext(o, (pretty ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN) |
                                                     JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* ---- text ---- */

static void text_node(struct hd_buf *b, struct hd_node *n, int depth) {
        const char *label = n->name;
        size_t first_attr = 0;

        for (int i = 0; i < depth; i++)
                hd_buf_puts(b, "  ");
        if (n->flags & HD_NODE_CAP) {
                label = hd_node_get_attr(n, "type") ?: "capability";
                first_attr = 1;
        }
        hd_buf_puts(b, label);
        hd_buf_putc(b, ':');
        if (n->text) {
                hd_buf_putc(b, ' ');
                hd_buf_puts(b, n->text);
        }
        for (size_t i = first_attr; i < n->n_attrs; i++)
                hd_buf_printf(b, "%s%s=%s", i == first_attr ? (n->text ? " (" : " ") : ", ",
                              n->attrs[i].key, n->attrs[i].value);
        if (n->text && n->n_attrs > first_attr)
                hd_buf_putc(b, ')');
        hd_buf_putc(b, '\n');
        for (size_t i = 0; i < n->n_kids; i++)
                text_node(b, n->kids[i], depth + 1);
}

int hd_node_render_text(struct hd_node *root, char **ret) {
        struct hd_buf b = {};

        if (root->err)
                return root->err;
        /* The root element itself is not shown: its children are the fields. */
        for (size_t i = 0; i < root->n_kids; i++)
                text_node(&b, root->kids[i], 0);
        return hd_buf_steal(&b, ret);
}
