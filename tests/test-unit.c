/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of internal helpers (TAP output). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include <linux/devlink.h>
#include <linux/genetlink.h>
#include <string.h>

#include "nodedev/device.h"
#include "util/netlink.h"

#include <pci/pci.h>
#include "util/result-internal.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>



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

/* removal under linear probing: every other key removed, the rest still
 * found, the removed ones not, and put again */
static void test_hashmap_remove(void) {
        struct hd_hashmap *h;
        char keys[3000][16];
        bool okay = true;

        CHECK(hd_hashmap_new(&h) == 0, "hashmap new (remove)");
        for (int i = 0; i < 3000; i++) {
                snprintf(keys[i], sizeof(keys[i]), "r%d", i);
                okay &= hd_hashmap_put(h, keys[i], keys[i]) == 0;
        }
        for (int i = 0; i < 3000; i += 2)
                okay &= hd_hashmap_remove(h, keys[i]) == 0;
        CHECK(okay, "hashmap remove 1500 of 3000");
        okay = true;
        for (int i = 0; i < 3000; i++)
                okay &= hd_hashmap_get(h, keys[i]) == (i % 2 ? keys[i] : NULL);
        CHECK(okay, "hashmap: the kept keys found, the removed ones not");
        CHECK(hd_hashmap_remove(h, keys[0]) == -ENOENT, "hashmap remove of a missing key: -ENOENT");
        okay = true;
        for (int i = 0; i < 3000; i += 2)
                okay &= hd_hashmap_put(h, keys[i], keys[i]) == 0;
        for (int i = 0; i < 3000; i++)
                okay &= hd_hashmap_get(h, keys[i]) == keys[i];
        CHECK(okay, "hashmap: the removed keys put again, all 3000 found");
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

/* A generic netlink answer: header, genl header, u16 attribute @type. */
static size_t genl_answer(unsigned char *buf, size_t size, uint16_t msgtype, uint32_t seq, int type, uint16_t v) {
        struct hd_nlmsg m = { .b = buf, .size = size };
        struct genlmsghdr *g;
        hd_nlmsg_begin(&m, msgtype, 0, seq);
        g = hd_nlmsg_put(&m, GENL_HDRLEN);
        if (g)
                g->cmd = 1;
        hd_nlmsg_put_attr(&m, CTRL_ATTR_FAMILY_NAME, "devlink", 8);
        hd_nlmsg_put_attr(&m, (unsigned short) type, &v, sizeof(v));
        return (size_t) hd_nlmsg_finish(&m);
}

static void test_devlink(void) {
        unsigned char buf[256], two[512];
        uint16_t fam = 0;
        int mode = -1, len;
        size_t n;

        len = hd_devlink_build_eswitch_get(buf, sizeof(buf), 0x15, 7, "pci", "0000:3b:00.0");
        {
                const struct nlmsghdr *h = (const void *) buf;
                const struct genlmsghdr *g = NLMSG_DATA(h);
                const char *bus = NULL, *dev = NULL;
                HD_NLA_FOREACH(a, (const unsigned char *) g + GENL_HDRLEN, h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN)) {
                        if (hd_nla_type(a) == DEVLINK_ATTR_BUS_NAME)
                                bus = hd_nla_data(a);
                        if (hd_nla_type(a) == DEVLINK_ATTR_DEV_NAME)
                                dev = hd_nla_data(a);
                }
                CHECK(len > 0 && h->nlmsg_len == (uint32_t) len && h->nlmsg_type == 0x15 && h->nlmsg_seq == 7 &&
                              (h->nlmsg_flags & NLM_F_REQUEST) && g->cmd == DEVLINK_CMD_ESWITCH_GET &&
                              bus && streq(bus, "pci") && dev && streq(dev, "0000:3b:00.0"),
                      "devlink: eswitch-get request carries bus and device names");
        }
        CHECK(hd_devlink_build_eswitch_get(buf, 24, 0x15, 7, "pci", "0000:3b:00.0") == -ENOBUFS,
              "devlink: a request that does not fit is -ENOBUFS, not a truncated message");
        len = hd_devlink_build_getfamily(buf, sizeof(buf), 9);
        CHECK(len > 0 && ((struct nlmsghdr *) buf)->nlmsg_type == GENL_ID_CTRL, "devlink: family request to genl ctrl");

        n = genl_answer(buf, sizeof(buf), GENL_ID_CTRL, 9, CTRL_ATTR_FAMILY_ID, 0x1c);
        CHECK(hd_devlink_parse_family(buf, n, 9, &fam) == 0 && fam == 0x1c, "devlink: family id parsed (%u)", fam);
        CHECK(hd_devlink_parse_family(buf, n, 10, &fam) == -EBADMSG, "devlink: another sequence number is not ours");
        n = genl_answer(buf, sizeof(buf), 0x1c, 11, DEVLINK_ATTR_ESWITCH_MODE, DEVLINK_ESWITCH_MODE_SWITCHDEV);
        CHECK(hd_devlink_parse_eswitch(buf, n, 11, &mode) == 0 && mode == DEVLINK_ESWITCH_MODE_SWITCHDEV,
              "devlink: switchdev mode parsed");
        CHECK(hd_devlink_parse_eswitch(buf, n - 4, 11, &mode) == -EBADMSG, "devlink: a cut datagram is -EBADMSG");
        n = genl_answer(buf, sizeof(buf), 0x1c, 11, DEVLINK_ATTR_ESWITCH_INLINE_MODE, 1);
        CHECK(hd_devlink_parse_eswitch(buf, n, 11, &mode) == -ENODATA, "devlink: an answer without the mode is -ENODATA");
        /* someone else's message first, then our error */
        n = genl_answer(two, sizeof(two), 0x1c, 99, DEVLINK_ATTR_ESWITCH_MODE, 0);
        {
                struct hd_nlmsg m = { .b = two + n, .size = sizeof(two) - n };
                struct nlmsgerr *e;
                hd_nlmsg_begin(&m, NLMSG_ERROR, 0, 12);
                e = hd_nlmsg_put(&m, sizeof(*e));
                if (e)
                        e->error = -EOPNOTSUPP;
                n += (size_t) hd_nlmsg_finish(&m);
        }
        CHECK(hd_devlink_parse_eswitch(two, n, 12, &mode) == -EOPNOTSUPP,
              "devlink: the kernel's error for a device without an eswitch, past another's message");
        /* this machine's kernel, read only: the family lookup and the query
         * for an address that has no devlink instance.  -ENODEV as root;
         * -EPERM without CAP_NET_ADMIN (the kernel checks that first);
         * -ENOENT in a kernel without devlink; never a hang or -EBADMSG. */
        {
                int r = hd_devlink_eswitch_mode("pci", "0000:ff:1f.7", &mode);
                CHECK(r == -ENODEV || r == -EPERM || r == -ENOENT, "devlink on this kernel: no eswitch at 0000:ff:1f.7 (%s)",
                      strerror(-r));
        }
}

static void nop(char *msg _unused_, ...) {}

/* The pci.ids scan against libpci, for every vendor and device of the
 * system's pci.ids and for ids it lacks. */
static void test_pciids(void) {
        struct pci_access *a = pci_alloc();
        _cleanup_free_ char *text = NULL;
        size_t len = 0, n_vendors = 0, n_devices = 0, n_checked = 0, n_bad = 0, n_absent = 0, n_lib_absent = 0;
        size_t n_indexed = 0, n_ix_bad = 0;
        char first_ix_bad[200] = "";
        struct hd_pciids *ix = NULL;
        char first_bad[160] = "";
        FILE *f;

        a->warning = nop;
        a->debug = nop;
        f = fopen(a->id_file_name, "re");
        if (!f && strlen(a->id_file_name) > 3) { /* libpci's fallback from "pci.ids.gz" */
                char plain[PATH_MAX];
                snprintf(plain, sizeof(plain), "%.*s", (int) strlen(a->id_file_name) - 3, a->id_file_name);
                f = fopen(plain, "re");
        }
        if (!f) {
                printf("ok %d # SKIP no pci.ids at %s\n", ++n_test, a->id_file_name);
                pci_cleanup(a);
                return;
        }
        {
                char chunk[65536];
                size_t k;
                while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0) {
                        char *t = realloc(text, len + k + 1);
                        if (!t)
                                break;
                        text = t;
                        memcpy(text + len, chunk, k);
                        len += k;
                }
                fclose(f);
        }
        unsigned vendor = 0;
        bool in_vendor = false;
        for (char *p = text; p && p < text + len;) {
                char *eol = memchr(p, '\n', (size_t) (text + len - p));
                unsigned id;
                int dev = -2;
                if (*p != '\t' && *p != '#' && *p != 'C' && sscanf(p, "%4x", &id) == 1 && p[4] == ' ') {
                        vendor = id, in_vendor = true, dev = -1, n_vendors++;
                } else if (*p != '\t' && *p != '#' && p != eol)
                        in_vendor = false;
                else if (in_vendor && p[0] == '\t' && p[1] != '\t' && sscanf(p + 1, "%4x", &id) == 1)
                        dev = (int) id, n_devices++;
                /* every entry through the vendor index hostdev uses */
                if (dev >= -1) {
                        char want[512], got[512];
                        const char *w = dev < 0
                                ? pci_lookup_name(a, want, sizeof(want), PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB, vendor)
                                : pci_lookup_name(a, want, sizeof(want), PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB, vendor, dev);
                        int r = hd_pciids_lookup(&ix, a->id_file_name, vendor, dev, got, sizeof(got));
                        n_indexed++;
                        if ((r == 1) != (w != NULL) || (w && !streq(w, got)) || r == 0) {
                                if (!n_ix_bad++)
                                        snprintf(first_ix_bad, sizeof(first_ix_bad), "%04x:%d libpci '%s' index '%s' (%d)",
                                                 vendor, dev, w ? w : "(none)", r == 1 ? got : "(none)", r);
                        }
                }
                /* every fifth entry: each scan reads up to the whole file */
                if (dev >= -1 && (n_vendors + n_devices) % 5 == 0) {
                        char want[512], got[512];
                        const char *w = dev < 0
                                ? pci_lookup_name(a, want, sizeof(want), PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB, vendor)
                                : pci_lookup_name(a, want, sizeof(want), PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB, vendor, dev);
                        const char *name;
                        size_t nl;
                        int r = hd_pciids_find(text, len, vendor, dev, &name, &nl);
                        n_checked++;
                        if (r == 0)
                                snprintf(got, sizeof(got), "%.*s", (int) nl, name);
                        if ((r == 0) != (w != NULL) || (w && !streq(w, got))) {
                                if (!n_bad++)
                                        snprintf(first_bad, sizeof(first_bad), "%04x:%d libpci '%s' scan '%s'", vendor, dev,
                                                 w ? w : "(none)", r == 0 ? got : "(none)");
                        }
                }
                p = eol ? eol + 1 : NULL;
        }
        /* ids the file lacks: both say nothing */
        for (unsigned v = 0xfff0; v <= 0xfffe; v++) {
                char want[256];
                const char *name;
                size_t nl;
                const char *w = pci_lookup_name(a, want, sizeof(want), PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB, v);
                if (w)
                        continue;
                n_lib_absent++;
                if (hd_pciids_find(text, len, v, -1, &name, &nl) == -ENOENT &&
                    hd_pciids_find(text, len, v, 0x1234, &name, &nl) == -ENOENT)
                        n_absent++;
        }
        CHECK(n_vendors > 1000 && n_devices > 10000 && n_checked > 3000 && n_bad == 0,
              "pci.ids scan equals libpci for %zu of %zu vendors and devices (%zu differ%s%s)", n_checked,
              n_vendors + n_devices, n_bad, n_bad ? ", first: " : "", first_bad);
        CHECK(n_indexed == n_vendors + n_devices && n_ix_bad == 0,
              "pci.ids vendor index equals libpci for all %zu vendors and devices (%zu differ%s%s)", n_indexed, n_ix_bad,
              n_ix_bad ? ", first: " : "", first_ix_bad);
        {
                char got[64];
                CHECK(hd_pciids_lookup(&ix, a->id_file_name, 0xfff0, -1, got, sizeof(got)) == -ENOENT &&
                              hd_pciids_lookup(&ix, a->id_file_name, 0x8086, 0x0000, got, sizeof(got)) == -ENOENT,
                      "pci.ids vendor index: absent vendor and device");
        }
        hd_pciids_free(ix);
        CHECK(n_lib_absent >= 10 && n_absent == n_lib_absent,
              "pci.ids scan: vendor ids the file lacks have no name (%zu of %zu)", n_absent, n_lib_absent);
        pci_cleanup(a);
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

static char *json_text(json_object *o) {
        char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return s;
}

static void test_result(void) {
        _hd_cleanup_result_ hd_result *d = NULL, *sr = NULL, *m = NULL, *e = NULL;
        _cleanup_free_ char *text = NULL, *json = NULL;
        json_object *o = NULL;
        const hd_result_step *st;

        /* NULL-safety of every getter and renderer */
        CHECK(hd_result_get_status(NULL) == -EINVAL && !hd_result_get_reason(NULL) && hd_result_get_n_steps(NULL) == 0 &&
                      !hd_result_get_step(NULL, 0) && hd_result_count_outcome(NULL, HD_OUTCOME_DONE) == 0 &&
                      !hd_result_step_get_subject(NULL) && !hd_result_step_get_to(NULL) &&
                      hd_result_step_get_outcome(NULL) == HD_OUTCOME_FAILED && hd_result_step_get_error(NULL) == 0 &&
                      !hd_result_step_get_error_text(NULL) && hd_result_unref(NULL) == NULL &&
                      hd_result_format_text(NULL, &text) == -EINVAL && hd_result_to_json(NULL, &o) == -EINVAL && !text && !o,
              "result getters and renderers accept NULL");

        /* drivers (vfio): steps in order, "(none)" for unbound, the words */
        CHECK(hd_result_new(HD_RESULT_DRIVERS, &d) == 0 && hd_result_get_status(d) == 0 && !hd_result_get_reason(d) &&
                      hd_result_get_n_steps(d) == 0, "new result: ok, no reason, no steps");
        CHECK(hd_result_format_text(d, &text) == 0 && streq(text, ""), "no steps: empty text");
        free(TAKE_PTR(text));
        hd_result_add_step(d, &(struct hd_result_step_spec) { .subject = "0000:01:00.0", .from = "nouveau",
                                                               .to = "vfio-pci", .outcome = HD_OUTCOME_ROLLED_BACK });
        hd_result_add_step(d, &(struct hd_result_step_spec) { .subject = "0000:01:00.1", .from = "",
                                                               .to = "vfio-pci", .outcome = HD_OUTCOME_FAILED,
                                                               .error = -EIO });
        hd_result_fail(d, NULL, -EIO, "%s failed to bind to %s: %s", "0000:01:00.1", "vfio-pci", strerror(EIO));
        st = hd_result_get_step(d, 1);
        CHECK(hd_result_get_n_steps(d) == 2 && !hd_result_get_step(d, 2) &&
                      streq(hd_result_step_get_subject(st), "0000:01:00.1") && streq(hd_result_step_get_from(st), "") &&
                      hd_result_step_get_error(st) == -EIO && streq(hd_result_step_get_error_text(st), strerror(EIO)) &&
                      !hd_result_step_get_action(st) && !hd_result_step_get_parent(st),
              "steps keep subject, from, to, error and its text (strerror by default)");
        CHECK(hd_result_get_status(d) == -EIO && streq(hd_result_get_status_string(d), "failed") &&
                      streq(hd_result_get_reason(d), "0000:01:00.1 failed to bind to vfio-pci: Input/output error"),
              "status and reason");
        CHECK(hd_result_format_text(d, &text) == 0 &&
                      streq(text, "0000:01:00.0  nouveau -> vfio-pci  rolled back\n"
                                  "0000:01:00.1  (none) -> vfio-pci  FAILED\n"), "drivers text");
        CHECK(hd_result_to_json(d, &o) == 0 && (json = json_text(o)) &&
                      streq(json, "{\"status\":\"failed\",\"reason\":\"0000:01:00.1 failed to bind to vfio-pci: "
                                  "Input/output error\",\"devices\":[{\"address\":\"0000:01:00.0\",\"from\":\"nouveau\","
                                  "\"to\":\"vfio-pci\",\"result\":\"rolled back\"},{\"address\":\"0000:01:00.1\","
                                  "\"from\":\"\",\"to\":\"vfio-pci\",\"result\":\"FAILED\"}]}"),
              "drivers JSON shape (%s)", json);
        free(TAKE_PTR(text));
        free(TAKE_PTR(json));
        CHECK(hd_result_ref(d) == d && hd_result_unref(d) == NULL && hd_result_get_n_steps(d) == 2,
              "ref and unref keep the result alive");

        /* SR-IOV: "PF: action  word", refused, reason null on success */
        hd_result_new(HD_RESULT_SRIOV, &sr);
        hd_result_add_step(sr, &(struct hd_result_step_spec) { .subject = "0000:02:00.0",
                                                                .action = "sriov_numvfs 2 -> 0",
                                                                .outcome = HD_OUTCOME_PLANNED });
        hd_result_add_step(sr, &(struct hd_result_step_spec) { .subject = "0000:09:00.0", .action = "no device",
                                                                .outcome = HD_OUTCOME_SKIPPED });
        CHECK(hd_result_format_text(sr, &text) == 0 &&
                      streq(text, "0000:02:00.0: sriov_numvfs 2 -> 0  would change\n0000:09:00.0: no device  skipped\n"),
              "SR-IOV text");
        CHECK(hd_result_to_json(sr, &o) == 0 && (json = json_text(o)) &&
                      streq(json, "{\"status\":\"ok\",\"reason\":null,\"actions\":[{\"pf\":\"0000:02:00.0\","
                                  "\"action\":\"sriov_numvfs 2 -> 0\",\"result\":\"would change\"},{\"pf\":"
                                  "\"0000:09:00.0\",\"action\":\"no device\",\"result\":\"skipped\"}]}"),
              "SR-IOV JSON shape (%s)", json);
        free(TAKE_PTR(text));
        free(TAKE_PTR(json));
        hd_result_fail(sr, NULL, -EBUSY, "VF %u is detached for a VM", 1);
        CHECK(streq(hd_result_get_status_string(sr), "refused") && hd_result_count_outcome(sr, HD_OUTCOME_SKIPPED) == 1,
              "-EBUSY is refused; outcomes counted");

        /* merge: steps appended, the first failure kept */
        hd_result_new(HD_RESULT_SRIOV, &e);
        hd_result_fail(e, NULL, -ENODEV, "first");
        CHECK(hd_result_merge(e, sr) == 0 && hd_result_get_n_steps(e) == 2 && hd_result_get_status(e) == -ENODEV &&
                      streq(hd_result_get_reason(e), "first"), "merge keeps the first failure, appends the steps");

        /* mdev apply: a bare array, parent and type, error text */
        hd_result_new(HD_RESULT_MDEV_APPLY, &m);
        hd_result_add_step(m, &(struct hd_result_step_spec) { .subject = "b0a3989b-1b2d-4d6e-9d8e-2f3c4d5e6f70",
                                                               .action = "start", .parent = "0000:00:02.0",
                                                               .type = "i915-GVTg_V5_4", .outcome = HD_OUTCOME_FAILED,
                                                               .error = -ENOSPC });
        hd_result_add_step(m, &(struct hd_result_step_spec) { .subject = "c0a3989b-1b2d-4d6e-9d8e-2f3c4d5e6f70",
                                                               .action = "start", .parent = "mtty", .type = "mtty-1",
                                                               .outcome = HD_OUTCOME_DONE });
        CHECK(hd_result_format_text(m, &text) == 0 &&
                      streq(text, "mdev b0a3989b-1b2d-4d6e-9d8e-2f3c4d5e6f70  0000:00:02.0 i915-GVTg_V5_4  FAILED: "
                                  "No space left on device\n"
                                  "mdev c0a3989b-1b2d-4d6e-9d8e-2f3c4d5e6f70  mtty mtty-1  started\n"),
              "mdev apply text");
        CHECK(hd_result_to_json(m, &o) == 0 && (json = json_text(o)) &&
                      streq(json, "[{\"uuid\":\"b0a3989b-1b2d-4d6e-9d8e-2f3c4d5e6f70\",\"parent\":\"0000:00:02.0\","
                                  "\"type\":\"i915-GVTg_V5_4\",\"result\":\"FAILED\",\"error\":\"No space left on "
                                  "device\"},{\"uuid\":\"c0a3989b-1b2d-4d6e-9d8e-2f3c4d5e6f70\",\"parent\":\"mtty\","
                                  "\"type\":\"mtty-1\",\"result\":\"started\",\"error\":null}]"),
              "mdev apply JSON shape (%s)", json);

        /* reset: one line for a reset or a skip, nothing for a refusal */
        {
                _hd_cleanup_result_ hd_result *rs = NULL, *rf = NULL;
                hd_result_new(HD_RESULT_RESET, &rs);
                hd_result_set_reason(rs, "%s is bound to vfio-pci, which resets it itself", "0000:01:00.0");
                hd_result_add_step(rs, &(struct hd_result_step_spec) { .subject = "pci_0000_01_00_0", .action = "reset",
                                                                        .to = "none", .outcome = HD_OUTCOME_SKIPPED });
                free(TAKE_PTR(text));
                CHECK(hd_result_format_text(rs, &text) == 0 &&
                              streq(text, "pci_0000_01_00_0: skipped: 0000:01:00.0 is bound to vfio-pci, which resets it "
                                          "itself\n"), "reset skipped text");
                hd_result_new(HD_RESULT_RESET, &rf);
                hd_result_fail(rf, NULL, -EBUSY, "only a bus reset is possible");
                hd_result_add_step(rf, &(struct hd_result_step_spec) { .subject = "pci_0000_01_00_0", .action = "reset",
                                                                        .to = "bus", .outcome = HD_OUTCOME_NOT_ATTEMPTED,
                                                                        .error = -EBUSY });
                free(TAKE_PTR(text));
                free(TAKE_PTR(json));
                CHECK(hd_result_format_text(rf, &text) == 0 && streq(text, "") && hd_result_to_json(rf, &o) == 0 &&
                              (json = json_text(o)) &&
                              streq(json, "{\"status\":\"refused\",\"reason\":\"only a bus reset is possible\","
                                          "\"devices\":[{\"device\":\"pci_0000_01_00_0\",\"method\":\"bus\","
                                          "\"result\":\"not attempted\"}]}"),
                      "reset refused: no text, the JSON shape (%s)", json);
        }

        CHECK(streq(hd_outcome_to_string(HD_RESULT_DRIVERS, HD_OUTCOME_PLANNED), "would move") &&
                      streq(hd_outcome_to_string(HD_RESULT_MDEV_APPLY, HD_OUTCOME_SKIPPED), "parent absent") &&
                      streq(hd_outcome_to_string(HD_RESULT_DRIVERS, HD_OUTCOME_UNCHANGED), "unchanged") &&
                      streq(hd_outcome_to_string(HD_RESULT_SRIOV, HD_OUTCOME_NOT_ATTEMPTED), "not attempted"),
              "outcome words per kind");
}

static void ctx_unrefp_(hd_ctx **c) { hd_ctx_unref(*c); }

/* to_json(from_json(to_json(r))) == to_json(r), and the same text */
static void check_roundtrip(const hd_result *r, const char *what) {
        _hd_cleanup_result_ hd_result *back = NULL;
        _cleanup_free_ char *j1 = NULL, *j2 = NULL, *t1 = NULL, *t2 = NULL, *doc = NULL;
        json_object *o = NULL;
        int k;

        CHECK(hd_result_to_json(r, &o) == 0 && (j1 = json_text(o)), "%s: to_json", what);
        /* the pretty text hostdevd sends, not the compact one */
        CHECK(hd_result_to_json(r, &o) == 0 &&
                      (doc = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY))) != NULL,
              "%s: the pretty document", what);
        json_object_put(o);
        k = hd_result_from_json(NULL, hd_result_get_kind(r), doc, &back);
        CHECK(k == 0 && back, "%s: from_json (%d)", what, k);
        if (!back)
                return;
        CHECK(hd_result_to_json(back, &o) == 0 && (j2 = json_text(o)) && streq(j1, j2), "%s: JSON round trip (%s | %s)",
              what, j1, strempty(j2));
        CHECK(hd_result_format_text(r, &t1) == 0 && hd_result_format_text(back, &t2) == 0 && streq(t1, t2),
              "%s: the same text", what);
        /* mdev apply's JSON is the steps alone: no status, no reason */
        if (hd_result_get_kind(r) == HD_RESULT_MDEV_APPLY)
                CHECK(hd_result_get_kind(back) == HD_RESULT_MDEV_APPLY && hd_result_get_status(back) == 0 &&
                              !hd_result_get_reason(back) && hd_result_get_n_steps(back) == hd_result_get_n_steps(r),
                      "%s: kind, steps", what);
        else
        CHECK(hd_result_get_kind(back) == hd_result_get_kind(r) &&
                      streq(hd_result_get_status_string(back), hd_result_get_status_string(r)) &&
                      (hd_result_get_status(r) != -EBUSY || hd_result_get_status(back) == -EBUSY) &&
                      streq_ptr(hd_result_get_reason(back), hd_result_get_reason(r)) &&
                      hd_result_get_n_steps(back) == hd_result_get_n_steps(r),
              "%s: kind, status, reason and steps", what);
}

static void test_result_from_json(void) {
        static const enum hd_outcome outcomes[] = { HD_OUTCOME_DONE, HD_OUTCOME_UNCHANGED, HD_OUTCOME_PLANNED,
                                                    HD_OUTCOME_SKIPPED, HD_OUTCOME_FAILED, HD_OUTCOME_ROLLED_BACK,
                                                    HD_OUTCOME_NOT_ATTEMPTED };
        static const int statuses[] = { 0, -EBUSY, -EIO };
        static const char *const names[] = { "drivers", "sriov", "mdev apply", "reset", "mdev", "domain" };
        _cleanup_(ctx_unrefp_) hd_ctx *ctx = NULL;

        /* every kind, every outcome, each status, with and without optional strings */
        for (int kind = HD_RESULT_DRIVERS; kind <= HD_RESULT_DOMAIN; kind++)
                for (size_t si = 0; si < ELEMENTSOF(statuses); si++) {
                        _hd_cleanup_result_ hd_result *r = NULL;
                        char what[96];

                        hd_result_new((enum hd_result_kind) kind, &r);
                        if (statuses[si])
                                hd_result_fail(r, NULL, statuses[si], "why \"%s\" / %d", names[kind], statuses[si]);
                        else if (kind == HD_RESULT_RESET)
                                hd_result_set_reason(r, "a hint");
                        for (size_t i = 0; i < ELEMENTSOF(outcomes); i++) {
                                bool full = i % 2 == 0;
                                hd_result_add_step(r, &(struct hd_result_step_spec) {
                                        .subject = full || kind != HD_RESULT_MDEV ? "0000:01:00.0" : NULL,
                                        .action = full ? "sriov_numvfs 2 -> 4" : kind == HD_RESULT_DOMAIN ? NULL : "x",
                                        .parent = full ? "vm1" : kind == HD_RESULT_DOMAIN ? NULL : "mtty",
                                        .type = kind == HD_RESULT_DOMAIN ? (i % 3 == 0 ? "move" : i % 3 == 1 ? "detach-group" : "attach")
                                                                         : "mtty-1",
                                        .from = full ? "nouveau" : "", .to = full ? "vfio-pci" : NULL,
                                        .outcome = outcomes[i], .error = outcomes[i] == HD_OUTCOME_FAILED ? -ENOSPC : 0,
                                        .error_text = full && outcomes[i] != HD_OUTCOME_FAILED ? "a note\nwith a newline" : NULL,
                                        .xml = kind == HD_RESULT_DOMAIN && full ? "<hostdev mode='subsystem'/>\n" : NULL });
                        }
                        snprintf(what, sizeof(what), "from_json: %s, status %d", names[kind], statuses[si]);
                        check_roundtrip(r, what);
                }
        /* no steps */
        for (int kind = HD_RESULT_DRIVERS; kind <= HD_RESULT_DOMAIN; kind++) {
                _hd_cleanup_result_ hd_result *r = NULL;
                char what[64];
                hd_result_new((enum hd_result_kind) kind, &r);
                snprintf(what, sizeof(what), "from_json: %s without steps", names[kind]);
                check_roundtrip(r, what);
        }

        /* bad documents: an error code and the context's words, no crash */
        CHECK(hd_ctx_new("/nonexistent-sysroot-for-the-error", &ctx) >= 0 || hd_ctx_new(NULL, &ctx) >= 0,
              "a context for the errors");
        static const struct {
                int kind;
                const char *json;
                int err;
                const char *words;
        } bad[] = {
                { HD_RESULT_DRIVERS, "", -EBADMSG, "not JSON" },
                { HD_RESULT_DRIVERS, "{\"status\":", -EBADMSG, "not JSON" },
                { HD_RESULT_DRIVERS, "[]", -EBADMSG, "not an object" },
                { HD_RESULT_DRIVERS, "{}", -EBADMSG, "has no \"status\"" },
                { HD_RESULT_DRIVERS, "{\"status\":\"ok\"}", -EBADMSG, "no \"devices\"" },
                { HD_RESULT_DRIVERS, "{\"status\":\"fine\",\"devices\":[]}", -EBADMSG, "unknown status 'fine'" },
                { HD_RESULT_DRIVERS, "{\"status\":1,\"devices\":[]}", -EBADMSG, "\"status\" of the document is not a string" },
                { HD_RESULT_DRIVERS, "{\"status\":\"ok\",\"reason\":[],\"devices\":[]}", -EBADMSG, "\"reason\" of the document is not a string or null" },
                { HD_RESULT_DRIVERS, "{\"status\":\"ok\",\"devices\":{}}", -EBADMSG, "\"devices\" is not an array" },
                { HD_RESULT_DRIVERS, "{\"status\":\"ok\",\"devices\":[1]}", -EBADMSG, "step 0 is not an object" },
                { HD_RESULT_DRIVERS, "{\"status\":\"ok\",\"devices\":[{\"address\":\"a\",\"from\":\"\",\"to\":\"v\"}]}",
                  -EBADMSG, "step 0 has no \"result\"" },
                { HD_RESULT_DRIVERS, "{\"status\":\"ok\",\"devices\":[{\"address\":\"a\",\"from\":\"\",\"to\":\"v\",\"result\":\"started\"}]}",
                  -EBADMSG, "\"result\" of step 0 is not an outcome: 'started'" },
                { HD_RESULT_RESET, "{\"status\":\"ok\",\"devices\":[{\"address\":\"a\",\"from\":\"\",\"to\":\"v\",\"result\":\"done\"}]}",
                  -EBADMSG, "step 0 has no \"device\"" },
                { HD_RESULT_SRIOV, "{\"status\":\"ok\",\"devices\":[]}", -EBADMSG, "no \"actions\"" },
                { HD_RESULT_MDEV_APPLY, "{\"status\":\"ok\"}", -EBADMSG, "the document is not an array" },
                { HD_RESULT_MDEV, "{\"status\":\"ok\",\"mdevs\":[{\"uuid\":null,\"parent\":\"p\",\"type\":\"t\",\"result\":\"done\"}]}",
                  -EBADMSG, "step 0 has no \"action\"" },
                { HD_RESULT_DOMAIN, "{\"status\":\"ok\",\"steps\":[{\"step\":\"move\",\"result\":\"planned\"}]}",
                  -EBADMSG, "not an outcome: 'planned'" },
                { 99, "{}", -EINVAL, "unknown result kind 99" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                hd_result *r = NULL;
                int k = hd_result_from_json(ctx, (enum hd_result_kind) bad[i].kind, bad[i].json, &r);
                CHECK(k == bad[i].err && !r && hd_ctx_get_error(ctx) && strstr(hd_ctx_get_error(ctx), bad[i].words),
                      "from_json of bad document %zu: %d, '%s'", i, k, strempty(hd_ctx_get_error(ctx)));
        }
        {
                hd_result *r = NULL;
                CHECK(hd_result_from_json(NULL, HD_RESULT_DRIVERS, NULL, &r) == -EINVAL && !r &&
                              hd_result_from_json(ctx, HD_RESULT_DRIVERS, "{}", NULL) == -EINVAL,
                      "from_json: no document, no return pointer: -EINVAL");
        }
        /* unknown keys are ignored (a newer daemon) */
        {
                _hd_cleanup_result_ hd_result *r = NULL;
                CHECK(hd_result_from_json(ctx, HD_RESULT_SRIOV,
                                          "{\"status\":\"refused\",\"reason\":\"r\",\"new\":1,\"actions\":[{\"pf\":\"p\","
                                          "\"action\":\"a\",\"result\":\"would change\",\"extra\":true}]}", &r) == 0 &&
                              hd_result_get_status(r) == -EBUSY &&
                              hd_result_step_get_outcome(hd_result_get_step(r, 0)) == HD_OUTCOME_PLANNED,
                      "from_json ignores keys it does not know");
        }
}


/* A scoped openat2() that crosses ".." fails with EAGAIN when a rename
 * anywhere on the system races it (fs/namei.c): sysfs's links are
 * relative ("../../devices/..."), so every read through the sysroot
 * abstraction must retry, or a busy host makes devices vanish from a
 * listing.  Another thread renames files without pause while reads
 * through a link with ".." go on. */
static volatile int renamer_stop;
static void *renamer(void *dir) {
        char a[512], b[512];
        snprintf(a, sizeof(a), "%s/x", (const char *) dir);
        snprintf(b, sizeof(b), "%s/y", (const char *) dir);
        while (!renamer_stop) {
                int fd = open(a, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
                if (fd >= 0)
                        close(fd);
                (void) rename(a, b);
        }
        return NULL;
}

static void test_sysfs_rename_race(void) {
        char tmpl[] = "/tmp/hostdev-unit-XXXXXX", p[600], q[600];
        const char *dir = mkdtemp(tmpl);
        hd_ctx *ctx = NULL;
        pthread_t t;
        unsigned failed = 0, n = 20000;
        int e = 0;

        CHECK(dir != NULL, "race: a scratch directory");
        if (!dir)
                return;
        snprintf(p, sizeof(p), "%s/root/sys/devices/pci0000:00/0000:00:01.0", dir);
        snprintf(q, sizeof(q), "mkdir -p '%s' '%s/root/sys/bus/pci/devices' '%s/spin'", p, dir, dir);
        CHECK(system(q) == 0, "race: a tree");
        snprintf(q, sizeof(q), "%s/vendor", p);
        FILE *f = fopen(q, "w");
        if (f) {
                fputs("0x8086\n", f);
                fclose(f);
        }
        snprintf(q, sizeof(q), "%s/root/sys/bus/pci/devices/0000:00:01.0", dir);
        CHECK(symlink("../../../devices/pci0000:00/0000:00:01.0", q) == 0, "race: a relative sysfs link");
        snprintf(q, sizeof(q), "%s/root", dir);
        CHECK(hd_ctx_new(q, &ctx) >= 0, "race: a context on the tree");
        if (!ctx)
                return;
        snprintf(q, sizeof(q), "%s/spin", dir);
        renamer_stop = 0;
        pthread_create(&t, NULL, renamer, q);
        for (unsigned i = 0; i < n; i++) {
                char *v = NULL;
                int r = hd_sysfs_read_str(ctx, "sys/bus/pci/devices/0000:00:01.0/vendor", &v);
                if (r < 0 || !v || strcmp(v, "0x8086") != 0) {
                        failed++;
                        e = r;
                }
                free(v);
        }
        renamer_stop = 1;
        pthread_join(t, NULL);
        CHECK(failed == 0, "race: %u reads through a '..' link while files are renamed: %u failed (last %s)", n, failed,
              e ? strerror(-e) : "-");
        hd_ctx_unref(ctx);
        snprintf(q, sizeof(q), "rm -rf '%s'", dir);
        (void) !system(q);
}

int main(void) {
        test_normalize();
        test_pci_addr();
        test_hashmap();
        test_hashmap_remove();
        test_udev_db();
        test_dom();
        test_devlink();
        test_pciids();
        test_policy();
        test_result();
        test_result_from_json();
        test_sysfs_rename_race();
        return tap_finish();
}
