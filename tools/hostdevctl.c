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

#include "hostdev/hostdev.h"
#include "util/macro.h"

#define EXIT_USAGE 64

static const char *arg_sysroot;
static int arg_log_level = HD_LOG_WARNING;
static const char *program = "hostdevctl";

static void errorf(const char *fmt, ...) _printf_(1, 2);
static void errorf(const char *fmt, ...) {
        va_list ap;
        fprintf(stderr, "%s: ", program);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

static void log_fn(void *userdata, int level, const char *file, int line, const char *fn,
                   const char *format, va_list args) {
        fprintf(stderr, "%s: %s", program, level <= HD_LOG_ERR ? "error: " : level <= HD_LOG_WARNING ? "warning: " : "");
        vfprintf(stderr, format, args);
        fputc('\n', stderr);
}

static void ctx_unrefp(hd_ctx **c) { hd_ctx_unref(*c); }
static void list_unrefp(hd_nodedev_list **l) { hd_nodedev_list_unref(*l); }

static int open_list(hd_ctx **ret_ctx, hd_nodedev_list **ret_list) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        int r;

        r = hd_ctx_new(arg_sysroot, &ctx);
        if (r < 0) {
                errorf("cannot open sysroot '%s': %s", arg_sysroot ?: "/", strerror(-r));
                return r;
        }
        hd_ctx_set_log_fn(ctx, log_fn, NULL);
        hd_ctx_set_log_level(ctx, arg_log_level);
        r = hd_nodedev_list_new(ctx, ret_list);
        if (r == -ENOTDIR)
                errorf("%s is not a sysfs tree: it has no sys/devices directory", arg_sysroot ?: "/");
        else if (r < 0)
                errorf("cannot enumerate devices%s%s: %s", arg_sysroot ? " of " : "", arg_sysroot ?: "",
                       strerror(-r));
        if (r < 0)
                return r;
        *ret_ctx = TAKE_PTR(ctx);
        return 0;
}

static int lookup(hd_nodedev_list *list, const char *name, hd_device **ret) {
        int r = hd_nodedev_list_lookup(list, name, ret);
        if (r == -ENODEV)
                errorf("no node device matches '%s'", name);
        else if (r == -ENOTUNIQ)
                errorf("'%s' matches several mediated devices; use the full node-device name", name);
        else if (r == -EINVAL)
                errorf("'%s' is not a valid device name, PCI address, interface, mdev UUID or /sys path", name);
        else if (r < 0)
                errorf("lookup of '%s' failed: %s", name, strerror(-r));
        return r;
}

/* ---- help ---- */

struct verb {
        const char *name;
        int (*fn)(int argc, char **argv);
        const char *args;
        const char *summary;
        const char *help;
};

static const struct verb *find_verb(const char *name);
static void print_verb_help(const struct verb *v) {
        printf("Usage: hostdevctl [--sysroot DIR] %s %s\n\n%s\n", v->name, v->args, v->summary);
        if (v->help)
                printf("\n%s", v->help);
}

static int bad_option(const char *verb, char **argv) {
        const char *arg = optind > 0 ? argv[optind - 1] : "?";
        if (optopt && optopt != '?' && !(arg[0] == '-' && arg[1] == '-'))
                errorf("%s: invalid option '-%c' or missing argument (see 'hostdevctl %s --help')", verb, optopt, verb);
        else
                errorf("%s: unrecognized option or missing argument '%s' (see 'hostdevctl %s --help')", verb, arg, verb);
        return EXIT_USAGE;
}

static bool want_help(int argc, char **argv) {
        for (int i = 1; i < argc; i++)
                if (streq(argv[i], "--help") || streq(argv[i], "-h"))
                        return true;
        return false;
}

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

static bool matches_caps(hd_device *d, const bool *caps, bool any) {
        if (!any)
                return true;
        for (int c = 0; c < _HD_CAP_MAX; c++)
                if (caps[c] && hd_device_has_cap(d, (enum hd_cap_type) c))
                        return true;
        return false;
}

static json_object *device_summary_json(hd_device *d) {
        json_object *o = json_object_new_object();
        hd_device *p = hd_device_get_parent(d);
        const char *cap = hd_cap_type_to_string(hd_device_get_cap_type(d));
#define ADD_STR(k, v) json_object_object_add(o, k, (v) ? json_object_new_string(v) : NULL)
        ADD_STR("name", hd_device_get_name(d));
        ADD_STR("parent", p ? hd_device_get_name(p) : NULL);
        ADD_STR("capability", cap);
        ADD_STR("subsystem", hd_device_get_subsystem(d));
        ADD_STR("path", hd_device_get_syspath(d));
        ADD_STR("devnode", hd_device_get_devnode(d));
        ADD_STR("driver", hd_device_get_driver(d));
#undef ADD_STR
        return o;
}

static json_object *tree_json(hd_device *d) {
        json_object *o = device_summary_json(d), *kids = json_object_new_array();
        for (size_t i = 0; i < hd_device_get_n_children(d); i++)
                json_object_array_add(kids, tree_json(hd_device_get_child(d, i)));
        json_object_object_add(o, "children", kids);
        return o;
}

static void print_json(json_object *o) {
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static int list_long(hd_nodedev_list *list, const bool *caps, bool any) {
        struct libscols_table *tb = scols_new_table();
        if (!tb)
                return -ENOMEM;
        scols_table_new_column(tb, "NAME", 0.4, 0);
        scols_table_new_column(tb, "CAP", 0.1, 0);
        scols_table_new_column(tb, "DRIVER", 0.1, 0);
        scols_table_new_column(tb, "PARENT", 0.3, 0);
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
                {}
        };
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        bool tree = false, json = false, lng = false, any = false;
        bool caps[_HD_CAP_MAX] = {};
        int c;

        while ((c = getopt_long(argc, argv, "tc:jl", opts, NULL)) >= 0) {
                switch (c) {
                case 't': tree = true; break;
                case 'j': json = true; break;
                case 'l': lng = true; break;
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
        if (open_list(&ctx, &list) < 0)
                return EXIT_FAILURE;

        if (tree) {
                if (json) {
                        json_object *o = tree_json(hd_nodedev_list_root(list));
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
                                json_object_array_add(arr, device_summary_json(d));
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
        if (lookup(list, argv[1], &d) < 0)
                return EXIT_FAILURE;
        p = hd_device_get_parent(d);
        printf("%-15s %s\n", "Name:", hd_device_get_name(d));
        printf("%-15s %s\n", "Parent:", p ? hd_device_get_name(p) : "");
        printf("%-15s %s\n", "Capability:", hd_cap_type_to_string(hd_device_get_cap_type(d)));
        printf("%-15s %s\n", "Path:", hd_device_get_syspath(d) ?: "");
        printf("%-15s %s\n", "Driver:", hd_device_get_driver(d) ?: "");
        printf("%-15s %s\n", "Active:", "yes");
        printf("%-15s %s\n", "Persistent:", "no");
        printf("%-15s %s\n", "Autostart:", "no");
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
        r = hd_ctx_new(arg_sysroot, &ctx);
        if (r < 0) {
                errorf("cannot open sysroot '%s': %s", arg_sysroot ?: "/", strerror(-r));
                return EXIT_FAILURE;
        }
        hd_ctx_set_log_fn(ctx, log_fn, NULL);
        hd_ctx_set_log_level(ctx, arg_log_level);
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

/* ---- table ---- */

static const struct verb verbs[] = {
        { "nodedev-list", verb_nodedev_list, "[--tree] [--cap CAP[,CAP...]] [--json] [--long]",
          "List node devices (names as libvirt's node-device driver gives them).",
          "Options:\n"
          "  --tree         print the device tree rooted at 'computer' (virsh format)\n"
          "  --cap LIST     only devices with one of these capabilities: system, pci,\n"
          "                 usb_device, usb, net, scsi_host, scsi_target, scsi, storage,\n"
          "                 fc_host, vports, scsi_generic, drm, mdev_types, mdev, vdpa,\n"
          "                 vpd, phys_function, virt_functions (nested ones match too)\n"
          "  --json         JSON output (docs/json.md)\n"
          "  --long         table with capability, driver and parent\n" },
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
};

static const struct verb *find_verb(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name))
                        return &verbs[i];
        return NULL;
}

static void usage(FILE *f) {
        fprintf(f,
                "Usage: hostdevctl [OPTIONS] VERB [ARGS...]\n\n"
                "Host-device management for Linux virtualization hosts.\n\n"
                "Options:\n"
                "  --sysroot DIR   read a captured tree (DIR/sys, DIR/run/udev, DIR/dev) instead of the host\n"
                "  -v, --verbose   more log output (repeat for debug)\n"
                "  -q, --quiet     errors only\n"
                "  -h, --help      this help; 'hostdevctl VERB --help' for a verb\n"
                "  --version       print the version\n\n"
                "Verbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %-18s %s\n", verbs[i].name, verbs[i].summary);
        fprintf(f, "\nExit status: 0 success, 1 failure, 2 refused for host safety, 64 usage error.\n");
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "sysroot", required_argument, NULL, 's' },
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
