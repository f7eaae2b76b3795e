/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of internal helpers (TAP output). */
#include <stdio.h>
#include <stdlib.h>

#include "nodedev/nodedev-internal.h"
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

/* the policy every front end shares (util/policy.c, sriov/config.c) */
static void test_policy(void) {
        static const char *const changes[] = { "nodedev-detach", "apply", "sriov set", "mdev stop", "qemu-hook" };
        static const char *const reads[] = { "nodedev-list", "sriov list", "mdev list", "sriov", "", "detach" };
        for (size_t i = 0; i < ELEMENTSOF(changes); i++)
                CHECK(hd_operation_changes_host(changes[i]), "'%s' changes the host", changes[i]);
        for (size_t i = 0; i < ELEMENTSOF(reads); i++)
                CHECK(!hd_operation_changes_host(reads[i]), "'%s' does not change the host", reads[i]);
        CHECK(!hd_operation_changes_host(NULL), "no operation changes nothing");

        static const struct { const char *word; unsigned flags; const char *driver; } aliases[] = {
                { "vfio", 0, "vfio-pci" }, { "vfio-pci", 0, "vfio-pci" }, { "vfio_pci", 0, "vfio-pci" },
                { "stub", 0, "pci-stub" }, { "pci-stub", 0, "pci-stub" }, { "pci_stub", 0, "pci-stub" },
                { "host", HD_DRIVER_ALIAS_HOST, "host" }, { "host", 0, NULL }, { "nvidia", HD_DRIVER_ALIAS_HOST, NULL },
                { "", 0, NULL },
        };
        for (size_t i = 0; i < ELEMENTSOF(aliases); i++)
                CHECK(streq_ptr(hd_driver_from_alias(aliases[i].word, aliases[i].flags), aliases[i].driver),
                      "driver alias '%s' (flags %u) -> %s", aliases[i].word, aliases[i].flags,
                      aliases[i].driver ?: "NULL");

        char *dir = NULL;
        unsetenv("HOSTDEV_CONFIG_DIR");
        CHECK(hd_sriov_config_dir(NULL, &dir) == 0 && streq(dir, "/etc/hostdev"), "config dir: /etc/hostdev");
        free(dir), dir = NULL;
        setenv("HOSTDEV_CONFIG_DIR", "/srv/hd", 1);
        CHECK(hd_sriov_config_dir(NULL, &dir) == 0 && streq(dir, "/srv/hd"), "config dir: $HOSTDEV_CONFIG_DIR");
        free(dir), dir = NULL;
        setenv("HOSTDEV_CONFIG_DIR", "relative", 1);
        CHECK(hd_sriov_config_dir(NULL, &dir) == -EINVAL && !dir, "config dir: a relative $HOSTDEV_CONFIG_DIR is refused");
        unsetenv("HOSTDEV_CONFIG_DIR");
}

int main(void) {
        test_normalize();
        test_pci_addr();
        test_hashmap();
        test_udev_db();
        test_dom();
        test_policy();
        return tap_finish();
}
