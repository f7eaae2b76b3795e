/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Vendor and device names for a handful of lookups without loading all of
 * pci.ids.  libpci parses the whole file (about 1.3 MB, 11 ms) into a hash
 * on its first lookup: right for a listing of the host, most of the run
 * time of a single-device verb.  Here the first few lookups scan the
 * mapped file for the one line they need, with libpci's reading of it:
 * lines of tabs, a hex id, white space and the name; '#' comments and
 * blank lines skipped; trailing white space dropped; the first entry of an
 * id wins.  After HD_PCIIDS_SCANS lookups, libpci takes over.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/internal.h"

static int hex4(const char *p, const char *end) {
        unsigned v = 0;
        if (end - p < 4)
                return -1;
        for (int i = 0; i < 4; i++) {
                char c = p[i];
                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (unsigned) (c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (unsigned) (c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (unsigned) (c - 'A' + 10);
                else
                        return -1;
        }
        return (int) v;
}

static bool white(char c) { return c == ' ' || c == '\t'; }

/* The name after "ID" on [p, end): white space, then the rest without
 * trailing white space; false when there is no name. */
static bool take_name(const char *p, const char *end, const char **ret, size_t *ret_len) {
        if (p >= end || !white(*p))
                return false;
        while (p < end && white(*p))
                p++;
        while (end > p && (white(end[-1]) || end[-1] == '\r'))
                end--;
        if (p == end)
                return false;
        *ret = p;
        *ret_len = (size_t) (end - p);
        return true;
}

int hd_pciids_find(const char *text, size_t len, unsigned vendor, int device, const char **ret, size_t *ret_len) {
        const char *p = text, *end = text + len;
        bool in_vendor = false;

        if (!text || !ret || !ret_len || vendor > 0xffff || device > 0xffff)
                return -EINVAL;
        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t) (end - p));
                const char *le = eol ? eol : end;
                const char *next = eol ? eol + 1 : end;

                if (*p == '\t') {
                        /* nest 1 (a device) only under our vendor; deeper
                         * lines (subsystems) are never ours */
                        if (in_vendor && device >= 0 && le - p > 1 && p[1] != '\t' && hex4(p + 1, le) == device &&
                            take_name(p + 5, le, ret, ret_len))
                                return 0;
                } else if (*p != '#' && p < le) {
                        /* a top-level line: a vendor, a class ("C 0c") or
                         * another category ("X yy"), which ends ours */
                        int id = hex4(p, le);
                        in_vendor = id >= 0 && (unsigned) id == vendor && (le - p == 4 || white(p[4]));
                        if (in_vendor && device < 0 && take_name(p + 4, le, ret, ret_len))
                                return 0;
                }
                p = next;
        }
        return -ENOENT;
}

struct hd_pciids {
        void *map;
        size_t len;
        unsigned n_lookups;
        bool failed;
};

void hd_pciids_free(struct hd_pciids *ids) {
        if (!ids)
                return;
        if (ids->map && ids->map != MAP_FAILED)
                munmap(ids->map, ids->len);
        free(ids);
}

/* 1 and the name when the scan answered (found or not), 0 when libpci
 * should answer (too many lookups, or the file is compressed or absent). */
int hd_pciids_lookup(struct hd_pciids **idsp, const char *path, unsigned vendor, int device, char *buf, size_t size) {
        struct hd_pciids *ids = *idsp;
        const char *name;
        size_t n;

        if (!ids) {
                ids = *idsp = calloc(1, sizeof(*ids));
                if (!ids)
                        return 0;
        }
        if (ids->failed || ++ids->n_lookups > HD_PCIIDS_SCANS)
                return 0;
        if (!ids->map) {
                _cleanup_close_ int fd = -1;
                struct stat st;
                size_t pl = path ? strlen(path) : 0;

                ids->failed = true;
                if (!path)
                        return 0;
                /* libpci (built with zlib) opens "pci.ids.gz", and
                 * "pci.ids" when that is missing: a compressed list is
                 * libpci's to read */
                if (pl > 3 && streq(path + pl - 3, ".gz")) {
                        _cleanup_free_ char *plain = NULL;
                        if (access(path, F_OK) == 0 || !(plain = strndup(path, pl - 3)))
                                return 0;
                        fd = open(plain, O_RDONLY | O_CLOEXEC);
                } else
                        fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 2)
                        return 0;
                ids->map = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
                if (ids->map == MAP_FAILED) {
                        ids->map = NULL;
                        return 0;
                }
                ids->len = (size_t) st.st_size;
                if (((const unsigned char *) ids->map)[0] == 0x1f && ((const unsigned char *) ids->map)[1] == 0x8b)
                        return 0; /* gzip data under a plain name: libpci's */
                ids->failed = false;
        }
        if (hd_pciids_find(ids->map, ids->len, vendor, device, &name, &n) < 0)
                return -ENOENT;
        if (n >= size)
                return 0; /* libpci says what it says of a long name */
        memcpy(buf, name, n);
        buf[n] = 0;
        return 1;
}
