/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Vendor and device names for a handful of lookups without loading all of
 * pci.ids.  libpci parses the whole file (about 1.3 MB, 11 ms) into a hash
 * on its first lookup: right for a listing of the host, most of the run
 * time of a single-device verb, and a tenth of a listing's.  Here the file
 * is mapped, one pass notes where each vendor's section starts (0.3 ms),
 * and a lookup reads that section only, with libpci's reading of it:
 * lines of tabs, a hex id, white space and the name; '#' comments and
 * blank lines skipped; trailing white space dropped; the first entry of an
 * id wins.  libpci still reads a compressed list.
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

/* The name of @vendor (@device < 0) or @vendor:@device, from the line at
 * @p on; with @one_section the search ends where the first section of
 * @vendor does (the caller starts at that vendor's line). */
static int find(const char *p, const char *end, unsigned vendor, int device, bool one_section, const char **ret,
                size_t *ret_len) {
        bool in_vendor = false, seen = false;

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
                        if (one_section && seen)
                                return -ENOENT;
                        in_vendor = id >= 0 && (unsigned) id == vendor && (le - p == 4 || white(p[4]));
                        seen = seen || in_vendor;
                        if (in_vendor && device < 0 && take_name(p + 4, le, ret, ret_len))
                                return 0;
                }
                p = next;
        }
        return -ENOENT;
}

int hd_pciids_find(const char *text, size_t len, unsigned vendor, int device, const char **ret, size_t *ret_len) {
        if (!text || !ret || !ret_len || vendor > 0xffff || device > 0xffff)
                return -EINVAL;
        return find(text, text + len, vendor, device, false, ret, ret_len);
}

/* Where each vendor's section starts: offset + 1, 0 when the file has
 * none, VENDOR_TWICE when it has two (then the whole file is searched, as
 * libpci merges them). */
#define VENDOR_TWICE UINT32_MAX

static uint32_t *build_index(const char *text, size_t len) {
        uint32_t *ix = calloc(0x10000, sizeof(*ix));
        const char *p = text, *end = text + len;

        if (!ix || len >= VENDOR_TWICE) {
                free(ix);
                return NULL;
        }
        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t) (end - p));
                const char *le = eol ? eol : end;
                if (*p != '\t' && *p != '#') {
                        int id = hex4(p, le);
                        if (id >= 0 && (le - p == 4 || white(p[4])))
                                ix[id] = ix[id] ? VENDOR_TWICE : (uint32_t) (p - text) + 1;
                }
                p = eol ? eol + 1 : end;
        }
        return ix;
}

/* a vendor's devices (nest-1 lines of its section), sorted by id */
struct vendor_devs {
        size_t n;
        struct dev_line {
                uint16_t id;
                uint32_t off;   /* the line's offset in the file */
        } *v;
};

struct hd_pciids {
        void *map;
        size_t len;
        uint32_t *index;        /* build_index(), on the first lookup */
        struct vendor_devs **devs; /* per vendor, on its first device lookup */
        bool failed;
};

static int cmp_dev_line(const void *a, const void *b) {
        const struct dev_line *x = a, *y = b;
        return x->id != y->id ? (x->id < y->id ? -1 : 1) : (x->off < y->off ? -1 : x->off > y->off);
}

/* The device lines of the section at @p (a vendor's line), the first of
 * each id kept (libpci keeps the first entry of an id). */
static struct vendor_devs *build_devs(const char *text, const char *p, const char *end) {
        struct vendor_devs *vd = calloc(1, sizeof(*vd));
        size_t cap = 0, k = 0;
        bool first = true;

        if (!vd)
                return NULL;
        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t) (end - p));
                const char *le = eol ? eol : end;
                const char *name;
                size_t nl;
                int id;

                if (*p == '\t') {
                        if (le - p > 1 && p[1] != '\t' && (id = hex4(p + 1, le)) >= 0 && take_name(p + 5, le, &name, &nl)) {
                                if (vd->n == cap) {
                                        struct dev_line *nv = realloc(vd->v, (cap = cap ? 2 * cap : 64) * sizeof(*nv));
                                        if (!nv) {
                                                free(vd->v);
                                                free(vd);
                                                return NULL;
                                        }
                                        vd->v = nv;
                                }
                                vd->v[vd->n++] = (struct dev_line) { .id = (uint16_t) id, .off = (uint32_t) (p - text) };
                        }
                } else if (*p != '#' && p < le && !first)
                        break; /* the next top-level line ends the section */
                first = false;
                p = eol ? eol + 1 : end;
        }
        if (vd->n > 1)
                qsort(vd->v, vd->n, sizeof(*vd->v), cmp_dev_line);
        for (size_t i = 0; i < vd->n; i++) /* drop later entries of an id */
                if (k == 0 || vd->v[k - 1].id != vd->v[i].id)
                        vd->v[k++] = vd->v[i];
        vd->n = k;
        return vd;
}

void hd_pciids_free(struct hd_pciids *ids) {
        if (!ids)
                return;
        if (ids->map && ids->map != MAP_FAILED)
                munmap(ids->map, ids->len);
        free(ids->index);
        if (ids->devs)
                for (size_t i = 0; i < 0x10000; i++)
                        if (ids->devs[i]) {
                                free(ids->devs[i]->v);
                                free(ids->devs[i]);
                        }
        free(ids->devs);
        free(ids);
}

/* 1 and the name when the mapped file answered, -ENOENT when it has no
 * such entry, 0 when libpci should answer (the file is compressed or
 * absent, or the name does not fit). */
int hd_pciids_lookup(struct hd_pciids **idsp, const char *path, unsigned vendor, int device, char *buf, size_t size) {
        struct hd_pciids *ids = *idsp;
        const char *name;
        size_t n;

        if (!ids) {
                ids = *idsp = calloc(1, sizeof(*ids));
                if (!ids)
                        return 0;
        }
        if (ids->failed)
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
        if (!ids->index && !(ids->index = build_index(ids->map, ids->len))) {
                ids->failed = true;
                return 0;
        }
        if (vendor > 0xffff || device > 0xffff)
                return -ENOENT;
        {
                uint32_t o = ids->index[vendor];
                const char *text = ids->map;
                int r;
                if (o == 0)
                        return -ENOENT;
                if (o == VENDOR_TWICE)
                        r = find(text, text + ids->len, vendor, device, false, &name, &n);
                else if (device < 0)
                        r = find(text + o - 1, text + ids->len, vendor, device, true, &name, &n);
                else {
                        /* a device: its vendor's section indexed once */
                        struct vendor_devs *vd;
                        struct dev_line key = { .id = (uint16_t) device }, *hit = NULL;
                        if (!ids->devs && !(ids->devs = calloc(0x10000, sizeof(*ids->devs))))
                                return 0;
                        vd = ids->devs[vendor];
                        if (!vd && !(vd = ids->devs[vendor] = build_devs(text, text + o - 1, text + ids->len)))
                                return 0;
                        for (size_t lo = 0, hi = vd->n; lo < hi && !hit;) {
                                size_t mid = lo + (hi - lo) / 2;
                                if (vd->v[mid].id == key.id)
                                        hit = &vd->v[mid];
                                else if (vd->v[mid].id < key.id)
                                        lo = mid + 1;
                                else
                                        hi = mid;
                        }
                        if (!hit)
                                return -ENOENT;
                        {
                                const char *lp = text + hit->off, *le = memchr(lp, '\n', ids->len - hit->off);
                                r = take_name(lp + 5, le ? le : text + ids->len, &name, &n) ? 0 : -ENOENT;
                        }
                }
                if (r < 0)
                        return -ENOENT;
        }
        if (n >= size)
                return 0; /* libpci says what it says of a long name */
        memcpy(buf, name, n);
        buf[n] = 0;
        return 1;
}
