/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* udev database records (run/udev/data/<id>: "E:KEY=VALUE", "S:link", ...):
 * hd_udev_db_parse() as nodedev/source-sysfs.c calls it on a file it read. */
#include "fuzz-raw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const subsystems[] = { "block", "net", "usb", "pci" };
        struct hd_raw_device raw;
        char *text, path[4096];
        int r;

        /* the reader's buffer is 16 KiB: larger files are never parsed */
        if (size >= 16384)
                return -1;
        text = fuzz_cstr(data, size);
        fuzz_raw_init(&raw, "/sys/devices/virtual/fuzz/fuzz0", subsystems, ELEMENTSOF(subsystems), size);
        r = hd_udev_db_parse(text, &raw);
        fuzz_raw_check_props(&raw, r);
        FUZZ_ASSERT(raw.n_devlinks == 0 || raw.devlinks[raw.n_devlinks] == NULL);
        for (size_t i = 0; i < raw.n_devlinks; i++)
                FUZZ_ASSERT(startswith(raw.devlinks[i], "/dev/"));
        (void) hd_raw_get_prop(&raw, "ID_SERIAL");
        (void) hd_raw_get_prop(&raw, "DEVNAME");
        /* the database names the next lookup */
        r = hd_udev_db_path(&raw, path, sizeof(path));
        FUZZ_ASSERT(r == 0 || r == -ENAMETOOLONG);
        hd_raw_device_done(&raw);
        free(text);
        return 0;
}
