/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hd_domain_watch (domain/libvirt.c) on libvirt's test:///default driver,
 * which every connection of one process shares: a second connection of
 * this test defines, starts, stops and undefines a domain holding a PCI
 * <hostdev>, and the watch's fd must become readable each time while
 * hd_domain_usage tells the new state.
 *   test-domain-watch SYSROOT      (the 'full' fixture)
 * Without libvirt's client library (hidden by tests/test-libvirt.sh) it
 * checks the -EOPNOTSUPP answer and skips the rest.
 */
#include <dlfcn.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#include "tap.h"
#include "util/internal.h"

#define URI "test:///default"
#define GPU "0000:01:00.0"
#define DOM_XML                                                                                              \
        "<domain type='test'><name>watch-vm</name><memory>65536</memory><os><type>hvm</type></os><devices>" \
        "<hostdev mode='subsystem' type='pci' managed='no'><source>"                                         \
        "<address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source></hostdev>"                \
        "</devices></domain>"
#define DEV_XML                                                                                              \
        "<hostdev mode='subsystem' type='pci' managed='no'><source>"                                         \
        "<address domain='0x0000' bus='0x05' slot='0x00' function='0x0'/></source></hostdev>"

/* this test's own libvirt calls, loaded as the library loads them */
#define SYMS(X) X(virConnectOpen) X(virConnectClose) X(virDomainDefineXML) X(virDomainCreate) X(virDomainDestroy) \
        X(virDomainUndefine) X(virDomainFree) X(virDomainAttachDeviceFlags) X(virDomainDetachDeviceFlags)     \
        X(virGetLastError)
#define DECL(f) static typeof(f) *p_##f;
SYMS(DECL)

static void quiet(void *userdata, int level, const char *file, int line, const char *func, const char *format,
                  va_list args) {
        fprintf(stderr, "# ");
        vfprintf(stderr, format, args);
        fputc('\n', stderr);
}

static void ctx_freep(hd_ctx **c) { hd_ctx_unref(*c); }
static void list_freep(hd_nodedev_list **l) { hd_nodedev_list_unref(*l); }
static void watch_freep(hd_domain_watch **w) { hd_domain_watch_free(*w); }

static const char *lv_error(void) {
        virErrorPtr e = p_virGetLastError();
        return e && e->message ? e->message : "?";
}

/* whether the watch's fd became readable within 5 s, and how many
 * signals it had (acknowledged) */
static int wait_signal(hd_domain_watch *w) {
        struct pollfd p = { .fd = hd_domain_watch_get_fd(w), .events = POLLIN };
        if (poll(&p, 1, 5000) != 1)
                return 0;
        return hd_domain_watch_ack(w);
}

/* nothing more within 300 ms */
static bool quiet_fd(hd_domain_watch *w) {
        struct pollfd p = { .fd = hd_domain_watch_get_fd(w), .events = POLLIN };
        return poll(&p, 1, 300) == 0;
}

/* "watch-vm:running|defined" of @dev on a fresh usage, or "" */
static void users(hd_ctx *ctx, hd_nodedev_list *list, const char *dev, char *buf, size_t size) {
        hd_domain_usage *u = NULL;
        _cleanup_free_ const hd_domain_use **uses = NULL;
        hd_device *d;
        size_t n = 0, off = 0;

        buf[0] = 0;
        if (hd_domain_usage_new(ctx, list, URI, 0, &u) < 0 || hd_nodedev_list_lookup(list, dev, &d) < 0 ||
            hd_domain_usage_find(u, d, &uses, &n) < 0) {
                snprintf(buf, size, "(error: %s)", strempty(hd_ctx_get_error(ctx)));
                hd_domain_usage_free(u);
                return;
        }
        for (size_t i = 0; i < n; i++)
                off += (size_t) snprintf(buf + off, size - off, "%s%s:%s", i ? "," : "", uses[i]->domain,
                                         uses[i]->running ? "running" : "defined");
        hd_domain_usage_free(u);
}

int main(int argc, char **argv) {
        _cleanup_(ctx_freep) hd_ctx *ctx = NULL;
        _cleanup_(list_freep) hd_nodedev_list *list = NULL;
        _cleanup_(watch_freep) hd_domain_watch *w = NULL, *w2 = NULL;
        hd_domain_watch *sentinel = (hd_domain_watch *) 0x1;
        virConnectPtr conn = NULL;
        virDomainPtr dom = NULL;
        char buf[256];
        void *dl;
        int r, n;

        if (argc != 2) {
                fprintf(stderr, "usage: test-domain-watch SYSROOT\n");
                return 64;
        }
        if (hd_ctx_new(argv[1], &ctx) < 0 || hd_nodedev_list_new(ctx, &list) < 0) {
                fprintf(stderr, "cannot open %s\n", argv[1]);
                return 1;
        }
        hd_ctx_set_log_fn(ctx, quiet, NULL);

        /* whether libvirt is followed at all: as hd_domain_usage_new */
        r = hd_domain_watch_new(ctx, NULL, &sentinel);
        CHECK(r == -ENOENT && sentinel == (hd_domain_watch *) 0x1 && hd_ctx_get_error(ctx) &&
              strstr(hd_ctx_get_error(ctx), "sysroot"), "a sysroot without a URI: no watch, -ENOENT (%s)",
              strempty(hd_ctx_get_error(ctx)));
        r = hd_domain_watch_new(ctx, "none", &sentinel);
        CHECK(r == -ENOENT && sentinel == (hd_domain_watch *) 0x1, "URI none: no watch, -ENOENT (%d)", r);
        CHECK(hd_domain_watch_new(NULL, URI, &sentinel) == -EINVAL && hd_domain_watch_get_fd(NULL) == -EINVAL &&
              hd_domain_watch_ack(NULL) == -EINVAL && !hd_domain_watch_free(NULL), "NULL arguments: -EINVAL");

        dl = dlopen("libvirt.so.0", RTLD_NOW | RTLD_LOCAL);
        if (!dl) {
                r = hd_domain_watch_new(ctx, URI, &sentinel);
                CHECK(r == -EOPNOTSUPP && sentinel == (hd_domain_watch *) 0x1 && hd_ctx_get_error(ctx) &&
                      strstr(hd_ctx_get_error(ctx), "is not installed"),
                      "without libvirt's client library: -EOPNOTSUPP (%s)", strempty(hd_ctx_get_error(ctx)));
                CHECK(true, "# SKIP libvirt's domain events: libvirt.so.0 cannot be loaded (%s)", dlerror());
                return tap_finish();
        }
#define LOAD(f) p_##f = (typeof(f) *) dlsym(dl, #f);
        SYMS(LOAD)
#undef LOAD

        /* an unreachable URI: a watch all the same, retrying in the background */
        r = hd_domain_watch_new(ctx, "test:///nonexistent/node.xml", &w);
        CHECK(r == 0 && w && hd_domain_watch_get_fd(w) >= 0 && hd_domain_watch_ack(w) == 0,
              "an unreachable URI: a watch that retries (%d)", r);
        usleep(1200 * 1000);    /* the first retry is due after 1 s */
        CHECK(hd_domain_watch_ack(w) == 0, "an unreachable URI: no signal while it stays unreachable");
        w = hd_domain_watch_free(w);
        CHECK(!w, "freed while retrying");

        r = hd_domain_watch_new(ctx, URI, &w);
        CHECK(r == 0 && w && hd_domain_watch_get_fd(w) >= 0, "test:///default: a watch (%d, %s)", r,
              strempty(hd_ctx_get_error(ctx)));
        if (!w)
                return tap_finish();
        CHECK(hd_domain_watch_ack(w) == 0, "nothing to drain at first");
        CHECK(hd_domain_watch_new(ctx, URI, &w2) == 0, "a second watch of the same process");

        conn = p_virConnectOpen(URI);
        CHECK(conn != NULL, "a second connection to " URI " (%s)", conn ? "" : lv_error());
        if (!conn)
                return tap_finish();

        dom = p_virDomainDefineXML(conn, DOM_XML);
        CHECK(dom != NULL, "define watch-vm holding " GPU " (%s)", dom ? "" : lv_error());
        if (!dom) {
                p_virConnectClose(conn);
                return tap_finish();
        }
        n = wait_signal(w);
        CHECK(n > 0, "defined: the fd became readable (%d)", n);
        n = wait_signal(w2);
        CHECK(n > 0, "defined: the second watch's fd too (%d)", n);
        CHECK(quiet_fd(w) && hd_domain_watch_ack(w) == 0, "drained: not readable, 0 to acknowledge");
        users(ctx, list, GPU, buf, sizeof(buf));
        CHECK(streq(buf, "watch-vm:defined"), "usage after define: '%s'", buf);

        r = p_virDomainCreate(dom);
        CHECK(r == 0, "start watch-vm (%s)", r == 0 ? "" : lv_error());
        n = wait_signal(w);
        CHECK(n > 0, "started: the fd became readable (%d)", n);
        users(ctx, list, GPU, buf, sizeof(buf));
        CHECK(streq(buf, "watch-vm:running"), "usage after start: '%s'", buf);
        {
                hd_domain_usage *u = NULL;
                char *reason = NULL;
                r = hd_domain_usage_new(ctx, list, URI, 0, &u) < 0 ? -1 : hd_domain_usage_check(u, ctx, "pci", GPU, &reason);
                CHECK(r == 1 && reason && strstr(reason, "running domain 'watch-vm'"), "in use by watch-vm (%d, %s)",
                      r, strempty(reason));
                free(reason);
                hd_domain_usage_free(u);
        }

        /* a device attached to the running domain, and detached */
        r = p_virDomainAttachDeviceFlags(dom, DEV_XML, VIR_DOMAIN_AFFECT_LIVE);
        if (r < 0) {
                CHECK(true, "# SKIP attach to a running domain: the test driver refuses (%s)", lv_error());
        } else {
                n = wait_signal(w);
                CHECK(n > 0, "device attached: the fd became readable (%d)", n);
                users(ctx, list, "0000:05:00.0", buf, sizeof(buf));
                CHECK(streq(buf, "watch-vm:running"), "usage after attach: '%s'", buf);
                r = p_virDomainDetachDeviceFlags(dom, DEV_XML, VIR_DOMAIN_AFFECT_LIVE);
                CHECK(r == 0, "detach (%s)", r == 0 ? "" : lv_error());
                n = wait_signal(w);
                CHECK(n > 0, "device detached: the fd became readable (%d)", n);
                users(ctx, list, "0000:05:00.0", buf, sizeof(buf));
                CHECK(streq(buf, ""), "usage after detach: '%s'", buf);
        }

        r = p_virDomainDestroy(dom);
        CHECK(r == 0, "stop watch-vm (%s)", r == 0 ? "" : lv_error());
        n = wait_signal(w);
        CHECK(n > 0, "stopped: the fd became readable (%d)", n);
        users(ctx, list, GPU, buf, sizeof(buf));
        CHECK(streq(buf, "watch-vm:defined"), "usage after stop: '%s'", buf);

        /* the loop keeps serving the other watch without the first */
        w = hd_domain_watch_free(w);
        (void) hd_domain_watch_ack(w2);
        r = p_virDomainUndefine(dom);
        CHECK(r == 0, "undefine watch-vm (%s)", r == 0 ? "" : lv_error());
        n = wait_signal(w2);
        CHECK(n > 0, "undefined: the remaining watch's fd became readable (%d)", n);
        users(ctx, list, GPU, buf, sizeof(buf));
        CHECK(streq(buf, ""), "usage after undefine: '%s'", buf);
        p_virDomainFree(dom);
        dom = NULL;

        /* the last watch freed ends the thread; a new one starts another */
        w2 = hd_domain_watch_free(w2);
        r = hd_domain_watch_new(ctx, URI, &w);
        CHECK(r == 0 && w, "a watch after the last was freed (%d)", r);
        dom = w ? p_virDomainDefineXML(conn, DOM_XML) : NULL;
        n = dom ? wait_signal(w) : 0;
        CHECK(n > 0, "its events arrive (%d)", n);
        if (dom) {
                (void) p_virDomainUndefine(dom);
                p_virDomainFree(dom);
        }
        p_virConnectClose(conn);
        return tap_finish();
}
