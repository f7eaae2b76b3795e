/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Persistent per-device driver overrides in driverctl's format
 * (/etc/driverctl.d/pci-ADDR holds the driver name), each with the
 * identity of the device it was made for (/etc/hostdev/overrides/pci-ADDR).
 * A shell script applies them from modprobe (at boot, before the host
 * driver loads) and from udev (hotplug); it skips a slot that now holds
 * another device.
 */
#include <limits.h>

#include "boot/boot-internal.h"
#include "util/result-internal.h"

const char hd_override_script[] =
"#!/bin/sh\n"
"# Written by hostdevctl: applies driver overrides in driverctl's format\n"
"# (/etc/driverctl.d/pci-ADDR holds a driver name) before the host driver\n"
"# binds, after checking the identity hostdev recorded for the device\n"
"# (/etc/hostdev/overrides/pci-ADDR): a slot that now holds another device\n"
"# is logged and skipped.\n"
"#   hostdev-override.sh --early      every override; driver_override only\n"
"#                                    (run by modprobe before the driver loads)\n"
"#   hostdev-override.sh ADDR...      also rebind if another driver has it (udev)\n"
"sys=${HOSTDEV_SYSFS:-/sys}\n"
"etc=${HOSTDEV_ETC:-/etc}\n"
"early=0\n"
"if [ \"$1\" = --early ]; then early=1; shift; fi\n"
"log() {\n"
"\techo \"hostdev-override: $*\" >&2\n"
"\tif [ -z \"$HOSTDEV_SYSFS\" ] && [ -w /dev/kmsg ]; then echo \"hostdev-override: $*\" > /dev/kmsg; fi\n"
"}\n"
"hex4() { v=$(cat \"$1\" 2>/dev/null) || return 1; printf '%04x' \"$((v))\"; }\n"
"rd32() { od -An -tx4 -j \"$2\" -N4 \"$1\" 2>/dev/null | tr -d ' \\n'; }\n"
"# PCIe Device Serial Number, as hostdev prints it\n"
"dsn() {\n"
"\tpos=256 n=0\n"
"\twhile [ \"$pos\" -ge 256 ] && [ $n -lt 64 ]; do\n"
"\t\th=$(rd32 \"$1/config\" $pos); [ -n \"$h\" ] || return 1\n"
"\t\th=$((0x$h))\n"
"\t\tif [ $((h & 0xffff)) -eq 3 ]; then\n"
"\t\t\tlo=$((0x$(rd32 \"$1/config\" $((pos + 4))))) hi=$((0x$(rd32 \"$1/config\" $((pos + 8)))))\n"
"\t\t\tprintf '%02x-%02x-%02x-%02x-%02x-%02x-%02x-%02x' $((hi >> 24 & 255)) $((hi >> 16 & 255)) \\\n"
"\t\t\t\t$((hi >> 8 & 255)) $((hi & 255)) $((lo >> 24 & 255)) $((lo >> 16 & 255)) $((lo >> 8 & 255)) $((lo & 255))\n"
"\t\t\treturn 0\n"
"\t\tfi\n"
"\t\tpos=$((h >> 20 & 0xffc)) n=$((n + 1))\n"
"\tdone\n"
"\treturn 1\n"
"}\n"
"apply_one() {\n"
"\ta=$1 f=$etc/driverctl.d/pci-$1\n"
"\t[ -r \"$f\" ] || return 0\n"
"\tread -r drv < \"$f\" || [ -n \"$drv\" ] || return 0\n"
"\tdev=$sys/bus/pci/devices/$a\n"
"\tif [ ! -e \"$dev\" ]; then log \"$a: no such device; override skipped\"; return 0; fi\n"
"\tidf=$etc/hostdev/overrides/pci-$a\n"
"\tif [ -r \"$idf\" ]; then\n"
"\t\twhile IFS='=' read -r k v; do\n"
"\t\t\tcase $k in\n"
"\t\t\tvendor|device|subsystem_vendor|subsystem_device)\n"
"\t\t\t\thave=$(hex4 \"$dev/$k\")\n"
"\t\t\t\tif [ \"$have\" != \"$v\" ]; then\n"
"\t\t\t\t\tlog \"$a: $k is ${have:-unreadable}, the override is for $v (hardware moved?); skipped\"\n"
"\t\t\t\t\treturn 0\n"
"\t\t\t\tfi ;;\n"
"\t\t\tdsn)\n"
"\t\t\t\t[ -n \"$v\" ] || continue\n"
"\t\t\t\thave=$(dsn \"$dev\")\n"
"\t\t\t\tif [ \"$have\" != \"$v\" ]; then\n"
"\t\t\t\t\tlog \"$a: serial number is ${have:-unreadable}, the override is for $v (hardware moved?); skipped\"\n"
"\t\t\t\t\treturn 0\n"
"\t\t\t\tfi ;;\n"
"\t\t\tesac\n"
"\t\tdone < \"$idf\"\n"
"\tfi\n"
"\tif ! echo \"$drv\" > \"$dev/driver_override\"; then log \"$a: cannot set driver_override\"; return 0; fi\n"
"\t[ $early = 1 ] && return 0\n"
"\t[ -z \"$HOSTDEV_SYSFS\" ] && modprobe -q \"$drv\" 2>/dev/null\n"
"\t# A host driver loaded for a sibling device (another udev worker) may\n"
"\t# have matched this one before driver_override was set: its probe ends\n"
"\t# with it bound, after this script looked.  driver_override keeps any\n"
"\t# other driver out from now on, so check again after each probe.\n"
"\tn=0\n"
"\twhile :; do\n"
"\t\tcur=\n"
"\t\t[ -e \"$dev/driver\" ] && cur=$(readlink \"$dev/driver\") && cur=${cur##*/}\n"
"\t\t[ \"$cur\" = \"$drv\" ] && return 0\n"
"\t\t[ $n -ge 3 ] && break\n"
"\t\t[ -n \"$cur\" ] && echo \"$a\" > \"$dev/driver/unbind\"\n"
"\t\techo \"$a\" > \"$sys/bus/pci/drivers_probe\"\n"
"\t\tn=$((n + 1))\n"
"\tdone\n"
"\tlog \"$a: on ${cur:-no driver}, not $drv, after $n probes\"\n"
"\treturn 0\n"
"}\n"
"if [ $# -eq 0 ]; then\n"
"\tfor f in \"$etc\"/driverctl.d/pci-*; do\n"
"\t\t[ -e \"$f\" ] && apply_one \"${f##*/pci-}\"\n"
"\tdone\n"
"else\n"
"\tfor a in \"$@\"; do apply_one \"$a\"; done\n"
"fi\n"
"exit 0\n";

const char hd_override_udev_rule[] =
"# Written by hostdevctl: driver overrides (driverctl's /etc/driverctl.d format,\n"
"# checked against the device identity) for hotplugged PCI devices, applied\n"
"# while the event is processed, before the host driver's module is loaded.\n"
"ACTION==\"add\", SUBSYSTEM==\"pci\", TEST==\"/etc/driverctl.d/pci-$kernel\", "
"PROGRAM=\"/bin/sh " HD_BOOT_SCRIPT " $kernel\"\n";

int hd_override_identity_text(hd_device *d, char **ret) {
        struct hd_pci_identity id;
        int r = hd_pci_device_read_identity(d, &id);
        if (r < 0)
                return r;
        return hd_asprintf(ret,
                           "# Written by hostdevctl: the device the override of %s was made for.\n"
                           "# A slot that holds another device is skipped.\n"
                           "vendor=%04x\ndevice=%04x\nsubsystem_vendor=%04x\nsubsystem_device=%04x\n"
                           "dsn=%s\nserial=%s\n",
                           hd_device_get_sysname(d), id.vendor, id.device, id.subsystem_vendor, id.subsystem_device,
                           id.serial_is_dsn ? id.serial : "", id.serial);
}

static int parse_identity(const char *text, struct hd_pci_identity *ret) {
        struct hd_pci_identity id = {};
        unsigned got = 0;
        for (const char *p = text; *p;) {
                const char *nl = strchrnul(p, '\n');
                char key[32], val[160];
                unsigned v;
                if (sscanf(p, "%31[a-z_]=%159[^\n]", key, val) == 2) {
                        if (streq(key, "serial")) {
                                /* we write at most sizeof(id.serial) - 1: a longer one is not ours */
                                if (snprintf(id.serial, sizeof(id.serial), "%s", val) >= (int) sizeof(id.serial))
                                        return -EBADMSG;
                        } else if (hd_safe_atou(val, 16, &v) >= 0) {
                                if (streq(key, "vendor"))
                                        id.vendor = v, got |= 1;
                                else if (streq(key, "device"))
                                        id.device = v, got |= 2;
                                else if (streq(key, "subsystem_vendor"))
                                        id.subsystem_vendor = v, got |= 4;
                                else if (streq(key, "subsystem_device"))
                                        id.subsystem_device = v, got |= 8;
                        }
                }
                p = *nl ? nl + 1 : nl;
        }
        if (got != 15)
                return -EBADMSG;
        *ret = id;
        return 0;
}

static bool valid_addr(const char *addr) {
        struct hd_pci_addr a;
        return strlen(addr) == 12 && hd_pci_addr_parse(addr, &a) >= 0;
}

static int write_if_different(int rfd, const char *path, const char *text, unsigned mode) {
        _cleanup_free_ char *cur = NULL;
        if (hd_root_read(rfd, path, &cur, NULL) >= 0 && streq(cur, text))
                return 0;
        int r = hd_root_write_atomic(rfd, path, text, mode, NULL, NULL);
        return r < 0 ? r : 1;
}

_public_ int hd_override_set(hd_nodedev_list *list, const char *root, hd_device *d, const char *driver,
                             unsigned flags) {
        _cleanup_free_ char *idt = NULL, *drv = NULL;
        _cleanup_close_ int rfd = -1, lock = -1;
        char path[PATH_MAX];
        hd_ctx *ctx;
        int r, changed = 0;

        if (!list || !d || !driver)
                return -EINVAL;
        ctx = hd_nodedev_list_get_ctx(list);
        hd_error_clear(ctx);
        if (hd_device_get_cap_type(d) != HD_CAP_PCI || !valid_addr(hd_device_get_sysname(d)))
                return hd_error(ctx, -EINVAL, "%s is not a PCI function", hd_device_get_name(d));
        if (!*driver || strchr(driver, '/') || strchr(driver, '\n') || strlen(driver) >= 64)
                return hd_error(ctx, -EINVAL, "'%s' is not a driver name", driver);
        if ((r = hd_boot_root_open(ctx, root, &rfd)) < 0)
                return r;
        if ((r = hd_override_identity_text(d, &idt)) < 0 || (r = hd_asprintf(&drv, "%s\n", driver)) < 0)
                return r;
        if (flags & HD_BOOT_DRY_RUN)
                return 0;
        /* serialized with the other writes of this state directory */
        if ((r = hd_boot_lock(ctx, root, &lock)) < 0)
                return r;
        struct { const char *path; const char *text; unsigned mode; } files[] = {
                { HD_BOOT_SCRIPT, hd_override_script, 0755 },
                { HD_BOOT_UDEV_RULE, hd_override_udev_rule, 0644 },
                { NULL, idt, 0644 },
                { NULL, drv, 0644 },
        };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                if (i == 2)
                        snprintf(path, sizeof(path), HD_OVERRIDE_ID_DIR "/pci-%s", hd_device_get_sysname(d));
                else if (i == 3)
                        snprintf(path, sizeof(path), HD_DRIVERCTL_DIR "/pci-%s", hd_device_get_sysname(d));
                r = write_if_different(rfd, files[i].path ?: path, files[i].text, files[i].mode);
                if (r < 0)
                        return hd_error(ctx, r, "cannot write %s: %s", files[i].path ?: path, strerror(-r));
                changed |= r;
        }
        return changed;
}

_public_ int hd_override_unset(hd_nodedev_list *list, const char *root, const char *addr, unsigned flags) {
        _cleanup_close_ int rfd = -1, lock = -1;
        char path[PATH_MAX];
        hd_ctx *ctx;
        int r;

        if (!list || !addr)
                return -EINVAL;
        ctx = hd_nodedev_list_get_ctx(list);
        hd_error_clear(ctx);
        if (!valid_addr(addr))
                return hd_error(ctx, -EINVAL, "expected a PCI address");
        if ((r = hd_boot_root_open(ctx, root, &rfd)) < 0)
                return r;
        snprintf(path, sizeof(path), HD_DRIVERCTL_DIR "/pci-%s", addr);
        if (!hd_root_exists(rfd, path))
                return hd_error(ctx, -ENOENT, "no override for %s", addr);
        if (flags & HD_BOOT_DRY_RUN)
                return 0;
        if ((r = hd_boot_lock(ctx, root, &lock)) < 0)
                return r;
        if ((r = hd_root_unlink(rfd, path)) < 0)
                return hd_error(ctx, r, "cannot remove %s: %s", path, strerror(-r));
        snprintf(path, sizeof(path), HD_OVERRIDE_ID_DIR "/pci-%s", addr);
        r = hd_root_unlink(rfd, path);
        if (r < 0)
                return hd_error(ctx, r, "cannot remove %s: %s", path, strerror(-r));
        return 0;
}

_public_ void hd_override_array_free(hd_override *v, size_t n) {
        for (size_t i = 0; v && i < n; i++) {
                free(v[i].addr);
                free(v[i].driver);
                free(v[i].ids);
                free(v[i].subsys);
                free(v[i].serial);
                free(v[i].now);
                free(v[i].why);
        }
        free(v);
}

/* One override record of ROOT/etc/driverctl.d/pci-@addr (@drv its content),
 * checked against the device there now. */
static int override_fill(hd_nodedev_list *list, int rfd, const char *addr, char *drv, hd_override *o) {
        _cleanup_free_ char *idt = NULL;
        struct hd_pci_identity want, have;
        hd_device *d = NULL;
        char path[PATH_MAX];
        const char *now;

        if (!(o->addr = strdup(addr)) || !(o->driver = strdup(hd_strip_both(drv))))
                return -ENOMEM;
        snprintf(path, sizeof(path), HD_OVERRIDE_ID_DIR "/pci-%s", addr);
        if (hd_root_read(rfd, path, &idt, NULL) >= 0 && parse_identity(idt, &want) >= 0) {
                o->has_identity = true;
                if (hd_asprintf(&o->ids, "%04x:%04x", want.vendor, want.device) < 0 ||
                    hd_asprintf(&o->subsys, "%04x:%04x", want.subsystem_vendor, want.subsystem_device) < 0 ||
                    (want.serial[0] && !(o->serial = strdup(want.serial))))
                        return -ENOMEM;
        }
        if (hd_nodedev_list_lookup(list, addr, &d) < 0 || hd_device_get_cap_type(d) != HD_CAP_PCI) {
                o->match = "absent";
                return 0;
        }
        now = hd_device_get_driver(d);
        if (now && !(o->now = strdup(now)))
                return -ENOMEM;
        if (!o->has_identity)
                o->match = "unchecked";
        else {
                char why[256] = "";
                o->match = "ok";
                if (hd_pci_device_read_identity(d, &have) < 0 ||
                    hd_pci_identity_compare(&want, &have, why, sizeof(why)) < 0) {
                        o->match = "mismatch";
                        if (why[0] && !(o->why = strdup(why)))
                                return -ENOMEM;
                }
        }
        return 0;
}

_public_ int hd_override_list(hd_nodedev_list *list, const char *root, hd_override **ret, size_t *ret_n) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_close_ int rfd = -1;
        hd_override *v;
        hd_ctx *ctx;
        size_t n = 0, k = 0;
        int r;

        if (!list || !ret || !ret_n)
                return -EINVAL;
        ctx = hd_nodedev_list_get_ctx(list);
        hd_error_clear(ctx);
        if ((r = hd_boot_root_open(ctx, root, &rfd)) < 0)
                return r;
        r = hd_root_list_dir(rfd, HD_DRIVERCTL_DIR, &names, &n);
        if (r == -ENOENT)
                n = 0;
        else if (r < 0)
                return hd_error(ctx, r, "cannot read %s: %s", HD_DRIVERCTL_DIR, strerror(-r));
        v = calloc(n + 1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *drv = NULL;
                char path[PATH_MAX];
                const char *addr = startswith(names[i], "pci-");

                if (!addr || !valid_addr(addr))
                        continue; /* other buses: not ours to judge */
                snprintf(path, sizeof(path), HD_DRIVERCTL_DIR "/%s", names[i]);
                if (hd_root_read(rfd, path, &drv, NULL) < 0)
                        continue;
                r = override_fill(list, rfd, addr, drv, &v[k++]);
                if (r < 0) {
                        hd_override_array_free(v, k);
                        return r;
                }
        }
        *ret = v;
        *ret_n = k;
        return 0;
}

/* "8086:10d3 subsystem 8086:a01f serial 00-1b-..." */
static void identity_words(const struct hd_pci_identity *id, char *buf, size_t size) {
        snprintf(buf, size, "%04x:%04x subsystem %04x:%04x%s%s", id->vendor, id->device, id->subsystem_vendor,
                 id->subsystem_device, id->serial[0] ? " serial " : "", id->serial);
}

/* The persisted override of @d (driverctl's file, and hostdev's identity
 * record when there is one) applied to @d, which just appeared. */
static int override_apply_one(hd_nodedev_list *list, int rfd, hd_device *d, const char *drv, unsigned flags,
                              hd_result **ret) {
        _cleanup_free_ char *idt = NULL;
        _hd_cleanup_result_ hd_result *res = NULL;
        struct hd_pci_identity want, have;
        hd_ctx *ctx = hd_nodedev_list_get_ctx(list);
        const char *addr = hd_device_get_sysname(d), *now = hd_device_get_driver(d);
        char path[PATH_MAX], why[256] = "";
        int r;

        snprintf(path, sizeof(path), HD_OVERRIDE_ID_DIR "/pci-%s", addr);
        /* a driverctl file without hostdev's record is applied unchecked,
         * as driverctl and the override script do */
        if (hd_root_read(rfd, path, &idt, NULL) >= 0) {
                if (parse_identity(idt, &want) < 0)
                        why[0] = 0, r = -EBADMSG;
                else if ((r = hd_pci_device_read_identity(d, &have)) >= 0)
                        r = hd_pci_identity_compare(&want, &have, why, sizeof(why));
                if (r < 0) {
                        char w[200] = "?", h[200] = "unreadable";
                        if (r != -EBADMSG)
                                identity_words(&want, w, sizeof(w));
                        if (r == -ESTALE)
                                identity_words(&have, h, sizeof(h));
                        if ((r = hd_result_new(HD_RESULT_DRIVERS, &res)) < 0 ||
                            (r = hd_result_add_step(res, &(struct hd_result_step_spec) {
                                     .subject = addr, .from = strempty(now), .to = drv,
                                     .outcome = HD_OUTCOME_SKIPPED, .error = -ESTALE,
                                     .error_text = why[0] ? why : "identity record unreadable" })) < 0)
                                return r;
                        hd_result_fail(res, ctx, -EBUSY,
                                       "%s: the persisted override to %s was made for %s, the device there now is %s "
                                       "(%s): not applied",
                                       addr, drv, w, h, why[0] ? why : "identity record unreadable");
                        *ret = TAKE_PTR(res);
                        return 0;
                }
        }
        if (!streq(drv, "vfio-pci") && !streq(drv, "pci-stub")) {
                if ((r = hd_result_new(HD_RESULT_DRIVERS, &res)) < 0 ||
                    (r = hd_result_add_step(res, &(struct hd_result_step_spec) {
                             .subject = addr, .from = strempty(now), .to = drv, .outcome = HD_OUTCOME_SKIPPED,
                             .error = -EOPNOTSUPP, .error_text = "not a passthrough driver" })) < 0)
                        return r;
                hd_result_fail(res, ctx, -EOPNOTSUPP,
                               "%s: the persisted override to %s is left to the override script (udev): only vfio-pci "
                               "and pci-stub overrides are applied here",
                               addr, drv);
                *ret = TAKE_PTR(res);
                return 0;
        }
        /* the journaled transaction of nodedev-detach */
        r = hd_vfio_detach(list, d, drv, flags & HD_VFIO_DRY_RUN, &res);
        if (r < 0) {
                int e = r;
                if ((r = hd_result_new(HD_RESULT_DRIVERS, &res)) < 0 ||
                    (r = hd_result_add_step(res, &(struct hd_result_step_spec) {
                             .subject = addr, .from = strempty(now), .to = drv, .outcome = HD_OUTCOME_FAILED,
                             .error = e, .error_text = hd_ctx_get_error(ctx) })) < 0)
                        return r;
                hd_result_fail(res, ctx, e, "%s: cannot apply the persisted override to %s: %s", addr, drv,
                               hd_ctx_get_error(ctx) ?: strerror(-e));
        }
        *ret = TAKE_PTR(res);
        return 0;
}

_public_ int hd_device_apply_persisted(hd_nodedev_list *list, const char *root, hd_device *d, unsigned flags,
                                       hd_result **ret) {
        _cleanup_free_ char *drv = NULL;
        _cleanup_close_ int rfd = -1;
        char path[PATH_MAX];
        hd_ctx *ctx;
        int r;

        if (!list || !d || !ret || (flags & ~(unsigned) HD_VFIO_DRY_RUN))
                return -EINVAL;
        ctx = hd_nodedev_list_get_ctx(list);
        hd_error_clear(ctx);
        if (hd_device_get_cap_type(d) != HD_CAP_PCI || !valid_addr(hd_device_get_sysname(d)))
                return 0;       /* nothing is persisted for other devices */
        if ((r = hd_boot_root_open(ctx, root, &rfd)) < 0)
                return r;
        snprintf(path, sizeof(path), HD_DRIVERCTL_DIR "/pci-%s", hd_device_get_sysname(d));
        r = hd_root_read(rfd, path, &drv, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return hd_error(ctx, r, "cannot read %s: %s", path, strerror(-r));
        const char *driver = hd_strip_both(drv);
        if (!*driver)
                return 0;       /* an empty driverctl file: no override */
        r = override_apply_one(list, rfd, d, driver, flags, ret);
        return r < 0 ? r : 1;
}
