/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Operations on a device and a libvirt domain: attach, detach-device and
 * libvirt's qemu hook (prepare, release).  The policy is here, so that
 * hostdevctl and hostdevd decide alike: a running domain's device (or a
 * member of its IOMMU group) is never taken, the host must need no member
 * of the group, a managed attach needs a viable group, an unmanaged one
 * moves the whole group first and gives it back when libvirt refuses, and
 * what hostdev journaled goes back after a detach.  Each returns an
 * hd_result of kind HD_RESULT_DOMAIN (include/hostdev/result.h).
 */
#include "domain/domain-internal.h"
#include "nodedev/device.h"
#include "util/result-internal.h"

static void list_unrefp(hd_nodedev_list **l) { hd_nodedev_list_unref(*l); }

/* the PCI function of @d: itself, or the parent of its network interface */
static hd_device *pci_of(hd_device *d) {
        if (hd_device_get_cap_type(d) == HD_CAP_NET) {
                hd_device *p = hd_device_get_parent(d);
                if (p && hd_device_get_cap_type(p) == HD_CAP_PCI)
                        return p;
        }
        return hd_device_get_cap_type(d) == HD_CAP_PCI ? d : NULL;
}

/* the members of @d's IOMMU group; @d alone when it has none */
static int group_members(hd_nodedev_list *list, hd_device *d, hd_device ***ret, size_t *ret_n) {
        int group = hd_device_get_iommu_group(d);
        if (group < 0) {
                *ret = calloc(1, sizeof(**ret));
                if (!*ret)
                        return -ENOMEM;
                (*ret)[0] = d;
                *ret_n = 1;
                return 0;
        }
        return hd_iommu_group_get_devices(list, (unsigned) group, ret, ret_n);
}

static int add_step(hd_result *res, const char *type, const char *subject, const char *action, const char *domain,
                    const char *xml, enum hd_outcome outcome) {
        return hd_result_add_step(res, &(struct hd_result_step_spec) {
                .type = type, .subject = subject, .action = action, .parent = domain, .xml = xml,
                .outcome = outcome });
}

/* the driver moves of a vfio result, as "move" steps */
static int add_moves(hd_result *res, const hd_result *from) {
        for (size_t i = 0; i < hd_result_get_n_steps(from); i++) {
                const hd_result_step *s = hd_result_get_step(from, i);
                int r = hd_result_add_step(res, &(struct hd_result_step_spec) {
                        .type = "move", .subject = hd_result_step_get_subject(s),
                        .from = hd_result_step_get_from(s), .to = hd_result_step_get_to(s),
                        .outcome = hd_result_step_get_outcome(s), .error = hd_result_step_get_error(s),
                        .error_text = hd_result_step_get_error_text(s) });
                if (r < 0)
                        return r;
        }
        return 0;
}

/* a step for a group move of @addr to or from vfio-pci, and its moves */
static int add_group_step(hd_result *res, const char *type, const char *addr, const char *action, const char *to,
                          enum hd_outcome ok, int st, const hd_result *vr) {
        int r = hd_result_add_step(res, &(struct hd_result_step_spec) {
                .type = type, .subject = addr, .action = action, .to = to,
                .outcome = st < 0 ? HD_OUTCOME_FAILED : ok, .error = st,
                .error_text = st < 0 && vr ? hd_result_get_reason(vr) : NULL });
        if (r < 0 || !vr)
                return r;
        return add_moves(res, vr);
}

/* what every operation on a device and a domain starts with: the
 * arguments, the context (its error cleared) and an empty result */
static int op_begin(hd_nodedev_list *list, const char *domain, hd_device *d, hd_result **ret, hd_ctx **ret_ctx,
                    hd_result **ret_res) {
        if (!list || isempty(domain) || !d || !ret)
                return -EINVAL;
        *ret_ctx = hd_nodedev_list_get_ctx(list);
        hd_error_clear(*ret_ctx);
        return hd_result_new(HD_RESULT_DOMAIN, ret_res);
}

static int finish(hd_result **res, hd_result **ret) {
        *ret = TAKE_PTR(*res);
        return 0;
}

/* Give @m (journaled) back to its original driver: step @step (its
 * outcome set) or a new step of @type, then the moves.  *@ret_status: 0,
 * or why it was not given back (the text in *@ret_why).  <0: -ENOMEM. */
static int give_back(hd_nodedev_list *list, hd_result *res, hd_device *m, ssize_t step, const char *type,
                     int *ret_status, char **ret_why) {
        _hd_cleanup_result_ hd_result *vr = NULL;
        _cleanup_free_ char *action = NULL;
        const char *addr = hd_device_get_pci_address(m);
        int r, st;

        r = hd_vfio_reattach(list, m, 0, &vr);
        if (r == -ENOMEM)
                return r;
        st = r < 0 ? r : hd_result_get_status(vr);
        if (step >= 0) {
                hd_result_set_step_outcome(res, (size_t) step, st < 0 ? HD_OUTCOME_FAILED : HD_OUTCOME_DONE);
                r = vr ? add_moves(res, vr) : 0;
        } else {
                if (hd_asprintf(&action, "give %s back to its original driver (hostdev detached it)", addr) < 0)
                        return -ENOMEM;
                r = add_group_step(res, type, addr, action, NULL, HD_OUTCOME_DONE, st, vr);
        }
        if (r < 0)
                return r;
        *ret_status = st;
        *ret_why = NULL;
        if (st < 0 && hd_asprintf(ret_why, "%s", vr ? strempty(hd_result_get_reason(vr)) : strerror(-st)) < 0)
                return -ENOMEM;
        if (st == 0 && hd_result_get_reason(vr) && !hd_result_get_reason(res))
                hd_result_set_reason(res, "%s", hd_result_get_reason(vr)); /* a hint */
        return 0;
}

_public_ int hd_domain_attach(hd_nodedev_list *list, const char *domain, hd_device *d, unsigned flags,
                              hd_result **ret) {
        _hd_cleanup_result_ hd_result *res = NULL;
        _cleanup_free_ char *xml = NULL, *action = NULL, *not_asked = NULL;
        _cleanup_free_ const hd_domain_use **uses = NULL;
        _cleanup_free_ hd_device **members = NULL;
        bool dry = flags & HD_DOMAIN_DRY_RUN, force = flags & HD_DOMAIN_FORCE,
             unmanaged = flags & HD_DOMAIN_UNMANAGED, detached = false;
        hd_domain_usage *u = NULL;
        const char *name, *uri;
        hd_device *pci;
        hd_ctx *ctx;
        size_t n = 0, nu = 0, attach_step;
        int r, s;

        r = op_begin(list, domain, d, ret, &ctx, &res);
        if (r < 0)
                return r;
        name = hd_device_get_name(d);
        pci = pci_of(d);

        r = hd_device_format_hostdev_xml(d, unmanaged ? HD_HOSTDEV_XML_UNMANAGED : HD_HOSTDEV_XML_MANAGED, &xml);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                hd_result_fail(res, ctx, r, "%s", hd_ctx_get_error(ctx) ?: strerror(-r));
                return finish(&res, ret);
        }

        /* who has it now: libvirt must be reachable, on the live host too */
        s = hd_domain_usage_get(ctx, list, dry ? 0 : HD_DOMAIN_USAGE_RW, &u);
        if (s == -ENOMEM)
                return s;
        if (s < 0) {
                hd_result_fail(res, ctx, s, "%s", hd_ctx_get_error(ctx) ?: "libvirt cannot be asked");
                return finish(&res, ret);
        }
        if (s == 0 && !(not_asked = strdup(hd_ctx_get_error(ctx) ?: "libvirt is not asked")))
                return -ENOMEM;
        if (s > 0) {
                r = hd_domain_usage_find(u, d, &uses, &nu);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < nu; i++)
                        if (uses[i]->running) {
                                hd_result_fail(res, ctx, -EBUSY, "%s is used by running domain '%s' (%s, on %s)",
                                               name, uses[i]->domain, uses[i]->how, uses[i]->uri);
                                return finish(&res, ret);
                        }
        }

        if (pci) {
                r = group_members(list, pci, &members, &n);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        hd_result_fail(res, ctx, r, "%s: %s", hd_device_get_name(pci), strerror(-r));
                        return finish(&res, ret);
                }
                for (size_t i = 0; i < n; i++) {
                        hd_device *m = members[i];
                        const char *drv = hd_device_get_driver(m);
                        _cleanup_free_ char *why = NULL;
                        if (hd_device_get_cap_type(m) != HD_CAP_PCI || hd_pci_device_is_bridge(m))
                                continue;
                        /* nor a running guest */
                        if (m != pci && s > 0 &&
                            hd_domain_usage_check(u, ctx, "pci", hd_device_get_pci_address(m), &why) > 0) {
                                hd_result_fail(res, ctx, -EBUSY, "IOMMU group member %s", strempty(why));
                                return finish(&res, ret);
                        }
                        /* the host must not need any member (libvirt does not check this) */
                        if (!force && hd_host_safety_check(list, m) == -EBUSY) {
                                hd_result_fail(res, ctx, -EBUSY, "%s%s (use --force to override)",
                                               m == pci ? "" : "IOMMU group member ",
                                               strempty(hd_ctx_get_error(ctx)));
                                return finish(&res, ret);
                        }
                        /* managed: libvirt moves only the device itself */
                        if (!unmanaged && m != pci && drv && !hd_driver_is_passthrough(drv)) {
                                hd_result_fail(res, ctx, -EINVAL, "IOMMU group %d is not viable: %s is bound to %s; "
                                               "libvirt (managed) detaches only %s: use --unmanaged to move the "
                                               "whole group", hd_device_get_iommu_group(pci),
                                               hd_device_get_pci_address(m), drv, hd_device_get_pci_address(pci));
                                return finish(&res, ret);
                        }
                }
        }

        if (pci && unmanaged) {
                _hd_cleanup_result_ hd_result *vr = NULL;
                int st;
                r = hd_vfio_detach(list, pci, "vfio-pci",
                                   HD_VFIO_GROUP | (dry ? HD_VFIO_DRY_RUN : 0) | (force ? HD_VFIO_FORCE : 0), &vr);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        hd_result_fail(res, ctx, r, "cannot detach %s: %s", hd_device_get_name(pci), strerror(-r));
                        return finish(&res, ret);
                }
                st = hd_result_get_status(vr);
                r = add_group_step(res, "detach-group", hd_device_get_pci_address(pci),
                                   "detach the IOMMU group to vfio-pci (journaled)", "vfio-pci",
                                   dry ? HD_OUTCOME_PLANNED : HD_OUTCOME_DONE, st, vr);
                if (r < 0)
                        return r;
                if (st < 0) {
                        hd_result_fail(res, ctx, st, "%s", strempty(hd_result_get_reason(vr)));
                        return finish(&res, ret);
                }
                detached = hd_result_count_outcome(vr, HD_OUTCOME_DONE) > 0;
        } else if (pci) {
                _cleanup_free_ char *managed = NULL;
                if (hd_asprintf(&managed, "libvirt detaches %s itself (managed='yes')", hd_device_get_name(pci)) < 0 ||
                    add_step(res, "managed", hd_device_get_name(pci), managed, domain, NULL, HD_OUTCOME_PLANNED) < 0)
                        return -ENOMEM;
        }
        uri = s > 0 ? hd_domain_usage_get_uri(u) : hd_domain_usage_uri_of(ctx);
        if (hd_asprintf(&action, "attach to domain '%s'%s%s on %s", domain, flags & HD_DOMAIN_LIVE ? " --live" : "",
                        flags & HD_DOMAIN_CONFIG ? " --config" : "", uri) < 0)
                return -ENOMEM;
        attach_step = hd_result_get_n_steps(res);
        r = add_step(res, "attach", name, action, domain, xml, HD_OUTCOME_PLANNED);
        if (r < 0)
                return r;
        if (dry)
                return finish(&res, ret);

        r = s > 0 ? hd_domain_attach_xml(u, domain, xml, flags & HD_DOMAIN_LIVE, flags & HD_DOMAIN_CONFIG) : -ENOTCONN;
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                hd_result_set_step_outcome(res, attach_step, HD_OUTCOME_FAILED);
                for (size_t i = 0; i < attach_step; i++)
                        if (hd_result_step_get_outcome(hd_result_get_step(res, i)) == HD_OUTCOME_PLANNED)
                                hd_result_set_step_outcome(res, i, HD_OUTCOME_NOT_ATTEMPTED);
                hd_result_fail(res, ctx, r, "libvirt refused to attach %s to '%s': %s", name, domain,
                               s > 0 ? hd_ctx_get_error(ctx) ?: strerror(-r) : not_asked);
                if (detached) {
                        _hd_cleanup_result_ hd_result *vr = NULL;
                        int k = hd_vfio_reattach(list, pci, HD_VFIO_GROUP | HD_VFIO_FORCE, &vr), st;
                        if (k == -ENOMEM)
                                return k;
                        st = k < 0 ? k : hd_result_get_status(vr);
                        k = add_group_step(res, "rollback", hd_device_get_pci_address(pci),
                                           st < 0 ? "give the IOMMU group back to its drivers"
                                                  : "gave the IOMMU group back to its drivers",
                                           NULL, HD_OUTCOME_DONE, st, vr);
                        if (k < 0)
                                return k;
                }
                return finish(&res, ret);
        }
        for (size_t i = 0; i < hd_result_get_n_steps(res); i++)
                if (hd_result_step_get_outcome(hd_result_get_step(res, i)) == HD_OUTCOME_PLANNED)
                        hd_result_set_step_outcome(res, i, HD_OUTCOME_DONE);
        return finish(&res, ret);
}

_public_ int hd_domain_detach_device(hd_nodedev_list *list, const char *domain, hd_device *d, unsigned flags,
                                     hd_result **ret) {
        _hd_cleanup_result_ hd_result *res = NULL;
        _cleanup_free_ const hd_domain_use **uses = NULL;
        _cleanup_free_ hd_device **members = NULL;
        _cleanup_free_ char *action = NULL, *xml = NULL;
        const hd_domain_use *use = NULL;
        bool dry = flags & HD_DOMAIN_DRY_RUN;
        hd_domain_usage *u = NULL;
        size_t nu = 0, n = 0, first;
        const char *name;
        hd_device *pci;
        hd_ctx *ctx;
        int r, s;

        r = op_begin(list, domain, d, ret, &ctx, &res);
        if (r < 0)
                return r;
        s = hd_domain_usage_get(ctx, list, dry ? 0 : HD_DOMAIN_USAGE_RW, &u);
        if (s == -ENOMEM)
                return s;
        name = hd_device_get_name(d);
        pci = pci_of(d);
        if (s <= 0) {
                hd_result_fail(res, ctx, s < 0 ? s : -ENOTCONN, "%s",
                               s < 0 ? hd_ctx_get_error(ctx) ?: strerror(-s)
                                     : "no libvirt connection (use --connect URI)");
                return finish(&res, ret);
        }
        r = hd_domain_usage_find(u, d, &uses, &nu);
        if (r < 0)
                return r;
        for (size_t i = 0; i < nu; i++)
                if (streq(uses[i]->domain, domain))
                        use = uses[i];
        if (!use) {
                hd_result_fail(res, ctx, -ENOENT, "%s is not attached to domain '%s' (on %s)", name, domain,
                               hd_domain_usage_get_uri(u));
                return finish(&res, ret);
        }
        /* the usage's entries go with a reload */
        if (hd_asprintf(&action, "detach from domain '%s' on %s", domain, use->uri) < 0 || !(xml = strdup(use->xml)))
                return -ENOMEM;
        r = add_step(res, "detach", name, action, domain, xml, HD_OUTCOME_PLANNED);
        if (r < 0)
                return r;
        first = hd_result_get_n_steps(res);
        if (pci && group_members(list, pci, &members, &n) >= 0)
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *give = NULL;
                        const char *addr = hd_device_get_pci_address(members[i]);
                        if (hd_device_get_cap_type(members[i]) != HD_CAP_PCI || !hd_vfio_is_journaled(ctx, addr)) {
                                members[i] = NULL;
                                continue;
                        }
                        if (hd_asprintf(&give, "give %s back to its original driver (hostdev detached it)", addr) < 0 ||
                            add_step(res, "give-back", addr, give, NULL, NULL, HD_OUTCOME_PLANNED) < 0)
                                return -ENOMEM;
                }
        if (dry)
                return finish(&res, ret);

        r = hd_domain_detach_xml(u, domain, xml, flags & HD_DOMAIN_LIVE, flags & HD_DOMAIN_CONFIG);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                hd_result_set_step_outcome(res, 0, HD_OUTCOME_FAILED);
                for (size_t i = first; i < hd_result_get_n_steps(res); i++)
                        hd_result_set_step_outcome(res, i, HD_OUTCOME_NOT_ATTEMPTED);
                hd_result_fail(res, ctx, r, "libvirt refused to detach %s from '%s': %s", name, domain,
                               hd_ctx_get_error(ctx) ?: strerror(-r));
                return finish(&res, ret);
        }
        hd_result_set_step_outcome(res, 0, HD_OUTCOME_DONE);

        /* the domain no longer has it: the reattach checks must see that */
        r = hd_domain_usage_reload_with(u, list);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                for (size_t i = first; i < hd_result_get_n_steps(res); i++)
                        hd_result_set_step_outcome(res, i, HD_OUTCOME_NOT_ATTEMPTED);
                if (hd_result_get_n_steps(res) > first)
                        hd_result_set_reason(res, "the domains of %s could not be read again (%s): what hostdev "
                                             "detached stays on vfio-pci", hd_domain_usage_get_uri(u), strerror(-r));
                return finish(&res, ret);
        }
        /* the planned give-back steps, in order, become the ones that ran */
        for (size_t i = first, k = 0; k < n; k++) {
                _cleanup_free_ char *why = NULL;
                int st = 0;
                if (!members[k])
                        continue;
                r = give_back(list, res, members[k], (ssize_t) i++, NULL, &st, &why);
                if (r < 0)
                        return r;
                if (st < 0 && hd_result_get_status(res) == 0)
                        hd_result_fail(res, ctx, st == -EBUSY ? -EIO : st, "cannot give %s back: %s",
                                       hd_device_get_pci_address(members[k]), why);
        }
        return finish(&res, ret);
}

/* Give back every journaled member of the groups of @addrs[0..@n): the
 * hook's release ("give-back" steps; the first failure is the result's),
 * and the undo of a failed prepare ("rollback" steps).  <0: -ENOMEM. */
static int release_groups(hd_nodedev_list *list, hd_result *res, char **addrs, size_t n, bool rollback) {
        hd_ctx *ctx;

        if (n == 0)
                return 0; /* no list either (the hook with nothing to do) */
        ctx = hd_nodedev_list_get_ctx(list);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ hd_device **members = NULL;
                hd_device *d;
                size_t nm = 0;
                if (hd_nodedev_list_lookup(list, addrs[i], &d) < 0 || group_members(list, d, &members, &nm) < 0)
                        continue;
                for (size_t k = 0; k < nm; k++) {
                        _cleanup_free_ char *why = NULL;
                        const char *addr = hd_device_get_pci_address(members[k]);
                        int st = 0, r;
                        if (hd_device_get_cap_type(members[k]) != HD_CAP_PCI || !hd_vfio_is_journaled(ctx, addr))
                                continue;
                        r = give_back(list, res, members[k], -1, rollback ? "rollback" : "give-back", &st, &why);
                        if (r < 0)
                                return r;
                        if (!rollback && st < 0 && hd_result_get_status(res) == 0)
                                hd_result_fail(res, ctx, st == -EBUSY ? -EIO : st, "cannot give %s back: %s", addr,
                                               why);
                }
        }
        return 0;
}

/* The unmanaged PCI hostdevs of @xml and, when there are any, the host's
 * devices: 0 none (nothing to do), 1 some, <0. */
static int hook_open(hd_ctx *ctx, const char *domain, const char *xml, char ***ret_addrs, size_t *ret_n,
                     hd_nodedev_list **ret_list) {
        int r;

        if (!ctx || isempty(domain) || !xml)
                return -EINVAL;
        hd_error_clear(ctx);
        r = hd_domain_xml_pci_hostdevs(xml, true, ret_addrs, ret_n);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return hd_error(ctx, r, "the domain XML of '%s' does not parse", domain);
        if (*ret_n == 0)
                return 0;
        r = hd_nodedev_list_new(ctx, ret_list);
        return r < 0 ? r : 1;
}

/* Prepare: move the group of each of @addrs to vfio-pci; on a refusal or
 * failure the groups moved before go back.  <0: -ENOMEM. */
static int hook_prepare(hd_nodedev_list *list, hd_result *res, const char *domain, char **addrs, size_t na) {
        hd_ctx *ctx = hd_nodedev_list_get_ctx(list);

        for (size_t i = 0; i < na; i++) {
                _hd_cleanup_result_ hd_result *vr = NULL;
                hd_device *d;
                int r, st;
                if (hd_nodedev_list_lookup(list, addrs[i], &d) < 0) {
                        hd_result_fail(res, ctx, -ENODEV, "domain '%s': no PCI device %s on this host", domain,
                                       addrs[i]);
                        return release_groups(list, res, addrs, i, true);
                }
                r = hd_vfio_detach(list, d, "vfio-pci", HD_VFIO_GROUP, &vr);
                if (r == -ENOMEM)
                        return r;
                st = r < 0 ? r : hd_result_get_status(vr);
                r = add_group_step(res, "detach-group", addrs[i], "detach the IOMMU group to vfio-pci (journaled)",
                                   "vfio-pci", HD_OUTCOME_DONE, st, vr);
                if (r < 0)
                        return r;
                if (st < 0) {
                        hd_result_fail(res, ctx, st, "domain '%s': %s %s: %s", domain,
                                       st == -EBUSY ? "refused to detach" : "cannot detach", addrs[i],
                                       vr ? strempty(hd_result_get_reason(vr)) : strerror(-st));
                        return release_groups(list, res, addrs, i, true);
                }
        }
        return 0;
}

static int hook_run(hd_ctx *ctx, const char *domain, const char *xml, bool prepare, hd_result **ret) {
        _hd_cleanup_result_ hd_result *res = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _cleanup_strv_free_ char **addrs = NULL;
        size_t na = 0;
        int r;

        if (!ret)
                return -EINVAL;
        r = hook_open(ctx, domain, xml, &addrs, &na, &list);
        if (r < 0)
                return r;
        r = hd_result_new(HD_RESULT_DOMAIN, &res);
        if (r < 0)
                return r;
        if (na > 0)
                r = prepare ? hook_prepare(list, res, domain, addrs, na) : release_groups(list, res, addrs, na, false);
        return r < 0 ? r : finish(&res, ret);
}

_public_ int hd_domain_hook_prepare(hd_ctx *ctx, const char *domain, const char *xml, hd_result **ret) {
        return hook_run(ctx, domain, xml, true, ret);
}

_public_ int hd_domain_hook_release(hd_ctx *ctx, const char *domain, const char *xml, hd_result **ret) {
        return hook_run(ctx, domain, xml, false, ret);
}
