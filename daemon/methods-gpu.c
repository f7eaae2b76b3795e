/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdevd's vGPU writes and the option ROM read:
 *
 *   VgpuCreate   vgpu create DEV TYPE   hd_vgpu_create()
 *   VgpuRemove   vgpu remove ID         hd_vgpu_remove()
 *   GpuRom       gpu rom DEV FILE       hd_gpu_rom_read()
 *
 * Each calls the library function the hostdevctl verb calls; failures are
 * named errors with the CLI's words (error_exit's "VERB: the context's
 * reason", without "hostdevctl: "), Refused only where the CLI exits 2
 * (-EBUSY: a vGPU whose VFIO group is open).
 *
 * All three go through authz_run.  The vGPU writes are the action
 * org.hostdev.mdev: a vGPU is an mdev (MdevCreate makes the same one) or
 * NVIDIA's per-VF equivalent, and one action for both keeps a grant from
 * being walked around.  GpuRom is a write too, the action org.hostdev.rom:
 * reading a ROM enables the device's ROM BAR through sysfs "rom" (1, read,
 * 0), which the kernel leaves to root for a reason: the BAR decodes over
 * the device's memory while enabled, and some GPUs misbehave when it is
 * read while their driver runs.  Serving it to any user would undo that.
 *
 * GpuRom answers the bytes (ay, at most the library's 16 MiB) and the
 * device's name and PCI ids; it writes no file.  The file of `gpu rom DEV
 * FILE` is the caller's, written by hostdevctl with the caller's rights:
 * a daemon running as root must not write a path an unprivileged caller
 * names.  The check of the image (hd_rom_check_image(), pure) and its
 * rendering stay with the caller, which has the bytes and the ids.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostdev/gpu.h"
#include "hostdevd.h"
#include "methods-gpu.h"

#define MAX_ID_LEN 4096         /* the daemon's bound of a name (lookup) */

static int unknown_flags(sd_bus_message *m, const char *verb, uint64_t flags) {
        return sd_bus_reply_method_errorf(m, ERROR_INVALID, "%s: unknown flags 0x%llx", verb, (unsigned long long) flags);
}

/* hostdevctl's error_exit(): "VERB: REASON"; the name by the errno */
static int reply_gpu_error(struct daemon *d, sd_bus_message *m, const char *verb, int r) {
        const char *name = r == -EBUSY ? ERROR_REFUSED
                           : r == -ENODEV || r == -ENOENT ? ERROR_NOT_FOUND
                           : r == -EINVAL ? ERROR_INVALID : ERROR_FAILED;

        if (r == -ETIMEDOUT)
                return reply_busy(d, m, verb);
        return sd_bus_reply_method_errorf(m, name, "%s: %s", verb, hd_ctx_get_error(d->ctx) ?: strerror(-r));
}

/* ---- VgpuCreate(s name, s type, t flags) -> s id, s parent, s type, s layout ---- */

static int do_vgpu_create(struct daemon *d, sd_bus_message *m) {
        const char *name, *type;
        hd_vgpu *v = NULL;
        uint64_t flags;
        hd_device *dev;
        int r;

        r = sd_bus_message_read(m, "sst", &name, &type, &flags);
        if (r < 0)
                return r;
        flags &= ~FLAG_LOG_INFO;        /* the caller's -v: daemon/call-log.c */
        if (flags)
                return unknown_flags(m, "vgpu create", flags);
        if (strlen(type) > MAX_ID_LEN)
                return sd_bus_reply_method_errorf(m, ERROR_INVALID, "vgpu create: vGPU type too long (%zu bytes; at most %d)",
                                                  strlen(type), MAX_ID_LEN);
        r = prepare_write(d, m, name, &dev);
        if (r <= 0)
                return r;
        r = hd_vgpu_create(d->list, dev, type, &v);
        if (r < 0)
                r = reply_gpu_error(d, m, "vgpu create", r);
        else
                r = sd_bus_reply_method_return(m, "ssss", v->id, v->parent ?: "", v->type ?: "",
                                               hd_vgpu_layout_to_string(v->layout));
        hd_vgpu_free(v);
        (void) rebuild(d);
        return r;
}

/* ---- VgpuRemove(s id, t flags) -> nothing ---- */

static int do_vgpu_remove(struct daemon *d, sd_bus_message *m) {
        const char *id;
        uint64_t flags;
        int r;

        r = sd_bus_message_read(m, "st", &id, &flags);
        if (r < 0)
                return r;
        flags &= ~FLAG_LOG_INFO;        /* the caller's -v: daemon/call-log.c */
        if (flags)
                return unknown_flags(m, "vgpu remove", flags);
        if (strlen(id) > MAX_ID_LEN)
                return sd_bus_reply_method_errorf(m, ERROR_INVALID, "vgpu remove: '%.64s...' is too long (%zu bytes; at most %d)",
                                                  id, strlen(id), MAX_ID_LEN);
        /* a running guest's vGPU is refused: libvirt is asked, as by
         * hostdevctl; the VF is looked up in the tree as it is now */
        r = rebuild(d);
        if (r < 0)
                return sd_bus_reply_method_errorf(m, ERROR_FAILED, "cannot enumerate devices: %s", strerror(-r));
        r = ask_libvirt(d);
        if (r < 0)
                return r;
        r = hd_vgpu_remove(d->list, id);
        if (r < 0)
                r = reply_gpu_error(d, m, "vgpu remove", r);
        else
                r = sd_bus_reply_method_return(m, "");
        (void) rebuild(d);
        return r;
}

/* ---- GpuRom(s name, t flags) -> s device, q vendor_id, q device_id, ay rom ---- */

static int do_gpu_rom(struct daemon *d, sd_bus_message *m) {
        sd_bus_message *reply = NULL;
        unsigned vendor = 0, device = 0;
        uint8_t *data = NULL;
        const char *name, *pci_id;
        size_t size = 0;
        uint64_t flags;
        hd_device *dev;
        int r;

        r = sd_bus_message_read(m, "st", &name, &flags);
        if (r < 0)
                return r;
        flags &= ~FLAG_LOG_INFO;        /* the caller's -v: daemon/call-log.c */
        if (flags)
                return unknown_flags(m, "gpu rom", flags);
        /* the tree as it is now; nothing in it changes */
        r = prepare_write(d, m, name, &dev);
        if (r <= 0)
                return r;
        if (hd_device_get_cap_type(dev) != HD_CAP_PCI)
                return sd_bus_reply_method_errorf(m, ERROR_INVALID, "gpu rom: %s is not a PCI device", hd_device_get_name(dev));
        r = hd_gpu_rom_read(dev, &data, &size);
        if (r < 0)
                return reply_gpu_error(d, m, "gpu rom", r);
        pci_id = hd_device_get_property(dev, "PCI_ID");
        if (pci_id)
                (void) sscanf(pci_id, "%x:%x", &vendor, &device);
        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "sqq", hd_device_get_name(dev), (uint16_t) vendor, (uint16_t) device);
        if (r >= 0)
                r = sd_bus_message_append_array(reply, 'y', data, size);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        free(data);
        return r;
}

int method_vgpu_create(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.mdev", do_vgpu_create);
}
int method_vgpu_remove(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.mdev", do_vgpu_remove);
}
int method_gpu_rom(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.rom", do_gpu_rom);
}
