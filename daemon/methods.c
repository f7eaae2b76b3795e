/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdevd's manager methods beyond the tree's reads and detach/reattach
 * (those are in hostdevd.c): Reset (nodedev-reset), GetHostdevXML
 * (hostdev-xml), SriovSetNumVfs (sriov set --numvfs), MdevCreate and
 * MdevRemove (mdev create, mdev remove), and the recovery of an interrupted transaction when the
 * daemon starts.  Each calls the library function the hostdevctl verb
 * calls and answers with the same rendering; failures are named errors
 * with the CLI's words.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostdev/listing.h"
#include "hostdev/mdev.h"
#include "hostdev/sriov.h"
#include "hostdevd.h"
#include "methods-sriov-mdev.h"

/* Reset's flags: Detach's force bit (the library's reset has no dry run) */
#define RESET_FORCE 4ULL
/* GetHostdevXML's flags: the library's HD_HOSTDEV_XML_* */
#define HOSTDEV_XML_FLAGS_ALL ((uint64_t) (HD_HOSTDEV_XML_MANAGED | HD_HOSTDEV_XML_UNMANAGED | HD_HOSTDEV_XML_BY_ADDRESS))

static const char *strempty_(const char *s) { return s ?: ""; }

/* ---- Reset(s name, t flags) -> s result: nodedev-reset ---- */

static int do_reset(struct daemon *d, sd_bus_message *m) {
        const char *name, *why;
        hd_result *res = NULL;
        char *msg = NULL;
        uint64_t flags;
        hd_device *dev;
        int r, st;

        r = sd_bus_message_read(m, "st", &name, &flags);
        if (r < 0)
                return r;
        flags &= ~FLAG_LOG_INFO;        /* the caller's -v: daemon/call-log.c */
        if (flags & ~RESET_FORCE)
                return sd_bus_reply_method_errorf(m, ERROR_INVALID, "nodedev-reset: unknown flags 0x%llx",
                                                  (unsigned long long) (flags & ~RESET_FORCE));
        r = prepare_write(d, m, name, &dev);
        if (r <= 0)
                return r;
        if (hd_device_get_cap_type(dev) != HD_CAP_PCI)
                return sd_bus_reply_method_errorf(m, ERROR_INVALID, "nodedev-reset: %s is not a PCI device",
                                                  hd_device_get_name(dev));
        r = hd_pci_reset(d->list, dev, flags & RESET_FORCE ? HD_VFIO_FORCE : 0, &res);
        if (r < 0)
                return sd_bus_reply_method_errorf(m, ERROR_FAILED, "nodedev-reset: %s: %s", hd_device_get_name(dev),
                                                  strerror(-r));
        st = hd_result_get_status(res);
        why = strempty_(hd_result_get_reason(res));
        if (st >= 0)
                r = reply_result(m, "nodedev-reset", res);
        else if ((st == -EBUSY ? asprintf(&msg, "nodedev-reset refused: %s (use --force to override)", why)
                               : asprintf(&msg, "nodedev-reset: %s", why)) < 0)
                r = -ENOMEM;
        else
                r = reply_result_error(m, st == -EBUSY ? ERROR_REFUSED : ERROR_FAILED, msg, res);
        free(msg);
        hd_result_unref(res);
        return r;
}

int method_reset(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.reset", do_reset);
}

/* ---- GetHostdevXML(s name, t flags) -> s xml: hostdev-xml ---- */

int method_get_hostdev_xml(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct daemon *d = userdata;
        const char *name;
        char *xml = NULL;
        uint64_t flags;
        hd_device *dev;
        int r;

        r = sd_bus_message_read(m, "st", &name, &flags);
        if (r < 0)
                return r;
        if (flags & ~HOSTDEV_XML_FLAGS_ALL)
                return sd_bus_reply_method_errorf(m, ERROR_INVALID, "hostdev-xml: unknown flags 0x%llx",
                                                  (unsigned long long) (flags & ~HOSTDEV_XML_FLAGS_ALL));
        if ((flags & HD_HOSTDEV_XML_MANAGED) && (flags & HD_HOSTDEV_XML_UNMANAGED))
                return sd_bus_reply_method_errorf(m, ERROR_INVALID,
                                                  "hostdev-xml: --managed and --unmanaged exclude each other");
        if (lookup(d, m, name, &dev) < 0)
                return 0;
        r = hd_device_format_hostdev_xml(dev, (unsigned) flags, &xml);
        if (r < 0)
                return sd_bus_reply_method_errorf(m, r == -EINVAL ? ERROR_INVALID : ERROR_FAILED, "%s",
                                                  hd_ctx_get_error(d->ctx) ?: strerror(-r));
        r = sd_bus_reply_method_return(m, "s", xml);
        free(xml);
        return r;
}

/* ---- SriovSetNumVfs(s pf, u numvfs, t flags) -> s result: sriov set ---- */

/* Detach's bits: 2 dry-run, 4 force */
#define SRIOV_DRY_RUN 2ULL
#define SRIOV_FORCE 4ULL

static int do_sriov_set_numvfs(struct daemon *d, sd_bus_message *m) {
        hd_sriov_set_opts o = { .autoprobe = -1 };
        const char *name;
        uint64_t flags;
        uint32_t n;
        int r;

        r = sd_bus_message_read(m, "sut", &name, &n, &flags);
        if (r < 0)
                return r;
        flags &= ~FLAG_LOG_INFO;        /* the caller's -v: daemon/call-log.c */
        if (flags & ~(SRIOV_DRY_RUN | SRIOV_FORCE))
                return sd_bus_reply_method_errorf(m, ERROR_INVALID, "sriov set: unknown flags 0x%llx",
                                                  (unsigned long long) (flags & ~(SRIOV_DRY_RUN | SRIOV_FORCE)));
        if (n > 65535)  /* hostdevctl's bound of --numvfs */
                return sd_bus_reply_method_errorf(m, ERROR_INVALID, "sriov set: --numvfs must be an integer 0..65535, not '%u'", n);
        o.numvfs = n;
        return sriov_set_reply(d, m, name, &o, flags & SRIOV_DRY_RUN, flags & SRIOV_FORCE);
}

int method_sriov_set_numvfs(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.sriov", do_sriov_set_numvfs);
}

/* ---- MdevCreate(s parent, s type, s uuid, t flags), MdevRemove(s uuid,
 * t flags) -> s result: mdev create, mdev remove ---- */

#define MDEV_DRY_RUN 2ULL      /* Detach's bit */

/* hostdevctl's "VERB: REASON" (mdev_exit), named by the status */
static int reply_mdev(sd_bus_message *m, const char *verb, int r, const hd_result *res) {
        int st = r < 0 ? r : hd_result_get_status(res);
        const char *why = r < 0 ? NULL : hd_result_get_reason(res);

        if (st >= 0)
                return reply_result(m, verb, res);
        return sd_bus_reply_method_errorf(m, st == -EBUSY ? ERROR_REFUSED
                                          : st == -EINVAL || st == -EDESTADDRREQ ? ERROR_INVALID
                                          : st == -ENODEV ? ERROR_NOT_FOUND : ERROR_FAILED,
                                          "%s: %s", verb, why ?: strerror(-st));
}

/* mdev create with @attrs, replied: MdevCreate's (no attributes) and
 * MdevCreateWithAttrs' (daemon/methods-reads.c) one body */
int mdev_create_reply(struct daemon *d, sd_bus_message *m, const char *parent, const char *type, const char *uuid,
                      const hd_mdev_attr *attrs, size_t n_attrs, uint64_t flags) {
        hd_result *res = NULL;
        int r;

        flags &= ~FLAG_LOG_INFO;        /* the caller's -v: daemon/call-log.c */
        if (flags & ~MDEV_DRY_RUN)
                return sd_bus_reply_method_errorf(m, ERROR_INVALID, "mdev create: unknown flags 0x%llx",
                                                  (unsigned long long) (flags & ~MDEV_DRY_RUN));
        if (*uuid && !hd_uuid_is_valid(uuid))
                return sd_bus_reply_method_errorf(m, ERROR_INVALID, "mdev create: '%.64s' is not a valid UUID", uuid);
        r = hd_mdev_create(d->ctx, parent, type, *uuid ? uuid : NULL, attrs, n_attrs,
                           flags & MDEV_DRY_RUN ? HD_MDEV_CREATE_DRY_RUN : 0, &res);
        r = reply_mdev(m, "mdev create", r, res);
        hd_result_unref(res);
        if (!(flags & MDEV_DRY_RUN))
                (void) rebuild(d);
        return r;
}

static int do_mdev_create(struct daemon *d, sd_bus_message *m) {
        const char *parent, *type, *uuid;
        uint64_t flags;
        int r;

        r = sd_bus_message_read(m, "ssst", &parent, &type, &uuid, &flags);
        if (r < 0)
                return r;
        return mdev_create_reply(d, m, parent, type, uuid, NULL, 0, flags);
}

static int do_mdev_remove(struct daemon *d, sd_bus_message *m) {
        const char *uuid;
        hd_result *res = NULL;
        uint64_t flags;
        int r;

        r = sd_bus_message_read(m, "st", &uuid, &flags);
        if (r < 0)
                return r;
        flags &= ~FLAG_LOG_INFO;        /* the caller's -v: daemon/call-log.c */
        if (flags)
                return sd_bus_reply_method_errorf(m, ERROR_INVALID, "mdev remove: unknown flags 0x%llx",
                                                  (unsigned long long) flags);
        if (!hd_uuid_is_valid(uuid))
                return sd_bus_reply_method_errorf(m, ERROR_INVALID, "mdev remove: '%.64s' is not a valid UUID", uuid);
        /* a running guest's mdev is refused: libvirt is asked, as by hostdevctl */
        r = ask_libvirt(d);
        if (r < 0)
                return r;
        r = hd_mdev_remove(d->ctx, uuid, &res);
        r = reply_mdev(m, "mdev remove", r, res);
        hd_result_unref(res);
        (void) rebuild(d);
        return r;
}

int method_mdev_create(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.mdev", do_mdev_create);
}
int method_mdev_remove(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.mdev", do_mdev_remove);
}

/* ---- at start: what `hostdevctl recover` does ---- */

/* Only when the journal holds a transaction (hd_vfio_transaction_pending):
 * a clean start creates and locks nothing. */
void recover_at_start(struct daemon *d) {
        hd_result *res = NULL;
        char *text = NULL;
        int r;

        if (!hd_vfio_transaction_pending(d->ctx))
                return;
        r = ask_libvirt(d);
        if (r >= 0)
                r = hd_vfio_recover(d->ctx, &res);
        if (r < 0) {
                fprintf(stderr, "<3>cannot recover an interrupted transaction: %s\n", strerror(-r));
                return;
        }
        if (hd_result_get_n_steps(res) > 0) {
                /* "<4>": the journal shows it at the default verbosity */
                (void) hd_result_format_text(res, &text);
                fprintf(stderr, "<4>recovered an interrupted transaction%s%s:\n%s%s", hd_result_get_status(res) < 0 ? ", failed: " : "",
                        hd_result_get_status(res) < 0 ? strempty_(hd_result_get_reason(res)) : "", strempty_(text),
                        text && *text && text[strlen(text) - 1] != '\n' ? "\n" : "");
                free(text);
        }
        hd_result_unref(res);
}
