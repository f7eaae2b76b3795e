/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test driver for hd_device_format_hostdev_xml():
 *   test-hostdev-xml --sysroot DIR NAME [--managed] [--unmanaged] [--by-address]
 * prints the domain device XML of NAME; on failure one line on stderr,
 * "test-hostdev-xml: NAME: <strerror> (<errno name>)", and exit status 1.
 * Usage errors exit with 64.
 */
#include <getopt.h>
#include <stdio.h>

#include "util/internal.h"

static const char *errno_name(int e) {
        switch (e) {
        case EINVAL: return "EINVAL";
        case EOPNOTSUPP: return "EOPNOTSUPP";
        case ENODEV: return "ENODEV";
        case ENODATA: return "ENODATA";
        case ENOENT: return "ENOENT";
        case ENOMEM: return "ENOMEM";
        case ENOTUNIQ: return "ENOTUNIQ";
        case EPERM: return "EPERM";
        default: return "?";
        }
}

static void log_stderr(void *userdata, int level, const char *file, int line, const char *func,
                       const char *format, va_list args) {
        fprintf(stderr, "# ");
        vfprintf(stderr, format, args);
        fputc('\n', stderr);
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "sysroot", required_argument, NULL, 's' },
                { "managed", no_argument, NULL, 'm' },
                { "unmanaged", no_argument, NULL, 'u' },
                { "by-address", no_argument, NULL, 'a' },
                { "verbose", no_argument, NULL, 'v' },
                {}
        };
        const char *sysroot = NULL, *name;
        hd_ctx *ctx = NULL;
        hd_nodedev_list *list = NULL;
        hd_device *d;
        unsigned flags = 0;
        bool verbose = false;
        char *xml = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 's': sysroot = optarg; break;
                case 'm': flags |= HD_HOSTDEV_XML_MANAGED; break;
                case 'u': flags |= HD_HOSTDEV_XML_UNMANAGED; break;
                case 'a': flags |= HD_HOSTDEV_XML_BY_ADDRESS; break;
                case 'v': verbose = true; break;
                default: return 64;
                }
        }
        if (!sysroot || optind != argc - 1) {
                fprintf(stderr, "usage: %s --sysroot DIR NAME [--managed|--unmanaged] [--by-address]\n",
                        argv[0]);
                return 64;
        }
        name = argv[optind];

        r = hd_ctx_new(sysroot, &ctx);
        if (r < 0)
                goto fail;
        if (verbose) {
                hd_ctx_set_log_fn(ctx, log_stderr, NULL);
                hd_ctx_set_log_level(ctx, HD_LOG_DEBUG);
        } else
                hd_ctx_set_log_level(ctx, HD_LOG_ERR);
        r = hd_nodedev_list_new(ctx, &list);
        if (r < 0)
                goto fail;
        r = hd_nodedev_list_lookup(list, name, &d);
        if (r < 0)
                goto fail;
        r = hd_device_format_hostdev_xml(d, flags, &xml);
        if (r < 0)
                goto fail;
        fputs(xml, stdout);
        free(xml);
        hd_nodedev_list_unref(list);
        hd_ctx_unref(ctx);
        return 0;

fail:
        fprintf(stderr, "test-hostdev-xml: %s: %s (%s)\n", name, strerror(-r), errno_name(-r));
        hd_nodedev_list_unref(list);
        hd_ctx_unref(ctx);
        return 1;
}
