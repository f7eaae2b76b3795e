/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Boot-time passthrough plans: which devices, which kernel arguments,
 * which files for the initramfs generator and the boot loader of a root.
 */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>

#include "boot/boot-internal.h"

#define MAX_BOOT_DEVICES 64

void hd_boot_file_done(hd_boot_file *f) {
        free(f->path);
        free(f->before);
        free(f->after);
        free(f->why);
}

static void boot_device_done(hd_boot_device *d) {
        free(d->addr);
        free(d->ids);
        free(d->driver_now);
        free(d->host_module);
        free(d->reason);
}

_public_ void hd_boot_plan_free(hd_boot_plan *p) {
        if (!p)
                return;
        free(p->root);
        free(p->driver);
        free(p->initramfs);
        free(p->bootloader);
        free(p->iommu_vendor);
        free(p->ids);
        for (size_t i = 0; i < p->n_devices; i++)
                boot_device_done(&p->devices[i]);
        free(p->devices);
        hd_strv_free(p->kargs);
        hd_strv_free(p->notes);
        hd_strv_free(p->commands);
        for (size_t i = 0; i < p->n_files; i++)
                hd_boot_file_done(&p->files[i]);
        free(p->files);
        free(p);
}

static void plan_freep(hd_boot_plan **p) { hd_boot_plan_free(*p); }

int hd_boot_state_dir(hd_ctx *ctx, const char *root, char **ret) {
        const char *sd;
        if (root)
                return hd_asprintf(ret, "%s/var/lib/hostdev/boot", root);
        sd = hd_ctx_get_state_dir(ctx);
        if (!sd)
                return -ENOMEM;
        return hd_asprintf(ret, "%s/boot", sd);
}

int hd_boot_lock(hd_ctx *ctx, const char *root, int *ret_fd) {
        _cleanup_free_ char *dir = NULL, *path = NULL;
        const char *sd = root ? NULL : hd_ctx_get_state_dir(ctx);
        int r;

        if (root ? hd_asprintf(&dir, "%s/var/lib/hostdev", root) < 0 : !sd || !(dir = strdup(sd)))
                return -ENOMEM;
        /* the host's state directory as vfio/ makes it; in a root (an
         * image, a --sysroot tree) as its /var/lib, whatever the state
         * directory: the root's own host finds the journal there, and
         * hostdevd and hostdevctl on one tree take one lock however their
         * --state-dir differs */
        r = hd_mkdir_p_at(AT_FDCWD, dir, root ? 0755 : 0700);
        if (r < 0)
                return hd_error(ctx, r, "cannot create the state directory %s: %s; nothing was changed", dir, strerror(-r));
        if (hd_asprintf(&path, "%s/lock", dir) < 0)
                return -ENOMEM;
        r = hd_state_lock(ctx, path, ret_fd);
        if (r < 0 && r != -ETIMEDOUT)
                return hd_error(ctx, r, "cannot lock %s: %s; nothing was changed", path, strerror(-r));
        return r;
}

static int push(char ***v, size_t *n, const char *s) {
        return hd_strv_push(v, n, strdup(s));
}

static int pushf(char ***v, size_t *n, const char *fmt, ...) _printf_(3, 4);
static int pushf(char ***v, size_t *n, const char *fmt, ...) {
        va_list ap;
        char *s;
        int r;
        va_start(ap, fmt);
        r = hd_vasprintf(&s, fmt, ap);
        va_end(ap);
        return r < 0 ? r : hd_strv_push(v, n, s);
}

/* a warning for humans in the plan */
#define note(p, ...) pushf(&(p)->notes, &(p)->n_notes, __VA_ARGS__)

/* ---- layout detection ---------------------------------------------------- */

static bool any_exists(int rfd, const char *const *paths) {
        for (; *paths; paths++)
                if (hd_root_exists(rfd, *paths))
                        return true;
        return false;
}

static const char *const bls_dirs[] = { "/boot/loader/entries", "/efi/loader/entries", "/boot/efi/loader/entries", NULL };

static int detect_layout(int rfd, hd_boot_plan *p) {
        static const char *const itools[] = { "/etc/initramfs-tools/initramfs.conf", "/usr/sbin/update-initramfs", NULL };
        static const char *const dracut[] = { "/etc/dracut.conf", "/etc/dracut.conf.d", "/usr/bin/dracut", NULL };
        static const char *const mkcpio[] = { "/etc/mkinitcpio.conf", "/usr/bin/mkinitcpio", NULL };
        static const char *const grubby[] = { "/usr/sbin/grubby", "/usr/bin/grubby", "/sbin/grubby", NULL };
        static const char *const sdboot[] = { "/boot/loader/loader.conf", "/efi/loader/loader.conf",
                                              "/boot/efi/loader/loader.conf", NULL };
        bool bls = any_exists(rfd, bls_dirs);
        const char *initramfs = NULL, *bootloader = NULL;

        if (any_exists(rfd, itools))
                initramfs = "initramfs-tools";
        else if (any_exists(rfd, dracut))
                initramfs = "dracut";
        else if (any_exists(rfd, mkcpio))
                initramfs = "mkinitcpio";

        if (bls && any_exists(rfd, grubby))
                bootloader = "grubby (BLS)";
        else if (bls || any_exists(rfd, sdboot))
                bootloader = "systemd-boot";
        else if (hd_root_exists(rfd, "/etc/default/grub"))
                bootloader = "grub";
        else if (hd_root_exists(rfd, "/etc/kernel/cmdline"))
                bootloader = "kernel-install";
        if ((initramfs && !(p->initramfs = strdup(initramfs))) || (bootloader && !(p->bootloader = strdup(bootloader))))
                return -ENOMEM;
        return 0;
}

/* ---- kernel command line edits ------------------------------------------ */

static bool has_token(const char *s, const char *tok) {
        size_t l = strlen(tok);
        for (const char *p = s; (p = strstr(p, tok)); p++)
                if ((p == s || isspace((unsigned char) p[-1]) || p[-1] == '"' || p[-1] == '\'') &&
                    (!p[l] || isspace((unsigned char) p[l]) || p[l] == '"' || p[l] == '\''))
                        return true;
        return false;
}

/* Append the missing @kargs to the words between @v and @e (exclusive). */
static void append_missing(struct hd_buf *b, const char *v, size_t len, char *const *kargs, size_t n) {
        _cleanup_free_ char *cur = strndup(v, len);
        bool empty;
        if (!cur) {
                b->err = -ENOMEM;
                return;
        }
        hd_buf_add(b, v, len);
        empty = !*hd_strip_both(cur);
        for (size_t i = 0; i < n; i++)
                if (!has_token(cur, kargs[i])) {
                        if (!empty)
                                hd_buf_putc(b, ' ');
                        hd_buf_puts(b, kargs[i]);
                        empty = false;
                }
}

/* /etc/default/grub: add @kargs to the last GRUB_CMDLINE_LINUX assignment
 * (a new one when there is none).  Continuation lines and unbalanced quotes
 * are refused rather than guessed at. */
static int grub_edit(hd_ctx *ctx, const char *text, char *const *kargs, size_t n, char **ret) {
        struct hd_buf b = {};
        const char *last = NULL, *p;
        unsigned lineno = 0, last_no = 0;

        for (p = text; *p;) {
                const char *nl = strchrnul(p, '\n'), *q = p;
                char quote = 0;
                lineno++;
                while (q < nl && isspace((unsigned char) *q))
                        q++;
                if (q < nl && *q != '#') {
                        if (nl > q && nl[-1] == '\\') {
                                return hd_error(ctx, -EBADMSG, "/etc/default/grub line %u ends with a backslash: "
                                               "continuation lines are not supported, join them into one line", lineno);
                        }
                        for (const char *c = q; c < nl; c++) {
                                if (quote == 0 && *c == '#' && (c == q || isspace((unsigned char) c[-1])))
                                        break;
                                if (*c == '\\' && quote != '\'' && c + 1 < nl)
                                        c++;
                                else if ((*c == '"' || *c == '\'') && (quote == 0 || quote == *c))
                                        quote = quote ? 0 : *c;
                        }
                        if (quote) {
                                return hd_error(ctx, -EBADMSG, "/etc/default/grub line %u has an unbalanced %s quote",
                                                lineno, quote == '"' ? "double" : "single");
                        }
                        if (startswith(q, "GRUB_CMDLINE_LINUX=")) {
                                last = p;
                                last_no = lineno;
                        }
                }
                p = *nl ? nl + 1 : nl;
        }
        (void) last_no;
        if (!last) {
                hd_buf_puts(&b, text);
                if (*text && text[strlen(text) - 1] != '\n')
                        hd_buf_putc(&b, '\n');
                hd_buf_puts(&b, "GRUB_CMDLINE_LINUX=\"");
                append_missing(&b, "", 0, kargs, n);
                hd_buf_puts(&b, "\"\n");
        } else {
                const char *v = strstr(last, "GRUB_CMDLINE_LINUX=") + strlen("GRUB_CMDLINE_LINUX=");
                const char *nl = strchrnul(v, '\n');
                hd_buf_add(&b, text, (size_t) (v - text));
                if (*v == '"' || *v == '\'') {
                        const char *close = v + 1;
                        while (close < nl && *close != *v) {
                                if (*v == '"' && *close == '\\' && close + 1 < nl)
                                        close++;
                                close++;
                        }
                        hd_buf_putc(&b, *v);
                        append_missing(&b, v + 1, (size_t) (close - v - 1), kargs, n);
                        hd_buf_puts(&b, close);
                } else {
                        const char *e = v;
                        while (e < nl && !isspace((unsigned char) *e))
                                e++;
                        if (strchr("$`", *v)) {
                                hd_buf_done(&b);
                                return hd_error(ctx, -EBADMSG, "/etc/default/grub: GRUB_CMDLINE_LINUX is not a plain value");
                        }
                        hd_buf_putc(&b, '"');
                        append_missing(&b, v, (size_t) (e - v), kargs, n);
                        hd_buf_putc(&b, '"');
                        hd_buf_puts(&b, e);
                }
        }
        return hd_buf_steal(&b, ret);
}

/* BLS entry: add @kargs to the "options" line (a new one when none). */
static int bls_edit(const char *text, char *const *kargs, size_t n, char **ret) {
        struct hd_buf b = {};
        const char *p, *opt = NULL;

        for (p = text; *p;) {
                const char *nl = strchrnul(p, '\n');
                if (startswith(p, "options") && (p[7] == ' ' || p[7] == '\t' || p[7] == '\n' || !p[7]))
                        opt = p;
                p = *nl ? nl + 1 : nl;
        }
        if (!opt) {
                hd_buf_puts(&b, text);
                if (*text && text[strlen(text) - 1] != '\n')
                        hd_buf_putc(&b, '\n');
                hd_buf_puts(&b, "options ");
                append_missing(&b, "", 0, kargs, n);
                hd_buf_putc(&b, '\n');
        } else {
                const char *nl = strchrnul(opt, '\n');
                hd_buf_add(&b, text, (size_t) (opt - text));
                append_missing(&b, opt, (size_t) (nl - opt), kargs, n);
                hd_buf_puts(&b, nl);
        }
        return hd_buf_steal(&b, ret);
}

/* /etc/kernel/cmdline: one line */
static int cmdline_edit(const char *text, char *const *kargs, size_t n, char **ret) {
        struct hd_buf b = {};
        size_t len = strlen(text);
        while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
                len--;
        append_missing(&b, text, len, kargs, n);
        hd_buf_puts(&b, text + len);
        if (!len || text[strlen(text) - 1] != '\n')
                hd_buf_putc(&b, '\n');
        return hd_buf_steal(&b, ret);
}

/* ---- plan building ------------------------------------------------------- */

static int add_file(hd_boot_plan *p, int rfd, const char *path, char *after, unsigned mode, const char *why) {
        _cleanup_free_ char *before = NULL, *a = after;
        unsigned old_mode = 0;
        hd_boot_file *n;
        int r;

        r = hd_root_read(rfd, path, &before, &old_mode);
        if (r < 0 && r != -ENOENT)
                return r;
        if (before && a && streq(before, a))
                return 0;
        if (!before && !a)
                return 0;
        n = realloc(p->files, (p->n_files + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        p->files = n;
        n = &p->files[p->n_files];
        *n = (hd_boot_file) {
                .path = strdup(path),
                .before = TAKE_PTR(before),
                .after = TAKE_PTR(a),
                .mode = before ? old_mode : mode,
                .why = strdup(why),
        };
        p->n_files++;
        if (!n->path || !n->why)
                return -ENOMEM;
        return 0;
}

/* edit an existing file through @edit; absent files are left alone */
static int edit_file(hd_boot_plan *p, int rfd, const char *path, int (*edit)(const char *, char *const *, size_t, char **),
                     const char *why) {
        _cleanup_free_ char *before = NULL;
        char *after = NULL;
        int r = hd_root_read(rfd, path, &before, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = edit(before, p->kargs, p->n_kargs, &after);
        if (r < 0)
                return r;
        return add_file(p, rfd, path, after, 0644, why);
}

static bool plan_has(const hd_boot_plan *p, const char *addr) {
        for (size_t i = 0; i < p->n_devices; i++)
                if (streq(p->devices[i].addr, addr))
                        return true;
        return false;
}

/* the module of @driver; -ENOENT when it is built in */
static int host_module(hd_ctx *ctx, const char *driver, char **ret) {
        _cleanup_free_ char *link = NULL;
        char path[PATH_MAX], *m;
        snprintf(path, sizeof(path), "sys/bus/pci/drivers/%s/module", driver);
        if (hd_sysfs_readlink(ctx, path, &link) < 0)
                return -ENOENT; /* built in */
        m = strdup(hd_path_basename(link));
        if (!m)
                return -ENOMEM;
        *ret = m;
        return 0;
}

static int add_device(hd_boot_plan *p, hd_device *d, const char *reason) {
        hd_boot_device *n, *e;
        struct hd_pci_identity id;
        const char *drv;
        int r;

        if (plan_has(p, hd_device_get_sysname(d)))
                return 0;
        if (p->n_devices >= MAX_BOOT_DEVICES)
                return hd_error(hd_device_get_ctx(d), -E2BIG, "a boot plan holds at most %d devices",
                                MAX_BOOT_DEVICES);
        r = hd_pci_device_read_identity(d, &id);
        if (r < 0)
                return r;
        n = realloc(p->devices, (p->n_devices + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        p->devices = n;
        e = &n[p->n_devices++];
        *e = (hd_boot_device) {};
        drv = hd_device_get_driver(d);
        if (!(e->addr = strdup(hd_device_get_sysname(d))) || hd_asprintf(&e->ids, "%04x:%04x", id.vendor, id.device) < 0 ||
            !(e->reason = strdup(reason)) || (drv && !(e->driver_now = strdup(drv))))
                return -ENOMEM;
        if (drv && !hd_driver_is_passthrough(drv)) {
                r = host_module(hd_device_get_ctx(d), drv, &e->host_module);
                if (r == -ENOENT)
                        return note(p, "%s: its host driver %s is built into the kernel: only the kernel command line "
                                    "can keep it away", e->addr, drv);
                if (r < 0)
                        return r;
        }
        if (!drv)
                return note(p, "%s: no driver is bound now, so no host driver is known to delay", e->addr);
        return 0;
}

/* "intel", "amd" or NULL (unknown) */
static const char *iommu_vendor(hd_ctx *ctx) {
        _cleanup_free_ char *cpu = NULL;
        _cleanup_(hd_iommu_info_freep) hd_iommu_info *info = NULL;

        if (hd_sysfs_exists(ctx, "sys/firmware/acpi/tables/DMAR"))
                return "intel";
        if (hd_sysfs_exists(ctx, "sys/firmware/acpi/tables/IVRS"))
                return "amd";
        if (hd_iommu_get_info(ctx, &info) >= 0 && (streq_ptr(info->vendor, "intel") || streq_ptr(info->vendor, "amd")))
                return streq_ptr(info->vendor, "intel") ? "intel" : "amd";
        if (hd_sysfs_read_full(ctx, "proc/cpuinfo", &cpu, NULL) >= 0)
                return strstr(cpu, "GenuineIntel") ? "intel" : strstr(cpu, "AuthenticAMD") ? "amd" : NULL;
        return NULL;
}

static int cmp_file(const void *a, const void *b) {
        return strcmp(((const hd_boot_file *) a)->path, ((const hd_boot_file *) b)->path);
}

static int gen_modprobe(const hd_boot_plan *p, char **ret) {
        struct hd_buf b = {};
        hd_buf_puts(&b, "# Written by hostdevctl boot apply: binds");
        for (size_t i = 0; i < p->n_devices; i++)
                hd_buf_printf(&b, " %s", p->devices[i].addr);
        hd_buf_printf(&b, " to %s at boot.\n# 'hostdevctl boot undo' removes it.\n", p->driver);
        if (p->by_ids)
                hd_buf_printf(&b, "options %s ids=%s\n", p->driver, p->ids);
        else
                hd_buf_printf(&b, "install %s /bin/sh %s --early; modprobe --ignore-install %s $CMDLINE_OPTS\n",
                              p->driver, HD_BOOT_SCRIPT, p->driver);
        for (size_t i = 0; i < p->n_devices; i++) {
                bool dup = false;
                if (!p->devices[i].host_module)
                        continue;
                for (size_t k = 0; k < i; k++)
                        dup = dup || streq_ptr(p->devices[k].host_module, p->devices[i].host_module);
                if (!dup)
                        hd_buf_printf(&b, "softdep %s pre: %s\n", p->devices[i].host_module, p->driver);
        }
        return hd_buf_steal(&b, ret);
}

static int gen_initramfs(hd_boot_plan *p, int rfd, char *const *extra, size_t n_extra) {
        static const char *const vfio_mods[] = { "vfio", "vfio_iommu_type1", "vfio_pci", NULL };
        static const char *const stub_mods[] = { "pci_stub", NULL };
        const char *const *mods = streq(p->driver, "vfio-pci") ? vfio_mods : stub_mods;
        struct hd_buf b = {};
        char *s = NULL;
        int r;

        if (streq_ptr(p->initramfs, "initramfs-tools")) {
                _cleanup_free_ char *cur = NULL;
                r = hd_root_read(rfd, "/etc/initramfs-tools/modules", &cur, NULL);
                if (r < 0 && r != -ENOENT)
                        return r;
                hd_buf_puts(&b, strempty(cur));
                if (cur && *cur && cur[strlen(cur) - 1] != '\n')
                        hd_buf_putc(&b, '\n');
                for (size_t i = 0; mods[i]; i++) {
                        bool have = false;
                        for (const char *q = cur; q && *q;) {
                                const char *nl = strchrnul(q, '\n');
                                size_t l = strlen(mods[i]);
                                if ((size_t) (nl - q) >= l && strncmp(q, mods[i], l) == 0 &&
                                    (q[l] == '\n' || q[l] == ' ' || !q[l]))
                                        have = true;
                                q = *nl ? nl + 1 : nl;
                        }
                        if (!have)
                                hd_buf_printf(&b, "%s\n", mods[i]);
                }
                if ((r = hd_buf_steal(&b, &s)) < 0 ||
                    (r = add_file(p, rfd, "/etc/initramfs-tools/modules", s, 0644,
                                  "load the vfio modules from the initramfs")) < 0)
                        return r;
                hd_buf_puts(&b, "#!/bin/sh\n# Written by hostdevctl boot apply: puts hostdev's boot-time bindings "
                            "into the initramfs.\n"
                            "PREREQ=\"\"\nprereqs() { echo \"$PREREQ\"; }\n"
                            "case \"$1\" in prereqs) prereqs; exit 0 ;; esac\n"
                            ". /usr/share/initramfs-tools/hook-functions\n");
                for (size_t i = 0; mods[i]; i++)
                        hd_buf_printf(&b, "manual_add_modules %s\n", mods[i]);
                hd_buf_puts(&b, "for f in " HD_BOOT_MODPROBE);
                for (size_t i = 0; i < n_extra; i++)
                        hd_buf_printf(&b, " %s", extra[i]);
                hd_buf_puts(&b, "; do\n\t[ -e \"$f\" ] || continue\n\tmkdir -p \"$DESTDIR${f%/*}\"\n"
                            "\tcp -p \"$f\" \"$DESTDIR$f\"\ndone\nexit 0\n");
                if ((r = hd_buf_steal(&b, &s)) < 0)
                        return r;
                return add_file(p, rfd, "/etc/initramfs-tools/hooks/hostdev-vfio", s, 0755,
                                "copy the modprobe configuration and the bindings into the initramfs");
        }
        if (streq_ptr(p->initramfs, "dracut")) {
                hd_buf_puts(&b, "# Written by hostdevctl boot apply; 'hostdevctl boot undo' removes it.\nforce_drivers+=\"");
                for (size_t i = 0; mods[i]; i++)
                        hd_buf_printf(&b, " %s", mods[i]);
                hd_buf_puts(&b, " \"\ninstall_items+=\" " HD_BOOT_MODPROBE);
                for (size_t i = 0; i < n_extra; i++)
                        hd_buf_printf(&b, " %s", extra[i]);
                hd_buf_puts(&b, " \"\n");
                if ((r = hd_buf_steal(&b, &s)) < 0)
                        return r;
                return add_file(p, rfd, "/etc/dracut.conf.d/hostdev-vfio.conf", s, 0644,
                                "load the vfio modules first in the initramfs, with the modprobe configuration");
        }
        if (streq_ptr(p->initramfs, "mkinitcpio")) {
                hd_buf_puts(&b, "# Written by hostdevctl boot apply; 'hostdevctl boot undo' removes it.\nMODULES+=(");
                for (size_t i = 0; mods[i]; i++)
                        hd_buf_printf(&b, "%s%s", i ? " " : "", mods[i]);
                hd_buf_puts(&b, ")\nFILES+=(" HD_BOOT_MODPROBE);
                for (size_t i = 0; i < n_extra; i++)
                        hd_buf_printf(&b, " %s", extra[i]);
                hd_buf_puts(&b, ")\n");
                if ((r = hd_buf_steal(&b, &s)) < 0)
                        return r;
                return add_file(p, rfd, "/etc/mkinitcpio.conf.d/hostdev-vfio.conf", s, 0644,
                                "load the vfio modules first in the initramfs, with the modprobe configuration");
        }
        return note(p, "no initramfs generator found (initramfs-tools, dracut, mkinitcpio): the vfio modules "
                    "load from the root filesystem");
}

static int gen_bootloader(hd_ctx *ctx, hd_boot_plan *p, int rfd) {
        int r;

        if (hd_root_exists(rfd, "/etc/default/grub")) {
                _cleanup_free_ char *cur = NULL;
                char *after = NULL;
                if ((r = hd_root_read(rfd, "/etc/default/grub", &cur, NULL)) < 0)
                        return r;
                if ((r = grub_edit(ctx, cur, p->kargs, p->n_kargs, &after)) < 0)
                        return r;
                if ((r = add_file(p, rfd, "/etc/default/grub", after, 0644,
                                  "kernel arguments for GRUB (GRUB_CMDLINE_LINUX)")) < 0)
                        return r;
        }
        if (p->bootloader && (startswith(p->bootloader, "grubby") || streq(p->bootloader, "systemd-boot")))
                for (size_t k = 0; bls_dirs[k]; k++) {
                        _cleanup_strv_free_ char **names = NULL;
                        size_t n = 0;
                        if (hd_root_list_dir(rfd, bls_dirs[k], &names, &n) < 0)
                                continue;
                        for (size_t i = 0; i < n; i++) {
                                char path[PATH_MAX];
                                size_t l = strlen(names[i]);
                                if (l < 6 || !streq(names[i] + l - 5, ".conf"))
                                        continue;
                                snprintf(path, sizeof(path), "%s/%s", bls_dirs[k], names[i]);
                                if ((r = edit_file(p, rfd, path, bls_edit,
                                                   "kernel arguments of this boot entry (its options line)")) < 0)
                                        return r;
                        }
                }
        if ((r = edit_file(p, rfd, "/etc/kernel/cmdline", cmdline_edit,
                           "kernel arguments for kernels installed later (kernel-install)")) < 0)
                return r;
        if (!p->bootloader)
                return hd_error(ctx, -ENOENT, "no boot loader configuration found in %s (/etc/default/grub, "
                                "/boot/loader/entries, /etc/kernel/cmdline)", p->root ?: "/");
        return 0;
}

static int gen_commands(hd_boot_plan *p, int rfd) {
        int r = 0;
        if (streq_ptr(p->initramfs, "initramfs-tools"))
                r = push(&p->commands, &p->n_commands, "update-initramfs -u -k all");
        else if (streq_ptr(p->initramfs, "dracut"))
                r = push(&p->commands, &p->n_commands, "dracut -f --regenerate-all");
        else if (streq_ptr(p->initramfs, "mkinitcpio"))
                r = push(&p->commands, &p->n_commands, "mkinitcpio -P");
        if (r < 0)
                return r;
        if (streq_ptr(p->bootloader, "grub")) {
                if (hd_root_exists(rfd, "/usr/sbin/update-grub"))
                        r = push(&p->commands, &p->n_commands, "update-grub");
                else if (hd_root_exists(rfd, "/boot/grub2"))
                        r = push(&p->commands, &p->n_commands, "grub2-mkconfig -o /boot/grub2/grub.cfg");
                else
                        r = push(&p->commands, &p->n_commands, "grub-mkconfig -o /boot/grub/grub.cfg");
        } else if (streq_ptr(p->bootloader, "kernel-install"))
                r = push(&p->commands, &p->n_commands, "kernel-install add-all");
        return r;
}

_public_ int hd_boot_plan_new(hd_nodedev_list *list, const char *root, hd_device *const *devs, size_t n,
                              unsigned flags, hd_boot_plan **ret) {
        _cleanup_(plan_freep) hd_boot_plan *p = NULL;
        _cleanup_strv_free_ char **extra = NULL;
        _cleanup_close_ int rfd = -1;
        const char *vendor;
        hd_ctx *ctx;
        size_t n_extra = 0;
        char *s = NULL;
        int r;

        if (!list || !ret || (n && !devs))
                return -EINVAL;
        ctx = hd_nodedev_list_get_ctx(list);
        hd_error_clear(ctx);
        r = hd_boot_root_open(ctx, root, &rfd);
        if (r < 0)
                return r;
        p = calloc(1, sizeof(*p));
        if (!p || (root && !(p->root = strdup(root))) ||
            !(p->driver = strdup((flags & HD_BOOT_STUB) ? "pci-stub" : "vfio-pci")))
                return -ENOMEM;
        if ((r = detect_layout(rfd, p)) < 0)
                return r;

        /* devices: the requested ones, then their IOMMU group mates */
        for (size_t i = 0; i < n; i++) {
                hd_device *d = devs[i];
                if (hd_device_get_cap_type(d) != HD_CAP_PCI)
                        return hd_error(ctx, -EINVAL, "%s is not a PCI device", hd_device_get_name(d));
                if (hd_pci_device_is_bridge(d))
                        return hd_error(ctx, -EINVAL, "%s is a PCI bridge: bridges are not passed through",
                                        hd_device_get_sysname(d));
                if (!(flags & HD_BOOT_FORCE)) {
                        long long vga = 0;
                        if (hd_device_read_attr_long(d, "boot_vga", 10, &vga) >= 0 && vga == 1)
                                return hd_error(ctx, -EBUSY,
                                                "refused: %s is the boot console GPU (boot_vga): the firmware "
                                                "and the kernel console draw on it (use --force to override)",
                                                hd_device_get_sysname(d));
                        r = hd_host_safety_check(list, d);
                        if (r == -EBUSY)
                                return hd_error(ctx, r, "refused: %s (use --force to override)", hd_ctx_get_error(ctx));
                }
                if ((r = add_device(p, d, "requested")) < 0)
                        return r;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ hd_device **mates = NULL;
                size_t nm = 0;
                int g = hd_device_get_iommu_group(devs[i]);
                char why[160];
                if (g < 0) {
                        r = note(p, "%s has no IOMMU group: the IOMMU is off on this host; the kernel arguments "
                                 "below turn it on", hd_device_get_sysname(devs[i]));
                        if (r < 0)
                                return r;
                        continue;
                }
                if ((r = hd_iommu_group_get_devices(list, (unsigned) g, &mates, &nm)) < 0)
                        return r;
                snprintf(why, sizeof(why), "IOMMU group %d mate of %s", g, hd_device_get_sysname(devs[i]));
                for (size_t k = 0; k < nm; k++) {
                        if (hd_device_get_cap_type(mates[k]) != HD_CAP_PCI || hd_pci_device_is_bridge(mates[k]) ||
                            plan_has(p, hd_device_get_sysname(mates[k])))
                                continue;
                        if (!(flags & HD_BOOT_FORCE) && hd_host_safety_check(list, mates[k]) == -EBUSY)
                                return hd_error(ctx, -EBUSY,
                                                "refused: %s must go with %s (same IOMMU group), but %s "
                                                "(use --force to override)",
                                                hd_device_get_sysname(mates[k]), hd_device_get_sysname(devs[i]),
                                                hd_ctx_get_error(ctx));
                        if ((r = add_device(p, mates[k], why)) < 0)
                                return r;
                }
        }

        /* vfio-pci.ids= only when every device with those ids goes */
        p->by_ids = p->n_devices > 0;
        for (size_t i = 0; i < hd_nodedev_list_count(list) && p->by_ids; i++) {
                hd_device *d = hd_nodedev_list_get(list, i);
                struct hd_pci_identity id;
                char ids[16];
                bool wanted = false;
                if (hd_device_get_cap_type(d) != HD_CAP_PCI || hd_pci_device_read_identity(d, &id) < 0)
                        continue;
                snprintf(ids, sizeof(ids), "%04x:%04x", id.vendor, id.device);
                for (size_t k = 0; k < p->n_devices; k++)
                        wanted = wanted || streq(p->devices[k].ids, ids);
                if (wanted && !plan_has(p, hd_device_get_sysname(d))) {
                        p->by_ids = false;
                        r = note(p, "%s has the same ids (%s) and stays on the host: binding by address, "
                                 "not by %s.ids=", hd_device_get_sysname(d), ids, p->driver);
                        if (r < 0)
                                return r;
                }
        }
        if (p->by_ids) {
                struct hd_buf b = {};
                for (size_t i = 0; i < p->n_devices; i++) {
                        bool dup = false;
                        for (size_t k = 0; k < i; k++)
                                dup = dup || streq(p->devices[k].ids, p->devices[i].ids);
                        if (!dup)
                                hd_buf_printf(&b, "%s%s", b.len ? "," : "", p->devices[i].ids);
                }
                if ((r = hd_buf_steal(&b, &p->ids)) < 0)
                        return r;
        }

        /* kernel arguments */
        vendor = iommu_vendor(ctx);
        if (vendor && !(p->iommu_vendor = strdup(vendor)))
                return -ENOMEM;
        if (streq_ptr(vendor, "intel"))
                r = push(&p->kargs, &p->n_kargs, "intel_iommu=on");
        else if (streq_ptr(vendor, "amd"))
                r = push(&p->kargs, &p->n_kargs, "amd_iommu=on");
        else
                r = note(p, "the IOMMU vendor is unknown (no ACPI DMAR or IVRS table): no intel_iommu=/amd_iommu= argument");
        if (r < 0 || (r = push(&p->kargs, &p->n_kargs, "iommu=pt")) < 0)
                return r;
        if (p->by_ids && (r = pushf(&p->kargs, &p->n_kargs, "%s.ids=%s", p->driver, p->ids)) < 0)
                return r;

        /* files */
        if ((r = gen_modprobe(p, &s)) < 0 ||
            (r = add_file(p, rfd, HD_BOOT_MODPROBE, s, 0644,
                          "load the passthrough driver before each host driver (softdep)")) < 0)
                return r;
        if (!p->by_ids) {
                for (size_t i = 0; i < p->n_devices; i++) {
                        hd_device *d = NULL;
                        char path[PATH_MAX];
                        char *idt = NULL;
                        if ((r = hd_nodedev_list_lookup(list, p->devices[i].addr, &d)) < 0)
                                return r;
                        snprintf(path, sizeof(path), HD_DRIVERCTL_DIR "/pci-%s", p->devices[i].addr);
                        if ((r = push(&extra, &n_extra, path)) < 0)
                                return r;
                        if ((r = hd_asprintf(&s, "%s\n", p->driver)) < 0 ||
                            (r = add_file(p, rfd, path, TAKE_PTR(s), 0644,
                                          "the per-address binding (driverctl's format)")) < 0)
                                return r;
                        snprintf(path, sizeof(path), HD_OVERRIDE_ID_DIR "/pci-%s", p->devices[i].addr);
                        if ((r = push(&extra, &n_extra, path)) < 0 || (r = hd_override_identity_text(d, &idt)) < 0 ||
                            (r = add_file(p, rfd, path, idt, 0644,
                                          "the device's identity: a renumbered slot holding another device is skipped")) < 0)
                                return r;
                }
                if ((r = push(&extra, &n_extra, HD_BOOT_SCRIPT)) < 0 ||
                    (r = add_file(p, rfd, HD_BOOT_SCRIPT, strdup(hd_override_script), 0755,
                                  "sets driver_override before the host driver loads (run by modprobe and udev)")) < 0 ||
                    (r = add_file(p, rfd, HD_BOOT_UDEV_RULE, strdup(hd_override_udev_rule), 0644,
                                  "applies the binding to a hotplugged device")) < 0)
                        return r;
        }
        if ((r = gen_initramfs(p, rfd, extra, n_extra)) < 0)
                return r;
        if ((r = gen_bootloader(ctx, p, rfd)) < 0)
                return r;
        if ((r = gen_commands(p, rfd)) < 0)
                return r;
        if (p->n_files > 1)
                qsort(p->files, p->n_files, sizeof(*p->files), cmp_file);
        *ret = TAKE_PTR(p);
        return 0;
}

/* ---- output -------------------------------------------------------------- */

_public_ int hd_boot_plan_format_text(const hd_boot_plan *p, char **ret) {
        struct hd_buf b = {};

        hd_buf_printf(&b, "Root: %s\n", p->root ?: "/ (this host)");
        hd_buf_printf(&b, "Initramfs generator: %s\n", p->initramfs ?: "none found");
        hd_buf_printf(&b, "Boot loader: %s\n", p->bootloader ?: "none found");
        hd_buf_printf(&b, "Devices bound to %s at boot:\n", p->driver);
        for (size_t i = 0; i < p->n_devices; i++) {
                const hd_boot_device *d = &p->devices[i];
                hd_buf_printf(&b, "  %s [%s] %s, now %s", d->addr, d->ids, d->reason, d->driver_now ?: "unbound");
                if (d->host_module)
                        hd_buf_printf(&b, "; %s loads after %s", d->host_module, p->driver);
                hd_buf_putc(&b, '\n');
        }
        hd_buf_printf(&b, "Binding: %s\n",
                      p->by_ids ? "by ids on the kernel command line (every device with these ids goes)"
                                : "by address: driver_override is set before the host driver loads, after an identity check");
        hd_buf_puts(&b, "Kernel arguments:");
        for (size_t i = 0; i < p->n_kargs; i++)
                hd_buf_printf(&b, " %s", p->kargs[i]);
        hd_buf_putc(&b, '\n');
        for (size_t i = 0; i < p->n_notes; i++)
                hd_buf_printf(&b, "Note: %s\n", p->notes[i]);
        if (!p->n_files)
                hd_buf_puts(&b, "Files: nothing to change (already applied)\n");
        else
                hd_buf_puts(&b, "Files:\n");
        for (size_t i = 0; i < p->n_files; i++)
                hd_buf_printf(&b, "  %-7s %s: %s\n", !p->files[i].before ? "create" : !p->files[i].after ? "remove" : "edit",
                              p->files[i].path, p->files[i].why);
        if (p->n_commands) {
                hd_buf_puts(&b, "Then run:\n");
                for (size_t i = 0; i < p->n_commands; i++)
                        hd_buf_printf(&b, "  %s%s%s%s\n", p->root ? "chroot " : "", p->root ?: "", p->root ? " " : "",
                                      p->commands[i]);
        }
        return hd_buf_steal(&b, ret);
}

_public_ int hd_boot_plan_format_diff(const hd_boot_plan *p, char **ret) {
        struct hd_buf b = {};
        for (size_t i = 0; i < p->n_files; i++)
                hd_diff_unified(&b, p->files[i].path, p->files[i].before, p->files[i].after);
        if (!b.s && !b.err)
                hd_buf_puts(&b, "");
        return hd_buf_steal(&b, ret);
}
