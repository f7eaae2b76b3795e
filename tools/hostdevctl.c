/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdevctl: command-line front end of libhostdev.  No sysfs logic lives
 * here: every device fact comes from the library.
 *
 * Exit codes: 0 success, 1 failure (unknown device, unreadable tree, ...),
 * 2 refused for host safety (passthrough verbs), 64 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <libsmartcols/libsmartcols.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostdevctl.h"

/* ---- nodedev-list ---- */

static void tree_print(hd_device *d, hd_device *last_sibling, bool root, char *indent, size_t cap) {
        size_t n = hd_device_get_n_children(d), len = strlen(indent);

        printf("%s%s%s\n", indent, root ? "" : "+- ", hd_device_get_name(d));
        if (!root && len + 2 < cap) {
                indent[len] = d == last_sibling ? ' ' : '|';
                indent[len + 1] = ' ';
                indent[len + 2] = 0;
        }
        if (n > 0)
                printf("%s  |\n", indent);
        size_t l2 = strlen(indent);
        if (l2 + 2 < cap)
                strcat(indent, "  ");
        for (size_t i = 0; i < n; i++)
                tree_print(hd_device_get_child(d, i), hd_device_get_child(d, n - 1), false, indent, cap);
        indent[l2] = 0;
        if (n == 0 && d == last_sibling)
                printf("%s\n", indent);
        if (!root)
                indent[len] = 0;
}

/* virsh's state filters: --inactive, --all, --persistent, --transient */
struct state_filter {
        bool inactive, all, persistent, transient;
};

static bool matches_state(hd_device *d, const struct state_filter *f) {
        bool active = hd_device_is_active(d);
        if (f->inactive ? active : !f->all && !active)
                return false;
        if (f->persistent && !hd_device_is_persistent(d))
                return false;
        if (f->transient && hd_device_is_persistent(d))
                return false;
        return true;
}

static const struct state_filter *cur_filter;

static bool matches_caps(hd_device *d, const bool *caps, bool any) {
        if (cur_filter && !matches_state(d, cur_filter))
                return false;
        if (!any)
                return true;
        for (int c = 0; c < _HD_CAP_MAX; c++)
                if (caps[c] && hd_device_has_cap(d, (enum hd_cap_type) c))
                        return true;
        return false;
}

/* Passthrough state of a PCI device: its IOMMU group and whether the
 * group could go to a VM now. */
static void pci_state(hd_nodedev_list *list, hd_device *d, int *group, int *viable) {
        *group = -1;
        *viable = -1;
        if (hd_device_get_cap_type(d) != HD_CAP_PCI)
                return;
        *group = hd_device_get_iommu_group(d);
        if (*group >= 0)
                *viable = hd_iommu_group_is_viable(list, (unsigned) *group, NULL);
}

static json_object *device_summary_json(hd_nodedev_list *list, hd_device *d) {
        json_object *o = json_object_new_object();
        hd_device *p = hd_device_get_parent(d);
        const char *cap = hd_cap_type_to_string(hd_device_get_cap_type(d));
        int group, viable;
#define ADD_STR(k, v) json_object_object_add(o, k, (v) ? json_object_new_string(v) : NULL)
        ADD_STR("name", hd_device_get_name(d));
        ADD_STR("parent", p ? hd_device_get_name(p) : NULL);
        ADD_STR("capability", cap);
        ADD_STR("subsystem", hd_device_get_subsystem(d));
        ADD_STR("path", hd_device_get_syspath(d));
        ADD_STR("devnode", hd_device_get_devnode(d));
        ADD_STR("driver", hd_device_get_driver(d));
#undef ADD_STR
        pci_state(list, d, &group, &viable);
        json_object_object_add(o, "iommu_group", group >= 0 ? json_object_new_int(group) : NULL);
        json_object_object_add(o, "iommu_group_viable", viable >= 0 ? json_object_new_boolean(viable) : NULL);
        return o;
}

static json_object *tree_json(hd_nodedev_list *list, hd_device *d) {
        json_object *o = device_summary_json(list, d), *kids = json_object_new_array();
        for (size_t i = 0; i < hd_device_get_n_children(d); i++)
                json_object_array_add(kids, tree_json(list, hd_device_get_child(d, i)));
        json_object_object_add(o, "children", kids);
        return o;
}

static int list_long(hd_nodedev_list *list, const bool *caps, bool any) {
        struct libscols_table *tb = scols_new_table();
        if (!tb)
                return -ENOMEM;
        scols_table_new_column(tb, "NAME", 0.4, 0);
        scols_table_new_column(tb, "CAP", 0.1, 0);
        scols_table_new_column(tb, "DRIVER", 0.1, 0);
        scols_table_new_column(tb, "PARENT", 0.3, 0);
        scols_table_new_column(tb, "IOMMU", 0.05, SCOLS_FL_RIGHT);
        scols_table_new_column(tb, "VIABLE", 0.05, 0);
        for (size_t i = 0; i < hd_nodedev_list_count(list); i++) {
                hd_device *d = hd_nodedev_list_get(list, i);
                hd_device *p = hd_device_get_parent(d);
                struct libscols_line *ln;
                if (!matches_caps(d, caps, any))
                        continue;
                ln = scols_table_new_line(tb, NULL);
                scols_line_set_data(ln, 0, hd_device_get_name(d));
                scols_line_set_data(ln, 1, hd_cap_type_to_string(hd_device_get_cap_type(d)));
                scols_line_set_data(ln, 2, hd_device_get_driver(d) ?: "-");
                scols_line_set_data(ln, 3, p ? hd_device_get_name(p) : "-");
                {
                        int group, viable;
                        char g[16];
                        pci_state(list, d, &group, &viable);
                        snprintf(g, sizeof(g), "%d", group);
                        scols_line_set_data(ln, 4, group >= 0 ? g : "-");
                        scols_line_set_data(ln, 5, viable < 0 ? "-" : viable ? "yes" : "no");
                }
        }
        scols_print_table(tb);
        scols_unref_table(tb);
        return 0;
}

static int parse_caps(const char *arg, bool *caps) {
        _cleanup_free_ char *copy = strdup(arg);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                int c = hd_cap_type_from_string(t);
                if (c < 0) {
                        errorf("unknown capability '%s' (see 'hostdevctl nodedev-list --help')", t);
                        return -EINVAL;
                }
                caps[c] = true;
        }
        return 0;
}

static int verb_nodedev_list(int argc, char **argv) {
        static const struct option opts[] = {
                { "tree", no_argument, NULL, 't' },
                { "cap", required_argument, NULL, 'c' },
                { "json", no_argument, NULL, 'j' },
                { "long", no_argument, NULL, 'l' },
                { "inactive", no_argument, NULL, 'i' },
                { "all", no_argument, NULL, 'a' },
                { "persistent", no_argument, NULL, 'P' },
                { "transient", no_argument, NULL, 'T' },
                {}
        };
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        bool tree = false, json = false, lng = false, any = false;
        bool caps[_HD_CAP_MAX] = {};
        struct state_filter filter = {};
        int c;

        while ((c = getopt_long(argc, argv, "tc:jla", opts, NULL)) >= 0) {
                switch (c) {
                case 't': tree = true; break;
                case 'j': json = true; break;
                case 'l': lng = true; break;
                case 'i': filter.inactive = true; break;
                case 'a': filter.all = true; break;
                case 'P': filter.persistent = true; break;
                case 'T': filter.transient = true; break;
                case 'c':
                        if (parse_caps(optarg, caps) < 0)
                                return EXIT_USAGE;
                        any = true;
                        break;
                default: return bad_option("nodedev-list", argv);
                }
        }
        if (optind < argc) {
                errorf("nodedev-list: unexpected argument '%s'", argv[optind]);
                return EXIT_USAGE;
        }
        if (tree && any) {
                errorf("nodedev-list: --tree and --cap are mutually exclusive (as in virsh)");
                return EXIT_USAGE;
        }
        if (filter.inactive && filter.all) {
                errorf("nodedev-list: --inactive and --all are mutually exclusive (as in virsh)");
                return EXIT_USAGE;
        }
        if (filter.persistent && filter.transient) {
                errorf("nodedev-list: --persistent and --transient are mutually exclusive (as in virsh)");
                return EXIT_USAGE;
        }
        if (open_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        if (filter.inactive || filter.all || filter.persistent || filter.transient) {
                int r = hd_nodedev_list_add_defined_mdevs(list);
                if (r < 0)
                        errorf("nodedev-list: cannot read mdev definitions: %s", strerror(-r));
                cur_filter = &filter;
        }

        if (tree) {
                if (json) {
                        json_object *o = tree_json(list, hd_nodedev_list_root(list));
                        print_json(o);
                        json_object_put(o);
                } else {
                        char indent[4096] = "";
                        tree_print(hd_nodedev_list_root(list), NULL, true, indent, sizeof(indent));
                }
                return EXIT_SUCCESS;
        }
        if (json) {
                json_object *arr = json_object_new_array();
                for (size_t i = 0; i < hd_nodedev_list_count(list); i++) {
                        hd_device *d = hd_nodedev_list_get(list, i);
                        if (matches_caps(d, caps, any))
                                json_object_array_add(arr, device_summary_json(list, d));
                }
                print_json(arr);
                json_object_put(arr);
                return EXIT_SUCCESS;
        }
        if (lng)
                return list_long(list, caps, any) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        for (size_t i = 0; i < hd_nodedev_list_count(list); i++) {
                hd_device *d = hd_nodedev_list_get(list, i);
                if (matches_caps(d, caps, any))
                        puts(hd_device_get_name(d));
        }
        return EXIT_SUCCESS;
}

/* ---- nodedev-dumpxml ---- */

static int verb_nodedev_dumpxml(int argc, char **argv) {
        static const struct option opts[] = {
                { "all", no_argument, NULL, 'a' },
                {}
        };
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        bool all = false;
        hd_device *d;
        int c, r, rc = EXIT_SUCCESS;

        while ((c = getopt_long(argc, argv, "a", opts, NULL)) >= 0) {
                switch (c) {
                case 'a': all = true; break;
                default: return bad_option("nodedev-dumpxml", argv);
                }
        }
        if (all ? optind != argc : optind != argc - 1) {
                errorf("nodedev-dumpxml: expected exactly one device name, or --all");
                return EXIT_USAGE;
        }
        if (open_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        /* defined mdevs: inactive ones become visible, active ones show
         * their attributes and start policy */
        r = hd_nodedev_list_add_defined_mdevs(list);
        if (r < 0)
                errorf("nodedev-dumpxml: cannot read mdev definitions: %s", strerror(-r));
        if (!all) {
                _cleanup_free_ char *xml = NULL;
                if (lookup(list, argv[optind], &d) < 0)
                        return EXIT_FAILURE;
                r = hd_device_format_xml(d, &xml);
                if (r < 0) {
                        errorf("%s: cannot format XML: %s", hd_device_get_name(d), strerror(-r));
                        return EXIT_FAILURE;
                }
                fputs(xml, stdout);
                return EXIT_SUCCESS;
        }
        fputs("<devices>\n", stdout);
        for (size_t i = 0; i < hd_nodedev_list_count(list); i++) {
                _cleanup_free_ char *xml = NULL;
                d = hd_nodedev_list_get(list, i);
                r = hd_device_format_xml(d, &xml);
                if (r < 0) {
                        errorf("%s: cannot format XML: %s", hd_device_get_name(d), strerror(-r));
                        rc = EXIT_FAILURE;
                        continue;
                }
                /* indent each device by two spaces under <devices> */
                for (char *p = xml, *nl; *p; p = nl + 1) {
                        nl = strchr(p, '\n');
                        if (!nl) {
                                printf("  %s\n", p);
                                break;
                        }
                        printf("  %.*s\n", (int) (nl - p), p);
                }
        }
        fputs("</devices>\n", stdout);
        return rc;
}

/* ---- nodedev-info / show ---- */

static int verb_nodedev_info(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        hd_device *d, *p;

        if (argc != 2) {
                errorf("nodedev-info: expected exactly one device name");
                return EXIT_USAGE;
        }
        if (open_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        (void) hd_nodedev_list_add_defined_mdevs(list);
        if (lookup(list, argv[1], &d) < 0)
                return EXIT_FAILURE;
        p = hd_device_get_parent(d);
        printf("%-15s %s\n", "Name:", hd_device_get_name(d));
        printf("%-15s %s\n", "Parent:", p ? hd_device_get_name(p) : "");
        printf("%-15s %s\n", "Capability:", hd_cap_type_to_string(hd_device_get_cap_type(d)));
        printf("%-15s %s\n", "Path:", hd_device_get_syspath(d) ?: "");
        printf("%-15s %s\n", "Driver:", hd_device_get_driver(d) ?: "");
        printf("%-15s %s\n", "Active:", hd_device_is_active(d) ? "yes" : "no");
        printf("%-15s %s\n", "Persistent:", hd_device_is_persistent(d) ? "yes" : "no");
        printf("%-15s %s\n", "Autostart:", hd_device_get_autostart(d) ? "yes" : "no");
        return EXIT_SUCCESS;
}

static int verb_show(int argc, char **argv) {
        static const struct option opts[] = {
                { "json", no_argument, NULL, 'j' },
                {}
        };
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _cleanup_free_ char *out = NULL;
        bool json = false;
        hd_device *d;
        int c, r;

        while ((c = getopt_long(argc, argv, "j", opts, NULL)) >= 0) {
                switch (c) {
                case 'j': json = true; break;
                default: return bad_option("show", argv);
                }
        }
        if (optind != argc - 1) {
                errorf("show: expected exactly one device name");
                return EXIT_USAGE;
        }
        if (open_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        if (lookup(list, argv[optind], &d) < 0)
                return EXIT_FAILURE;
        r = json ? hd_device_format_json(d, &out) : hd_device_format_text(d, &out);
        if (r < 0) {
                errorf("%s: %s", hd_device_get_name(d), strerror(-r));
                return EXIT_FAILURE;
        }
        fputs(out, stdout);
        if (json)
                fputc('\n', stdout);
        else if (hd_device_get_cap_type(d) == HD_CAP_PCI) {
                const char *drv = hd_device_get_driver(d);
                hd_device *blocker = NULL;
                int group = hd_device_get_iommu_group(d), viable = -1;
                if (group >= 0)
                        viable = hd_iommu_group_is_viable(list, (unsigned) group, &blocker);
                printf("state:\n  host driver: %s\n", !drv ? "(none)"
                       : hd_driver_is_passthrough(drv) ? "(detached for passthrough)" : drv);
                printf("  passthrough driver: %s\n", hd_driver_is_passthrough(drv) ? drv : "no");
                if (group < 0)
                        printf("  iommu group: none (IOMMU off?)\n");
                else if (viable > 0)
                        printf("  iommu group: %d, viable\n", group);
                else
                        printf("  iommu group: %d, not viable%s%s%s\n", group, blocker ? ": " : "",
                               blocker ? hd_device_get_name(blocker) : "", blocker ? " is bound to a host driver" : "");
        }
        return EXIT_SUCCESS;
}

/* ---- capture ---- */

static int verb_capture(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        hd_capture_stats st = {};
        int r;

        if (argc != 2) {
                errorf("capture: expected exactly one target directory");
                return EXIT_USAGE;
        }
        if (open_ctx(&ctx) < 0)
                return EXIT_FAILURE;
        r = hd_capture(ctx, argv[1], &st);
        if (r == -ENOTEMPTY) {
                errorf("capture: '%s' is not empty; give a new or empty directory", argv[1]);
                return EXIT_FAILURE;
        }
        if (r < 0) {
                errorf("capture into '%s' failed: %s", argv[1], strerror(-r));
                return EXIT_FAILURE;
        }
        fprintf(stderr, "captured %zu devices, %zu files, %zu links, %zu udev entries into %s\n",
                st.devices, st.files, st.links, st.udev_entries, argv[1]);
        return EXIT_SUCCESS;
}

/* ---- hostdev-xml ---- */

static int verb_hostdev_xml(int argc, char **argv) {
        static const struct option opts[] = {
                { "managed", no_argument, NULL, 'm' },
                { "unmanaged", no_argument, NULL, 'u' },
                { "by-address", no_argument, NULL, 'a' },
                {}
        };
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _cleanup_free_ char *xml = NULL;
        unsigned flags = 0;
        hd_device *d;
        int c, r;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 'm': flags |= HD_HOSTDEV_XML_MANAGED; break;
                case 'u': flags |= HD_HOSTDEV_XML_UNMANAGED; break;
                case 'a': flags |= HD_HOSTDEV_XML_BY_ADDRESS; break;
                default: return bad_option("hostdev-xml", argv);
                }
        }
        if (optind != argc - 1) {
                errorf("hostdev-xml: expected exactly one device name");
                return EXIT_USAGE;
        }
        if ((flags & HD_HOSTDEV_XML_MANAGED) && (flags & HD_HOSTDEV_XML_UNMANAGED)) {
                errorf("hostdev-xml: --managed and --unmanaged exclude each other");
                return EXIT_USAGE;
        }
        if (open_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        if (lookup(list, argv[optind], &d) < 0)
                return EXIT_FAILURE;
        r = hd_device_format_hostdev_xml(d, flags, &xml);
        if (r == -EOPNOTSUPP)
                errorf("%s: a %s device cannot be given to a guest (PCI, SR-IOV VF network interface, "
                       "USB device, SCSI device or mdev only)",
                       hd_device_get_name(d), hd_cap_type_to_string(hd_device_get_cap_type(d)));
        else if (r == -EINVAL && hd_device_get_cap_type(d) == HD_CAP_PCI)
                errorf("%s: PCI bridges cannot be assigned to a guest", hd_device_get_name(d));
        else if (r < 0)
                errorf("%s: cannot format domain XML: %s", hd_device_get_name(d), strerror(-r));
        if (r < 0)
                return EXIT_FAILURE;
        fputs(xml, stdout);
        return EXIT_SUCCESS;
}

/* ---- iommu ---- */

/* "0200" style class code of a PCI device */
static const char *pci_label(hd_device *d, char *buf, size_t size) {
        const char *cls = hd_device_get_property(d, "PCI_CLASS");
        unsigned long v = cls ? strtoul(cls, NULL, 16) : 0;
        snprintf(buf, size, "%04lx", v >> 8);
        return buf;
}

static int verb_iommu_explain(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _cleanup_free_ char *text = NULL;
        hd_device *d;
        int r;

        if (argc != 2) {
                errorf("iommu explain: expected exactly one device");
                return EXIT_USAGE;
        }
        if (open_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        if (lookup(list, argv[1], &d) < 0)
                return EXIT_FAILURE;
        r = hd_iommu_explain(d, &text);
        if (r == -EOPNOTSUPP) {
                errorf("iommu explain: %s is not a PCI device", hd_device_get_name(d));
                return EXIT_FAILURE;
        }
        if (r < 0) {
                errorf("iommu explain: %s", strerror(-r));
                return EXIT_FAILURE;
        }
        fputs(text, stdout);
        return EXIT_SUCCESS;
}

static json_object *pci_json(hd_device *d) {
        json_object *o = json_object_new_object();
        if (hd_device_get_cap_type(d) != HD_CAP_PCI) {
                const char *path = hd_device_get_syspath(d);
                json_object_object_add(o, "address", json_object_new_string(path ? strrchr(path, '/') + 1 : ""));
                json_object_object_add(o, "name", json_object_new_string(hd_device_get_name(d)));
                json_object_object_add(o, "capability", json_object_new_string(hd_cap_type_to_string(hd_device_get_cap_type(d))));
                return o;
        }
        const char *drv = hd_device_get_driver(d);
        const char *cls = hd_device_get_property(d, "PCI_CLASS");
        const char *id = hd_device_get_property(d, "PCI_ID");
        const char *path = hd_device_get_syspath(d);
        json_object_object_add(o, "address", json_object_new_string(path ? strrchr(path, '/') + 1 : ""));
        json_object_object_add(o, "name", json_object_new_string(hd_device_get_name(d)));
        json_object_object_add(o, "class", cls ? json_object_new_string(cls) : NULL);
        json_object_object_add(o, "id", id ? json_object_new_string(id) : NULL);
        json_object_object_add(o, "driver", drv ? json_object_new_string(drv) : NULL);
        json_object_object_add(o, "bridge", json_object_new_boolean(hd_pci_device_is_bridge(d)));
        {
                char vendor[128], product[160];
                if (hd_pci_device_get_names(d, vendor, sizeof(vendor), product, sizeof(product)) >= 0) {
                        json_object_object_add(o, "vendor", vendor[0] ? json_object_new_string(vendor) : NULL);
                        json_object_object_add(o, "product", product[0] ? json_object_new_string(product) : NULL);
                }
        }
        return o;
}

static int verb_iommu(int argc, char **argv) {
        static const struct option opts[] = {
                { "json", no_argument, NULL, 'j' },
                {}
        };
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _cleanup_free_ unsigned *groups = NULL;
        hd_iommu_info info;
        json_object *root = NULL, *jgroups = NULL;
        bool json = false;
        size_t ng = 0;
        int c, r;

        if (argc >= 2 && streq(argv[1], "explain"))
                return verb_iommu_explain(argc - 1, argv + 1);
        while ((c = getopt_long(argc, argv, "j", opts, NULL)) >= 0) {
                switch (c) {
                case 'j': json = true; break;
                default: return bad_option("iommu", argv);
                }
        }
        if (optind != argc) {
                errorf("iommu: unexpected argument '%s' (did you mean 'iommu explain DEV'?)", argv[optind]);
                return EXIT_USAGE;
        }
        if (open_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        r = hd_iommu_get_info(ctx, &info);
        if (r >= 0)
                r = hd_iommu_list_groups(list, &groups, &ng);
        if (r < 0) {
                errorf("iommu: %s", strerror(-r));
                return EXIT_FAILURE;
        }
        if (json) {
                json_object *ji = json_object_new_object();
                root = json_object_new_object();
                json_object_object_add(ji, "enabled", json_object_new_boolean(info.enabled));
                json_object_object_add(ji, "vendor", info.vendor[0] ? json_object_new_string(info.vendor) : NULL);
                json_object_object_add(ji, "interrupt_remapping",
                                       info.intremap < 0 ? NULL : json_object_new_boolean(info.intremap));
                json_object_object_add(ji, "hint", info.hint[0] ? json_object_new_string(info.hint) : NULL);
                json_object_object_add(root, "iommu", ji);
                jgroups = json_object_new_array();
                json_object_object_add(root, "groups", jgroups);
        } else {
                printf("IOMMU: %s%s%s%s\n", info.enabled ? "enabled" : "DISABLED",
                       info.vendor[0] ? " (" : "", info.vendor, info.vendor[0] ? ")" : "");
                printf("Interrupt remapping: %s\n", info.intremap < 0 ? "unknown" : info.intremap ? "yes" : "NO");
                if (info.hint[0])
                        printf("Hint: %s\n", info.hint);
        }
        for (size_t g = 0; g < ng; g++) {
                _cleanup_free_ hd_device **devs = NULL;
                hd_device *blocker = NULL;
                size_t n = 0;
                int viable;

                if (hd_iommu_group_get_devices(list, groups[g], &devs, &n) < 0)
                        continue;
                viable = hd_iommu_group_is_viable(list, groups[g], &blocker);
                if (json) {
                        json_object *jg = json_object_new_object(), *jd = json_object_new_array();
                        json_object_object_add(jg, "number", json_object_new_int((int) groups[g]));
                        json_object_object_add(jg, "viable", json_object_new_boolean(viable > 0));
                        json_object_object_add(jg, "blocker",
                                               blocker ? json_object_new_string(strrchr(hd_device_get_syspath(blocker), '/') + 1) : NULL);
                        for (size_t i = 0; i < n; i++)
                                json_object_array_add(jd, pci_json(devs[i]));
                        json_object_object_add(jg, "devices", jd);
                        json_object_array_add(jgroups, jg);
                        continue;
                }
                if (viable > 0)
                        printf("\nGroup %u: viable\n", groups[g]);
                else if (blocker)
                        printf("\nGroup %u: not viable: %s is bound to %s\n", groups[g],
                               strrchr(hd_device_get_syspath(blocker), '/') + 1, hd_device_get_driver(blocker));
                else
                        printf("\nGroup %u\n", groups[g]);
                for (size_t i = 0; i < n; i++) {
                        char cls[32], vendor[128], product[160];
                        if (hd_device_get_cap_type(devs[i]) != HD_CAP_PCI) {
                                printf("  %s  %s\n", strrchr(hd_device_get_syspath(devs[i]), '/') + 1,
                                       hd_device_get_name(devs[i]));
                                continue;
                        }
                        const char *id = hd_device_get_property(devs[i], "PCI_ID");
                        const char *drv = hd_device_get_driver(devs[i]);
                        (void) hd_pci_device_get_names(devs[i], vendor, sizeof(vendor), product, sizeof(product));
                        printf("  %s  %s  %-9s  %-14s %s%s%s%s\n", strrchr(hd_device_get_syspath(devs[i]), '/') + 1,
                               pci_label(devs[i], cls, sizeof(cls)), id ? id : "?", drv ? drv : "(no driver)",
                               vendor, vendor[0] ? " " : "", product,
                               hd_pci_device_is_bridge(devs[i]) ? " [bridge]" : "");
                }
        }
        if (json) {
                print_json(root);
                json_object_put(root);
        }
        return EXIT_SUCCESS;
}

/* ---- detach / reattach / reset / recover ---- */

static int verb_detach_reattach(int argc, char **argv, bool detach) {
        static const struct option opts[] = {
                { "driver", required_argument, NULL, 'd' },
                { "group", no_argument, NULL, 'g' },
                { "dry-run", no_argument, NULL, 'n' },
                { "force", no_argument, NULL, 'f' },
                { "json", no_argument, NULL, 'j' },
                {}
        };
        const char *verb = detach ? "nodedev-detach" : "nodedev-reattach";
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        hd_vfio_result *res = NULL;
        const char *driver = "vfio-pci";
        unsigned flags = 0;
        bool json = false;
        hd_device *d;
        int c, r, rc;

        while ((c = getopt_long(argc, argv, "d:gnfj", opts, NULL)) >= 0) {
                switch (c) {
                case 'd':
                        if (!detach)
                                return bad_option(verb, argv);
                        if (streq(optarg, "vfio") || streq(optarg, "vfio-pci"))
                                driver = "vfio-pci";
                        else if (streq(optarg, "stub") || streq(optarg, "pci-stub"))
                                driver = "pci-stub";
                        else {
                                errorf("%s: unknown driver '%s' (vfio or stub)", verb, optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'g': flags |= HD_VFIO_GROUP; break;
                case 'n': flags |= HD_VFIO_DRY_RUN; break;
                case 'f': flags |= HD_VFIO_FORCE; break;
                case 'j': json = true; break;
                default: return bad_option(verb, argv);
                }
        }
        if (optind != argc - 1) {
                errorf("%s: expected exactly one device", verb);
                return EXIT_USAGE;
        }
        if (open_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        if (lookup(list, argv[optind], &d) < 0)
                return EXIT_FAILURE;
        r = detach ? hd_vfio_detach(list, d, driver, flags, &res) : hd_vfio_reattach(list, d, flags, &res);
        if (r < 0) {
                errorf("%s %s: %s", verb, hd_device_get_name(d),
                       r == -EINVAL ? "not a PCI endpoint (bridges and non-PCI devices cannot be detached)" : strerror(-r));
                return EXIT_FAILURE;
        }
        rc = report(verb, res, json);
        hd_vfio_result_free(res);
        return rc;
}

static int verb_nodedev_detach(int argc, char **argv) { return verb_detach_reattach(argc, argv, true); }
static int verb_nodedev_reattach(int argc, char **argv) { return verb_detach_reattach(argc, argv, false); }

static int verb_recover(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        hd_vfio_result *res = NULL;
        int r, rc;

        if (argc != 1) {
                errorf("recover: takes no arguments");
                return EXIT_USAGE;
        }
        if (open_ctx(&ctx) < 0)
                return EXIT_FAILURE;
        r = hd_vfio_recover(ctx, &res);
        if (r < 0) {
                errorf("recover: %s", strerror(-r));
                return EXIT_FAILURE;
        }
        if (res->n_steps == 0)
                printf("nothing to recover\n");
        rc = report("recover", res, false);
        hd_vfio_result_free(res);
        return rc;
}

static int verb_nodedev_reset(int argc, char **argv) {
        static const struct option opts[] = {
                { "force", no_argument, NULL, 'f' },
                {}
        };
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        char method[64], reason[400];
        unsigned flags = 0;
        hd_device *d;
        int c, r;

        while ((c = getopt_long(argc, argv, "f", opts, NULL)) >= 0) {
                switch (c) {
                case 'f': flags |= HD_VFIO_FORCE; break;
                default: return bad_option("nodedev-reset", argv);
                }
        }
        if (optind != argc - 1) {
                errorf("nodedev-reset: expected exactly one device");
                return EXIT_USAGE;
        }
        if (open_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        if (lookup(list, argv[optind], &d) < 0)
                return EXIT_FAILURE;
        if (hd_device_get_cap_type(d) != HD_CAP_PCI) {
                errorf("nodedev-reset: %s is not a PCI device", hd_device_get_name(d));
                return EXIT_FAILURE;
        }
        r = hd_pci_reset(list, d, flags, method, sizeof(method), reason, sizeof(reason));
        if (r == 1) {
                printf("%s: skipped: %s\n", hd_device_get_name(d), reason);
                return EXIT_SUCCESS;
        }
        if (r == -EBUSY) {
                errorf("nodedev-reset refused: %s (use --force to override)", reason);
                return 2;
        }
        if (r < 0) {
                errorf("nodedev-reset: %s", reason[0] ? reason : strerror(-r));
                return EXIT_FAILURE;
        }
        printf("%s: reset (kernel method: %s)\n", hd_device_get_name(d), method);
        return EXIT_SUCCESS;
}

/* ---- table ---- */

const struct verb nodedev_verbs[] = {
        { "nodedev-list", verb_nodedev_list,
          "[--tree] [--cap CAP[,CAP...]] [--inactive|--all] [--persistent|--transient] [--json] [--long]",
          "List node devices (names as libvirt's node-device driver gives them).",
          "Options:\n"
          "  --tree         print the device tree rooted at 'computer' (virsh format)\n"
          "  --cap LIST     only devices with one of these capabilities: system, pci,\n"
          "                 usb_device, usb, net, scsi_host, scsi_target, scsi, storage,\n"
          "                 fc_host, vports, scsi_generic, drm, mdev_types, mdev, vdpa,\n"
          "                 vpd, phys_function, virt_functions (nested ones match too)\n"
          "  --json         JSON output (docs/json.md)\n"
          "  --long         table with capability, driver and parent\n"
          "  --inactive     only inactive devices (defined, stopped mediated devices)\n"
          "  --all          active and inactive devices\n"
          "  --persistent   only persistent devices (defined mediated devices)\n"
          "  --transient    only transient devices\n" },
        { "nodedev-dumpxml", verb_nodedev_dumpxml, "NAME | --all",
          "Print the libvirt node-device XML of a device, or of all devices under <devices>.",
          "NAME is a node-device name (pci_0000_00_03_0), a PCI address (0000:00:03.0\n"
          "or 00:03.0), a network interface name, a /sys path or an mdev UUID.\n" },
        { "nodedev-info", verb_nodedev_info, "NAME", "Print basic information about a device.", NULL },
        { "show", verb_show, "NAME [--json]", "Show everything known about a device.", NULL },
        { "iommu", verb_iommu, "[--json] | explain DEV",
          "IOMMU status and groups with their devices; whether each group can go to a VM.",
          "A group is viable when every endpoint is bound to vfio-pci (or a vfio variant\n"
          "driver) or pci-stub, or is unbound; bridges are ignored, as the kernel does.\n"
          "'iommu explain DEV' tells why DEV shares its group: the multifunction siblings\n"
          "or the first upstream port without ACS isolation (needs root for config space).\n" },
        { "nodedev-detach", verb_nodedev_detach, "DEV [--driver vfio|stub] [--group] [--dry-run] [--force] [--json]",
          "Bind a PCI device (or its whole IOMMU group) to vfio-pci or pci-stub.",
          "Uses driver_override + drivers_probe; loads the driver module if needed. The\n"
          "original driver is journaled in the state directory first, so that\n"
          "nodedev-reattach restores exactly it and 'hostdevctl recover' can finish an\n"
          "interrupted run. With --group every endpoint of the IOMMU group moves as one\n"
          "transaction: if one fails, the others go back. Devices the host needs (mounted\n"
          "filesystems, swap, dm/md/LVM, the default route, the boot VGA with a framebuffer\n"
          "console, open DRM nodes) are refused with exit status 2 unless --force.\n" },
        { "nodedev-reattach", verb_nodedev_reattach, "DEV [--group] [--dry-run] [--json]",
          "Give a detached PCI device (or group) back to its original host driver.", NULL },
        { "nodedev-reset", verb_nodedev_reset, "DEV [--force]",
          "Reset a PCI function with the kernel's reset methods (skipped on vfio-pci).", NULL },
        { "recover", verb_recover, "",
          "Finish or undo an interrupted detach/reattach from the journal (run at boot).", NULL },
        { "hostdev-xml", verb_hostdev_xml, "NAME [--managed|--unmanaged] [--by-address]",
          "Print the libvirt domain XML that passes a device to a guest.",
          "PCI device: <hostdev type='pci'>; SR-IOV VF with a network interface (or that\n"
          "interface): <interface type='hostdev'> with its MAC; USB device: <hostdev\n"
          "type='usb'>; SCSI device: <hostdev type='scsi'>; mdev: <hostdev type='mdev'>.\n"
          "Options:\n"
          "  --managed      managed='yes' (the default): libvirt detaches the device\n"
          "  --unmanaged    managed='no'\n"
          "  --by-address   USB: also name the device by <address bus= device=>\n" },
        { "capture", verb_capture, "DIR",
          "Copy what hostdev reads of this host into DIR (nothing is written to the host).",
          "The result replays with 'hostdevctl --sysroot DIR ...'. Files only root can\n"
          "read are captured when run as root. Attach 'tar czf capture.tgz DIR' to bug reports.\n" },
        {}
};

/* Every verb table; a module's tools/cmd-*.c adds its own here. */
static const struct verb *const verb_tables[] = {
        nodedev_verbs,
        sriov_verbs,
        mdev_verbs,
        boot_verbs,
};

static const struct verb *find_verb(const char *name) {
        for (size_t t = 0; t < ELEMENTSOF(verb_tables); t++)
                for (const struct verb *v = verb_tables[t]; v->name; v++)
                        if (streq(v->name, name))
                                return v;
        return NULL;
}

static void usage(FILE *f) {
        fprintf(f,
                "Usage: hostdevctl [OPTIONS] VERB [ARGS...]\n\n"
                "Host-device management for Linux virtualization hosts.\n\n"
                "Options:\n"
                "  --sysroot DIR   read a captured tree (DIR/sys, DIR/run/udev, DIR/dev) instead of the host\n"
                "  --state-dir DIR journal and lock directory (default /var/lib/hostdev)\n"
                "  -v, --verbose   more log output (repeat for debug)\n"
                "  -q, --quiet     errors only\n"
                "  -h, --help      this help; 'hostdevctl VERB --help' for a verb\n"
                "  --version       print the version\n\n"
                "Verbs:\n");
        for (size_t t = 0; t < ELEMENTSOF(verb_tables); t++)
                for (const struct verb *v = verb_tables[t]; v->name; v++)
                        fprintf(f, "  %-18s %s\n", v->name, v->summary);
        fprintf(f, "\nExit status: 0 success, 1 failure, 2 refused for host safety, 64 usage error.\n");
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "sysroot", required_argument, NULL, 's' },
                { "state-dir", required_argument, NULL, 'S' },
                { "verbose", no_argument, NULL, 'v' },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {}
        };
        const struct verb *v;
        int c;

        opterr = 0; /* our own one-line messages */
        /* stop at the verb: its options are its own */
        while ((c = getopt_long(argc, argv, "+vqh", opts, NULL)) >= 0) {
                switch (c) {
                case 's': arg_sysroot = optarg; break;
                case 'S': arg_state_dir = optarg; break;
                case 'v': arg_log_level = arg_log_level >= HD_LOG_INFO ? HD_LOG_DEBUG : HD_LOG_INFO; break;
                case 'q': arg_log_level = HD_LOG_ERR; break;
                case 'h': usage(stdout); return EXIT_SUCCESS;
                case 'V': puts("hostdevctl " HOSTDEV_VERSION); return EXIT_SUCCESS;
                default:
                        errorf("unrecognized option '%s' (see 'hostdevctl --help')", argv[optind - 1]);
                        return EXIT_USAGE;
                }
        }
        if (optind >= argc) {
                errorf("missing verb (see 'hostdevctl --help')");
                return EXIT_USAGE;
        }
        if (streq(argv[optind], "help")) {
                if (optind + 1 < argc) {
                        v = find_verb(argv[optind + 1]);
                        if (!v) {
                                errorf("unknown verb '%s' (see 'hostdevctl --help')", argv[optind + 1]);
                                return EXIT_USAGE;
                        }
                        print_verb_help(v);
                        return EXIT_SUCCESS;
                }
                usage(stdout);
                return EXIT_SUCCESS;
        }
        v = find_verb(argv[optind]);
        if (!v) {
                errorf("unknown verb '%s' (see 'hostdevctl --help')", argv[optind]);
                return EXIT_USAGE;
        }
        argc -= optind;
        argv += optind;
        if (want_help(argc, argv)) {
                print_verb_help(v);
                return EXIT_SUCCESS;
        }
        optind = 0; /* full getopt re-initialisation: verbs permute their options */
        return v->fn(argc, argv);
}
