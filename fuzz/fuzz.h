/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the libFuzzer harnesses (fuzz/README.md). */
#pragma once

#include <json-c/json.h>
#include <libxml/parser.h>
#include <stdint.h>

#include "util/internal.h"
#include "util/dom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The input as a C string: a copy with a NUL after @size bytes (the input
 * may hold NULs itself, as a file read by the library may). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size) {
        char *s = malloc(size + 1);
        if (!s)
                abort();
        if (size)
                memcpy(s, data, size);
        s[size] = 0;
        return s;
}

/* HOSTDEV_FUZZ_CHECK_OUTPUT=1 (or xml, or json): the XML must be
 * well-formed (libxml2) and the JSON valid UTF-8 JSON (json-c).  Off by
 * default until sysfs strings that are not UTF-8 are handled (issue 10;
 * docs/reliability.md). */
static inline bool fuzz_check_output(const char *what) {
        const char *e = getenv("HOSTDEV_FUZZ_CHECK_OUTPUT");
        return e && (streq(e, "1") || streq(e, what));
}

static inline void fuzz_check_xml(const char *s) {
        xmlDoc *doc = xmlReadMemory(s, (int) strlen(s), "out.xml", NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc) {
                fprintf(stderr, "not well-formed XML:\n%s\n", s);
                abort();
        }
        xmlFreeDoc(doc);
}

static inline void fuzz_check_json(const char *s) {
        struct json_tokener *tok = json_tokener_new();
        json_object *o;
        if (!tok)
                abort();
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        o = json_tokener_parse_ex(tok, s, (int) strlen(s));
        if (!o || json_tokener_get_error(tok) != json_tokener_success) {
                fprintf(stderr, "invalid JSON (%s):\n%s\n", json_tokener_error_desc(json_tokener_get_error(tok)), s);
                abort();
        }
        json_object_put(o);
        json_tokener_free(tok);
}

/* Render a document in every format and drop it; the renderers must
 * succeed on whatever a parser put in the tree. */
static inline void fuzz_render(struct hd_node *dom) {
        char *s = NULL;
        if (hd_node_render_xml(dom, &s) < 0)
                abort();
        if (fuzz_check_output("xml"))
                fuzz_check_xml(s);
        free(s);
        s = NULL;
        if (hd_node_render_json(dom, true, &s) < 0)
                abort();
        if (fuzz_check_output("json"))
                fuzz_check_json(s);
        free(s);
        s = NULL;
        if (hd_node_render_text(dom, &s) < 0)
                abort();
        free(s);
}

/* A check of the library's own promises: a failure is a crash. */
#define FUZZ_ASSERT(cond)                                                                      \
        do {                                                                                   \
                if (!(cond)) {                                                                 \
                        fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
                        abort();                                                               \
                }                                                                              \
        } while (0)
