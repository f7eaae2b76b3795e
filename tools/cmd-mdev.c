/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdevctl mediated-device verbs: "mdev ..." (mdevctl's operations) and
 * the libvirt-style nodedev-create/-destroy/-define/-undefine/-start/
 * -autostart on mdevs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hostdev/listing.h"
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

/* The end of an mdev operation (@r its return, @res its result): on
 * failure the result's reason after "VERB: "; the exit status from the
 * status alone: refused (in use) 2, a 'mdev define' without parent and
 * type a usage error, else 1. */
static int mdev_exit(const char *verb, int r, const hd_result *res) {
        int st = r < 0 ? r : hd_result_get_status(res);
        const char *why = r < 0 ? NULL : hd_result_get_reason(res);

        if (st >= 0)
                return EXIT_SUCCESS;
        errorf("%s: %s", verb, why ?: strerror(-st));
        return st == -EBUSY ? EXIT_REFUSED : st == -EDESTADDRREQ ? EXIT_USAGE : EXIT_FAILURE;
}

/* ---- options of the mdev verbs (one verb runs per process) ---- */

static const char *arg_uuid, *arg_parent, *arg_type, *arg_jsonfile;
static bool arg_defined, arg_all, arg_verbose, arg_auto, arg_disable;
static hd_mdev_modify arg_mod = { .autostart = -1 };
static const char **arg_del;
static size_t arg_n_del;
static hd_mdev *arg_attrs; /* --attr NAME=VALUE..., and --parent/--type of define */

static int mdev_option(const char *verb, int c, const char *arg) {
        if (!arg_attrs && !(arg_attrs = calloc(1, sizeof(hd_mdev))))
                return -ENOMEM;
        switch (c) {
        case 'u': arg_uuid = arg; return 0;
        case 'p': arg_parent = arg; return 0;
        case 't': arg_type = arg; return 0;
        case 'J': arg_jsonfile = arg; return 0;
        case 'd': arg_defined = true; return 0;
        case 'a': arg_all = arg_auto = true; arg_mod.autostart = 1; return 0;
        case 'v': arg_verbose = true; return 0;
        case 'm': arg_mod.autostart = 0; return 0;
        case 'C': arg_mod.clear_attrs = true; return 0;
        case 'x': arg_disable = true; return 0;
        case 'A': return parse_attr(verb, arg, arg_attrs);
        case 'D': {
                const char **nd = realloc(arg_del, (arg_n_del + 1) * sizeof(*nd));
                if (!nd)
                        return -ENOMEM;
                arg_del = nd;
                arg_del[arg_n_del++] = arg;
                return 0;
        }
        }
        return -EINVAL;
}

/* the attributes given, for the verb to own */
static hd_mdev *take_attrs(void) {
        hd_mdev *m = TAKE_PTR(arg_attrs);
        return m ?: calloc(1, sizeof(hd_mdev));
}

/* ---- mdev types ---- */

static int mdev_types(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        hd_mdev_type *t = NULL;
        const char *parent = argc > 1 ? argv[1] : NULL;
        bool json = arg_json;
        size_t n = 0;
        int r;

        if (open_ctx(&ctx) < 0)
                return EXIT_FAILURE;
        r = hd_mdev_list_types(ctx, parent, &t, &n);
        if (r < 0) {
                errorf("mdev types: %s", hd_ctx_get_error(ctx) ?: strerror(-r));
                return EXIT_FAILURE;
        }
        if (json) {
                json_object *arr = NULL;
                r = hd_mdev_types_to_json(t, n, &arr); /* the library's rendering (hostdevd's too) */
                if (r < 0) {
                        hd_mdev_types_free(t, n);
                        errorf("mdev types: %s", strerror(-r));
                        return EXIT_FAILURE;
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

static const struct option mdev_list_options[] = {
        { "defined", no_argument, NULL, 'd' },
        { "all", no_argument, NULL, 'a' },
        { "verbose", no_argument, NULL, 'v' },
        {}
};

static int mdev_list(int argc _unused_, char **argv _unused_) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        bool json = arg_json, defined = arg_defined, all = arg_all, verbose = arg_verbose;
        hd_mdev *v = NULL;
        size_t n = 0;
        int r;

        if (open_ctx(&ctx) < 0)
                return EXIT_FAILURE;
        r = hd_mdev_list(ctx, all ? 0 : defined ? HD_MDEV_LIST_DEFINED : HD_MDEV_LIST_ACTIVE, &v, &n);
        if (r < 0) {
                errorf("mdev list: %s", strerror(-r));
                return EXIT_FAILURE;
        }
        if (json) {
                json_object *arr = NULL;
                r = hd_mdev_list_to_json(v, n, &arr); /* the library's rendering (hostdevd's too) */
                if (r < 0) {
                        hd_mdev_array_free(v, n);
                        errorf("mdev list: %s", strerror(-r));
                        return EXIT_FAILURE;
                }
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

static const struct option mdev_create_options[] = {
        { "uuid", required_argument, NULL, 'u' },
        { "attr", required_argument, NULL, 'A' },
        {}
};

static int mdev_create(int argc _unused_, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(mdev_unrefp) hd_mdev *attrs = take_attrs();
        _hd_cleanup_result_ hd_result *res = NULL;
        const char *uuid = arg_uuid, *created;
        bool dry_run = arg_dry_run;
        int r, rc = EXIT_FAILURE, route;

        if (!attrs)
                return EXIT_FAILURE;
        if (uuid && !hd_uuid_is_valid(uuid)) {
                errorf("mdev create: '%s' is not a valid UUID", uuid);
                return EXIT_USAGE;
        }
        /* MdevCreate, or MdevCreateWithAttrs for --attr (flags: 2 dry run) */
        if (attrs->n_attrs)
                route = bus_route("mdev create --attr", NULL, &res, &rc, "sssAt", argv[1], argv[2], strempty(uuid),
                                  attrs->n_attrs, (const hd_mdev_attr *) attrs->attrs, (uint64_t) (dry_run ? 2 : 0));
        else
                route = bus_route("mdev create", NULL, &res, &rc, "ssst", argv[1], argv[2], strempty(uuid),
                                  (uint64_t) (dry_run ? 2 : 0));
        if (route == BUS_DONE)
                return rc;
        if (route == BUS_DIRECT) {
                if (open_ctx(&ctx) < 0)
                        return EXIT_FAILURE;
                r = hd_mdev_create(ctx, argv[1], argv[2], uuid, attrs->attrs, attrs->n_attrs,
                                   dry_run ? HD_MDEV_CREATE_DRY_RUN : 0, &res);
        } else
                r = 0;
        r = mdev_exit("mdev create", r, res);
        if (r != EXIT_SUCCESS)
                return r;
        created = hd_result_step_get_subject(hd_result_get_step(res, 0));
        if (dry_run)
                printf("would create %s (%s on %s)\n", created, argv[2], argv[1]);
        else
                puts(created);
        return EXIT_SUCCESS;
}

static int mdev_remove(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _hd_cleanup_result_ hd_result *res = NULL;
        const char *verb = streq(argv[0], "stop") ? "mdev stop" : "mdev remove";
        int r, rc = EXIT_FAILURE, route;

        if (!hd_uuid_is_valid(argv[1])) {
                errorf("%s: '%s' is not a valid UUID", verb, argv[1]);
                return EXIT_USAGE;
        }
        /* MdevRemove for both; 'mdev stop' prints its own name */
        route = bus_route(verb, NULL, &res, &rc, "st", argv[1], (uint64_t) 0);
        if (route == BUS_DONE)
                return rc;
        if (route == BUS_RESULT)
                return mdev_exit(verb, 0, res);
        if (open_ctx(&ctx) < 0)
                return EXIT_FAILURE;
        r = hd_mdev_remove(ctx, argv[1], &res);
        return mdev_exit(verb, r, res);
}

/* ---- define / undefine / start / autostart / modify ---- */

static const struct option mdev_define_options[] = {
        { "uuid", required_argument, NULL, 'u' },
        { "parent", required_argument, NULL, 'p' },
        { "type", required_argument, NULL, 't' },
        { "auto", no_argument, NULL, 'a' },
        { "attr", required_argument, NULL, 'A' },
        { "jsonfile", required_argument, NULL, 'J' },
        {}
};

/* whether @uuid names a running mdev (a read) */
static bool mdev_running(const char *uuid) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        hd_mdev *v = NULL;
        size_t n = 0;
        bool found = false;

        if (!uuid || cli_ctx_new(arg_sysroot, &ctx) < 0 || hd_mdev_list(ctx, HD_MDEV_LIST_ACTIVE, &v, &n) < 0)
                return false;
        for (size_t i = 0; i < n; i++)
                found = found || streq_ptr(v[i].uuid, uuid);
        hd_mdev_array_free(v, n);
        return found;
}

static int mdev_define(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(mdev_unrefp) hd_mdev *m = take_attrs();
        _hd_cleanup_result_ hd_result *res = NULL;
        const char *uuid = arg_uuid, *jsonfile = arg_jsonfile;
        _cleanup_free_ char *text = NULL;
        bool autostart = arg_auto;
        size_t len = 0;
        int r, rc = EXIT_FAILURE, route;

        if (!m)
                return EXIT_FAILURE;
        m->iommu_group = -1;
        if ((arg_parent && !(m->parent = strdup(arg_parent))) || (arg_type && !(m->type = strdup(arg_type))))
                return EXIT_FAILURE;
        if (argc > 1 && !uuid)
                uuid = argv[1];
        else if (argc > 1) {
                errorf("mdev define: unexpected argument '%s'", argv[1]);
                return EXIT_USAGE;
        }
        if (uuid && !hd_uuid_is_valid(uuid)) {
                errorf("mdev define: '%s' is not a valid UUID", uuid);
                return EXIT_USAGE;
        }
        if (jsonfile && (m->type || m->n_attrs)) {
                errorf("mdev define: --jsonfile excludes --type and --attr");
                return EXIT_USAGE;
        }
        if (jsonfile && read_file("mdev define", jsonfile, &text, &len) < 0)
                return EXIT_FAILURE;
        /* MdevDefine: the file's text (flags: 1 --auto).  A definition
         * without --parent and --type that no running mdev completes fails
         * with a usage error (exit 64), which the daemon's InvalidArgument
         * does not tell from others: it runs here. */
        bus_file_name(jsonfile);
        route = bus_route("mdev define",
                          !jsonfile && (!m->parent || !m->type) && !mdev_running(uuid)
                                  ? "a definition without --parent and --type"
                                  : NULL,
                          &res, &rc, "ssssAt", strempty(uuid), strempty(m->parent), strempty(m->type),
                          strempty(text), m->n_attrs, (const hd_mdev_attr *) m->attrs, (uint64_t) (autostart ? 1 : 0));
        if (route == BUS_DONE)
                return rc;
        if (route == BUS_RESULT) {
                r = mdev_exit("mdev define", 0, res);
                if (r == EXIT_SUCCESS)
                        puts(strempty(hd_result_step_get_subject(hd_result_get_step(res, 0))));
                return r;
        }
        if (jsonfile) {
                if (open_ctx(&ctx) < 0)
                        return EXIT_FAILURE;
                r = hd_mdev_parse_json(ctx, text, m);
                if (r < 0) {
                        errorf("mdev define: '%s': %s; nothing defined", jsonfile, hd_ctx_get_error(ctx) ?: strerror(-r));
                        return EXIT_FAILURE;
                }
                autostart = autostart || m->autostart;
        }
        m->autostart = autostart;
        if (uuid && !(m->uuid = strdup(uuid)))
                return EXIT_FAILURE;
        if (!ctx && open_ctx(&ctx) < 0)
                return EXIT_FAILURE;
        r = hd_mdev_define(ctx, m, 0, &res);
        r = mdev_exit("mdev define", r, res);
        if (r != EXIT_SUCCESS)
                return r;
        puts(m->uuid);
        return EXIT_SUCCESS;
}

/* UUID [--parent P] for undefine/start/autostart */
static const struct option mdev_uuid_options[] = {
        { "parent", required_argument, NULL, 'p' },
        {}
};

static const struct option mdev_autostart_options[] = {
        { "parent", required_argument, NULL, 'p' },
        { "disable", no_argument, NULL, 'x' },
        {}
};

static int uuid_verb(int argc _unused_, char **argv, const char *verb, const char **ret_uuid, const char **ret_parent) {
        if (!hd_uuid_is_valid(argv[1])) {
                errorf("%s: '%s' is not a valid UUID", verb, argv[1]);
                return EXIT_USAGE;
        }
        *ret_uuid = argv[1];
        *ret_parent = arg_parent;
        return 0;
}

/* a verb on one defined mdev: UUID [--parent P] */
static int mdev_uuid_op(int argc, char **argv, const char *verb,
                        int (*op)(hd_ctx *ctx, const char *uuid, const char *parent, hd_result **ret)) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _hd_cleanup_result_ hd_result *res = NULL;
        const char *uuid, *parent;
        int rc = EXIT_FAILURE, route, r = uuid_verb(argc, argv, verb, &uuid, &parent);
        if (r)
                return r;
        /* MdevUndefine, MdevStart */
        route = bus_route(verb, NULL, &res, &rc, "sst", uuid, strempty(parent), (uint64_t) 0);
        if (route == BUS_DONE)
                return rc;
        if (route == BUS_RESULT)
                return mdev_exit(verb, 0, res);
        if (open_ctx(&ctx) < 0)
                return EXIT_FAILURE;
        r = op(ctx, uuid, parent, &res);
        return mdev_exit(verb, r, res);
}

static int mdev_undefine(int argc, char **argv) {
        return mdev_uuid_op(argc, argv, "mdev undefine", hd_mdev_undefine);
}

static int mdev_start(int argc, char **argv) {
        return mdev_uuid_op(argc, argv, "mdev start", hd_mdev_start);
}

static int mdev_autostart(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _hd_cleanup_result_ hd_result *res = NULL;
        const char *uuid, *parent;
        bool disable = arg_disable;
        int rc = EXIT_FAILURE, route, r = uuid_verb(argc, argv, "mdev autostart", &uuid, &parent);
        if (r)
                return r;
        /* MdevSetAutostart */
        route = bus_route("mdev autostart", NULL, &res, &rc, "ssbt", uuid, strempty(parent), (int) !disable, (uint64_t) 0);
        if (route == BUS_DONE)
                return rc;
        if (route == BUS_RESULT)
                return mdev_exit("mdev autostart", 0, res);
        if (open_ctx(&ctx) < 0)
                return EXIT_FAILURE;
        r = hd_mdev_set_autostart(ctx, uuid, parent, !disable, &res);
        return mdev_exit("mdev autostart", r, res);
}

static const struct option mdev_modify_options[] = {
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

static int mdev_modify(int argc _unused_, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(mdev_unrefp) hd_mdev *add = take_attrs();
        _cleanup_free_ const char **del = TAKE_PTR(arg_del);
        _hd_cleanup_result_ hd_result *res = NULL;
        hd_mdev_modify mod = arg_mod;
        const char *parent = arg_parent;
        size_t ndel = arg_n_del;
        int r, rc = EXIT_FAILURE, route;

        if (!add)
                return EXIT_FAILURE;
        mod.type = arg_type;
        if (!hd_uuid_is_valid(argv[1])) {
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
        /* MdevModify (flags: 1 --clear-attrs) */
        route = bus_route("mdev modify", NULL, &res, &rc, "sssiASt", argv[1], strempty(parent), strempty(mod.type),
                          (int32_t) mod.autostart, add->n_attrs, (const hd_mdev_attr *) add->attrs, ndel,
                          (const char *const *) del, (uint64_t) (mod.clear_attrs ? 1 : 0));
        if (route == BUS_DONE)
                return rc;
        if (route == BUS_RESULT)
                return mdev_exit("mdev modify", 0, res);
        if (open_ctx(&ctx) < 0)
                return EXIT_FAILURE;
        r = hd_mdev_modify_definition(ctx, argv[1], parent, &mod, &res);
        return mdev_exit("mdev modify", r, res);
}

/* ---- apply ---- */

int mdev_apply_report(hd_ctx *ctx, bool dry_run, bool json, json_object **ret_json) {
        hd_result *res = NULL;
        int r = hd_mdev_apply_full(ctx, dry_run ? HD_MDEV_APPLY_DRY_RUN : 0, &res);
        return mdev_apply_print(res, r, dry_run, json, ret_json);
}

int mdev_apply_print(hd_result *res_in, int r, bool dry_run _unused_, bool json, json_object **ret_json) {
        _hd_cleanup_result_ hd_result *res = res_in;
        /* the mdev stage alone: the sentences on stderr are the library's */
        hd_apply_result stage = { .mdev_error = r < 0 ? r : 0, .mdev = res };
        char **msgs = NULL;
        int rc;

        if (hd_apply_result_format_messages(&stage, &msgs) < 0) {
                errorf("out of memory");
                return EXIT_FAILURE;
        }
        rc = hd_apply_result_get_verdict(&stage) == HD_APPLY_OK ? EXIT_SUCCESS : EXIT_FAILURE;
        if (r >= 0 && json) {
                json_object *arr = result_json(res);
                if (!arr) {
                        bus_strv_free(msgs);
                        return EXIT_FAILURE;
                }
                if (ret_json)
                        *ret_json = arr;
                else {
                        print_json(arr);
                        json_object_put(arr);
                }
        } else if (r >= 0)
                print_result_text(res, "");
        for (char **m = msgs; m && *m; m++)
                errorf("%s", *m);
        bus_strv_free(msgs);
        return rc;
}

static int mdev_apply(int argc _unused_, char **argv _unused_) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        bool json = arg_json, dry_run = arg_dry_run;

        /* through hostdevd: its reply is what mdev_apply_print() prints */
        {
                _cleanup_free_ char *doc = NULL, *text = NULL;
                _cleanup_(bus_commands_done) struct bus_commands log = {};
                char **msgs = NULL;
                /* in the daemon when its mdevctl directory is this run's (tools/bus.c) */
                int rc, route = bus_call("mdev apply", NULL, &rc,
                                         "t", (uint64_t) (dry_run ? 2 : 0), &doc, &text, &msgs, &log);
                if (route == BUS_DONE)
                        return rc;
                if (route == BUS_REPLY) {
                        rc = apply_reply_print("mdev apply", json, false, rc, doc, text, msgs, &log);
                        bus_strv_free(msgs);
                        return rc;
                }
        }
        if (open_ctx(&ctx) < 0)
                return EXIT_FAILURE;
        return mdev_apply_report(ctx, dry_run, json, NULL);
}

static const struct verb mdev_subs[] = {
        { .name = "types", .fn = mdev_types, .max_args = 1, .flags = VERB_JSON, .expect = "expected at most one parent" },
        { .name = "list", .fn = mdev_list, .flags = VERB_JSON, .shortopts = "dav", .options = mdev_list_options,
          .option = mdev_option },
        { .name = "create", .fn = mdev_create, .min_args = 2, .max_args = 2, .flags = VERB_DRY_RUN, .shortopts = "u:",
          .options = mdev_create_options, .option = mdev_option, .expect = "expected PARENT TYPE" },
        { .name = "remove", .fn = mdev_remove, .min_args = 1, .max_args = 1, .expect = "expected one UUID" },
        { .name = "stop", .fn = mdev_remove, .min_args = 1, .max_args = 1, .expect = "expected one UUID" },
        { .name = "define", .fn = mdev_define, .max_args = 1, .shortopts = "u:p:t:a", .options = mdev_define_options,
          .option = mdev_option },
        { .name = "undefine", .fn = mdev_undefine, .min_args = 1, .max_args = 1, .shortopts = "p:",
          .options = mdev_uuid_options, .option = mdev_option, .expect = "expected one UUID" },
        { .name = "start", .fn = mdev_start, .min_args = 1, .max_args = 1, .shortopts = "p:",
          .options = mdev_uuid_options, .option = mdev_option, .expect = "expected one UUID" },
        { .name = "autostart", .fn = mdev_autostart, .min_args = 1, .max_args = 1, .shortopts = "p:",
          .options = mdev_autostart_options, .option = mdev_option, .expect = "expected one UUID" },
        { .name = "modify", .fn = mdev_modify, .min_args = 1, .max_args = 1, .shortopts = "p:t:am",
          .options = mdev_modify_options, .option = mdev_option, .expect = "expected the UUID of a defined mdev" },
        { .name = "apply", .fn = mdev_apply, .flags = VERB_JSON | VERB_DRY_RUN },
        {}
};

/* ---- libvirt-style node-device verbs ---- */

/* the node device NAME, mediated devices' definitions included */
static int open_mdev(const char *verb, const char *name, hd_ctx **ret_ctx, hd_nodedev_list **ret_list,
                     hd_device **ret_dev) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        int r;

        if (open_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        r = hd_nodedev_list_add_defined_mdevs(list);
        if (r < 0) {
                errorf("%s: cannot read mdev definitions: %s", verb, strerror(-r));
                return EXIT_FAILURE;
        }
        if (lookup(list, name, ret_dev) < 0)
                return EXIT_FAILURE;
        *ret_ctx = TAKE_PTR(ctx);
        *ret_list = TAKE_PTR(list);
        return 0;
}

static int verb_nodedev_create_define(int argc, char **argv, bool define) {
        const char *verb = define ? "nodedev-define" : "nodedev-create";
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(mdev_unrefp) hd_mdev *m = NULL;
        _hd_cleanup_result_ hd_result *res = NULL;
        _cleanup_free_ char *xml = NULL, *name = NULL;
        size_t len;
        int r, rc = EXIT_FAILURE, route;

        if (read_file(verb, argv[1], &xml, &len) < 0)
                return EXIT_FAILURE;
        /* NodedevCreateXML, NodedevDefineXML: the file's text */
        bus_file_name(argv[1]);
        route = bus_route(verb, NULL, &res, &rc, "st", xml, (uint64_t) 0);
        if (route == BUS_DONE)
                return rc;
        if (open_ctx(&ctx) < 0)
                return EXIT_FAILURE;
        if (route == BUS_RESULT) {
                r = mdev_exit(verb, 0, res);
                if (r != EXIT_SUCCESS)
                        return r;
                /* the name: the UUID the daemon's step names, the parent the file names */
                if (hd_mdev_parse_xml(ctx, xml, len, &m) >= 0)
                        (void) hd_mdev_nodedev_name(hd_result_step_get_subject(hd_result_get_step(res, 0)), m->parent,
                                                    &name);
                if (define)
                        printf("Node device '%s' defined from '%s'\n", strempty(name), argv[1]);
                else
                        printf("Node device %s created from %s\n", strempty(name), argv[1]);
                return EXIT_SUCCESS;
        }
        r = hd_mdev_parse_xml(ctx, xml, len, &m);
        if (r < 0) {
                errorf("%s: '%s': %s; nothing changed", verb, argv[1], hd_ctx_get_error(ctx) ?: strerror(-r));
                return EXIT_FAILURE;
        }
        if (define) {
                r = hd_mdev_define(ctx, m, HD_MDEV_DEFINE_REPLACE, &res);
                r = mdev_exit(verb, r, res);
                if (r != EXIT_SUCCESS)
                        return r;
                (void) hd_mdev_nodedev_name(m->uuid, m->parent, &name);
                printf("Node device '%s' defined from '%s'\n", strempty(name), argv[1]);
                return EXIT_SUCCESS;
        }
        r = hd_mdev_create(ctx, m->parent, m->type, m->uuid, m->attrs, m->n_attrs, 0, &res);
        r = mdev_exit(verb, r, res);
        if (r != EXIT_SUCCESS)
                return r;
        (void) hd_mdev_nodedev_name(hd_result_step_get_subject(hd_result_get_step(res, 0)), m->parent, &name);
        printf("Node device %s created from %s\n", strempty(name), argv[1]);
        return EXIT_SUCCESS;
}

static int verb_nodedev_create(int argc, char **argv) { return verb_nodedev_create_define(argc, argv, false); }
static int verb_nodedev_define(int argc, char **argv) { return verb_nodedev_create_define(argc, argv, true); }

static void nodedev_mdev_line(const char *verb, const char *name, bool disable) {
        if (streq(verb, "nodedev-destroy"))
                printf("Destroyed node device '%s'\n", name);
        else if (streq(verb, "nodedev-undefine"))
                printf("Undefined node device '%s'\n", name);
        else if (streq(verb, "nodedev-start"))
                printf("Device %s started\n", name);
        else
                printf("Device %s %s as autostarted\n", name, disable ? "unmarked" : "marked");
}

/* nodedev-destroy, -undefine, -start and -autostart: one mediated node
 * device by name; argv[0] is the verb */
static int verb_nodedev_mdev(int argc _unused_, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _hd_cleanup_result_ hd_result *res = NULL;
        _cleanup_free_ char *name = NULL;
        const char *verb = argv[0];
        bool disable = arg_disable;
        hd_device *d;
        int r, rc = EXIT_FAILURE, route;

        if (!bus_direct(verb)) {
                /* the name the line prints, read before the daemon changes
                 * the device (a destroyed transient mdev is gone after);
                 * the daemon words the errors */
                if (open_list(&ctx, &list) < 0)
                        return EXIT_FAILURE;
                (void) hd_nodedev_list_add_defined_mdevs(list);
                name = strdup(hd_nodedev_list_lookup(list, argv[1], &d) >= 0 ? hd_device_get_name(d) : argv[1]);
                if (!name)
                        return EXIT_FAILURE;
                /* NodedevDestroy, NodedevUndefine, NodedevStart (s name, t flags),
                 * NodedevSetAutostart (s name, b autostart, t flags) */
                route = streq(verb, "nodedev-autostart")
                                ? bus_route(verb, NULL, &res, &rc, "sbt", argv[1], (int) !disable, (uint64_t) 0)
                                : bus_route(verb, NULL, &res, &rc, "st", argv[1], (uint64_t) 0);
                if (route == BUS_DONE)
                        return rc;
                if (route == BUS_RESULT) {
                        r = mdev_exit(verb, 0, res);
                        if (r == EXIT_SUCCESS)
                                nodedev_mdev_line(verb, name, disable);
                        return r;
                }
                list_unrefp(&list);
                ctx_unrefp(&ctx);
                list = NULL;
                ctx = NULL;
                free(name);
                name = NULL;
        }
        r = open_mdev(verb, argv[1], &ctx, &list, &d);
        if (r)
                return r;
        name = strdup(hd_device_get_name(d));
        if (!name)
                return EXIT_FAILURE;
        if (streq(verb, "nodedev-destroy"))
                r = hd_mdev_device_destroy(d, &res);
        else if (streq(verb, "nodedev-undefine"))
                r = hd_mdev_device_undefine(d, &res);
        else if (streq(verb, "nodedev-start"))
                r = hd_mdev_device_start(d, &res);
        else
                r = hd_mdev_device_set_autostart(d, !disable, &res);
        r = mdev_exit(verb, r, res);
        if (r != EXIT_SUCCESS)
                return r;
        nodedev_mdev_line(verb, name, disable);
        return EXIT_SUCCESS;
}

static const struct option nodedev_autostart_options[] = {
        { "disable", no_argument, NULL, 'x' },
        {}
};

const struct verb mdev_verbs[] = {
        { .name = "mdev", .subs = mdev_subs,
          .args = "types|list|create|remove|define|undefine|start|stop|autostart|modify|apply ...",
          .summary = "Mediated devices: create, remove, define persistently (mdevctl's format), start at boot.",
          .help = "  mdev types [PARENT] [--json]\n"
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
        { .name = "nodedev-create", .fn = verb_nodedev_create, .min_args = 1, .max_args = 1,
          .expect = "expected one XML file", .args = "FILE.xml",
          .summary = "Create a transient mediated device from libvirt node-device XML ('-': stdin)." },
        { .name = "nodedev-destroy", .fn = verb_nodedev_mdev, .min_args = 1, .max_args = 1,
          .expect = "expected one device name", .args = "NAME",
          .summary = "Remove a running mediated device (a definition stays)." },
        { .name = "nodedev-define", .fn = verb_nodedev_define, .min_args = 1, .max_args = 1,
          .expect = "expected one XML file", .args = "FILE.xml",
          .summary = "Define (or redefine) a persistent mediated device from libvirt node-device XML." },
        { .name = "nodedev-undefine", .fn = verb_nodedev_mdev, .min_args = 1, .max_args = 1,
          .expect = "expected one device name", .args = "NAME",
          .summary = "Remove the definition of a mediated device (a running one keeps running)." },
        { .name = "nodedev-start", .fn = verb_nodedev_mdev, .min_args = 1, .max_args = 1,
          .expect = "expected one device name", .args = "NAME",
          .summary = "Start a defined, inactive mediated device." },
        { .name = "nodedev-autostart", .fn = verb_nodedev_mdev, .min_args = 1, .max_args = 1, .shortopts = "",
          .options = nodedev_autostart_options, .option = mdev_option, .expect = "expected one device name",
          .args = "NAME [--disable]",
          .summary = "Start a defined mediated device at boot ('hostdevctl apply'), or not." },
        {}
};
