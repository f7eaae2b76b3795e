/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hostdevctl domain verbs: hostdev-xml. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostdevctl.h"

/* ---- hostdev-xml ---- */

static const struct option hostdev_xml_options[] = {
        { "managed", no_argument, NULL, 'm' },
        { "unmanaged", no_argument, NULL, 'u' },
        { "by-address", no_argument, NULL, 'a' },
        { "rom", required_argument, NULL, 'r' },
        {}
};
static unsigned arg_flags;
static const char *arg_rom;

static int hostdev_xml_option(const char *verb _unused_, int c, const char *arg) {
        switch (c) {
        case 'm': arg_flags |= HD_HOSTDEV_XML_MANAGED; return 0;
        case 'u': arg_flags |= HD_HOSTDEV_XML_UNMANAGED; return 0;
        case 'a': arg_flags |= HD_HOSTDEV_XML_BY_ADDRESS; return 0;
        case 'r': arg_rom = arg; return 0;
        }
        return -EINVAL;
}

static int verb_hostdev_xml(int argc _unused_, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _cleanup_free_ char *xml = NULL, *rom = NULL;
        unsigned flags = arg_flags;
        hd_device *d;
        int r;

        if (arg_rom) {
                rom = realpath(arg_rom, NULL);
                if (!rom) {
                        errorf("hostdev-xml: --rom '%s': %s", arg_rom, strerror(errno));
                        return EXIT_FAILURE;
                }
        }
        if ((flags & HD_HOSTDEV_XML_MANAGED) && (flags & HD_HOSTDEV_XML_UNMANAGED)) {
                errorf("hostdev-xml: --managed and --unmanaged exclude each other");
                return EXIT_USAGE;
        }
        if (open_lookup_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        if (lookup(list, argv[1], &d) < 0)
                return EXIT_FAILURE;
        if (rom && hd_device_get_cap_type(d) != HD_CAP_PCI) {
                errorf("hostdev-xml: --rom applies to PCI devices only, not to %s", hd_device_get_name(d));
                return EXIT_FAILURE;
        }
        r = hd_device_format_hostdev_xml_rom(d, flags, rom, &xml);
        if (r < 0) {
                errorf("%s", hd_ctx_get_error(ctx) ?: strerror(-r));
                return EXIT_FAILURE;
        }
        fputs(xml, stdout);
        return EXIT_SUCCESS;
}

const struct verb domain_verbs[] = {
        { .name = "hostdev-xml", .fn = verb_hostdev_xml, .min_args = 1, .max_args = 1, .shortopts = "",
          .options = hostdev_xml_options, .option = hostdev_xml_option, .expect = "expected exactly one device name",
          .args = "NAME [--managed|--unmanaged] [--by-address] [--rom FILE]",
          .summary = "Print the libvirt domain XML that passes a device to a guest.",
          .help = "PCI device: <hostdev type='pci'>; SR-IOV VF with a network interface (or that\n"
            "interface): <interface type='hostdev'> with its MAC; USB device: <hostdev\n"
            "type='usb'>; SCSI device: <hostdev type='scsi'>; mdev: <hostdev type='mdev'>.\n"
            "Options:\n"
            "  --managed      managed='yes' (the default): libvirt detaches the device\n"
            "  --unmanaged    managed='no'\n"
            "  --by-address   USB: also name the device by <address bus= device=>\n"
            "  --rom FILE     PCI: <rom file=.../> with FILE's absolute path (a VBIOS dumped\n"
            "                 with 'hostdevctl gpu rom DEV FILE')\n" },
        {}
};
