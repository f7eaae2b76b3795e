/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The stable identity of a PCI function: what lets persisted configuration
 * (SR-IOV state, boot-time bindings, driver overrides) notice that the slot
 * it names now holds another device.
 */
#include <stdint.h>

#include "nodedev/nodedev-internal.h"

static void find_text(struct hd_node *n, const char *name, char *buf, size_t size) {
        if (!n || buf[0])
                return;
        if (n->name && streq(n->name, name) && n->text) {
                snprintf(buf, size, "%s", n->text);
                return;
        }
        for (size_t i = 0; i < n->n_kids; i++)
                find_text(n->kids[i], name, buf, size);
}

int hd_pci_device_read_serial(hd_device *d, char *buf, size_t size) {
        struct hd_pci_config *cfg = malloc(sizeof(*cfg));
        buf[0] = 0;
        if (cfg && hd_pci_config_read(d, cfg) >= 0) {
                int pos = hd_pci_config_find_ext_cap(cfg, 0x0003); /* Device Serial Number */
                if (pos > 0) {
                        uint32_t lo = hd_pci_cfg32(cfg, (size_t) pos + 4), hi = hd_pci_cfg32(cfg, (size_t) pos + 8);
                        snprintf(buf, size, "%02x-%02x-%02x-%02x-%02x-%02x-%02x-%02x", hi >> 24, (hi >> 16) & 0xff,
                                 (hi >> 8) & 0xff, hi & 0xff, lo >> 24, (lo >> 16) & 0xff, (lo >> 8) & 0xff, lo & 0xff);
                }
        }
        free(cfg);
        if (buf[0])
                return 1;
        {
                struct hd_node *dom = NULL;
                if (hd_device_build_dom(d, &dom) >= 0)
                        find_text(dom, "serial_number", buf, size);
                hd_node_free(dom);
        }
        return buf[0] ? 2 : 0;
}

int hd_pci_device_read_identity(hd_device *d, struct hd_pci_identity *ret) {
        struct hd_pci_identity id = {};
        long long v;

        if (!d || d->type != HD_CAP_PCI)
                return -EINVAL;
        if (hd_device_read_attr_long(d, "vendor", 16, &v) < 0)
                return -ENODATA;
        id.vendor = (unsigned) v;
        if (hd_device_read_attr_long(d, "device", 16, &v) < 0)
                return -ENODATA;
        id.device = (unsigned) v;
        if (hd_device_read_attr_long(d, "subsystem_vendor", 16, &v) >= 0)
                id.subsystem_vendor = (unsigned) v;
        if (hd_device_read_attr_long(d, "subsystem_device", 16, &v) >= 0)
                id.subsystem_device = (unsigned) v;
        if (hd_device_read_attr_long(d, "class", 16, &v) >= 0)
                id.class_code = (unsigned) v;
        id.serial_is_dsn = hd_pci_device_read_serial(d, id.serial, sizeof(id.serial)) == 1;
        *ret = id;
        return 0;
}

int hd_pci_identity_compare(const struct hd_pci_identity *want, const struct hd_pci_identity *have, char *why,
                            size_t size) {
        if (want->vendor != have->vendor || want->device != have->device) {
                snprintf(why, size, "the device there is %04x:%04x, expected %04x:%04x", have->vendor, have->device,
                         want->vendor, want->device);
                return -ESTALE;
        }
        if (want->subsystem_vendor != have->subsystem_vendor || want->subsystem_device != have->subsystem_device) {
                snprintf(why, size, "subsystem ids are %04x:%04x, expected %04x:%04x", have->subsystem_vendor,
                         have->subsystem_device, want->subsystem_vendor, want->subsystem_device);
                return -ESTALE;
        }
        if (want->serial[0] && !streq(want->serial, have->serial)) {
                snprintf(why, size, "serial number is %s, expected %s", have->serial[0] ? have->serial : "unreadable",
                         want->serial);
                return -ESTALE;
        }
        return 0;
}
