/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sysfs attribute parsers (ids, classes, numbers, link speeds and states,
 * DMI strings and UUIDs, USB and SCSI numbers, mdev type data): the input,
 * split at NUL bytes, becomes the attribute files listed in
 * tree-attrs.txt of a copy of the fuzz host; then the real code reads
 * them: enumeration, every device's XML/JSON/text, the SR-IOV PF list,
 * the IOMMU groups and the mdev types. */
#include <fcntl.h>

#include "tree.h"
#include "hostdev/hostdev.h"
#include "hostdev/sriov.h"
#include "nodedev/device.h"

static hd_ctx *ctx;
static int root_fd = -1;
static char **attrs;
static size_t n_attrs;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        const char *data = getenv("HOSTDEV_FUZZ_DATA") ?: FUZZ_DATA_DIR;
        const char *root = fuzz_tree_setup(&ctx);
        char path[4096], line[4096];
        FILE *f;

        root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        snprintf(path, sizeof(path), "%s/tree-attrs.txt", data);
        f = fopen(path, "re");
        if (root_fd < 0 || !f)
                abort();
        while (fgets(line, sizeof(line), f)) {
                hd_strip(line);
                if (*line && hd_strv_push(&attrs, &n_attrs, strdup(line)) < 0)
                        abort();
        }
        fclose(f);
        return 0;
}

static void write_attr(const char *path, const uint8_t *p, size_t n) {
        int fd = openat(root_fd, path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        if (fd < 0 || (n && write(fd, p, n) != (ssize_t) n))
                abort();
        close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const uint8_t *p = data, *end = data + size;
        hd_nodedev_list *list = NULL;
        hd_sriov_pf *pfs = NULL;
        hd_mdev_type *types = NULL;
        unsigned *groups = NULL;
        size_t n = 0;

        for (size_t i = 0; i < n_attrs; i++) {
                const uint8_t *nul = p < end ? memchr(p, 0, (size_t) (end - p)) : NULL;
                const uint8_t *e = nul ? nul : end;
                write_attr(attrs[i], p, (size_t) (e - p));
                p = e < end ? e + 1 : end;
        }

        FUZZ_ASSERT(hd_nodedev_list_new(ctx, &list) == 0);
        for (size_t i = 0; i < hd_nodedev_list_count(list); i++) {
                /* what hd_device_format_xml/_json/_text do, reading the
                 * device once */
                struct hd_node *dom = NULL;
                FUZZ_ASSERT(hd_device_build_dom(hd_nodedev_list_get(list, i), &dom) == 0);
                fuzz_render(dom);
                hd_node_free(dom);
        }
        if (hd_sriov_pf_list(list, &pfs, &n) == 0)
                hd_sriov_pf_free(pfs, n);
        if (hd_iommu_list_groups(list, &groups, &n) == 0)
                free(groups);
        hd_nodedev_list_unref(list);
        if (hd_mdev_list_types(ctx, NULL, &types, &n) == 0)
                hd_mdev_types_free(types, n);
        return 0;
}
