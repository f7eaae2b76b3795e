/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hostdevd's ListDevices filter string (any caller on the bus sends it):
 * hd_nodedev_filter_parse() against the fuzz host.  A refused string gets
 * -EINVAL with hostdevctl's sentence and no filter; a parsed one filters
 * the host's devices (hd_nodedev_list_to_json, as the daemon answers),
 * and its JSON parses. */
#include "tree.h"
#include "hostdev/listing.h"

static hd_ctx *ctx;
static hd_nodedev_list *list;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void) fuzz_tree_setup(&ctx);
        if (hd_nodedev_list_new(ctx, &list) < 0)
                abort();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        hd_nodedev_filter *f = NULL;
        json_object *o = NULL;
        char *spec, *err = NULL;
        int r;

        if (size > 1 << 16)
                return -1;
        spec = fuzz_cstr(data, size);
        r = hd_nodedev_filter_parse(spec, &f, &err);
        free(spec);
        if (r < 0) {
                FUZZ_ASSERT(!f && (r == -ENOMEM || (r == -EINVAL && err && *err)));
                free(err);
                return 0;
        }
        FUZZ_ASSERT(f && !err);
        (void) hd_nodedev_filter_by_device(f);
        (void) hd_nodedev_filter_by_state(f);
        FUZZ_ASSERT(hd_nodedev_list_to_json(list, hd_nodedev_filter_match, f, &o) == 0);
        fuzz_check_json(json_object_to_json_string(o));
        json_object_put(o);
        hd_nodedev_filter_free(f);
        return 0;
}
