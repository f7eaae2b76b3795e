/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdevctl mediated-device verbs: "mdev ..." (mdevctl's operations) and
 * the libvirt-style nodedev-create/-destroy/-define/-undefine/-start/
 * -autostart on mdevs.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "hostdevctl.h"

static void mdev_unrefp(hd_mdev **m) { hd_mdev_free(*m); }

/* "NAME=VALUE" → attribute */
static int parse_attr(const char *verb, const char *arg, hd_mdev *m) {
        const char *eq = strchr(arg, '=');
        _cleanup_free_ char *name = NULL;
        if (!eq || eq == arg) {
                errorf("%s: attribute '%s' is not NAME=VALUE", verb, arg);
                return -EINVAL;
        }
        name = strndup(arg, (size_t) (eq - arg));
        if (!name || hd_mdev_add_attr(m, name, eq + 1) < 0) {
                errorf("%s: out of memory", verb);
                return -ENOMEM;
        }
        return 0;
}

static int read_file(const char *verb, const char *path, char **ret, size_t *ret_len) {
        _cleanup_fclose_ FILE *f = NULL;
        char *buf = NULL;
        size_t len = 0, cap = 0, n;

        f = streq(path, "-") ? NULL : fopen(path, "re");
        if (!f && !streq(path, "-")) {
                errorf("%s: cannot open '%s': %s", verb, path, strerror(errno));
                return -errno;
        }
        for (;;) {
                if (len + 4096 + 1 > cap) {
                        char *nb = realloc(buf, cap = len + 65536);
                        if (!nb) {
                                free(buf);
                                return -ENOMEM;
                        }
                        buf = nb;
                }
                n = fread(buf + len, 1, 4096, f ? f : stdin);
                len += n;
                if (n < 4096)
                        break;
                if (len > (1u << 20)) {
                        free(buf);
                        errorf("%s: '%s' is too large", verb, path);
                        return -EFBIG;
                }
        }
        buf[len] = 0;
        *ret = buf;
        *ret_len = len;
        return 0;
}

/* one-line explanation of a library error for @uuid / @parent / @type */
static void mdev_error(const char *verb, int r, const char *uuid, const char *parent, const char *type) {
        switch (r) {
        case -ENODEV:
                if (parent && !uuid)
                        errorf("%s: '%s' is not a mediated-device parent on this host (see 'hostdevctl mdev types')",
                               verb, parent);
                else
                        errorf("%s: no mediated device %s%s%s%s", verb, strempty(uuid), parent ? " on '" : "",
                               strempty(parent), parent ? "'" : "");
                break;
        case -ENOENT:
                errorf("%s: unknown mdev type '%s'%s%s (see 'hostdevctl mdev types%s%s')", verb, strempty(type),
                       parent ? " for parent " : "", strempty(parent), parent ? " " : "", strempty(parent));
                break;
        case -EINVAL:
                errorf("%s: invalid argument (a UUID is 8-4-4-4-12 hex digits; names may not contain '/')", verb);
                break;
        case -EEXIST:
                errorf("%s: mediated device %s exists already", verb, strempty(uuid));
                break;
        case -ENOSPC:
                errorf("%s: no available instances of %s on %s", verb, strempty(type), strempty(parent));
                break;
        case -ENOTUNIQ:
                errorf("%s: %s is defined under several parents; give --parent", verb, strempty(uuid));
                break;
        case -EALREADY:
                errorf("%s: mediated device %s is already running", verb, strempty(uuid));
                break;
        case -ENXIO:
                errorf("%s: the new device has no such attribute (see its type's driver); it was removed again", verb);
                break;
        case -EBUSY:
                errorf("%s: mediated device %s is in use; nothing changed", verb, strempty(uuid));
                break;
        default:
                errorf("%s: %s", verb, strerror(-r));
        }
}

static int remove_mdev(const char *verb, hd_ctx *ctx, const char *uuid, const char *name) {
        int pid = 0, r;

        r = hd_mdev_in_use(ctx, uuid, &pid);
        if (r > 0) {
                errorf("%s: %s is in use: process %d has its VFIO group open; nothing changed", verb, name, pid);
                return EXIT_REFUSED;
        }
        r = hd_mdev_remove(ctx, uuid);
        if (r == -EBUSY) {
                errorf("%s: %s is in use (by the domain named above, or the kernel refused to remove it); nothing changed", verb, name);
                return EXIT_REFUSED;
        }
        if (r < 0) {
                mdev_error(verb, r, uuid, NULL, NULL);
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

/* ---- mdev types ---- */

static int mdev_types(int argc, char **argv) {
        static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, {} };
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        hd_mdev_type *t = NULL;
        const char *parent = NULL;
        bool json = false;
        size_t n = 0;
        int c, r;

        while ((c = getopt_long(argc, argv, "j", opts, NULL)) >= 0)
                switch (c) {
                case 'j': json = true; break;
                default: return bad_option("mdev types", argv);
                }
        if (argc - optind > 1) {
                errorf("mdev types: expected at most one parent");
                return EXIT_USAGE;
        }
        if (optind < argc)
                parent = argv[optind];
        if (open_ctx(&ctx) < 0)
                return EXIT_FAILURE;
        r = hd_mdev_list_types(ctx, parent, &t, &n);
        if (r < 0) {
                mdev_error("mdev types", r, NULL, parent, NULL);
                return EXIT_FAILURE;
        }
        if (json) {
                json_object *arr = json_object_new_array();
                for (size_t i = 0; i < n; i++) {
                        json_object *o = json_object_new_object();
                        json_object_object_add(o, "parent", json_object_new_string(t[i].parent));
                        json_object_object_add(o, "type", json_object_new_string(t[i].id));
                        json_object_object_add(o, "name", t[i].name ? json_object_new_string(t[i].name) : NULL);
                        json_object_object_add(o, "device_api", t[i].device_api ? json_object_new_string(t[i].device_api) : NULL);
                        json_object_object_add(o, "available_instances",
                                               t[i].available >= 0 ? json_object_new_int64(t[i].available) : NULL);
                        json_object_object_add(o, "description",
                                               t[i].description ? json_object_new_string(t[i].description) : NULL);
                        json_object_array_add(arr, o);
                }
                print_json(arr);
                json_object_put(arr);
        } else {
                if (n == 0)
                        printf(parent ? "%s has no mediated-device types\n" : "no mediated-device parents%s\n",
                               parent ? parent : "");
                for (size_t i = 0; i < n; i++) {
                        if (i == 0 || !streq(t[i].parent, t[i - 1].parent))
                                printf("%s\n", t[i].parent);
                        printf("  %s\n", t[i].id);
                        if (t[i].available >= 0)
                                printf("    Available instances: %ld\n", t[i].available);
                        if (t[i].device_api)
                                printf("    Device API: %s\n", t[i].device_api);
                        if (t[i].name)
                                printf("    Name: %s\n", t[i].name);
                        if (t[i].description) {
                                printf("    Description: ");
                                for (const char *p = t[i].description; *p; p++)
                                        if (*p == '\n')
                                                fputs(", ", stdout);
                                        else
                                                putchar(*p);
                                putchar('\n');
                        }
                }
        }
        hd_mdev_types_free(t, n);
        return EXIT_SUCCESS;
}

/* ---- mdev list ---- */

static json_object *mdev_json(const hd_mdev *m) {
        json_object *o = json_object_new_object(), *attrs = json_object_new_array();
        _cleanup_free_ char *name = NULL;
        (void) hd_mdev_nodedev_name(m->uuid, m->parent, &name);
        json_object_object_add(o, "uuid", json_object_new_string(m->uuid));
        json_object_object_add(o, "parent", json_object_new_string(m->parent));
        json_object_object_add(o, "type", m->type ? json_object_new_string(m->type) : NULL);
        json_object_object_add(o, "name", name ? json_object_new_string(name) : NULL);
        json_object_object_add(o, "active", json_object_new_boolean(m->active));
        json_object_object_add(o, "defined", json_object_new_boolean(m->defined));
        json_object_object_add(o, "start", m->defined ? json_object_new_string(m->autostart ? "auto" : "manual") : NULL);
        json_object_object_add(o, "iommu_group", m->iommu_group >= 0 ? json_object_new_int(m->iommu_group) : NULL);
        for (size_t i = 0; i < m->n_attrs; i++) {
                json_object *a = json_object_new_object();
                json_object_object_add(a, m->attrs[i].name, json_object_new_string(m->attrs[i].value));
                json_object_array_add(attrs, a);
        }
        json_object_object_add(o, "attrs", attrs);
        return o;
}

static int mdev_list(int argc, char **argv) {
        static const struct option opts[] = {
                { "defined", no_argument, NULL, 'd' },
                { "all", no_argument, NULL, 'a' },
                { "verbose", no_argument, NULL, 'v' },
                { "json", no_argument, NULL, 'j' },
                {}
        };
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        bool json = false, defined = false, all = false, verbose = false;
        hd_mdev *v = NULL;
        size_t n = 0;
        int c, r;

        while ((c = getopt_long(argc, argv, "dajv", opts, NULL)) >= 0)
                switch (c) {
                case 'd': defined = true; break;
                case 'a': all = true; break;
                case 'v': verbose = true; break;
                case 'j': json = true; break;
                default: return bad_option("mdev list", argv);
                }
        if (optind < argc) {
                errorf("mdev list: unexpected argument '%s'", argv[optind]);
                return EXIT_USAGE;
        }
        if (open_ctx(&ctx) < 0)
                return EXIT_FAILURE;
        r = hd_mdev_list(ctx, all ? 0 : defined ? HD_MDEV_LIST_DEFINED : HD_MDEV_LIST_ACTIVE, &v, &n);
        if (r < 0) {
                errorf("mdev list: %s", strerror(-r));
                return EXIT_FAILURE;
        }
        if (json) {
                json_object *arr = json_object_new_array();
                for (size_t i = 0; i < n; i++)
                        json_object_array_add(arr, mdev_json(&v[i]));
                print_json(arr);
                json_object_put(arr);
        } else
                for (size_t i = 0; i < n; i++) {
                        /* mdevctl's format: UUID PARENT TYPE START [(active)|(defined)] */
                        const char *note = "";
                        if (all)
                                note = v[i].active && v[i].defined ? " (active, defined)" : v[i].active ? " (active)" : " (defined)";
                        else if (defined && v[i].active)
                                note = " (active)";
                        else if (!defined && v[i].defined)
                                note = " (defined)";
                        printf("%s %s %s %s%s\n", v[i].uuid, v[i].parent, strempty(v[i].type),
                               v[i].autostart ? "auto" : "manual", note);
                        if (verbose && v[i].n_attrs) {
                                printf("  Attrs:\n");
                                for (size_t k = 0; k < v[i].n_attrs; k++)
                                        printf("    @{%zu}: {\"%s\":\"%s\"}\n", k, v[i].attrs[k].name, v[i].attrs[k].value);
                        }
                }
        hd_mdev_array_free(v, n);
        return EXIT_SUCCESS;
}

/* ---- create / remove / stop ---- */

static int mdev_create(int argc, char **argv) {
        static const struct option opts[] = {
                { "uuid", required_argument, NULL, 'u' },
                { "attr", required_argument, NULL, 'A' },
                { "dry-run", no_argument, NULL, 'n' },
                {}
        };
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(mdev_unrefp) hd_mdev *attrs = calloc(1, sizeof(hd_mdev));
        const char *uuid = NULL;
        bool dry_run = false;
        char created[37];
        int c, r;

        if (!attrs)
                return EXIT_FAILURE;
        while ((c = getopt_long(argc, argv, "u:n", opts, NULL)) >= 0)
                switch (c) {
                case 'u': uuid = optarg; break;
                case 'n': dry_run = true; break;
                case 'A':
                        if (parse_attr("mdev create", optarg, attrs) < 0)
                                return EXIT_USAGE;
                        break;
                default: return bad_option("mdev create", argv);
                }
        if (argc - optind != 2) {
                errorf("mdev create: expected PARENT TYPE");
                return EXIT_USAGE;
        }
        if (uuid && !hd_uuid_is_valid(uuid)) {
                errorf("mdev create: '%s' is not a valid UUID", uuid);
                return EXIT_USAGE;
        }
        if (open_ctx(&ctx) < 0)
                return EXIT_FAILURE;
        r = hd_mdev_create_full(ctx, argv[optind], argv[optind + 1], uuid, attrs->attrs, attrs->n_attrs,
                                dry_run ? HD_MDEV_CREATE_DRY_RUN : 0, created);
        if (r < 0) {
                mdev_error("mdev create", r, uuid, argv[optind], argv[optind + 1]);
                return EXIT_FAILURE;
        }
        if (dry_run)
                printf("would create %s (%s on %s)\n", created, argv[optind + 1], argv[optind]);
        else
                puts(created);
        return EXIT_SUCCESS;
}

static int mdev_remove(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        const char *verb = streq(argv[0], "stop") ? "mdev stop" : "mdev remove";

        if (argc != 2) {
                errorf("%s: expected one UUID", verb);
                return EXIT_USAGE;
        }
        if (!hd_uuid_is_valid(argv[1])) {
                errorf("%s: '%s' is not a valid UUID", verb, argv[1]);
                return EXIT_USAGE;
        }
        if (open_ctx(&ctx) < 0)
                return EXIT_FAILURE;
        return remove_mdev(verb, ctx, argv[1], argv[1]);
}

/* ---- define / undefine / start / autostart / modify ---- */

static int mdev_define(int argc, char **argv) {
        static const struct option opts[] = {
                { "uuid", required_argument, NULL, 'u' },
                { "parent", required_argument, NULL, 'p' },
                { "type", required_argument, NULL, 't' },
                { "auto", no_argument, NULL, 'a' },
                { "attr", required_argument, NULL, 'A' },
                { "jsonfile", required_argument, NULL, 'J' },
                {}
        };
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(mdev_unrefp) hd_mdev *m = calloc(1, sizeof(hd_mdev));
        const char *uuid = NULL, *jsonfile = NULL;
        bool autostart = false;
        int c, r;

        if (!m)
                return EXIT_FAILURE;
        m->iommu_group = -1;
        while ((c = getopt_long(argc, argv, "u:p:t:a", opts, NULL)) >= 0)
                switch (c) {
                case 'u': uuid = optarg; break;
                case 'p': free(m->parent); m->parent = strdup(optarg); break;
                case 't': free(m->type); m->type = strdup(optarg); break;
                case 'a': autostart = true; break;
                case 'J': jsonfile = optarg; break;
                case 'A':
                        if (parse_attr("mdev define", optarg, m) < 0)
                                return EXIT_USAGE;
                        break;
                default: return bad_option("mdev define", argv);
                }
        if (optind < argc && !uuid)
                uuid = argv[optind++];
        if (optind < argc) {
                errorf("mdev define: unexpected argument '%s'", argv[optind]);
                return EXIT_USAGE;
        }
        if (uuid && !hd_uuid_is_valid(uuid)) {
                errorf("mdev define: '%s' is not a valid UUID", uuid);
                return EXIT_USAGE;
        }
        if (jsonfile) {
                _cleanup_free_ char *text = NULL;
                char err[256] = "";
                size_t len;
                if (m->type || m->n_attrs) {
                        errorf("mdev define: --jsonfile excludes --type and --attr");
                        return EXIT_USAGE;
                }
                if (read_file("mdev define", jsonfile, &text, &len) < 0)
                        return EXIT_FAILURE;
                if (hd_mdev_parse_json(text, m, err, sizeof(err)) < 0) {
                        errorf("mdev define: '%s': %s; nothing defined", jsonfile, err);
                        return EXIT_FAILURE;
                }
                autostart = autostart || m->autostart;
        }
        m->autostart = autostart;
        if (uuid)
                snprintf(m->uuid, sizeof(m->uuid), "%s", uuid);
        if (open_ctx(&ctx) < 0)
                return EXIT_FAILURE;
        r = hd_mdev_define(ctx, m, 0);
        if (r == -EINVAL && (!m->parent || !m->type)) {
                errorf("mdev define: give --parent and --type (or the UUID of a running mdev)");
                return EXIT_USAGE;
        }
        if (r == -EEXIST) {
                errorf("mdev define: %s is already defined (use 'mdev modify')", uuid);
                return EXIT_FAILURE;
        }
        if (r < 0) {
                mdev_error("mdev define", r, uuid, m->parent, m->type);
                return EXIT_FAILURE;
        }
        puts(m->uuid);
        return EXIT_SUCCESS;
}

/* UUID [--parent P] for undefine/start */
static int uuid_verb(int argc, char **argv, const char *verb, bool with_disable, const char **ret_uuid,
                     const char **ret_parent, bool *ret_disable) {
        static const struct option opts[] = {
                { "parent", required_argument, NULL, 'p' },
                { "disable", no_argument, NULL, 'd' },
                {}
        };
        int c;

        *ret_parent = NULL;
        while ((c = getopt_long(argc, argv, "p:", opts, NULL)) >= 0)
                switch (c) {
                case 'p': *ret_parent = optarg; break;
                case 'd':
                        if (!with_disable)
                                return bad_option(verb, argv);
                        *ret_disable = true;
                        break;
                default: return bad_option(verb, argv);
                }
        if (argc - optind != 1) {
                errorf("%s: expected one UUID", verb);
                return EXIT_USAGE;
        }
        if (!hd_uuid_is_valid(argv[optind])) {
                errorf("%s: '%s' is not a valid UUID", verb, argv[optind]);
                return EXIT_USAGE;
        }
        *ret_uuid = argv[optind];
        return 0;
}

static int not_defined(const char *verb, int r, const char *uuid) {
        if (r == -ENODEV)
                errorf("%s: %s is not defined (see 'hostdevctl mdev list --defined')", verb, uuid);
        else
                mdev_error(verb, r, uuid, NULL, NULL);
        return EXIT_FAILURE;
}

static int mdev_undefine(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        const char *uuid, *parent;
        int r = uuid_verb(argc, argv, "mdev undefine", false, &uuid, &parent, NULL);
        if (r)
                return r;
        if (open_ctx(&ctx) < 0)
                return EXIT_FAILURE;
        r = hd_mdev_undefine(ctx, uuid, parent);
        return r < 0 ? not_defined("mdev undefine", r, uuid) : EXIT_SUCCESS;
}

static int mdev_start(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        const char *uuid, *parent;
        int r = uuid_verb(argc, argv, "mdev start", false, &uuid, &parent, NULL);
        if (r)
                return r;
        if (open_ctx(&ctx) < 0)
                return EXIT_FAILURE;
        r = hd_mdev_start(ctx, uuid, parent);
        if (r == -ENODEV)
                return not_defined("mdev start", r, uuid);
        if (r < 0) {
                hd_mdev *m = NULL;
                (void) hd_mdev_get(ctx, uuid, parent, &m);
                mdev_error("mdev start", r, uuid, m ? m->parent : NULL, m ? m->type : NULL);
                hd_mdev_free(m);
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

static int mdev_autostart(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        const char *uuid, *parent;
        bool disable = false;
        int r = uuid_verb(argc, argv, "mdev autostart", true, &uuid, &parent, &disable);
        if (r)
                return r;
        if (open_ctx(&ctx) < 0)
                return EXIT_FAILURE;
        r = hd_mdev_set_autostart(ctx, uuid, parent, !disable);
        return r < 0 ? not_defined("mdev autostart", r, uuid) : EXIT_SUCCESS;
}

static int mdev_modify(int argc, char **argv) {
        static const struct option opts[] = {
                { "parent", required_argument, NULL, 'p' },
                { "type", required_argument, NULL, 't' },
                { "auto", no_argument, NULL, 'a' },
                { "manual", no_argument, NULL, 'm' },
                { "attr", required_argument, NULL, 'A' },
                { "addattr", required_argument, NULL, 'A' },
                { "delattr", required_argument, NULL, 'D' },
                { "clear-attrs", no_argument, NULL, 'C' },
                {}
        };
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(mdev_unrefp) hd_mdev *add = calloc(1, sizeof(hd_mdev));
        _cleanup_free_ const char **del = NULL;
        hd_mdev_modify mod = { .autostart = -1 };
        const char *parent = NULL;
        size_t ndel = 0;
        int c, r;

        if (!add)
                return EXIT_FAILURE;
        while ((c = getopt_long(argc, argv, "p:t:am", opts, NULL)) >= 0)
                switch (c) {
                case 'p': parent = optarg; break;
                case 't': mod.type = optarg; break;
                case 'a': mod.autostart = 1; break;
                case 'm': mod.autostart = 0; break;
                case 'C': mod.clear_attrs = true; break;
                case 'A':
                        if (parse_attr("mdev modify", optarg, add) < 0)
                                return EXIT_USAGE;
                        break;
                case 'D': {
                        const char **nd = realloc(del, (ndel + 1) * sizeof(*nd));
                        if (!nd)
                                return EXIT_FAILURE;
                        del = nd;
                        del[ndel++] = optarg;
                        break;
                }
                default: return bad_option("mdev modify", argv);
                }
        if (argc - optind != 1 || !hd_uuid_is_valid(argv[optind])) {
                errorf("mdev modify: expected the UUID of a defined mdev");
                return EXIT_USAGE;
        }
        if (!mod.type && mod.autostart < 0 && !add->n_attrs && !ndel && !mod.clear_attrs) {
                errorf("mdev modify: nothing to change (--type, --auto, --manual, --attr, --delattr, --clear-attrs)");
                return EXIT_USAGE;
        }
        mod.add_attrs = add->attrs;
        mod.n_add_attrs = add->n_attrs;
        mod.del_attrs = del;
        mod.n_del_attrs = ndel;
        if (open_ctx(&ctx) < 0)
                return EXIT_FAILURE;
        r = hd_mdev_modify_definition(ctx, argv[optind], parent, &mod);
        if (r == -ENOENT && !mod.type)
                errorf("mdev modify: %s has no such attribute; nothing changed", argv[optind]);
        else if (r == -ENOENT) {
                hd_mdev *m = NULL;
                (void) hd_mdev_get(ctx, argv[optind], parent, &m);
                mdev_error("mdev modify", r, argv[optind], m ? m->parent : parent, mod.type);
                hd_mdev_free(m);
        } else if (r < 0)
                return not_defined("mdev modify", r, argv[optind]);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* ---- apply ---- */

int mdev_apply_report(hd_ctx *ctx, bool dry_run, bool json, json_object **ret_json) {
        _hd_cleanup_result_ hd_result *res = NULL;
        int r = hd_mdev_apply_full(ctx, dry_run ? HD_MDEV_APPLY_DRY_RUN : 0, &res);

        if (r < 0) {
                errorf("apply: mediated devices: %s", strerror(-r));
                return EXIT_FAILURE;
        }
        if (json) {
                json_object *arr = result_json(res);
                if (!arr)
                        return EXIT_FAILURE;
                if (ret_json)
                        *ret_json = arr;
                else {
                        print_json(arr);
                        json_object_put(arr);
                }
        } else
                print_result_text(res, "");
        if (hd_result_get_status(res) < 0) {
                errorf("apply: %s", strempty(hd_result_get_reason(res)));
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

static int mdev_apply(int argc, char **argv) {
        static const struct option opts[] = {
                { "json", no_argument, NULL, 'j' },
                { "dry-run", no_argument, NULL, 'n' },
                {}
        };
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        bool json = false, dry_run = false;
        int c;

        while ((c = getopt_long(argc, argv, "jn", opts, NULL)) >= 0)
                switch (c) {
                case 'j': json = true; break;
                case 'n': dry_run = true; break;
                default: return bad_option("mdev apply", argv);
                }
        if (optind < argc) {
                errorf("mdev apply: unexpected argument '%s'", argv[optind]);
                return EXIT_USAGE;
        }
        if (open_ctx(&ctx) < 0)
                return EXIT_FAILURE;
        return mdev_apply_report(ctx, dry_run, json, NULL);
}

static const struct sub_verb mdev_subs[] = {
        { "types", mdev_types },
        { "list", mdev_list },
        { "create", mdev_create },
        { "remove", mdev_remove },
        { "stop", mdev_remove },
        { "define", mdev_define },
        { "undefine", mdev_undefine },
        { "start", mdev_start },
        { "autostart", mdev_autostart },
        { "modify", mdev_modify },
        { "apply", mdev_apply },
        {}
};

static int verb_mdev(int argc, char **argv) {
        return run_sub_verb("mdev", mdev_subs, argc, argv);
}

/* ---- libvirt-style node-device verbs ---- */

/* the mdev node device NAME (active or defined) */
static int open_mdev(const char *verb, const char *name, hd_ctx **ret_ctx, hd_nodedev_list **ret_list,
                     hd_device **ret_dev, hd_mdev **ret_mdev) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        hd_device *d;
        int r;

        if (open_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        r = hd_nodedev_list_add_defined_mdevs(list);
        if (r < 0) {
                errorf("%s: cannot read mdev definitions: %s", verb, strerror(-r));
                return EXIT_FAILURE;
        }
        if (lookup(list, name, &d) < 0)
                return EXIT_FAILURE;
        if (hd_device_get_cap_type(d) != HD_CAP_MDEV) {
                errorf("%s: %s is a %s device; only mediated devices are supported", verb, hd_device_get_name(d),
                       hd_cap_type_to_string(hd_device_get_cap_type(d)));
                return EXIT_FAILURE;
        }
        r = hd_device_get_mdev(d, ret_mdev);
        if (r < 0) {
                errorf("%s: %s: %s", verb, hd_device_get_name(d), strerror(-r));
                return EXIT_FAILURE;
        }
        *ret_dev = d;
        *ret_ctx = TAKE_PTR(ctx);
        *ret_list = TAKE_PTR(list);
        return 0;
}

static int verb_nodedev_create_define(int argc, char **argv, bool define) {
        const char *verb = define ? "nodedev-define" : "nodedev-create";
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(mdev_unrefp) hd_mdev *m = NULL;
        _cleanup_free_ char *xml = NULL, *name = NULL;
        char err[512] = "", created[37];
        size_t len;
        int r;

        if (argc != 2) {
                errorf("%s: expected one XML file", verb);
                return EXIT_USAGE;
        }
        if (read_file(verb, argv[1], &xml, &len) < 0)
                return EXIT_FAILURE;
        if (open_ctx(&ctx) < 0)
                return EXIT_FAILURE;
        r = hd_mdev_parse_xml(ctx, xml, len, &m, err, sizeof(err));
        if (r < 0) {
                errorf("%s: '%s': %s; nothing changed", verb, argv[1], err[0] ? err : strerror(-r));
                return EXIT_FAILURE;
        }
        if (define) {
                r = hd_mdev_define(ctx, m, HD_MDEV_DEFINE_REPLACE);
                if (r < 0) {
                        mdev_error(verb, r, m->uuid, m->parent, m->type);
                        return EXIT_FAILURE;
                }
                (void) hd_mdev_nodedev_name(m->uuid, m->parent, &name);
                printf("Node device '%s' defined from '%s'\n", strempty(name), argv[1]);
                return EXIT_SUCCESS;
        }
        r = hd_mdev_create(ctx, m->parent, m->type, m->uuid[0] ? m->uuid : NULL, m->attrs, m->n_attrs, created);
        if (r < 0) {
                mdev_error(verb, r, m->uuid[0] ? m->uuid : NULL, m->parent, m->type);
                return EXIT_FAILURE;
        }
        (void) hd_mdev_nodedev_name(created, m->parent, &name);
        printf("Node device %s created from %s\n", strempty(name), argv[1]);
        return EXIT_SUCCESS;
}

static int verb_nodedev_create(int argc, char **argv) { return verb_nodedev_create_define(argc, argv, false); }
static int verb_nodedev_define(int argc, char **argv) { return verb_nodedev_create_define(argc, argv, true); }

static int verb_nodedev_destroy(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _cleanup_(mdev_unrefp) hd_mdev *m = NULL;
        _cleanup_free_ char *name = NULL;
        hd_device *d;
        int r;

        if (argc != 2) {
                errorf("nodedev-destroy: expected one device name");
                return EXIT_USAGE;
        }
        r = open_mdev("nodedev-destroy", argv[1], &ctx, &list, &d, &m);
        if (r)
                return r;
        name = strdup(hd_device_get_name(d));
        if (!m->active) {
                errorf("nodedev-destroy: %s is not active", name);
                return EXIT_FAILURE;
        }
        r = remove_mdev("nodedev-destroy", ctx, m->uuid, name);
        if (r == EXIT_SUCCESS)
                printf("Destroyed node device '%s'\n", name);
        return r;
}

static int verb_nodedev_undefine(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _cleanup_(mdev_unrefp) hd_mdev *m = NULL;
        hd_device *d;
        int r;

        if (argc != 2) {
                errorf("nodedev-undefine: expected one device name");
                return EXIT_USAGE;
        }
        r = open_mdev("nodedev-undefine", argv[1], &ctx, &list, &d, &m);
        if (r)
                return r;
        if (!m->defined) {
                errorf("nodedev-undefine: %s is not a persistent (defined) device", hd_device_get_name(d));
                return EXIT_FAILURE;
        }
        r = hd_mdev_undefine(ctx, m->uuid, m->parent);
        if (r < 0)
                return not_defined("nodedev-undefine", r, m->uuid);
        printf("Undefined node device '%s'\n", hd_device_get_name(d));
        return EXIT_SUCCESS;
}

static int verb_nodedev_start(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _cleanup_(mdev_unrefp) hd_mdev *m = NULL;
        hd_device *d;
        int r;

        if (argc != 2) {
                errorf("nodedev-start: expected one device name");
                return EXIT_USAGE;
        }
        r = open_mdev("nodedev-start", argv[1], &ctx, &list, &d, &m);
        if (r)
                return r;
        if (m->active) {
                errorf("nodedev-start: %s is already active", hd_device_get_name(d));
                return EXIT_FAILURE;
        }
        r = hd_mdev_start(ctx, m->uuid, m->parent);
        if (r < 0) {
                mdev_error("nodedev-start", r, m->uuid, m->parent, m->type);
                return EXIT_FAILURE;
        }
        printf("Device %s started\n", hd_device_get_name(d));
        return EXIT_SUCCESS;
}

static int verb_nodedev_autostart(int argc, char **argv) {
        static const struct option opts[] = { { "disable", no_argument, NULL, 'd' }, {} };
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _cleanup_(mdev_unrefp) hd_mdev *m = NULL;
        bool disable = false;
        hd_device *d;
        int c, r;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (c) {
                case 'd': disable = true; break;
                default: return bad_option("nodedev-autostart", argv);
                }
        if (argc - optind != 1) {
                errorf("nodedev-autostart: expected one device name");
                return EXIT_USAGE;
        }
        r = open_mdev("nodedev-autostart", argv[optind], &ctx, &list, &d, &m);
        if (r)
                return r;
        if (!m->defined) {
                errorf("nodedev-autostart: %s is not a persistent (defined) device; cannot set autostart",
                       hd_device_get_name(d));
                return EXIT_FAILURE;
        }
        r = hd_mdev_set_autostart(ctx, m->uuid, m->parent, !disable);
        if (r < 0)
                return not_defined("nodedev-autostart", r, m->uuid);
        printf("Device %s %s as autostarted\n", hd_device_get_name(d), disable ? "unmarked" : "marked");
        return EXIT_SUCCESS;
}

const struct verb mdev_verbs[] = {
        { "mdev", verb_mdev, "types|list|create|remove|define|undefine|start|stop|autostart|modify|apply ...",
          "Mediated devices: create, remove, define persistently (mdevctl's format), start at boot.",
          "  mdev types [PARENT] [--json]\n"
          "  mdev list [--defined|--all] [--verbose] [--json]\n"
          "  mdev create PARENT TYPE [--uuid UUID] [--attr NAME=VALUE]... [--dry-run]  (transient)\n"
          "  mdev remove|stop UUID             remove a running mdev (a definition stays)\n"
          "  mdev define [UUID] [--parent P --type T] [--auto] [--attr NAME=VALUE]... [--jsonfile F]\n"
          "  mdev undefine UUID [--parent P]\n"
          "  mdev start UUID [--parent P]      start a defined mdev\n"
          "  mdev autostart UUID [--disable] [--parent P]\n"
          "  mdev modify UUID [--parent P] [--type T] [--auto|--manual] [--attr NAME=VALUE]...\n"
          "                   [--delattr NAME]... [--clear-attrs]      (the definition)\n"
          "  mdev apply [--dry-run] [--json]   start every 'auto' mdev whose parent is present\n\n"
          "PARENT is an address as /sys/class/mdev_bus names it (0000:00:02.0, mtty), a\n"
          "node-device name (pci_0000_00_02_0, mtty_mtty) or a short PCI address.\n"
          "Definitions live in /etc/mdevctl.d/<parent>/<uuid> (SYSROOT/etc/mdevctl.d with\n"
          "--sysroot, $HOSTDEV_MDEVCTL_DIR when set), shared with mdevctl.\n"
          "Removing an mdev whose VFIO group a process holds open is refused (exit 2).\n" },
        { "nodedev-create", verb_nodedev_create, "FILE.xml",
          "Create a transient mediated device from libvirt node-device XML ('-': stdin).", NULL },
        { "nodedev-destroy", verb_nodedev_destroy, "NAME",
          "Remove a running mediated device (a definition stays).", NULL },
        { "nodedev-define", verb_nodedev_define, "FILE.xml",
          "Define (or redefine) a persistent mediated device from libvirt node-device XML.", NULL },
        { "nodedev-undefine", verb_nodedev_undefine, "NAME",
          "Remove the definition of a mediated device (a running one keeps running).", NULL },
        { "nodedev-start", verb_nodedev_start, "NAME", "Start a defined, inactive mediated device.", NULL },
        { "nodedev-autostart", verb_nodedev_autostart, "NAME [--disable]",
          "Start a defined mediated device at boot ('hostdevctl apply'), or not.", NULL },
        {}
};
