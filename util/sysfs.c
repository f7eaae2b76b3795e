/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one place where libhostdev touches kernel files.  Every path is
 * resolved beneath the context's root directory (the live "/" or a
 * captured sysroot) with openat2(RESOLVE_IN_ROOT), so absolute or ".."
 * symlinks inside a captured tree cannot escape it.
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "internal.h"

#define READ_MAX (1024 * 1024)

/* 1 yes, 0 no (ENOSYS, or EPERM from a seccomp filter).  The tests run
 * the fallback under a seccomp filter that fails openat2 with ENOSYS
 * (tests/no-openat2.c). */
static int have_openat2 = 1;

#define MAX_LINKS 40

static int check_rel(const char *path, const char **ret) {
        const char *p;

        if (!path)
                return -EINVAL;
        while (*path == '/')
                path++;
        if (!*path)
                path = ".";
        /* Refuse ".." components: callers build paths from trusted parts. */
        for (p = path; *p;) {
                const char *e = strchrnul(p, '/');
                if (e - p == 2 && p[0] == '.' && p[1] == '.')
                        return -EINVAL;
                p = *e ? e + 1 : e;
        }
        *ret = path;
        return 0;
}

/* Resolve @rel below @root_fd by hand, as RESOLVE_IN_ROOT does: every
 * component is opened O_NOFOLLOW from the directory before it; a symbolic
 * link is read and its target spliced into the rest of the path, an
 * absolute target starting again at the root; ".." never climbs above the
 * root.  Used when openat2() is unavailable: a plain openat() would follow
 * an absolute link out of a sysroot. */
static int open_in_root_by_hand(int root_fd, const char *rel, int flags) {
        _cleanup_free_ char *todo = strdup(rel), *done = strdup("");
        unsigned links = 0;
        size_t pos = 0;

        if (!todo || !done) {
                errno = ENOMEM;
                return -1;
        }
        for (;;) {
                _cleanup_close_ int fd = -1;
                _cleanup_free_ char *next = NULL;
                const char *comp, *end;
                size_t clen;
                bool last;
                struct stat st;

                while (todo[pos] == '/')
                        pos++;
                if (!todo[pos])
                        return openat(root_fd, *done ? done : ".", flags | O_CLOEXEC | O_NOFOLLOW);
                comp = todo + pos;
                end = strchrnul(comp, '/');
                clen = (size_t) (end - comp);
                pos += clen;
                while (todo[pos] == '/')
                        pos++;
                last = !todo[pos];
                if (clen == 1 && comp[0] == '.')
                        continue;
                if (clen == 2 && comp[0] == '.' && comp[1] == '.') {
                        char *slash = strrchr(done, '/');
                        if (slash)
                                *slash = 0;
                        else
                                done[0] = 0; /* at the root: stays there */
                        continue;
                }
                if (hd_asprintf(&next, "%s%s%.*s", done, *done ? "/" : "", (int) clen, comp) < 0) {
                        errno = ENOMEM;
                        return -1;
                }
                /* every component before it is a plain directory: no link is followed here */
                fd = openat(root_fd, next, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        if (last && (flags & O_CREAT))
                                return openat(root_fd, next, flags | O_CLOEXEC | O_NOFOLLOW, 0600);
                        return -1;
                }
                if (fstat(fd, &st) < 0)
                        return -1;
                if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        _cleanup_free_ char *rest = NULL;
                        ssize_t n;

                        if (++links > MAX_LINKS || (last && (flags & O_NOFOLLOW))) {
                                errno = ELOOP;
                                return -1;
                        }
                        n = readlinkat(fd, "", target, sizeof(target) - 1);
                        if (n < 0)
                                return -1;
                        target[n] = 0;
                        if (hd_asprintf(&rest, "%s/%s", target, todo + pos) < 0) {
                                errno = ENOMEM;
                                return -1;
                        }
                        if (target[0] == '/')
                                done[0] = 0;
                        free(todo);
                        todo = TAKE_PTR(rest);
                        pos = 0;
                        continue;
                }
                if (!last && !S_ISDIR(st.st_mode)) {
                        errno = ENOTDIR;
                        return -1;
                }
                free(done);
                done = TAKE_PTR(next);
        }
}

/* A scoped lookup is refused with EAGAIN when a rename or a mount anywhere
 * on the system raced its ".." steps (fs/namei.c); under a busy system
 * (a package manager, a test suite writing files atomically) that is
 * common for sysfs's relative links: tried again, up to this many times. */
#define OPENAT2_TRIES 64

int hd_openat2(int dfd, const char *path, int flags, mode_t mode, uint64_t resolve) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC),
                .mode = (flags & O_CREAT) ? mode : 0,
                .resolve = resolve,
        };
        int fd = -1;

        for (unsigned i = 0; i < OPENAT2_TRIES; i++) {
                fd = (int) syscall(SYS_openat2, dfd, path, &how, sizeof(how));
                if (fd >= 0 || errno != EAGAIN)
                        break;
        }
        return fd;
}

static int open_in_root(hd_ctx *ctx, const char *rel, int flags) {
        int fd;

        if (have_openat2) {
                fd = hd_openat2(ctx->root_fd, rel, flags, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
                if (fd >= 0 || (errno != ENOSYS && errno != EPERM && errno != EAGAIN))
                        return fd;
                /* EAGAIN all those times: resolved by hand, as safely */
                if (errno != EAGAIN)
                        have_openat2 = 0;
        }
        return open_in_root_by_hand(ctx->root_fd, rel, flags);
}

int hd_sysfs_open(hd_ctx *ctx, const char *path, int flags, int *ret_fd) {
        const char *rel;
        int r, fd;

        r = check_rel(path, &rel);
        if (r < 0)
                return r;
        fd = open_in_root(ctx, rel, flags);
        if (fd < 0)
                return negative_errno();
        *ret_fd = fd;
        return 0;
}

static int read_fd(int fd, size_t max, char **ret, size_t *ret_len) {
        size_t cap = 4096, len = 0;
        _cleanup_free_ char *buf = malloc(cap);

        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n;
                if (len + 1 >= cap) {
                        char *nb;
                        if (cap >= max)
                                return -EFBIG;
                        cap *= 2;
                        nb = realloc(buf, cap);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                }
                n = read(fd, buf + len, cap - len - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        buf[len] = 0;
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

int hd_sysfs_read_full_max(hd_ctx *ctx, const char *path, size_t max, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = -1;
        int r;

        r = hd_sysfs_open(ctx, path, O_RDONLY | O_NOCTTY, &fd);
        if (r < 0)
                return r;
        return read_fd(fd, max, ret, ret_len);
}

int hd_sysfs_read_full(hd_ctx *ctx, const char *path, char **ret, size_t *ret_len) {
        return hd_sysfs_read_full_max(ctx, path, READ_MAX, ret, ret_len);
}

int hd_sysfs_read_bytes(hd_ctx *ctx, const char *path, void *buf, size_t size) {
        _cleanup_close_ int fd = -1;
        size_t got = 0;
        int r;

        r = hd_sysfs_open(ctx, path, O_RDONLY | O_NOCTTY, &fd);
        if (r < 0)
                return r;
        while (got < size) {
                ssize_t n = read(fd, (char *) buf + got, size - got);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                got += (size_t) n;
                /* sysfs attributes and regular files: a short read is the end
                 * (saves the read() that would return 0) */
                if (n == 0 || got < size)
                        break;
        }
        return (int) got;
}

int hd_sysfs_read_str(hd_ctx *ctx, const char *path, char **ret) {
        char *s, *nl;
        int r;

        r = hd_sysfs_read_full(ctx, path, &s, NULL);
        if (r < 0)
                return r;
        nl = strchr(s, '\n');
        if (nl)
                *nl = 0;
        hd_strip(s);
        if (!*s) {
                free(s);
                return -ENODATA;
        }
        *ret = s;
        return 0;
}

static int vpath(char *buf, size_t size, const char *fmt, va_list ap) _printf_(3, 0);
static int vpath(char *buf, size_t size, const char *fmt, va_list ap) {
        int n = vsnprintf(buf, size, fmt, ap);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

int hd_sysfs_read_strf(hd_ctx *ctx, char **ret, const char *fmt, ...) {
        char path[PATH_MAX];
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vpath(path, sizeof(path), fmt, ap);
        va_end(ap);
        return r < 0 ? r : hd_sysfs_read_str(ctx, path, ret);
}

int hd_sysfs_read_long(hd_ctx *ctx, const char *path, int base, long long *ret) {
        _cleanup_free_ char *s = NULL;
        int r;

        r = hd_sysfs_read_str(ctx, path, &s);
        if (r < 0)
                return r;
        return hd_safe_atoll(s, base, ret);
}

int hd_sysfs_read_longf(hd_ctx *ctx, int base, long long *ret, const char *fmt, ...) {
        char path[PATH_MAX];
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vpath(path, sizeof(path), fmt, ap);
        va_end(ap);
        return r < 0 ? r : hd_sysfs_read_long(ctx, path, base, ret);
}

/* Split into an O_PATH fd of the parent directory (resolved in root) and
 * the last component. */
static int open_parent(hd_ctx *ctx, const char *path, int *ret_fd, const char **ret_base) {
        _cleanup_free_ char *dir = NULL;
        const char *rel, *slash;
        int r, fd;

        r = check_rel(path, &rel);
        if (r < 0)
                return r;
        slash = strrchr(rel, '/');
        if (!slash) {
                fd = fcntl(ctx->root_fd, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        return negative_errno();
                *ret_fd = fd;
                *ret_base = rel;
                return 0;
        }
        dir = strndup(rel, (size_t) (slash - rel));
        if (!dir)
                return -ENOMEM;
        fd = open_in_root(ctx, dir, O_PATH | O_DIRECTORY);
        if (fd < 0)
                return negative_errno();
        *ret_fd = fd;
        *ret_base = slash + 1;
        return 0;
}

int hd_sysfs_readlink(hd_ctx *ctx, const char *path, char **ret) {
        _cleanup_close_ int dfd = -1;
        const char *base;
        char buf[PATH_MAX];
        ssize_t n;
        int r;

        if (!ctx->sysroot) {
                /* The live root is "/": resolving in root is plain
                 * resolution, so one readlinkat() does (the walker and
                 * every lookup read several links per device). */
                r = check_rel(path, &base);
                if (r < 0)
                        return r;
                n = readlinkat(ctx->root_fd, base, buf, sizeof(buf) - 1);
                if (n < 0)
                        return negative_errno();
                buf[n] = 0;
                *ret = strdup(buf);
                return *ret ? 0 : -ENOMEM;
        }
        r = open_parent(ctx, path, &dfd, &base);
        if (r < 0)
                return r;
        n = readlinkat(dfd, base, buf, sizeof(buf) - 1);
        if (n < 0)
                return negative_errno();
        buf[n] = 0;
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

int hd_sysfs_resolve_link(hd_ctx *ctx, const char *path, char **ret) {
        _cleanup_free_ char *target = NULL, *abs = NULL;
        int r;

        r = hd_sysfs_readlink(ctx, path, &target);
        if (r < 0)
                return r;
        if (path[0] != '/') {
                r = hd_asprintf(&abs, "/%s", path);
                if (r < 0)
                        return r;
                path = abs;
        }
        return hd_path_join_link(path, target, ret);
}

int hd_sysfs_opendir(hd_ctx *ctx, const char *path, DIR **ret) {
        int fd, r;
        DIR *d;

        r = hd_sysfs_open(ctx, path, O_RDONLY | O_DIRECTORY, &fd);
        if (r < 0)
                return r;
        d = fdopendir(fd);
        if (!d) {
                r = negative_errno();
                close(fd);
                return r;
        }
        *ret = d;
        return 0;
}

bool hd_sysfs_exists(hd_ctx *ctx, const char *path) {
        _cleanup_close_ int fd = -1;
        const char *rel;

        /* live root "/": one faccessat() instead of an open and a close */
        if (!ctx->sysroot)
                return check_rel(path, &rel) >= 0 && faccessat(ctx->root_fd, rel, F_OK, 0) == 0;
        return hd_sysfs_open(ctx, path, O_PATH, &fd) >= 0;
}

bool hd_sysfs_is_dir(hd_ctx *ctx, const char *path) {
        _cleanup_close_ int fd = -1;
        const char *rel;
        struct stat st;

        if (!ctx->sysroot)
                return check_rel(path, &rel) >= 0 && fstatat(ctx->root_fd, rel, &st, 0) == 0 && S_ISDIR(st.st_mode);
        return hd_sysfs_open(ctx, path, O_PATH | O_DIRECTORY, &fd) >= 0;
}

int hd_sysfs_write(hd_ctx *ctx, const char *path, const char *value) {
        _cleanup_close_ int fd = -1;
        size_t len = strlen(value);
        ssize_t n;
        int r;

        if (ctx->kops && ctx->kops->write) {
                const char *rel;
                r = check_rel(path, &rel);
                return r < 0 ? r : ctx->kops->write(ctx, rel, value, ctx->kops_data);
        }

        r = hd_sysfs_open(ctx, path, O_WRONLY | O_NOCTTY, &fd);
        if (r < 0)
                return r;
        n = write(fd, value, len);
        if (n < 0)
                return negative_errno();
        if ((size_t) n != len)
                return -EIO;
        return 0;
}

int hd_sysfs_list_dir(hd_ctx *ctx, const char *path, char ***ret, size_t *ret_n) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_strv_free_ char **v = NULL;
        struct dirent *de;
        size_t n = 0;
        int r;

        r = hd_sysfs_opendir(ctx, path, &d);
        if (r < 0)
                return r;
        v = calloc(1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' &&
                    (de->d_name[1] == 0 || (de->d_name[1] == '.' && de->d_name[2] == 0)))
                        continue;
                r = hd_strv_push(&v, &n, strdup(de->d_name));
                if (r < 0)
                        return r;
        }
        qsort(v, n, sizeof(char *), hd_cmpstringp);
        if (ret_n)
                *ret_n = n;
        *ret = TAKE_PTR(v);
        return 0;
}

/* ---- path helpers ---- */

int hd_path_normalize(const char *path, char **ret) {
        size_t len = strlen(path);
        _cleanup_free_ char *out = malloc(len + 2);
        size_t o = 0;
        const char *p = path;

        if (!out)
                return -ENOMEM;
        while (*p) {
                const char *e;
                size_t l;

                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                e = strchrnul(p, '/');
                l = (size_t) (e - p);
                if (l == 1 && p[0] == '.') {
                        /* skip */
                } else if (l == 2 && p[0] == '.' && p[1] == '.') {
                        if (o == 0)
                                return -EINVAL;
                        while (o > 0 && out[o - 1] != '/')
                                o--;
                        if (o > 0)
                                o--; /* drop the slash */
                } else {
                        out[o++] = '/';
                        memcpy(out + o, p, l);
                        o += l;
                }
                p = e;
        }
        if (o == 0)
                out[o++] = '/';
        out[o] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

int hd_path_join_link(const char *link_path, const char *target, char **ret) {
        _cleanup_free_ char *joined = NULL;
        const char *slash;
        int r;

        if (target[0] == '/')
                return hd_path_normalize(target, ret);
        slash = strrchr(link_path, '/');
        r = hd_asprintf(&joined, "%.*s/%s", slash ? (int) (slash - link_path) : 0, link_path, target);
        if (r < 0)
                return r;
        return hd_path_normalize(joined, ret);
}

const char *hd_path_basename(const char *p) {
        const char *s = strrchr(p, '/');
        return s ? s + 1 : p;
}

int hd_kmod_load(hd_ctx *ctx, const char *module) {
        pid_t pid;
        int status;

        if (ctx->kops && ctx->kops->modprobe)
                return ctx->kops->modprobe(ctx, module, ctx->kops_data);
        if (ctx->sysroot)
                return -EOPNOTSUPP; /* never load modules into this kernel for a captured tree */
        pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0) {
                execl("/sbin/modprobe", "modprobe", "-q", "--", module, (char *) NULL);
                execlp("modprobe", "modprobe", "-q", "--", module, (char *) NULL);
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return negative_errno();
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                log_err(ctx, "modprobe %s failed (status %d): blacklisted or not available", module,
                        WIFEXITED(status) ? WEXITSTATUS(status) : -1);
                return -ENOENT;
        }
        return 0;
}
