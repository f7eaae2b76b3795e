/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdevd's SR-IOV and mediated-device methods beyond SriovSetNumVfs,
 * MdevCreate and MdevRemove (daemon/methods.c):
 *
 *   SriovList             sriov list --json
 *   SriovSet              sriov set PF --numvfs N [--driver D] [--autoprobe on|off]
 *   SriovSetVf            sriov vf PF INDEX [--mac M] [--vlan V [--qos Q]] [--trust] [--spoofchk]
 *   SriovPersist          the --persist of sriov set (the record only)
 *   SriovPersistVf        the --persist of sriov vf (the record only)
 *   MdevList              mdev list [--defined|--all] --json
 *   MdevTypes             mdev types [PARENT] --json
 *   MdevDefine            mdev define (mdevctl's JSON as a string for --jsonfile)
 *   MdevUndefine, MdevStart, MdevSetAutostart, MdevModify
 *   NodedevCreateXML, NodedevDefineXML, NodedevDestroy, NodedevUndefine,
 *   NodedevStart, NodedevSetAutostart     the libvirt-style verbs on mdevs
 *   GpuList               gpu [NAME] --json
 *
 * Each calls the library function the hostdevctl verb calls; the lists
 * are the library's renderings (include/hostdev/listing.h), the writes'
 * answers the library's result (hd_result_to_json).  Reads are open to
 * every caller; writes go through authz_run (org.hostdev.sriov,
 * org.hostdev.mdev).  Failures are named errors with the CLI's words
 * (without "hostdevctl: "); an argument the CLI reads from a file ('-',
 * stdin) is named '-' in them.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostdev/listing.h"
#include "hostdev/mdev.h"
#include "hostdev/sriov.h"
#include "hostdevd.h"
#include "methods-sriov-mdev.h"

#define FLAG_DRY_RUN 2ULL               /* Detach's bit */
#define MDEV_DEFINE_AUTO 1ULL           /* MdevDefine: --auto */
#define MDEV_MODIFY_CLEAR_ATTRS 1ULL    /* MdevModify: --clear-attrs */
#define MAX_DOCUMENT (1u << 20)         /* hostdevctl's bound of a file read */

static const char *strempty_(const char *s) { return s ?: ""; }
static const char *nullify(const char *s) { return s && *s ? s : NULL; }

static int unknown_flags(sd_bus_message *m, const char *verb, uint64_t flags, uint64_t known) {
        return sd_bus_reply_method_errorf(m, ERROR_INVALID, "%s: unknown flags 0x%llx", verb,
                                          (unsigned long long) (flags & ~known));
}

/* the text of @o as hostdevctl prints it; puts @o */
int reply_json(sd_bus_message *m, json_object *o) {
        char *text = NULL;
        int r = hd_json_to_text(o, &text);

        json_object_put(o);
        if (r < 0)
                return r;
        r = sd_bus_reply_method_return(m, "s", text);
        free(text);
        return r;
}

/* hostdevctl's mdev_exit(): "VERB: REASON", named by the status; the
 * result's JSON on success */
static int reply_mdev_result(sd_bus_message *m, const char *verb, int r, const hd_result *res) {
        int st = r < 0 ? r : hd_result_get_status(res);
        const char *why = r < 0 ? NULL : hd_result_get_reason(res);

        if (st >= 0)
                return reply_result(m, verb, res);
        return sd_bus_reply_method_errorf(m, st == -EBUSY ? ERROR_REFUSED
                                          : st == -EINVAL || st == -EDESTADDRREQ || st == -ENOTUNIQ || st == -EOPNOTSUPP ? ERROR_INVALID
                                          : st == -ENODEV ? ERROR_NOT_FOUND : ERROR_FAILED,
                                          "%s: %s", verb, why ?: strerror(-st));
}

/* ======================================================================
 * SR-IOV
 * ====================================================================== */

/* ---- SriovList() -> s json ---- */

int method_sriov_list(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct daemon *d = userdata;
        hd_sriov_pf *pfs = NULL;
        json_object *o = NULL;
        size_t n = 0;
        int r;

        r = hd_sriov_pf_list(d->list, &pfs, &n);
        if (r < 0)
                return sd_bus_reply_method_errorf(m, ERROR_FAILED, "sriov list: %s", strerror(-r));
        r = hd_sriov_pf_list_to_json(pfs, n, &o);
        hd_sriov_pf_free(pfs, n);
        if (r < 0)
                return r;
        return reply_json(m, o);
}

/* the checks of hostdevctl's option parsing, in its words */
static int check_onoff(sd_bus_message *m, const char *verb, const char *opt, int32_t v) {
        if (v >= -1 && v <= 1)
                return 0;
        sd_bus_reply_method_errorf(m, ERROR_INVALID, "%s: %s takes on or off, not '%d'", verb, opt, v);
        return -EINVAL;
}
static int check_range(sd_bus_message *m, const char *verb, const char *opt, int64_t v, int64_t max) {
        if (v >= 0 && v <= max)
                return 0;
        sd_bus_reply_method_errorf(m, ERROR_INVALID, "%s: %s must be an integer 0..%lld, not '%lld'", verb, opt,
                                   (long long) max, (long long) v);
        return -EINVAL;
}

/* sriov set's options: numvfs, driver ("" none), autoprobe (-1 leave) */
static int read_set_opts(sd_bus_message *m, const char *verb, const char **ret_name, hd_sriov_set_opts *o,
                         uint64_t *ret_flags, uint64_t known) {
        const char *name, *drv;
        uint32_t n;
        int32_t autoprobe;
        int r;

        r = sd_bus_message_read(m, "susit", &name, &n, &drv, &autoprobe, ret_flags);
        if (r < 0)
                return r;
        *ret_flags &= ~FLAG_LOG_INFO;        /* the caller's -v: daemon/call-log.c */
        if (*ret_flags & ~known) {
                unknown_flags(m, verb, *ret_flags, known);
                return 0;
        }
        if (check_range(m, verb, "--numvfs", n, 65535) < 0 || check_onoff(m, verb, "--autoprobe", autoprobe) < 0)
                return 0;
        *o = (hd_sriov_set_opts) { .numvfs = n, .autoprobe = autoprobe };
        if (*drv && !(o->driver = hd_driver_from_alias(drv, HD_DRIVER_ALIAS_HOST))) {
                sd_bus_reply_method_errorf(m, ERROR_INVALID, "%s: unknown driver '%.64s' (vfio, stub or host)", verb, drv);
                return 0;
        }
        *ret_name = name;
        return 1;
}

/* sriov set on the tree as it is now (prepare_write: libvirt asked, the
 * tree rebuilt, @name looked up), replied with hostdevctl's words for
 * each failure, or its result document; the tree is read again after a
 * change.  SriovSet's and SriovSetNumVfs' (daemon/methods.c) one body. */
int sriov_set_reply(struct daemon *d, sd_bus_message *m, const char *name, const hd_sriov_set_opts *o, bool dry_run,
                    bool force) {
        hd_result *res = NULL;
        hd_device *dev;
        int r;

        r = prepare_write(d, m, name, &dev);
        if (r <= 0)
                return r;
        r = hd_sriov_set_numvfs(d->list, dev, o, (dry_run ? HD_SRIOV_DRY_RUN : 0) | (force ? HD_SRIOV_FORCE : 0), &res);
        /* hostdevctl's words for each failure */
        if (r == -ETIMEDOUT)
                r = reply_busy(d, m, "sriov set");
        else if (r >= 0 && hd_result_get_status(res) == -ERANGE)
                r = sd_bus_reply_method_errorf(m, ERROR_INVALID, "sriov set: %s; nothing changed",
                                               strempty_(hd_result_get_reason(res)));
        else if (r < 0 && hd_ctx_get_error(d->ctx))
                r = sd_bus_reply_method_errorf(m, r == -EINVAL || r == -EOPNOTSUPP ? ERROR_INVALID : ERROR_FAILED,
                                               "sriov set: %s", hd_ctx_get_error(d->ctx));
        else if (r < 0)
                r = sd_bus_reply_method_errorf(m, ERROR_FAILED, "sriov set: %s: %s; nothing changed",
                                               hd_device_get_name(dev), strerror(-r));
        else
                r = reply_result(m, "sriov set", res);
        hd_result_unref(res);
        if (!dry_run)
                tree_after_write(d, &name, 1);
        return r;
}

/* ---- SriovSet(s pf, u numvfs, s driver, i autoprobe, t flags) -> s result ---- */

#define SRIOV_FORCE 4ULL       /* Detach's bit */

static int do_sriov_set(struct daemon *d, sd_bus_message *m) {
        hd_sriov_set_opts o;
        const char *name;
        uint64_t flags;
        int r;

        r = read_set_opts(m, "sriov set", &name, &o, &flags, FLAG_DRY_RUN | SRIOV_FORCE);
        if (r <= 0)
                return r;
        return sriov_set_reply(d, m, name, &o, flags & FLAG_DRY_RUN, flags & SRIOV_FORCE);
}

/* ---- the VF settings: s pf, u index, s mac, i vlan, i qos, i trust, i spoofchk, t flags ---- */

static int read_vf_config(sd_bus_message *m, const char *verb, const char **ret_name, hd_sriov_vf_config *c,
                          uint64_t *ret_flags, uint64_t known) {
        const char *name, *mac;
        int32_t vlan, qos, trust, spoofchk;
        uint32_t index;
        int r;

        r = sd_bus_message_read(m, "susiiiit", &name, &index, &mac, &vlan, &qos, &trust, &spoofchk, ret_flags);
        if (r < 0)
                return r;
        *ret_flags &= ~FLAG_LOG_INFO;        /* the caller's -v: daemon/call-log.c */
        if (*ret_flags & ~known) {
                unknown_flags(m, verb, *ret_flags, known);
                return 0;
        }
        *c = (hd_sriov_vf_config) { .trust = trust, .spoofchk = spoofchk };
        /* in hostdevctl's order: the options, the index, then the combination */
        if (*mac) {
                r = hd_sriov_parse_mac(mac, c->mac);
                if (r == -EADDRNOTAVAIL) {
                        sd_bus_reply_method_errorf(m, ERROR_INVALID,
                                                   "%s: '%.64s' is a multicast/broadcast address; a VF needs a unicast MAC",
                                                   verb, mac);
                        return 0;
                }
                if (r < 0) {
                        sd_bus_reply_method_errorf(m, ERROR_INVALID,
                                                   "%s: invalid MAC address '%.64s' (expected aa:bb:cc:dd:ee:ff)", verb, mac);
                        return 0;
                }
                c->set_mac = true;
        }
        if (vlan != -1) {
                if (check_range(m, verb, "--vlan", vlan, 4095) < 0)
                        return 0;
                c->set_vlan = true;
                c->vlan = (unsigned) vlan;
        }
        if (qos != -1) {
                if (check_range(m, verb, "--qos", qos, 7) < 0)
                        return 0;
                c->qos = (unsigned) qos;
        }
        if (check_onoff(m, verb, "--trust", trust) < 0 || check_onoff(m, verb, "--spoofchk", spoofchk) < 0)
                return 0;
        if (check_range(m, verb, "INDEX", index, 65535) < 0)
                return 0;
        c->index = index;
        if (qos != -1 && !c->set_vlan) {
                sd_bus_reply_method_errorf(m, ERROR_INVALID, "%s: --qos needs --vlan", verb);
                return 0;
        }
        if (!c->set_mac && !c->set_vlan && c->trust < 0 && c->spoofchk < 0) {
                sd_bus_reply_method_errorf(m, ERROR_INVALID, "%s: nothing to set (--mac, --vlan, --trust or --spoofchk)", verb);
                return 0;
        }
        *ret_name = name;
        return 1;
}

/* hd_sriov_vf_configure's failure in hostdevctl's words */
static int reply_vf_error(struct daemon *d, sd_bus_message *m, int r, hd_device *dev) {
        const char *name = r == -EINVAL || r == -EOPNOTSUPP || r == -ERANGE ? ERROR_INVALID : ERROR_FAILED;

        if (r == -ETIMEDOUT)
                return reply_busy(d, m, "sriov vf");

        if (hd_ctx_get_error(d->ctx))
                return sd_bus_reply_method_errorf(m, name, "sriov vf: %s", hd_ctx_get_error(d->ctx));
        return sd_bus_reply_method_errorf(m, name, "sriov vf: %s: %s", hd_device_get_name(dev), strerror(-r));
}

/* ---- SriovSetVf(...) -> s result ---- */

static int do_sriov_set_vf(struct daemon *d, sd_bus_message *m) {
        hd_sriov_vf_config c;
        const char *name;
        hd_result *res = NULL;
        uint64_t flags;
        hd_device *dev;
        int r;

        r = read_vf_config(m, "sriov vf", &name, &c, &flags, FLAG_DRY_RUN);
        if (r <= 0)
                return r;
        r = prepare_write(d, m, name, &dev);
        if (r <= 0)
                return r;
        r = hd_sriov_vf_configure(d->list, dev, &c, flags & FLAG_DRY_RUN ? HD_SRIOV_DRY_RUN : 0, &res);
        if (r < 0)
                r = reply_vf_error(d, m, r, dev);
        else
                r = reply_result(m, "sriov vf", res);
        hd_result_unref(res);
        if (!(flags & FLAG_DRY_RUN))
                tree_after_write(d, &name, 1);
        return r;
}

/* ---- SriovPersist(s pf, u numvfs, s driver, i autoprobe, t flags),
 * SriovPersistVf(...) -> s result: what --persist records ---- */

static int persist(struct daemon *d, sd_bus_message *m, const char *verb, hd_device *dev, const hd_sriov_set_opts *set,
                   const hd_sriov_vf_config *vf) {
        hd_result *res = NULL;
        char *dir = NULL;
        int r;

        r = hd_sriov_config_dir(d->ctx, &dir);
        if (r < 0)
                return sd_bus_reply_method_errorf(m, ERROR_FAILED, "%s", hd_ctx_get_error(d->ctx) ?: strerror(-r));
        r = hd_sriov_persist(d->list, dev, dir, set, vf, &res);
        if (r == -ETIMEDOUT)
                r = reply_busy(d, m, verb);
        else if (r < 0)
                r = sd_bus_reply_method_errorf(m, ERROR_FAILED, "%s: cannot persist into %s/sriov: %s", verb, dir,
                                               strerror(-r));
        else if (hd_result_get_status(res) < 0)
                r = sd_bus_reply_method_errorf(m, hd_result_get_status(res) == -ERANGE ? ERROR_INVALID : ERROR_FAILED,
                                               "%s: %s", verb, strempty_(hd_result_get_reason(res)));
        else
                r = reply_result(m, verb, res);
        hd_result_unref(res);
        free(dir);
        return r;
}

static int do_sriov_persist(struct daemon *d, sd_bus_message *m) {
        hd_sriov_set_opts o;
        const char *name;
        uint64_t flags;
        hd_device *dev;
        int r;

        r = read_set_opts(m, "sriov set", &name, &o, &flags, 0);
        if (r <= 0)
                return r;
        r = prepare_write(d, m, name, &dev);
        if (r <= 0)
                return r;
        return persist(d, m, "sriov set", dev, &o, NULL);
}

static int do_sriov_persist_vf(struct daemon *d, sd_bus_message *m) {
        hd_sriov_vf_config c;
        const char *name;
        hd_result *res = NULL;
        uint64_t flags;
        hd_device *dev;
        int r;

        r = read_vf_config(m, "sriov vf", &name, &c, &flags, 0);
        if (r <= 0)
                return r;
        r = prepare_write(d, m, name, &dev);
        if (r <= 0)
                return r;
        if (hd_device_get_cap_type(dev) == HD_CAP_NET) {
                hd_device *p = hd_device_get_parent(dev);
                if (p && hd_device_get_cap_type(p) == HD_CAP_PCI)
                        dev = p; /* persisted state is keyed by the PF's PCI address */
        }
        /* the settings are checked by the library's plan first, as by
         * hostdevctl's --persist */
        r = hd_sriov_vf_configure(d->list, dev, &c, HD_SRIOV_DRY_RUN, &res);
        hd_result_unref(res);
        if (r < 0)
                return reply_vf_error(d, m, r, dev);
        if (hd_device_get_cap_type(dev) != HD_CAP_PCI)
                return sd_bus_reply_method_errorf(m, ERROR_INVALID, "sriov vf: not persisted: %s is not a PCI physical function",
                                                  hd_device_get_name(dev));
        return persist(d, m, "sriov vf", dev, NULL, &c);
}

int method_sriov_set(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.sriov", do_sriov_set);
}
int method_sriov_set_vf(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.sriov", do_sriov_set_vf);
}
int method_sriov_persist(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.sriov", do_sriov_persist);
}
int method_sriov_persist_vf(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.sriov", do_sriov_persist_vf);
}

/* ======================================================================
 * GPUs
 * ====================================================================== */

/* ---- GpuList(s name) -> s json: gpu [NAME] --json; "" every GPU ---- */

int method_gpu_list(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct daemon *d = userdata;
        hd_device *only = NULL;
        json_object *o = NULL;
        const char *name;
        hd_gpu *gpus = NULL;
        size_t n = 0;
        int r;

        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        if (*name && lookup(d, m, name, &only) < 0)
                return 0;
        r = only ? hd_gpu_get(d->list, only, &gpus) : hd_gpu_list(d->list, &gpus, &n);
        if (r < 0)
                return sd_bus_reply_method_errorf(m, r == -ENOTTY || r == -EINVAL ? ERROR_INVALID : ERROR_FAILED, "gpu: %s",
                                                  hd_ctx_get_error(d->ctx) ?: strerror(-r));
        if (only)
                n = 1;
        r = hd_gpu_list_to_json(gpus, n, &o);
        hd_gpu_array_free(gpus, n);
        if (r < 0)
                return r;
        return reply_json(m, o);
}

/* ======================================================================
 * mediated devices
 * ====================================================================== */

/* ---- MdevList(t flags) -> s json: 1 --defined, 2 --all ---- */

#define MDEV_LIST_DEFINED 1ULL
#define MDEV_LIST_ALL 2ULL

int method_mdev_list(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct daemon *d = userdata;
        json_object *o = NULL;
        hd_mdev *v = NULL;
        uint64_t flags;
        size_t n = 0;
        int r;

        r = sd_bus_message_read(m, "t", &flags);
        if (r < 0)
                return r;
        if (flags & ~(MDEV_LIST_DEFINED | MDEV_LIST_ALL))
                return unknown_flags(m, "mdev list", flags, MDEV_LIST_DEFINED | MDEV_LIST_ALL);
        r = hd_mdev_list(d->ctx, flags & MDEV_LIST_ALL ? 0 : flags & MDEV_LIST_DEFINED ? HD_MDEV_LIST_DEFINED : HD_MDEV_LIST_ACTIVE,
                         &v, &n);
        if (r < 0)
                return sd_bus_reply_method_errorf(m, ERROR_FAILED, "mdev list: %s", strerror(-r));
        r = hd_mdev_list_to_json(v, n, &o);
        hd_mdev_array_free(v, n);
        if (r < 0)
                return r;
        return reply_json(m, o);
}

/* ---- MdevTypes(s parent) -> s json: "" every parent ---- */

int method_mdev_types(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct daemon *d = userdata;
        hd_mdev_type *t = NULL;
        json_object *o = NULL;
        const char *parent;
        size_t n = 0;
        int r;

        r = sd_bus_message_read(m, "s", &parent);
        if (r < 0)
                return r;
        r = hd_mdev_list_types(d->ctx, nullify(parent), &t, &n);
        if (r < 0)
                return sd_bus_reply_method_errorf(m, r == -ENODEV ? ERROR_NOT_FOUND : ERROR_FAILED, "mdev types: %s",
                                                  hd_ctx_get_error(d->ctx) ?: strerror(-r));
        r = hd_mdev_types_to_json(t, n, &o);
        hd_mdev_types_free(t, n);
        if (r < 0)
                return r;
        return reply_json(m, o);
}

/* a(ss) of attributes into @into; 0 and an error replied for a nameless one */
int read_attrs(sd_bus_message *m, const char *verb, hd_mdev *into) {
        const char *name, *value;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(ss)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "(ss)", &name, &value)) > 0) {
                if (!*name) {
                        sd_bus_reply_method_errorf(m, ERROR_INVALID, "%s: attribute '=%.64s' is not NAME=VALUE", verb, value);
                        return 0;
                }
                if (hd_mdev_add_attr(into, name, value) < 0)
                        return -ENOMEM;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        return r < 0 ? r : 1;
}

/* a UUID argument; 0 and InvalidArgument when it is none */
static int check_uuid(sd_bus_message *m, const char *verb, const char *uuid) {
        if (hd_uuid_is_valid(uuid))
                return 1;
        sd_bus_reply_method_errorf(m, ERROR_INVALID, "%s: '%.64s' is not a valid UUID", verb, uuid);
        return 0;
}

/* a document that hostdevctl reads from a file: its bound */
static int check_document(sd_bus_message *m, const char *verb, const char *text) {
        if (strlen(text) <= MAX_DOCUMENT)
                return 1;
        sd_bus_reply_method_errorf(m, ERROR_INVALID, "%s: '-' is too large", verb);
        return 0;
}

/* ---- MdevDefine(s uuid, s parent, s type, s json, a(ss) attrs, t flags) -> s result ---- */

static int do_mdev_define(struct daemon *d, sd_bus_message *m) {
        const char *uuid, *parent, *type, *json;
        hd_mdev *md = NULL;
        hd_result *res = NULL;
        uint64_t flags;
        bool autostart;
        int r;

        md = calloc(1, sizeof(*md));
        if (!md)
                return -ENOMEM;
        md->iommu_group = -1;
        r = sd_bus_message_read(m, "ssss", &uuid, &parent, &type, &json);
        if (r >= 0)
                r = read_attrs(m, "mdev define", md);
        if (r <= 0)     /* <0, or 0: a nameless attribute, replied */
                goto out;
        r = sd_bus_message_read(m, "t", &flags);
        if (r < 0)
                goto out;
        flags &= ~FLAG_LOG_INFO;        /* the caller's -v: daemon/call-log.c */
        if (flags & ~MDEV_DEFINE_AUTO) {
                r = unknown_flags(m, "mdev define", flags, MDEV_DEFINE_AUTO);
                goto out;
        }
        autostart = flags & MDEV_DEFINE_AUTO;
        if (*uuid && !check_uuid(m, "mdev define", uuid)) {
                r = 0;
                goto out;
        }
        if (*json && (*type || md->n_attrs)) {
                r = sd_bus_reply_method_errorf(m, ERROR_INVALID, "mdev define: --jsonfile excludes --type and --attr");
                goto out;
        }
        if ((*parent && !(md->parent = strdup(parent))) || (*type && !(md->type = strdup(type))) ||
            (*uuid && !(md->uuid = strdup(uuid)))) {
                r = -ENOMEM;
                goto out;
        }
        if (*json) {
                if (!check_document(m, "mdev define", json)) {
                        r = 0;
                        goto out;
                }
                r = hd_mdev_parse_json(d->ctx, json, md);
                if (r < 0) {
                        r = sd_bus_reply_method_errorf(m, ERROR_INVALID, "mdev define: '-': %s; nothing defined",
                                                       hd_ctx_get_error(d->ctx) ?: strerror(-r));
                        goto out;
                }
                autostart = autostart || md->autostart;
        }
        md->autostart = autostart;
        r = hd_mdev_define(d->ctx, md, 0, &res);
        r = reply_mdev_result(m, "mdev define", r, res);
        (void) rebuild(d);
out:
        hd_result_unref(res);
        hd_mdev_free(md);
        return r;
}

/* ---- MdevUndefine, MdevStart (s uuid, s parent, t flags) ->
 * s result; MdevSetAutostart (s uuid, s parent, b autostart, t flags) ---- */

static int mdev_uuid_op(struct daemon *d, sd_bus_message *m, const char *verb,
                        int (*op)(hd_ctx *ctx, const char *uuid, const char *parent, hd_result **ret)) {
        const char *uuid, *parent;
        hd_result *res = NULL;
        uint64_t flags;
        int autostart = 0, r;

        r = op ? sd_bus_message_read(m, "sst", &uuid, &parent, &flags)
               : sd_bus_message_read(m, "ssbt", &uuid, &parent, &autostart, &flags);
        if (r < 0)
                return r;
        flags &= ~FLAG_LOG_INFO;        /* the caller's -v: daemon/call-log.c */
        if (flags)
                return unknown_flags(m, verb, flags, 0);
        if (!check_uuid(m, verb, uuid))
                return 0;
        r = op ? op(d->ctx, uuid, nullify(parent), &res)
               : hd_mdev_set_autostart(d->ctx, uuid, nullify(parent), autostart, &res);
        r = reply_mdev_result(m, verb, r, res);
        hd_result_unref(res);
        (void) rebuild(d);
        return r;
}

static int do_mdev_undefine(struct daemon *d, sd_bus_message *m) {
        return mdev_uuid_op(d, m, "mdev undefine", hd_mdev_undefine);
}
static int do_mdev_start(struct daemon *d, sd_bus_message *m) {
        return mdev_uuid_op(d, m, "mdev start", hd_mdev_start);
}
static int do_mdev_set_autostart(struct daemon *d, sd_bus_message *m) {
        return mdev_uuid_op(d, m, "mdev autostart", NULL);
}

/* ---- MdevModify(s uuid, s parent, s type, i autostart, a(ss) add,
 * as delete, t flags) -> s result: 1 --clear-attrs ---- */

static int do_mdev_modify(struct daemon *d, sd_bus_message *m) {
        hd_mdev_modify mod = {};
        const char *uuid, *parent, *type;
        char **del = NULL;
        hd_mdev *add = NULL;
        hd_result *res = NULL;
        uint64_t flags;
        int32_t autostart;
        size_t n_del;
        int r;

        add = calloc(1, sizeof(*add));
        if (!add)
                return -ENOMEM;
        r = sd_bus_message_read(m, "sssi", &uuid, &parent, &type, &autostart);
        if (r >= 0)
                r = read_attrs(m, "mdev modify", add);
        if (r <= 0)     /* <0, or 0: a nameless attribute, replied */
                goto out;
        r = sd_bus_message_read_strv(m, &del);
        if (r >= 0)
                r = sd_bus_message_read(m, "t", &flags);
        if (r < 0)
                goto out;
        flags &= ~FLAG_LOG_INFO;        /* the caller's -v: daemon/call-log.c */
        if (flags & ~MDEV_MODIFY_CLEAR_ATTRS) {
                r = unknown_flags(m, "mdev modify", flags, MDEV_MODIFY_CLEAR_ATTRS);
                goto out;
        }
        if (!hd_uuid_is_valid(uuid)) {
                r = sd_bus_reply_method_errorf(m, ERROR_INVALID, "mdev modify: expected the UUID of a defined mdev");
                goto out;
        }
        if (autostart < -1 || autostart > 1) {
                r = sd_bus_reply_method_errorf(m, ERROR_INVALID,
                                               "mdev modify: autostart is 1 (--auto), 0 (--manual) or -1 (unchanged), not %d",
                                               autostart);
                goto out;
        }
        for (n_del = 0; del && del[n_del]; n_del++)
                ;
        mod = (hd_mdev_modify) {
                .type = nullify(type),
                .autostart = autostart,
                .add_attrs = add->attrs,
                .n_add_attrs = add->n_attrs,
                .del_attrs = (const char *const *) del,
                .n_del_attrs = n_del,
                .clear_attrs = flags & MDEV_MODIFY_CLEAR_ATTRS,
        };
        if (!mod.type && mod.autostart < 0 && !mod.n_add_attrs && !mod.n_del_attrs && !mod.clear_attrs) {
                r = sd_bus_reply_method_errorf(
                        m, ERROR_INVALID,
                        "mdev modify: nothing to change (--type, --auto, --manual, --attr, --delattr, --clear-attrs)");
                goto out;
        }
        r = hd_mdev_modify_definition(d->ctx, uuid, nullify(parent), &mod, &res);
        r = reply_mdev_result(m, "mdev modify", r, res);
        (void) rebuild(d);
out:
        hd_result_unref(res);
        hd_mdev_free(add);
        if (del)
                for (char **s = del; *s; s++)
                        free(*s);
        free(del);
        return r;
}

/* ---- NodedevCreateXML, NodedevDefineXML (s xml, t flags) -> s result ---- */

static int nodedev_create_define(struct daemon *d, sd_bus_message *m, bool define) {
        const char *verb = define ? "nodedev-define" : "nodedev-create";
        const char *xml;
        hd_mdev *md = NULL;
        hd_result *res = NULL;
        uint64_t flags;
        int r;

        r = sd_bus_message_read(m, "st", &xml, &flags);
        if (r < 0)
                return r;
        flags &= ~FLAG_LOG_INFO;        /* the caller's -v: daemon/call-log.c */
        if (flags)
                return unknown_flags(m, verb, flags, 0);
        if (!check_document(m, verb, xml))
                return 0;
        r = hd_mdev_parse_xml(d->ctx, xml, strlen(xml), &md);
        if (r < 0)
                return sd_bus_reply_method_errorf(m, r == -ENODEV ? ERROR_NOT_FOUND : ERROR_INVALID,
                                                  "%s: '-': %s; nothing changed", verb, hd_ctx_get_error(d->ctx) ?: strerror(-r));
        r = define ? hd_mdev_define(d->ctx, md, HD_MDEV_DEFINE_REPLACE, &res)
                   : hd_mdev_create(d->ctx, md->parent, md->type, md->uuid, md->attrs, md->n_attrs, 0, &res);
        r = reply_mdev_result(m, verb, r, res);
        hd_result_unref(res);
        hd_mdev_free(md);
        (void) rebuild(d);
        return r;
}

static int do_nodedev_create(struct daemon *d, sd_bus_message *m) { return nodedev_create_define(d, m, false); }
static int do_nodedev_define(struct daemon *d, sd_bus_message *m) { return nodedev_create_define(d, m, true); }

/* ---- NodedevDestroy, NodedevUndefine, NodedevStart (s name, t flags),
 * NodedevSetAutostart (s name, b autostart, t flags) -> s result ---- */

enum { NODEDEV_DESTROY, NODEDEV_UNDEFINE, NODEDEV_START, NODEDEV_AUTOSTART };
static const char *const nodedev_verb[] = { "nodedev-destroy", "nodedev-undefine", "nodedev-start", "nodedev-autostart" };

static int nodedev_mdev(struct daemon *d, sd_bus_message *m, int op) {
        const char *name;
        hd_result *res = NULL;
        uint64_t flags;
        int autostart = 0, r;
        hd_device *dev;

        r = op == NODEDEV_AUTOSTART ? sd_bus_message_read(m, "sbt", &name, &autostart, &flags)
                                    : sd_bus_message_read(m, "st", &name, &flags);
        if (r < 0)
                return r;
        flags &= ~FLAG_LOG_INFO;        /* the caller's -v: daemon/call-log.c */
        if (flags)
                return unknown_flags(m, nodedev_verb[op], flags, 0);
        /* the tree of now, with the definitions (rebuild adds them) */
        r = prepare_write(d, m, name, &dev);
        if (r <= 0)
                return r;
        switch (op) {
        case NODEDEV_DESTROY: r = hd_mdev_device_destroy(dev, &res); break;
        case NODEDEV_UNDEFINE: r = hd_mdev_device_undefine(dev, &res); break;
        case NODEDEV_START: r = hd_mdev_device_start(dev, &res); break;
        default: r = hd_mdev_device_set_autostart(dev, autostart, &res); break;
        }
        r = reply_mdev_result(m, nodedev_verb[op], r, res);
        hd_result_unref(res);
        (void) rebuild(d);
        return r;
}

static int do_nodedev_destroy(struct daemon *d, sd_bus_message *m) { return nodedev_mdev(d, m, NODEDEV_DESTROY); }
static int do_nodedev_undefine(struct daemon *d, sd_bus_message *m) { return nodedev_mdev(d, m, NODEDEV_UNDEFINE); }
static int do_nodedev_start(struct daemon *d, sd_bus_message *m) { return nodedev_mdev(d, m, NODEDEV_START); }
static int do_nodedev_autostart(struct daemon *d, sd_bus_message *m) { return nodedev_mdev(d, m, NODEDEV_AUTOSTART); }

#define MDEV_METHOD(fn, do_fn) \
        int fn(sd_bus_message *m, void *userdata, sd_bus_error *error) { \
                return authz_run(userdata, m, "org.hostdev.mdev", do_fn); \
        }
MDEV_METHOD(method_mdev_define, do_mdev_define)
MDEV_METHOD(method_mdev_undefine, do_mdev_undefine)
MDEV_METHOD(method_mdev_start, do_mdev_start)
MDEV_METHOD(method_mdev_set_autostart, do_mdev_set_autostart)
MDEV_METHOD(method_mdev_modify, do_mdev_modify)
MDEV_METHOD(method_nodedev_create_xml, do_nodedev_create)
MDEV_METHOD(method_nodedev_define_xml, do_nodedev_define)
MDEV_METHOD(method_nodedev_destroy, do_nodedev_destroy)
MDEV_METHOD(method_nodedev_undefine, do_nodedev_undefine)
MDEV_METHOD(method_nodedev_start, do_nodedev_start)
MDEV_METHOD(method_nodedev_set_autostart, do_nodedev_autostart)
