/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of internal helpers (TAP output). */
#include <stdio.h>

#include "nodedev/device.h"
#include "tap.h"



static void test_normalize(void) {
        static const struct { const char *in, *out; } t[] = {
                { "/sys/bus/pci/devices/../../../devices/pci0000:00", "/sys/devices/pci0000:00" },
                { "/a//b/./c/", "/a/b/c" },
                { "/", "/" },
                { "/a/..", "/" },
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                char *o = NULL;
                int r = hd_path_normalize(t[i].in, &o);
                CHECK(r == 0 && streq(o, t[i].out), "normalize %s -> %s", t[i].in, t[i].out);
                free(o);
        }
        char *o = NULL;
        CHECK(hd_path_normalize("/../etc", &o) == -EINVAL, "normalize refuses climbing above /");
        CHECK(hd_path_join_link("/sys/class/net/eth0", "../../devices/virtual/net/eth0", &o) == 0 &&
                      streq(o, "/sys/devices/virtual/net/eth0"), "join link");
        free(o);
}

static void test_pci_addr(void) {
        struct hd_pci_addr a;
        CHECK(hd_pci_addr_parse("0000:00:1f.2", &a) == 0 && a.bus == 0 && a.slot == 0x1f && a.function == 2,
              "parse full PCI address");
        CHECK(hd_pci_addr_parse("03:00.1", &a) == 0 && a.domain == 0 && a.bus == 3 && a.function == 1,
              "parse short PCI address");
        CHECK(hd_pci_addr_parse("10000:e1:00.0", &a) == 0 && a.domain == 0x10000, "parse VMD domain");
        static const char *bad[] = { "", "0000:00:1f", "0000:00:20.0", "0000:100:00.0", "00:00.8",
                                     "0000:00:1f.2x", "zz:00.0", "0000:00:00.0:1", "-1:00.0" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                CHECK(hd_pci_addr_parse(bad[i], &a) == -EINVAL, "reject PCI address '%s'", bad[i]);
}

static void test_hashmap(void) {
        struct hd_hashmap *h;
        char keys[2000][16];
        bool okay = true;

        CHECK(hd_hashmap_new(&h) == 0, "hashmap new");
        for (int i = 0; i < 2000; i++) {
                snprintf(keys[i], sizeof(keys[i]), "k%d", i);
                okay &= hd_hashmap_put(h, keys[i], keys[i]) == 0;
        }
        CHECK(okay, "hashmap put 2000");
        okay = true;
        for (int i = 0; i < 2000; i++)
                okay &= hd_hashmap_get(h, keys[i]) == keys[i];
        CHECK(okay, "hashmap get 2000");
        CHECK(hd_hashmap_put(h, "k5", NULL) == -EEXIST, "hashmap refuses duplicates");
        CHECK(hd_hashmap_get(h, "nope") == NULL, "hashmap miss");
        hd_hashmap_free(h);
}

static void test_udev_db(void) {
        struct hd_raw_device raw = {};
        const char *db = "S:disk/by-id/ata-X\nI:123\nE:ID_SERIAL=X_Y\nE:ID_TYPE=disk\nG:systemd\nE:=junk\nE:NOEQ\n";
        CHECK(hd_uevent_parse("DEVTYPE=disk\nMAJOR=8\nID_TYPE=cd\n", &raw) == 0, "uevent parse");
        CHECK(hd_udev_db_parse(db, &raw) == 0, "udev db parse");
        CHECK(streq_ptr(hd_raw_get_prop(&raw, "ID_SERIAL"), "X_Y"), "udev db property");
        CHECK(streq_ptr(hd_raw_get_prop(&raw, "ID_TYPE"), "disk"), "udev db overrides uevent");
        CHECK(raw.n_devlinks == 1 && streq(raw.devlinks[0], "/dev/disk/by-id/ata-X"), "udev db devlink");
        CHECK(hd_raw_get_prop(&raw, "NOEQ") == NULL, "malformed lines ignored");
        hd_raw_device_done(&raw);
}

static void test_dom(void) {
        struct hd_node *r = hd_node_new_root("device");
        struct hd_node *c = hd_node_cap(r, "pci");
        char *xml = NULL, *json = NULL;
        hd_node_leaf(r, "name", 0, "a<b>&'\"");
        hd_node_attr(hd_node_add(c, "address", HD_NODE_ARRAY), "bus", "0x%02x", 3);
        hd_node_attr(hd_node_add(c, "address", HD_NODE_ARRAY), "bus", "0x%02x", 4);
        hd_node_leaf(c, "domain", HD_NODE_NUMBER, "%d", 7);
        CHECK(hd_node_render_xml(r, &xml) == 0 && strstr(xml, "<name>a&lt;b&gt;&amp;&apos;&quot;</name>") &&
                      strstr(xml, "<address bus='0x03'/>"), "XML escaping and empty elements");
        CHECK(hd_node_render_json(r, false, &json) == 0 &&
                      strstr(json, "\"caps\":{\"pci\":{\"address\":[{\"bus\":\"0x03\"},{\"bus\":\"0x04\"}],\"domain\":7}}"),
              "JSON mapping: caps, arrays, numbers (%s)", json ? json : "null");
        free(xml);
        free(json);
        hd_node_free(r);
}

int main(void) {
        test_normalize();
        test_pci_addr();
        test_hashmap();
        test_udev_db();
        test_dom();
        return tap_finish();
}
