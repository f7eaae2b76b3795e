/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PCI function reset through the kernel's "reset" attribute. */
#include <limits.h>

#include "nodedev/device.h"
#include "util/result-internal.h"
#include "vfio/vfio-internal.h"

/* The body of hd_pci_reset: 0 reset (kernel method in @method), 1 skipped
 * (why in *@reason), <0 refused or failed (why in *@reason, NULL without
 * memory). */
static int reset(hd_nodedev_list *list, hd_device *d, unsigned flags, char *method, size_t msize, char **reason) {
        _cleanup_free_ char *methods = NULL;
        const char *drv;
        char path[PATH_MAX];
        hd_ctx *ctx = hd_nodedev_list_get_ctx(list);
        int r;

        if (hd_pci_device_is_bridge(d)) {
                hd_asprintf(reason, "%s is a bridge: resetting it would reset everything behind it",
                            hd_device_get_sysname(d));
                return -EINVAL;
        }
        r = hd_ctx_check_in_use(ctx, "pci", hd_device_get_sysname(d), flags & HD_VFIO_FORCE, reason);
        if (r < 0)
                return r;
        drv = hd_device_get_driver(d);
        if (drv && hd_driver_is_passthrough(drv) && !streq(drv, "pci-stub")) {
                snprintf(method, msize, "none");
                hd_asprintf(reason, "%s is bound to %s, which resets it itself", hd_device_get_sysname(d), drv);
                return 1;
        }
        /* A reset takes the device away from its driver as surely as a
         * detach: the same host-safety rules (a FLR of the controller under
         * a mounted filesystem hangs the next I/O on it). */
        if (!(flags & HD_VFIO_FORCE)) {
                r = hd_host_safety_reason(list, d, reason);
                if (r < 0)
                        return r;
        }
        hd_pci_path(path, sizeof(path), hd_device_get_sysname(d), "reset");
        if (!hd_sysfs_exists(ctx, path)) {
                hd_asprintf(reason, "the kernel offers no reset method for %s", hd_device_get_sysname(d));
                return -EOPNOTSUPP;
        }
        if (hd_device_read_attr(d, "reset_method", &methods) >= 0) {
                /* "flr bus": the kernel tries them in this order */
                size_t l = strcspn(methods, " ");
                snprintf(method, msize, "%.*s", (int) l, methods);
        } else
                snprintf(method, msize, "unknown");

        if (streq(method, "bus") && !(flags & HD_VFIO_FORCE)) {
                /* a secondary bus reset hits every function below the same bridge */
                hd_device *parent = hd_device_get_parent(d);
                for (size_t i = 0; parent && i < hd_device_get_n_children(parent); i++) {
                        hd_device *s = hd_device_get_child(parent, i);
                        const char *sd;
                        if (s == d || hd_device_get_cap_type(s) != HD_CAP_PCI)
                                continue;
                        sd = hd_device_get_driver(s);
                        if (sd && !hd_driver_is_passthrough(sd)) {
                                hd_asprintf(reason, "only a bus reset is possible and %s (driver %s) shares the bus",
                                            hd_device_get_sysname(s), sd);
                                return -EBUSY;
                        }
                }
        }
        r = hd_sysfs_write(ctx, path, "1");
        if (r < 0) {
                hd_asprintf(reason, "reset of %s failed: %s", hd_device_get_sysname(d), strerror(-r));
                return r;
        }
        return 0;
}

_public_ int hd_pci_reset(hd_nodedev_list *list, hd_device *d, unsigned flags, hd_result **ret) {
        _hd_cleanup_result_ hd_result *res = NULL;
        _cleanup_free_ char *reason = NULL;
        char method[64] = "";
        int r;

        if (!list || !d || hd_device_get_cap_type(d) != HD_CAP_PCI || !ret)
                return -EINVAL;
        r = hd_result_new(HD_RESULT_RESET, &res);
        if (r < 0)
                return r;
        r = reset(list, d, flags, method, sizeof(method), &reason);
        if (r < 0)
                hd_result_fail(res, hd_nodedev_list_get_ctx(list), r, "%s", reason ?: strerror(-r));
        else if (r == 1)
                hd_result_set_reason(res, "%s", strempty(reason));
        if (hd_result_add_step(res, &(struct hd_result_step_spec) {
                    .subject = hd_device_get_name(d), .action = "reset", .to = method[0] ? method : NULL,
                    .outcome = r == 0 ? HD_OUTCOME_DONE : r == 1 ? HD_OUTCOME_SKIPPED
                               : r == -EBUSY ? HD_OUTCOME_NOT_ATTEMPTED : HD_OUTCOME_FAILED,
                    .error = r < 0 ? r : 0, .error_text = r < 0 ? reason : NULL }) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(res);
        return 0;
}

_public_ int hd_pci_get_reset_methods(hd_device *d, char *buf, size_t size) {
        _cleanup_free_ char *methods = NULL;
        char path[PATH_MAX];

        if (!d || hd_device_get_cap_type(d) != HD_CAP_PCI || !buf || !size)
                return -EINVAL;
        buf[0] = 0;
        if (hd_device_read_attr(d, "reset_method", &methods) >= 0) {
                snprintf(buf, size, "%s", methods);
                return 0;
        }
        /* kernels before 5.15 have "reset" without "reset_method" */
        hd_pci_path(path, sizeof(path), hd_device_get_sysname(d), "reset");
        if (hd_sysfs_exists(hd_device_get_ctx(d), path)) {
                snprintf(buf, size, "unknown");
                return 0;
        }
        return -ENOENT;
}
