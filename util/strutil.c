/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "internal.h"

void hd_strv_free(char **v) {
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

char *hd_strdup(const char *s) {
        return s ? strdup(s) : NULL;
}

int hd_vasprintf(char **ret, const char *fmt, va_list ap) {
        char *s;

        if (vasprintf(&s, fmt, ap) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int hd_asprintf(char **ret, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = hd_vasprintf(ret, fmt, ap);
        va_end(ap);
        return r;
}

void hd_strip(char *s) {
        size_t l = strlen(s);
        while (l > 0 && isspace((unsigned char) s[l - 1]))
                s[--l] = 0;
}

char *hd_strip_both(char *s) {
        while (isspace((unsigned char) *s))
                s++;
        hd_strip(s);
        return s;
}

int hd_strv_push(char ***v, size_t *n, char *s) {
        char **nv;

        if (!s)
                return -ENOMEM;
        nv = realloc(*v, sizeof(char *) * (*n + 2));
        if (!nv) {
                free(s);
                return -ENOMEM;
        }
        nv[(*n)++] = s;
        nv[*n] = NULL;
        *v = nv;
        return 0;
}

int hd_safe_atoll(const char *s, int base, long long *ret) {
        char *end;
        long long v;

        if (isempty(s))
                return -EINVAL;
        errno = 0;
        v = strtoll(s, &end, base);
        if (errno)
                return -errno;
        while (*end && isspace((unsigned char) *end))
                end++;
        if (*end || end == s)
                return -EINVAL;
        *ret = v;
        return 0;
}

int hd_safe_atou(const char *s, int base, unsigned *ret) {
        long long v;
        int r = hd_safe_atoll(s, base, &v);
        if (r < 0)
                return r;
        if (v < 0 || v > UINT_MAX)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

int hd_cmpstringp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* ---- buffer ---- */

static bool buf_grow(struct hd_buf *b, size_t extra) {
        size_t need;
        char *n;

        if (b->err)
                return false;
        need = b->len + extra + 1;
        if (need <= b->cap)
                return true;
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need)
                cap *= 2;
        n = realloc(b->s, cap);
        if (!n) {
                b->err = -ENOMEM;
                return false;
        }
        b->s = n;
        b->cap = cap;
        return true;
}

void hd_buf_add(struct hd_buf *b, const char *s, size_t n) {
        if (!buf_grow(b, n))
                return;
        memcpy(b->s + b->len, s, n);
        b->len += n;
        b->s[b->len] = 0;
}

void hd_buf_puts(struct hd_buf *b, const char *s) {
        hd_buf_add(b, s, strlen(s));
}

void hd_buf_putc(struct hd_buf *b, char c) {
        hd_buf_add(b, &c, 1);
}

void hd_buf_printf(struct hd_buf *b, const char *fmt, ...) {
        va_list ap;
        int n;

        if (b->err)
                return;
        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
                b->err = -EINVAL;
                return;
        }
        if (!buf_grow(b, (size_t) n))
                return;
        va_start(ap, fmt);
        vsnprintf(b->s + b->len, (size_t) n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t) n;
}

int hd_buf_steal(struct hd_buf *b, char **ret) {
        if (b->err) {
                int r = b->err;
                hd_buf_done(b);
                return r;
        }
        if (!b->s) {
                if (!buf_grow(b, 0))
                        return b->err;
                b->s[0] = 0;
        }
        *ret = b->s;
        b->s = NULL;
        b->len = b->cap = 0;
        return 0;
}

void hd_buf_done(struct hd_buf *b) {
        free(b->s);
        b->s = NULL;
        b->len = b->cap = 0;
        b->err = 0;
}

int hd_mkdir_p_at(int dfd, const char *path, mode_t mode) {
        char buf[PATH_MAX];
        size_t l = strlen(path);

        if (l == 0 || l >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, path, l + 1);
        for (char *p = buf + 1;; p++)
                if (*p == '/' || !*p) {
                        char c = *p;
                        *p = 0;
                        if (mkdirat(dfd, buf, mode) < 0 && errno != EEXIST)
                                return negative_errno();
                        if (!c)
                                return 0;
                        *p = c;
                }
}

int hd_write_file_atomic(const char *path, const char *data, mode_t mode) {
        char tmp[PATH_MAX];
        size_t len = strlen(data);
        int fd, r = 0;

        if (snprintf(tmp, sizeof(tmp), "%s.hostdev-tmp", path) >= (int) sizeof(tmp))
                return -ENAMETOOLONG;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return negative_errno();
        if (write(fd, data, len) != (ssize_t) len || fsync(fd) < 0)
                r = errno > 0 ? -errno : -EIO;
        if (close(fd) < 0 && r == 0)
                r = negative_errno();
        /* tests kill the process here (HOSTDEV_TEST_KILL_AT_FILE, tests/fake-kernel.c) */
        if (r == 0 && rename(tmp, path) < 0)
                r = negative_errno();
        if (r < 0)
                unlink(tmp);
        return r;
}

char *hd_utf8_sanitize(char *s) {
        unsigned char *p = (unsigned char *) s;

        if (!s)
                return s;
        while (*p) {
                size_t len;
                uint32_t cp, min;

                if (*p < 0x80) {
                        p++;
                        continue;
                }
                if ((*p & 0xe0) == 0xc0) {
                        len = 2, cp = *p & 0x1f, min = 0x80;
                } else if ((*p & 0xf0) == 0xe0) {
                        len = 3, cp = *p & 0x0f, min = 0x800;
                } else if ((*p & 0xf8) == 0xf0) {
                        len = 4, cp = *p & 0x07, min = 0x10000;
                } else {
                        *p++ = '?';
                        continue;
                }
                size_t i;
                for (i = 1; i < len; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                break;
                        cp = (cp << 6) | (p[i] & 0x3f);
                }
                if (i < len || cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
                        *p++ = '?'; /* the lead byte; what follows is judged on its own */
                        continue;
                }
                p += len;
        }
        return s;
}
