/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdevctl and libvirt domains: attach, detach-device and the qemu hook
 * (the library's hd_domain_attach, hd_domain_detach_device and
 * hd_domain_hook_prepare/release decide; this file prints their result and
 * takes the exit status from its status), and "which domain uses this
 * device" for show, nodedev-list and iommu.  Every context asks libvirt
 * (--connect, LIBVIRT_DEFAULT_URI or libvirt's default) when the first
 * answer is needed and keeps the answer (hd_domain_usage_install_lazy);
 * that also answers the in-use question of reattach, reset, VF shrinking
 * and mdev removal.
 *
 * Whether libvirt is asked at all is the library's decision
 * (hd_domain_usage_new: -ENOENT for --connect none, a sysroot without a
 * URI, or no libvirt daemon on the live host): then nothing is in use.
 * Any other failure leaves the answer unknown: listings say so, refusals
 * refuse unless --force.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "hostdevctl.h"

const char *arg_connect;
static hd_ctx *cli_ctx;   /* borrowed: the verb's context */

static const char *connect_uri(void) {
        if (arg_connect)
                return arg_connect;
        return getenv("LIBVIRT_DEFAULT_URI");
}

/* The context asks libvirt (--connect, LIBVIRT_DEFAULT_URI, or libvirt's
 * default) when the first answer is needed; the context keeps the usage. */
void libvirt_install_in_use(hd_ctx *ctx) {
        cli_ctx = ctx;
        if (hd_domain_usage_install_lazy(ctx, connect_uri()) < 0)
                errorf("out of memory");
}

/* the context's usage: 1 and *ret, 0 libvirt not asked, <0 unknown (the
 * context's error says why) */
static int usage_of(hd_nodedev_list *list, hd_domain_usage **ret) {
        return hd_domain_usage_get(cli_ctx, list, 0, ret);
}

/* ---- who uses what (show, nodedev-list, iommu) ---- */

/* the IOMMU group of @d, or of the PCI function of its network interface */
static int group_of(hd_device *d) {
        hd_device *p = hd_device_get_parent(d);
        if (hd_device_get_cap_type(d) == HD_CAP_NET && p && hd_device_get_cap_type(p) == HD_CAP_PCI)
                d = p;
        return hd_device_get_iommu_group(d);
}


/* "vm1 (running), vm2 (defined)", "-" for none, "?" when unknown; NULL when
 * libvirt is not asked (a sysroot without --connect). */
const char *libvirt_used_by_text(hd_nodedev_list *list, hd_device *d, char *buf, size_t size) {
        _cleanup_free_ const hd_domain_use **uses = NULL;
        hd_domain_usage *usage = NULL;
        size_t n = 0, off = 0;
        int s = usage_of(list, &usage);

        if (s == 0)
                return NULL;
        if (s < 0)
                return "?";
        if (hd_domain_usage_find(usage, d, &uses, &n) < 0 || n == 0)
                return "-";
        buf[0] = 0;
        for (size_t i = 0; i < n && off < size; i++)
                off += (size_t) snprintf(buf + off, size - off, "%s%s (%s)", i ? ", " : "", uses[i]->domain,
                                         uses[i]->running ? "running" : "defined");
        return buf;
}

/* "used_by": [{domain, state, connection, how}], null when unknown; NULL
 * (no key) when libvirt is not asked. */
json_object *libvirt_used_by_json(hd_nodedev_list *list, hd_device *d, bool *ret_add) {
        _cleanup_free_ const hd_domain_use **uses = NULL;
        hd_domain_usage *usage = NULL;
        json_object *arr;
        size_t n = 0;
        int s = usage_of(list, &usage);

        *ret_add = s != 0;
        if (s <= 0)
                return NULL;
        arr = json_object_new_array();
        if (hd_domain_usage_find(usage, d, &uses, &n) < 0)
                return arr;
        for (size_t i = 0; i < n; i++) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "domain", json_object_new_string(uses[i]->domain));
                json_object_object_add(o, "state", json_object_new_string(uses[i]->running ? "running" : "defined"));
                json_object_object_add(o, "connection", json_object_new_string(uses[i]->uri));
                json_object_object_add(o, "how", json_object_new_string(uses[i]->how));
                json_object_array_add(arr, o);
        }
        return arr;
}

/* one pass over /proc per run, however many groups are shown */
static int holder_of(hd_ctx *ctx, unsigned group, int *ret_pid, char **ret_comm) {
        static hd_vfio_holder *holders;
        static size_t n;
        static bool scanned;

        if (!scanned) {
                if (hd_vfio_list_holders(ctx, &holders, &n) < 0)
                        n = 0;
                scanned = true;
        }
        for (size_t i = 0; i < n; i++)
                if (holders[i].group == group) {
                        *ret_pid = holders[i].pid;
                        *ret_comm = holders[i].comm ? strdup(holders[i].comm) : NULL;
                        return 1;
                }
        return 0;
}

/* "vfio_holder": {pid, comm} of the process that has /dev/vfio/N open. */
json_object *libvirt_vfio_holder_json(hd_device *d) {
        hd_ctx *ctx = cli_ctx;
        _cleanup_free_ char *comm = NULL;
        json_object *o;
        int group, pid = 0;

        group = group_of(d);
        if (group < 0 || holder_of(ctx, (unsigned) group, &pid, &comm) <= 0)
                return NULL;
        o = json_object_new_object();
        json_object_object_add(o, "pid", json_object_new_int(pid));
        json_object_object_add(o, "comm", comm ? json_object_new_string(comm) : NULL);
        return o;
}

/* show: the "in use" lines */
void libvirt_show_text(hd_nodedev_list *list, hd_device *d) {
        hd_ctx *ctx = cli_ctx;
        _cleanup_free_ const hd_domain_use **uses = NULL;
        _cleanup_free_ char *comm = NULL;
        hd_domain_usage *usage = NULL;
        size_t n = 0;
        int s = usage_of(list, &usage), group, pid = 0;

        if (s < 0)
                printf("domains:\n  unknown: %s\n", hd_ctx_get_error(ctx) ?: "libvirt cannot be asked");
        else if (s > 0 && hd_domain_usage_find(usage, d, &uses, &n) >= 0) {
                printf("domains:\n");
                if (n == 0)
                        printf("  none (on %s)\n", hd_domain_usage_get_uri(usage));
                for (size_t i = 0; i < n; i++)
                        printf("  %s: %s, %s, on %s\n", uses[i]->domain, uses[i]->running ? "running" : "defined only",
                               uses[i]->how, uses[i]->uri);
        }
        group = group_of(d);
        if (group >= 0 && holder_of(ctx, (unsigned) group, &pid, &comm) > 0)
                printf("vfio:\n  /dev/vfio/%d is open by process %d (%s)\n", group, pid, comm ? comm : "?");
}

/* ---- attach / detach-device ---- */

/* Print a domain operation's result (the plan and what happened) and its
 * reason; the exit status from its status: 0, 1 failed, 2 refused. */
static int domain_report(const char *verb, const hd_result *res) {
        int st = hd_result_get_status(res);
        const char *why = hd_result_get_reason(res);

        print_result_text(res, "");
        if (st < 0)
                errorf("%s%s: %s", verb, st == -EBUSY ? " refused" : "", strempty(why));
        else if (why)
                errorf("note: %s", why);
        /* what was undone after the failure */
        for (size_t i = 0; i < hd_result_get_n_steps(res); i++) {
                const hd_result_step *s = hd_result_get_step(res, i);
                const char *t = hd_result_step_get_type(s), *e = hd_result_step_get_error_text(s);
                if (t && streq(t, "rollback"))
                        errorf("%s: %s%s%s", verb, strempty(hd_result_step_get_action(s)), e ? ": " : "", strempty(e));
        }
        return st == 0 ? EXIT_SUCCESS : st == -EBUSY ? EXIT_REFUSED : EXIT_FAILURE;
}

/* the options of attach and detach-device (--connect: arg_connect) */
static bool arg_live, arg_config, arg_managed, arg_unmanaged;

static int domain_option(const char *verb _unused_, int c, const char *arg) {
        switch (c) {
        case 'c': arg_connect = arg; return 0;
        case 'l': arg_live = true; return 0;
        case 'C': arg_config = true; return 0;
        case 'm': arg_managed = true; return 0;
        case 'u': arg_unmanaged = true; return 0;
        }
        return -EINVAL;
}

static const struct option attach_options[] = {
        { "connect", required_argument, NULL, 'c' },
        { "live", no_argument, NULL, 'l' },
        { "config", no_argument, NULL, 'C' },
        { "managed", no_argument, NULL, 'm' },
        { "unmanaged", no_argument, NULL, 'u' },
        {}
};

static const struct option detach_device_options[] = {
        { "connect", required_argument, NULL, 'c' },
        { "live", no_argument, NULL, 'l' },
        { "config", no_argument, NULL, 'C' },
        {}
};

static int verb_attach(int argc _unused_, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _hd_cleanup_result_ hd_result *res = NULL;
        unsigned flags = (arg_live ? HD_DOMAIN_LIVE : 0) | (arg_config ? HD_DOMAIN_CONFIG : 0) |
                         (arg_unmanaged ? HD_DOMAIN_UNMANAGED : 0) | (arg_dry_run ? HD_DOMAIN_DRY_RUN : 0) |
                         (arg_force ? HD_DOMAIN_FORCE : 0);
        hd_device *d;
        int r;

        if (arg_managed && arg_unmanaged) {
                errorf("attach: --managed and --unmanaged are mutually exclusive");
                return EXIT_USAGE;
        }
        if (open_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        if (lookup(list, argv[2], &d) < 0)
                return EXIT_FAILURE;
        r = hd_domain_attach(list, argv[1], d, flags, &res);
        if (r < 0)
                return error_exit(ctx, "attach", r);
        return domain_report("attach", res);
}

static int verb_detach_device(int argc _unused_, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _hd_cleanup_result_ hd_result *res = NULL;
        unsigned flags = (arg_live ? HD_DOMAIN_LIVE : 0) | (arg_config ? HD_DOMAIN_CONFIG : 0) |
                         (arg_dry_run ? HD_DOMAIN_DRY_RUN : 0);
        hd_device *d;
        int r;

        if (open_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        if (lookup(list, argv[2], &d) < 0)
                return EXIT_FAILURE;
        r = hd_domain_detach_device(list, argv[1], d, flags, &res);
        if (r < 0)
                return error_exit(ctx, "detach-device", r);
        return domain_report("detach-device", res);
}


/* ---- the libvirt qemu hook (scripts/libvirt/qemu-hook runs this) ---- */

static int read_stdin(char **ret) {
        size_t n = 0, cap = 0;
        char *buf = NULL;

        for (;;) {
                size_t k;
                if (cap - n < 4096) {
                        char *p = realloc(buf, cap += 65536);
                        if (!p) {
                                free(buf);
                                return -ENOMEM;
                        }
                        buf = p;
                }
                k = fread(buf + n, 1, cap - n - 1, stdin);
                n += k;
                if (k == 0)
                        break;
        }
        buf[n] = 0;
        *ret = buf;
        return 0;
}

static int verb_qemu_hook(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _hd_cleanup_result_ hd_result *res = NULL;
        _cleanup_free_ char *xml = NULL;
        const char *domain, *op, *sub;
        int r;

        domain = argv[1], op = argv[2], sub = argv[3];
        bool prepare = streq(op, "prepare") && streq(sub, "begin");
        bool release = streq(op, "release") && streq(sub, "end");
        if (!prepare && !release)
                return EXIT_SUCCESS;
        /* a hook must not call back into libvirt (it holds the domain's lock) */
        arg_connect = "none";
        if (read_stdin(&xml) < 0)
                return EXIT_FAILURE;
        if (open_ctx(&ctx) < 0)
                return EXIT_FAILURE;
        r = prepare ? hd_domain_hook_prepare(ctx, domain, xml, &res) : hd_domain_hook_release(ctx, domain, xml, &res);
        if (r < 0) {
                errorf("hostdev: %s", hd_ctx_get_error(ctx) ?: strerror(-r));
                return EXIT_FAILURE;
        }
        if (hd_result_get_status(res) < 0) {
                /* libvirt shows this line when it fails the start */
                errorf("hostdev: %s", strempty(hd_result_get_reason(res)));
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

const struct verb libvirt_verbs[] = {
        { .name = "attach", .fn = verb_attach, .min_args = 2, .max_args = 2, .flags = VERB_DRY_RUN | VERB_FORCE,
          .shortopts = "c:lCmu", .options = attach_options, .option = domain_option, .expect = "expected DOMAIN and DEV",
          .args = "DOMAIN DEV [--connect URI] [--live] [--config] [--managed|--unmanaged] [--dry-run] [--force]",
          .summary = "Pass a device to a libvirt domain (virDomainAttachDeviceFlags).",
          .help = "Checks that no running domain uses DEV, that the host needs no member of its\n"
            "IOMMU group (mounted filesystems, swap, dm/md/LVM, default route, boot VGA,\n"
            "open DRM nodes) and, for --managed (the default), that the other members\n"
            "of the group are already detached.  --unmanaged detaches the whole group\n"
            "to vfio-pci first (journaled, as a group detach is).  The XML is the\n"
            "one hostdev-xml prints.\n"
            "Options:\n"
            "  --connect URI  libvirt URI (qemu:///system, qemu+ssh://host/system, test:///...);\n"
            "                 default: libvirt's default URI\n"
            "  --live, --config  as virsh attach-device (neither: the domain's current state)\n"
            "  --managed      managed='yes': libvirt detaches and reattaches DEV (default)\n"
            "  --unmanaged    managed='no': hostdev detaches the IOMMU group now\n"
            "  --dry-run      print the plan and the XML; change nothing\n"
            "  --force        override host-safety refusals\n"
            "Exit status: 0 attached, 1 failure, 2 refused (in use, or the host needs it).\n" },
        { .name = "detach-device", .fn = verb_detach_device, .min_args = 2, .max_args = 2, .flags = VERB_DRY_RUN,
          .shortopts = "c:lC", .options = detach_device_options, .option = domain_option,
          .expect = "expected DOMAIN and DEV", .args = "DOMAIN DEV [--connect URI] [--live] [--config] [--dry-run]",
          .summary = "Take a device from a libvirt domain; give it back to its driver if hostdev took it.",
          .help = "The domain's own device element (from its XML) is passed to\n"
            "virDomainDetachDeviceFlags.  Then every member of DEV's IOMMU group that\n"
            "hostdev detached (journaled) goes back to its original driver.\n" },
        { .name = "qemu-hook", .fn = verb_qemu_hook, .min_args = 3, .max_args = VERB_ANY,
          .expect = "expected DOMAIN OPERATION SUB-OPERATION [EXTRA] and the domain XML on stdin",
          .args = "DOMAIN OPERATION SUB-OPERATION [EXTRA] < DOMAIN.xml",
          .summary = "libvirt qemu hook: detach unmanaged PCI hostdevs on prepare, give them back on release.",
          .help = "Run by /etc/libvirt/hooks/qemu.d/hostdev with libvirt's arguments and the\n"
            "domain XML on stdin.  'prepare begin': every <hostdev type='pci'> and\n"
            "<interface type='hostdev'> with managed='no' moves to vfio-pci with its\n"
            "whole IOMMU group (journaled, host safety applies; a refusal exits 1 and\n"
            "libvirt fails the start with this message).  'release end': every group\n"
            "member hostdev detached goes back to its original driver.  Other\n"
            "operations do nothing.  libvirt is never called back.\n" },
        {}
};
