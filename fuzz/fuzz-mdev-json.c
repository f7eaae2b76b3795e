/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mdevctl JSON definitions (<config dir>/<parent>/<uuid>): parse, write
 * back as mdevctl would, and parse that again: the round trip must give
 * the same definition. */
#include "fuzz.h"
#include "mdev/mdev-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        hd_mdev m = { .iommu_group = -1 }, m2 = { .iommu_group = -1 };
        char *text, *out = NULL, *err = NULL;
        int r;

        if (size > 1 << 20) /* the reader's limit */
                return -1;
        text = fuzz_cstr(data, size);
        r = hd_mdev_json_parse(text, &m, &err);
        free(text);
        if (r < 0) {
                FUZZ_ASSERT(r == -EBADMSG || r == -ENOMEM);
                free(err);
                hd_mdev_clear(&m);
                return 0;
        }
        FUZZ_ASSERT(m.type && hd_mdev_name_ok(m.type));
        r = hd_mdev_format_json(&m, &out);
        FUZZ_ASSERT(r == 0);
        r = hd_mdev_json_parse(out, &m2, &err);
        if (r < 0)
                fprintf(stderr, "re-parse failed: %s\n%s\n", err, out);
        free(err);
        FUZZ_ASSERT(r == 0);
        FUZZ_ASSERT(streq(m.type, m2.type) && m.autostart == m2.autostart && m.n_attrs == m2.n_attrs);
        for (size_t i = 0; i < m.n_attrs; i++)
                FUZZ_ASSERT(streq(m.attrs[i].name, m2.attrs[i].name) && streq(m.attrs[i].value, m2.attrs[i].value));
        free(out);
        hd_mdev_clear(&m);
        hd_mdev_clear(&m2);
        return 0;
}
