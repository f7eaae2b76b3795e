/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A result's JSON as hostdevd replies it (hd_result_from_json): the first
 * byte picks the kind, the rest is the document.  A document that parses
 * renders to JSON that parses again to the same JSON and the same text; a
 * rejected one fails with -EBADMSG and the context's error, and no result. */
#include "fuzz.h"

static char *json_of(const hd_result *r) {
        json_object *o = NULL;
        char *s;

        FUZZ_ASSERT(hd_result_to_json(r, &o) == 0);
        s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        FUZZ_ASSERT(s);
        json_object_put(o);
        return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static hd_ctx *ctx;
        hd_result *r = NULL, *r2 = NULL;
        char *text, *j1, *j2, *t1 = NULL, *t2 = NULL;
        enum hd_result_kind kind;
        int k;

        if (size < 1 || size > 1 << 20)
                return -1;
        if (!ctx && hd_ctx_new(NULL, &ctx) < 0)
                abort();
        kind = (enum hd_result_kind) (data[0] % (HD_RESULT_DOMAIN + 1));
        text = fuzz_cstr(data + 1, size - 1);
        k = hd_result_from_json(ctx, kind, text, &r);
        free(text);
        if (k < 0) {
                FUZZ_ASSERT((k == -EBADMSG || k == -ENOMEM) && !r);
                FUZZ_ASSERT(k == -ENOMEM || hd_ctx_get_error(ctx));
                return 0;
        }
        FUZZ_ASSERT(r && hd_result_get_kind(r) == kind);
        j1 = json_of(r);
        FUZZ_ASSERT(hd_result_format_text(r, &t1) == 0);
        k = hd_result_from_json(ctx, kind, j1, &r2);
        if (k < 0)
                fprintf(stderr, "re-parse failed: %s\n%s\n", hd_ctx_get_error(ctx), j1);
        FUZZ_ASSERT(k == 0);
        j2 = json_of(r2);
        FUZZ_ASSERT(streq(j1, j2));
        FUZZ_ASSERT(hd_result_format_text(r2, &t2) == 0 && streq(t1, t2));
        free(j1);
        free(j2);
        free(t1);
        free(t2);
        hd_result_unref(r);
        hd_result_unref(r2);
        return 0;
}
