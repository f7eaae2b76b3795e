/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PCI config space (the sysfs `config` file): the capability-list and
 * extended-capability walks (loops, out-of-range pointers, truncation)
 * and the <pci-express> link data built from them.
 *
 * Input: one flags byte, then the config space.  Flags bit 0: the file is
 * 4096 bytes long but only the given bytes are readable (an unprivileged
 * reader sees 64 bytes of a PCIe device). */
#include "fuzz.h"
#include "nodedev/device.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct hd_pci_config *c;
        struct hd_node *dom;
        int pos;

        if (size < 1)
                return -1;
        c = calloc(1, sizeof(*c));
        FUZZ_ASSERT(c);
        c->len = size - 1 < sizeof(c->b) ? size - 1 : sizeof(c->b);
        memcpy(c->b, data + 1, c->len);
        c->file_size = (data[0] & 1) ? 4096 : (off_t) c->len;
        /* hd_pci_config_read() refuses less than 64 bytes */
        if (c->len < 64) {
                free(c);
                return -1;
        }

        for (unsigned id = 0; id <= 0x15; id++) {
                pos = hd_pci_config_find_cap(c, id);
                FUZZ_ASSERT(pos == -1 || pos == 0 || (pos >= 0x40 && pos <= 0xfc && (size_t) pos + 2 <= c->len));
                if (pos > 0)
                        FUZZ_ASSERT(hd_pci_cfg8(c, (size_t) pos) == id);
        }
        for (unsigned id = 0; id <= 0x2f; id++) {
                pos = hd_pci_config_find_ext_cap(c, id);
                FUZZ_ASSERT(pos == -1 || pos == 0 || (pos >= 0x100 && (size_t) pos + 4 <= c->len));
                if (pos > 0)
                        FUZZ_ASSERT((hd_pci_cfg32(c, (size_t) pos) & 0xffff) == id);
        }
        /* accessors past the readable length read as zero */
        FUZZ_ASSERT(hd_pci_cfg32(c, c->len) == 0 && hd_pci_cfg16(c, SIZE_MAX - 1) == 0);

        dom = hd_node_new_root("device");
        FUZZ_ASSERT(dom);
        hd_pci_config_add_pcie(hd_node_cap(dom, "pci"), c);
        fuzz_render(dom);
        hd_node_free(dom);
        free(c);
        return 0;
}
