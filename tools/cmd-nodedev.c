/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hostdevctl node-device verbs: nodedev-list, nodedev-dumpxml, nodedev-info,
 * show, capture. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <libsmartcols/libsmartcols.h>
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
        { "capture", verb_capture, "DIR",
          "Copy what hostdev reads of this host into DIR (nothing is written to the host).",
          "The result replays with 'hostdevctl --sysroot DIR ...'. Files only root can\n"
          "read are captured when run as root. Attach 'tar czf capture.tgz DIR' to bug reports.\n" },
        {}
};
