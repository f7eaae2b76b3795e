/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hostdevctl boot|override|doctor: front-end of libhostdev's boot/ module. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "hostdevctl.h"

/* The configuration root: --root, else the --sysroot tree (a captured or
 * offline system is one tree), else this host.  "" and "/" are refused so
 * that an empty variable never silently means this host. */
static int pick_root(const char *verb, const char *arg, const char **ret) {
        const char *root = arg ?: arg_sysroot;
        char real[PATH_MAX];
        if (!root) {
                *ret = NULL;
                return 0;
        }
        if (!*root || !realpath(root, real) || streq(real, "/")) {
                if (*root && !realpath(root, real))
                        errorf("%s: cannot use --root '%s': %s", verb, root, strerror(errno));
                else
                        errorf("%s: --root must name an offline root directory, not '%s'; leave it out for this host",
                               verb, root);
                return -EINVAL;
        }
        *ret = root;
        return 0;
}

static void plan_freep(hd_boot_plan **p) { hd_boot_plan_free(*p); }

static int print_plan(const hd_boot_plan *p, bool json) {
        _cleanup_free_ char *text = NULL, *diff = NULL;
        if (json) {
                json_object *o = NULL;
                if (hd_boot_plan_to_json(p, &o) < 0) {
                        errorf("out of memory");
                        return -ENOMEM;
                }
                print_json(o);
                json_object_put(o);
                return 0;
        }
        if (hd_boot_plan_format_text(p, &text) < 0 || hd_boot_plan_format_diff(p, &diff) < 0) {
                errorf("out of memory");
                return -ENOMEM;
        }
        fputs(text, stdout);
        if (*diff)
                printf("\n%s", diff);
        return 0;
}

struct boot_opts {
        const char *driver, *root;
        unsigned flags;
        bool json;
};

/* the options of the boot, override and doctor verbs */
static const char *arg_driver = "vfio-pci", *arg_root;
static bool arg_no_regenerate;

static int boot_option(const char *verb, int c, const char *arg) {
        switch (c) {
        case 'd':
                arg_driver = hd_driver_from_alias(arg, 0);
                if (!arg_driver) {
                        errorf("%s: --driver must be vfio or stub, not '%s'", verb, arg);
                        return -EINVAL;
                }
                return 0;
        case 'r': arg_root = arg; return 0;
        case 'N': arg_no_regenerate = true; return 0;
        }
        return -EINVAL;
}

static const struct option plan_options[] = {
        { "driver", required_argument, NULL, 'd' },
        { "root", required_argument, NULL, 'r' },
        {}
};
static const struct option apply_options[] = {
        { "driver", required_argument, NULL, 'd' },
        { "root", required_argument, NULL, 'r' },
        { "no-regenerate", no_argument, NULL, 'N' },
        {}
};
static const struct option undo_options[] = {
        { "root", required_argument, NULL, 'r' },
        { "no-regenerate", no_argument, NULL, 'N' },
        {}
};
static const struct option root_options[] = {
        { "root", required_argument, NULL, 'r' },
        {}
};

/* The parsed options and the root checked, then the context (@ret_list
 * NULL) or the context and the device list: 0, or the exit status of a
 * failure it reported. */
static int get_boot_opts(const char *verb, struct boot_opts *o, hd_ctx **ret_ctx, hd_nodedev_list **ret_list) {
        *o = (struct boot_opts) {
                .driver = arg_driver,
                .json = arg_json,
                .flags = (arg_dry_run ? HD_BOOT_DRY_RUN : 0) | (arg_no_regenerate ? HD_BOOT_NO_REGENERATE : 0) |
                         (arg_force ? HD_BOOT_FORCE : 0) | (streq(arg_driver, "pci-stub") ? HD_BOOT_STUB : 0),
        };
        if (pick_root(verb, arg_root, &o->root) < 0)
                return EXIT_USAGE;
        if ((ret_list ? open_list(ret_ctx, ret_list) : open_ctx(ret_ctx)) < 0)
                return EXIT_FAILURE;
        return 0;
}

/* The options, the devices and the plan of 'boot plan' and 'boot apply':
 * 0, or the exit status of a failure it reported. */
static int make_plan(const char *verb, int argc, char **argv, hd_ctx **ret_ctx, hd_nodedev_list **ret_list,
                     struct boot_opts *o, hd_boot_plan **ret) {
        _cleanup_free_ hd_device **devs = NULL;
        size_t n = (size_t) (argc - 1);
        int r;

        if ((r = get_boot_opts(verb, o, ret_ctx, ret_list)) != 0)
                return r;
        devs = calloc(n, sizeof(*devs));
        if (!devs)
                return EXIT_FAILURE;
        for (size_t i = 0; i < n; i++)
                if (lookup(*ret_list, argv[1 + i], &devs[i]) < 0)
                        return EXIT_FAILURE;
        r = hd_boot_plan_new(*ret_list, o->root, devs, n, o->flags, ret);
        if (r < 0)
                return error_exit(*ret_ctx, verb, r);
        return 0;
}

/* What hostdevd's boot and override methods do not take: a --root other
 * than the --sysroot tree it serves (its configuration root). */
static const char *root_unsupported(void) {
        _cleanup_free_ char *a = NULL, *b = NULL;

        if (!arg_root)
                return NULL;
        if (arg_sysroot && (a = realpath(arg_root, NULL)) && (b = realpath(arg_sysroot, NULL)) && streq(a, b))
                return NULL;
        return "--root";
}

/* hostdevd's flags of the boot and override methods (daemon/methods-boot.c) */
static uint64_t method_flags(unsigned flags) {
        return (flags & HD_BOOT_DRY_RUN ? 2 : 0) | (flags & HD_BOOT_FORCE ? 4 : 0) |
               (flags & HD_BOOT_NO_REGENERATE ? 8 : 0);
}

static int boot_plan(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _cleanup_(plan_freep) hd_boot_plan *p = NULL;
        struct boot_opts o;
        int r;

        if ((r = make_plan("boot plan", argc, argv, &ctx, &list, &o, &p)) != 0)
                return r;
        return print_plan(p, o.json) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

struct cmd_report {
        const char *root;
        int failed;
        bool undo;      /* boot undo's: the files are restored, not written */
};

static void command_cb(void *userdata, const char *command, int status) {
        struct cmd_report *c = userdata;
        const char *root = c->root;
        if (status < 0)
                printf("run: %s%s%s%s\n", root ? "chroot " : "", root ?: "", root ? " " : "", command);
        else {
                printf("ran: %s (exit status %d)\n", command, status);
                if (status != 0 && !c->failed) {
                        if (c->undo)
                                errorf("'%s' failed with exit status %d; the files are restored", command, status);
                        else
                                errorf("'%s' failed with exit status %d; the files are written, 'hostdevctl boot undo' "
                                       "puts them back", command, status);
                        c->failed = 1;
                }
        }
}

/* boot apply's report of the @n files it changed */
static void print_applied(hd_ctx *ctx, const hd_boot_plan *p, int n) {
        printf("changed %d file%s; the journal is in %s/boot\n", n, n == 1 ? "" : "s",
               p->root ? "ROOT/var/lib/hostdev" : hd_ctx_get_state_dir(ctx));
        for (size_t i = 0; i < p->n_files; i++)
                printf("  %s %s\n", !p->files[i].before ? "created" : !p->files[i].after ? "removed" : "edited ",
                       p->files[i].path);
}

static int boot_apply(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _cleanup_(plan_freep) hd_boot_plan *p = NULL;
        struct boot_opts o;
        struct cmd_report rep = {};
        int r;

        if ((r = make_plan("boot apply", argc, argv, &ctx, &list, &o, &p)) != 0)
                return r;
        /* through hostdevd: it plans on the same tree (this plan is what it
         * applies), writes, and runs the regeneration commands; a command
         * that failed is its error.  Its reply: the files changed. */
        {
                _cleanup_free_ char *plan = NULL;
                _cleanup_(bus_commands_done) struct bus_commands ran = {};
                int route, rc, changed = 0;
                route = bus_call("boot apply", root_unsupported(), &rc, "stS", o.driver, method_flags(o.flags),
                                 (size_t) (argc - 1), (const char *const *) argv + 1, &changed, &plan, &ran);
                if (route == BUS_DONE)
                        return rc;
                if (route == BUS_REPLY && rc != EXIT_SUCCESS) {
                        /* a regeneration command failed: the files are
                         * written; its error carries the commands run */
                        rep.root = p->root;
                        for (size_t i = 0; i < ran.n; i++)
                                command_cb(&rep, ran.command[i], ran.status[i]);
                        print_applied(ctx, p, changed);
                        return rc;
                }
                if (route == BUS_REPLY) {
                        if (o.flags & HD_BOOT_DRY_RUN)
                                return print_plan(p, o.json) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
                        if (p->n_files == 0 && changed == 0) {
                                printf("nothing to change: the boot configuration of %s is already applied\n",
                                       p->root ?: "this host");
                                return EXIT_SUCCESS;
                        }
                        rep.root = p->root;
                        /* each ran (exit status 0: none failed), or is to be run */
                        for (size_t i = 0; i < p->n_commands; i++)
                                command_cb(&rep, p->commands[i], (o.flags & HD_BOOT_NO_REGENERATE) ? -1 : 0);
                        print_applied(ctx, p, changed);
                        return EXIT_SUCCESS;
                }
        }
        if (o.flags & HD_BOOT_DRY_RUN) {
                print_plan(p, o.json);
                return EXIT_SUCCESS;
        }
        if (p->n_files == 0) {
                printf("nothing to change: the boot configuration of %s is already applied\n", p->root ?: "this host");
                return EXIT_SUCCESS;
        }
        rep.root = p->root;
        r = hd_boot_apply(ctx, p, o.flags, command_cb, &rep);
        if (r < 0)
                return error_exit(ctx, "boot apply", r);
        print_applied(ctx, p, r);
        return rep.failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* the commands of a journal, as a dry-run undo names them */
struct commands {
        char **v;
        size_t n;
        bool oom;
};

static void collect_cb(void *userdata, const char *command, int status _unused_) {
        struct commands *c = userdata;
        char **v = realloc(c->v, (c->n + 1) * sizeof(*v));
        if (v)
                c->v = v;
        if (!v || !(v[c->n] = strdup(command)))
                c->oom = true;
        else
                c->n++;
}

static void commands_free(struct commands *c) {
        for (size_t i = 0; i < c->n; i++)
                free(c->v[i]);
        free(c->v);
}

static int boot_undo(int argc _unused_, char **argv _unused_) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(commands_free) struct commands cmds = {};
        _cleanup_(bus_commands_done) struct bus_commands ran = {};
        struct boot_opts o;
        struct cmd_report rep = { .undo = true };
        int r, route, rc, restored = 0;

        if ((r = get_boot_opts("boot undo", &o, &ctx, NULL)) != 0)
                return r;
        rep.root = o.root;
        /* through hostdevd: it restores and runs the journal's commands, which
         * a dry run here reads first (the journal is gone after) */
        if (!bus_direct("boot undo") && !root_unsupported() &&
            (hd_boot_undo(ctx, o.root, HD_BOOT_DRY_RUN, collect_cb, &cmds) < 0 || cmds.oom)) {
                commands_free(&cmds);
                cmds = (struct commands) {};
        }
        route = bus_call("boot undo", root_unsupported(), &rc, "t", method_flags(o.flags), &restored, &ran);
        if (route == BUS_DONE)
                return rc;
        if (route == BUS_REPLY && rc != EXIT_SUCCESS) {
                /* a regeneration command failed: the files are restored;
                 * its error carries their number and the commands run */
                for (size_t i = 0; i < ran.n; i++)
                        command_cb(&rep, ran.command[i], ran.status[i]);
                r = restored;
        } else if (route == BUS_REPLY) {
                /* each ran (exit status 0: none failed), or is to be run */
                for (size_t i = 0; i < cmds.n; i++)
                        command_cb(&rep, cmds.v[i], (o.flags & (HD_BOOT_NO_REGENERATE | HD_BOOT_DRY_RUN)) ? -1 : 0);
                r = restored;
        } else if ((r = hd_boot_undo(ctx, o.root, o.flags, command_cb, &rep)) < 0)
                return error_exit(ctx, "boot undo", r);
        if (r == 0)
                printf("nothing to undo: no boot configuration was applied to %s\n", o.root ?: "this host");
        else
                printf("%s %d file%s to %s pre-apply state\n", (o.flags & HD_BOOT_DRY_RUN) ? "would restore" : "restored",
                       r, r == 1 ? "" : "s", o.root ?: "this host's");
        if (route == BUS_REPLY && rc != EXIT_SUCCESS)
                return rc;
        return rep.failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int boot_status(int argc _unused_, char **argv _unused_) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        hd_boot_status *s = NULL;
        struct boot_opts o;
        int r;

        if ((r = get_boot_opts("boot status", &o, &ctx, &list)) != 0)
                return r;
        r = hd_boot_get_status(list, o.root, &s);
        if (r < 0)
                return error_exit(ctx, "boot status", r);
        if (o.json) {
                json_object *j = NULL;
                r = hd_boot_status_to_json(s, &j);
                if (r < 0) {
                        hd_boot_status_free(s);
                        return error_exit(ctx, "boot status", r);
                }
                print_json(j);
                json_object_put(j);
        } else {
                printf("state: %s\n", s->state);
                if (s->n_kargs) {
                        printf("kernel arguments:");
                        for (size_t i = 0; i < s->n_kargs; i++)
                                printf(" %s", s->kargs[i]);
                        printf(" (%s)\n", s->kargs_live ? "in /proc/cmdline" : "not all in /proc/cmdline");
                }
                for (size_t i = 0; i < s->n_devices; i++)
                        printf("%s  configured %s, bound to %s\n", s->devices[i].addr, s->devices[i].want,
                               s->devices[i].now ?: "(none)");
                for (size_t i = 0; i < s->n_softdeps; i++)
                        printf("%s\n", s->softdeps[i]);
                for (size_t i = 0; i < s->n_drift; i++)
                        printf("drift: %s changed since boot apply\n", s->drift[i]);
        }
        hd_boot_status_free(s);
        return EXIT_SUCCESS;
}

static const struct verb boot_subs[] = {
        { .name = "plan", .fn = boot_plan, .min_args = 1, .max_args = VERB_ANY, .flags = VERB_JSON | VERB_FORCE,
          .shortopts = "d:r:", .options = plan_options, .option = boot_option,
          .expect = "expected at least one device (see 'hostdevctl boot --help')" },
        { .name = "apply", .fn = boot_apply, .min_args = 1, .max_args = VERB_ANY,
          .flags = VERB_JSON | VERB_DRY_RUN | VERB_FORCE, .shortopts = "d:r:N", .options = apply_options,
          .option = boot_option, .expect = "expected at least one device (see 'hostdevctl boot --help')" },
        { .name = "status", .fn = boot_status, .flags = VERB_JSON, .shortopts = "r:", .options = root_options,
          .option = boot_option },
        { .name = "undo", .fn = boot_undo, .flags = VERB_DRY_RUN, .shortopts = "r:N", .options = undo_options,
          .option = boot_option },
        {}
};

/* ---- override ---- */


static int verb_override(int argc _unused_, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        struct boot_opts o;
        const char *sub = argv[0];
        hd_device *d = NULL;
        int r;

        if ((r = get_boot_opts("override", &o, &ctx, &list)) != 0)
                return r;
        if (streq(sub, "set")) {
                const char *drv = hd_driver_from_alias(argv[2], 0) ?: argv[2];
                _cleanup_free_ char *overrides = NULL;
                int route, rc, changed = 0;
                if (lookup(list, argv[1], &d) < 0)
                        return EXIT_FAILURE;
                route = bus_call("override set", root_unsupported(), &rc, "sst", argv[1], drv,
                                 (uint64_t) ((o.flags & HD_BOOT_DRY_RUN) ? 2 : 0), &changed, &overrides);
                if (route == BUS_DONE)
                        return rc;
                if (route == BUS_REPLY)
                        r = changed;
                else if ((r = hd_override_set(list, o.root, d, drv, o.flags)) < 0)
                        return error_exit(ctx, "override set", r);
                printf("%s: %s%s at boot and hotplug%s\n", hd_device_get_name(d), drv,
                       (o.flags & HD_BOOT_DRY_RUN) ? " would be set" : r ? " set" : " already set",
                       (o.flags & HD_BOOT_DRY_RUN) ? "" : " (driverctl's /etc/driverctl.d format, identity checked)");
                return EXIT_SUCCESS;
        }
        if (streq(sub, "unset")) {
                _cleanup_free_ char *overrides = NULL;
                const char *addr = argv[1];
                int route, rc, changed;
                if (lookup(list, addr, &d) >= 0 && hd_device_get_cap_type(d) == HD_CAP_PCI)
                        addr = hd_device_get_pci_address(d);
                route = bus_call("override unset", root_unsupported(), &rc, "st", argv[1],
                                 (uint64_t) ((o.flags & HD_BOOT_DRY_RUN) ? 2 : 0), &changed, &overrides);
                if (route == BUS_DONE)
                        return rc;
                if (route == BUS_DIRECT && (r = hd_override_unset(list, o.root, addr, o.flags)) < 0)
                        return error_exit(ctx, "override unset", r);
                printf("%s: override %s\n", addr, (o.flags & HD_BOOT_DRY_RUN) ? "would be removed" : "removed");
                return EXIT_SUCCESS;
        }
        {
                hd_override *v = NULL;
                size_t n = 0;
                r = hd_override_list(list, o.root, &v, &n);
                if (r < 0)
                        return error_exit(ctx, "override list", r);
                if (o.json) {
                        json_object *a = NULL;
                        r = hd_override_array_to_json(v, n, &a);
                        if (r < 0) {
                                hd_override_array_free(v, n);
                                return error_exit(ctx, "override list", r);
                        }
                        print_json(a);
                        json_object_put(a);
                } else
                        for (size_t i = 0; i < n; i++)
                                printf("%s  %s  bound to %s  %s%s\n", v[i].addr, v[i].driver, v[i].now ?: "(none)",
                                       streq(v[i].match, "ok") ? "identity ok" :
                                       streq(v[i].match, "unchecked") ? "no identity recorded (driverctl file)" :
                                       streq(v[i].match, "absent") ? "device absent" : "MISMATCH: ",
                                       strempty(v[i].why));
                hd_override_array_free(v, n);
        }
        return EXIT_SUCCESS;
}

static const struct verb override_subs[] = {
        { .name = "set", .fn = verb_override, .min_args = 2, .max_args = 2, .flags = VERB_DRY_RUN, .shortopts = "r:",
          .options = root_options, .option = boot_option, .expect = "expected DEV DRIVER" },
        { .name = "unset", .fn = verb_override, .min_args = 1, .max_args = 1, .flags = VERB_DRY_RUN,
          .shortopts = "r:", .options = root_options, .option = boot_option, .expect = "expected DEV" },
        { .name = "list", .fn = verb_override, .flags = VERB_JSON, .shortopts = "r:", .options = root_options,
          .option = boot_option, .expect = "expected no argument" },
        {}
};

/* ---- doctor ---- */

static int verb_doctor(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _cleanup_free_ hd_device **devs = NULL;
        hd_check *v = NULL;
        size_t n = 0, nd;
        bool fail = false;
        struct boot_opts o;
        int r;

        if ((r = get_boot_opts("doctor", &o, &ctx, &list)) != 0)
                return r;
        nd = (size_t) (argc - 1);
        devs = calloc(nd + 1, sizeof(*devs));
        if (!devs)
                return EXIT_FAILURE;
        for (size_t i = 0; i < nd; i++)
                if (lookup_pci(list, "doctor", argv[1 + i], &devs[i]) < 0)
                        return EXIT_FAILURE;
        if ((r = hd_doctor(list, devs, nd, &v, &n)) < 0)
                return error_exit(ctx, "doctor", r);
        for (size_t i = 0; i < n; i++)
                fail = fail || v[i].result == HD_CHECK_FAIL;
        if (o.json) {
                json_object *a = NULL;
                r = hd_check_array_to_json(v, n, &a); /* the library's rendering (hostdevd's too) */
                if (r < 0) {
                        hd_check_array_free(v, n);
                        return error_exit(ctx, "doctor", r);
                }
                print_json(a);
                json_object_put(a);
        } else
                for (size_t i = 0; i < n; i++) {
                        printf("%s  %-20s %s%s%s\n", hd_check_result_to_string(v[i].result), v[i].name,
                               strempty(v[i].subject), v[i].subject ? ": " : "", v[i].detail);
                        if (v[i].fix && v[i].result != HD_CHECK_PASS)
                                printf("      fix: %s\n", v[i].fix);
                }
        hd_check_array_free(v, n);
        return fail ? EXIT_FAILURE : EXIT_SUCCESS;
}

const struct verb boot_verbs[] = {
        { .name = "boot", .subs = boot_subs,
          .expect = "expected plan, apply, status or undo (see 'hostdevctl boot --help')",
          .args = "plan DEV... [--driver vfio|stub] [--force] [--json] | apply DEV... [--driver vfio|stub] [--dry-run] "
            "[--root DIR] [--no-regenerate] [--force] | status [--json] [--root DIR] | undo [--root DIR] [--dry-run] "
            "[--no-regenerate]",
          .summary = "Boot-time passthrough: plan, apply, verify and undo the vfio setup of the boot.",
          .help = "boot plan DEV...   what must change so that DEV (and its IOMMU group mates,\n"
            "                   bridges excluded) is bound at boot: IOMMU kernel arguments,\n"
            "                   vfio-pci.ids= when every device with those ids goes, else\n"
            "                   per-address binding before any host driver; modprobe.d\n"
            "                   softdeps; the vfio modules in the initramfs. In words and\n"
            "                   as a unified diff.\n"
            "boot apply DEV...  write those files atomically, with a backup of each and a\n"
            "                   journal, then regenerate (update-initramfs, dracut,\n"
            "                   mkinitcpio, update-grub/grub-mkconfig, kernel-install).\n"
            "                   Idempotent.\n"
            "boot status        configured vs live (/proc/cmdline, drivers, softdeps)\n"
            "boot undo          restore the exact pre-apply bytes; remove created files\n"
            "--driver vfio|stub vfio-pci (default) or pci-stub\n"
            "--root DIR         an offline root (the regeneration commands run chrooted);\n"
            "                   default: the --sysroot tree, else this host\n"
            "--dry-run          print the plan and the diff; change nothing\n"
            "--no-regenerate    write the files, print the commands instead of running them\n"
            "--force            override host-safety refusals (root disk controller,\n"
            "                   default-route NIC, boot console GPU); without it they end\n"
            "                   with exit status 2\n" },
        { .name = "override", .subs = override_subs,
          .expect = "expected set, unset or list (see 'hostdevctl override --help')",
          .args = "set DEV DRIVER | unset DEV | list [--json] [--root DIR] [--dry-run]",
          .summary = "Persistent per-device driver overrides, driverctl-compatible, identity-checked.",
          .help = "override set DEV DRIVER  keep DEV on DRIVER (vfio, stub or a driver name) at\n"
            "                   boot and hotplug: /etc/driverctl.d/pci-ADDR (driverctl's\n"
            "                   format) plus the device identity in /etc/hostdev/overrides;\n"
            "                   a udev rule applies it before the host driver binds, and a\n"
            "                   slot that now holds another device is logged and skipped\n"
            "override unset DEV remove it\n"
            "override list      every override, driverctl's own files included, with the\n"
            "                   identity check against the device there now\n" },
        { .name = "doctor", .fn = verb_doctor, .max_args = VERB_ANY, .flags = VERB_JSON,
          .args = "[DEV...] [--json]",
          .summary = "Preflight for passthrough: each check PASS, WARN or FAIL, with the fix.",
          .help = "Host: CPU virtualization, ACPI DMAR/IVRS, IOMMU on and its kernel argument,\n"
            "interrupt remapping, vfio modules available and in the initramfs, Secure Boot\n"
            "and lockdown. Each DEV: IOMMU group viability, reset method, boot VGA with a\n"
            "firmware framebuffer, host driver that would bind it first.\n"
            "Exit status 1 when a check fails.\n" },
        {}
};
