/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PCI option ROMs: read through sysfs ("rom": write 1, read, write 0) and
 * check (0x55AA signature, PCIR data structure, vendor and device ids,
 * x86 image checksum) whether an image is fit for libvirt's <rom file=/>.
 */
#include <fcntl.h>
#include <limits.h>

#include "gpu/gpu-internal.h"

#define ROM_MAX (16u * 1024 * 1024)
#define ROM_MAX_IMAGES 64

static unsigned le16(const uint8_t *p) { return (unsigned) p[0] | (unsigned) p[1] << 8; }

static const char *code_type_str(unsigned t) {
        switch (t) {
        case 0: return "x86 BIOS";
        case 1: return "Open Firmware";
        case 2: return "PA-RISC";
        case 3: return "EFI";
        }
        return "unknown";
}

/* PCI 3.0 device list (PCIR +0x08): does it name @device? */
static bool devlist_has(const uint8_t *data, size_t size, size_t img, size_t pcir, unsigned device) {
        unsigned ptr = le16(data + pcir + 8);
        if (data[pcir + 0xc] < 3 || ptr == 0)
                return false;
        for (size_t o = pcir + ptr; o + 2 <= size && o < img + 0x10000; o += 2) {
                unsigned id = le16(data + o);
                if (id == 0)
                        break;
                if (id == device)
                        return true;
        }
        return false;
}

_public_ void hd_rom_check_free(hd_rom_check *c) {
        if (!c)
                return;
        free(c->reason);
        free(c->images);
        free(c);
}

static void rom_check_freep(hd_rom_check **c) { hd_rom_check_free(*c); }

_public_ int hd_rom_check_image(const uint8_t *data, size_t size, unsigned vendor_id, unsigned device_id,
                                hd_rom_check **ret) {
        _cleanup_(rom_check_freep) hd_rom_check *c = NULL;
        size_t off = 0;
        int r = 0;

        if (!data || !ret)
                return -EINVAL;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        while (c->n_images < ROM_MAX_IMAGES && off + 0x1a <= size) {
                hd_rom_image *im;
                size_t pcir, len;
                unsigned indicator;

                if (data[off] != 0x55 || data[off + 1] != 0xaa)
                        break;
                if (off == 0)
                        c->signature_ok = true;
                pcir = off + le16(data + off + 0x18);
                if (pcir + 0x18 > size || memcmp(data + pcir, "PCIR", 4) != 0)
                        break;
                if (off == 0)
                        c->pcir_ok = true;
                im = realloc(c->images, (c->n_images + 1) * sizeof(*im));
                if (!im)
                        return -ENOMEM;
                c->images = im;
                im = &c->images[c->n_images++];
                *im = (hd_rom_image) {};
                im->offset = off;
                im->vendor_id = le16(data + pcir + 4);
                im->device_id = le16(data + pcir + 6);
                im->code_type = data[pcir + 0x14];
                indicator = data[pcir + 0x15];
                len = (size_t) le16(data + pcir + 0x10) * 512;
                im->length = len;
                im->checksum_ok = true;
                if (im->code_type == 0 && len > 0 && off + len <= size) {
                        uint8_t sum = 0;
                        for (size_t i = 0; i < len; i++)
                                sum = (uint8_t) (sum + data[off + i]);
                        im->checksum_ok = sum == 0;
                } else if (off + len > size)
                        im->checksum_ok = false; /* truncated */
                if (off == 0)
                        c->ids_match = im->vendor_id == vendor_id &&
                                      (im->device_id == device_id || devlist_has(data, size, off, pcir, device_id));
                if (len == 0 || (indicator & 0x80))
                        break;
                off += len;
        }
        if (size == 0)
                r = hd_asprintf(&c->reason, "the image is empty");
        else if (!c->signature_ok)
                r = hd_asprintf(&c->reason, "no 0x55AA ROM signature at offset 0 (found 0x%02X%02X)", data[0],
                                size > 1 ? data[1] : 0);
        else if (!c->pcir_ok)
                r = hd_asprintf(&c->reason, "no PCIR data structure at the offset the header gives");
        else if (!c->ids_match)
                r = hd_asprintf(&c->reason, "the ROM is for %04x:%04x, the device is %04x:%04x",
                                c->images[0].vendor_id, c->images[0].device_id, vendor_id, device_id);
        else if (c->images[0].offset + c->images[0].length > size)
                r = hd_asprintf(&c->reason, "the image is truncated: its header says %zu bytes, %zu were read",
                                c->images[0].length, size);
        else
                for (size_t i = 0; i < c->n_images; i++)
                        if (!c->images[i].checksum_ok) {
                                r = hd_asprintf(&c->reason, "bad checksum in image %zu (%s)", i,
                                                code_type_str(c->images[i].code_type));
                                break;
                        }
        if (r < 0)
                return r;
        c->usable = !c->reason;
        *ret = TAKE_PTR(c);
        return 0;
}

/* The ROM stays enabled only inside hd_gpu_rom_read(): this cleanup
 * disables it on every return path. */
struct rom_enable {
        hd_ctx *ctx;
        const char *path;
        bool on;
};

static void rom_disable(struct rom_enable *e) {
        int r;
        if (!e->on)
                return;
        r = hd_sysfs_write(e->ctx, e->path, "0");
        if (r < 0)
                log_err(e->ctx, "cannot disable the ROM again (%s): %s", e->path, strerror(-r));
}

_public_ int hd_gpu_rom_read(hd_device *d, uint8_t **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        char path[PATH_MAX];
        size_t len = 0;
        hd_ctx *ctx;
        int r;

        if (!d || !ret || !ret_size)
                return -EINVAL;
        ctx = hd_device_get_ctx(d);
        hd_error_clear(ctx);
        if (hd_device_get_cap_type(d) != HD_CAP_PCI)
                return hd_error(ctx, -EINVAL, "%s is not a PCI device", hd_device_get_name(d));
        hd_pci_path(path, sizeof(path), hd_device_get_sysname(d), "rom");
        if (!hd_sysfs_exists(ctx, path))
                return hd_error(ctx, -ENOENT, "%s has no option ROM", hd_device_get_name(d));

        _cleanup_(rom_disable) struct rom_enable en = { ctx, path, false };
        r = hd_sysfs_write(ctx, path, "1");
        if (r < 0)
                return hd_error(ctx, r, "reading the option ROM of %s failed: enabling it failed: %s",
                                hd_device_get_name(d), strerror(-r));
        en.on = true;
        r = hd_sysfs_read_full_max(ctx, path, ROM_MAX, &buf, &len);
        if (r < 0)
                return hd_error(ctx, r, "reading the option ROM of %s failed: %s", hd_device_get_name(d), strerror(-r));
        if (len == 0)
                return hd_error(ctx, -ENODATA, "the option ROM of %s reads empty (the kernel found no valid image)",
                                hd_device_get_name(d));
        *ret = (uint8_t *) TAKE_PTR(buf);
        *ret_size = len;
        return 0;
}
