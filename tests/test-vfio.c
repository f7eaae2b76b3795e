/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Passthrough logic on a fake tree with a fake kernel (TAP):
 *   test-vfio SYSROOT STATEDIR
 * SYSROOT is a fresh copy of the "full" fixture; it is modified.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "fake-env.h"
#include "nodedev/device.h"
#include "tap.h"

static const char *root, *state;


static void driver_of(const char *addr, char *buf, size_t size) {
        fake_driver_of(root, addr, buf, size);
}

static bool bound_to(const char *addr, const char *drv) {
        char now[64];
        driver_of(addr, now, sizeof(now));
        return streq(now, drv);
}

static void write_file(const char *rel, const char *content) {
        char p[PATH_MAX], dir[PATH_MAX];
        FILE *f;
        snprintf(p, sizeof(p), "%s/%s", root, rel);
        snprintf(dir, sizeof(dir), "mkdir -p \"$(dirname '%s')\"", p);
        if (system(dir) != 0)
                abort();
        f = fopen(p, "we");
        if (!f)
                abort();
        fputs(content, f);
        fclose(f);
}

static void remove_file(const char *rel) {
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/%s", root, rel);
        unlink(p);
}

static int detach(const char *addr, const char *drv, unsigned flags, hd_result **res) {
        struct env e;
        int r;
        fake_env_open(&e, root, state, HD_LOG_ERR);
        r = hd_vfio_detach(e.list, dev(&e, addr), drv, flags, res);
        env_close(&e);
        return r;
}

static int reattach(const char *addr, unsigned flags, hd_result **res) {
        struct env e;
        int r;
        fake_env_open(&e, root, state, HD_LOG_ERR);
        r = hd_vfio_reattach(e.list, dev(&e, addr), flags, res);
        env_close(&e);
        return r;
}

static char *record_path(const char *addr) {
        static char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/devices/%s.json", state, addr);
        return p;
}

static char *vfio_node(int group) {
        static char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/dev/vfio/%d", root, group);
        return p;
}

#define NIC "0000:00:1f.6"
#define GPU "0000:01:00.0"
#define GPU_AUDIO "0000:01:00.1"

static void test_single(void) {
        hd_result *res = NULL;
        char orig[64], override[64] = "";
        int r;

        driver_of(NIC, orig, sizeof(orig));
        CHECK(streq(orig, "e1000e"), "fixture: %s starts on e1000e (%s)", NIC, orig);

        r = detach(NIC, "vfio-pci", 0, &res);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && hd_result_get_n_steps(res) == 1 && hd_result_step_get_outcome(hd_result_get_step(res, 0)) == HD_OUTCOME_DONE,
              "detach %s to vfio-pci", NIC);
        CHECK(bound_to(NIC, "vfio-pci"), "%s is bound to vfio-pci", NIC);
        {
                struct env e;
                int g;
                fake_env_open(&e, root, state, HD_LOG_ERR);
                g = hd_device_get_iommu_group(dev(&e, NIC));
                env_close(&e);
                CHECK(g >= 0 && access(vfio_node(g), F_OK) == 0, "/dev/vfio/%d appeared", g);
        }
        CHECK(access(record_path(NIC), F_OK) == 0, "journal record written for %s", NIC);
        {
                char txn[PATH_MAX];
                snprintf(txn, sizeof(txn), "%s/transaction.json", state);
                CHECK(access(txn, F_OK) != 0, "no transaction left behind");
        }
        hd_result_unref(res);

        r = detach(NIC, "vfio-pci", 0, &res);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && hd_result_step_get_outcome(hd_result_get_step(res, 0)) == HD_OUTCOME_UNCHANGED, "detach again is a no-op");
        hd_result_unref(res);

        r = reattach(NIC, 0, &res);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && bound_to(NIC, "e1000e"), "reattach gives %s back to e1000e", NIC);
        hd_result_unref(res);
        {
                char p[PATH_MAX];
                FILE *f;
                snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/%s/driver_override", root, NIC);
                f = fopen(p, "re");
                if (f) {
                        if (!fgets(override, sizeof(override), f))
                                override[0] = 0;
                        fclose(f);
                }
                CHECK(override[0] == 0, "driver_override cleared (\"%s\")", override);
        }
        CHECK(access(record_path(NIC), F_OK) != 0, "journal record removed");

        r = reattach(NIC, 0, &res);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && hd_result_step_get_outcome(hd_result_get_step(res, 0)) == HD_OUTCOME_UNCHANGED, "reattach of a host-bound device is a no-op");
        hd_result_unref(res);
}

static void test_stub(void) {
        hd_result *res = NULL;
        char drvdir[PATH_MAX];
        int r;

        snprintf(drvdir, sizeof(drvdir), "%s/sys/bus/pci/drivers/pci-stub", root);
        CHECK(access(drvdir, F_OK) != 0, "pci-stub not loaded yet");
        r = detach(NIC, "pci-stub", 0, &res);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && bound_to(NIC, "pci-stub"), "detach to pci-stub loads the module and binds");
        hd_result_unref(res);
        r = detach(NIC, "vfio-pci", 0, &res);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && bound_to(NIC, "vfio-pci"), "pci-stub -> vfio-pci");
        hd_result_unref(res);
        r = reattach(NIC, 0, &res);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && bound_to(NIC, "e1000e"),
              "reattach restores the true original driver (e1000e), not the intermediate stub");
        hd_result_unref(res);
}

static void test_group(void) {
        hd_result *res = NULL;
        int r;

        r = detach(GPU, "vfio-pci", HD_VFIO_GROUP | HD_VFIO_DRY_RUN, &res);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && hd_result_get_n_steps(res) == 2 && hd_result_step_get_outcome(hd_result_get_step(res, 0)) == HD_OUTCOME_PLANNED &&
                      bound_to(GPU, "nouveau") && bound_to(GPU_AUDIO, "snd_hda_intel"),
              "dry run plans both group members and changes nothing");
        hd_result_unref(res);
        {
                char p[PATH_MAX];
                snprintf(p, sizeof(p), "%s/lock", state);
                (void) p;
        }

        r = detach(GPU, "vfio-pci", HD_VFIO_GROUP, &res);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && hd_result_get_n_steps(res) == 2 && bound_to(GPU, "vfio-pci") &&
                      bound_to(GPU_AUDIO, "vfio-pci"),
              "--group moves the GPU and its audio function");
        hd_result_unref(res);
        {
                struct env e;
                hd_device *blocker = NULL;
                fake_env_open(&e, root, state, HD_LOG_ERR);
                CHECK(hd_iommu_group_is_viable(e.list, (unsigned) hd_device_get_iommu_group(dev(&e, GPU)), &blocker) == 1,
                      "the group is now viable");
                env_close(&e);
        }
        r = reattach(GPU, HD_VFIO_GROUP, &res);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && bound_to(GPU, "nouveau") && bound_to(GPU_AUDIO, "snd_hda_intel"),
              "--group reattach restores both original drivers");
        hd_result_unref(res);
        {
                struct env e;
                hd_device *blocker = NULL;
                fake_env_open(&e, root, state, HD_LOG_ERR);
                CHECK(hd_iommu_group_is_viable(e.list, (unsigned) hd_device_get_iommu_group(dev(&e, GPU)), &blocker) == 0 &&
                              blocker && streq(hd_device_get_sysname(blocker), GPU),
                      "not viable again, blocked by %s", GPU);
                env_close(&e);
        }

        setenv("HOSTDEV_TEST_FAIL_BIND", GPU_AUDIO, 1);
        r = detach(GPU, "vfio-pci", HD_VFIO_GROUP, &res);
        unsetenv("HOSTDEV_TEST_FAIL_BIND");
        CHECK(r == 0 && hd_result_get_status(res) == -EIO, "injected failure on the second member fails the transaction");
        CHECK(hd_result_get_n_steps(res) == 2 && hd_result_step_get_outcome(hd_result_get_step(res, 0)) == HD_OUTCOME_ROLLED_BACK && hd_result_step_get_outcome(hd_result_get_step(res, 1)) == HD_OUTCOME_FAILED,
              "report: first rolled back, second failed");
        CHECK(bound_to(GPU, "nouveau") && bound_to(GPU_AUDIO, "snd_hda_intel"), "both members are back on their drivers");
        CHECK(access(record_path(GPU), F_OK) != 0 && access(record_path(GPU_AUDIO), F_OK) != 0, "no records left");
        hd_result_unref(res);

        /* a device no driver takes: bounded wait, then rollback */
        {
                struct env e;
                fake_env_open(&e, root, state, HD_LOG_ERR);
                fake_kernel_fail_probe(e.k, GPU_AUDIO);
                r = hd_vfio_detach(e.list, dev(&e, GPU), "vfio-pci", HD_VFIO_GROUP, &res);
                env_close(&e);
                CHECK(r == 0 && hd_result_get_status(res) == -ETIMEDOUT && bound_to(GPU, "nouveau") && bound_to(GPU_AUDIO, "snd_hda_intel"),
                      "bind timeout on a member rolls the group back (status %d)", res ? hd_result_get_status(res) : 0);
                hd_result_unref(res);
        }
}

static void test_kill9(void) {
        hd_result *res = NULL;
        pid_t pid;
        int status, r;

        pid = fork();
        if (pid == 0) {
                setenv("HOSTDEV_TEST_DELAY_MS", "3000", 1);
                detach(GPU, "vfio-pci", HD_VFIO_GROUP, &res);
                _exit(0);
        }
        /* wait until the first member moved, then kill -9 */
        for (int i = 0; i < 300 && !bound_to(GPU, "vfio-pci"); i++)
                usleep(10000);
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        CHECK(WIFSIGNALED(status) && bound_to(GPU, "vfio-pci") && bound_to(GPU_AUDIO, "snd_hda_intel"),
              "killed with SIGKILL after the first member moved");
        {
                char txn[PATH_MAX];
                snprintf(txn, sizeof(txn), "%s/transaction.json", state);
                CHECK(access(txn, F_OK) == 0, "the interrupted transaction is in the journal");
        }
        {
                struct env e;
                fake_env_open(&e, root, state, HD_LOG_ERR);
                r = hd_vfio_recover(e.ctx, &res);
                env_close(&e);
        }
        CHECK(r == 0 && hd_result_get_status(res) == 0 && bound_to(GPU, "nouveau") && bound_to(GPU_AUDIO, "snd_hda_intel"),
              "recover restores both original drivers");
        hd_result_unref(res);
        {
                char txn[PATH_MAX];
                snprintf(txn, sizeof(txn), "%s/transaction.json", state);
                CHECK(access(txn, F_OK) != 0 && access(record_path(GPU), F_OK) != 0, "journal clean after recover");
        }
        {
                struct env e;
                fake_env_open(&e, root, state, HD_LOG_ERR);
                r = hd_vfio_recover(e.ctx, &res);
                env_close(&e);
                CHECK(r == 0 && hd_result_get_n_steps(res) == 0, "a second recover has nothing to do");
                hd_result_unref(res);
        }
}

static void test_lock(void) {
        char p[PATH_MAX];
        hd_result *res = NULL;
        struct timespec a, b;
        pid_t pid;
        int fd, status;

        snprintf(p, sizeof(p), "%s/lock", state);
        fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        flock(fd, LOCK_EX);
        pid = fork();
        if (pid == 0) {
                usleep(400000);
                flock(fd, LOCK_UN);
                _exit(0);
        }
        close(fd); /* the child still holds the lock through its copy */
        clock_gettime(CLOCK_MONOTONIC, &a);
        detach(NIC, "vfio-pci", HD_VFIO_DRY_RUN, &res); /* dry run takes no lock */
        hd_result_unref(res);
        detach(NIC, "vfio-pci", 0, &res);
        clock_gettime(CLOCK_MONOTONIC, &b);
        waitpid(pid, &status, 0);
        CHECK(res && hd_result_get_status(res) == 0 && (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 >= 300,
              "a second run waits for the lock of the first");
        hd_result_unref(res);
        reattach(NIC, 0, &res);
        hd_result_unref(res);
}

static long ms_since(const struct timespec *a) {
        struct timespec b;
        clock_gettime(CLOCK_MONOTONIC, &b);
        return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

/* hd_ctx_set_lock_timeout: a bounded wait for the lock, then -ETIMEDOUT
 * with the context's error, nothing done; a lock freed in time is taken */
static void test_lock_timeout(void) {
        char p[PATH_MAX], want[PATH_MAX + 64];
        hd_result *res = NULL;
        struct timespec a;
        struct env e;
        pid_t pid;
        long ms;
        int fd, r, status;

        snprintf(p, sizeof(p), "%s/lock", state);
        snprintf(want, sizeof(want), "the state directory %s is locked by another hostdev operation", state);
        fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        CHECK(fd >= 0 && flock(fd, LOCK_EX) == 0, "the lock held by another open file");
        fake_env_open(&e, root, state, HD_LOG_ERR);
        hd_ctx_set_lock_timeout(e.ctx, 300 * 1000);
        clock_gettime(CLOCK_MONOTONIC, &a);
        r = hd_vfio_recover(e.ctx, &res);
        ms = ms_since(&a);
        CHECK(r == -ETIMEDOUT && !res && ms >= 300 && ms < 2500 && strstr(strempty(hd_ctx_get_error(e.ctx)), want) &&
                      strstr(hd_ctx_get_error(e.ctx), "for 0.3 s; nothing changed"),
              "a 300 ms lock timeout: -ETIMEDOUT after %ld ms: %s", ms, strempty(hd_ctx_get_error(e.ctx)));
        hd_ctx_set_lock_timeout(e.ctx, 0);
        clock_gettime(CLOCK_MONOTONIC, &a);
        r = hd_vfio_recover(e.ctx, &res);
        ms = ms_since(&a);
        CHECK(r == -ETIMEDOUT && ms < 1000, "a lock timeout of 0: no wait (%ld ms)", ms);
        /* a holder that lets go within the timeout: the lock is taken */
        pid = fork();
        if (pid == 0) {
                usleep(300000);
                flock(fd, LOCK_UN);
                _exit(0);
        }
        close(fd);
        hd_ctx_set_lock_timeout(e.ctx, 5 * 1000 * 1000);
        clock_gettime(CLOCK_MONOTONIC, &a);
        r = hd_vfio_recover(e.ctx, &res);
        ms = ms_since(&a);
        waitpid(pid, &status, 0);
        CHECK(r == 0 && res && ms >= 200 && ms < 4000, "a lock freed within the timeout is taken (%ld ms)", ms);
        hd_result_unref(res);
        env_close(&e);
}

static void expect_refusal(const char *addr, const char *what, const char *needle) {
        hd_result *res = NULL;
        int r = detach(addr, "vfio-pci", 0, &res);
        CHECK(r == 0 && hd_result_get_status(res) == -EBUSY && strstr(strempty(hd_result_get_reason(res)), needle) && !bound_to(addr, "vfio-pci"),
              "refused: %s (%s)", what, res ? strempty(hd_result_get_reason(res)) : "?");
        hd_result_unref(res);
}

static void test_safety(void) {
        hd_result *res = NULL;
        int r;

        /* the SATA controller 00:17.0 holds sda; sda2 is mounted on / */
        write_file("proc/self/mountinfo", "22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw\n"
                                          "23 22 0:21 / /proc rw - proc proc rw\n");
        expect_refusal("0000:00:17.0", "mounted root filesystem", "mounted on /");
        r = detach("0000:00:17.0", "vfio-pci", HD_VFIO_FORCE, &res);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && bound_to("0000:00:17.0", "vfio-pci"), "--force overrides the refusal");
        hd_result_unref(res);
        reattach("0000:00:17.0", 0, &res);
        hd_result_unref(res);
        write_file("proc/self/mountinfo", "");

        write_file("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n/dev/sda1 partition 1048572 0 -2\n");
        expect_refusal("0000:00:17.0", "active swap", "swap");
        write_file("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n");

        write_file("proc/net/route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
                                     "enp2s0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n");
        expect_refusal("0000:02:00.0", "default route", "default route");
        write_file("proc/net/route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n");

        write_file("proc/4242/comm", "Xorg\n");
        {
                char fddir[PATH_MAX], link[PATH_MAX];
                snprintf(fddir, sizeof(fddir), "%s/proc/4242/fd", root);
                mkdir(fddir, 0755);
                snprintf(link, sizeof(link), "%s/3", fddir);
                (void) symlink("/dev/dri/card1", link);
        }
        expect_refusal(GPU, "open DRM node", "/dev/dri/card1 is open by process 4242 (Xorg)");
        {
                hd_result *g = NULL;
                r = detach(GPU_AUDIO, "vfio-pci", HD_VFIO_GROUP, &g);
                CHECK(r == 0 && hd_result_get_status(g) == -EBUSY && strstr(strempty(hd_result_get_reason(g)), "IOMMU group member"),
                      "a group detach is refused when another member is needed");
                hd_result_unref(g);
        }
        {
                char cmd[PATH_MAX];
                snprintf(cmd, sizeof(cmd), "rm -rf '%s/proc/4242'", root);
                if (system(cmd) != 0)
                        abort();
        }

        write_file("sys/class/vtconsole/vtcon1/bind", "1\n");
        write_file("sys/class/vtconsole/vtcon1/name", "(M) frame buffer device\n");
        {
                char p[PATH_MAX];
                snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/boot_vga", "0000:00:02.0");
                write_file(p, "1\n");
        }
        expect_refusal("0000:00:02.0", "boot VGA with framebuffer console", "framebuffer console");
        write_file("sys/class/vtconsole/vtcon1/bind", "0\n");
        r = detach("0000:00:02.0", "vfio-pci", HD_VFIO_DRY_RUN, &res);
        CHECK(r == 0 && hd_result_get_status(res) == 0, "boot VGA without a bound console may go");
        hd_result_unref(res);
}

/* hd_pci_reset as 0 (reset), 1 (skipped) or the result's -errno, with
 * the kernel's method and the reason */
static int reset_dev(struct env *e, const char *addr, unsigned flags, char *method, size_t msize, char *reason,
                     size_t rsize) {
        hd_result *res = NULL;
        const hd_result_step *st;
        int r = hd_pci_reset(e->list, dev(e, addr), flags, &res);

        if (r < 0)
                return r;
        st = hd_result_get_step(res, 0);
        snprintf(method, msize, "%s", strempty(hd_result_step_get_to(st)));
        snprintf(reason, rsize, "%s", strempty(hd_result_get_reason(res)));
        r = hd_result_get_status(res);
        if (hd_result_get_n_steps(res) != 1 || !streq(hd_result_step_get_subject(st), hd_device_get_name(dev(e, addr))))
                r = -EPROTO;
        else if (r == 0 && hd_result_step_get_outcome(st) == HD_OUTCOME_SKIPPED)
                r = 1;
        else if (r == 0 && hd_result_step_get_outcome(st) != HD_OUTCOME_DONE)
                r = -EPROTO;
        hd_result_unref(res);
        return r;
}

static void test_reset(void) {
        struct env e;
        char method[64], reason[256];
        hd_result *res = NULL;
        int r;

        write_file("sys/bus/pci/devices/" NIC "/reset_method", "flr bus\n");
        fake_env_open(&e, root, state, HD_LOG_ERR);
        r = reset_dev(&e, NIC, 0, method, sizeof(method), reason, sizeof(reason));
        CHECK(r == 0 && streq(method, "flr") && fake_kernel_resets(e.k) == 1, "reset with FLR");
        env_close(&e);

        detach(NIC, "vfio-pci", 0, &res);
        hd_result_unref(res);
        fake_env_open(&e, root, state, HD_LOG_ERR);
        r = reset_dev(&e, NIC, 0, method, sizeof(method), reason, sizeof(reason));
        CHECK(r == 1 && fake_kernel_resets(e.k) == 0, "reset skipped while bound to vfio-pci (%s)", reason);
        env_close(&e);
        reattach(NIC, 0, &res);
        hd_result_unref(res);

        /* the GPU can only be bus-reset and shares the bus with its audio function */
        write_file("sys/bus/pci/devices/" GPU "/reset_method", "bus\n");
        fake_env_open(&e, root, state, HD_LOG_ERR);
        r = reset_dev(&e, GPU, 0, method, sizeof(method), reason, sizeof(reason));
        CHECK(r == -EBUSY && strstr(reason, GPU_AUDIO) && fake_kernel_resets(e.k) == 0,
              "bus reset refused while a sibling is bound (%s)", reason);
        r = reset_dev(&e, "0000:00:1c.0", 0, method, sizeof(method), reason, sizeof(reason));
        CHECK(r == -EINVAL, "reset of a bridge refused");
        env_close(&e);
}

static void test_bad(void) {
        struct env e;
        hd_result *res = NULL;
        fake_env_open(&e, root, state, HD_LOG_ERR);
        CHECK(hd_vfio_detach(e.list, dev(&e, "0000:00:1c.0"), "vfio-pci", 0, &res) == -EINVAL, "bridges cannot be detached");
        CHECK(hd_vfio_detach(e.list, dev(&e, "computer"), "vfio-pci", 0, &res) == -EINVAL, "non-PCI devices cannot be detached");
        CHECK(hd_vfio_detach(e.list, dev(&e, NIC), "nouveau", 0, &res) == -EINVAL, "only vfio-pci and pci-stub are stubs");
        env_close(&e);
}


/* ---- issue 10: hardening ---- */

static bool exists_rel(const char *fmt, const char *a) _printf_(1, 0);
static bool exists_rel(const char *fmt, const char *a) {
        char p[PATH_MAX], rel[PATH_MAX];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(rel, sizeof(rel), fmt, a);
#pragma GCC diagnostic pop
        snprintf(p, sizeof(p), "%s/%s", state, rel);
        return access(p, F_OK) == 0;
}

static void test_harden_sysroot(void) {
        hd_ctx *c = NULL;
        char link[PATH_MAX];

        CHECK(hd_ctx_new("", &c) == -EINVAL && !c, "hd_ctx_new(\"\") is refused, not the live host");
        CHECK(hd_ctx_new("/", &c) == -EINVAL && !c, "hd_ctx_new(\"/\") is refused");
        CHECK(hd_ctx_new("/tmp/..", &c) == -EINVAL && !c, "hd_ctx_new(\"/tmp/..\") is refused");
        snprintf(link, sizeof(link), "%s/link-to-root", state);
        mkdir(state, 0700);
        unlink(link);
        if (symlink("/", link) < 0)
                abort();
        CHECK(hd_ctx_new(link, &c) == -EINVAL && !c, "a sysroot that is a link to / is refused");
        unlink(link);
        CHECK(hd_ctx_new(NULL, &c) == 0 && c && hd_ctx_is_live(c), "NULL still means the live host");
        hd_ctx_unref(c);
}

static void test_harden_reset(void) {
        struct env e;
        char method[64], reason[400];
        int r;

        write_file("proc/self/mountinfo", "22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw\n");
        write_file("sys/bus/pci/devices/0000:00:17.0/reset_method", "pm\n");
        write_file("sys/bus/pci/devices/0000:00:17.0/reset", "");
        fake_env_open(&e, root, state, HD_LOG_ERR);
        r = reset_dev(&e, "0000:00:17.0", 0, method, sizeof(method), reason, sizeof(reason));
        CHECK(r == -EBUSY && strstr(reason, "mounted on /") && fake_kernel_resets(e.k) == 0,
              "reset of the controller under the mounted root is refused (%s)", reason);
        r = reset_dev(&e, "0000:00:17.0", HD_VFIO_FORCE, method, sizeof(method), reason, sizeof(reason));
        CHECK(r == 0 && fake_kernel_resets(e.k) == 1, "--force resets it anyway");
        env_close(&e);
        write_file("proc/self/mountinfo", "");
}

static void test_harden_unknown(void) {
        hd_result *res = NULL;
        int r;

        remove_file("proc/self/mountinfo");
        r = detach("0000:00:17.0", "vfio-pci", HD_VFIO_DRY_RUN, &res);
        CHECK(r == 0 && hd_result_get_status(res) == -EBUSY && strstr(strempty(hd_result_get_reason(res)), "host-safety facts unknown") &&
                      hd_result_step_get_outcome(hd_result_get_step(res, 0)) != HD_OUTCOME_PLANNED,
              "no proc/self/mountinfo: facts unknown, never 'would move' (%s)", res ? strempty(hd_result_get_reason(res)) : "?");
        hd_result_unref(res);
        {
                struct env e;
                char method[64], reason[400];
                fake_env_open(&e, root, state, HD_LOG_ERR);
                r = reset_dev(&e, NIC, 0, method, sizeof(method), reason, sizeof(reason));
                CHECK(r == -EBUSY && strstr(reason, "unknown") && fake_kernel_resets(e.k) == 0,
                      "reset with unknown facts is refused too");
                env_close(&e);
        }
        write_file("proc/self/mountinfo", "");
        remove_file("proc/swaps");
        r = detach(NIC, "vfio-pci", HD_VFIO_DRY_RUN, &res);
        CHECK(r == 0 && hd_result_get_status(res) == -EBUSY && strstr(strempty(hd_result_get_reason(res)), "proc/swaps"), "no proc/swaps: unknown");
        hd_result_unref(res);
        write_file("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n");
}

/* kill -9 a group detach of the GPU before its Nth kernel write */
static void kill_group_detach_at(unsigned step) {
        hd_result *res = NULL;
        int status;
        pid_t pid = fork();
        if (pid == 0) {
                char n[16];
                snprintf(n, sizeof(n), "%u", step);
                fake_kernel_count_from_zero();
                setenv("HOSTDEV_FAKE_KILL_AT", n, 1);
                detach(GPU, "vfio-pci", HD_VFIO_GROUP, &res);
                _exit(0);
        }
        waitpid(pid, &status, 0);
        if (!WIFSIGNALED(status))
                abort();
}

static void test_harden_journal(void) {
        hd_result *res = NULL;
        char drv[64];
        int r;

        /* steps: 1 override GPU, 2 unbind GPU, 3 probe GPU, 4 override audio, 5 unbind audio */
        kill_group_detach_at(5);
        CHECK(bound_to(GPU, "vfio-pci") && bound_to(GPU_AUDIO, "snd_hda_intel") && exists_rel("%s", "transaction.json"),
              "killed after the first group member moved");
        r = detach(NIC, "vfio-pci", 0, &res);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && bound_to(NIC, "vfio-pci"), "the next detach of another device succeeds");
        CHECK(bound_to(GPU, "nouveau") && bound_to(GPU_AUDIO, "snd_hda_intel"),
              "... after recovering the interrupted group first");
        CHECK(!exists_rel("%s", "transaction.json") && !exists_rel("devices/%s.json", GPU), "journal empty");
        hd_result_unref(res);
        reattach(NIC, 0, &res);
        hd_result_unref(res);

        /* between unbind and bind: the GPU has no driver at all */
        kill_group_detach_at(3);
        driver_of(GPU, drv, sizeof(drv));
        CHECK(drv[0] == 0, "killed between unbind and bind: %s has no driver", GPU);
        r = detach(NIC, "vfio-pci", 0, &res);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && bound_to(GPU, "nouveau") && !exists_rel("%s", "transaction.json"),
              "the next detach gives the driverless member back first");
        hd_result_unref(res);
        reattach(NIC, 0, &res);
        hd_result_unref(res);

        /* the journal lost too (an older hostdevctl overwrote it): reattach
         * --group still gives the driverless member back */
        kill_group_detach_at(3);
        {
                char p[PATH_MAX];
                snprintf(p, sizeof(p), "%s/transaction.json", state);
                unlink(p);
                unlink(record_path(GPU));
        }
        r = reattach(GPU, HD_VFIO_GROUP, &res);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && bound_to(GPU, "nouveau") && bound_to(GPU_AUDIO, "snd_hda_intel"),
              "reattach --group of a driverless member with a vfio-pci override re-probes it");
        hd_result_unref(res);

        /* only the transaction lost: recover restores from the record */
        kill_group_detach_at(3);
        {
                char p[PATH_MAX];
                snprintf(p, sizeof(p), "%s/transaction.json", state);
                unlink(p);
        }
        {
                struct env e;
                fake_env_open(&e, root, state, HD_LOG_ERR);
                r = hd_vfio_recover(e.ctx, &res);
                env_close(&e);
        }
        CHECK(r == 0 && hd_result_get_status(res) == 0 && bound_to(GPU, "nouveau") && !exists_rel("devices/%s.json", GPU),
              "recover gives a driverless device with a record back, never drops the record");
        hd_result_unref(res);

        /* a corrupt journal: refused, naming it, nothing changed */
        {
                char p[PATH_MAX];
                FILE *f;
                snprintf(p, sizeof(p), "%s/transaction.json", state);
                f = fopen(p, "we");
                fputs("{ \"op\": \"detach\", ", f);
                fclose(f);
                r = detach(NIC, "vfio-pci", 0, &res);
                CHECK(r == 0 && hd_result_get_status(res) < 0 && strstr(strempty(hd_result_get_reason(res)), "transaction.json") && bound_to(NIC, "e1000e"),
                      "a corrupt journal is never overwritten: refused naming it (%s)", res ? strempty(hd_result_get_reason(res)) : "?");
                CHECK(access(p, F_OK) == 0, "the corrupt journal is kept for the admin");
                hd_result_unref(res);
                unlink(p);
        }
}

static char logbuf[8192];
static void collect_log(void *u, int level, const char *file, int line, const char *fn, const char *fmt, va_list ap) {
        size_t l = strlen(logbuf);
        (void) u, (void) level, (void) file, (void) line, (void) fn;
        vsnprintf(logbuf + l, sizeof(logbuf) - l, fmt, ap);
        l = strlen(logbuf);
        if (l + 1 < sizeof(logbuf))
                strcat(logbuf, "\n");
}

static void test_harden_bind_wait(void) {
        hd_result *res = NULL;
        struct env e;
        int r;

        logbuf[0] = 0;
        fake_env_open(&e, root, state, HD_LOG_INFO);
        hd_ctx_set_log_fn(e.ctx, collect_log, NULL);
        fake_kernel_fail_probe(e.k, NIC);
        r = hd_vfio_detach(e.list, dev(&e, NIC), "vfio-pci", 0, &res);
        env_close(&e);
        CHECK(strstr(logbuf, NIC ": waiting up to 300 ms for vfio-pci to bind to it"),
              "the wait for the bind is announced at -v");
        CHECK(r == 0 && hd_result_get_status(res) == -ETIMEDOUT && strstr(strempty(hd_result_get_reason(res)), "vfio-pci driver did not bind to " NIC) &&
                      !strstr(strempty(hd_result_get_reason(res)), "Connection timed out"),
              "a bind timeout is said in words (%s)", res ? strempty(hd_result_get_reason(res)) : "?");
        CHECK(bound_to(NIC, "e1000e"), "and rolled back");
        hd_result_unref(res);
}

static void test_harden_hint(void) {
        hd_result *res = NULL;
        int r;

        r = detach(GPU, "vfio-pci", 0, &res);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && strstr(strempty(hd_result_get_reason(res)), "not viable yet") && strstr(strempty(hd_result_get_reason(res)), GPU_AUDIO) &&
                      strstr(strempty(hd_result_get_reason(res)), "--group"),
              "one function of a group: done, with the hint (%s)", res ? strempty(hd_result_get_reason(res)) : "?");
        hd_result_unref(res);
        r = detach(GPU_AUDIO, "vfio-pci", 0, &res);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && strempty(hd_result_get_reason(res))[0] == 0, "the last one: viable, no hint (%s)", strempty(hd_result_get_reason(res)));
        hd_result_unref(res);
        reattach(GPU, HD_VFIO_GROUP, &res);
        hd_result_unref(res);
        CHECK(bound_to(GPU, "nouveau") && bound_to(GPU_AUDIO, "snd_hda_intel"), "group back on its drivers");
}

/* hd_device_apply_persisted(): the override of a device that appeared,
 * identity checked (hostdevd's hotplug apply) */
static void test_apply_persisted(void) {
        const char *fc = "0000:08:00.0", *idfile = "etc/hostdev/overrides/pci-0000:08:00.0";
        hd_result *res = NULL;
        struct env e;
        int r;

        fake_env_open(&e, root, state, HD_LOG_ERR);
        r = hd_device_apply_persisted(e.list, root, dev(&e, fc), 0, &res);
        CHECK(r == 0 && !res && bound_to(fc, "qla2xxx"), "apply persisted: nothing persisted, nothing done (%d)", r);
        CHECK(hd_device_apply_persisted(e.list, root, dev(&e, fc), HD_VFIO_FORCE, &res) == -EINVAL && !res,
              "apply persisted: flags other than HD_VFIO_DRY_RUN are -EINVAL");
        CHECK(hd_override_set(e.list, root, dev(&e, fc), "vfio-pci", 0) == 1, "apply persisted: override set");
        r = hd_device_apply_persisted(e.list, root, dev(&e, "lo"), 0, &res);
        CHECK(r == 0 && !res, "apply persisted: a device that is not PCI has nothing persisted (%d)", r);

        r = hd_device_apply_persisted(e.list, root, dev(&e, fc), HD_VFIO_DRY_RUN, &res);
        CHECK(r == 1 && hd_result_get_status(res) == 0 && hd_result_count_outcome(res, HD_OUTCOME_PLANNED) == 1 &&
              bound_to(fc, "qla2xxx"), "apply persisted, dry run: planned, nothing moved (%d %d)", r,
              hd_result_get_status(res));
        hd_result_unref(res);
        res = NULL;
        r = hd_device_apply_persisted(e.list, root, dev(&e, fc), 0, &res);
        CHECK(r == 1 && hd_result_get_kind(res) == HD_RESULT_DRIVERS && hd_result_get_status(res) == 0 &&
              hd_result_count_outcome(res, HD_OUTCOME_DONE) == 1 && bound_to(fc, "vfio-pci"),
              "apply persisted: identity matches, bound to vfio-pci (%d %d)", r, hd_result_get_status(res));
        hd_result_unref(res);
        res = NULL;
        env_close(&e);
        reattach(fc, 0, &res);
        hd_result_unref(res);
        res = NULL;
        CHECK(bound_to(fc, "qla2xxx"), "apply persisted: the journal gives it back to qla2xxx");

        /* drift: the record is another device's (1077:2031) */
        fake_env_open(&e, root, state, HD_LOG_ERR);
        CHECK(hd_override_set(e.list, root, dev(&e, fc), "vfio-pci", 0) == 0, "apply persisted: override already set");
        {
                char p[PATH_MAX], cmd[PATH_MAX + 64];
                snprintf(p, sizeof(p), "%s/%s", root, idfile);
                snprintf(cmd, sizeof(cmd), "sed -i 's/^device=2532$/device=2031/' '%s'", p);
                if (system(cmd) != 0)
                        abort();
        }
        r = hd_device_apply_persisted(e.list, root, dev(&e, fc), 0, &res);
        CHECK(r == 1 && hd_result_get_status(res) == -EBUSY && strstr(strempty(hd_result_get_reason(res)), "1077:2031") &&
              strstr(strempty(hd_result_get_reason(res)), "1077:2532") &&
              hd_result_count_outcome(res, HD_OUTCOME_SKIPPED) == 1 && bound_to(fc, "qla2xxx"),
              "apply persisted: another identity is refused, both named, nothing moved (%s)",
              strempty(hd_result_get_reason(res)));
        hd_result_unref(res);
        res = NULL;
        /* a driver that is not a passthrough driver: the udev script's */
        CHECK(hd_override_set(e.list, root, dev(&e, fc), "qla2xxx", 0) == 1, "apply persisted: override to qla2xxx");
        r = hd_device_apply_persisted(e.list, root, dev(&e, fc), 0, &res);
        CHECK(r == 1 && hd_result_get_status(res) == -EOPNOTSUPP && bound_to(fc, "qla2xxx"),
              "apply persisted: another driver is left to the udev script (%d %d)", r, hd_result_get_status(res));
        hd_result_unref(res);
        CHECK(hd_override_unset(e.list, root, fc, 0) == 0, "apply persisted: override unset");
        env_close(&e);
}

int main(int argc, char **argv) {
        if (argc != 3) {
                fprintf(stderr, "usage: test-vfio SYSROOT STATEDIR\n");
                return 2;
        }
        root = argv[1];
        state = argv[2];
        test_single();
        test_stub();
        test_group();
        test_kill9();
        test_lock();
        test_lock_timeout();
        test_safety();
        test_reset();
        test_bad();
        test_harden_sysroot();
        test_harden_reset();
        test_harden_unknown();
        test_harden_journal();
        test_harden_bind_wait();
        test_harden_hint();
        test_apply_persisted();
        return tap_finish();
}
