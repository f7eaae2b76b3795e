/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SR-IOV tests (TAP):
 *   test-sriov lib SYSROOT STATEDIR CONFDIR   library on a fresh copy of the
 *                                             "full" fixture with the fake kernel
 *   test-sriov netlink                        rtnetlink message building/parsing
 *                                             units, and the live socket on lo
 */
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "fake-env.h"
#include "sriov/sriov-internal.h"
#include "tap.h"

static const char *root, *state, *confdir;


/* ---- helpers ---- */

static void driver_of(const char *addr, char *buf, size_t size) {
        fake_driver_of(root, addr, buf, size);
}

static bool bound_to(const char *addr, const char *drv) {
        char now[64];
        driver_of(addr, now, sizeof(now));
        return streq(now, drv);
}

static bool exists(const char *rel) {
        char p[PATH_MAX];
        struct stat st;
        snprintf(p, sizeof(p), "%s/%s", root, rel);
        return lstat(p, &st) == 0;
}

static void read_rel(const char *rel, char *buf, size_t size) {
        char p[PATH_MAX];
        FILE *f;
        snprintf(p, sizeof(p), "%s/%s", root, rel);
        buf[0] = 0;
        f = fopen(p, "re");
        if (f) {
                if (!fgets(buf, (int) size, f))
                        buf[0] = 0;
                fclose(f);
        }
        hd_strip(buf);
}

static void write_conf(const char *addr, const char *text) {
        char p[PATH_MAX];
        FILE *f;
        snprintf(p, sizeof(p), "%s/sriov", confdir);
        mkdir(confdir, 0755);
        mkdir(p, 0755);
        snprintf(p, sizeof(p), "%s/sriov/%s.json", confdir, addr);
        f = fopen(p, "we");
        if (!f)
                abort();
        fputs(text, f);
        fclose(f);
}

static void remove_conf(const char *addr) {
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/sriov/%s.json", confdir, addr);
        unlink(p);
}

static json_object *read_conf_json(const char *addr) {
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/sriov/%s.json", confdir, addr);
        return json_object_from_file(p);
}

static bool no_tmp_files(void) {
        char p[PATH_MAX];
        DIR *d;
        struct dirent *de;
        bool ok = true;
        snprintf(p, sizeof(p), "%s/sriov", confdir);
        d = opendir(p);
        while (d && (de = readdir(d)))
                if (strstr(de->d_name, "tmp"))
                        ok = false;
        if (d)
                closedir(d);
        return ok;
}

#define PF "0000:02:00.0"
#define CX "0000:05:00.0"

static int set(unsigned n, const char *driver, int autoprobe, unsigned flags, hd_result **res) {
        struct env e;
        hd_sriov_set_opts o = { .numvfs = n, .driver = driver, .autoprobe = autoprobe };
        int r;
        fake_env_open(&e, root, state, 0);
        r = hd_sriov_set_numvfs(e.list, dev(&e, PF), &o, flags, res);
        env_close(&e);
        return r;
}

static bool has_action(hd_result *res, enum hd_outcome st, const char *substr) {
        for (size_t i = 0; i < hd_result_get_n_steps(res); i++) {
                const hd_result_step *s = hd_result_get_step(res, i);
                if (hd_result_step_get_outcome(s) == st && strstr(hd_result_step_get_action(s), substr))
                        return true;
        }
        return false;
}

static size_t count_changes(hd_result *res) {
        size_t n = 0;
        for (size_t i = 0; i < hd_result_get_n_steps(res); i++) {
                enum hd_outcome o = hd_result_step_get_outcome(hd_result_get_step(res, i));
                if (o == HD_OUTCOME_DONE || o == HD_OUTCOME_PLANNED || o == HD_OUTCOME_FAILED)
                        n++;
        }
        return n;
}

/* ---- library tests ---- */

static void test_list(void) {
        struct env e;
        hd_sriov_pf *pfs = NULL;
        size_t n = 0;
        int r;

        fake_env_open(&e, root, state, 0);
        r = hd_sriov_pf_list(e.list, &pfs, &n);
        CHECK(r == 0 && n == 2 && streq_ptr(pfs[0].addr, PF) && streq_ptr(pfs[1].addr, CX), "two PFs: %s and %s", PF, CX);
        if (r == 0 && n == 2) {
                CHECK(pfs[0].totalvfs == 7 && pfs[0].numvfs == 2 && pfs[0].n_vfs == 2 && pfs[0].autoprobe == 1 &&
                              streq_ptr(pfs[0].driver, "igb") && streq_ptr(pfs[0].netdev, "enp2s0"),
                      "igb PF: 2 of 7 VFs, autoprobe on, netdev enp2s0");
                CHECK(streq_ptr(pfs[0].vfs[0].addr, "0000:02:10.0") && streq_ptr(pfs[0].vfs[0].driver, "igbvf") &&
                              streq_ptr(pfs[0].vfs[0].netdev, "enp2s16") && streq_ptr(pfs[0].vfs[1].addr, "0000:02:10.2") &&
                              streq_ptr(pfs[0].vfs[1].driver, "vfio-pci") && !pfs[0].vfs[0].has_link_info,
                      "VF addresses, drivers, netdevs; no netlink data with a sysroot");
                CHECK(pfs[1].totalvfs == 16 && pfs[1].numvfs == 0 && pfs[1].n_vfs == 0, "ConnectX: 0 of 16");
        }
        hd_sriov_pf_free(pfs, n);
        {
                hd_sriov_pf *pf = NULL;
                CHECK(hd_sriov_pf_get(e.list, dev(&e, "0000:00:1f.6"), &pf) == -EOPNOTSUPP && !pf,
                      "a NIC without SR-IOV is not a PF (-EOPNOTSUPP)");
        }
        /* the reasons of what returns no result: the context's error */
        {
                hd_sriov_set_opts o = { .numvfs = 1, .autoprobe = -1 };
                hd_sriov_vf_config c = { .index = 1, .trust = 1, .spoofchk = -1 };
                hd_result *res = NULL;
                CHECK(hd_sriov_set_numvfs(e.list, dev(&e, "0000:00:1f.6"), &o, HD_SRIOV_DRY_RUN, &res) == -EOPNOTSUPP &&
                              !res && strstr(strempty(hd_ctx_get_error(e.ctx)), "is not an SR-IOV physical function"),
                      "set_numvfs of a non-PF: the reason in the context");
                c.index = 2;
                CHECK(hd_sriov_vf_configure(e.list, dev(&e, PF), &c, HD_SRIOV_DRY_RUN, &res) == -ERANGE && !res &&
                              strstr(strempty(hd_ctx_get_error(e.ctx)), "has 2 VFs: no VF 2"),
                      "vf_configure beyond numvfs: -ERANGE, the reason in the context");
                c.index = 1;
                CHECK(hd_sriov_vf_configure(e.list, dev(&e, PF), &c, 0, &res) == -EOPNOTSUPP && !res &&
                              strstr(strempty(hd_ctx_get_error(e.ctx)), "need the live host"),
                      "vf_configure with a sysroot: -EOPNOTSUPP, the reason in the context");
                CHECK(hd_sriov_vf_configure(e.list, dev(&e, PF), &c, HD_SRIOV_DRY_RUN, &res) == 0 &&
                              hd_result_get_status(res) == 0 && hd_result_get_n_steps(res) == 1 &&
                              hd_result_step_get_outcome(hd_result_get_step(res, 0)) == HD_OUTCOME_PLANNED &&
                              streq_ptr(hd_result_step_get_action(hd_result_get_step(res, 0)), "VF 1: trust on") &&
                              streq_ptr(hd_result_step_get_subject(hd_result_get_step(res, 0)), PF) &&
                              hd_result_step_get_error_text(hd_result_get_step(res, 0)),
                      "vf_configure --dry-run with a sysroot: the plan, with its note");
                hd_result_unref(res);
        }
        env_close(&e);
}

static void test_fake_kernel(void) {
        struct env e;
        fake_env_open(&e, root, state, 0);
        CHECK(hd_sysfs_write(e.ctx, "sys/bus/pci/devices/" PF "/sriov_numvfs", "3") == -EBUSY,
              "fake kernel: N -> M with both non-zero is -EBUSY");
        CHECK(hd_sysfs_write(e.ctx, "sys/bus/pci/devices/" PF "/sriov_numvfs", "8") == -ERANGE,
              "fake kernel: more than sriov_totalvfs is -ERANGE");
        CHECK(hd_sysfs_write(e.ctx, "sys/bus/pci/devices/" PF "/sriov_numvfs", "two") == -EINVAL,
              "fake kernel: garbage is -EINVAL");
        CHECK(hd_sysfs_write(e.ctx, "sys/bus/pci/devices/" PF "/sriov_numvfs", "2") == 0,
              "fake kernel: the same count is a no-op");
        CHECK(hd_sysfs_write(e.ctx, "sys/bus/pci/drivers/mlx5_core/unbind", CX) == 0 &&
                      hd_sysfs_write(e.ctx, "sys/bus/pci/devices/" CX "/sriov_numvfs", "1") == -ENOENT,
              "fake kernel: a PF without driver is -ENOENT");
        (void) hd_sysfs_write(e.ctx, "sys/bus/pci/drivers/mlx5_core/bind", CX);
        env_close(&e);
        CHECK(bound_to(CX, "mlx5_core"), "ConnectX back on mlx5_core");
}

static void test_set(void) {
        hd_result *res = NULL;
        char buf[64];
        int r;

        r = set(9, NULL, -1, 0, &res);
        read_rel("sys/bus/pci/devices/" PF "/sriov_numvfs", buf, sizeof(buf));
        CHECK(r == 0 && hd_result_get_status(res) == -ERANGE && hd_result_get_n_steps(res) == 0 &&
                      strstr(strempty(hd_result_get_reason(res)), PF " supports at most 7 VFs (sriov_totalvfs), not 9") &&
                      streq(buf, "2"), "9 VFs > sriov_totalvfs 7: -ERANGE with the reason, nothing changed (%s)",
              strempty(hd_result_get_reason(res)));
        hd_result_unref(res);

        r = set(0, NULL, -1, 0, &res);
        read_rel("sys/bus/pci/devices/" PF "/sriov_numvfs", buf, sizeof(buf));
        CHECK(r == 0 && hd_result_get_status(res) == -EBUSY && strstr(strempty(hd_result_get_reason(res)), "0000:02:10.2") && strstr(strempty(hd_result_get_reason(res)), "vfio-pci") &&
                      streq(buf, "2") && exists("sys/bus/pci/devices/0000:02:10.2"),
              "removing VFs while VF 1 is on vfio-pci is refused (%s)", res ? strempty(hd_result_get_reason(res)) : "");
        hd_result_unref(res);

        r = set(3, NULL, -1, 0, &res);
        CHECK(r == 0 && hd_result_get_status(res) == -EBUSY && exists("sys/bus/pci/devices/0000:02:10.2"),
              "growing 2 -> 3 (through 0) is refused too");
        hd_result_unref(res);

        r = set(0, NULL, -1, HD_SRIOV_FORCE | HD_SRIOV_DRY_RUN, &res);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && has_action(res, HD_OUTCOME_PLANNED, "sriov_numvfs 2 -> 0") &&
                      exists("sys/bus/pci/devices/0000:02:10.2"),
              "dry run plans 2 -> 0 and changes nothing");
        hd_result_unref(res);

        r = set(0, NULL, -1, HD_SRIOV_FORCE, &res);
        read_rel("sys/bus/pci/devices/" PF "/sriov_numvfs", buf, sizeof(buf));
        CHECK(r == 0 && hd_result_get_status(res) == 0 && has_action(res, HD_OUTCOME_DONE, "sriov_numvfs 2 -> 0") && streq(buf, "0") &&
                      !exists("sys/bus/pci/devices/0000:02:10.0") && !exists("sys/bus/pci/devices/0000:02:10.2") &&
                      !exists("sys/bus/pci/devices/" PF "/virtfn0") && !exists("sys/kernel/iommu_groups/10") &&
                      !exists("sys/bus/pci/drivers/vfio-pci/0000:02:10.2"),
              "--force: 2 -> 0 removes VF dirs, bus entries, virtfn links, IOMMU groups, driver links");
        hd_result_unref(res);

        r = set(4, NULL, -1, 0, &res);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && has_action(res, HD_OUTCOME_DONE, "sriov_numvfs 0 -> 4") &&
                      bound_to("0000:02:10.0", "igbvf") && bound_to("0000:02:10.6", "igbvf") &&
                      exists("sys/bus/pci/devices/" PF "/virtfn3") && exists("sys/bus/pci/devices/0000:02:10.6/physfn"),
              "0 -> 4: VFs 02:10.0..02:10.6 bound to igbvf (autoprobe on)");
        hd_result_unref(res);
        {
                struct env e;
                hd_device *vf;
                _cleanup_free_ char *xml = NULL, *pfxml = NULL;
                fake_env_open(&e, root, state, 0);
                vf = dev(&e, "pci_0000_02_10_6");
                CHECK(hd_device_get_iommu_group(vf) >= 0 && streq_ptr(hd_device_get_driver(vf), "igbvf") &&
                              hd_device_format_xml(vf, &xml) >= 0 && strstr(xml, "<capability type='phys_function'>") &&
                              strstr(xml, "<product id='0x10ca'"),
                      "new VF is a node device with its own IOMMU group, phys_function and VF device id");
                CHECK(hd_device_format_xml(dev(&e, PF), &pfxml) >= 0 &&
                              strstr(pfxml, "<capability type='virt_functions' maxCount='7'>") &&
                              strstr(pfxml, "slot='0x10' function='0x6'"),
                      "PF lists the 4 VFs under virt_functions");
                env_close(&e);
        }

        r = set(2, "vfio-pci", -1, 0, &res);
        read_rel("sys/bus/pci/devices/" PF "/sriov_drivers_autoprobe", buf, sizeof(buf));
        CHECK(r == 0 && hd_result_get_status(res) == 0 && has_action(res, HD_OUTCOME_DONE, "(through 0)") &&
                      has_action(res, HD_OUTCOME_DONE, "sriov_drivers_autoprobe 1 -> 0") && streq(buf, "0") &&
                      bound_to("0000:02:10.0", "vfio-pci") && bound_to("0000:02:10.2", "vfio-pci") &&
                      !exists("sys/bus/pci/devices/0000:02:10.4"),
              "4 -> 2 --driver vfio-pci: through 0, autoprobe off, both VFs on vfio-pci (%s)", res ? strempty(hd_result_get_reason(res)) : "");
        hd_result_unref(res);

        r = set(2, "vfio-pci", -1, 0, &res);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && hd_result_get_n_steps(res) == 0, "the same again changes nothing");
        hd_result_unref(res);

        r = set(2, "host", -1, HD_SRIOV_DRY_RUN, &res);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && has_action(res, HD_OUTCOME_PLANNED, "sriov_drivers_autoprobe 0 -> 1") &&
                      bound_to("0000:02:10.0", "vfio-pci"),
              "--driver host plans autoprobe on; VFs stay where they are");
        hd_result_unref(res);
}

/* hd_sriov_persist: the call's error or the result's status; the reason
 * in @err.  A success has exactly its one "persisted in" step. */
static int persist(struct env *e, const char *addr, const hd_sriov_set_opts *set, const hd_sriov_vf_config *vf,
                   char *err, size_t errsize) {
        hd_result *res = NULL;
        int r = hd_sriov_persist(e->list, dev(e, addr), confdir, set, vf, &res);
        snprintf(err, errsize, "%s", strempty(hd_result_get_reason(res)));
        if (r == 0) {
                const hd_result_step *st = hd_result_get_step(res, 0);
                r = hd_result_get_status(res);
                if (r == 0 && (hd_result_get_n_steps(res) != 1 || !streq(hd_result_step_get_subject(st), addr) ||
                               !strstr(hd_result_step_get_action(st), "persisted in ") ||
                               hd_result_step_get_outcome(st) != HD_OUTCOME_DONE))
                        r = -EPROTO;
                if (r < 0 && hd_result_get_n_steps(res) != 0)
                        r = -EPROTO;
        }
        hd_result_unref(res);
        return r;
}

static void test_persist_apply(void) {
        struct env e;
        hd_result *res = NULL;
        json_object *o, *v;
        char err[512];
        int r;

        /* persist the current wanted state: 2 VFs on vfio-pci */
        fake_env_open(&e, root, state, 0);
        {
                hd_sriov_set_opts o2 = { .numvfs = 2, .driver = "vfio-pci", .autoprobe = -1 };
                r = persist(&e, PF, &o2, NULL, err, sizeof(err));
        }
        CHECK(r == 0, "persist %s (%s)", PF, err);
        {
                hd_sriov_vf_config vc = { .index = 1, .set_mac = true, .mac = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 },
                                          .set_vlan = true, .vlan = 100, .trust = 1, .spoofchk = -1 };
                r = persist(&e, PF, NULL, &vc, err, sizeof(err));
                CHECK(r == 0, "persist VF 1 settings");
                vc.index = 2;
                r = persist(&e, PF, NULL, &vc, err, sizeof(err));
                CHECK(r == -ERANGE && strstr(err, "no VF 2"), "VF 2 of 2 is refused (%s)", err);
        }
        env_close(&e);
        o = read_conf_json(PF);
        CHECK(o && json_object_object_get_ex(o, "address", &v) && streq(json_object_get_string(v), PF) &&
                      json_object_object_get_ex(o, "vendor", &v) && streq(json_object_get_string(v), "0x8086") &&
                      json_object_object_get_ex(o, "device", &v) && streq(json_object_get_string(v), "0x10c9") &&
                      json_object_object_get_ex(o, "serial", &v) && v == NULL &&
                      json_object_object_get_ex(o, "numvfs", &v) && json_object_get_int(v) == 2 &&
                      json_object_object_get_ex(o, "driver", &v) && streq(json_object_get_string(v), "vfio-pci") &&
                      json_object_object_get_ex(o, "autoprobe", &v) && !json_object_get_boolean(v),
              "config file: address, vendor, device, serial null, numvfs, driver, autoprobe");
        CHECK(o && json_object_object_get_ex(o, "vfs", &v) && json_object_array_length(v) == 1 &&
                      streq(json_object_to_json_string(json_object_array_get_idx(v, 0)),
                            "{ \"index\": 1, \"mac\": \"02:11:22:33:44:55\", \"vlan\": 100, \"trust\": true }"),
              "config file: vfs[] holds VF 1's settings (%s)", o && v ? json_object_to_json_string(v) : "");
        json_object_put(o);
        CHECK(no_tmp_files(), "no temporary files left");

        /* the ConnectX: VPD serial number recorded */
        fake_env_open(&e, root, state, 0);
        {
                hd_sriov_set_opts o2 = { .numvfs = 0, .autoprobe = -1 };
                r = persist(&e, CX, &o2, NULL, err, sizeof(err));
        }
        env_close(&e);
        o = read_conf_json(CX);
        CHECK(r == 0 && o && json_object_object_get_ex(o, "serial", &v) && v &&
                      streq(json_object_get_string(v), "MT2113X00000"),
              "ConnectX config records the VPD serial number");
        json_object_put(o);

        /* a "reboot": VFs gone, autoprobe back on */
        r = set(0, "host", -1, HD_SRIOV_FORCE, &res);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && !exists("sys/bus/pci/devices/0000:02:10.0"), "VFs removed (reboot)");
        hd_result_unref(res);

        fake_env_open(&e, root, state, 0);
        r = hd_sriov_apply(e.list, confdir, HD_SRIOV_DRY_RUN, &res);
        env_close(&e);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && has_action(res, HD_OUTCOME_PLANNED, "sriov_numvfs 0 -> 2") &&
                      !exists("sys/bus/pci/devices/0000:02:10.0"),
              "apply --dry-run plans 0 -> 2 and changes nothing");
        hd_result_unref(res);

        fake_env_open(&e, root, state, 0);
        r = hd_sriov_apply(e.list, confdir, 0, &res);
        env_close(&e);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && has_action(res, HD_OUTCOME_DONE, "sriov_numvfs 0 -> 2") &&
                      has_action(res, HD_OUTCOME_DONE, "sriov_drivers_autoprobe 1 -> 0") &&
                      has_action(res, HD_OUTCOME_SKIPPED, "need the live host") && bound_to("0000:02:10.0", "vfio-pci") &&
                      bound_to("0000:02:10.2", "vfio-pci"),
              "apply re-creates 2 VFs on vfio-pci; VF link settings skipped with a sysroot (%s)", res ? strempty(hd_result_get_reason(res)) : "");
        hd_result_unref(res);

        fake_env_open(&e, root, state, 0);
        r = hd_sriov_apply(e.list, confdir, 0, &res);
        env_close(&e);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && count_changes(res) == 0, "apply again: nothing changed");
        hd_result_unref(res);

        /* identity checks */
        write_conf(CX, "{\"address\":\"" CX "\",\"vendor\":\"0x15b3\",\"device\":\"0x1234\",\"numvfs\":4}\n");
        fake_env_open(&e, root, state, 0);
        r = hd_sriov_apply(e.list, confdir, 0, &res);
        env_close(&e);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && has_action(res, HD_OUTCOME_SKIPPED, "config is for 15b3:1234") &&
                      !exists("sys/bus/pci/devices/" CX "/virtfn0"),
              "another device at the address: skipped, nothing created");
        hd_result_unref(res);
        write_conf(CX, "{\"address\":\"" CX "\",\"vendor\":\"0x15b3\",\"device\":\"0xa2d6\",\"serial\":\"OTHER\",\"numvfs\":4}\n");
        fake_env_open(&e, root, state, 0);
        r = hd_sriov_apply(e.list, confdir, 0, &res);
        env_close(&e);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && has_action(res, HD_OUTCOME_SKIPPED, "serial number is MT2113X00000") &&
                      !exists("sys/bus/pci/devices/" CX "/virtfn0"),
              "another serial number: skipped");
        hd_result_unref(res);
        write_conf(CX, "{\"address\":\"" CX "\",\"vendor\":\"0x15b3\",\"device\":\"0xa2d6\",\"serial\":\"MT2113X00000\",\"numvfs\":1}\n");
        fake_env_open(&e, root, state, 0);
        r = hd_sriov_apply(e.list, confdir, 0, &res);
        env_close(&e);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && has_action(res, HD_OUTCOME_DONE, "sriov_numvfs 0 -> 1") &&
                      bound_to("0000:05:00.2", "mlx5_core"),
              "the same serial: 1 VF created at 05:00.2 on mlx5_core (offset 2)");
        hd_result_unref(res);
        write_conf("0000:09:00.0", "{\"address\":\"0000:09:00.0\",\"vendor\":\"0x8086\",\"device\":\"0x10c9\",\"numvfs\":1}");
        fake_env_open(&e, root, state, 0);
        r = hd_sriov_apply(e.list, confdir, 0, &res);
        env_close(&e);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && has_action(res, HD_OUTCOME_SKIPPED, "no device at 0000:09:00.0") &&
                      count_changes(res) == 0,
              "no device at the address: skipped");
        hd_result_unref(res);
        remove_conf("0000:09:00.0");
}

/* hd_sriov_apply_device: one PF that has just appeared (hotplug) */
static void test_apply_device(void) {
        static const char cx_conf[] =
                "{\"address\":\"" CX "\",\"vendor\":\"0x15b3\",\"device\":\"0xa2d6\",\"serial\":\"MT2113X00000\",\"numvfs\":1}\n";
        struct env e;
        hd_result *res = NULL;
        char numvfs[16];
        bool only_pf = true;
        int r;

        /* a "reboot" of the PF persisted with 2 VFs on vfio-pci */
        r = set(0, "host", -1, HD_SRIOV_FORCE, &res);
        CHECK(r == 0 && hd_result_get_status(res) == 0 && !exists("sys/bus/pci/devices/0000:02:10.0"), "apply_device: VFs removed");
        hd_result_unref(res);
        res = NULL;

        fake_env_open(&e, root, state, 0);
        r = hd_sriov_apply_device(e.list, confdir, dev(&e, PF), HD_SRIOV_DRY_RUN, &res);
        env_close(&e);
        CHECK(r == 1 && hd_result_get_status(res) == 0 && has_action(res, HD_OUTCOME_PLANNED, "sriov_numvfs 0 -> 2") &&
                      !exists("sys/bus/pci/devices/0000:02:10.0"),
              "apply_device --dry-run: plans 0 -> 2, changes nothing (%d)", r);
        hd_result_unref(res);
        res = NULL;

        fake_env_open(&e, root, state, 0);
        r = hd_sriov_apply_device(e.list, confdir, dev(&e, PF), 0, &res);
        env_close(&e);
        for (size_t i = 0; r == 1 && i < hd_result_get_n_steps(res); i++)
                if (!streq(hd_result_step_get_subject(hd_result_get_step(res, i)), PF))
                        only_pf = false;
        read_rel("sys/bus/pci/devices/" CX "/sriov_numvfs", numvfs, sizeof(numvfs));
        CHECK(r == 1 && hd_result_get_status(res) == 0 && has_action(res, HD_OUTCOME_DONE, "sriov_numvfs 0 -> 2") &&
                      bound_to("0000:02:10.0", "vfio-pci") && bound_to("0000:02:10.2", "vfio-pci") && only_pf &&
                      streq(numvfs, "1"),
              "apply_device: the PF's 2 VFs on vfio-pci, only its own steps, the other PF untouched (%s)",
              res ? strempty(hd_result_get_reason(res)) : "");
        hd_result_unref(res);
        res = NULL;

        fake_env_open(&e, root, state, 0);
        r = hd_sriov_apply_device(e.list, confdir, dev(&e, PF), 0, &res);
        env_close(&e);
        CHECK(r == 1 && hd_result_get_status(res) == 0 && count_changes(res) == 0, "apply_device again: nothing changed");
        hd_result_unref(res);
        res = NULL;

        /* nothing persisted: a VF, a device that is not PCI */
        fake_env_open(&e, root, state, 0);
        r = hd_sriov_apply_device(e.list, confdir, dev(&e, "0000:02:10.0"), 0, &res);
        CHECK(r == 0 && !res, "apply_device of a PCI function without a file: 0, no result");
        r = hd_sriov_apply_device(e.list, confdir, dev(&e, "computer"), 0, &res);
        CHECK(r == 0 && !res, "apply_device of a device that is not PCI: 0, no result");
        r = hd_sriov_apply_device(e.list, confdir, dev(&e, PF), HD_SRIOV_FORCE, &res);
        CHECK(r == -EINVAL && !res, "apply_device with a flag other than dry-run: -EINVAL");
        env_close(&e);

        /* drift: the file records another device, or another serial number */
        write_conf(CX, "{\"address\":\"" CX "\",\"vendor\":\"0x15b3\",\"device\":\"0x1234\",\"numvfs\":4}\n");
        fake_env_open(&e, root, state, 0);
        r = hd_sriov_apply_device(e.list, confdir, dev(&e, CX), 0, &res);
        env_close(&e);
        read_rel("sys/bus/pci/devices/" CX "/sriov_numvfs", numvfs, sizeof(numvfs));
        CHECK(r == 1 && hd_result_get_status(res) == -EBUSY && strstr(strempty(hd_result_get_reason(res)), "made for 15b3:1234") &&
                      strstr(strempty(hd_result_get_reason(res)), "now is 15b3:a2d6") && hd_result_get_n_steps(res) == 1 &&
                      hd_result_step_get_outcome(hd_result_get_step(res, 0)) == HD_OUTCOME_SKIPPED && streq(numvfs, "1"),
              "apply_device: another vendor:device is drift: refused, both identities, nothing changed (%s)",
              res ? strempty(hd_result_get_reason(res)) : "");
        hd_result_unref(res);
        res = NULL;
        write_conf(CX, "{\"address\":\"" CX "\",\"vendor\":\"0x15b3\",\"device\":\"0xa2d6\",\"serial\":\"OTHER\",\"numvfs\":4}\n");
        fake_env_open(&e, root, state, 0);
        r = hd_sriov_apply_device(e.list, confdir, dev(&e, CX), 0, &res);
        env_close(&e);
        read_rel("sys/bus/pci/devices/" CX "/sriov_numvfs", numvfs, sizeof(numvfs));
        CHECK(r == 1 && hd_result_get_status(res) == -EBUSY &&
                      strstr(strempty(hd_result_get_reason(res)), "15b3:a2d6 serial OTHER") &&
                      strstr(strempty(hd_result_get_reason(res)), "15b3:a2d6 serial MT2113X00000") && streq(numvfs, "1"),
              "apply_device: another serial number is drift: refused, nothing changed (%s)",
              res ? strempty(hd_result_get_reason(res)) : "");
        hd_result_unref(res);
        res = NULL;
        /* a malformed file: a failed result */
        write_conf(CX, "{\"address\":\"" CX "\",\"numvfs\":");
        fake_env_open(&e, root, state, 0);
        r = hd_sriov_apply_device(e.list, confdir, dev(&e, CX), 0, &res);
        env_close(&e);
        read_rel("sys/bus/pci/devices/" CX "/sriov_numvfs", numvfs, sizeof(numvfs));
        CHECK(r == 1 && hd_result_get_status(res) == -EBADMSG && streq(numvfs, "1"),
              "apply_device: a malformed file fails, nothing changed (%s)", res ? strempty(hd_result_get_reason(res)) : "");
        hd_result_unref(res);
        write_conf(CX, cx_conf);
}

static void test_bad_config(void) {
        static const struct {
                const char *text, *err;
        } cases[] = {
                { "{\"address\":\"0000:02:00.0\",\"vendor\":\"0x8086\",", "unexpected end of file" },
                { "", "empty file" },
                { "[1,2]", "not a JSON object" },
                { "{\"address\":\"0000:02:00.0\",\"vendor\":\"0x8086\",\"device\":\"0x10c9\"}", "missing numvfs" },
                { "{\"address\":\"0000:02:00.0\",\"vendor\":\"0x8086\",\"device\":\"0x10c9\",\"numvfs\":-1}", "numvfs must be" },
                { "{\"address\":\"0000:02:00.0\",\"vendor\":\"8086\",\"device\":\"0x10c9\",\"numvfs\":1}", "vendor must be" },
                { "{\"address\":\"0000:02:00.0\",\"vendor\":\"0x8086\",\"device\":\"0x10c9\",\"numvfs\":1,\"driver\":\"igbvf\"}", "driver must be" },
                { "{\"address\":\"0000:03:00.0\",\"vendor\":\"0x8086\",\"device\":\"0x10c9\",\"numvfs\":1}", "does not match the file name" },
                { "{\"address\":\"0000:02:00.0\",\"vendor\":\"0x8086\",\"device\":\"0x10c9\",\"numvfs\":1,\"numfvs\":2}", "unknown key 'numfvs'" },
                { "{\"address\":\"0000:02:00.0\",\"vendor\":\"0x8086\",\"device\":\"0x10c9\",\"numvfs\":2,\"vfs\":[{\"index\":0,\"vlan\":5000}]}", "vfs[0].vlan" },
                { "{\"address\":\"0000:02:00.0\",\"vendor\":\"0x8086\",\"device\":\"0x10c9\",\"numvfs\":2,\"vfs\":[{\"index\":0,\"mac\":\"ff:ff:ff:ff:ff:ff\"}]}", "vfs[0].mac" },
                { "{\"address\":\"0000:02:00.0\",\"vendor\":\"0x8086\",\"device\":\"0x10c9\",\"numvfs\":2,\"vfs\":[{\"index\":2}]}", "not below numvfs" },
                { "{\"address\":\"0000:02:00.0\",\"vendor\":\"0x8086\",\"device\":\"0x10c9\",\"numvfs\":2,\"vfs\":[{\"index\":1},{\"index\":1}]}", "appears twice" },
                { "{\"address\":\"0000:02:00.0\",\"vendor\":\"0x8086\",\"device\":\"0x10c9\",\"numvfs\":2} x", "trailing garbage" },
        };
        hd_result *res = NULL;
        char err[512], before[4096], after[4096];
        struct env e;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                hd_sriov_pf_config *c = NULL;
                hd_ctx *ctx = NULL;
                const char *why;
                if (hd_ctx_new(root, &ctx) < 0)
                        abort();
                write_conf(PF, cases[i].text);
                r = hd_sriov_config_read(ctx, confdir, PF, &c);
                why = strempty(hd_ctx_get_error(ctx));
                CHECK(r == -EBADMSG && !c && strstr(why, cases[i].err) && strstr(why, "/sriov/0000:02:00.0.json"),
                      "malformed config %zu: %s", i, why);
                hd_sriov_pf_config_free(c);
                hd_ctx_unref(ctx);
        }

        /* apply with a malformed file: a clear failure, the PF untouched,
         * the other PFs applied */
        write_conf(PF, "{\"address\":\"0000:02:00.0\",\"numvfs\":3");
        snprintf(before, sizeof(before), "%d", exists("sys/bus/pci/devices/0000:02:10.4"));
        fake_env_open(&e, root, state, 0);
        r = hd_sriov_apply(e.list, confdir, 0, &res);
        env_close(&e);
        snprintf(after, sizeof(after), "%d", exists("sys/bus/pci/devices/0000:02:10.4"));
        CHECK(r == 0 && hd_result_get_status(res) == -EBADMSG && strstr(strempty(hd_result_get_reason(res)), "line 1") &&
                      has_action(res, HD_OUTCOME_FAILED, "config file") && streq(before, after) &&
                      bound_to("0000:02:10.0", "vfio-pci"),
              "apply: malformed file fails clearly, nothing changed (%s)", res ? strempty(hd_result_get_reason(res)) : "");
        hd_result_unref(res);

        /* persist over a malformed file refuses to overwrite it */
        {
                hd_sriov_set_opts o = { .numvfs = 1, .autoprobe = -1 };
                char p[PATH_MAX], text[256] = "";
                FILE *f;
                fake_env_open(&e, root, state, 0);
                r = persist(&e, PF, &o, NULL, err, sizeof(err));
                env_close(&e);
                snprintf(p, sizeof(p), "%s/sriov/%s.json", confdir, PF);
                f = fopen(p, "re");
                if (f) {
                        if (!fgets(text, sizeof(text), f))
                                text[0] = 0;
                        fclose(f);
                }
                CHECK(r == -EBADMSG && streq(text, "{\"address\":\"0000:02:00.0\",\"numvfs\":3") && no_tmp_files(),
                      "persist over a malformed file: -EBADMSG, file untouched, no partial files");
        }
        remove_conf(PF);
        remove_conf(CX);
}

static int run_lib(void) {
        test_list();
        test_fake_kernel();
        test_set();
        test_persist_apply();
        test_apply_device();
        test_bad_config();
        {
                unsigned char mac[6];
                CHECK(hd_sriov_parse_mac("02:aa:BB:cc:dd:0e", mac) == 0 && mac[1] == 0xaa && mac[5] == 0x0e,
                      "MAC parsing");
                CHECK(hd_sriov_parse_mac("01:00:5e:00:00:01", mac) == -EADDRNOTAVAIL &&
                              hd_sriov_parse_mac("02:00:00:00:00", mac) == -EINVAL &&
                              hd_sriov_parse_mac("02:00-00:00:00:00", mac) == -EINVAL &&
                              hd_sriov_parse_mac("0g:00:00:00:00:00", mac) == -EINVAL,
                      "multicast MAC refused, bad syntax refused");
        }
        return tap_finish();
}

/* ---- netlink units ---- */

static const struct nlattr *find_attr(const void *p, size_t len, int type) {
        const unsigned char *b = p;
        size_t off = 0;
        while (off + NLA_HDRLEN <= len) {
                const struct nlattr *a = (const void *) (b + off);
                if (a->nla_len < NLA_HDRLEN || off + a->nla_len > len)
                        return NULL;
                if ((a->nla_type & NLA_TYPE_MASK) == type)
                        return a;
                off += NLA_ALIGN(a->nla_len);
        }
        return NULL;
}

#define ADATA(a) ((const unsigned char *) (a) + NLA_HDRLEN)
#define ALEN(a) ((size_t) (a)->nla_len - NLA_HDRLEN)

struct builder {
        unsigned char b[2048];
        size_t len;
};

static size_t battr(struct builder *m, unsigned short type, const void *data, size_t n) {
        size_t off = m->len;
        struct nlattr a = { .nla_len = (unsigned short) (NLA_HDRLEN + n), .nla_type = type };
        memcpy(m->b + m->len, &a, sizeof(a));
        if (n)
                memcpy(m->b + m->len + NLA_HDRLEN, data, n);
        m->len += NLA_ALIGN(NLA_HDRLEN + n);
        return off;
}

static void bend(struct builder *m, size_t off) {
        struct nlattr a;
        memcpy(&a, m->b + off, sizeof(a));
        a.nla_len = (unsigned short) (m->len - off);
        memcpy(m->b + off, &a, sizeof(a));
}

static void add_vf_info(struct builder *m, uint32_t vf, const unsigned char *mac, uint32_t vlan, uint32_t spoof,
                        uint32_t trust, uint32_t link) {
        size_t info = battr(m, IFLA_VF_INFO | NLA_F_NESTED, NULL, 0);
        struct ifla_vf_mac vm = { .vf = vf };
        struct ifla_vf_vlan vv = { .vf = vf, .vlan = vlan, .qos = 0 };
        struct ifla_vf_spoofchk vs = { .vf = vf, .setting = spoof };
        struct ifla_vf_trust vt = { .vf = vf, .setting = trust };
        struct ifla_vf_link_state vl = { .vf = vf, .link_state = link };
        uint64_t stat = 42;
        size_t stats;
        memcpy(vm.mac, mac, 6);
        battr(m, IFLA_VF_MAC, &vm, sizeof(vm));
        battr(m, IFLA_VF_VLAN, &vv, sizeof(vv));
        battr(m, IFLA_VF_SPOOFCHK, &vs, sizeof(vs));
        battr(m, IFLA_VF_LINK_STATE, &vl, sizeof(vl));
        battr(m, IFLA_VF_TRUST, &vt, sizeof(vt));
        stats = battr(m, IFLA_VF_STATS | NLA_F_NESTED, NULL, 0); /* unknown to the parser: skipped */
        battr(m, IFLA_VF_STATS_RX_PACKETS, &stat, sizeof(stat));
        bend(m, stats);
        bend(m, info);
}

/* An RTM_NEWLINK reply as the kernel sends it for a PF with 2 VFs, VF 1
 * first. */
static size_t build_newlink(struct builder *m, uint32_t seq) {
        struct nlmsghdr h = { .nlmsg_type = RTM_NEWLINK, .nlmsg_seq = seq };
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = 7 };
        static const unsigned char mac0[6] = { 0x02, 0, 0, 0, 0, 0x10 }, mac1[6] = { 0x02, 0, 0, 0, 0, 0x11 };
        uint32_t numvf = 2, mtu = 1500;
        size_t list;

        m->len = NLMSG_HDRLEN;
        memcpy(m->b + m->len, &ifi, sizeof(ifi));
        m->len += NLMSG_ALIGN(sizeof(ifi));
        battr(m, IFLA_IFNAME, "enp5s0f0np0", 12);
        battr(m, IFLA_MTU, &mtu, sizeof(mtu));
        battr(m, IFLA_NUM_VF, &numvf, sizeof(numvf));
        list = battr(m, IFLA_VFINFO_LIST | NLA_F_NESTED, NULL, 0);
        add_vf_info(m, 1, mac1, 100, 0, 1, 2);
        add_vf_info(m, 0, mac0, 0, 1, (uint32_t) -1, 0);
        bend(m, list);
        h.nlmsg_len = (uint32_t) m->len;
        memcpy(m->b, &h, sizeof(h));
        return m->len;
}

static void test_nl_build(void) {
        unsigned char buf[512];
        const struct nlmsghdr *h = (const void *) buf;
        const struct ifinfomsg *ifi = (const void *) (buf + NLMSG_HDRLEN);
        const unsigned char *attrs = buf + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*ifi));
        const struct nlattr *a, *list, *info;
        hd_sriov_vf_config c = { .index = 3, .set_mac = true, .mac = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee },
                                 .set_vlan = true, .vlan = 4095, .qos = 5, .trust = 1, .spoofchk = 0 };
        int len;

        len = hd_nl_build_getlink(buf, sizeof(buf), 7, 42);
        a = len > 0 ? find_attr(attrs, (size_t) len - (size_t) (attrs - buf), IFLA_EXT_MASK) : NULL;
        CHECK(len > 0 && h->nlmsg_len == (uint32_t) len && h->nlmsg_type == RTM_GETLINK &&
                      h->nlmsg_flags == NLM_F_REQUEST && h->nlmsg_seq == 42 && ifi->ifi_index == 7 && a &&
                      ALEN(a) == 4 && *(const uint32_t *) ADATA(a) == RTEXT_FILTER_VF,
              "RTM_GETLINK: header, ifindex, IFLA_EXT_MASK = RTEXT_FILTER_VF");

        len = hd_nl_build_setvf(buf, sizeof(buf), 9, 43, &c);
        CHECK(len > 0 && h->nlmsg_len == (uint32_t) len && h->nlmsg_type == RTM_SETLINK &&
                      h->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK) && ifi->ifi_index == 9,
              "RTM_SETLINK: header with NLM_F_ACK, ifindex");
        list = len > 0 ? find_attr(attrs, (size_t) len - (size_t) (attrs - buf), IFLA_VFINFO_LIST) : NULL;
        info = list ? find_attr(ADATA(list), ALEN(list), IFLA_VF_INFO) : NULL;
        CHECK(list && (list->nla_type & NLA_F_NESTED) && (const unsigned char *) list + list->nla_len == buf + len &&
                      info && (info->nla_type & NLA_F_NESTED) && info->nla_len == list->nla_len - NLA_HDRLEN,
              "IFLA_VFINFO_LIST holds exactly one nested IFLA_VF_INFO");
        if (info) {
                const struct nlattr *m = find_attr(ADATA(info), ALEN(info), IFLA_VF_MAC);
                const struct nlattr *v = find_attr(ADATA(info), ALEN(info), IFLA_VF_VLAN);
                const struct nlattr *t = find_attr(ADATA(info), ALEN(info), IFLA_VF_TRUST);
                const struct nlattr *s = find_attr(ADATA(info), ALEN(info), IFLA_VF_SPOOFCHK);
                struct ifla_vf_mac vm;
                struct ifla_vf_vlan vv;
                struct ifla_vf_trust vt;
                struct ifla_vf_spoofchk vs;
                bool ok = m && v && t && s && ALEN(m) == sizeof(vm) && ALEN(v) == sizeof(vv) && ALEN(t) == sizeof(vt) &&
                          ALEN(s) == sizeof(vs);
                if (ok) {
                        memcpy(&vm, ADATA(m), sizeof(vm));
                        memcpy(&vv, ADATA(v), sizeof(vv));
                        memcpy(&vt, ADATA(t), sizeof(vt));
                        memcpy(&vs, ADATA(s), sizeof(vs));
                        ok = vm.vf == 3 && memcmp(vm.mac, c.mac, 6) == 0 && vm.mac[6] == 0 && vv.vf == 3 &&
                             vv.vlan == 4095 && vv.qos == 5 && vt.vf == 3 && vt.setting == 1 && vs.vf == 3 && vs.setting == 0;
                }
                CHECK(ok, "IFLA_VF_MAC/VLAN/TRUST/SPOOFCHK carry VF 3 and the values");
        }
        c = (hd_sriov_vf_config) { .index = 0, .trust = 0, .spoofchk = -1 };
        len = hd_nl_build_setvf(buf, sizeof(buf), 9, 44, &c);
        list = len > 0 ? find_attr(attrs, (size_t) len - (size_t) (attrs - buf), IFLA_VFINFO_LIST) : NULL;
        info = list ? find_attr(ADATA(list), ALEN(list), IFLA_VF_INFO) : NULL;
        CHECK(info && find_attr(ADATA(info), ALEN(info), IFLA_VF_TRUST) && !find_attr(ADATA(info), ALEN(info), IFLA_VF_MAC) &&
                      !find_attr(ADATA(info), ALEN(info), IFLA_VF_VLAN) && !find_attr(ADATA(info), ALEN(info), IFLA_VF_SPOOFCHK),
              "only the settings asked for are sent");
        c.trust = -1;
        CHECK(hd_nl_build_setvf(buf, sizeof(buf), 9, 45, &c) == -EINVAL, "nothing to set: -EINVAL");
        c.trust = 1;
        CHECK(hd_nl_build_setvf(buf, 40, 9, 45, &c) == -ENOBUFS, "small buffer: -ENOBUFS");
}

static void test_nl_parse(void) {
        struct builder m = {};
        struct hd_nl_link l = {};
        size_t len = build_newlink(&m, 77);
        int r;

        r = hd_nl_parse_reply(m.b, len, 77, &l);
        CHECK(r == 1 && l.ifindex == 7 && l.num_vf == 2 && l.n_vfs == 2, "RTM_NEWLINK: ifindex, IFLA_NUM_VF, 2 VFs");
        if (r == 1 && l.n_vfs == 2) {
                CHECK(l.vfs[0].vf == 0 && l.vfs[0].has_mac && l.vfs[0].mac[5] == 0x10 && l.vfs[0].vlan == 0 &&
                              l.vfs[0].spoofchk == 1 && l.vfs[0].trust == -1 && l.vfs[0].link_state == 0,
                      "VF 0: mac, no vlan, spoofchk on, trust unknown (-1 from the driver), link auto");
                CHECK(l.vfs[1].vf == 1 && l.vfs[1].mac[5] == 0x11 && l.vfs[1].vlan == 100 && l.vfs[1].spoofchk == 0 &&
                              l.vfs[1].trust == 1 && l.vfs[1].link_state == 2,
                      "VF 1 (sent first, sorted): vlan 100, trust on, link disable");
        }
        hd_nl_link_done(&l);

        CHECK(hd_nl_parse_reply(m.b, len, 78, &l) == -EBADMSG, "another sequence number is not our reply");
        CHECK(hd_nl_parse_reply(m.b, len - 8, 77, &l) == -EBADMSG, "truncated datagram: -EBADMSG");
        {
                struct builder bad = m;
                /* shrink VF 1's IFLA_VF_MAC payload to 4 bytes */
                size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct ifinfomsg));
                const struct nlattr *list = find_attr(bad.b + off, len - off, IFLA_VFINFO_LIST);
                const struct nlattr *info = find_attr(ADATA(list), ALEN(list), IFLA_VF_INFO);
                struct nlattr *mac = (struct nlattr *) find_attr(ADATA(info), ALEN(info), IFLA_VF_MAC);
                mac->nla_len = NLA_HDRLEN + 4;
                r = hd_nl_parse_reply(bad.b, len, 77, &l);
                CHECK(r == -EBADMSG, "short IFLA_VF_MAC: -EBADMSG (%d)", r);
        }
        {
                struct {
                        struct nlmsghdr h;
                        struct nlmsgerr e;
                } err = { .h = { .nlmsg_len = sizeof(err), .nlmsg_type = NLMSG_ERROR, .nlmsg_seq = 5 },
                          .e = { .error = -EOPNOTSUPP } };
                CHECK(hd_nl_parse_reply(&err, sizeof(err), 5, NULL) == -EOPNOTSUPP, "NLMSG_ERROR: its errno");
                err.e.error = 0;
                CHECK(hd_nl_parse_reply(&err, sizeof(err), 5, NULL) == 0, "NLMSG_ERROR 0: ACK");
        }
}

static void test_nl_live(void) {
        struct hd_nl_link l = { .num_vf = -1 };
        hd_sriov_vf_config c = { .index = 0, .set_mac = true, .mac = { 2, 0, 0, 0, 0, 1 }, .trust = -1, .spoofchk = -1 };
        int r = hd_nl_get_link(1, &l);
        CHECK(r == 0 && l.ifindex == 1 && l.n_vfs == 0 && l.num_vf <= 0,
              "live RTM_GETLINK of lo: no VFs (r=%d num_vf=%d)", r, l.num_vf);
        hd_nl_link_done(&l);
        r = hd_nl_set_vf(1, &c);
        CHECK(r == -EOPNOTSUPP || r == -EPERM,
              "live RTM_SETLINK of a VF MAC on lo: the kernel's error comes back (%s)", strerror(-r));
        if (getenv("TEST_NETNS"))
                CHECK(r == -EOPNOTSUPP, "in a network namespace we own: -EOPNOTSUPP (lo has no VFs)");
        CHECK(hd_nl_get_link(999999, &l) == -ENODEV, "unknown ifindex: -ENODEV");
}

static int run_netlink(void) {
        test_nl_build();
        test_nl_parse();
        test_nl_live();
        return tap_finish();
}

int main(int argc, char **argv) {
        if (argc == 2 && streq(argv[1], "netlink"))
                return run_netlink();
        if (argc == 5 && streq(argv[1], "lib")) {
                root = argv[2];
                state = argv[3];
                confdir = argv[4];
                return run_lib();
        }
        fprintf(stderr, "usage: test-sriov lib SYSROOT STATEDIR CONFDIR | netlink\n");
        return 2;
}
