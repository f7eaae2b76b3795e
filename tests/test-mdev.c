/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mediated devices on a fake tree with the fake kernel (TAP):
 *   test-mdev SYSROOT
 * SYSROOT is a fresh copy of the "full" fixture; it is modified.  The
 * definitions go to SYSROOT/etc/mdevctl.d.
 */
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fake-kernel.h"
#include "mdev/mdev-internal.h"
#include "tap.h"

static const char *root;


#define MTTY_UUID "3627463d-b7f0-4fea-b468-f1da537d301b"
#define IGPU_UUID "4b20d080-1b54-4048-85b3-a6a62d165c01"
#define U1 "11111111-2222-4333-8444-555555555555"
#define U2 "22222222-3333-4444-8555-666666666666"

_printf_(1, 2) static bool exists(const char *fmt, ...) {
        char rel[PATH_MAX], p[PATH_MAX * 2];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(rel, sizeof(rel), fmt, ap);
        va_end(ap);
        snprintf(p, sizeof(p), "%s/%s", root, rel);
        return access(p, F_OK) == 0;
}

static long avail(const char *parent, const char *type) {
        char p[PATH_MAX];
        long v = -1;
        FILE *f;
        snprintf(p, sizeof(p), "%s/sys/class/mdev_bus/%s/mdev_supported_types/%s/available_instances", root, parent, type);
        f = fopen(p, "re");
        if (f) {
                if (fscanf(f, "%ld", &v) != 1)
                        v = -1;
                fclose(f);
        }
        return v;
}

/* The operations' status (their result's, or their return when they
 * gave none); the reason of the last one in last_reason. */
static char last_reason[512];

static int status_of(int r, hd_result *res) {
        const hd_result_step *s = hd_result_get_step(res, 0);
        int st = r < 0 ? r : hd_result_get_status(res);
        snprintf(last_reason, sizeof(last_reason), "%s", r < 0 ? "" : strempty(hd_result_get_reason(res)));
        /* one step, failed exactly when the result is */
        if (r >= 0 && (hd_result_get_n_steps(res) != 1 || (hd_result_step_get_outcome(s) == HD_OUTCOME_FAILED) != (st < 0)))
                st = -EPROTO;
        hd_result_unref(res);
        return st;
}

static int create(hd_ctx *ctx, const char *parent, const char *type, const char *uuid, const hd_mdev_attr *attrs,
                  size_t n, char ret_uuid[37]) {
        hd_result *res = NULL;
        int r = hd_mdev_create(ctx, parent, type, uuid, attrs, n, 0, &res);
        if (r >= 0 && ret_uuid && hd_result_get_status(res) == 0)
                snprintf(ret_uuid, 37, "%s", hd_result_step_get_subject(hd_result_get_step(res, 0)));
        return status_of(r, res);
}
#define OP(fn, ...) ({ hd_result *_res = NULL; int _r = fn(__VA_ARGS__, &_res); status_of(_r, _res); })
#define remove_(ctx, u) OP(hd_mdev_remove, ctx, u)
#define define_(ctx, m, f) OP(hd_mdev_define, ctx, m, f)
#define undefine_(ctx, u, p) OP(hd_mdev_undefine, ctx, u, p)
#define start_(ctx, u, p) OP(hd_mdev_start, ctx, u, p)
#define autostart_(ctx, u, p, a) OP(hd_mdev_set_autostart, ctx, u, p, a)
#define modify_(ctx, u, p, m) OP(hd_mdev_modify_definition, ctx, u, p, m)

static hd_ctx *ctx_open(struct fake_kernel **k) {
        hd_ctx *ctx;
        if (hd_ctx_new(root, &ctx) < 0)
                abort();
        hd_ctx_set_log_level(ctx, getenv("TEST_DEBUG") ? HD_LOG_DEBUG : 0);
        if (fake_kernel_attach(ctx, root, k) < 0)
                abort();
        return ctx;
}

static char *slurp(const char *rel) {
        char p[PATH_MAX];
        char *buf = calloc(1, 65536);
        FILE *f;
        snprintf(p, sizeof(p), "%s/%s", root, rel);
        f = fopen(p, "re");
        if (!f || !buf) {
                free(buf);
                if (f)
                        fclose(f);
                return NULL;
        }
        if (fread(buf, 1, 65535, f) == 0)
                buf[0] = 0;
        fclose(f);
        return buf;
}

static void test_create_remove(hd_ctx *ctx) {
        char uuid[37];
        long a = avail("mtty", "mtty-2");
        int r;

        r = create(ctx, "mtty", "mtty-2", U1, NULL, 0, uuid);
        CHECK(r == 0 && streq(uuid, U1), "create mtty-2 on mtty (%d)", r);
        CHECK(exists("sys/bus/mdev/devices/%s", U1) && exists("sys/devices/virtual/mtty/mtty/%s/mdev_type", U1),
              "instance directory, mdev_type and bus link exist");
        CHECK(exists("sys/devices/virtual/mtty/mtty/%s/iommu_group", U1), "the instance has an IOMMU group");
        CHECK(avail("mtty", "mtty-2") == a - 1, "available_instances decremented");
        {
                hd_nodedev_list *list = NULL;
                hd_device *d = NULL;
                r = hd_nodedev_list_new(ctx, &list);
                CHECK(r == 0 && hd_nodedev_list_lookup(list, "mdev_" "11111111_2222_4333_8444_555555555555_mtty", &d) == 0 &&
                              streq(hd_device_get_name(hd_device_get_parent(d)), "mtty_mtty"),
                      "new mdev is a node device under mtty_mtty");
                CHECK(d && hd_device_get_iommu_group(d) >= 0, "and has an IOMMU group");
                hd_nodedev_list_unref(list);
        }
        r = create(ctx, "mtty", "mtty-2", U1, NULL, 0, NULL);
        CHECK(r == -EEXIST, "duplicate UUID -> -EEXIST (%d)", r);
        r = create(ctx, "0000:00:02.0", "i915-GVTg_V5_4", U1, NULL, 0, NULL);
        CHECK(r == -EEXIST, "same UUID on another parent -> -EEXIST (%d)", r);
        r = create(ctx, "mtty", "mtty-9", NULL, NULL, 0, NULL);
        CHECK(r == -ENOENT, "unknown type -> -ENOENT (%d)", r);
        CHECK(streq(last_reason, "unknown mdev type 'mtty-9' for parent mtty (see 'hostdevctl mdev types mtty')"),
              "  ... the reason names the type and parent: %s", last_reason);
        r = create(ctx, "pci_0000_00_1f_0", "mtty-1", NULL, NULL, 0, NULL);
        CHECK(r == -ENODEV, "not an mdev parent -> -ENODEV (%d)", r);
        r = create(ctx, "mtty", "mtty-1", "not-a-uuid", NULL, 0, NULL);
        CHECK(r == -EINVAL, "bad UUID -> -EINVAL (%d)", r);
        r = create(ctx, "mtty", "../../../../etc", NULL, NULL, 0, NULL);
        CHECK(r == -ENOENT, "type with a path -> refused (%d)", r);

        /* the fake kernel itself refuses bad input too */
        {
                char p[PATH_MAX];
                snprintf(p, sizeof(p), "sys/devices/virtual/mtty/mtty/mdev_supported_types/mtty-1/create");
                CHECK(hd_sysfs_write(ctx, p, "garbage") == -EINVAL, "kernel: bad UUID -> -EINVAL");
                CHECK(hd_sysfs_write(ctx, p, U1) == -EEXIST, "kernel: duplicate UUID -> -EEXIST");
        }

        /* no instance left */
        {
                long left = avail("0000:00:02.0", "i915-GVTg_V5_4");
                char u[37];
                for (long i = 0; i < left; i++)
                        (void) create(ctx, "pci_0000_00_02_0", "i915-GVTg_V5_4", NULL, NULL, 0, u);
                CHECK(avail("0000:00:02.0", "i915-GVTg_V5_4") == 0, "instances used up");
                r = create(ctx, "00:02.0", "i915-GVTg_V5_4", NULL, NULL, 0, NULL);
                CHECK(r == -ENOSPC, "available_instances 0 -> -ENOSPC (%d)", r);
                if (left > 0) {
                        r = remove_(ctx, u);
                        CHECK(r == 0 && avail("0000:00:02.0", "i915-GVTg_V5_4") == 1, "remove gives the instance back");
                }
        }

        /* attributes: written after create; a failing one removes the device again */
        {
                hd_mdev_attr bad[] = { { (char *) "no/such", (char *) "1" } };
                r = create(ctx, "mtty", "mtty-1", U2, bad, 1, NULL);
                CHECK(r < 0 && !exists("sys/bus/mdev/devices/%s", U2), "bad attribute: refused, nothing left (%d)", r);
        }

        /* in use: a process holds the group open */
        {
                char link[PATH_MAX], grp[PATH_MAX], target[PATH_MAX];
                ssize_t n;
                snprintf(link, sizeof(link), "%s/sys/bus/mdev/devices/%s/iommu_group", root, U1);
                n = readlink(link, grp, sizeof(grp) - 1);
                grp[n > 0 ? n : 0] = 0;
                snprintf(link, sizeof(link), "%s/proc/4242/fd", root);
                mkdir(link, 0755); /* may fail: parent missing */
                snprintf(link, sizeof(link), "%s/proc", root);
                mkdir(link, 0755);
                snprintf(link, sizeof(link), "%s/proc/4242", root);
                mkdir(link, 0755);
                snprintf(link, sizeof(link), "%s/proc/4242/fd", root);
                mkdir(link, 0755);
                snprintf(link, sizeof(link), "%s/proc/4242/fd/17", root);
                snprintf(target, sizeof(target), "/dev/vfio/%s", hd_path_basename(grp));
                CHECK(symlink(target, link) == 0, "fake qemu holds %s", target);
                {
                        int pid = 0;
                        r = hd_mdev_in_use(ctx, U1, &pid);
                        CHECK(r == 1 && pid == 4242, "in use by pid 4242 (%d, %d)", r, pid);
                }
                r = remove_(ctx, U1);
                CHECK(r == -EBUSY && exists("sys/bus/mdev/devices/%s", U1), "remove refused while in use, nothing changed");
                CHECK(streq(last_reason, U1 " is in use: process 4242 has its VFIO group open; nothing changed"),
                      "  ... the reason names the process: %s", last_reason);
                unlink(link);
        }
        /* the kernel's own EBUSY */
        {
                char p[PATH_MAX];
                FILE *f;
                snprintf(p, sizeof(p), "%s/.fake-mdev-busy", root);
                f = fopen(p, "we");
                fprintf(f, "%s\n", U1);
                fclose(f);
                r = remove_(ctx, U1);
                CHECK(r == -EBUSY && exists("sys/bus/mdev/devices/%s", U1), "kernel EBUSY -> -EBUSY, still there");
                unlink(p);
        }
        r = remove_(ctx, U1);
        CHECK(r == 0 && !exists("sys/bus/mdev/devices/%s", U1) && !exists("sys/devices/virtual/mtty/mtty/%s", U1) &&
                      avail("mtty", "mtty-2") == a,
              "remove: instance, links gone, available_instances back (%d)", r);
        CHECK(remove_(ctx, U1) == -ENODEV, "remove of an absent mdev -> -ENODEV");
}

static void test_definitions(hd_ctx *ctx) {
        hd_mdev m = { .uuid = strdup(U2), .iommu_group = -1 };
        hd_mdev *got = NULL, *v = NULL;
        hd_result *rep = NULL;
        char *text;
        size_t n = 0;
        int r;

        m.parent = strdup("mtty_mtty");
        m.type = strdup("mtty-1");
        m.autostart = true;
        hd_mdev_add_attr(&m, "x", "y\"z");
        r = define_(ctx, &m, 0);
        CHECK(r == 0 && streq(m.parent, "mtty"), "define (parent by node-device name) (%d)", r);
        text = slurp("etc/mdevctl.d/mtty/" U2);
        CHECK(text && streq(text, "{\n  \"mdev_type\": \"mtty-1\",\n  \"start\": \"auto\",\n  \"attrs\": [\n    {\n"
                                  "      \"x\": \"y\\\"z\"\n    }\n  ]\n}"),
              "config file in mdevctl's exact format");
        free(text);
        CHECK(!exists("etc/mdevctl.d/mtty/%s.hostdev-tmp", U2), "no temporary file left");
        r = define_(ctx, &m, 0);
        CHECK(r == -EEXIST, "define twice -> -EEXIST (%d)", r);
        r = hd_mdev_get(ctx, U2, NULL, &got);
        CHECK(r == 0 && got->defined && !got->active && got->autostart && got->n_attrs == 1, "get: defined, inactive, auto");
        hd_mdev_free(got);

        /* the running device gets defined from sysfs */
        {
                hd_mdev live = { .uuid = strdup(IGPU_UUID), .iommu_group = -1 };
                r = define_(ctx, &live, 0);
                CHECK(r == 0 && streq_ptr(live.type, "i915-GVTg_V5_4") && streq_ptr(live.parent, "0000:00:02.0"),
                      "define a running mdev by UUID only (%d)", r);
                hd_mdev_clear(&live);
        }
        {
                hd_mdev bad = { .uuid = strdup(U1), .iommu_group = -1 };
                bad.parent = strdup("mtty");
                bad.type = strdup("mtty-7");
                r = define_(ctx, &bad, 0);
                CHECK(r == -ENOENT && !exists("etc/mdevctl.d/mtty/%s", U1), "define unknown type: refused, no file (%d)", r);
                hd_mdev_clear(&bad);
        }

        r = hd_mdev_list(ctx, HD_MDEV_LIST_DEFINED, &v, &n);
        CHECK(r == 0 && n == 2, "two definitions (%zu)", n);
        hd_mdev_array_free(v, n);

        /* inactive node devices */
        {
                hd_nodedev_list *list = NULL;
                hd_device *d = NULL;
                char *xml = NULL;
                hd_nodedev_list_new(ctx, &list);
                r = hd_nodedev_list_add_defined_mdevs(list);
                CHECK(r == 0 && hd_nodedev_list_lookup(list, "mdev_22222222_3333_4444_8555_666666666666_mtty", &d) == 0,
                      "defined mdev is an (inactive) node device");
                CHECK(d && !hd_device_is_active(d) && hd_device_is_persistent(d) && hd_device_get_autostart(d),
                      "inactive, persistent, autostart");
                CHECK(d && hd_device_format_xml(d, &xml) == 0 && strstr(xml, "<start type='auto'/>") &&
                              strstr(xml, "<attr name='x' value='y&quot;z'/>") && !strstr(xml, "<path>"),
                      "XML with <start> and <attr>, no <path>");
                free(xml);
                CHECK(hd_nodedev_list_lookup(list, IGPU_UUID, &d) == 0 && hd_device_is_active(d) &&
                              hd_device_is_persistent(d) && !hd_device_get_autostart(d),
                      "the running defined mdev: active, persistent, manual");
                hd_nodedev_list_unref(list);
        }

        /* apply starts the auto one, then does nothing */
        r = hd_mdev_apply(ctx, &rep);
        CHECK(r == 0 && hd_result_count_outcome(rep, HD_OUTCOME_DONE) == 1 && exists("sys/bus/mdev/devices/%s", U2), "apply starts the auto mdev");
        hd_result_unref(rep);
        r = hd_mdev_apply(ctx, &rep);
        CHECK(r == 0 && hd_result_count_outcome(rep, HD_OUTCOME_DONE) == 0 && hd_result_get_n_steps(rep) == 1 &&
                      hd_result_step_get_outcome(hd_result_get_step(rep, 0)) == HD_OUTCOME_UNCHANGED,
              "apply again: unchanged");
        hd_result_unref(rep);
        CHECK(exists("sys/devices/virtual/mtty/mtty/%s/x", U2), "attribute written to the new device");

        /* modify, autostart, start/stop, undefine */
        {
                hd_mdev_modify mod = { .autostart = 0, .type = "mtty-2", .clear_attrs = true };
                r = modify_(ctx, U2, NULL, &mod);
                text = slurp("etc/mdevctl.d/mtty/" U2);
                CHECK(r == 0 && text && strstr(text, "\"mtty-2\"") && strstr(text, "\"manual\"") && strstr(text, "\"attrs\": []"),
                      "modify: type, start, attributes");
                free(text);
                mod = (hd_mdev_modify) { .autostart = -1, .type = "bogus" };
                r = modify_(ctx, U2, NULL, &mod);
                text = slurp("etc/mdevctl.d/mtty/" U2);
                CHECK(r == -ENOENT && text && strstr(text, "\"mtty-2\""), "modify to an unknown type: refused, unchanged");
                free(text);
        }
        CHECK(autostart_(ctx, U2, "mtty", true) == 0, "autostart on");
        CHECK(start_(ctx, U2, NULL) == -EALREADY, "start of a running mdev -> -EALREADY");
        CHECK(remove_(ctx, U2) == 0 && exists("etc/mdevctl.d/mtty/%s", U2), "stop keeps the definition");
        CHECK(start_(ctx, U2, NULL) == 0 && exists("sys/bus/mdev/devices/%s", U2), "start from the definition");
        {
                hd_mdev *cur = NULL;
                CHECK(hd_mdev_get(ctx, U2, NULL, &cur) == 0 && streq_ptr(cur->type, "mtty-2") && cur->active,
                      "started with the modified type");
                hd_mdev_free(cur);
        }
        CHECK(undefine_(ctx, U2, NULL) == 0 && !exists("etc/mdevctl.d/mtty/%s", U2) &&
                      exists("sys/bus/mdev/devices/%s", U2),
              "undefine: file gone, device still runs");
        CHECK(undefine_(ctx, U2, NULL) == -ENODEV, "undefine again -> -ENODEV");
        remove_(ctx, U2);
        hd_mdev_clear(&m);
}

/* hd_mdev_apply_parent: the auto-start mdevs of one parent that has just
 * appeared (hotplug) */
#define U3 "33333333-4444-4555-8666-777777777777"
#define U4 "44444444-5555-4666-8777-888888888888"
static void test_apply_parent(hd_ctx *ctx) {
        hd_mdev a = { .uuid = strdup(U3), .parent = strdup("mtty"), .type = strdup("mtty-1"), .autostart = true,
                      .iommu_group = -1 };
        hd_mdev b = { .uuid = strdup(U4), .parent = strdup("0000:00:02.0"), .type = strdup("i915-GVTg_V5_8"),
                      .autostart = true, .iommu_group = -1 };
        hd_result *rep = NULL;
        int r;

        CHECK(define_(ctx, &a, 0) == 0 && define_(ctx, &b, 0) == 0, "apply_parent: two auto-start definitions, two parents");
        r = hd_mdev_apply_parent(ctx, "mtty", HD_MDEV_APPLY_DRY_RUN, &rep);
        CHECK(r == 1 && hd_result_get_n_steps(rep) == 1 &&
                      hd_result_step_get_outcome(hd_result_get_step(rep, 0)) == HD_OUTCOME_PLANNED &&
                      !exists("sys/bus/mdev/devices/%s", U3),
              "apply_parent --dry-run: plans the parent's one, starts nothing (%d)", r);
        hd_result_unref(rep);
        rep = NULL;
        r = hd_mdev_apply_parent(ctx, "mtty", 0, &rep);
        CHECK(r == 1 && hd_result_get_status(rep) == 0 && hd_result_get_n_steps(rep) == 1 &&
                      streq(hd_result_step_get_subject(hd_result_get_step(rep, 0)), U3) &&
                      hd_result_step_get_outcome(hd_result_get_step(rep, 0)) == HD_OUTCOME_DONE &&
                      exists("sys/bus/mdev/devices/%s", U3) && !exists("sys/bus/mdev/devices/%s", U4),
              "apply_parent mtty: starts mtty's auto mdev only (%d)", r);
        hd_result_unref(rep);
        rep = NULL;
        r = hd_mdev_apply_parent(ctx, "mtty", 0, &rep);
        CHECK(r == 1 && hd_result_get_n_steps(rep) == 1 &&
                      hd_result_step_get_outcome(hd_result_get_step(rep, 0)) == HD_OUTCOME_UNCHANGED,
              "apply_parent again: unchanged");
        hd_result_unref(rep);
        rep = NULL;
        r = hd_mdev_apply_parent(ctx, "0000:00:1f.0", 0, &rep);
        CHECK(r == 0 && !rep, "apply_parent of a parent without auto-start definitions: 0, no result");
        r = hd_mdev_apply_parent(ctx, "../mtty", 0, &rep);
        CHECK(r == 0 && !rep, "apply_parent of a name no parent has: 0");
        r = hd_mdev_apply_parent(ctx, "", 0, &rep);
        CHECK(r == -EINVAL && !rep, "apply_parent of \"\": -EINVAL");
        r = hd_mdev_apply_parent(ctx, "0000:00:02.0", 0, &rep);
        CHECK(r == 1 && hd_result_get_status(rep) == 0 && exists("sys/bus/mdev/devices/%s", U4),
              "apply_parent 0000:00:02.0: starts its auto mdev (%s)", rep ? strempty(hd_result_get_reason(rep)) : "");
        hd_result_unref(rep);
        remove_(ctx, U3);
        remove_(ctx, U4);
        undefine_(ctx, U3, NULL);
        undefine_(ctx, U4, NULL);
        hd_mdev_clear(&a);
        hd_mdev_clear(&b);
}

/* The result of one operation as data: its step and renderings; the
 * node-device forms. */
static void test_results(hd_ctx *ctx) {
        hd_result *res = NULL;
        json_object *o = NULL, *m = NULL, *v;
        char *text = NULL;
        int r;

        r = hd_mdev_create(ctx, "mtty_mtty", "mtty-2", U1, NULL, 0, HD_MDEV_CREATE_DRY_RUN, &res);
        CHECK(r == 0 && hd_result_get_kind(res) == HD_RESULT_MDEV && hd_result_get_status(res) == 0 &&
                      !hd_result_get_reason(res) && !exists("sys/bus/mdev/devices/%s", U1),
              "dry-run create: ok, nothing created");
        CHECK(hd_result_format_text(res, &text) == 0 && streq(text, "mdev " U1 "  mtty mtty-2  create  planned\n"),
              "  ... text: %s", strempty(text));
        free(text);
        CHECK(hd_result_to_json(res, &o) == 0 && json_object_object_get_ex(o, "status", &v) &&
                      streq(json_object_get_string(v), "ok") && json_object_object_get_ex(o, "mdevs", &v) &&
                      json_object_array_length(v) == 1 && (m = json_object_array_get_idx(v, 0)) &&
                      json_object_object_get_ex(m, "action", &v) && streq(json_object_get_string(v), "create") &&
                      json_object_object_get_ex(m, "parent", &v) && streq(json_object_get_string(v), "mtty") &&
                      json_object_object_get_ex(m, "result", &v) && streq(json_object_get_string(v), "planned"),
              "  ... JSON: status, mdevs[].action, parent (resolved), result");
        json_object_put(o);
        hd_result_unref(res);

        r = hd_mdev_create(ctx, "mtty", "mtty-2", NULL, NULL, 0, HD_MDEV_CREATE_DRY_RUN, &res);
        CHECK(r == 0 && hd_uuid_is_valid(hd_result_step_get_subject(hd_result_get_step(res, 0))),
              "dry-run create without a UUID: the random one in the step");
        hd_result_unref(res);

        r = hd_mdev_undefine(ctx, U1, NULL, &res);
        CHECK(r == 0 && hd_result_get_status(res) == -ENODEV &&
                      streq_ptr(hd_result_get_reason(res), U1 " is not defined (see 'hostdevctl mdev list --defined')") &&
                      hd_result_step_get_outcome(hd_result_get_step(res, 0)) == HD_OUTCOME_FAILED &&
                      streq_ptr(hd_result_step_get_error_text(hd_result_get_step(res, 0)), hd_result_get_reason(res)),
              "undefine of no definition: failed step, reason");
        CHECK(hd_result_to_json(res, &o) == 0 && json_object_object_get_ex(o, "status", &v) &&
                      streq(json_object_get_string(v), "failed"),
              "  ... JSON status failed");
        json_object_put(o);
        hd_result_unref(res);

        {
                hd_mdev m0 = { .iommu_group = -1 };
                r = hd_mdev_define(ctx, &m0, 0, &res);
                CHECK(r == 0 && hd_result_get_status(res) == -EDESTADDRREQ && !exists("etc/mdevctl.d/mtty/%s", U1),
                      "define without parent and type: -EDESTADDRREQ");
                hd_result_unref(res);
                hd_mdev_clear(&m0);
        }

        /* the node-device forms */
        {
                hd_nodedev_list *list = NULL;
                hd_device *d = NULL;
                hd_nodedev_list_new(ctx, &list);
                hd_nodedev_list_add_defined_mdevs(list);
                CHECK(hd_nodedev_list_lookup(list, "pci_0000_00_02_0", &d) == 0 && hd_mdev_device_destroy(d, &res) == 0 &&
                              hd_result_get_status(res) == -EOPNOTSUPP &&
                              streq_ptr(hd_result_get_reason(res),
                                        "pci_0000_00_02_0 is a pci device; only mediated devices are supported"),
                      "destroy of a PCI device: refused with the reason");
                hd_result_unref(res);
                CHECK(hd_nodedev_list_lookup(list, MTTY_UUID, &d) == 0 && hd_mdev_device_start(d, &res) == 0 &&
                              hd_result_get_status(res) == -EALREADY &&
                              strstr(strempty(hd_result_get_reason(res)), "is already active"),
                      "start of an active mdev node device: -EALREADY");
                hd_result_unref(res);
                CHECK(hd_mdev_device_undefine(d, &res) == 0 && hd_result_get_status(res) == -ENODEV &&
                              strstr(strempty(hd_result_get_reason(res)), "is not a persistent (defined) device"),
                      "undefine of a transient mdev node device: -ENODEV");
                hd_result_unref(res);
                hd_nodedev_list_unref(list);
        }
}

static void test_parsers(hd_ctx *ctx) {
        static const struct {
                const char *json;
                bool ok;
        } js[] = {
                { "{\"mdev_type\":\"t\",\"start\":\"auto\"}", true },
                { "{\"mdev_type\":\"t\",\"start\":\"manual\",\"attrs\":[]}", true },
                { "{\"mdev_type\":\"t\",\"start\":\"auto\",\"attrs\":[{\"a\":\"1\"},{\"b\":\"2\"}]}", true },
                { "{\"mdev_type\":\"t\",\"start\":\"auto\"", false },
                { "{\"mdev_type\":\"t\"}", false },
                { "{\"start\":\"auto\"}", false },
                { "{\"mdev_type\":\"t\",\"start\":\"sometimes\"}", false },
                { "{\"mdev_type\":\"t\",\"start\":\"auto\",\"attrs\":{}}", false },
                { "{\"mdev_type\":\"t\",\"start\":\"auto\",\"attrs\":[{\"a\":1}]}", false },
                { "{\"mdev_type\":\"t\",\"start\":\"auto\",\"attrs\":[{\"a\":\"1\",\"b\":\"2\"}]}", false },
                { "{\"mdev_type\":\"../x\",\"start\":\"auto\"}", false },
                { "[1]", false },
                { "{\"mdev_type\":\"t\",\"start\":\"auto\"} x", false },
        };
        static const struct {
                const char *xml;
                int r;
        } xs[] = {
                { "<device><parent>mtty_mtty</parent><capability type='mdev'><type id='mtty-1'/></capability></device>", 0 },
                { "<device><parent>pci_0000_00_02_0</parent><capability type='mdev'><type id='i915-GVTg_V5_8'/>"
                  "<uuid>9C4954D2-FA39-4973-9D66-D61C6C4D0100</uuid><attr name='a' value='b'/><start type='auto'/>"
                  "</capability></device>", 0 },
                { "<device><parent>mtty_mtty</parent><capability type='mdev'><type id='mtty-1'/></capability>", -EBADMSG },
                { "<device><parent>mtty_mtty</parent><capability type='mdev'><type id='mtty-1'/><uuid>nope</uuid></capability></device>", -EINVAL },
                { "<device><parent>pci_0000_00_1f_0</parent><capability type='mdev'><type id='mtty-1'/></capability></device>", -ENODEV },
                { "<device><parent>mtty_mtty</parent><capability type='mdev'><type id='mtty-9'/></capability></device>", -ENOENT },
                { "<device><capability type='mdev'><type id='mtty-1'/></capability></device>", -EBADMSG },
                { "<device><parent>mtty_mtty</parent><capability type='pci'/></device>", -EOPNOTSUPP },
                { "<domain/>", -EBADMSG },
                { "<device><parent>mtty_mtty</parent><capability type='mdev'><type id='mtty-1'/><start type='x'/></capability></device>", -EINVAL },
        };
        for (size_t i = 0; i < ELEMENTSOF(js); i++) {
                hd_mdev m = { .iommu_group = -1 };
                int r = hd_mdev_parse_json(ctx, js[i].json, &m);
                const char *err = strempty(hd_ctx_get_error(ctx));
                CHECK((r == 0) == js[i].ok && (r == 0 || err[0]), "JSON %zu: %s%s%s", i, r == 0 ? "accepted" : "refused",
                      err[0] ? ": " : "", err);
                if (r == 0 && i == 2)
                        CHECK(m.n_attrs == 2 && streq(m.attrs[1].name, "b"), "JSON attributes in order");
                hd_mdev_clear(&m);
        }
        for (size_t i = 0; i < ELEMENTSOF(xs); i++) {
                hd_mdev *m = NULL;
                int r = hd_mdev_parse_xml(ctx, xs[i].xml, strlen(xs[i].xml), &m);
                const char *err = strempty(hd_ctx_get_error(ctx));
                CHECK(r == xs[i].r && (r == 0 || err[0]), "XML %zu: %d (want %d)%s%s", i, r, xs[i].r, err[0] ? ": " : "", err);
                if (r == 0 && i == 1)
                        CHECK(streq(m->uuid, "9c4954d2-fa39-4973-9d66-d61c6c4d0100") && m->autostart &&
                                      streq(m->parent, "0000:00:02.0") && m->n_attrs == 1,
                              "XML fields: lower-cased UUID, start, parent address, attr");
                hd_mdev_free(m);
        }
}

/* ---- hd_nodedev_list_update_defined_mdevs: one parent's definitions again ---- */

#define U5 "55555555-6666-4777-8888-999999999999"
#define U6 "66666666-7777-4888-8999-aaaaaaaaaaaa"
#define U7 "77777777-8888-4999-8aaa-bbbbbbbbbbbb"

/* a definition file as another program writes it; NULL body: removed */
static void def_file(const char *parent, const char *uuid, const char *body) {
        char p[PATH_MAX];
        FILE *f;

        snprintf(p, sizeof(p), "%s/etc/mdevctl.d", root);
        (void) mkdir(p, 0755);
        snprintf(p, sizeof(p), "%s/etc/mdevctl.d/%s", root, parent);
        (void) mkdir(p, 0755);
        snprintf(p, sizeof(p), "%s/etc/mdevctl.d/%s/%s", root, parent, uuid);
        if (!body) {
                (void) unlink(p);
                return;
        }
        f = fopen(p, "we");
        if (!f)
                abort();
        fputs(body, f);
        fclose(f);
}

/* what the callback heard: "A name|", "R name|", "F name|" */
static char heard[4096];
static void on_change(hd_nodedev_list *list, hd_device *d, enum hd_nodedev_change what, void *userdata) {
        size_t l = strlen(heard);
        snprintf(heard + l, sizeof(heard) - l, "%c %s|",
                 what == HD_NODEDEV_ADDED ? 'A' : what == HD_NODEDEV_REMOVED ? 'R' : 'F', hd_device_get_name(d));
}

/* @list is a fresh enumeration with the definitions: every device's name,
 * parent and XML; else the first difference in @why */
static bool same_as_fresh(hd_ctx *ctx, hd_nodedev_list *list, char *why, size_t size) {
        hd_nodedev_list *fresh = NULL;
        bool same = true;

        snprintf(why, size, "-");
        if (hd_nodedev_list_new(ctx, &fresh) < 0 || hd_nodedev_list_add_defined_mdevs(fresh) < 0)
                abort();
        if (hd_nodedev_list_count(fresh) != hd_nodedev_list_count(list)) {
                snprintf(why, size, "%zu devices, fresh %zu", hd_nodedev_list_count(list), hd_nodedev_list_count(fresh));
                same = false;
        }
        for (size_t i = 0; same && i < hd_nodedev_list_count(list); i++) {
                hd_device *a = hd_nodedev_list_get(list, i), *b = hd_nodedev_list_get(fresh, i);
                hd_device *pa = hd_device_get_parent(a), *pb = hd_device_get_parent(b);
                char *xa = NULL, *xb = NULL;
                if (!streq(hd_device_get_name(a), hd_device_get_name(b)) ||
                    !streq_ptr(pa ? hd_device_get_name(pa) : NULL, pb ? hd_device_get_name(pb) : NULL) ||
                    hd_device_format_xml(a, &xa) < 0 || hd_device_format_xml(b, &xb) < 0 || !streq(xa, xb)) {
                        snprintf(why, size, "%s differs from fresh %s", hd_device_get_name(a), hd_device_get_name(b));
                        same = false;
                }
                free(xa);
                free(xb);
        }
        hd_nodedev_list_unref(fresh);
        return same;
}

static int upd(hd_nodedev_list *list, const char *parent) {
        heard[0] = 0;
        return hd_nodedev_list_update_defined_mdevs(list, parent, on_change, NULL);
}

static void test_update_defined(hd_ctx *ctx) {
        static const char manual1[] = "{\"mdev_type\": \"mtty-1\", \"start\": \"manual\", \"attrs\": []}";
        static const char auto2[] = "{\"mdev_type\": \"mtty-2\", \"start\": \"auto\", \"attrs\": [{\"a\": \"1\"}]}";
        hd_nodedev_list *list = NULL, *bare = NULL, *lazy = NULL;
        hd_device *d = NULL;
        char why[512];
        size_t n;
        int r;

        if (hd_nodedev_list_new(ctx, &list) < 0 || hd_nodedev_list_add_defined_mdevs(list) < 0)
                abort();
        CHECK(same_as_fresh(ctx, list, why, sizeof(why)), "update_defined: the list is a fresh one at first (%s)", why);

        def_file("mtty", U5, manual1);
        r = upd(list, "mtty");
        CHECK(r == 1 && streq(heard, "A mdev_55555555_6666_4777_8888_999999999999_mtty|"),
              "a new definition: its inactive node added (%d: %s)", r, heard);
        CHECK(same_as_fresh(ctx, list, why, sizeof(why)), "  ... the list is a fresh one (%s)", why);
        r = upd(list, "mtty");
        CHECK(r == 0 && !*heard, "read again unchanged: 0, nothing heard (%d: %s)", r, heard);

        def_file("mtty", U5, auto2);
        r = upd(list, "mtty");
        CHECK(r == 1 && streq(heard, "F mdev_55555555_6666_4777_8888_999999999999_mtty|"),
              "a definition changed: its node refreshed (%d: %s)", r, heard);
        CHECK(hd_nodedev_list_lookup(list, "mdev_55555555_6666_4777_8888_999999999999_mtty", &d) == 0 &&
                      hd_device_get_autostart(d) && !hd_device_is_active(d),
              "  ... inactive, autostart now");
        CHECK(same_as_fresh(ctx, list, why, sizeof(why)), "  ... the list is a fresh one (%s)", why);

        /* a running mdev's definition: its node stays, persistent or not */
        def_file("mtty", MTTY_UUID, auto2);
        r = upd(list, "mtty");
        CHECK(r == 1 && streq(heard, "F mdev_3627463d_b7f0_4fea_b468_f1da537d301b_mtty|"),
              "a running mdev defined: refreshed (%d: %s)", r, heard);
        CHECK(hd_nodedev_list_lookup(list, MTTY_UUID, &d) == 0 && hd_device_is_active(d) && hd_device_is_persistent(d) &&
                      hd_device_get_autostart(d),
              "  ... active, persistent, autostart");
        CHECK(same_as_fresh(ctx, list, why, sizeof(why)), "  ... the list is a fresh one (%s)", why);
        def_file("mtty", MTTY_UUID, NULL);
        r = upd(list, "mtty");
        CHECK(r == 1 && streq(heard, "F mdev_3627463d_b7f0_4fea_b468_f1da537d301b_mtty|") &&
                      hd_nodedev_list_lookup(list, MTTY_UUID, &d) == 0 && hd_device_is_active(d) &&
                      !hd_device_is_persistent(d),
              "its definition removed: refreshed, runs on, not persistent (%d: %s)", r, heard);
        CHECK(same_as_fresh(ctx, list, why, sizeof(why)), "  ... the list is a fresh one (%s)", why);

        /* several at once, in the order of their names; another parent untouched */
        def_file("0000:00:02.0", U7, "{\"mdev_type\": \"i915-GVTg_V5_4\", \"start\": \"manual\"}");
        def_file("mtty", U7, manual1);
        def_file("mtty", U6, manual1);
        def_file("mtty", U5, NULL);
        r = upd(list, "mtty");
        CHECK(r == 1 && streq(heard, "R mdev_55555555_6666_4777_8888_999999999999_mtty|"
                                     "A mdev_66666666_7777_4888_8999_aaaaaaaaaaaa_mtty|"
                                     "A mdev_77777777_8888_4999_8aaa_bbbbbbbbbbbb_mtty|"),
              "one removed, two added: in the order of names (%d: %s)", r, heard);
        CHECK(hd_nodedev_list_lookup(list, "mdev_77777777_8888_4999_8aaa_bbbbbbbbbbbb_0000_00_02_0", &d) == -ENODEV,
              "  ... another parent's new definition is not read");
        r = upd(list, "0000:00:02.0");
        CHECK(r == 1 && streq(heard, "A mdev_77777777_8888_4999_8aaa_bbbbbbbbbbbb_0000_00_02_0|") &&
                      hd_nodedev_list_lookup(list, "mdev_77777777_8888_4999_8aaa_bbbbbbbbbbbb_0000_00_02_0", &d) == 0 &&
                      streq(hd_device_get_name(hd_device_get_parent(d)), "pci_0000_00_02_0"),
              "  ... until that parent is read: under its device (%d: %s)", r, heard);
        CHECK(same_as_fresh(ctx, list, why, sizeof(why)), "  ... the list is a fresh one (%s)", why);

        /* a parent that is not on the host: under "computer" */
        def_file("0000:7f:00.0", U5, manual1);
        r = upd(list, "0000:7f:00.0");
        CHECK(r == 1 && hd_nodedev_list_lookup(list, "mdev_55555555_6666_4777_8888_999999999999_0000_7f_00_0", &d) == 0 &&
                      streq(hd_device_get_name(hd_device_get_parent(d)), "computer"),
              "a parent not on the host: its node under computer (%d: %s)", r, heard);
        CHECK(same_as_fresh(ctx, list, why, sizeof(why)), "  ... the list is a fresh one (%s)", why);
        r = upd(list, "0000:1f:00.0");
        CHECK(r == 0 && !*heard, "a parent without a directory: 0 (%d)", r);
        r = upd(list, "scripts.d");
        CHECK(r == 0 && !*heard, "mdevctl's scripts.d: no parent, 0 (%d)", r);

        /* a node name another parent's node holds: nothing changed, -ESTALE */
        def_file("x.y", U5, manual1);
        def_file("x_y", U5, manual1);
        CHECK(upd(list, "x.y") == 1, "parent x.y's definition added");
        n = hd_nodedev_list_count(list);
        r = upd(list, "x_y");
        CHECK(r == -ESTALE && !*heard && hd_nodedev_list_count(list) == n,
              "the same node name from parent x_y: -ESTALE, nothing changed (%d: %s)", r, heard);
        CHECK(same_as_fresh(ctx, list, why, sizeof(why)), "  ... the list is a fresh one (%s)", why);

        r = upd(list, "");
        CHECK(r == -EINVAL, "parent \"\": -EINVAL (%d)", r);
        r = upd(list, "../mtty");
        CHECK(r == -EINVAL, "parent ../mtty: -EINVAL (%d)", r);
        r = upd(list, "..");
        CHECK(r == -EINVAL, "parent ..: -EINVAL (%d)", r);
        if (hd_nodedev_list_new(ctx, &bare) < 0 || hd_nodedev_list_new_lazy(ctx, &lazy) < 0)
                abort();
        r = upd(bare, "mtty");
        CHECK(r == -EINVAL, "a list without the defined mdevs: -EINVAL (%d)", r);
        hd_nodedev_list_add_defined_mdevs(lazy);
        r = upd(lazy, "mtty");
        CHECK(r == -EINVAL, "a lazy list: -EINVAL (%d)", r);

        def_file("mtty", U6, NULL);
        def_file("mtty", U7, NULL);
        def_file("0000:00:02.0", U7, NULL);
        def_file("0000:7f:00.0", U5, NULL);
        def_file("x.y", U5, NULL);
        def_file("x_y", U5, NULL);
        hd_nodedev_list_unref(bare);
        hd_nodedev_list_unref(lazy);
        hd_nodedev_list_unref(list);
}

int main(int argc, char **argv) {
        struct fake_kernel *k = NULL;
        hd_ctx *ctx;

        if (argc != 2) {
                fprintf(stderr, "usage: test-mdev SYSROOT\n");
                return 2;
        }
        root = argv[1];
        unsetenv("HOSTDEV_MDEVCTL_DIR");
        ctx = ctx_open(&k);
        test_create_remove(ctx);
        test_definitions(ctx);
        test_results(ctx);
        test_parsers(ctx);
        test_apply_parent(ctx);
        test_update_defined(ctx);
        hd_ctx_unref(ctx);
        fake_kernel_free(k);
        return tap_finish();
}
