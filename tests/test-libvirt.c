/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The domain-usage API (domain/libvirt.c) on libvirt's test:/// driver:
 *   test-libvirt SYSROOT URI
 * SYSROOT is the 'full' fixture, URI test:///.../tests/data/libvirt/node.xml.
 */
#include <stdio.h>

#include "tap.h"
#include "util/internal.h"

static void quiet(void *userdata, int level, const char *file, int line, const char *func, const char *format,
                  va_list args) {
        fprintf(stderr, "# ");
        vfprintf(stderr, format, args);
        fputc('\n', stderr);
}

static void usage_freep(hd_domain_usage **u) { hd_domain_usage_free(*u); }
static void list_freep(hd_nodedev_list **l) { hd_nodedev_list_unref(*l); }
static void ctx_freep(hd_ctx **c) { hd_ctx_unref(*c); }

/* "dom:running|defined" of every user of NAME, comma separated */
static void users(hd_domain_usage *u, hd_nodedev_list *list, const char *name, char *buf, size_t size) {
        _cleanup_free_ const hd_domain_use **uses = NULL;
        hd_device *d;
        size_t n = 0, off = 0;

        buf[0] = 0;
        if (hd_nodedev_list_lookup(list, name, &d) < 0 || hd_domain_usage_find(u, d, &uses, &n) < 0) {
                snprintf(buf, size, "(error)");
                return;
        }
        for (size_t i = 0; i < n; i++)
                off += (size_t) snprintf(buf + off, size - off, "%s%s:%s", i ? "," : "", uses[i]->domain,
                                         uses[i]->running ? "running" : "defined");
}

int main(int argc, char **argv) {
        _cleanup_(ctx_freep) hd_ctx *ctx = NULL;
        _cleanup_(list_freep) hd_nodedev_list *list = NULL;
        _cleanup_(usage_freep) hd_domain_usage *u = NULL;
        hd_domain_usage *sentinel = (hd_domain_usage *) 0x1;
        char buf[512];
        char *reason = NULL;
        int r;

        if (argc != 3) {
                fprintf(stderr, "usage: test-libvirt SYSROOT URI\n");
                return 64;
        }
        if (hd_ctx_new(argv[1], &ctx) < 0 || hd_nodedev_list_new(ctx, &list) < 0) {
                fprintf(stderr, "cannot open %s\n", argv[1]);
                return 1;
        }
        hd_ctx_set_log_fn(ctx, quiet, NULL);

        r = hd_domain_usage_new(ctx, list, "test:///nonexistent/node.xml", 0, &sentinel);
        CHECK(r == -ECONNREFUSED && sentinel == (hd_domain_usage *) 0x1 && hd_ctx_get_error(ctx) &&
              startswith(hd_ctx_get_error(ctx), "libvirt (test:///nonexistent/node.xml) cannot be asked: ") &&
              strlen(hd_ctx_get_error(ctx)) > strlen("libvirt (test:///nonexistent/node.xml) cannot be asked: "),
              "an unreachable URI: -ECONNREFUSED, *ret untouched, libvirt's message (%s)",
              strempty(hd_ctx_get_error(ctx)));

        /* whether libvirt is asked at all */
        r = hd_domain_usage_new(ctx, list, NULL, 0, &sentinel);
        CHECK(r == -ENOENT && sentinel == (hd_domain_usage *) 0x1 && hd_ctx_get_error(ctx) &&
              strstr(hd_ctx_get_error(ctx), "sysroot"), "a sysroot without a URI: not asked, -ENOENT (%s)",
              strempty(hd_ctx_get_error(ctx)));
        r = hd_domain_usage_new(ctx, list, "none", 0, &sentinel);
        CHECK(r == -ENOENT && sentinel == (hd_domain_usage *) 0x1, "URI none: not asked, -ENOENT (%d)", r);
        {
                _cleanup_(ctx_freep) hd_ctx *other = NULL;
                CHECK(hd_ctx_new(argv[1], &other) == 0 &&
                      hd_domain_usage_new(other, list, argv[2], 0, &sentinel) == -EINVAL,
                      "a list of another context: -EINVAL");
        }
        /* without a list the usage enumerates the host itself */
        {
                _cleanup_(usage_freep) hd_domain_usage *own = NULL;
                r = hd_domain_usage_new(ctx, NULL, argv[2], 0, &own);
                CHECK(r == 0 && own && !hd_ctx_get_error(ctx), "no list: connects, no error left (%d)", r);
                if (own) {
                        users(own, list, "0000:02:10.0", buf, sizeof(buf));
                        CHECK(streq(buf, "pool-vm:running"), "no list: VF pools resolved all the same ('%s')", buf);
                }
        }

        r = hd_domain_usage_new(ctx, list, argv[2], 0, &u);
        CHECK(r == 0 && u, "test:/// connects (%d)", r);
        if (!u)
                return tap_finish();
        CHECK(streq(hd_domain_usage_get_uri(u), argv[2]), "the URI is libvirt's (%s)", hd_domain_usage_get_uri(u));

        static const struct { const char *dev, *want; } cases[] = {
                { "0000:01:00.0", "gpu-vm:running" },
                { "4b20d080-1b54-4048-85b3-a6a62d165c01", "gpu-vm:running" },
                { "0000:02:10.0", "pool-vm:running" },
                { "enp2s16", "pool-vm:running" },
                { "usb_1_1_2", "net-vm:running" },
                { "scsi_1_0_0_0", "idle-vm:defined" },
                { "0000:05:00.0", "idle-vm:defined" },
                { "0000:00:14.0", "" },
                { "usb_1_1_3", "" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                users(u, list, cases[i].dev, buf, sizeof(buf));
                CHECK(streq(buf, cases[i].want), "find %s: '%s'", cases[i].dev, buf);
        }
        users(u, list, "0000:02:10.2", buf, sizeof(buf));
        CHECK(streq(buf, "net-vm:running,pool-vm:running") || streq(buf, "pool-vm:running,net-vm:running"),
              "a VF both in a pool and assigned: '%s'", buf);

        r = hd_domain_usage_check(u, ctx, "pci", "0000:01:00.0", &reason);
        CHECK(r == 1 && reason && strstr(reason, "running domain 'gpu-vm'"), "check: running user (%d, %s)", r,
              strempty(reason));
        free(reason);
        reason = NULL;
        r = hd_domain_usage_check(u, ctx, "mdev", "4B20D080-1B54-4048-85B3-A6A62D165C01", &reason);
        CHECK(r == 1, "check: mdev UUIDs compare without case (%d)", r);
        free(reason);
        reason = NULL;
        r = hd_domain_usage_check(u, ctx, "pci", "0000:05:00.0", &reason);
        CHECK(r == 0 && !reason, "check: a defined-only user is not a refusal (%d)", r);
        r = hd_domain_usage_check(u, ctx, "pci", "0000:00:14.0", &reason);
        CHECK(r == 0 && !reason, "check: nobody (%d)", r);

        /* through the context, as vfio/ asks */
        hd_domain_usage_install(ctx, u, NULL);
        r = hd_ctx_check_in_use(ctx, "pci", "0000:02:10.0", true, &reason);
        CHECK(r == -EBUSY && reason && strstr(reason, "network 'vfpool' (VF pool)"),
              "ctx: a pool VF is busy even forced (%s)", strempty(reason));
        free(reason);
        reason = NULL;
        hd_domain_usage_install(ctx, NULL, "no daemon");
        r = hd_ctx_check_in_use(ctx, "pci", "0000:00:14.0", false, &reason);
        CHECK(r == -EBUSY && reason &&
              strstr(reason, "cannot tell whether a domain uses it (no daemon); --force to proceed"),
              "ctx: unknown refuses (%s)", strempty(reason));
        free(reason);
        reason = NULL;
        r = hd_ctx_check_in_use(ctx, "pci", "0000:00:14.0", true, &reason);
        CHECK(r == 0 && !reason, "ctx: unknown proceeds when forced (%d)", r);
        hd_ctx_set_in_use_fn(ctx, NULL, NULL);
        CHECK(hd_ctx_check_in_use(ctx, "pci", "0000:01:00.0", false, &reason) == 0 && !reason,
              "ctx: no function, no question");

        /* domain XML → unmanaged PCI hostdevs (the hook) */
        {
                static const char xml[] =
                        "<domain><devices>"
                        "<hostdev mode='subsystem' type='pci'><source><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source></hostdev>"
                        "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x08' slot='0x00' function='0x0'/></source></hostdev>"
                        "<hostdev mode='subsystem' type='pci' managed='no'><source><address bus='0x1' slot='0x2' function='0x3'/></source></hostdev>"
                        "<interface type='hostdev' managed='no'><source><address type='pci' domain='0x0000' bus='0x02' slot='0x10' function='0x2'/></source></interface>"
                        "<hostdev mode='subsystem' type='usb'><source><vendor id='0x1'/><product id='0x2'/></source></hostdev>"
                        "</devices></domain>";
                char **a = NULL;
                size_t n = 0;
                r = hd_domain_xml_pci_hostdevs(xml, true, &a, &n);
                CHECK(r == 0 && n == 3 && streq(a[0], "0000:01:00.0") && streq(a[1], "0000:01:02.3") &&
                      streq(a[2], "0000:02:10.2") && !a[3], "unmanaged PCI hostdevs of a domain XML (%zu)", n);
                hd_strv_free(a);
                a = NULL;
                r = hd_domain_xml_pci_hostdevs(xml, false, &a, &n);
                CHECK(r == 0 && n == 4, "all PCI hostdevs (%zu)", n);
                hd_strv_free(a);
                a = (char **) 0x1;
                CHECK(hd_domain_xml_pci_hostdevs("<domain", true, &a, &n) == -EBADMSG && a == (char **) 0x1,
                      "broken XML: -EBADMSG, *ret untouched");
        }

        /* attach on test:///: libvirt 9.0's test driver lacks it; the error comes back */
        r = hd_domain_attach_xml(u, "empty-vm", "<hostdev mode='subsystem' type='pci'/>", true, false);
        CHECK(r == -EIO && hd_ctx_get_error(ctx) && strstr(hd_ctx_get_error(ctx), "virDomainAttachDeviceFlags"),
              "attach: libvirt's error (%s)", strempty(hd_ctx_get_error(ctx)));
        r = hd_domain_attach_xml(u, "nope", "<x/>", true, false);
        CHECK(r == -ENOENT && hd_ctx_get_error(ctx) && strstr(hd_ctx_get_error(ctx), "no domain 'nope'"),
              "attach: unknown domain (%s)", strempty(hd_ctx_get_error(ctx)));
        CHECK(hd_domain_usage_reload(u) == 0, "reload");
        return tap_finish();
}
