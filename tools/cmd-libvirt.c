/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdevctl and libvirt domains: attach, detach-device, and "which domain
 * uses this device" for show, nodedev-list and iommu, plus the in-use
 * question that reattach, reset, VF shrinking and mdev removal ask
 * (domain/libvirt.c answers it; this file asks libvirt once, when the
 * first answer is needed).
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

static hd_domain_usage *usage;
static char *usage_error;                /* why libvirt could not be asked */
static int usage_state;                  /* 0 not tried, 1 loaded, -1 unknown, 2 not applicable */

static const char *connect_uri(void) {
        if (arg_connect)
                return arg_connect;
        return getenv("LIBVIRT_DEFAULT_URI");
}

/* Load the domain usage once: 1 loaded, 0 not applicable, -1 unknown. */
static int usage_load(hd_ctx *ctx, hd_nodedev_list *list, bool rw) {
        int r;

        if (usage_state)
                return usage_state == 2 ? 0 : usage_state;
        r = hd_domain_usage_new(ctx, list, connect_uri(), rw ? HD_DOMAIN_USAGE_RW : 0, &usage);
        if (r >= 0) {
                usage_state = 1;
                return 1;
        }
        if (r == -ENOENT) {
                usage_state = 2;
                return 0;
        }
        usage_error = strdup(hd_ctx_get_error(ctx) ?: strerror(-r));
        if (usage_error && arg_log_level >= HD_LOG_WARNING)
                fprintf(stderr, "hostdevctl: warning: %s; which domains use devices is unknown\n", usage_error);
        usage_state = -1;
        return -1;
}

static int lazy_in_use(hd_ctx *ctx, const char *kind, const char *id, char **ret_reason, void *userdata _unused_) {
        int s = usage_load(ctx, NULL, false);
        if (s == 0)
                return 0;
        if (s < 0) {
                *ret_reason = strdup(usage_error ?: "libvirt cannot be asked");
                return -EAGAIN;
        }
        return hd_domain_usage_check(usage, ctx, kind, id, ret_reason);
}

static hd_ctx *cli_ctx;   /* borrowed: the verb's context */

void libvirt_install_in_use(hd_ctx *ctx) {
        cli_ctx = ctx;
        hd_ctx_set_in_use_fn(ctx, lazy_in_use, NULL);
}

/* ---- who uses what (show, nodedev-list, iommu) ---- */

static hd_device *pci_of(hd_device *d) {
        if (hd_device_get_cap_type(d) == HD_CAP_NET) {
                hd_device *p = hd_device_get_parent(d);
                if (p && hd_device_get_cap_type(p) == HD_CAP_PCI)
                        return p;
        }
        return hd_device_get_cap_type(d) == HD_CAP_PCI ? d : NULL;
}


/* "vm1 (running), vm2 (defined)", "-" for none, "?" when unknown; NULL when
 * libvirt is not asked (a sysroot without --connect). */
const char *libvirt_used_by_text(hd_nodedev_list *list, hd_device *d, char *buf, size_t size) {
        _cleanup_free_ const hd_domain_use **uses = NULL;
        size_t n = 0, off = 0;
        int s = usage_load(cli_ctx, list, false);

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
        json_object *arr;
        size_t n = 0;
        int s = usage_load(cli_ctx, list, false);

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

        d = pci_of(d) ?: d;
        group = hd_device_get_iommu_group(d);
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
        size_t n = 0;
        int s = usage_load(ctx, list, false), group, pid = 0;

        if (s < 0)
                printf("domains:\n  unknown: %s\n", usage_error ? usage_error : "libvirt cannot be asked");
        else if (s > 0 && hd_domain_usage_find(usage, d, &uses, &n) >= 0) {
                printf("domains:\n");
                if (n == 0)
                        printf("  none (on %s)\n", hd_domain_usage_get_uri(usage));
                for (size_t i = 0; i < n; i++)
                        printf("  %s: %s, %s, on %s\n", uses[i]->domain, uses[i]->running ? "running" : "defined only",
                               uses[i]->how, uses[i]->uri);
        }
        group = hd_device_get_iommu_group(pci_of(d) ?: d);
        if (group >= 0 && holder_of(ctx, (unsigned) group, &pid, &comm) > 0)
                printf("vfio:\n  /dev/vfio/%d is open by process %d (%s)\n", group, pid, comm ? comm : "?");
}

/* ---- attach / detach-device ---- */

static int group_members(hd_nodedev_list *list, hd_device *d, hd_device ***ret, size_t *ret_n) {
        int group = hd_device_get_iommu_group(d);
        if (group < 0) {
                *ret = calloc(1, sizeof(**ret));
                if (!*ret)
                        return -ENOMEM;
                (*ret)[0] = d;
                *ret_n = 1;
                return 0;
        }
        return hd_iommu_group_get_devices(list, (unsigned) group, ret, ret_n);
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
        _cleanup_free_ hd_device **members = NULL;
        _cleanup_free_ char *xml = NULL;
        _cleanup_free_ const hd_domain_use **uses = NULL;
        bool live = arg_live, config = arg_config, managed = arg_managed, unmanaged = arg_unmanaged, dry = arg_dry_run,
             force = arg_force;
        bool detached = false;
        const char *domain;
        hd_device *d, *pci;
        size_t n = 0, nu = 0;
        int r;

        if (managed && unmanaged) {
                errorf("attach: --managed and --unmanaged are mutually exclusive");
                return EXIT_USAGE;
        }
        domain = argv[1];
        if (open_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        if (lookup(list, argv[2], &d) < 0)
                return EXIT_FAILURE;
        pci = pci_of(d);

        r = hd_device_format_hostdev_xml(d, unmanaged ? HD_HOSTDEV_XML_UNMANAGED : HD_HOSTDEV_XML_MANAGED, &xml);
        if (r < 0) {
                errorf("attach: %s", hd_ctx_get_error(ctx) ?: strerror(-r));
                return EXIT_FAILURE;
        }

        /* who has it now: libvirt must be reachable, on the live host too */
        if (usage_load(ctx, list, !dry) < 0) {
                errorf("attach: %s", usage_error ? usage_error : "libvirt cannot be asked");
                return EXIT_FAILURE;
        }
        if (usage_state == 1 && hd_domain_usage_find(usage, d, &uses, &nu) >= 0)
                for (size_t i = 0; i < nu; i++)
                        if (uses[i]->running) {
                                errorf("attach refused: %s is used by running domain '%s' (%s, on %s)",
                                       hd_device_get_name(d), uses[i]->domain, uses[i]->how, uses[i]->uri);
                                return EXIT_REFUSED;
                        }

        if (pci) {
                r = group_members(list, pci, &members, &n);
                if (r < 0) {
                        errorf("attach: %s: %s", hd_device_get_name(pci), strerror(-r));
                        return EXIT_FAILURE;
                }
                for (size_t i = 0; i < n; i++) {
                        hd_device *m = members[i];
                        const char *drv = hd_device_get_driver(m);
                        _cleanup_free_ char *why = NULL;
                        if (hd_device_get_cap_type(m) != HD_CAP_PCI || hd_pci_device_is_bridge(m))
                                continue;
                        /* nor a running guest */
                        if (m != pci && usage_state == 1 &&
                            hd_domain_usage_check(usage, ctx, "pci", hd_device_get_pci_address(m), &why) > 0) {
                                errorf("attach refused: IOMMU group member %s", strempty(why));
                                return EXIT_REFUSED;
                        }
                        /* the host must not need any member (libvirt does not check this) */
                        if (!force && hd_host_safety_check(list, m) == -EBUSY) {
                                errorf("attach refused: %s%s (use --force to override)",
                                       m == pci ? "" : "IOMMU group member ", strempty(hd_ctx_get_error(ctx)));
                                return EXIT_REFUSED;
                        }
                        /* managed: libvirt moves only the device itself */
                        if (!unmanaged && m != pci && drv && !hd_driver_is_passthrough(drv)) {
                                errorf("attach: IOMMU group %d is not viable: %s is bound to %s; libvirt "
                                       "(managed) detaches only %s: use --unmanaged to move the whole group",
                                       hd_device_get_iommu_group(pci), hd_device_get_pci_address(m),
                                       drv, hd_device_get_pci_address(pci));
                                return EXIT_FAILURE;
                        }
                }
        }

        printf("plan:\n");
        if (pci && unmanaged) {
                _hd_cleanup_result_ hd_result *res = NULL;
                r = hd_vfio_detach(list, pci, "vfio-pci",
                                   HD_VFIO_GROUP | (dry ? HD_VFIO_DRY_RUN : 0) | (force ? HD_VFIO_FORCE : 0), &res);
                if (r < 0) {
                        errorf("attach: cannot detach %s: %s", hd_device_get_name(pci), strerror(-r));
                        return EXIT_FAILURE;
                }
                printf("  detach the IOMMU group to vfio-pci (journaled):\n");
                print_result_text(res, "    ");
                r = hd_result_get_status(res);
                if (r < 0) {
                        errorf("attach %s: %s", r == -EBUSY ? "refused" : "failed",
                               strempty(hd_result_get_reason(res)));
                        return r == -EBUSY ? EXIT_REFUSED : EXIT_FAILURE;
                }
                if (hd_result_count_outcome(res, HD_OUTCOME_DONE) > 0)
                        detached = true;
        } else if (pci)
                printf("  libvirt detaches %s itself (managed='yes')\n", hd_device_get_name(pci));
        printf("  attach to domain '%s'%s%s on %s:\n%s", domain, live ? " --live" : "", config ? " --config" : "",
               usage_state == 1 ? hd_domain_usage_get_uri(usage) : connect_uri() ? connect_uri() : "the default URI",
               xml);
        if (dry)
                return EXIT_SUCCESS;

        r = hd_domain_attach_xml(usage, domain, xml, live, config);
        if (r < 0) {
                errorf("attach: libvirt refused to attach %s to '%s': %s", hd_device_get_name(d), domain,
                       hd_ctx_get_error(ctx) ?: strerror(-r));
                if (detached) {
                        _hd_cleanup_result_ hd_result *res = NULL;
                        if (hd_vfio_reattach(list, pci, HD_VFIO_GROUP | HD_VFIO_FORCE, &res) >= 0)
                                errorf("attach: gave the IOMMU group back to its drivers");
                }
                return EXIT_FAILURE;
        }
        printf("attached %s to domain '%s'\n", hd_device_get_name(d), domain);
        return EXIT_SUCCESS;
}

static int verb_detach_device(int argc _unused_, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _cleanup_free_ const hd_domain_use **uses = NULL;
        _cleanup_free_ hd_device **members = NULL;
        const hd_domain_use *use = NULL;
        bool live = arg_live, config = arg_config, dry = arg_dry_run;
        const char *domain;
        hd_device *d, *pci;
        size_t nu = 0, n = 0;
        int r, rc = EXIT_SUCCESS;

        domain = argv[1];
        if (open_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        if (lookup(list, argv[2], &d) < 0)
                return EXIT_FAILURE;
        pci = pci_of(d);
        if (usage_load(ctx, list, !dry) <= 0) {
                errorf("detach-device: %s", usage_error ? usage_error : "no libvirt connection (use --connect URI)");
                return EXIT_FAILURE;
        }
        if (hd_domain_usage_find(usage, d, &uses, &nu) < 0)
                return EXIT_FAILURE;
        for (size_t i = 0; i < nu; i++)
                if (streq(uses[i]->domain, domain))
                        use = uses[i];
        if (!use) {
                errorf("detach-device: %s is not attached to domain '%s' (on %s)", hd_device_get_name(d), domain,
                       hd_domain_usage_get_uri(usage));
                return EXIT_FAILURE;
        }
        printf("plan:\n  detach from domain '%s' on %s:\n%s\n", domain, use->uri, use->xml);
        if (pci && group_members(list, pci, &members, &n) >= 0)
                for (size_t i = 0; i < n; i++)
                        if (hd_device_get_cap_type(members[i]) == HD_CAP_PCI &&
                            hd_vfio_is_journaled(ctx, hd_device_get_pci_address(members[i])))
                                printf("  give %s back to its original driver (hostdev detached it)\n",
                                       hd_device_get_pci_address(members[i]));
        if (dry)
                return EXIT_SUCCESS;
        r = hd_domain_detach_xml(usage, domain, use->xml, live, config);
        if (r < 0) {
                errorf("detach-device: libvirt refused to detach %s from '%s': %s", hd_device_get_name(d), domain,
                       hd_ctx_get_error(ctx) ?: strerror(-r));
                return EXIT_FAILURE;
        }
        printf("detached %s from domain '%s'\n", hd_device_get_name(d), domain);
        /* the domain no longer has it: the reattach checks must see that */
        r = hd_domain_usage_reload(usage);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _hd_cleanup_result_ hd_result *res = NULL;
                const char *addr = hd_device_get_pci_address(members[i]);
                if (hd_device_get_cap_type(members[i]) != HD_CAP_PCI || !hd_vfio_is_journaled(ctx, addr))
                        continue;
                if (hd_vfio_reattach(list, members[i], 0, &res) < 0) {
                        errorf("detach-device: cannot give %s back", addr);
                        rc = EXIT_FAILURE;
                        continue;
                }
                if (report("detach-device", res, false) != EXIT_SUCCESS)
                        rc = EXIT_FAILURE;
        }
        return rc;
}


/* ---- the libvirt qemu hook (scripts/libvirt/qemu-hook runs this) ---- */

static void addrs_freep(char ***v) {
        for (char **p = *v; p && *p; p++)
                free(*p);
        free(*v);
}

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

/* Give back every journaled member of the groups of @addrs. */
static int hook_release(hd_nodedev_list *list, hd_ctx *ctx, char **addrs, size_t na) {
        int rc = EXIT_SUCCESS;

        for (size_t i = 0; i < na; i++) {
                _cleanup_free_ hd_device **members = NULL;
                hd_device *d;
                size_t n = 0;
                if (hd_nodedev_list_lookup(list, addrs[i], &d) < 0 || group_members(list, d, &members, &n) < 0)
                        continue;
                for (size_t k = 0; k < n; k++) {
                        const char *addr = hd_device_get_pci_address(members[k]);
                        _hd_cleanup_result_ hd_result *res = NULL;
                        if (hd_device_get_cap_type(members[k]) != HD_CAP_PCI || !hd_vfio_is_journaled(ctx, addr))
                                continue;
                        if (hd_vfio_reattach(list, members[k], 0, &res) < 0 || hd_result_get_status(res) < 0) {
                                errorf("hostdev: cannot give %s back%s%s", addr, res ? ": " : "",
                                       res ? strempty(hd_result_get_reason(res)) : "");
                                rc = EXIT_FAILURE;
                        }
                }
        }
        return rc;
}

static int verb_qemu_hook(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _cleanup_(addrs_freep) char **addrs = NULL;
        _cleanup_free_ char *xml = NULL;
        const char *domain, *op, *sub;
        size_t na = 0;
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
        r = hd_domain_xml_pci_hostdevs(xml, true, &addrs, &na);
        if (r < 0) {
                errorf("hostdev: the domain XML of '%s' does not parse", domain);
                return EXIT_FAILURE;
        }
        if (na == 0)
                return EXIT_SUCCESS;
        if (open_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        if (release)
                return hook_release(list, ctx, addrs, na);

        for (size_t i = 0; i < na; i++) {
                _hd_cleanup_result_ hd_result *res = NULL;
                hd_device *d;
                if (hd_nodedev_list_lookup(list, addrs[i], &d) < 0) {
                        errorf("hostdev: domain '%s': no PCI device %s on this host", domain, addrs[i]);
                        (void) hook_release(list, ctx, addrs, i);
                        return EXIT_FAILURE;
                }
                r = hd_vfio_detach(list, d, "vfio-pci", HD_VFIO_GROUP, &res);
                if (r < 0 || hd_result_get_status(res) < 0) {
                        errorf("hostdev: domain '%s': %s %s: %s", domain,
                               r >= 0 && hd_result_get_status(res) == -EBUSY ? "refused to detach" : "cannot detach",
                               addrs[i], r < 0 ? strerror(-r) : strempty(hd_result_get_reason(res)));
                        (void) hook_release(list, ctx, addrs, i);
                        return EXIT_FAILURE;
                }
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
