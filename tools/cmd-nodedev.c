/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hostdevctl node-device verbs: nodedev-list, nodedev-dumpxml, nodedev-info,
 * show, nodedev-event, capture. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <libsmartcols/libsmartcols.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostdev/listing.h"
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

/* ---- the column table: one definition drives --long/-o, --raw and --json
 * (lsblk's model); the values are the library's (hd_device_field_to_json),
 * the same the daemon answers ---- */

enum col_type { COL_STR, COL_INT, COL_BOOL, COL_JSON };

struct col {
        const char *name;       /* -o name, table header */
        const char *json;       /* JSON key (hd_device_field_to_json's, but for USED-BY) */
        enum col_type type;
        double whint;
        int flags;              /* SCOLS_FL_* */
        const char *help;       /* --list-columns */
};

/* one cell: its JSON value (NULL: none) and its table text */
struct cell {
        json_object *j;
        const char *s;
        char buf[512];
};

static void cell_get(const struct col *col, hd_nodedev_list *l, hd_device *d, struct cell *c) {
        c->j = NULL;
        c->s = "-";
        if (col->type == COL_JSON) {
                /* which libvirt domains use it: no text when libvirt is
                 * not asked (a --sysroot without --connect) */
                bool add;
                const char *t = libvirt_used_by_text(l, d, c->buf, sizeof(c->buf));
                c->j = libvirt_used_by_json(l, d, &add);
                c->s = t ?: "-";
                return;
        }
        if (hd_device_field_to_json(l, d, col->json, &c->j) < 0 || !c->j)
                return;
        switch (col->type) {
        case COL_STR: c->s = json_object_get_string(c->j); break;
        case COL_INT: snprintf(c->buf, sizeof(c->buf), "%lld", (long long) json_object_get_int64(c->j)); c->s = c->buf; break;
        case COL_BOOL: c->s = json_object_get_boolean(c->j) ? "yes" : "no"; break;
        case COL_JSON: break;
        }
}

static const struct col columns[] = {
        { "NAME", "name", COL_STR, 0, 0, "node-device name (as libvirt names it)" },
        { "PARENT", "parent", COL_STR, 0.2, SCOLS_FL_TRUNC, "parent node device" },
        { "CAP", "capability", COL_STR, 0.1, SCOLS_FL_TRUNC, "main capability (a --cap name)" },
        { "SUBSYSTEM", "subsystem", COL_STR, 0.1, 0, "kernel subsystem" },
        { "PATH", "path", COL_STR, 0.3, SCOLS_FL_TRUNC, "sysfs path" },
        { "DEVNODE", "devnode", COL_STR, 0.1, 0, "device node under /dev" },
        { "DRIVER", "driver", COL_STR, 0.1, SCOLS_FL_TRUNC, "bound kernel driver" },
        { "IOMMU", "iommu_group", COL_INT, 0.05, SCOLS_FL_RIGHT, "IOMMU group (PCI)" },
        { "VIABLE", "iommu_group_viable", COL_BOOL, 0.05, 0, "whether the IOMMU group can go to a VM now (PCI)" },
        { "ADDRESS", "address", COL_STR, 0.1, 0, "PCI address (DDDD:BB:SS.F)" },
        { "CLASS", "class", COL_STR, 0.08, 0, "PCI class code (0x020000)" },
        { "ID", "id", COL_STR, 0.08, 0, "vendor:device id, lowercase hex (PCI, USB)" },
        { "VENDOR", "vendor", COL_STR, 0.15, SCOLS_FL_TRUNC, "vendor name (pci.ids, udev hwdb)" },
        { "PRODUCT", "product", COL_STR, 0.2, SCOLS_FL_TRUNC, "product name (pci.ids, udev hwdb)" },
        { "ACTIVE", "active", COL_BOOL, 0.05, 0, "whether the device exists now (defined mdevs may not)" },
        { "PERSISTENT", "persistent", COL_BOOL, 0.05, 0, "whether the device is defined (mdevs)" },
        { "AUTOSTART", "autostart", COL_BOOL, 0.05, 0, "whether 'hostdevctl apply' starts it (mdevs)" },
        { "USED-BY", "used_by", COL_JSON, 0.2, SCOLS_FL_TRUNC,
          "libvirt domains using it (shown by default when libvirt is asked)" },
};

/* --long's columns, and --json's keys (in this order) */
static const char *const long_columns = "NAME,CAP,DRIVER,IOMMU,VIABLE,PARENT";
static const char *const json_columns = "NAME,PARENT,CAP,SUBSYSTEM,PATH,DEVNODE,DRIVER,IOMMU,VIABLE";

#define MAX_OUT_COLUMNS 64

struct out_cols {
        const struct col *c[MAX_OUT_COLUMNS];
        size_t n;
};

static const struct col *find_column(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(columns); i++)
                if (strcasecmp(columns[i].name, name) == 0)
                        return &columns[i];
        return NULL;
}

/* "NAME,DRIVER" or "+VENDOR" (added to @base) */
static int parse_columns(const char *verb, const char *arg, const char *base, struct out_cols *out) {
        _cleanup_free_ char *copy = NULL;
        char *save = NULL;

        out->n = 0;
        if (arg[0] == '+') {
                int r = parse_columns(verb, base, NULL, out);
                if (r < 0)
                        return r;
                arg++;
        }
        copy = strdup(arg);
        if (!copy)
                return -ENOMEM;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                const struct col *c = find_column(t);
                if (!c) {
                        const char *names[ELEMENTSOF(columns)], *m;
                        for (size_t i = 0; i < ELEMENTSOF(columns); i++)
                                names[i] = columns[i].name;
                        m = did_you_mean(t, names, ELEMENTSOF(names));
                        if (m)
                                errorf("%s: unknown column '%s'; did you mean '%s'? (see 'hostdevctl %s --list-columns')",
                                       verb, t, m, verb);
                        else
                                errorf("%s: unknown column '%s' (see 'hostdevctl %s --list-columns')", verb, t, verb);
                        return -EINVAL;
                }
                if (out->n == MAX_OUT_COLUMNS) {
                        errorf("%s: too many columns (at most %d)", verb, MAX_OUT_COLUMNS);
                        return -E2BIG;
                }
                out->c[out->n++] = c;
        }
        if (out->n == 0) {
                errorf("%s: no columns given to -o", verb);
                return -EINVAL;
        }
        return 0;
}

static void list_columns(void) {
        for (size_t i = 0; i < ELEMENTSOF(columns); i++)
                printf("%-11s %s\n", columns[i].name, columns[i].help);
}

static json_object *device_json(hd_nodedev_list *list, hd_device *d, const struct out_cols *oc) {
        json_object *o = json_object_new_object();
        for (size_t i = 0; i < oc->n; i++) {
                struct cell c;
                cell_get(oc->c[i], list, d, &c);
                json_object_object_add(o, oc->c[i]->json, c.j);
        }
        return o;
}

static json_object *tree_json(hd_nodedev_list *list, hd_device *d, const struct out_cols *oc) {
        json_object *o = device_json(list, d, oc), *kids = json_object_new_array();
        for (size_t i = 0; i < hd_device_get_n_children(d); i++)
                json_object_array_add(kids, tree_json(list, hd_device_get_child(d, i), oc));
        json_object_object_add(o, "children", kids);
        return o;
}

struct table_opts {
        bool noheadings, raw, tree;
        unsigned width;         /* 0: the terminal's */
};

static void table_add(struct libscols_table *tb, struct libscols_line *parent, hd_nodedev_list *list, hd_device *d,
                      const struct out_cols *oc, bool recurse) {
        struct libscols_line *ln = scols_table_new_line(tb, parent);
        if (!ln)
                return;
        for (size_t i = 0; i < oc->n; i++) {
                struct cell c;
                cell_get(oc->c[i], list, d, &c);
                scols_line_set_data(ln, i, c.s);
                json_object_put(c.j);
        }
        if (recurse)
                for (size_t i = 0; i < hd_device_get_n_children(d); i++)
                        table_add(tb, ln, list, hd_device_get_child(d, i), oc, true);
}

static struct libscols_table *table_new(const struct out_cols *oc, const struct table_opts *to) {
        struct libscols_table *tb = scols_new_table();
        if (!tb)
                return NULL;
        scols_table_enable_noheadings(tb, to->noheadings);
        scols_table_enable_raw(tb, to->raw);
        /* one line per device: truncate what does not fit, never wrap */
        scols_table_enable_nowrap(tb, 1);
        if (to->width) {
                scols_table_set_termforce(tb, SCOLS_TERMFORCE_ALWAYS);
                scols_table_set_termwidth(tb, to->width);
        }
        for (size_t i = 0; i < oc->n; i++) {
                int flags = oc->c[i]->flags;
                if (i == 0 && to->tree)
                        flags |= SCOLS_FL_TREE;
                if (!scols_table_new_column(tb, oc->c[i]->name, oc->c[i]->whint, flags)) {
                        scols_unref_table(tb);
                        return NULL;
                }
        }
        return tb;
}

/* ---- nodedev-list filters: --cap, virsh's state, lspci's -s/-d/--class,
 * --driver ---- */

/* (the library's hd_nodedev_filter: the daemon's ListDevices filters alike) */

enum { ARG_NOHEADINGS = 0x100, ARG_RAW, ARG_LIST_COLUMNS, ARG_CLASS, ARG_DRIVER, ARG_WIDTH };
static const struct option list_options[] = {
        { "tree", no_argument, NULL, 't' },
        { "cap", required_argument, NULL, 'c' },
        { "long", no_argument, NULL, 'l' },
        { "output", required_argument, NULL, 'o' },
        { "noheadings", no_argument, NULL, 'n' },
        { "raw", no_argument, NULL, 'r' },
        { "list-columns", no_argument, NULL, ARG_LIST_COLUMNS },
        { "width", required_argument, NULL, 'w' },
        { "slot", required_argument, NULL, 's' },
        { "id", required_argument, NULL, 'd' },
        { "class", required_argument, NULL, ARG_CLASS },
        { "driver", required_argument, NULL, ARG_DRIVER },
        { "inactive", no_argument, NULL, 'i' },
        { "all", no_argument, NULL, 'a' },
        { "persistent", no_argument, NULL, 'P' },
        { "transient", no_argument, NULL, 'T' },
        {}
};

/* nodedev-list's options */
static bool arg_tree, arg_long;
static const char *arg_output;
static struct table_opts arg_to;
static hd_nodedev_filter *arg_f;

/* the filter of the options, made at the first */
static int list_filter(hd_nodedev_filter **ret) {
        if (!arg_f && hd_nodedev_filter_new(&arg_f) < 0) {
                errorf("nodedev-list: out of memory");
                return -ENOMEM;
        }
        *ret = arg_f;
        return 0;
}

/* one filter option by its long name: the library words a refusal */
static int filter_set(const char *name, const char *arg) {
        _cleanup_free_ char *why = NULL;
        hd_nodedev_filter *f;
        int r = list_filter(&f);
        if (r >= 0)
                r = hd_nodedev_filter_set(f, name, arg, &why);
        if (r < 0 && why)
                errorf("%s", why);
        else if (r < 0 && r != -ENOMEM)
                errorf("nodedev-list: --%s: %s", name, strerror(-r));
        return r < 0 ? -EINVAL : 0;
}

static int list_option(const char *verb _unused_, int c, const char *arg) {
        switch (c) {
        case 't': arg_tree = true; break;
        case 'l': arg_long = true; break;
        case 'o': arg_output = arg; break;
        case 'n': arg_to.noheadings = true; break;
        case 'r': arg_to.raw = true; break;
        case ARG_LIST_COLUMNS: list_columns(); return 1;
        case 'w': {
                char *end;
                unsigned long w = strtoul(arg, &end, 10);
                if (*arg < '0' || *arg > '9' || *end || w < 10 || w > 10000) {
                        errorf("nodedev-list: --width takes a number of columns (10-10000), not '%s'", arg);
                        return -EINVAL;
                }
                arg_to.width = (unsigned) w;
                break;
        }
        case 's': return filter_set("slot", arg);
        case 'd': return filter_set("id", arg);
        case ARG_CLASS: return filter_set("class", arg);
        case ARG_DRIVER: return filter_set("driver", arg);
        case 'i': return filter_set("inactive", NULL);
        case 'a': return filter_set("all", NULL);
        case 'P': return filter_set("persistent", NULL);
        case 'T': return filter_set("transient", NULL);
        case 'c': return filter_set("cap", arg);
        default: return -EINVAL;
        }
        return 0;
}

static int verb_nodedev_list(int argc _unused_, char **argv _unused_) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        bool tree = arg_tree, json = arg_json, lng = arg_long;
        const char *output = arg_output;
        struct table_opts to = arg_to;
        struct out_cols oc;
        _cleanup_free_ char *why = NULL;
        hd_nodedev_filter *f;

        if (list_filter(&f) < 0)
                return EXIT_FAILURE;
        if (tree && hd_nodedev_filter_by_device(f)) {
                errorf("nodedev-list: --tree and --cap (or another filter) are mutually exclusive (as in virsh)");
                return EXIT_USAGE;
        }
        if (hd_nodedev_filter_check(f, &why) < 0) {
                errorf("%s", why ?: "out of memory");
                return EXIT_USAGE;
        }
        if (json && (to.raw || to.noheadings)) {
                errorf("nodedev-list: --json excludes --raw and --noheadings");
                return EXIT_USAGE;
        }
        if (parse_columns("nodedev-list", output ?: json ? json_columns : long_columns,
                          json ? json_columns : long_columns, &oc) < 0)
                return EXIT_USAGE;
        if (open_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        /* the default columns gain USED-BY when libvirt is asked */
        if (!output && oc.n < MAX_OUT_COLUMNS && hd_nodedev_list_count(list) > 0 &&
            libvirt_used_by_text(list, hd_nodedev_list_get(list, 0), (char[2]){}, 2))
                oc.c[oc.n++] = find_column("USED-BY");
        if (hd_nodedev_filter_by_state(f)) {
                int r = hd_nodedev_list_add_defined_mdevs(list);
                if (r < 0)
                        errorf("nodedev-list: cannot read mdev definitions: %s", strerror(-r));
        }

        if (json) {
                json_object *o;
                if (tree)
                        o = tree_json(list, hd_nodedev_list_root(list), &oc);
                else {
                        o = json_object_new_array();
                        for (size_t i = 0; i < hd_nodedev_list_count(list); i++) {
                                hd_device *d = hd_nodedev_list_get(list, i);
                                if (hd_nodedev_filter_match(d, f))
                                        json_object_array_add(o, device_json(list, d, &oc));
                        }
                }
                print_json(o);
                json_object_put(o);
                return EXIT_SUCCESS;
        }
        if (lng || output || to.raw || to.noheadings) {
                struct libscols_table *tb;
                to.tree = tree;
                tb = table_new(&oc, &to);
                if (!tb) {
                        errorf("nodedev-list: out of memory");
                        return EXIT_FAILURE;
                }
                if (tree)
                        table_add(tb, NULL, list, hd_nodedev_list_root(list), &oc, true);
                else
                        for (size_t i = 0; i < hd_nodedev_list_count(list); i++) {
                                hd_device *d = hd_nodedev_list_get(list, i);
                                if (hd_nodedev_filter_match(d, f))
                                        table_add(tb, NULL, list, d, &oc, false);
                        }
                scols_print_table(tb);
                scols_unref_table(tb);
                return EXIT_SUCCESS;
        }
        if (tree) {
                char indent[4096] = "";
                tree_print(hd_nodedev_list_root(list), NULL, true, indent, sizeof(indent));
                return EXIT_SUCCESS;
        }
        for (size_t i = 0; i < hd_nodedev_list_count(list); i++) {
                hd_device *d = hd_nodedev_list_get(list, i);
                if (hd_nodedev_filter_match(d, f))
                        puts(hd_device_get_name(d));
        }
        return EXIT_SUCCESS;
}

/* ---- nodedev-dumpxml ---- */

/* virsh's --xpath: print what EXPR selects in @xml (each node on its own,
 * or all under <nodes> with @wrap; a string, number or boolean as text) */
static void xml_quiet(void *ctx, const char *msg, ...) {}
static void xml_quiet_structured(void *ctx, const xmlError *e) {}

static int print_xpath(const char *xml, const char *expr, bool wrap) {
        /* libxml2's own messages would be a second error line */
        xmlSetGenericErrorFunc(NULL, xml_quiet);
        xmlSetStructuredErrorFunc(NULL, (xmlStructuredErrorFunc) xml_quiet_structured);
        xmlDocPtr doc = xmlReadMemory(xml, (int) strlen(xml), "device.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
        xmlXPathContextPtr xc = doc ? xmlXPathNewContext(doc) : NULL;
        xmlXPathObjectPtr obj = xc ? xmlXPathEvalExpression((const xmlChar *) expr, xc) : NULL;
        int rc = EXIT_SUCCESS;

        if (!doc || !xc) {
                errorf("nodedev-dumpxml: cannot parse the device XML");
                rc = EXIT_FAILURE;
        } else if (!obj) {
                errorf("nodedev-dumpxml: '%s' is not a valid XPath expression", expr);
                rc = EXIT_USAGE;
        } else if (obj->type == XPATH_NODESET) {
                xmlBufferPtr buf = xmlBufferCreate();
                int n = obj->nodesetval ? obj->nodesetval->nodeNr : 0;
                if (wrap)
                        fputs("<nodes>\n", stdout);
                for (int i = 0; i < n && buf; i++) {
                        xmlBufferEmpty(buf);
                        xmlNodeDump(buf, doc, obj->nodesetval->nodeTab[i], wrap ? 1 : 0, 1);
                        printf("%s%s\n", wrap ? "  " : "", (const char *) xmlBufferContent(buf));
                }
                if (wrap)
                        fputs("</nodes>\n", stdout);
                xmlBufferFree(buf);
        } else {
                xmlChar *str = xmlXPathCastToString(obj);
                printf("%s\n", str ? (const char *) str : "");
                xmlFree(str);
        }
        xmlXPathFreeObject(obj);
        xmlXPathFreeContext(xc);
        xmlFreeDoc(doc);
        return rc;
}

enum { ARG_XPATH = 0x100, ARG_WRAP };
static const struct option dumpxml_options[] = {
        { "all", no_argument, NULL, 'a' },
        { "xpath", required_argument, NULL, ARG_XPATH },
        { "wrap", no_argument, NULL, ARG_WRAP },
        {}
};
static const char *arg_xpath;
static bool arg_all, arg_wrap;

static int dumpxml_option(const char *verb _unused_, int c, const char *arg) {
        switch (c) {
        case 'a': arg_all = true; return 0;
        case ARG_XPATH: arg_xpath = arg; return 0;
        case ARG_WRAP: arg_wrap = true; return 0;
        }
        return -EINVAL;
}

static int verb_nodedev_dumpxml(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        const char *xpath = arg_xpath;
        bool all = arg_all, wrap = arg_wrap;
        hd_device *d;
        int r, rc = EXIT_SUCCESS;

        if (all ? argc != 1 : argc != 2) {
                errorf("nodedev-dumpxml: expected exactly one device name, or --all");
                return EXIT_USAGE;
        }
        if (wrap && !xpath) {
                errorf("nodedev-dumpxml: --wrap needs --xpath");
                return EXIT_USAGE;
        }
        if (all && xpath) {
                errorf("nodedev-dumpxml: --xpath works on one device, not --all");
                return EXIT_USAGE;
        }
        if ((all ? open_list(&ctx, &list) : open_lookup_list(&ctx, &list)) < 0)
                return EXIT_FAILURE;
        /* defined mdevs: inactive ones become visible, active ones show
         * their attributes and start policy */
        r = hd_nodedev_list_add_defined_mdevs(list);
        if (r < 0)
                errorf("nodedev-dumpxml: cannot read mdev definitions: %s", strerror(-r));
        if (!all) {
                _cleanup_free_ char *xml = NULL;
                if (lookup(list, argv[1], &d) < 0)
                        return EXIT_FAILURE;
                r = hd_device_format_xml(d, &xml);
                if (r < 0) {
                        errorf("%s: cannot format XML: %s", hd_device_get_name(d), strerror(-r));
                        return EXIT_FAILURE;
                }
                if (xpath)
                        return print_xpath(xml, xpath, wrap);
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

        if (open_lookup_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        (void) hd_nodedev_list_add_defined_mdevs(list);
        if (lookup(list, argv[1], &d) < 0)
                return EXIT_FAILURE;
        p = hd_device_get_parent(d);
        /* virsh's fields in virsh's order, then ours */
        printf("%-15s %s\n", "Name:", hd_device_get_name(d));
        printf("%-15s %s\n", "Parent:", p ? hd_device_get_name(p) : "");
        printf("%-15s %s\n", "Active:", hd_device_is_active(d) ? "yes" : "no");
        printf("%-15s %s\n", "Persistent:", hd_device_is_persistent(d) ? "yes" : "no");
        printf("%-15s %s\n", "Autostart:", hd_device_get_autostart(d) ? "yes" : "no");
        printf("%-15s %s\n", "Capability:", hd_cap_type_to_string(hd_device_get_cap_type(d)));
        printf("%-15s %s\n", "Path:", hd_device_get_syspath(d) ?: "");
        printf("%-15s %s\n", "Driver:", hd_device_get_driver(d) ?: "");
        return EXIT_SUCCESS;
}

static int verb_show(int argc _unused_, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _cleanup_free_ char *out = NULL;
        bool json = arg_json;
        hd_device *d;
        int r;

        if (open_lookup_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        if (lookup(list, argv[1], &d) < 0)
                return EXIT_FAILURE;
        r = json ? hd_device_format_json(d, &out) : hd_device_format_text(d, &out);
        if (r < 0) {
                errorf("%s: %s", hd_device_get_name(d), strerror(-r));
                return EXIT_FAILURE;
        }
        if (json) {
                /* the device's document plus who uses it */
                json_object *o = json_tokener_parse(out), *u, *h;
                bool add;
                if (!o) {
                        fputs(out, stdout);
                        fputc('\n', stdout);
                        return EXIT_SUCCESS;
                }
                u = libvirt_used_by_json(list, d, &add);
                if (add)
                        json_object_object_add(o, "used_by", u);
                if ((h = libvirt_vfio_holder_json(d)))
                        json_object_object_add(o, "vfio_holder", h);
                if (add || h)
                        print_json(o);
                else
                        printf("%s\n", out);
                json_object_put(o);
                return EXIT_SUCCESS;
        }
        fputs(out, stdout);
        libvirt_show_text(list, d);
        if (hd_device_get_cap_type(d) == HD_CAP_PCI) {
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
        fprintf(stderr, "captured %zu node devices (from %zu sysfs devices: %zu files, %zu links, %zu udev entries) into %s\n",
                st.node_devices, st.devices, st.files, st.links, st.udev_entries, argv[1]);
        return EXIT_SUCCESS;
}

/* ---- nodedev-event: hostdevd's signals (docs/dbus.md) ---- */

enum { ARG_EV_LOOP = 0x200, ARG_EV_TIMEOUT, ARG_EV_DEVICE, ARG_EV_EVENT };
static const struct option event_options[] = {
        { "loop", no_argument, NULL, ARG_EV_LOOP },
        { "timeout", required_argument, NULL, ARG_EV_TIMEOUT },
        { "device", required_argument, NULL, ARG_EV_DEVICE },
        { "event", required_argument, NULL, ARG_EV_EVENT },
        {}
};
static bool arg_ev_loop;
static unsigned arg_ev_timeout;
static const char *arg_ev_device, *arg_ev_event;

/* the daemon's signal, hostdevctl's (virsh's) word for it */
static const struct {
        const char *signal, *event;
} event_names[] = {
        { "DeviceAdded", "created" },
        { "DeviceRemoved", "deleted" },
        { "DeviceChanged", "updated" },
};

static int event_option(const char *verb _unused_, int c, const char *arg) {
        char *end;
        switch (c) {
        case ARG_EV_LOOP: arg_ev_loop = true; return 0;
        case ARG_EV_TIMEOUT: {
                unsigned long t = strtoul(arg, &end, 10);
                if (*arg < '0' || *arg > '9' || *end || t == 0 || t > 86400 * 365) {
                        errorf("nodedev-event: --timeout takes a number of seconds (1 or more), not '%s'", arg);
                        return -EINVAL;
                }
                arg_ev_timeout = (unsigned) t;
                return 0;
        }
        case ARG_EV_DEVICE: arg_ev_device = arg; return 0;
        case ARG_EV_EVENT:
                for (size_t i = 0; i < ELEMENTSOF(event_names); i++)
                        if (streq(arg, event_names[i].event)) {
                                arg_ev_event = event_names[i].event;
                                return 0;
                        }
                errorf("nodedev-event: --event takes created, deleted or updated, not '%s'", arg);
                return -EINVAL;
        }
        return -EINVAL;
}

#if HAVE_SD_BUS
#include <systemd/sd-bus.h>
#include <time.h>

#define HOSTDEVD_NAME "org.hostdev.Hostdev1"
#define HOSTDEVD_MANAGER "/org/hostdev/Hostdev1/Manager"
#define HOSTDEVD_IFACE "org.hostdev.Hostdev1.Manager"

struct event_state {
        const char *device, *event;
        bool json, loop;
        unsigned seen;
};

static int on_device_signal(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        struct event_state *st = userdata;
        const char *name, *event = NULL;

        if (sd_bus_message_read(m, "s", &name) < 0)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(event_names); i++)
                if (streq(sd_bus_message_get_member(m), event_names[i].signal))
                        event = event_names[i].event;
        if (!event || (st->event && !streq(st->event, event)) || (st->device && !streq(st->device, name)))
                return 0;
        if (st->json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "event", json_object_new_string(event));
                json_object_object_add(o, "device", json_object_new_string(name));
                puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(o);
        } else if (streq(event, "updated"))
                printf("event 'update' for node device %s\n", name);
        else
                printf("event 'lifecycle' for node device %s: %s\n", name, streq(event, "created") ? "Created" : "Deleted");
        fflush(stdout);
        st->seen++;
        return 0;
}

static double mono_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int verb_nodedev_event(int argc _unused_, char **argv _unused_) {
        struct event_state st = { .device = arg_ev_device, .event = arg_ev_event, .json = arg_json, .loop = arg_ev_loop };
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        _cleanup_free_ char *canonical = NULL;
        bool timed = arg_ev_timeout > 0;
        double end = mono_s() + arg_ev_timeout;
        sd_bus *bus = NULL;
        int r;

        if (arg_sysroot) {
                errorf("nodedev-event: events come from hostdevd on this host's system bus; --sysroot does not apply");
                return EXIT_USAGE;
        }
        r = sd_bus_open_system(&bus);
        if (r < 0) {
                errorf("nodedev-event: cannot connect to the system bus: %s", strerror(-r));
                return EXIT_FAILURE;
        }
        r = sd_bus_match_signal(bus, NULL, HOSTDEVD_NAME, HOSTDEVD_MANAGER, HOSTDEVD_IFACE, NULL, on_device_signal, &st);
        /* is hostdevd there (activating it where it is installed)?  And
         * the device's own name for any name it answers to */
        if (r >= 0)
                r = sd_bus_call_method(bus, HOSTDEVD_NAME, HOSTDEVD_MANAGER, HOSTDEVD_IFACE, "GetDeviceObject", &error,
                                       &reply, "s", st.device ?: "computer");
        if (r >= 0 && st.device) {
                const char *path;
                if (sd_bus_message_read(reply, "o", &path) >= 0 &&
                    sd_bus_path_decode(path, "/org/hostdev/Hostdev1/devices", &canonical) > 0)
                        st.device = canonical;
        } else if (r < 0 && sd_bus_error_has_name(&error, "org.hostdev.Hostdev1.Error.NotFound"))
                r = 0;  /* a device still to come: its name as given */
        sd_bus_message_unref(reply);
        if (r < 0) {
                if (sd_bus_error_has_names(&error, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                        errorf("nodedev-event: hostdevd is not running (no %s on the system bus)", HOSTDEVD_NAME);
                else
                        errorf("nodedev-event: %s", error.message ?: strerror(-r));
                sd_bus_error_free(&error);
                sd_bus_flush_close_unref(bus);
                return EXIT_FAILURE;
        }
        sd_bus_error_free(&error);
        if (arg_log_level >= HD_LOG_INFO)
                fprintf(stderr, "hostdevctl: listening to hostdevd's events\n");
        while (st.loop || st.seen == 0) {
                double left = end - mono_s();
                if (timed && left <= 0)
                        break;
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, timed ? (uint64_t) (left * 1e6) + 1 : UINT64_MAX);
                if (r < 0)
                        break;
        }
        sd_bus_flush_close_unref(bus);
        if (r < 0) {
                errorf("nodedev-event: lost the bus: %s", strerror(-r));
                return EXIT_FAILURE;
        }
        if (st.loop || arg_ev_timeout)
                fprintf(stderr, "events received: %u\n", st.seen);
        return EXIT_SUCCESS;
}
#else
static int verb_nodedev_event(int argc _unused_, char **argv _unused_) {
        errorf("nodedev-event: this hostdevctl was built without D-Bus (libsystemd) support");
        return EXIT_FAILURE;
}
#endif

const struct verb nodedev_verbs[] = {
        { .name = "nodedev-list", .fn = verb_nodedev_list, .flags = VERB_JSON,
          .shortopts = "tc:lo:nrw:s:d:a", .options = list_options, .option = list_option,
          .args = "[--tree] [--cap CAP[,CAP...]] [-s SLOT] [-d ID] [--class CLASS] [--driver NAME] [--inactive|--all] "
            "[--persistent|--transient] [--json] [--long] [-o COLUMNS] [--noheadings] [--raw] [--width N] [--list-columns]",
          .summary = "List node devices (names as libvirt's node-device driver gives them).",
          .help = "Options:\n"
            "  --tree           print the device tree rooted at 'computer' (virsh format)\n"
            "  --cap LIST       only devices with one of these capabilities (comma list): system,\n"
            "                   pci, usb_device, usb, net, scsi_host, scsi_target, scsi, storage,\n"
            "                   fc_host, vports, scsi_generic, drm, mdev_types, mdev, vdpa, vpd,\n"
            "                   phys_function, virt_functions (nested ones match too); libvirt's\n"
            "                   s390 names (ccw, css, ap_card, ap_queue, ap_matrix, ccwgroup) match nothing\n"
            "  -s, --slot [[[DOMAIN]:]BUS]:][SLOT][.[FUNC]]\n"
            "                   only PCI devices at this address (hex, as lspci -s)\n"
            "  -d, --id [VENDOR]:[DEVICE]\n"
            "                   only PCI devices with these ids (hex, as lspci -d)\n"
            "  --class CLASS    only PCI devices of this class: 02, 0200 or 0x020000\n"
            "  --driver NAME    only devices bound to this driver\n"
            "  --inactive       only inactive devices (defined, stopped mediated devices)\n"
            "  --all            active and inactive devices\n"
            "  --persistent     only persistent devices (defined mediated devices)\n"
            "  --transient      only transient devices\n"
            "  --json           JSON output (docs/json.md); -o picks its keys\n"
            "  -l, --long       table: NAME,CAP,DRIVER,IOMMU,VIABLE,PARENT\n"
            "  -o, --output COLUMNS\n"
            "                   table of these columns (comma list; +COLUMNS adds to --long's)\n"
            "  -n, --noheadings no header line\n"
            "  -r, --raw        raw table: one space between columns, no alignment\n"
            "  -w, --width N    lay the table out for N columns (default: the terminal's)\n"
            "  --list-columns   the columns -o accepts, with what they hold\n" },
        { .name = "nodedev-dumpxml", .fn = verb_nodedev_dumpxml, .max_args = 1, .shortopts = "a",
          .options = dumpxml_options, .option = dumpxml_option,
          .expect = "expected exactly one device name, or --all", .args = "NAME [--xpath EXPR [--wrap]] | --all",
          .summary = "Print the libvirt node-device XML of a device, or of all devices under <devices>.",
          .help = "NAME is a node-device name (pci_0000_00_03_0), a PCI address (0000:00:03.0\n"
            "or 00:03.0), a network interface name, a /sys path, an mdev UUID, a device\n"
            "node (/dev/vda, /dev/dri/card0) or its name (vda).\n"
            "Options:\n"
            "  --xpath EXPR   print only what the XPath expression selects (as virsh)\n"
            "  --wrap         with --xpath: wrap the selected nodes in <nodes>\n"
            "  --all          every device, under <devices>\n" },
        { .name = "nodedev-info", .fn = verb_nodedev_info, .min_args = 1, .max_args = 1,
          .expect = "expected exactly one device name", .args = "NAME",
          .summary = "Print basic information about a device." },
        { .name = "show", .fn = verb_show, .min_args = 1, .max_args = 1, .flags = VERB_JSON,
          .expect = "expected exactly one device name", .args = "NAME [--json]",
          .summary = "Show everything known about a device." },
        { .name = "nodedev-event", .fn = verb_nodedev_event, .flags = VERB_JSON, .shortopts = "",
          .options = event_options, .option = event_option,
          .args = "[--loop] [--timeout S] [--device NAME] [--event created|deleted|updated] [--json]",
          .summary = "Print the device events hostdevd announces (as virsh nodedev-event).",
          .help = "Waits for the first event, or with --loop for every event, from hostdevd on\n"
            "the system bus (docs/dbus.md).\n"
            "Options:\n"
            "  --loop           every event, not only the first\n"
            "  --timeout S      stop after S seconds\n"
            "  --device NAME    only this device's events (any name it answers to)\n"
            "  --event EVENT    only created, deleted or updated events\n"
            "  --json           one JSON object a line: {\"event\":...,\"device\":...}\n" },
        { .name = "capture", .fn = verb_capture, .min_args = 1, .max_args = 1,
          .expect = "expected exactly one target directory", .args = "DIR",
          .summary = "Copy what hostdev reads of this host into DIR (nothing is written to the host).",
          .help = "The result replays with 'hostdevctl --sysroot DIR ...'. Files only root can\n"
            "read are captured when run as root. Attach 'tar czf capture.tgz DIR' to bug reports.\n" },
        {}
};
