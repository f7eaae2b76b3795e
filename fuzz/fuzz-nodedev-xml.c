/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvirt node-device XML of an mdev (nodedev-create / nodedev-define):
 * hd_mdev_parse_xml() against the fuzz host, whose mdev parents are
 * mtty and the PCI GPU 0000:00:02.0; a parsed definition must also
 * survive the mdevctl JSON round trip that nodedev-define writes. */
#include "tree.h"
#include "mdev/mdev-internal.h"

static hd_ctx *ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void) fuzz_tree_setup(&ctx);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        hd_mdev *m = NULL, m2 = { .iommu_group = -1 };
        char *json = NULL, *err = NULL;
        int r;

        r = hd_mdev_parse_xml(ctx, (const char *) data, size, &m);
        if (r < 0) {
                FUZZ_ASSERT(m == NULL);
                /* the documented failures come with a reason */
                FUZZ_ASSERT(hd_ctx_get_error(ctx) || (r != -EBADMSG && r != -EINVAL && r != -ENOENT && r != -EOPNOTSUPP));
                return 0;
        }
        FUZZ_ASSERT(m->parent && m->type && hd_mdev_name_ok(m->type));
        FUZZ_ASSERT(!m->uuid || hd_uuid_is_valid(m->uuid));
        for (size_t i = 0; i < m->n_attrs; i++)
                FUZZ_ASSERT(hd_mdev_name_ok(m->attrs[i].name) && !strstr(m->attrs[i].name, ".."));
        FUZZ_ASSERT(hd_mdev_format_json(m, &json) == 0);
        r = hd_mdev_json_parse(json, &m2, &err);
        if (r < 0)
                fprintf(stderr, "re-parse failed: %s\n%s\n", err, json);
        free(err);
        FUZZ_ASSERT(r == 0 && streq(m2.type, m->type) && m2.n_attrs == m->n_attrs);
        free(json);
        hd_mdev_clear(&m2);
        hd_mdev_free(m);
        return 0;
}
