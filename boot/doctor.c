/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Passthrough preflight: each check PASS, WARN or FAIL, with the fix.
 * Everything is read through the context root (proc/, sys/, etc/, lib/),
 * so a captured tree is checked like the live host.
 */
#include <ctype.h>
#include <limits.h>

#include "boot/boot-internal.h"

_public_ const char *hd_check_result_to_string(enum hd_check_result r) {
        return r == HD_CHECK_PASS ? "PASS" : r == HD_CHECK_WARN ? "WARN" : "FAIL";
}

struct checks {
        hd_check *v;
        size_t n;
        int err;
};

static void add(struct checks *c, const char *name, const char *subject, enum hd_check_result res, const char *fix,
                const char *fmt, ...) _printf_(6, 7);
static void add(struct checks *c, const char *name, const char *subject, enum hd_check_result res, const char *fix,
                const char *fmt, ...) {
        hd_check *n;
        va_list ap;
        int r;
        if (c->err)
                return;
        n = realloc(c->v, (c->n + 1) * sizeof(*n));
        if (!n) {
                c->err = -ENOMEM;
                return;
        }
        c->v = n;
        n = &n[c->n++];
        *n = (hd_check) { .result = res };
        va_start(ap, fmt);
        r = hd_vasprintf(&n->detail, fmt, ap);
        va_end(ap);
        if (r < 0 || !(n->name = strdup(name)) || (!isempty(subject) && !(n->subject = strdup(subject))) ||
            (!isempty(fix) && !(n->fix = strdup(fix))))
                c->err = -ENOMEM;
}

_public_ void hd_check_array_free(hd_check *v, size_t n) {
        for (size_t i = 0; v && i < n; i++) {
                free(v[i].name);
                free(v[i].subject);
                free(v[i].detail);
                free(v[i].fix);
        }
        free(v);
}

static bool word_in(const char *text, const char *w) {
        size_t l = strlen(w);
        for (const char *p = text; p && (p = strstr(p, w)); p++)
                if ((p == text || isspace((unsigned char) p[-1])) && (!p[l] || isspace((unsigned char) p[l])))
                        return true;
        return false;
}

static bool file_mentions(hd_ctx *ctx, const char *path, const char *what) {
        _cleanup_free_ char *s = NULL;
        return hd_sysfs_read_full(ctx, path, &s, NULL) >= 0 && strstr(s, what);
}

static bool dir_mentions(hd_ctx *ctx, const char *dir, const char *what) {
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0;
        if (hd_sysfs_list_dir(ctx, dir, &names, &n) < 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                char path[PATH_MAX];
                snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
                if (file_mentions(ctx, path, what))
                        return true;
        }
        return false;
}

static void host_checks(hd_ctx *ctx, struct checks *c) {
        _cleanup_free_ char *cpu = NULL, *cmdline = NULL, *osrel = NULL, *lockdown = NULL;
        _cleanup_(hd_iommu_info_freep) hd_iommu_info *ip = NULL;
        hd_iommu_info info = {};
        bool dmar = hd_sysfs_exists(ctx, "sys/firmware/acpi/tables/DMAR");
        bool ivrs = hd_sysfs_exists(ctx, "sys/firmware/acpi/tables/IVRS");
        const char *karg;

        (void) hd_sysfs_read_full(ctx, "proc/cpuinfo", &cpu, NULL);
        (void) hd_sysfs_read_full(ctx, "proc/cmdline", &cmdline, NULL);
        if (hd_iommu_get_info(ctx, &ip) >= 0)
                info = *ip;

        if (!cpu)
                add(c, "cpu-virtualization", NULL, HD_CHECK_WARN, NULL, "cannot read /proc/cpuinfo");
        else if (strstr(cpu, " vmx") || strstr(cpu, " svm"))
                add(c, "cpu-virtualization", NULL, HD_CHECK_PASS, NULL, "%s", strstr(cpu, " vmx") ? "VT-x (vmx)" : "AMD-V (svm)");
        else
                add(c, "cpu-virtualization", NULL, HD_CHECK_FAIL, "enable VT-x / AMD-V (SVM) in the firmware setup",
                    "the CPU flags have neither vmx nor svm");

        if (dmar || ivrs)
                add(c, "iommu-firmware", NULL, HD_CHECK_PASS, NULL, "ACPI %s table present", dmar ? "DMAR (Intel VT-d)" : "IVRS (AMD-Vi)");
        else
                add(c, "iommu-firmware", NULL, info.enabled ? HD_CHECK_WARN : HD_CHECK_FAIL,
                    "enable VT-d / AMD-Vi (IOMMU) in the firmware setup", "no ACPI DMAR or IVRS table");

        karg = dmar || streq_ptr(info.vendor, "intel") || (cpu && strstr(cpu, "GenuineIntel")) ? "intel_iommu=on" : "amd_iommu=on";
        if (info.enabled)
                add(c, "iommu", NULL, HD_CHECK_PASS, NULL, "enabled (%s), %s on the kernel command line",
                    !isempty(info.vendor) ? info.vendor : "unknown vendor",
                    cmdline && word_in(cmdline, karg) ? karg : "no IOMMU argument");
        else {
                char fix[256];
                snprintf(fix, sizeof(fix), "add '%s iommu=pt' to the kernel command line (hostdevctl boot apply DEV does it)%s",
                         karg, dmar || ivrs ? "" : " and enable the IOMMU in the firmware setup");
                add(c, "iommu", NULL, HD_CHECK_FAIL, fix, "no IOMMU groups: the IOMMU is off%s",
                    cmdline && word_in(cmdline, karg) ? "" : " and the kernel command line does not ask for it");
        }
        if (info.intremap == 1)
                add(c, "interrupt-remapping", NULL, HD_CHECK_PASS, NULL, "on (IR- interrupt domains)");
        else if (info.intremap == 0)
                add(c, "interrupt-remapping", NULL, HD_CHECK_FAIL,
                    info.enabled ? "enable interrupt remapping (x2APIC) in the firmware setup"
                                 : (streq(karg, "intel_iommu=on") ? "add 'intel_iommu=on' to the kernel command line"
                                                                  : "add 'amd_iommu=on' to the kernel command line"),
                    "off: vfio refuses devices without it unless allow_unsafe_interrupts=1");
        else
                add(c, "interrupt-remapping", NULL, HD_CHECK_WARN, NULL, "cannot read /proc/interrupts");

        /* vfio modules */
        if (hd_sysfs_exists(ctx, "sys/module/vfio_pci"))
                add(c, "vfio-modules", NULL, HD_CHECK_PASS, NULL, "vfio_pci is loaded");
        else if (hd_sysfs_read_str(ctx, "proc/sys/kernel/osrelease", &osrel) >= 0) {
                char dep[PATH_MAX], builtin[PATH_MAX];
                snprintf(dep, sizeof(dep), "lib/modules/%s/modules.dep", osrel);
                snprintf(builtin, sizeof(builtin), "lib/modules/%s/modules.builtin", osrel);
                if (file_mentions(ctx, dep, "vfio-pci.ko") || file_mentions(ctx, builtin, "vfio-pci.ko"))
                        add(c, "vfio-modules", NULL, HD_CHECK_PASS, NULL, "vfio-pci is available for %s", osrel);
                else
                        add(c, "vfio-modules", NULL, HD_CHECK_FAIL, "install a kernel built with CONFIG_VFIO_PCI",
                            "no vfio-pci module for kernel %s", osrel);
        } else
                add(c, "vfio-modules", NULL, HD_CHECK_WARN, NULL, "cannot tell the running kernel");
        if (hd_sysfs_exists(ctx, "etc/dracut.conf.d/hostdev-vfio.conf") ||
            hd_sysfs_exists(ctx, "etc/mkinitcpio.conf.d/hostdev-vfio.conf") ||
            file_mentions(ctx, "etc/initramfs-tools/modules", "vfio_pci") ||
            file_mentions(ctx, "etc/initramfs-tools/modules", "vfio-pci") ||
            dir_mentions(ctx, "etc/dracut.conf.d", "vfio") || file_mentions(ctx, "etc/mkinitcpio.conf", "vfio_pci"))
                add(c, "vfio-initramfs", NULL, HD_CHECK_PASS, NULL, "the initramfs configuration includes vfio-pci");
        else
                add(c, "vfio-initramfs", NULL, HD_CHECK_WARN, "hostdevctl boot apply DEV adds them",
                    "the vfio modules are not in the initramfs configuration: a host driver in the initramfs binds first");

        /* Secure Boot / lockdown */
        {
                unsigned char sb[5] = {};
                int n = hd_sysfs_read_bytes(ctx, "sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e0c35f8c2d23",
                                            sb, sizeof(sb));
                bool on = n == 5 && sb[4] == 1;
                const char *mode = NULL;
                if (hd_sysfs_read_str(ctx, "sys/kernel/security/lockdown", &lockdown) >= 0)
                        mode = strstr(lockdown, "[integrity]") ? "integrity" : strstr(lockdown, "[confidentiality]") ? "confidentiality" : NULL;
                if (on || mode)
                        add(c, "secure-boot", NULL, HD_CHECK_WARN,
                            "out-of-tree modules (vendor-reset, nvidia) must be signed; vfio-pci itself is fine",
                            "Secure Boot %s, lockdown %s", on ? "on" : "off", mode ?: "none");
                else
                        add(c, "secure-boot", NULL, HD_CHECK_PASS, NULL, "Secure Boot %s, no lockdown",
                            n == 5 ? "off" : "not reported (BIOS boot or no efivars)");
        }
}

static bool softdep_configured(hd_ctx *ctx, const char *module) {
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0;
        char want[128];
        snprintf(want, sizeof(want), "softdep %s pre:", module);
        if (hd_sysfs_list_dir(ctx, "etc/modprobe.d", &names, &n) < 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                char path[PATH_MAX];
                snprintf(path, sizeof(path), "etc/modprobe.d/%s", names[i]);
                if (file_mentions(ctx, path, want))
                        return true;
        }
        return false;
}

static void device_checks(hd_nodedev_list *list, hd_device *d, struct checks *c) {
        hd_ctx *ctx = hd_nodedev_list_get_ctx(list);
        const char *a = hd_device_get_sysname(d), *drv = hd_device_get_driver(d);
        _cleanup_free_ char *methods = NULL, *iomem = NULL;
        long long cls = 0, vga = 0;
        hd_device *blocker = NULL;
        int g = hd_device_get_iommu_group(d);

        if (g < 0)
                add(c, "iommu-group", a, HD_CHECK_FAIL, "turn the IOMMU on (see the iommu check)", "no IOMMU group");
        else if (hd_iommu_group_is_viable(list, (unsigned) g, &blocker) == 1)
                add(c, "iommu-group", a, HD_CHECK_PASS, NULL, "group %d is viable", g);
        else {
                char fix[256];
                snprintf(fix, sizeof(fix), "pass the whole group (boot plan and nodedev-detach --group include %s)",
                         blocker ? hd_device_get_sysname(blocker) : "it");
                add(c, "iommu-group", a, blocker && blocker != d ? HD_CHECK_WARN : HD_CHECK_PASS,
                    blocker && blocker != d ? fix : NULL, "group %d: %s%s%s", g,
                    blocker ? hd_device_get_sysname(blocker) : "", blocker ? " is bound to " : "",
                    blocker ? strempty(hd_device_get_driver(blocker)) : "");
        }
        if (hd_device_read_attr(d, "reset_method", &methods) >= 0 && *hd_strip_both(methods))
                add(c, "reset", a, HD_CHECK_PASS, NULL, "reset methods: %s", hd_strip_both(methods));
        else
                add(c, "reset", a, HD_CHECK_WARN, "the device may not be reset between guests (vendor-reset for some GPUs)",
                    "no reset method");
        (void) hd_device_read_attr_long(d, "class", 16, &cls);
        (void) hd_device_read_attr_long(d, "boot_vga", 10, &vga);
        if ((cls >> 16) == 0x03) {
                bool fb = hd_sysfs_read_full(ctx, "proc/iomem", &iomem, NULL) >= 0 &&
                          (strstr(iomem, "efifb") || strstr(iomem, "simpledrm") || strstr(iomem, "BOOTFB") ||
                           strstr(iomem, "vesafb"));
                if (vga == 1 && fb)
                        add(c, "boot-framebuffer", a, HD_CHECK_FAIL,
                            "add 'video=efifb:off initcall_blacklist=sysfb_init' to the kernel command line, or boot from another GPU",
                            "boot VGA device, and a firmware framebuffer (efifb/simpledrm) holds its BAR");
                else if (vga == 1)
                        add(c, "boot-framebuffer", a, HD_CHECK_WARN, "boot from another GPU if the guest cannot reset it",
                            "boot VGA device (the firmware initialized it)");
                else
                        add(c, "boot-framebuffer", a, HD_CHECK_PASS, NULL, "not the boot VGA device");
        }
        if (drv && !hd_driver_is_passthrough(drv)) {
                _cleanup_free_ char *link = NULL;
                char path[PATH_MAX];
                const char *mod;
                snprintf(path, sizeof(path), "sys/bus/pci/drivers/%s/module", drv);
                mod = hd_sysfs_readlink(ctx, path, &link) >= 0 ? hd_path_basename(link) : NULL;
                if (!mod)
                        add(c, "host-driver", a, HD_CHECK_WARN, "bind it with vfio-pci.ids= on the kernel command line",
                            "%s is built into the kernel and binds it at boot", drv);
                else if (softdep_configured(ctx, mod))
                        add(c, "host-driver", a, HD_CHECK_PASS, NULL, "%s is bound now; a softdep loads the passthrough driver before %s",
                            drv, mod);
                else {
                        char fix[160];
                        snprintf(fix, sizeof(fix), "hostdevctl boot apply %s", a);
                        add(c, "host-driver", a, HD_CHECK_WARN, fix, "%s binds it at boot (no softdep configured)", drv);
                }
        } else
                add(c, "host-driver", a, HD_CHECK_PASS, NULL, "%s", drv ? drv : "no driver bound");
}

_public_ int hd_doctor(hd_nodedev_list *list, hd_device *const *devs, size_t n, hd_check **ret, size_t *ret_n) {
        struct checks c = {};
        if (!list || !ret || !ret_n || (n && !devs))
                return -EINVAL;
        hd_error_clear(hd_nodedev_list_get_ctx(list));
        host_checks(hd_nodedev_list_get_ctx(list), &c);
        for (size_t i = 0; i < n; i++)
                if (hd_device_get_cap_type(devs[i]) == HD_CAP_PCI)
                        device_checks(list, devs[i], &c);
        if (c.err) {
                hd_check_array_free(c.v, c.n);
                return c.err;
        }
        *ret = c.v;
        *ret_n = c.n;
        return 0;
}
