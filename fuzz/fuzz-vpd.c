/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PCI Vital Product Data (the sysfs `vpd` file): hd_pci_vpd_parse() on the
 * bytes exactly as read, then the <capability type='vpd'> document in
 * XML, JSON and text. */
#include "fuzz.h"
#include "nodedev/device.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct hd_pci_vpd v;
        struct hd_node *dom;
        /* an exact-size copy: the parser must not read past @size */
        uint8_t *copy = malloc(size ? size : 1);
        int r;

        FUZZ_ASSERT(copy);
        if (size)
                memcpy(copy, data, size);
        r = hd_pci_vpd_parse(copy, size, &v);
        free(copy);
        if (r < 0) {
                FUZZ_ASSERT(r == -EBADMSG);
                return 0;
        }
        FUZZ_ASSERT(v.name && v.n_ro <= 64 && v.n_rw <= 64);
        dom = hd_node_new_root("device");
        FUZZ_ASSERT(dom);
        hd_pci_vpd_build(hd_node_cap(dom, "pci"), &v);
        fuzz_render(dom);
        hd_node_free(dom);
        hd_pci_vpd_done(&v);
        return 0;
}
