/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the libFuzzer harnesses (fuzz/README.md). */
#pragma once

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

/* Render a document in every format and drop it; the renderers must
 * succeed on whatever a parser put in the tree. */
static inline void fuzz_render(struct hd_node *dom) {
        char *s = NULL;
        if (hd_node_render_xml(dom, &s) < 0)
                abort();
        free(s);
        s = NULL;
        if (hd_node_render_json(dom, true, &s) < 0)
                abort();
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
