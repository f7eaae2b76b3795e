/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A tiny document model: capability loaders fill one tree, and three
 * renderers turn it into libvirt XML, JSON (docs/json.md) and text.
 * Allocation failures are sticky in the root node and reported by the
 * renderers, so builders need no error checks on every call.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

enum {
        HD_NODE_ARRAY = 1 << 0,  /* JSON: collect siblings of this name into an array */
        HD_NODE_NUMBER = 1 << 1, /* JSON: text is a number */
        HD_NODE_CAP = 1 << 2,    /* <capability type=T>: JSON key "caps" → T */
        HD_NODE_BLOCK = 1 << 3,  /* XML: "<x>" and "</x>" on lines of their own even
                                  * when empty, as libvirt writes <firmware> */
};

struct hd_attr {
        char *key, *value;
        bool number;
};

struct hd_node {
        char *name;
        char *text;
        const char *text_key;    /* JSON key for text when there are attrs */
        unsigned flags;
        struct hd_attr *attrs;
        size_t n_attrs;
        struct hd_node **kids;
        size_t n_kids;
        struct hd_node *parent;
        int err;                 /* sticky, meaningful in the root */
};

struct hd_node *hd_node_new_root(const char *name);
void hd_node_free(struct hd_node *n);
static inline void hd_node_freep(struct hd_node **n) { hd_node_free(*n); }
#define _cleanup_node_ _cleanup_(hd_node_freep)

/* All of these accept a NULL node and then do nothing / return NULL. */
struct hd_node *hd_node_add(struct hd_node *parent, const char *name, unsigned flags);
struct hd_node *hd_node_leaf(struct hd_node *parent, const char *name, unsigned flags,
                             const char *fmt, ...) _printf_(4, 5);
struct hd_node *hd_node_cap(struct hd_node *parent, const char *type);
void hd_node_attr(struct hd_node *n, const char *key, const char *fmt, ...) _printf_(3, 4);
void hd_node_attr_num(struct hd_node *n, const char *key, const char *fmt, ...) _printf_(3, 4);
void hd_node_text(struct hd_node *n, const char *text);
void hd_node_set_error(struct hd_node *n, int err);
const char *hd_node_get_attr(struct hd_node *n, const char *key);

int hd_node_render_xml(struct hd_node *root, char **ret);
int hd_node_render_json(struct hd_node *root, bool pretty, char **ret);
int hd_node_render_text(struct hd_node *root, char **ret);
/* json-c object (struct json_object *) for embedding in larger documents. */
int hd_node_to_json_object(struct hd_node *root, void **ret);
