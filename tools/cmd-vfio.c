/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hostdevctl passthrough verbs: nodedev-detach, nodedev-reattach,
 * nodedev-reset, recover. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostdevctl.h"

/* ---- detach / reattach / reset / recover ---- */

static const char *arg_driver = "vfio-pci";
static bool arg_group;

static int vfio_option(const char *verb, int c, const char *arg) {
        switch (c) {
        case 'd':
                arg_driver = hd_driver_from_alias(arg, 0);
                if (!arg_driver) {
                        errorf("%s: unknown driver '%s' (vfio or stub)", verb, arg);
                        return -EINVAL;
                }
                return 0;
        case 'g':
                arg_group = true;
                return 0;
        }
        return -EINVAL;
}

static const struct option detach_options[] = {
        { "driver", required_argument, NULL, 'd' },
        { "group", no_argument, NULL, 'g' },
        {}
};

static const struct option reattach_options[] = {
        { "group", no_argument, NULL, 'g' },
        {}
};

static int verb_detach_reattach(int argc, char **argv, bool detach) {
        const char *verb = detach ? "nodedev-detach" : "nodedev-reattach";
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _cleanup_free_ hd_device **devs = NULL;
        _hd_cleanup_result_ hd_result *res = NULL;
        const char *driver = arg_driver;
        unsigned flags = (arg_group ? HD_VFIO_GROUP : 0) | (arg_dry_run ? HD_VFIO_DRY_RUN : 0) |
                         (arg_force ? HD_VFIO_FORCE : 0);
        bool json = arg_json;
        size_t n = 0;
        int r, rc = EXIT_FAILURE, route;

        /* Detach, Reattach: one device; DetachDevices, ReattachDevices:
         * several in one transaction (flags: 1 group, 2 dry run, 4 force) */
        uint64_t bits = (arg_group ? 1 : 0) | (arg_dry_run ? 2 : 0) | (arg_force ? 4 : 0);
        if (argc > 2)
                route = detach ? bus_route("nodedev-detach --devices", NULL, &res, &rc, "Sst", (size_t) (argc - 1),
                                           (const char *const *) argv + 1, driver, bits)
                               : bus_route("nodedev-reattach --devices", NULL, &res, &rc, "St", (size_t) (argc - 1),
                                           (const char *const *) argv + 1, bits);
        else
                route = detach ? bus_route(verb, NULL, &res, &rc, "sst", argv[1], driver, bits)
                               : bus_route(verb, NULL, &res, &rc, "st", argv[1], bits);
        if (route == BUS_DONE)
                return rc;
        /* after the daemon's transaction the tree is read for the note below only */
        if (open_list(&ctx, &list) < 0 && route == BUS_DIRECT)
                return EXIT_FAILURE;
        devs = calloc((size_t) (argc - 1), sizeof(*devs));
        if (!devs)
                return EXIT_FAILURE;
        if (route == BUS_RESULT) {
                for (int i = 1; list && i < argc; i++)
                        if (hd_nodedev_list_lookup(list, argv[i], &devs[n]) >= 0)
                                n++;
                r = 0;
        } else {
                for (int i = 1; i < argc; i++)
                        if (lookup(list, argv[i], &devs[n++]) < 0)
                                return EXIT_FAILURE;
                /* every device named is one transaction */
                r = detach ? hd_vfio_detach_devices(list, devs, n, driver, flags, &res)
                           : hd_vfio_reattach_devices(list, devs, n, flags, &res);
        }
        /* a GPU's HDMI audio (and USB-C) functions share its group: name
         * those left out of a transaction that was planned */
        for (size_t i = 0; r >= 0 && detach && !(flags & HD_VFIO_GROUP) && i < n; i++) {
                hd_gpu_companion *comp = NULL;
                size_t nc = 0, shown = 0;
                if (!hd_device_is_gpu(devs[i]) || hd_gpu_get_companions(list, devs[i], &comp, &nc) < 0)
                        continue;
                for (size_t k = 0; k < nc; k++) {
                        bool named = false;
                        for (size_t j = 0; j < n; j++)
                                if (streq_ptr(hd_device_get_pci_address(devs[j]), comp[k].addr))
                                        named = true;
                        if (named)
                                continue;
                        if (!shown++)
                                fprintf(stderr, "note: %s shares its card with", hd_device_get_name(devs[i]));
                        fprintf(stderr, "%s %s (%s%s%s)", shown > 1 ? "," : "", comp[k].addr, comp[k].kind,
                                comp[k].driver ? ", " : "", strempty(comp[k].driver));
                }
                if (shown)
                        fprintf(stderr, "; use --group to detach the whole card\n");
                hd_gpu_companions_free(comp, nc);
        }
        if (r < 0) {
                if (hd_ctx_get_error(ctx))
                        errorf("%s %s", verb, hd_ctx_get_error(ctx));
                else
                        errorf("%s %s%s: %s", verb, hd_device_get_name(devs[0]), n > 1 ? " ..." : "", strerror(-r));
                return EXIT_FAILURE;
        }
        return report(verb, res, json);
}

static int verb_nodedev_detach(int argc, char **argv) { return verb_detach_reattach(argc, argv, true); }
static int verb_nodedev_reattach(int argc, char **argv) { return verb_detach_reattach(argc, argv, false); }

static int verb_recover(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _hd_cleanup_result_ hd_result *res = NULL;
        int r, rc = EXIT_FAILURE, route;

        route = bus_route("recover", NULL, &res, &rc, "t", (uint64_t) 0);
        if (route == BUS_DONE)
                return rc;
        if (route == BUS_DIRECT) {
                if (open_ctx(&ctx) < 0)
                        return EXIT_FAILURE;
                r = hd_vfio_recover(ctx, &res);
                if (r < 0) {
                        errorf("recover: %s", strerror(-r));
                        return EXIT_FAILURE;
                }
        }
        if (hd_result_get_n_steps(res) == 0)
                printf("nothing to recover\n");
        return report("recover", res, false);
}

static int verb_nodedev_reset(int argc _unused_, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _hd_cleanup_result_ hd_result *res = NULL;
        unsigned flags = arg_force ? HD_VFIO_FORCE : 0;
        hd_device *d;
        int r, rc = EXIT_FAILURE, route;

        /* Reset's flags: 4 force */
        route = bus_route("nodedev-reset", NULL, &res, &rc, "st", argv[1], (uint64_t) (arg_force ? 4 : 0));
        if (route == BUS_DONE)
                return rc;
        if (route == BUS_DIRECT) {
                if (open_list(&ctx, &list) < 0)
                        return EXIT_FAILURE;
                if (lookup(list, argv[1], &d) < 0)
                        return EXIT_FAILURE;
                if (hd_device_get_cap_type(d) != HD_CAP_PCI) {
                        errorf("nodedev-reset: %s is not a PCI device", hd_device_get_name(d));
                        return EXIT_FAILURE;
                }
                r = hd_pci_reset(list, d, flags, &res);
                if (r < 0) {
                        errorf("nodedev-reset: %s: %s", hd_device_get_name(d), strerror(-r));
                        return EXIT_FAILURE;
                }
        }
        print_result_text(res, "");
        if (hd_result_get_status(res) == -EBUSY) {
                errorf("nodedev-reset refused: %s (use --force to override)", strempty(hd_result_get_reason(res)));
                return EXIT_REFUSED;
        }
        if (hd_result_get_status(res) < 0) {
                errorf("nodedev-reset: %s", strempty(hd_result_get_reason(res)));
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

const struct verb vfio_verbs[] = {
        { .name = "nodedev-detach", .fn = verb_nodedev_detach, .min_args = 1, .max_args = VERB_ANY,
          .flags = VERB_JSON | VERB_DRY_RUN | VERB_FORCE, .shortopts = "d:g", .options = detach_options,
          .option = vfio_option, .expect = "expected one or more devices",
          .args = "DEV... [--driver vfio|stub] [--group] [--dry-run] [--force] [--json]",
          .summary = "Bind PCI devices (or their whole IOMMU groups) to vfio-pci or pci-stub.",
          .help = "Several devices (a GPU and its audio function) move as one transaction.\n"
            "Uses driver_override + drivers_probe; loads the driver module if needed. The\n"
            "original driver is journaled in the state directory first, so that\n"
            "nodedev-reattach restores exactly it and 'hostdevctl recover' can finish an\n"
            "interrupted run. With --group every endpoint of the IOMMU group moves as one\n"
            "transaction: if one fails, the others go back. Devices the host needs (mounted\n"
            "filesystems, swap, dm/md/LVM, the default route, the boot VGA with a framebuffer\n"
            "console, open DRM nodes) are refused with exit status 2 unless --force.\n" },
        { .name = "nodedev-reattach", .fn = verb_nodedev_reattach, .min_args = 1, .max_args = VERB_ANY,
          .flags = VERB_JSON | VERB_DRY_RUN | VERB_FORCE, .shortopts = "g", .options = reattach_options,
          .option = vfio_option, .expect = "expected one or more devices",
          .args = "DEV... [--group] [--dry-run] [--json]",
          .summary = "Give detached PCI devices (or groups) back to their original host drivers, as one transaction." },
        { .name = "nodedev-reset", .fn = verb_nodedev_reset, .min_args = 1, .max_args = 1, .flags = VERB_FORCE,
          .expect = "expected exactly one device", .args = "DEV [--force]",
          .summary = "Reset a PCI function with the kernel's reset methods (skipped on vfio-pci)." },
        { .name = "recover", .fn = verb_recover, .expect = "takes no arguments",
          .args = "",
          .summary = "Finish or undo an interrupted detach/reattach from the journal (run at boot)." },
        {}
};
