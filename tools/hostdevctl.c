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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostdevctl.h"

/* Every verb table; a module's tools/cmd-*.c adds its own here. */
static const struct verb *const verb_tables[] = {
        nodedev_verbs,
        iommu_verbs,
        vfio_verbs,
        domain_verbs,
        sriov_verbs,
        mdev_verbs,
        gpu_verbs,
        libvirt_verbs,
        boot_verbs,
};

static const struct verb *find_verb(const char *name) {
        for (size_t t = 0; t < ELEMENTSOF(verb_tables); t++)
                for (const struct verb *v = verb_tables[t]; v->name; v++)
                        if (streq(v->name, name))
                                return v;
        return NULL;
}

static void unknown_verb(const char *word) {
        const char *names[128];
        size_t n = 0;
        for (size_t t = 0; t < ELEMENTSOF(verb_tables); t++)
                for (const struct verb *v = verb_tables[t]; v->name && n < ELEMENTSOF(names); v++)
                        names[n++] = v->name;
        unknown_word("verb", word, names, n, "hostdevctl --help");
}

static void usage(FILE *f) {
        fprintf(f,
                "Usage: hostdevctl [OPTIONS] VERB [ARGS...]\n\n"
                "Host-device management for Linux virtualization hosts.\n\n"
                "Options:\n"
                "  --sysroot DIR   read a captured tree (DIR/sys, DIR/run/udev, DIR/dev) instead of the host\n"
                "  --state-dir DIR journal and lock directory (default /var/lib/hostdev)\n"
                "  --connect URI   libvirt URI to ask which domains use devices (default: libvirt's\n"
                "                  default on the live host; not asked for a --sysroot without it)\n"
                "  --direct        run a host-changing verb here, not through hostdevd (the daemon\n"
                "                  runs it when it serves this root and state directory)\n"
                "  -v, --verbose   more log output (repeat for debug; says which way a verb ran)\n"
                "  -q, --quiet     errors only\n"
                "  -h, --help      this help; 'hostdevctl VERB --help' for a verb\n"
                "  --version       print the version\n\n"
                "Verbs:\n");
        for (size_t t = 0; t < ELEMENTSOF(verb_tables); t++)
                for (const struct verb *v = verb_tables[t]; v->name; v++)
                        fprintf(f, "  %-18s %s\n", v->name, v->summary);
        fprintf(f, "\nExit status: 0 success, 1 failure, 2 refused for host safety, 64 usage error.\n");
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "sysroot", required_argument, NULL, 's' },
                { "state-dir", required_argument, NULL, 'S' },
                { "connect", required_argument, NULL, 'c' },
                { "direct", no_argument, NULL, 'D' },
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
                case 'S': arg_state_dir = optarg; break;
                case 'c': arg_connect = optarg; break;
                case 'D': arg_direct = true; break;
                case 'v': arg_log_level = arg_log_level >= HD_LOG_INFO ? HD_LOG_DEBUG : HD_LOG_INFO; break;
                case 'q': arg_log_level = HD_LOG_ERR; break;
                case 'h': usage(stdout); return EXIT_SUCCESS;
                case 'V': puts("hostdevctl " HOSTDEV_VERSION); return EXIT_SUCCESS;
                default:
                        if (argv[optind - 1][0] == '-' && optind < argc && find_verb(argv[optind]))
                                errorf("unrecognized option '%s': options of a verb go after it (hostdevctl %s %s)",
                                       argv[optind - 1], argv[optind], argv[optind - 1]);
                        else
                                errorf("unrecognized option '%s' (see 'hostdevctl --help')", argv[optind - 1]);
                        return EXIT_USAGE;
                }
        }
        if (check_sysroot_option() < 0)
                return EXIT_USAGE;
        if (optind >= argc) {
                errorf("missing verb (see 'hostdevctl --help')");
                return EXIT_USAGE;
        }
        if (streq(argv[optind], "help")) {
                if (optind + 1 < argc) {
                        v = find_verb(argv[optind + 1]);
                        if (!v) {
                                unknown_verb(argv[optind + 1]);
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
                unknown_verb(argv[optind]);
                return EXIT_USAGE;
        }
        argc -= optind;
        argv += optind;
        /* --sysroot and --state-dir are no verb's options: say where they go,
         * whatever the verb (those without options included) */
        for (int i = 1; i < argc && !streq(argv[i], "--"); i++)
                if (startswith(argv[i], "--sysroot") || startswith(argv[i], "--state-dir")) {
                        optind = i + 1;
                        return bad_option(v->name, argv);
                }
        if (want_help(argc, argv)) {
                print_verb_help(v);
                return EXIT_SUCCESS;
        }
        /* a verb hostdevd runs: the daemon decides who may (polkit) */
        if (!bus_wanted(argc, argv) && check_privilege(argc, argv) < 0)
                return EXIT_FAILURE;
        return finish_output(dispatch(NULL, v, argc, argv));
}
