/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A fake kernel for fake sysfs trees: gives the library's writes to
 * driver_override, drivers/<d>/bind|unbind, drivers_probe and reset, and
 * its module loading, their kernel meaning by editing the tree's links.
 * Test code: it touches the tree with plain syscalls.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "fake-kernel.h"
#include "util/internal.h"

struct native {
        char addr[32];
        char driver[64];
};

struct fake_kernel {
        char root[PATH_MAX];
        struct native *natives;
        size_t n_natives;
        unsigned resets;
        char fail_probe[32];
        unsigned modprobes;
};

/* root + "/" + a + b, where the caller builds the relative part */
static int pathf(char *buf, size_t size, const char *root, const char *prefix, const char *a, const char *suffix) {
        return snprintf(buf, size, "%s/%s%s%s", root, prefix, a, suffix ? suffix : "") >= (int) size ? -ENAMETOOLONG : 0;
}

static int pathf2(char *buf, size_t size, const char *root, const char *prefix, const char *a, const char *mid,
                  const char *b) {
        return snprintf(buf, size, "%s/%s%s%s%s", root, prefix, a, mid, b) >= (int) size ? -ENAMETOOLONG : 0;
}

static const char *native_of(struct fake_kernel *k, const char *addr) {
        for (size_t i = 0; i < k->n_natives; i++)
                if (streq(k->natives[i].addr, addr))
                        return k->natives[i].driver;
        return NULL;
}

/* the real device directory of addr, relative to root ("sys/devices/...") */
static int device_dir(struct fake_kernel *k, const char *addr, char *buf, size_t size) {
        char link[PATH_MAX], real[PATH_MAX];
        pathf(link, sizeof(link), k->root, "sys/bus/pci/devices/", addr, "");
        if (!realpath(link, real))
                return -ENODEV;
        if (!startswith(real, k->root))
                return -EINVAL;
        snprintf(buf, size, "%s", real + strlen(k->root) + 1);
        return 0;
}

static void current_driver(struct fake_kernel *k, const char *addr, char *buf, size_t size) {
        char link[PATH_MAX], target[PATH_MAX];
        ssize_t n;
        pathf(link, sizeof(link), k->root, "sys/bus/pci/devices/", addr, "/driver");
        n = readlink(link, target, sizeof(target) - 1);
        buf[0] = 0;
        if (n > 0) {
                target[n] = 0;
                snprintf(buf, size, "%s", hd_path_basename(target));
        }
}

static void read_override(struct fake_kernel *k, const char *addr, char *buf, size_t size) {
        char path[PATH_MAX];
        FILE *f;
        buf[0] = 0;
        pathf(path, sizeof(path), k->root, "sys/bus/pci/devices/", addr, "/driver_override");
        f = fopen(path, "re");
        if (f) {
                if (fgets(buf, (int) size, f))
                        hd_strip(buf);
                fclose(f);
        }
        if (streq(buf, "(null)"))
                buf[0] = 0;
}

static int iommu_group_of(struct fake_kernel *k, const char *addr) {
        char link[PATH_MAX], target[PATH_MAX];
        ssize_t n;
        pathf(link, sizeof(link), k->root, "sys/bus/pci/devices/", addr, "/iommu_group");
        n = readlink(link, target, sizeof(target) - 1);
        if (n <= 0)
                return -1;
        target[n] = 0;
        return atoi(hd_path_basename(target));
}

static void update_vfio_node(struct fake_kernel *k, int group) {
        char dir[PATH_MAX], node[PATH_MAX];
        DIR *d;
        struct dirent *de;
        bool any = false;

        if (group < 0)
                return;
        snprintf(dir, sizeof(dir), "%s/sys/kernel/iommu_groups/%d/devices", k->root, group);
        d = opendir(dir);
        while (d && (de = readdir(d))) {
                char drv[64];
                if (de->d_name[0] == '.')
                        continue;
                current_driver(k, de->d_name, drv, sizeof(drv));
                if (streq(drv, "vfio-pci"))
                        any = true;
        }
        if (d)
                closedir(d);
        snprintf(node, sizeof(node), "%s/dev/vfio", k->root);
        mkdir(node, 0755);
        snprintf(node, sizeof(node), "%s/dev/vfio/%d", k->root, group);
        if (any) {
                int fd = open(node, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                if (fd >= 0)
                        close(fd);
        } else
                unlink(node);
}

static int do_bind(struct fake_kernel *k, const char *addr, const char *drv) {
        char devdir[PATH_MAX], link[PATH_MAX], target[PATH_MAX], back[PATH_MAX], now[64];
        int depth = 0, r;

        current_driver(k, addr, now, sizeof(now));
        if (now[0])
                return -EBUSY;
        pathf(link, sizeof(link), k->root, "sys/bus/pci/drivers/", drv, "");
        if (access(link, F_OK) < 0)
                return -ENODEV;
        r = device_dir(k, addr, devdir, sizeof(devdir));
        if (r < 0)
                return r;
        for (const char *p = devdir; *p; p++)
                if (*p == '/')
                        depth++;
        target[0] = 0;
        for (int i = 0; i <= depth; i++)
                strcat(target, "../");
        strcat(target, "bus/pci/drivers/");
        strcat(target, drv);
        snprintf(link, sizeof(link), "%s/%s/driver", k->root, devdir);
        if (symlink(target, link) < 0)
                return -errno;
        snprintf(back, sizeof(back), "../../../../%s", devdir + strlen("sys/"));
        pathf2(link, sizeof(link), k->root, "sys/bus/pci/drivers/", drv, "/", addr);
        (void) symlink(back, link);
        if (streq(drv, "vfio-pci"))
                update_vfio_node(k, iommu_group_of(k, addr));
        return 0;
}

static int do_unbind(struct fake_kernel *k, const char *addr, const char *drv) {
        char link[PATH_MAX], now[64];
        current_driver(k, addr, now, sizeof(now));
        if (!streq(now, drv))
                return -ENODEV;
        pathf(link, sizeof(link), k->root, "sys/bus/pci/devices/", addr, "/driver");
        unlink(link);
        pathf2(link, sizeof(link), k->root, "sys/bus/pci/drivers/", drv, "/", addr);
        unlink(link);
        if (streq(drv, "vfio-pci"))
                update_vfio_node(k, iommu_group_of(k, addr));
        return 0;
}

static int write_plain(struct fake_kernel *k, const char *rel, const char *value) {
        char path[PATH_MAX];
        int fd;
        snprintf(path, sizeof(path), "%s/%s", k->root, rel);
        fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, value, strlen(value)) < 0) {
                close(fd);
                return -errno;
        }
        close(fd);
        return 0;
}

/* Fault injection for the kill-at-every-step tests: with
 * HOSTDEV_FAKE_KILL_AT=N the process SIGKILLs itself just before its Nth
 * kernel write (or module load), counted over the whole process. */
static unsigned kernel_steps;

static void maybe_kill(void) {
        const char *e = getenv("HOSTDEV_FAKE_KILL_AT");
        kernel_steps++;
        if (e && (unsigned) atoi(e) == kernel_steps)
                raise(SIGKILL);
        if (getenv("HOSTDEV_FAKE_COUNT_STEPS"))
                fprintf(stderr, "fake-kernel: step %u\n", kernel_steps);
}

/* Failure injection at the kernel boundary (docs/testing.md), the same
 * variables as tests/inject.c reads for the real hostdevctl:
 * HOSTDEV_TEST_FAIL_BIND=ADDR: drivers_probe of ADDR fails with EIO (the
 * bind to the new driver fails); HOSTDEV_TEST_DELAY_MS=N: sleep N ms after
 * each drivers_probe (to kill the process mid-transaction).  Read at each
 * write: test-vfio sets them around single calls. */
static bool probe_fails(const char *addr) {
        const char *f = getenv("HOSTDEV_TEST_FAIL_BIND");
        return f && streq(f, addr);
}

static void probe_delay(void) {
        const char *d = getenv("HOSTDEV_TEST_DELAY_MS");
        unsigned ms;
        if (d && hd_safe_atou(d, 10, &ms) >= 0) {
                struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
        }
}

/* HOSTDEV_TEST_KILL_AT_FILE=N: SIGKILL between the Nth atomic file write's
 * fsync and its rename (util/strutil.c hd_write_file_atomic), the worst
 * point for a journal, record or config file.  The test programs link the
 * library statically, so this definition of rename() is the one the
 * library's objects bind to; a rename of any other file passes through. */
int rename(const char *oldpath, const char *newpath) {
        static unsigned n;
        static const char tmp[] = ".hostdev-tmp";
        size_t l = strlen(oldpath);

        if (l >= sizeof(tmp) - 1 && streq(oldpath + l - (sizeof(tmp) - 1), tmp)) {
                const char *e = getenv("HOSTDEV_TEST_KILL_AT_FILE");
                unsigned want;
                n++;
                if (e && hd_safe_atou(e, 10, &want) >= 0 && want == n)
                        raise(SIGKILL);
        }
        return renameat(AT_FDCWD, oldpath, AT_FDCWD, newpath);
}

/* Option ROM: reads of "rom" fail (the file is empty) until "1" is
 * written; then it holds DEVDIR/.rom-image; "0" empties it again.  Every
 * write is logged to ROOT/.fake-kernel-rom.log ("ADDR VALUE"). */
static int fake_rom_write(struct fake_kernel *k, const char *addr, const char *rel, const char *v) {
        char path[PATH_MAX], image[PATH_MAX + 16], log[PATH_MAX + 32];
        FILE *f;
        int fd;

        snprintf(log, sizeof(log), "%s/.fake-kernel-rom.log", k->root);
        f = fopen(log, "ae");
        if (f) {
                fprintf(f, "%s %s\n", addr, v);
                fclose(f);
        }
        if (!streq(v, "0") && !streq(v, "1"))
                return -EINVAL;
        snprintf(path, sizeof(path), "%s/%s", k->root, rel);
        fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (streq(v, "1")) {
                char buf[65536];
                ssize_t n;
                int in;
                snprintf(image, sizeof(image), "%s/.rom-image", path);
                *strrchr(image, '/') = 0;            /* .../rom/.rom-image → .../rom */
                *strrchr(image, '/') = 0;            /* → device dir */
                strcat(image, "/.rom-image");
                in = open(image, O_RDONLY | O_CLOEXEC);
                while (in >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
                        if (write(fd, buf, (size_t) n) != n)
                                break;
                if (in >= 0)
                        close(in);
        }
        close(fd);
        return 0;
}

/* NVIDIA per-VF vGPU: current_vgpu_type takes an id of the VF's
 * creatable_vgpu_types while it is 0, and 0 to remove. */
static int fake_vgpu_write(struct fake_kernel *k, const char *rel, const char *v) {
        char path[PATH_MAX], list[PATH_MAX + 16], line[256], cur[32] = "0";
        bool found = false;
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", k->root, rel);
        f = fopen(path, "re");
        if (!f)
                return -ENOENT;
        if (fgets(cur, sizeof(cur), f))
                hd_strip(cur);
        fclose(f);
        if (streq(v, "0"))
                return streq(cur, "0") ? -ENODEV : write_plain(k, rel, "0\n");
        if (!streq(cur, "0"))
                return -EBUSY;
        snprintf(list, sizeof(list), "%s", path);
        *strrchr(list, '/') = 0;
        strcat(list, "/creatable_vgpu_types");
        f = fopen(list, "re");
        while (f && fgets(line, sizeof(line), f)) {
                unsigned id;
                if (sscanf(line, "%u :", &id) == 1 && (unsigned) atoi(v) == id)
                        found = true;
        }
        if (f)
                fclose(f);
        if (!found)
                return -EINVAL;
        snprintf(line, sizeof(line), "%s\n", v);
        return write_plain(k, rel, line);
}

static int fk_write(hd_ctx *ctx, const char *path, const char *value, void *userdata) {
        struct fake_kernel *k = userdata;
        char addr[64], drv[64], attr[64], v[128];
        (void) ctx;

        maybe_kill();
        snprintf(v, sizeof(v), "%s", value);
        hd_strip(v);
        {
                int r = fake_sriov_write(k, k->root, path, value);
                if (r != -ENOTTY)
                        return r;
                r = fake_mdev_write(k, k->root, path, value);
                if (r != -ENOTTY)
                        return r;
        }
        if (sscanf(path, "sys/bus/pci/drivers/%63[^/]/%63s", drv, attr) == 2) {
                if (streq(attr, "bind")) {
                        char ovr[64];
                        const char *native = native_of(k, v);
                        read_override(k, v, ovr, sizeof(ovr));
                        if (ovr[0] && !streq(ovr, drv))
                                return -EINVAL;
                        if (!ovr[0] && !(native && streq(native, drv)))
                                return -ENODEV;
                        return do_bind(k, v, drv);
                }
                if (streq(attr, "unbind"))
                        return do_unbind(k, v, drv);
                return -EPERM;
        }
        if (streq(path, "sys/bus/pci/drivers_probe")) {
                char ovr[64], now[64];
                const char *native;
                if (probe_fails(v))
                        return -EIO;
                current_driver(k, v, now, sizeof(now));
                if (!now[0] && !streq(k->fail_probe, v)) {
                        read_override(k, v, ovr, sizeof(ovr));
                        native = native_of(k, v);
                        if (ovr[0])
                                (void) do_bind(k, v, ovr);
                        else if (native)
                                (void) do_bind(k, v, native);
                }
                probe_delay();
                return 0;
        }
        if (sscanf(path, "sys/bus/pci/devices/%63[^/]/%63s", addr, attr) == 2) {
                if (streq(attr, "driver_override"))
                        return write_plain(k, path, v);
                if (streq(attr, "rom"))
                        return fake_rom_write(k, addr, path, v);
                if (streq(attr, "nvidia/current_vgpu_type"))
                        return fake_vgpu_write(k, path, v);
                if (streq(attr, "reset")) {
                        if (!streq(v, "1"))
                                return -EINVAL;
                        k->resets++;
                        return 0;
                }
        }
        return write_plain(k, path, value);
}

static int fk_modprobe(hd_ctx *ctx, const char *module, void *userdata) {
        struct fake_kernel *k = userdata;
        char dir[PATH_MAX];
        static const char *const files[] = { "bind", "unbind", "new_id", "remove_id" };
        (void) ctx;

        maybe_kill();
        k->modprobes++;
        if (!streq(module, "vfio-pci") && !streq(module, "pci-stub"))
                return -ENOENT;
        snprintf(dir, sizeof(dir), "%s/sys/bus/pci/drivers/%s", k->root, module);
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                char f[PATH_MAX + 16];
                int fd;
                snprintf(f, sizeof(f), "%s/%s", dir, files[i]);
                fd = open(f, O_WRONLY | O_CREAT | O_CLOEXEC, 0200);
                if (fd >= 0)
                        close(fd);
        }
        return 0;
}

static const struct hd_kernel_ops fk_ops = { .write = fk_write, .modprobe = fk_modprobe };

int fake_kernel_attach(hd_ctx *ctx, const char *root, struct fake_kernel **ret) {
        struct fake_kernel *k = calloc(1, sizeof(*k));
        char dir[PATH_MAX];
        DIR *d;
        struct dirent *de;

        if (!k)
                return -ENOMEM;
        /* for CLI tests: HOSTDEV_FAKE_FAIL_PROBE=ADDR (no driver takes ADDR) */
        if (getenv("HOSTDEV_FAKE_FAIL_PROBE"))
                snprintf(k->fail_probe, sizeof(k->fail_probe), "%s", getenv("HOSTDEV_FAKE_FAIL_PROBE"));
        if (!realpath(root, k->root)) {
                free(k);
                return -errno;
        }
        /* The driver each device had when the tree was first seen is its
         * native one; remembered in the tree across fake-kernel instances
         * (a "boot" of the fake machine). */
        {
                char db[PATH_MAX + 32];
                FILE *f;
                snprintf(db, sizeof(db), "%s/.fake-kernel-natives", k->root);
                f = fopen(db, "re");
                if (f) {
                        char a[32], drvname[64];
                        while (fscanf(f, "%31s %63s", a, drvname) == 2) {
                                struct native *n = realloc(k->natives, (k->n_natives + 1) * sizeof(*n));
                                if (!n)
                                        break;
                                k->natives = n;
                                snprintf(n[k->n_natives].addr, sizeof(n->addr), "%s", a);
                                snprintf(n[k->n_natives].driver, sizeof(n->driver), "%s", drvname);
                                k->n_natives++;
                        }
                        fclose(f);
                        hd_ctx_set_kernel_ops(ctx, &fk_ops, k);
                        *ret = k;
                        return 0;
                }
        }
        snprintf(dir, sizeof(dir), "%s/sys/bus/pci/devices", k->root);
        d = opendir(dir);
        while (d && (de = readdir(d))) {
                char drv[64];
                struct native *n;
                if (de->d_name[0] == '.')
                        continue;
                current_driver(k, de->d_name, drv, sizeof(drv));
                if (!drv[0] || streq(drv, "vfio-pci") || streq(drv, "pci-stub"))
                        continue;
                n = realloc(k->natives, (k->n_natives + 1) * sizeof(*n));
                if (!n)
                        break;
                k->natives = n;
                snprintf(n[k->n_natives].addr, sizeof(n->addr), "%s", de->d_name);
                snprintf(n[k->n_natives].driver, sizeof(n->driver), "%s", drv);
                k->n_natives++;
        }
        if (d)
                closedir(d);
        {
                char db[PATH_MAX + 32];
                FILE *f;
                snprintf(db, sizeof(db), "%s/.fake-kernel-natives", k->root);
                f = fopen(db, "we");
                for (size_t i = 0; f && i < k->n_natives; i++)
                        fprintf(f, "%s %s\n", k->natives[i].addr, k->natives[i].driver);
                if (f)
                        fclose(f);
        }
        hd_ctx_set_kernel_ops(ctx, &fk_ops, k);
        *ret = k;
        return 0;
}

void fake_kernel_free(struct fake_kernel *k) {
        if (!k)
                return;
        free(k->natives);
        free(k);
}

unsigned fake_kernel_resets(struct fake_kernel *k) { return k->resets; }
unsigned fake_kernel_modprobes(struct fake_kernel *k) { return k->modprobes; }
void fake_kernel_fail_probe(struct fake_kernel *k, const char *addr) {
        snprintf(k->fail_probe, sizeof(k->fail_probe), "%s", addr ? addr : "");
}

void fake_kernel_count_from_zero(void) { kernel_steps = 0; }
