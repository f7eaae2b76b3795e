/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hostdevctl gpu / vgpu: every fact comes from libhostdev (gpu/). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostdev/listing.h"
#include "hostdevctl.h"

static void gpu_text(hd_gpu *g) {
        printf("%s  %s%s%s  [%04x:%04x]\n", g->addr, g->vendor ?: "?", g->product ? " " : "", strempty(g->product),
               g->vendor_id, g->device_id);
        printf("  driver: %s\n", g->driver ?: "(none)");
        if (g->drm_source) {
                printf("  drm: %s%s%s", strempty(g->card), g->card && g->render ? ", " : "", strempty(g->render));
                printf(", driver %s%s%s%s\n", g->drm_driver ?: "?", g->drm_version ? " " : "", strempty(g->drm_version),
                       streq(g->drm_source, "libdrm") ? "" : " (from sysfs, not libdrm)");
        } else
                printf("  drm: none\n");
        printf("  companions:");
        for (size_t i = 0; i < g->n_companions; i++)
                printf("%s %s %s (%s)", i ? "," : "", g->companions[i].addr, g->companions[i].kind,
                       g->companions[i].driver ?: "no driver");
        printf("%s\n", g->n_companions ? "" : " none");
        printf("  boot vga: %s\n", g->boot_vga ? "yes" : "no");
        if (g->console_holder)
                printf("  held by: %s\n", g->console_holder);
        printf("  drm users:");
        for (size_t i = 0; i < g->n_users; i++)
                printf("%s %d %s (%s)", i ? "," : "", g->users[i].pid, g->users[i].comm, g->users[i].node);
        printf("%s\n", g->n_users ? "" : " none");
        if (g->iommu_group < 0)
                printf("  iommu group: none\n");
        else
                printf("  iommu group: %d, %s%s%s\n", g->iommu_group, g->group_viable ? "viable" : "not viable yet",
                       g->group_blocker ? ": host driver on " : "", strempty(g->group_blocker));
        printf("  reset: %s\n", g->reset_methods ?: "none");
        printf("  rom: %s\n", g->has_rom ? "yes" : "no");
        if (g->n_vfs)
                printf("  sr-iov vfs: %u\n", g->n_vfs);
        if (g->quirk)
                printf("  quirk: %s\n", g->quirk);
        printf("  passthrough: %s%s\n", g->ready ? "ready (nothing on the host holds it" : "not now: ",
               g->ready ? (g->n_companions ? "; detach with --group)" : ")") : strempty(g->reason));
}

static void rom_check_freep(hd_rom_check **c) { hd_rom_check_free(*c); }

/* FILE opened for writing, as the caller: O_TRUNC here; through hostdevd
 * without it, truncated once the ROM is read (a refused call leaves a
 * file that was there as it was) */
static int rom_create(const char *file, int trunc) {
        int fd = open(file, O_WRONLY | O_CREAT | trunc | O_CLOEXEC, 0644);
        if (fd < 0)
                errorf("gpu rom: cannot create '%s': %s", file, strerror(errno));
        return fd;
}

struct rom_file {
        const char *file;
        int fd;
        bool removed;
};

/* hostdevd could not read the ROM: FILE is emptied and removed, as a run
 * here removes it when the read fails; the daemon's error follows */
static int rom_read_failed(void *userdata) {
        struct rom_file *f = userdata;

        (void) ftruncate(f->fd, 0);
        (void) unlink(f->file);
        f->removed = true;
        return 0;
}

/* gpu rom DEV FILE: the ROM read here, or by hostdevd (GpuRom, which
 * answers the bytes and writes no file: a root daemon does not write a
 * path its caller names); FILE is opened before the ROM is enabled and
 * written here either way, with the caller's rights, then checked and
 * printed by the one code below. */
static int verb_gpu_rom(int argc _unused_, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _cleanup_(rom_check_freep) hd_rom_check *chk = NULL;
        _cleanup_free_ uint8_t *data = NULL;
        _cleanup_free_ char *abs = NULL, *bus_name = NULL;
        _cleanup_close_ int fd = -1;
        bool json = arg_json, existed;
        struct rom_file rf;
        struct stat st;
        size_t size = 0;
        unsigned vendor = 0, device = 0;
        const char *id, *file;
        hd_device *d;
        int r, route, rc;

        file = argv[2];
        if (open_list(&ctx, &list) < 0 || lookup_pci(list, "gpu rom", argv[1], &d) < 0)
                return EXIT_FAILURE;
        id = hd_device_get_property(d, "PCI_ID");
        if (id)
                (void) sscanf(id, "%x:%x", &vendor, &device);
        if (bus_direct("gpu rom")) {
                fd = rom_create(file, O_TRUNC);
                if (fd < 0)
                        return EXIT_FAILURE;
                r = hd_gpu_rom_read(d, &data, &size);
                if (r < 0) {
                        (void) unlink(file);
                        return error_exit(ctx, "gpu rom", r);
                }
        } else {
                existed = stat(file, &st) == 0;
                fd = rom_create(file, 0);
                if (fd < 0)
                        return EXIT_FAILURE;
                rf = (struct rom_file) { file, fd, false };
                bus_on_error(rom_read_failed, &rf);
                route = bus_call("gpu rom", NULL, &rc, "st", argv[1], (uint64_t) 0, &bus_name, &vendor, &device, &data,
                                 &size);
                bus_on_error(NULL, NULL);
                if (route != BUS_REPLY) {
                        /* refused, or the daemon is gone: a file made here goes again */
                        if (!rf.removed && !existed)
                                (void) unlink(file);
                        if (route == BUS_DONE)
                                return rc;
                        errorf("gpu rom: hostdevd did not run it");
                        return EXIT_FAILURE;
                }
                if (ftruncate(fd, 0) < 0) {
                        errorf("gpu rom: writing '%s' failed: %s", file, strerror(errno));
                        return EXIT_FAILURE;
                }
        }
        if (write(fd, data, size) != (ssize_t) size || fsync(fd) < 0) {
                errorf("gpu rom: writing '%s' failed: %s", file, strerror(errno ? errno : EIO));
                return EXIT_FAILURE;
        }
        if ((r = hd_rom_check_image(data, size, vendor, device, &chk)) < 0) {
                errorf("gpu rom: %s", strerror(-r));
                return EXIT_FAILURE;
        }
        abs = realpath(file, NULL);
        if (json) {
                json_object *o = json_object_new_object(), *imgs = json_object_new_array();
                json_object_object_add(o, "device", json_object_new_string(hd_device_get_name(d)));
                json_object_object_add(o, "file", json_object_new_string(abs ? abs : file));
                json_object_object_add(o, "size", json_object_new_int64((int64_t) size));
                json_object_object_add(o, "signature_ok", json_object_new_boolean(chk->signature_ok));
                json_object_object_add(o, "pcir_ok", json_object_new_boolean(chk->pcir_ok));
                json_object_object_add(o, "ids_match", json_object_new_boolean(chk->ids_match));
                json_object_object_add(o, "usable", json_object_new_boolean(chk->usable));
                json_object_object_add(o, "reason", json_str(chk->reason));
                for (size_t i = 0; i < chk->n_images; i++) {
                        json_object *im = json_object_new_object();
                        char b[8];
                        json_object_object_add(im, "offset", json_object_new_int64((int64_t) chk->images[i].offset));
                        json_object_object_add(im, "length", json_object_new_int64((int64_t) chk->images[i].length));
                        json_object_object_add(im, "code_type", json_object_new_int((int) chk->images[i].code_type));
                        snprintf(b, sizeof(b), "%04x", chk->images[i].vendor_id);
                        json_object_object_add(im, "vendor_id", json_object_new_string(b));
                        snprintf(b, sizeof(b), "%04x", chk->images[i].device_id);
                        json_object_object_add(im, "device_id", json_object_new_string(b));
                        json_object_object_add(im, "checksum_ok", json_object_new_boolean(chk->images[i].checksum_ok));
                        json_object_array_add(imgs, im);
                }
                json_object_object_add(o, "images", imgs);
                print_json(o);
                json_object_put(o);
        } else {
                static const char *const types[] = { "x86 BIOS", "Open Firmware", "PA-RISC", "EFI" };
                printf("%s: %zu bytes written to %s\n", hd_device_get_name(d), size, file);
                for (size_t i = 0; i < chk->n_images; i++)
                        printf("  image %zu: offset 0x%zx, %zu bytes, %s, %04x:%04x, checksum %s\n", i,
                               chk->images[i].offset, chk->images[i].length,
                               chk->images[i].code_type < 4 ? types[chk->images[i].code_type] : "unknown",
                               chk->images[i].vendor_id, chk->images[i].device_id,
                               chk->images[i].checksum_ok ? "ok" : "BAD");
                printf("signature: %s, PCIR: %s, ids: %s\n", chk->signature_ok ? "0x55AA ok" : "BAD",
                       chk->pcir_ok ? "ok" : "BAD", chk->ids_match ? "match" : "MISMATCH");
                if (chk->usable)
                        printf("usable as <rom file='%s'/>: yes (hostdevctl hostdev-xml %s --rom %s)\n",
                               abs ? abs : file, hd_device_get_name(d), abs ? abs : file);
        }
        if (!chk->usable) {
                errorf("gpu rom: the image of %s is not usable as <rom file=.../>: %s", hd_device_get_name(d),
                       chk->reason);
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

/* every GPU, or only @only's (hd_gpu_get allocates one element) */
static int gpus_of(hd_nodedev_list *list, hd_device *only, hd_gpu **ret, size_t *ret_n) {
        int r;

        if (!only)
                return hd_gpu_list(list, ret, ret_n);
        r = hd_gpu_get(list, only, ret);
        if (r >= 0)
                *ret_n = 1;
        return r;
}

static int verb_gpu(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        hd_device *only = NULL;
        hd_gpu *gpus = NULL;
        size_t n = 0;
        int r;

        if (open_list_lookup(&ctx, &list, argc == 2 ? argv[1] : NULL, &only) < 0)
                return EXIT_FAILURE;
        r = gpus_of(list, only, &gpus, &n);
        if (r < 0)
                return error_exit(ctx, "gpu", r);
        if (arg_json) {
                json_object *o = NULL;
                r = hd_gpu_list_to_json(gpus, n, &o); /* the library's rendering (hostdevd's too) */
                if (r < 0) {
                        hd_gpu_array_free(gpus, n);
                        return error_exit(ctx, "gpu", r);
                }
                print_json(o);
                json_object_put(o);
        } else {
                for (size_t i = 0; i < n; i++) {
                        if (i)
                                putchar('\n');
                        gpu_text(&gpus[i]);
                }
                if (n == 0)
                        printf("no GPUs (display-class PCI devices)\n");
        }
        hd_gpu_array_free(gpus, n);
        return EXIT_SUCCESS;
}

/* ---- vgpu ---- */

static int verb_vgpu_types(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        hd_vgpu_type *t = NULL;
        hd_device *d = NULL;
        bool json = arg_json;
        size_t n = 0;
        int r;

        if (open_list_lookup(&ctx, &list, argc == 2 ? argv[1] : NULL, &d) < 0)
                return EXIT_FAILURE;
        r = hd_vgpu_list_types(list, d, &t, &n);
        if (r < 0)
                return error_exit(ctx, "vgpu types", r);
        if (json) {
                json_object *a = NULL;
                r = hd_vgpu_types_to_json(t, n, &a); /* the library's rendering (hostdevd's too) */
                if (r < 0) {
                        hd_vgpu_types_free(t, n);
                        return error_exit(ctx, "vgpu types", r);
                }
                print_json(a);
                json_object_put(a);
        } else {
                printf("%-13s %-10s %-16s %-16s %s\n", "PARENT", "LAYOUT", "TYPE", "NAME", "AVAILABLE");
                for (size_t i = 0; i < n; i++) {
                        char avail[24];
                        snprintf(avail, sizeof(avail), "%ld", t[i].available);
                        printf("%-13s %-10s %-16s %-16s %s\n", t[i].parent, hd_vgpu_layout_to_string(t[i].layout),
                               t[i].id, t[i].name ?: "-", t[i].available >= 0 ? avail : "?");
                }
        }
        hd_vgpu_types_free(t, n);
        return EXIT_SUCCESS;
}

static int verb_vgpu_create(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _cleanup_free_ char *vid = NULL, *parent = NULL, *type = NULL, *layout = NULL;
        hd_vgpu *v = NULL;
        hd_device *d;
        int r, route, rc;

        /* through hostdevd (VgpuCreate): the new vGPU's id, parent, type, layout */
        route = bus_call("vgpu create", NULL, &rc, "sst", argv[1], argv[2], (uint64_t) 0, &vid, &parent, &type, &layout);
        if (route == BUS_DONE)
                return rc;
        if (route == BUS_REPLY) {
                printf("%s\n", vid);
                return EXIT_SUCCESS;
        }
        if (open_list_lookup(&ctx, &list, argv[1], &d) < 0)
                return EXIT_FAILURE;
        r = hd_vgpu_create(list, d, argv[2], &v);
        if (r < 0)
                return error_exit(ctx, "vgpu create", r);
        printf("%s\n", v->id);
        hd_vgpu_free(v);
        return EXIT_SUCCESS;
}

static int verb_vgpu_remove(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        int r, route, rc;

        /* through hostdevd (VgpuRemove), which answers nothing */
        route = bus_call("vgpu remove", NULL, &rc, "st", argv[1], (uint64_t) 0);
        if (route == BUS_DONE)
                return rc;
        if (route == BUS_REPLY)
                return EXIT_SUCCESS;
        if (open_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        r = hd_vgpu_remove(list, argv[1]);
        if (r < 0)
                return error_exit(ctx, "vgpu remove", r);
        return EXIT_SUCCESS;
}

static const struct verb gpu_subs[] = {
        { .name = "rom", .fn = verb_gpu_rom, .min_args = 2, .max_args = 2, .flags = VERB_JSON,
          .expect = "expected a device and an output file" },
        {}
};

static const struct verb vgpu_subs[] = {
        { .name = "types", .fn = verb_vgpu_types, .max_args = 1, .flags = VERB_JSON },
        { .name = "create", .fn = verb_vgpu_create, .min_args = 2, .max_args = 2,
          .expect = "expected a device and a vGPU type" },
        { .name = "remove", .fn = verb_vgpu_remove, .min_args = 1, .max_args = 1,
          .expect = "expected one vGPU (an mdev UUID or a VF)" },
        {}
};

const struct verb gpu_verbs[] = {
        { .name = "gpu", .fn = verb_gpu, .max_args = 1, .flags = VERB_JSON, .subs = gpu_subs,
          .args = "[DEV] [--json] | rom DEV FILE [--json]",
          .summary = "GPUs for passthrough: DRM nodes, companions, holders, IOMMU group, reset, quirks, readiness.",
          .help = "Lists every display-class PCI function (SR-IOV VFs left out) with its names,\n"
            "driver, DRM driver and nodes (libdrm on the live host, sysfs with --sysroot),\n"
            "the other functions of the card (HDMI audio, USB-C), boot VGA and whether the\n"
            "framebuffer console or efifb/simpledrm holds its BAR, processes holding its DRM\n"
            "nodes, its IOMMU group, reset methods, a known-quirk note (gpu/quirks.tsv) and\n"
            "whether it can be passed through now, with the reason when not.\n"
            "  gpu rom DEV FILE   dump the option ROM through sysfs (enable, read, disable;\n"
            "                     always disabled again) into FILE and check it: 0x55AA,\n"
            "                     PCIR, vendor/device ids. Exit 1 when it is not usable as\n"
            "                     libvirt's <rom file=.../> (the file is kept).\n"
            "See docs/gpu.md; JSON: docs/json.md.\n" },
        { .name = "vgpu", .subs = vgpu_subs,
          .expect = "expected 'types', 'create' or 'remove' (see 'hostdevctl vgpu --help')",
          .args = "types [DEV] [--json] | create DEV TYPE | remove ID",
          .summary = "vGPU types and instances, mdev (GVT-g, GRID) and NVIDIA per-VF alike.",
          .help = "  vgpu types [DEV] [--json]  types with the instances left; NVIDIA's per-VF\n"
            "                             types are summed over the PF's free VFs\n"
            "  vgpu create DEV TYPE       create through the layout DEV uses: an mdev (prints\n"
            "                             its UUID) or current_vgpu_type on the first free\n"
            "                             VF offering TYPE (an id or name; prints the VF)\n"
            "  vgpu remove ID             an mdev UUID or a VF; refused (exit 2) in use\n" },
        {}
};
