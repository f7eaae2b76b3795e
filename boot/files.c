/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Configuration files of a root (this host or an offline one), resolved
 * beneath the root with openat2(RESOLVE_IN_ROOT); and a unified diff.
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>

#include "boot/boot-internal.h"

int hd_root_open(const char *root, int *ret_fd) {
        int fd;

        if (root && !*root)
                return -EINVAL;
        fd = open(root ?: "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        *ret_fd = fd;
        return 0;
}

int hd_boot_root_open(hd_ctx *ctx, const char *root, int *ret_fd) {
        int r;

        if (root && (!*root || streq(root, "/")))
                return hd_error(ctx, -EINVAL, "--root must name an offline root directory; leave it out for this host");
        r = hd_root_open(root, ret_fd);
        if (r < 0)
                return hd_error(ctx, r, "cannot open the root %s: %s", root ?: "/", strerror(-r));
        return 0;
}

static int rel_of(const char *path, const char **ret) {
        while (*path == '/')
                path++;
        for (const char *p = path; *p;) {
                const char *e = strchrnul(p, '/');
                if (e - p == 2 && p[0] == '.' && p[1] == '.')
                        return -EINVAL;
                p = *e ? e + 1 : e;
        }
        *ret = *path ? path : ".";
        return 0;
}

static int open_beneath(int rfd, const char *path, int flags, mode_t mode) {
        const char *rel;
        int fd, r;

        if ((r = rel_of(path, &rel)) < 0)
                return r;
        /* tried again on EAGAIN (a rename elsewhere raced a ".." step) */
        fd = hd_openat2(rfd, rel, flags, mode, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
        if (fd < 0 && (errno == ENOSYS || errno == EPERM))
                fd = openat(rfd, rel, flags | O_CLOEXEC, mode);
        return fd < 0 ? negative_errno() : fd;
}

int hd_root_read(int rfd, const char *path, char **ret, unsigned *ret_mode) {
        _cleanup_close_ int fd = -1;
        struct hd_buf b = {};
        struct stat st;
        char chunk[8192];
        ssize_t n;

        fd = open_beneath(rfd, path, O_RDONLY | O_NOCTTY, 0);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EISDIR;
        while ((n = read(fd, chunk, sizeof(chunk))) > 0)
                hd_buf_add(&b, chunk, (size_t) n);
        if (n < 0) {
                hd_buf_done(&b);
                return negative_errno();
        }
        hd_buf_add(&b, "", 0);
        if (b.err || (!b.s && !(b.s = strdup("")))) {
                hd_buf_done(&b);
                return -ENOMEM;
        }
        if (ret_mode)
                *ret_mode = st.st_mode & 07777;
        return hd_buf_steal(&b, ret);
}

bool hd_root_exists(int rfd, const char *path) {
        int fd = open_beneath(rfd, path, O_PATH, 0);
        if (fd < 0)
                return false;
        close(fd);
        return true;
}

int hd_root_list_dir(int rfd, const char *path, char ***ret, size_t *ret_n) {
        _cleanup_strv_free_ char **v = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        size_t n = 0;
        int fd, r;

        fd = open_beneath(rfd, path, O_RDONLY | O_DIRECTORY, 0);
        if (fd < 0)
                return fd;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return negative_errno();
        }
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        if ((r = hd_strv_push(&v, &n, strdup(de->d_name))) < 0)
                                return r;
        if (n)
                qsort(v, n, sizeof(char *), hd_cmpstringp);
        else if (!(v = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

/* Open the parent directory of @path beneath the root, creating missing
 * components; *ret_base points into @path. */
static int open_parent(int rfd, const char *path, bool create, char ***created, size_t *n_created, int *ret_fd,
                       const char **ret_base) {
        char dir[PATH_MAX];
        const char *slash = strrchr(path, '/');
        int fd;

        if (!slash || !slash[1] || (size_t) (slash - path) >= sizeof(dir))
                return -EINVAL;
        memcpy(dir, path, (size_t) (slash - path));
        dir[slash - path] = 0;
        if (!dir[0])
                strcpy(dir, "/");
        fd = open_beneath(rfd, dir, O_RDONLY | O_DIRECTORY, 0);
        if (fd == -ENOENT && create) {
                /* create each missing component, top-down */
                for (char *p = dir + 1;; p++)
                        if (*p == '/' || !*p) {
                                char c = *p;
                                *p = 0;
                                if (!hd_root_exists(rfd, dir)) {
                                        const char *pb = NULL;
                                        int pfd, r;
                                        r = open_parent(rfd, dir, false, NULL, NULL, &pfd, &pb);
                                        if (r < 0)
                                                return r;
                                        r = mkdirat(pfd, pb, 0755) < 0 ? negative_errno() : 0;
                                        close(pfd);
                                        if (r < 0)
                                                return r;
                                        if (created && (r = hd_strv_push(created, n_created, strdup(dir))) < 0)
                                                return r;
                                }
                                if (!c)
                                        break;
                                *p = c;
                        }
                fd = open_beneath(rfd, dir, O_RDONLY | O_DIRECTORY, 0);
        }
        if (fd < 0)
                return fd;
        *ret_fd = fd;
        *ret_base = slash + 1;
        return 0;
}

int hd_root_write_atomic(int rfd, const char *path, const char *data, unsigned mode, char ***created,
                         size_t *n_created) {
        _cleanup_close_ int dfd = -1, fd = -1;
        const char *base;
        char tmp[NAME_MAX + 1];
        size_t len = strlen(data), off = 0;
        int r;

        r = open_parent(rfd, path, true, created, n_created, &dfd, &base);
        if (r < 0)
                return r;
        if (snprintf(tmp, sizeof(tmp), ".%s.hostdev-tmp", base) >= (int) sizeof(tmp))
                return -ENAMETOOLONG;
        (void) unlinkat(dfd, tmp, 0);
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return negative_errno();
        while (off < len) {
                ssize_t n = write(fd, data + off, len - off);
                if (n <= 0) {
                        r = n < 0 ? negative_errno() : -EIO;
                        goto fail;
                }
                off += (size_t) n;
        }
        if (fchmod(fd, mode & 07777) < 0 || fsync(fd) < 0) {
                r = negative_errno();
                goto fail;
        }
        if (renameat(dfd, tmp, dfd, base) < 0) {
                r = negative_errno();
                goto fail;
        }
        (void) fsync(dfd);
        return 0;
fail:
        (void) unlinkat(dfd, tmp, 0);
        return r;
}

int hd_root_unlink(int rfd, const char *path) {
        _cleanup_close_ int dfd = -1;
        const char *base;
        int r = open_parent(rfd, path, false, NULL, NULL, &dfd, &base);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        if (unlinkat(dfd, base, 0) < 0 && errno != ENOENT)
                return negative_errno();
        return 0;
}

int hd_root_rmdir(int rfd, const char *path) {
        _cleanup_close_ int dfd = -1;
        const char *base;
        int r = open_parent(rfd, path, false, NULL, NULL, &dfd, &base);
        if (r < 0)
                return r;
        if (unlinkat(dfd, base, AT_REMOVEDIR) < 0)
                return negative_errno();
        return 0;
}

/* ---- unified diff -------------------------------------------------------- */

static size_t split_lines(const char *s, const char ***ret, size_t **ret_len) {
        size_t n = 0, cap = 0;
        const char **v = NULL;
        size_t *l = NULL;

        for (const char *p = s; p && *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t) (nl - p + 1) : strlen(p);
                if (n == cap) {
                        cap = cap ? cap * 2 : 16;
                        v = realloc(v, cap * sizeof(*v));
                        l = realloc(l, cap * sizeof(*l));
                        if (!v || !l)
                                abort();
                }
                v[n] = p;
                l[n++] = len;
                p += len;
        }
        *ret = v;
        *ret_len = l;
        return n;
}

static void put_line(struct hd_buf *b, char tag, const char *line, size_t len) {
        hd_buf_putc(b, tag);
        hd_buf_add(b, line, len);
        if (!len || line[len - 1] != '\n')
                hd_buf_puts(b, "\n\\ No newline at end of file\n");
}

void hd_diff_unified(struct hd_buf *b, const char *path, const char *before, const char *after) {
        const char **A = NULL, **B = NULL;
        size_t *la = NULL, *lb = NULL;
        size_t na = split_lines(before, &A, &la), nb = split_lines(after, &B, &lb);
        unsigned *dp;
        /* edit script: 0 same, 1 delete (A), 2 insert (B) */
        struct op { char kind; size_t a, b; } *ops;
        size_t nops = 0, i = 0, j = 0;

        dp = calloc((na + 1) * (nb + 1), sizeof(*dp));
        ops = calloc(na + nb + 1, sizeof(*ops));
        if (!dp || !ops) {
                b->err = -ENOMEM;
                goto out;
        }
#define DP(x, y) dp[(x) * (nb + 1) + (y)]
        for (size_t x = na; x-- > 0;)
                for (size_t y = nb; y-- > 0;)
                        DP(x, y) = (la[x] == lb[y] && memcmp(A[x], B[y], la[x]) == 0)
                                           ? DP(x + 1, y + 1) + 1
                                           : (DP(x + 1, y) >= DP(x, y + 1) ? DP(x + 1, y) : DP(x, y + 1));
        while (i < na || j < nb) {
                if (i < na && j < nb && la[i] == lb[j] && memcmp(A[i], B[j], la[i]) == 0)
                        ops[nops++] = (struct op) { 0, i++, j++ };
                else if (i < na && (j == nb || DP(i + 1, j) >= DP(i, j + 1)))
                        ops[nops++] = (struct op) { 1, i++, j };
                else
                        ops[nops++] = (struct op) { 2, i, j++ };
        }
#undef DP
        hd_buf_printf(b, "--- %s%s\n", before ? "a" : "", before ? path : "/dev/null");
        hd_buf_printf(b, "+++ %s%s\n", after ? "b" : "", after ? path : "/dev/null");
        for (size_t k = 0; k < nops;) {
                size_t start, end, a0, b0, ca = 0, cb = 0;
                if (ops[k].kind == 0) {
                        k++;
                        continue;
                }
                start = k >= 3 ? k - 3 : 0;
                while (start < k && ops[start].kind != 0)
                        start++;
                /* extend while changes are within 6 lines of each other */
                end = k;
                for (size_t q = k; q < nops; q++) {
                        if (ops[q].kind != 0)
                                end = q;
                        else if (q - end > 6)
                                break;
                }
                end = end + 3 < nops ? end + 3 : nops - 1;
                for (size_t q = start; q <= end; q++) {
                        if (ops[q].kind != 2)
                                ca++;
                        if (ops[q].kind != 1)
                                cb++;
                }
                a0 = ca ? ops[start].a + 1 : ops[start].a;
                b0 = cb ? ops[start].b + 1 : ops[start].b;
                hd_buf_printf(b, "@@ -%zu", a0);
                if (ca != 1)
                        hd_buf_printf(b, ",%zu", ca);
                hd_buf_printf(b, " +%zu", b0);
                if (cb != 1)
                        hd_buf_printf(b, ",%zu", cb);
                hd_buf_puts(b, " @@\n");
                for (size_t q = start; q <= end; q++) {
                        if (ops[q].kind == 0)
                                put_line(b, ' ', A[ops[q].a], la[ops[q].a]);
                        else if (ops[q].kind == 1)
                                put_line(b, '-', A[ops[q].a], la[ops[q].a]);
                        else
                                put_line(b, '+', B[ops[q].b], lb[ops[q].b]);
                }
                k = end + 1;
        }
out:
        free(dp);
        free(ops);
        free(A);
        free(B);
        free(la);
        free(lb);
}
