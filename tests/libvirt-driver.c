/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libhostdev-libvirt-driver.so: a hand on libvirt's test:///default from
 * inside another process, loaded with LD_PRELOAD (tests/test-daemon-
 * domain-events.sh).  test:///default is one driver instance per process,
 * shared by its connections, so a domain a test script starts there is
 * seen only by that process's own connections: hostdevd's domain watch
 * (domain/libvirt.c, hd_domain_watch) among them.
 *
 *   HOSTDEV_TEST_LIBVIRT_FIFO=PATH  a thread reads commands, a line each,
 *                                   from the FIFO PATH and appends
 *                                   "ok N" or "error N: MESSAGE" (N counts
 *                                   the commands) to PATH.out:
 *       define FILE     virDomainDefineXML of FILE's XML
 *       start NAME      virDomainCreate
 *       destroy NAME    virDomainDestroy
 *       undefine NAME   virDomainUndefine
 *
 * Tests only: never installed.
 */
#include <dlfcn.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SYMS(X) X(virConnectOpen) X(virDomainDefineXML) X(virDomainLookupByName) X(virDomainCreate) \
        X(virDomainDestroy) X(virDomainUndefine) X(virDomainFree) X(virGetLastError)
#define DECL(f) static typeof(f) *p_##f;
SYMS(DECL)

static virConnectPtr conn;      /* kept: the driver instance lives while it is open */

static const char *lv_error(void) {
        virErrorPtr e = p_virGetLastError();
        return e && e->message ? e->message : "unknown libvirt error";
}

static int run(const char *cmd, const char *arg) {
        virDomainPtr dom;
        int r;

        if (strcmp(cmd, "define") == 0) {
                char xml[65536];
                FILE *f = fopen(arg, "re");
                size_t n = f ? fread(xml, 1, sizeof(xml) - 1, f) : 0;
                if (f)
                        fclose(f);
                xml[n] = 0;
                dom = p_virDomainDefineXML(conn, xml);
                if (dom)
                        p_virDomainFree(dom);
                return dom ? 0 : -1;
        }
        dom = p_virDomainLookupByName(conn, arg);
        if (!dom)
                return -1;
        if (strcmp(cmd, "start") == 0)
                r = p_virDomainCreate(dom);
        else if (strcmp(cmd, "destroy") == 0)
                r = p_virDomainDestroy(dom);
        else if (strcmp(cmd, "undefine") == 0)
                r = p_virDomainUndefine(dom);
        else
                r = -1;
        p_virDomainFree(dom);
        return r;
}

static void *serve(void *arg) {
        const char *fifo = arg;
        char out[4096], line[4096];
        unsigned n = 0;
        sigset_t all;
        FILE *in;

        /* the process's signals (hostdevd's SIGTERM) are not for this thread */
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, NULL);

        snprintf(out, sizeof(out), "%s.out", fifo);
        /* reopened after each writer: the script may write in several goes */
        while ((in = fopen(fifo, "re"))) {
                while (fgets(line, sizeof(line), in)) {
                        char *sp = strchr(line, ' '), *nl = strchr(line, '\n');
                        FILE *o;
                        int r = -1;
                        if (nl)
                                *nl = 0;
                        if (sp)
                                *sp++ = 0;
                        /* opened at the first command: the process has set
                         * up its own libvirt use by then */
                        if (!conn)
                                conn = p_virConnectOpen("test:///default");
                        if (conn && sp)
                                r = run(line, sp);
                        o = fopen(out, "ae");
                        if (!o)
                                continue;
                        if (r == 0)
                                fprintf(o, "ok %u\n", ++n);
                        else
                                fprintf(o, "error %u: %s\n", ++n, conn ? lv_error() : "no connection");
                        fclose(o);
                }
                fclose(in);
        }
        return NULL;
}

__attribute__((constructor)) static void start(void) {
        const char *fifo = getenv("HOSTDEV_TEST_LIBVIRT_FIFO");
        pthread_attr_t a;
        pthread_t t;
        void *dl;

        if (!fifo || !(dl = dlopen("libvirt.so.0", RTLD_NOW | RTLD_LOCAL)))
                return;
#define LOAD(f) p_##f = (typeof(f) *) dlsym(dl, #f);
        SYMS(LOAD)
#undef LOAD
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        (void) pthread_create(&t, &a, serve, (void *) fifo);
        pthread_attr_destroy(&a);
}
