/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hostdevctl verbs of the SR-IOV module: sriov list|set|vf, apply. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "hostdev/listing.h"
#include "hostdevctl.h"

/* The library's choice (hd_sriov_config_dir): HOSTDEV_CONFIG_DIR, else
 * SYSROOT/etc/hostdev with --sysroot, else /etc/hostdev. */
static int config_dir(hd_ctx *ctx, char **ret) {
        int r = hd_sriov_config_dir(ctx, ret);
        if (r < 0)
                errorf("%s", hd_ctx_get_error(ctx) ?: strerror(-r));
        return r;
}

static const char *onoff(int v) { return v < 0 ? "-" : v ? "on" : "off"; }

static int parse_onoff(const char *verb, const char *opt, const char *arg) {
        if (streq(arg, "on") || streq(arg, "yes") || streq(arg, "true") || streq(arg, "1"))
                return 1;
        if (streq(arg, "off") || streq(arg, "no") || streq(arg, "false") || streq(arg, "0"))
                return 0;
        errorf("%s: %s takes on or off, not '%s'", verb, opt, arg);
        return -EINVAL;
}

static int parse_uint(const char *verb, const char *what, const char *arg, unsigned max, unsigned *ret) {
        char *end;
        unsigned long v;
        errno = 0;
        v = strtoul(arg, &end, 10);
        if (!arg[0] || *end || arg[0] == '-' || errno || v > max) {
                errorf("%s: %s must be an integer 0..%u, not '%s'", verb, what, max, arg);
                return -EINVAL;
        }
        *ret = (unsigned) v;
        return 0;
}

/* Print the result (the library's rendering); exit status 0, 1 or 2
 * (refused).  With @ret_json, the JSON document is returned instead of
 * printed. */
static int sriov_report_full(const char *verb, const char *subject, const hd_result *res, bool json,
                             json_object **ret_json) {
        if (json) {
                json_object *o = result_json(res);
                if (!o)
                        return EXIT_FAILURE;
                if (ret_json)
                        *ret_json = o;
                else {
                        print_json(o);
                        json_object_put(o);
                }
        } else {
                print_result_text(res, "");
                if (hd_result_count_outcome(res, HD_OUTCOME_SKIPPED) == hd_result_get_n_steps(res) &&
                    hd_result_get_status(res) == 0 && subject)
                        printf("%s: nothing changed\n", subject);
        }
        return result_exit(verb, res);
}

static int sriov_report(const char *verb, const char *subject, const hd_result *res, bool json) {
        return sriov_report_full(verb, subject, res, json, NULL);
}

/* ---- sriov list ---- */

static const char *link_state_word(int s) {
        switch (s) {
        case 0: return "auto";
        case 1: return "enable";
        case 2: return "disable";
        default: return NULL;
        }
}

static void pf_text(const hd_sriov_pf *pf) {
        printf("%s  %04x:%04x  driver %s  netdev %s  VFs %u/%u  autoprobe %s\n", pf->addr, pf->vendor, pf->device,
               pf->driver ?: "(none)", pf->netdev ?: "-", pf->numvfs, pf->totalvfs, onoff(pf->autoprobe));
        for (size_t i = 0; i < pf->n_vfs; i++) {
                const hd_sriov_vf *v = &pf->vfs[i];
                printf("  VF %-3u %s  %-10s %s", v->index, v->addr, v->driver ?: "(none)", v->netdev ?: "-");
                if (v->has_link_info) {
                        printf("%*s  mac", (int) (12 - strlen(v->netdev ?: "-")), "");
                        printf(" %s  vlan %u", v->mac ?: "-", v->vlan);
                        if (v->qos)
                                printf(" qos %u", v->qos);
                        printf("  spoofchk %s  trust %s  link %s", onoff(v->spoofchk), onoff(v->trust),
                               link_state_word(v->link_state) ?: "-");
                }
                putchar('\n');
        }
}

static int sriov_list(int argc _unused_, char **argv _unused_) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        hd_sriov_pf *pfs = NULL;
        size_t n = 0;
        bool json = arg_json;
        int r;

        if (open_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        r = hd_sriov_pf_list(list, &pfs, &n);
        if (r < 0) {
                errorf("sriov list: %s", strerror(-r));
                return EXIT_FAILURE;
        }
        if (json) {
                json_object *a = NULL;
                r = hd_sriov_pf_list_to_json(pfs, n, &a); /* the library's rendering (hostdevd's too) */
                if (r < 0) {
                        hd_sriov_pf_free(pfs, n);
                        errorf("sriov list: %s", strerror(-r));
                        return EXIT_FAILURE;
                }
                print_json(a);
                json_object_put(a);
        } else {
                if (n == 0)
                        printf("no SR-IOV physical functions\n");
                for (size_t i = 0; i < n; i++)
                        pf_text(&pfs[i]);
        }
        hd_sriov_pf_free(pfs, n);
        return EXIT_SUCCESS;
}

/* ---- sriov set ---- */

static int persist(hd_ctx *ctx, hd_nodedev_list *list, hd_device *d, const char *verb, const hd_sriov_set_opts *set,
                   const hd_sriov_vf_config *vf) {
        _hd_cleanup_result_ hd_result *res = NULL;
        _cleanup_free_ char *dir = NULL;
        int r;

        if (config_dir(ctx, &dir) < 0)
                return EXIT_FAILURE;
        r = hd_sriov_persist(list, d, dir, set, vf, &res);
        if (r < 0) {
                errorf("%s: cannot persist into %s/sriov: %s", verb, dir, strerror(-r));
                return EXIT_FAILURE;
        }
        if (hd_result_get_status(res) < 0) {
                errorf("%s: %s", verb, strempty(hd_result_get_reason(res)));
                return EXIT_FAILURE;
        }
        printf("%s: persisted in %s/sriov/%s.json\n", hd_device_get_name(d), dir,
               hd_device_get_pci_address(d));
        return EXIT_SUCCESS;
}

/* persist()'s line for the daemon's SriovPersist result */
static int persisted(hd_device *d, const hd_result *res) {
        const hd_result_step *st = hd_result_get_step(res, 0);

        if (hd_result_get_status(res) < 0 || !st) {
                errorf("%s", strempty(hd_result_get_reason(res)));
                return EXIT_FAILURE;
        }
        printf("%s: %s\n", hd_device_get_name(d), strempty(hd_result_step_get_action(st)));
        return EXIT_SUCCESS;
}

/* the options of sriov set and sriov vf */
static hd_sriov_set_opts arg_set = { .autoprobe = -1 };
static hd_sriov_vf_config arg_vf = { .trust = -1, .spoofchk = -1 };
static bool arg_have_numvfs, arg_have_qos, arg_persist;

static int sriov_vf_option(const char *verb, int c, const char *arg) {
        int r;
        switch (c) {
        case 'm':
                r = hd_sriov_parse_mac(arg, arg_vf.mac);
                if (r == -EADDRNOTAVAIL) {
                        errorf("%s: '%s' is a multicast/broadcast address; a VF needs a unicast MAC", verb, arg);
                        return -EINVAL;
                }
                if (r < 0) {
                        errorf("%s: invalid MAC address '%s' (expected aa:bb:cc:dd:ee:ff)", verb, arg);
                        return -EINVAL;
                }
                arg_vf.set_mac = true;
                return 0;
        case 'v':
                if (parse_uint(verb, "--vlan", arg, 4095, &arg_vf.vlan) < 0)
                        return -EINVAL;
                arg_vf.set_vlan = true;
                return 0;
        case 'Q':
                if (parse_uint(verb, "--qos", arg, 7, &arg_vf.qos) < 0)
                        return -EINVAL;
                arg_have_qos = true;
                return 0;
        case 't':
                return (arg_vf.trust = parse_onoff(verb, "--trust", arg)) < 0 ? -EINVAL : 0;
        case 's':
                return (arg_vf.spoofchk = parse_onoff(verb, "--spoofchk", arg)) < 0 ? -EINVAL : 0;
        }
        return -EINVAL;
}

/* the options of both: --persist is common */
static int sriov_option(const char *verb, int c, const char *arg) {
        switch (c) {
        case 'N':
                if (parse_uint(verb, "--numvfs", arg, 65535, &arg_set.numvfs) < 0)
                        return -EINVAL;
                arg_have_numvfs = true;
                return 0;
        case 'd':
                arg_set.driver = hd_driver_from_alias(arg, HD_DRIVER_ALIAS_HOST);
                if (!arg_set.driver) {
                        errorf("%s: unknown driver '%s' (vfio, stub or host)", verb, arg);
                        return -EINVAL;
                }
                return 0;
        case 'a':
                return (arg_set.autoprobe = parse_onoff(verb, "--autoprobe", arg)) < 0 ? -EINVAL : 0;
        case 'p':
                arg_persist = true;
                return 0;
        }
        return sriov_vf_option(verb, c, arg);
}

static const struct option sriov_set_options[] = {
        { "numvfs", required_argument, NULL, 'N' },
        { "driver", required_argument, NULL, 'd' },
        { "autoprobe", required_argument, NULL, 'a' },
        { "persist", no_argument, NULL, 'p' },
        {}
};

static int sriov_set(int argc _unused_, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        hd_sriov_set_opts o = arg_set;
        _hd_cleanup_result_ hd_result *res = NULL;
        bool json = arg_json, do_persist = arg_persist;
        unsigned flags = (arg_dry_run ? HD_SRIOV_DRY_RUN : 0) | (arg_force ? HD_SRIOV_FORCE : 0);
        hd_device *d;
        int r, rc = EXIT_FAILURE, route;

        if (!arg_have_numvfs) {
                errorf("sriov set: --numvfs N is required");
                return EXIT_USAGE;
        }
        /* SriovSet (flags: 2 dry run, 4 force); --persist is SriovPersist
         * after it, as below: its configuration directory decides for both */
        if (do_persist)
                bus_then("sriov set --persist");
        route = bus_route("sriov set", NULL, &res, &rc, "susit", argv[1], (uint32_t) o.numvfs, strempty(o.driver),
                          (int32_t) o.autoprobe, (uint64_t) ((arg_dry_run ? 2 : 0) | (arg_force ? 4 : 0)));
        if (route == BUS_DONE)
                return rc;
        if (route == BUS_RESULT) {
                _hd_cleanup_result_ hd_result *pres = NULL;
                rc = sriov_report("sriov set", argv[1], res, json);
                if (rc != EXIT_SUCCESS || !do_persist)
                        return rc;
                /* the device's name, as the direct run prints it: a read */
                if (open_list(&ctx, &list) < 0 || lookup(list, argv[1], &d) < 0)
                        return EXIT_FAILURE;
                if (flags & HD_SRIOV_DRY_RUN) {
                        printf("%s: would persist\n", hd_device_get_name(d));
                        return EXIT_SUCCESS;
                }
                route = bus_route("sriov set --persist", NULL, &pres, &rc, "susit", argv[1], (uint32_t) o.numvfs,
                                  strempty(o.driver), (int32_t) o.autoprobe, (uint64_t) 0);
                if (route == BUS_DONE)
                        return rc;
                return persisted(d, pres);
        }
        if (open_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        if (lookup(list, argv[1], &d) < 0)
                return EXIT_FAILURE;
        r = hd_sriov_set_numvfs(list, d, &o, flags, &res);
        if (r >= 0 && hd_result_get_status(res) == -ERANGE) {
                /* the count is checked before anything: no step to show */
                errorf("sriov set: %s; nothing changed", strempty(hd_result_get_reason(res)));
                return EXIT_FAILURE;
        }
        if (r < 0 && hd_ctx_get_error(ctx)) {
                errorf("sriov set: %s", hd_ctx_get_error(ctx));
                return EXIT_FAILURE;
        }
        if (r < 0) {
                errorf("sriov set: %s: %s; nothing changed", hd_device_get_name(d), strerror(-r));
                return EXIT_FAILURE;
        }
        rc = sriov_report("sriov set", argv[1], res, json); /* as the user named it */
        if (rc == EXIT_SUCCESS && do_persist) {
                if (flags & HD_SRIOV_DRY_RUN)
                        printf("%s: would persist\n", hd_device_get_name(d));
                else
                        rc = persist(ctx, list, d, "sriov set", &o, NULL);
        }
        return rc;
}

/* ---- sriov vf ---- */

static const struct option sriov_vf_options[] = {
        { "mac", required_argument, NULL, 'm' },
        { "vlan", required_argument, NULL, 'v' },
        { "qos", required_argument, NULL, 'Q' },
        { "trust", required_argument, NULL, 't' },
        { "spoofchk", required_argument, NULL, 's' },
        { "persist", no_argument, NULL, 'p' },
        {}
};

/* SriovSetVf (and SriovPersistVf for --persist) through the daemon: the
 * same calls and lines as below.  BUS_DIRECT, or the exit status in
 * *ret_rc. */
static int vf_call(const char *verb, const char *pf, const hd_sriov_vf_config *vc, bool have_qos, uint64_t flags,
                   hd_result **ret, int *ret_rc) {
        char mac[18] = "";

        if (vc->set_mac)
                snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", vc->mac[0], vc->mac[1], vc->mac[2],
                         vc->mac[3], vc->mac[4], vc->mac[5]);
        return bus_route(verb, NULL, ret, ret_rc, "susiiiit", pf, (uint32_t) vc->index, mac,
                         (int32_t) (vc->set_vlan ? (int) vc->vlan : -1), (int32_t) (have_qos ? (int) vc->qos : -1),
                         (int32_t) vc->trust, (int32_t) vc->spoofchk, flags);
}

static int vf_through_daemon(const char *pf, const hd_sriov_vf_config *vc, bool have_qos, bool do_persist, bool json,
                             unsigned flags, int *ret_rc) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _hd_cleanup_result_ hd_result *res = NULL, *pres = NULL;
        bool dry_run = flags & HD_SRIOV_DRY_RUN, sysroot_persist = do_persist && arg_sysroot;
        hd_device *d;
        int route, rc = EXIT_FAILURE;

        /* a sysroot has no netlink: --persist plans (a dry run) first;
         * SriovPersistVf's configuration directory decides for both */
        if (do_persist)
                bus_then("sriov vf --persist");
        route = vf_call("sriov vf", pf, vc, have_qos, dry_run || sysroot_persist ? 2 : 0, &res, &rc);
        if (route != BUS_RESULT) {
                *ret_rc = rc;
                return route;
        }
        *ret_rc = EXIT_FAILURE;
        /* the names the lines print: a read */
        if (open_list(&ctx, &list) < 0 || lookup(list, pf, &d) < 0)
                return BUS_DONE;
        if (do_persist && hd_device_get_cap_type(d) == HD_CAP_NET) {
                hd_device *p = hd_device_get_parent(d);
                if (p && hd_device_get_cap_type(p) == HD_CAP_PCI)
                        d = p;
        }
        if (sysroot_persist) {
                if (dry_run) {
                        printf("%s: would persist (not applied: no netlink with --sysroot)\n", hd_device_get_name(d));
                        *ret_rc = EXIT_SUCCESS;
                        return BUS_DONE;
                }
                printf("%s: VF %u not applied (no netlink with --sysroot)\n", hd_device_get_name(d), vc->index);
        } else if (arg_sysroot && !json) {
                /* the plan's line carries the note why it was not compared
                 * with the VF, which the result JSON has no key for: the
                 * same plan (a dry run, a read) gives it here */
                _hd_cleanup_result_ hd_result *plan = NULL;
                const hd_result_step *st;
                (void) hd_sriov_vf_configure(list, d, vc, HD_SRIOV_DRY_RUN, &plan);
                st = hd_result_get_step(plan ?: res, 0);
                printf("%s: %s  %s (%s)\n", hd_device_get_name(d), strempty(hd_result_step_get_action(st)),
                       hd_outcome_to_string(HD_RESULT_SRIOV, hd_result_step_get_outcome(st)),
                       strempty(hd_result_step_get_error_text(st)));
                *ret_rc = EXIT_SUCCESS;
                return BUS_DONE;
        } else {
                *ret_rc = sriov_report("sriov vf", pf, res, json);
                if (*ret_rc != EXIT_SUCCESS || !do_persist)
                        return BUS_DONE;
                if (dry_run) {
                        printf("%s: would persist\n", hd_device_get_name(d));
                        return BUS_DONE;
                }
                if (hd_device_get_cap_type(d) != HD_CAP_PCI) {
                        errorf("sriov vf: not persisted: %s is not a PCI physical function", hd_device_get_name(d));
                        *ret_rc = EXIT_FAILURE;
                        return BUS_DONE;
                }
        }
        route = vf_call("sriov vf --persist", pf, vc, have_qos, 0, &pres, &rc);
        *ret_rc = route == BUS_RESULT ? persisted(d, pres) : rc;
        return BUS_DONE;
}

static int sriov_vf(int argc _unused_, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        hd_sriov_vf_config vc = arg_vf;
        _hd_cleanup_result_ hd_result *res = NULL;
        bool json = arg_json, do_persist = arg_persist, have_qos = arg_have_qos, sysroot_persist;
        unsigned flags = arg_dry_run ? HD_SRIOV_DRY_RUN : 0;
        hd_device *d;
        int r, rc, route;

        if (parse_uint("sriov vf", "INDEX", argv[2], 65535, &vc.index) < 0)
                return EXIT_USAGE;
        if (have_qos && !vc.set_vlan) {
                errorf("sriov vf: --qos needs --vlan");
                return EXIT_USAGE;
        }
        if (!vc.set_mac && !vc.set_vlan && vc.trust < 0 && vc.spoofchk < 0) {
                errorf("sriov vf: nothing to set (--mac, --vlan, --trust or --spoofchk)");
                return EXIT_USAGE;
        }
        route = vf_through_daemon(argv[1], &vc, have_qos, do_persist, json, flags, &rc);
        if (route != BUS_DIRECT)
                return rc;
        if (open_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        if (lookup(list, argv[1], &d) < 0)
                return EXIT_FAILURE;
        if (do_persist && hd_device_get_cap_type(d) == HD_CAP_NET) {
                hd_device *p = hd_device_get_parent(d);
                if (p && hd_device_get_cap_type(p) == HD_CAP_PCI)
                        d = p; /* persisted state is keyed by the PF's PCI address */
        }
        /* a sysroot has no netlink: --persist records the settings, checked
         * by the library's plan */
        sysroot_persist = do_persist && !hd_ctx_is_live(ctx);
        r = hd_sriov_vf_configure(list, d, &vc, flags | (sysroot_persist ? HD_SRIOV_DRY_RUN : 0), &res);
        if (r < 0) {
                if (hd_ctx_get_error(ctx))
                        errorf("sriov vf: %s", hd_ctx_get_error(ctx));
                else
                        errorf("sriov vf: %s: %s", hd_device_get_name(d), strerror(-r));
                return EXIT_FAILURE;
        }
        if (sysroot_persist) {
                if (flags & HD_SRIOV_DRY_RUN) {
                        printf("%s: would persist (not applied: no netlink with --sysroot)\n", hd_device_get_name(d));
                        return EXIT_SUCCESS;
                }
                printf("%s: VF %u not applied (no netlink with --sysroot)\n", hd_device_get_name(d), vc.index);
                return persist(ctx, list, d, "sriov vf", NULL, &vc);
        }
        if (!hd_ctx_is_live(ctx) && !json) {
                /* the plan of a dry run, which could not be compared with the VF */
                const hd_result_step *st = hd_result_get_step(res, 0);
                printf("%s: %s  %s (%s)\n", hd_device_get_name(d), strempty(hd_result_step_get_action(st)),
                       hd_outcome_to_string(HD_RESULT_SRIOV, hd_result_step_get_outcome(st)),
                       strempty(hd_result_step_get_error_text(st)));
                return EXIT_SUCCESS;
        }
        rc = sriov_report("sriov vf", argv[1], res, json); /* as the user named it */
        if (rc == EXIT_SUCCESS && do_persist) {
                if (flags & HD_SRIOV_DRY_RUN)
                        printf("%s: would persist\n", hd_device_get_name(d));
                else if (hd_device_get_cap_type(d) != HD_CAP_PCI) {
                        errorf("sriov vf: not persisted: %s is not a PCI physical function", hd_device_get_name(d));
                        rc = EXIT_FAILURE;
                } else
                        rc = persist(ctx, list, d, "sriov vf", NULL, &vc);
        }
        return rc;
}

/* ---- verbs ---- */

static const struct verb sriov_subs[] = {
        { .name = "list", .fn = sriov_list, .flags = VERB_JSON },
        { .name = "set", .fn = sriov_set, .min_args = 1, .max_args = 1,
          .flags = VERB_JSON | VERB_DRY_RUN | VERB_FORCE, .shortopts = "N:d:a:p", .options = sriov_set_options,
          .option = sriov_option, .expect = "expected exactly one physical function" },
        { .name = "vf", .fn = sriov_vf, .min_args = 2, .max_args = 2, .flags = VERB_JSON | VERB_DRY_RUN,
          .shortopts = "m:v:Q:t:s:p", .options = sriov_vf_options, .option = sriov_option,
          .expect = "expected a physical function and a VF index" },
        {}
};

/* The exit status of an apply's verdict (hd_apply_result_get_verdict) */
static int verdict_exit(int verdict) {
        return verdict == HD_APPLY_OK ? EXIT_SUCCESS : verdict == HD_APPLY_REFUSED ? EXIT_REFUSED : EXIT_FAILURE;
}

static void print_messages(char **msgs) {
        for (char **m = msgs; m && *m; m++)
                errorf("%s", *m);
}

int apply_reply_print(const char *verb, bool json, bool messages_first, int rc, const char *doc, const char *text,
                      char **msgs, const struct bus_commands *log) {
        /* the library's warnings came while it ran: first */
        for (size_t i = 0; i < log->n; i++)
                log_line(log->status[i], log->command[i]);
        if (messages_first)
                print_messages(msgs);
        if (json) {
                json_object *o = json_tokener_parse(doc);
                if (!o) {
                        errorf("%s: hostdevd's reply cannot be read: its document is not JSON", verb);
                        return EXIT_FAILURE;
                }
                print_json(o);
                json_object_put(o);
        } else
                print_text_lines(text, "");
        if (!messages_first)
                print_messages(msgs);
        return rc;
}

static int verb_apply(int argc _unused_, char **argv _unused_) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _cleanup_free_ char *text = NULL;
        hd_apply_result *res = NULL;
        unsigned flags = arg_dry_run ? HD_SRIOV_DRY_RUN : 0;
        json_object *doc = NULL;
        char **msgs = NULL;
        bool json = arg_json;
        int r, rc;

        /* through hostdevd: its reply is what this run prints below (the
         * document, the lines, the sentences: the library's) */
        {
                _cleanup_free_ char *jdoc = NULL, *jtext = NULL;
                _cleanup_(bus_commands_done) struct bus_commands log = {};
                char **jmsgs = NULL;
                /* in the daemon when its directories are this run's (tools/bus.c) */
                int route = bus_call("apply", NULL, &rc, "t", (uint64_t) (arg_dry_run ? 2 : 0), &jdoc, &jtext, &jmsgs,
                                     &log);
                if (route == BUS_DONE)
                        return rc;
                if (route == BUS_REPLY) {
                        rc = apply_reply_print("apply", json, true, rc, jdoc, jtext, jmsgs, &log);
                        bus_strv_free(jmsgs);
                        return rc;
                }
        }
        if (open_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        /* the order (SR-IOV, then mdevs) is the library's: hd_apply */
        r = hd_apply(list, flags, &res);
        if (r < 0) {
                if (hd_ctx_get_error(ctx))
                        errorf("%s", hd_ctx_get_error(ctx));
                else
                        errorf("apply: %s", strerror(-r));
                return EXIT_FAILURE;
        }
        /* the document, the lines and the sentences on stderr are the
         * library's (hostdevd's Apply answers them too) */
        r = hd_apply_result_format_messages(res, &msgs);
        if (r >= 0 && res->sriov_error >= 0)
                r = json ? hd_apply_result_to_json(res, &doc) : hd_apply_result_format_text(res, &text);
        if (r < 0) {
                errorf("out of memory");
                hd_apply_result_free(res);
                bus_strv_free(msgs);
                return EXIT_FAILURE;
        }
        rc = verdict_exit(hd_apply_result_get_verdict(res));
        if (res->sriov_error < 0)
                print_messages(msgs);   /* nothing was attempted */
        else if (json) {
                print_messages(msgs);
                print_json(doc);
                json_object_put(doc);
        } else {
                fputs(text, stdout);
                print_messages(msgs);
        }
        hd_apply_result_free(res);
        bus_strv_free(msgs);
        return rc;
}

const struct verb sriov_verbs[] = {
        { .name = "sriov", .subs = sriov_subs,
          .args = "list [--json] | set PF --numvfs N [--driver vfio|stub|host] [--autoprobe on|off] [--dry-run] [--force] "
            "[--persist] [--json] | vf PF INDEX [--mac M] [--vlan V [--qos Q]] [--trust on|off] [--spoofchk on|off] [--dry-run] "
            "[--persist] [--json]",
          .summary = "SR-IOV: list physical functions and their VFs, change the VF count, configure VFs.",
          .help = "sriov list         every PF: totalvfs, numvfs, VF addresses, drivers, netdevs and,\n"
            "                   on the live host, per-VF MAC/VLAN/spoofchk/trust/link state\n"
            "sriov set PF --numvfs N\n"
            "                   change the VF count (through 0, as the kernel requires).\n"
            "  --driver vfio|stub  bind the VFs to vfio-pci/pci-stub (autoprobe off first)\n"
            "  --driver host       leave the VFs to their host driver (autoprobe on)\n"
            "  --autoprobe on|off  sriov_drivers_autoprobe explicitly\n"
            "  --force             destroy VFs even when detached for a VM or in use\n"
            "                      (otherwise refused with exit status 2)\n"
            "sriov vf PF INDEX  set a VF's MAC, VLAN (+QoS), trust, spoof check through\n"
            "                   rtnetlink on the PF's interface (PF: PCI address or interface)\n"
            "--dry-run          show what would change; change nothing\n"
            "--json             the result as JSON (docs/json.md)\n"
            "--persist          also record the wanted state in CONFIG_DIR/sriov/<PF>.json\n"
            "                   for 'hostdevctl apply' (CONFIG_DIR: $HOSTDEV_CONFIG_DIR, else\n"
            "                   SYSROOT/etc/hostdev with --sysroot, else /etc/hostdev)\n" },
        { .name = "apply", .fn = verb_apply, .flags = VERB_JSON | VERB_DRY_RUN,
          .args = "[--dry-run] [--json]",
          .summary = "Re-create the persisted state (SR-IOV VF counts, drivers, VF settings; autostart mdevs); run at boot.",
          .help = "Idempotent: a second run reports 'nothing changed'. A PF whose vendor:device (or\n"
            "recorded serial number) differs from its config is skipped with a warning.\n" },
        {}
};
