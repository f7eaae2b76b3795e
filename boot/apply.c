/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Carry out a boot plan with a journal (STATE/boot/journal.json) and a
 * backup of every file before it changes; undo from that journal; compare
 * what is configured with what is live.
 */
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "boot/boot-internal.h"

static void json_putp(json_object **o) { if (*o) json_object_put(*o); }
#define _cleanup_json_ _cleanup_(json_putp)

/* The journal lives beneath the root it describes (ROOT/var/lib/hostdev/boot)
 * or in the context's state dir for this host. */
struct state {
        int fd;                 /* directory the paths below are resolved in */
        char prefix[64];        /* "/var/lib/hostdev/boot" or "" */
};

static int state_open(hd_ctx *ctx, int rfd, const char *root, bool create, struct state *st) {
        _cleanup_free_ char *dir = NULL;
        int r;

        if (root) {
                st->fd = fcntl(rfd, F_DUPFD_CLOEXEC, 3);
                if (st->fd < 0)
                        return negative_errno();
                snprintf(st->prefix, sizeof(st->prefix), "/var/lib/hostdev/boot");
                return 0;
        }
        if ((r = hd_boot_state_dir(ctx, NULL, &dir)) < 0)
                return r;
        if (create && (r = hd_mkdir_p_at(AT_FDCWD, dir, 0755)) < 0)
                return r;
        st->fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (st->fd < 0)
                return negative_errno();
        st->prefix[0] = 0;
        return 0;
}

static void state_close(struct state *st) {
        if (st->fd >= 0)
                close(st->fd);
        st->fd = -1;
}

static void spath(const struct state *st, char *buf, size_t size, const char *name) {
        snprintf(buf, size, "%s/%s", st->prefix, name);
}

static int journal_load(const struct state *st, const char *name, json_object **ret) {
        _cleanup_free_ char *text = NULL;
        char path[PATH_MAX];
        json_object *o;
        int r;

        spath(st, path, sizeof(path), name);
        r = hd_root_read(st->fd, path, &text, NULL);
        if (r < 0)
                return r;
        o = json_tokener_parse(text);
        if (!o || !json_object_is_type(o, json_type_object)) {
                if (o)
                        json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

static int journal_save(const struct state *st, const char *name, json_object *j) {
        char path[PATH_MAX];
        spath(st, path, sizeof(path), name);
        return hd_root_write_atomic(st->fd, path, json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY), 0644,
                                    NULL, NULL);
}

static json_object *jarr(json_object *o, const char *key) {
        json_object *a = NULL;
        if (!json_object_object_get_ex(o, key, &a) || !json_object_is_type(a, json_type_array)) {
                a = json_object_new_array();
                json_object_object_add(o, key, a);
        }
        return a;
}

static const char *jstr(json_object *o, const char *key) {
        json_object *v = NULL;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static json_object *find_file(json_object *files, const char *path) {
        for (size_t i = 0; i < json_object_array_length(files); i++) {
                json_object *e = json_object_array_get_idx(files, i);
                if (streq_ptr(jstr(e, "path"), path))
                        return e;
        }
        return NULL;
}

static bool arr_has(json_object *a, const char *s) {
        for (size_t i = 0; i < json_object_array_length(a); i++)
                if (streq_ptr(json_object_get_string(json_object_array_get_idx(a, i)), s))
                        return true;
        return false;
}

static void run_commands(const char *root, json_object *cmds, char *const *v, size_t n, unsigned flags,
                         hd_boot_command_fn cb, void *userdata) {
        size_t count = cmds ? json_object_array_length(cmds) : n;
        for (size_t i = 0; i < count; i++) {
                const char *cmd = cmds ? json_object_get_string(json_object_array_get_idx(cmds, i)) : v[i];
                int status = -1;
                if (!cmd)
                        continue;
                if (!(flags & (HD_BOOT_NO_REGENERATE | HD_BOOT_DRY_RUN))) {
                        pid_t pid = fork();
                        if (pid == 0) {
                                if (root && (chroot(root) < 0 || chdir("/") < 0))
                                        _exit(126);
                                execl("/bin/sh", "sh", "-c", cmd, (char *) NULL);
                                _exit(127);
                        }
                        if (pid > 0 && waitpid(pid, &status, 0) == pid)
                                status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                        else
                                status = 127;
                }
                if (cb)
                        cb(userdata, cmd, status);
        }
}

static int restore_one(int rfd, const char *path, const char *before, unsigned mode) {
        if (before)
                return hd_root_write_atomic(rfd, path, before, mode, NULL, NULL);
        return hd_root_unlink(rfd, path);
}

_public_ int hd_boot_apply(hd_ctx *ctx, const hd_boot_plan *p, unsigned flags, hd_boot_command_fn cb,
                           void *userdata) {
        _cleanup_json_ json_object *j = NULL;
        _cleanup_strv_free_ char **dirs = NULL, **written = NULL;
        _cleanup_close_ int rfd = -1, lock = -1;
        struct state st = { .fd = -1 };
        size_t n_dirs = 0, n_written = 0, done = 0;
        json_object *files;
        const char *bad = NULL; /* a file that could not be put back */
        bool fresh = false;
        int r;

        if (!ctx || !p)
                return -EINVAL;
        hd_error_clear(ctx);
        if (flags & HD_BOOT_DRY_RUN)
                return (int) p->n_files;
        if (p->n_files == 0)
                return 0;
        if ((r = hd_boot_root_open(ctx, p->root, &rfd)) < 0)
                return r;
        /* serialized with the other writes of this state directory (not
         * the regeneration commands: minutes, with nothing of it to keep) */
        if ((r = hd_boot_lock(ctx, p->root, &lock)) < 0)
                return r;
        if ((r = state_open(ctx, rfd, p->root, true, &st)) < 0)
                return hd_error(ctx, r, "cannot create the state directory: %s; nothing was changed", strerror(-r));
        r = journal_load(&st, "journal.json", &j);
        if (r == -ENOENT) {
                fresh = true;
                j = json_object_new_object();
                json_object_object_add(j, "version", json_object_new_int(1));
                json_object_object_add(j, "root", p->root ? json_object_new_string(p->root) : NULL);
        } else if (r < 0) {
                hd_error(ctx, r, "the boot journal is unreadable: %s; nothing was changed", strerror(-r));
                goto out;
        }
        json_object_object_add(j, "driver", json_object_new_string(p->driver));
        {
                json_object *devs = json_object_new_array(), *kargs = json_object_new_array(),
                            *cmds = json_object_new_array();
                for (size_t i = 0; i < p->n_devices; i++) {
                        json_object *d = json_object_new_object();
                        json_object_object_add(d, "address", json_object_new_string(p->devices[i].addr));
                        json_object_object_add(d, "ids", json_object_new_string(p->devices[i].ids));
                        json_object_array_add(devs, d);
                }
                for (size_t i = 0; i < p->n_kargs; i++)
                        json_object_array_add(kargs, json_object_new_string(p->kargs[i]));
                for (size_t i = 0; i < p->n_commands; i++)
                        json_object_array_add(cmds, json_object_new_string(p->commands[i]));
                json_object_object_add(j, "devices", devs);
                json_object_object_add(j, "kargs", kargs);
                json_object_object_add(j, "commands", cmds);
        }
        files = jarr(j, "files");
        (void) jarr(j, "dirs");

        /* 1. backups of the original bytes and the journal, before any change */
        for (size_t i = 0; i < p->n_files; i++) {
                const hd_boot_file *f = &p->files[i];
                json_object *e = find_file(files, f->path);
                char name[64], path[PATH_MAX];
                if (!e) {
                        size_t idx = json_object_array_length(files);
                        e = json_object_new_object();
                        json_object_object_add(e, "path", json_object_new_string(f->path));
                        json_object_object_add(e, "existed", json_object_new_boolean(f->before != NULL));
                        json_object_object_add(e, "mode", json_object_new_int((int) f->mode));
                        if (f->before) {
                                snprintf(name, sizeof(name), "files/%zu.orig", idx);
                                spath(&st, path, sizeof(path), name);
                                if ((r = hd_root_write_atomic(st.fd, path, f->before, 0600, NULL, NULL)) < 0 ||
                                    (r = hd_strv_push(&written, &n_written, strdup(path))) < 0) {
                                        json_object_put(e);
                                        hd_error(ctx, r, "cannot save a backup of %s: %s; nothing was changed", f->path,
                                                 strerror(-r));
                                        goto undo_backups;
                                }
                                json_object_object_add(e, "backup", json_object_new_string(name));
                        }
                        json_object_object_add(e, "index", json_object_new_int((int) idx));
                        json_object_array_add(files, e);
                }
                {
                        json_object *ix = NULL;
                        json_object_object_get_ex(e, "index", &ix);
                        snprintf(name, sizeof(name), "files/%d.new", json_object_get_int(ix));
                        spath(&st, path, sizeof(path), name);
                        if (f->after) {
                                if ((r = hd_root_write_atomic(st.fd, path, f->after, 0600, NULL, NULL)) < 0 ||
                                    (r = hd_strv_push(&written, &n_written, strdup(path))) < 0) {
                                        hd_error(ctx, r, "cannot record %s: %s; nothing was changed", f->path,
                                                 strerror(-r));
                                        goto undo_backups;
                                }
                                json_object_object_add(e, "applied", json_object_new_string(name));
                        } else
                                json_object_object_add(e, "applied", NULL);
                }
        }
        if ((r = journal_save(&st, "journal.json", j)) < 0) {
                hd_error(ctx, r, "cannot write the boot journal: %s; nothing was changed", strerror(-r));
                goto undo_backups;
        }

        /* 2. the files themselves */
        for (done = 0; done < p->n_files; done++) {
                const hd_boot_file *f = &p->files[done];
                r = f->after ? hd_root_write_atomic(rfd, f->path, f->after, f->mode, &dirs, &n_dirs)
                             : hd_root_unlink(rfd, f->path);
                if (r < 0)
                        goto rollback;
        }
        {
                json_object *jd = jarr(j, "dirs");
                for (size_t i = 0; i < n_dirs; i++)
                        if (!arr_has(jd, dirs[i]))
                                json_object_array_add(jd, json_object_new_string(dirs[i]));
                if (n_dirs && (r = journal_save(&st, "journal.json", j)) < 0)
                        log_warn(ctx, "cannot record the directories created: %s", strerror(-r));
        }
        state_close(&st);
        close(lock);
        lock = -1;
        run_commands(p->root, NULL, p->commands, p->n_commands, flags, cb, userdata);
        return (int) p->n_files;

rollback:
        {
                int k = 0;
                for (size_t i = done; i-- > 0;) {
                        int q = restore_one(rfd, p->files[i].path, p->files[i].before, p->files[i].mode);
                        if (q < 0) {
                                log_err(ctx, "cannot put back %s: %s (its backup is in the boot journal)",
                                        p->files[i].path, strerror(-q));
                                bad = p->files[i].path;
                                k = q;
                        }
                }
                if (bad)
                        hd_error(ctx, r, "cannot write %s%s: %s; putting back what was changed failed for %s: %s "
                                 "(its backup is in the boot journal)", strempty(p->root), p->files[done].path,
                                 strerror(-r), bad, strerror(-k));
                else
                        hd_error(ctx, r, "cannot write %s%s: %s; after putting back what was changed, nothing was "
                                 "changed", strempty(p->root), p->files[done].path, strerror(-r));
        }
        for (size_t i = n_dirs; i-- > 0;)
                (void) hd_root_rmdir(rfd, dirs[i]);
        if (!fresh || bad) {
                /* the journal of the earlier apply stays valid: the new entries
                 * describe files that are back to their original bytes; and
                 * a file that could not be put back needs its backup */
                goto out;
        }
        {
                char path[PATH_MAX];
                spath(&st, path, sizeof(path), "journal.json");
                (void) hd_root_unlink(st.fd, path);
        }
undo_backups:
        if (fresh)
                for (size_t i = 0; i < n_written; i++)
                        (void) hd_root_unlink(st.fd, written[i]);
out:
        state_close(&st);
        return r;
}

_public_ int hd_boot_undo(hd_ctx *ctx, const char *root, unsigned flags, hd_boot_command_fn cb, void *userdata) {
        _cleanup_json_ json_object *j = NULL;
        _cleanup_close_ int rfd = -1, lock = -1;
        struct state st = { .fd = -1 };
        json_object *files, *dirs, *cmds = NULL, *rec;
        size_t n;
        int r, failed = 0;

        if (!ctx)
                return -EINVAL;
        hd_error_clear(ctx);
        if ((r = hd_boot_root_open(ctx, root, &rfd)) < 0)
                return r;
        if ((r = state_open(ctx, rfd, root, false, &st)) < 0)
                return r == -ENOENT ? 0 : hd_error(ctx, r, "cannot open the state directory: %s", strerror(-r));
        r = journal_load(&st, "journal.json", &j);
        if (r >= 0 && !(flags & HD_BOOT_DRY_RUN)) {
                /* a journal to undo: serialized with the other writes of
                 * this state directory, and read again under the lock
                 * (another undo may have finished meanwhile) */
                json_object_put(j);
                j = NULL;
                if ((r = hd_boot_lock(ctx, root, &lock)) < 0) {
                        state_close(&st);
                        return r;
                }
                r = journal_load(&st, "journal.json", &j);
        }
        if (r < 0) {
                state_close(&st);
                return r == -ENOENT ? 0 : hd_error(ctx, r, "the boot journal is unreadable: %s", strerror(-r));
        }
        files = jarr(j, "files");
        dirs = jarr(j, "dirs");
        json_object_object_get_ex(j, "commands", &cmds);
        n = json_object_array_length(files);
        if (flags & HD_BOOT_DRY_RUN) {
                state_close(&st);
                run_commands(root, cmds, NULL, 0, flags, cb, userdata);
                return (int) n;
        }
        for (size_t i = n; i-- > 0;) {
                json_object *e = json_object_array_get_idx(files, i), *m = NULL, *ex = NULL;
                const char *path = jstr(e, "path"), *backup = jstr(e, "backup");
                _cleanup_free_ char *data = NULL;
                char bpath[PATH_MAX];
                if (!path)
                        continue;
                json_object_object_get_ex(e, "mode", &m);
                json_object_object_get_ex(e, "existed", &ex);
                if (json_object_get_boolean(ex)) {
                        if (!backup) {
                                if (!failed)
                                        hd_error(ctx, -EBADMSG, "the boot journal names no backup of %s", path);
                                failed = -EBADMSG;
                                continue;
                        }
                        spath(&st, bpath, sizeof(bpath), backup);
                        r = hd_root_read(st.fd, bpath, &data, NULL);
                        if (r >= 0)
                                r = hd_root_write_atomic(rfd, path, data, (unsigned) json_object_get_int(m), NULL, NULL);
                } else
                        r = hd_root_unlink(rfd, path);
                if (r < 0) {
                        /* the first failure is the error, the others are logged */
                        if (failed)
                                log_err(ctx, "cannot restore %s: %s", path, strerror(-r));
                        else
                                hd_error(ctx, r, "cannot restore %s: %s", path, strerror(-r));
                        failed = r;
                }
        }
        for (size_t i = json_object_array_length(dirs); i-- > 0;)
                (void) hd_root_rmdir(rfd, json_object_get_string(json_object_array_get_idx(dirs, i)));
        if (failed < 0) {
                state_close(&st);
                return failed; /* the journal stays: undo can be run again */
        }
        /* what was configured, for "active, no longer configured" */
        rec = json_object_new_object();
        json_object_object_add(rec, "driver", json_object_get(json_object_object_get(j, "driver")));
        json_object_object_add(rec, "devices", json_object_get(json_object_object_get(j, "devices")));
        json_object_object_add(rec, "kargs", json_object_get(json_object_object_get(j, "kargs")));
        (void) journal_save(&st, "undone.json", rec);
        json_object_put(rec);
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(files, i);
                const char *names[2] = { jstr(e, "backup"), jstr(e, "applied") };
                for (size_t k = 0; k < 2; k++)
                        if (names[k]) {
                                char bpath[PATH_MAX];
                                spath(&st, bpath, sizeof(bpath), names[k]);
                                (void) hd_root_unlink(st.fd, bpath);
                        }
        }
        {
                char path[PATH_MAX];
                spath(&st, path, sizeof(path), "journal.json");
                (void) hd_root_unlink(st.fd, path);
                spath(&st, path, sizeof(path), "files");
                (void) hd_root_rmdir(st.fd, path);
        }
        state_close(&st);
        /* the regeneration commands last, unlocked (minutes): the journal
         * is gone, the files are back */
        close(lock);
        lock = -1;
        run_commands(root, cmds, NULL, 0, flags, cb, userdata);
        return (int) n;
}

/* ---- status ---------------------------------------------------------------- */

_public_ void hd_boot_status_free(hd_boot_status *s) {
        if (!s)
                return;
        hd_strv_free(s->drift);
        hd_strv_free(s->kargs);
        hd_strv_free(s->softdeps);
        for (size_t i = 0; i < s->n_devices; i++) {
                free(s->devices[i].addr);
                free(s->devices[i].want);
                free(s->devices[i].now);
        }
        free(s->devices);
        free(s);
}

static void status_freep(hd_boot_status **s) { hd_boot_status_free(*s); }

_public_ int hd_boot_get_status(hd_nodedev_list *list, const char *root, hd_boot_status **ret) {
        _cleanup_(status_freep) hd_boot_status *s = NULL;
        _cleanup_json_ json_object *j = NULL;
        _cleanup_free_ char *cmdline = NULL, *modprobe = NULL;
        _cleanup_close_ int rfd = -1;
        struct state st = { .fd = -1 };
        json_object *devs = NULL, *kargs = NULL, *drv = NULL;
        bool was = false, all_bound = true, any_bound = false;
        int r;

        if (!list || !ret)
                return -EINVAL;
        hd_error_clear(hd_nodedev_list_get_ctx(list));
        if ((r = hd_boot_root_open(hd_nodedev_list_get_ctx(list), root, &rfd)) < 0)
                return r;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        if (state_open(hd_nodedev_list_get_ctx(list), rfd, root, false, &st) >= 0) {
                r = journal_load(&st, "journal.json", &j);
                if (r >= 0)
                        s->configured = true;
                else if (journal_load(&st, "undone.json", &j) >= 0)
                        was = true;
        }
        if (j) {
                json_object_object_get_ex(j, "devices", &devs);
                json_object_object_get_ex(j, "kargs", &kargs);
                json_object_object_get_ex(j, "driver", &drv);
        }
        if (s->configured) {
                json_object *files = jarr(j, "files");
                for (size_t i = 0; i < json_object_array_length(files); i++) {
                        json_object *e = json_object_array_get_idx(files, i);
                        const char *path = jstr(e, "path"), *applied = jstr(e, "applied");
                        _cleanup_free_ char *want = NULL, *have = NULL;
                        char ap[PATH_MAX];
                        bool same;
                        if (!path)
                                continue;
                        if (applied) {
                                spath(&st, ap, sizeof(ap), applied);
                                if (hd_root_read(st.fd, ap, &want, NULL) < 0)
                                        continue;
                        }
                        r = hd_root_read(rfd, path, &have, NULL);
                        same = applied ? (r >= 0 && streq(want, have)) : r == -ENOENT;
                        if (!same && (r = hd_strv_push(&s->drift, &s->n_drift,
                                                       hd_strdup(path))) < 0)
                                return r;
                }
        }
        state_close(&st);

        (void) hd_sysfs_read_full(hd_nodedev_list_get_ctx(list), "proc/cmdline", &cmdline, NULL);
        s->kargs_live = true;
        for (size_t i = 0; kargs && i < json_object_array_length(kargs); i++) {
                const char *k = json_object_get_string(json_object_array_get_idx(kargs, i));
                bool live = false;
                if ((r = hd_strv_push(&s->kargs, &s->n_kargs, hd_strdup(k))) < 0)
                        return r;
                for (const char *p = cmdline; p && (p = strstr(p, k)); p++)
                        if ((p == cmdline || p[-1] == ' ') && (!p[strlen(k)] || p[strlen(k)] == ' ' || p[strlen(k)] == '\n'))
                                live = true;
                s->kargs_live = s->kargs_live && live;
        }
        if (devs && json_object_is_type(devs, json_type_array)) {
                size_t n = json_object_array_length(devs);
                s->devices = calloc(n + 1, sizeof(*s->devices));
                if (!s->devices)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++) {
                        hd_boot_status_device *sd = &s->devices[s->n_devices++];
                        const char *addr = jstr(json_object_array_get_idx(devs, i), "address");
                        const char *want = drv ? json_object_get_string(drv) : "vfio-pci";
                        const char *now = NULL;
                        hd_device *d = NULL;
                        if (addr && hd_nodedev_list_lookup(list, addr, &d) >= 0)
                                now = hd_device_get_driver(d);
                        if (!(sd->addr = strdup(strempty(addr))) || !(sd->want = strdup(strempty(want))) ||
                            (now && !(sd->now = strdup(now))))
                                return -ENOMEM;
                        all_bound = all_bound && streq_ptr(sd->now, sd->want);
                        any_bound = any_bound || streq_ptr(sd->now, sd->want);
                }
        }
        if (hd_root_read(rfd, HD_BOOT_MODPROBE, &modprobe, NULL) >= 0)
                for (const char *p = modprobe; *p;) {
                        const char *nl = strchrnul(p, '\n');
                        if (startswith(p, "softdep ") &&
                            (r = hd_strv_push(&s->softdeps, &s->n_softdeps, strndup(p, (size_t) (nl - p)))) < 0)
                                return r;
                        p = *nl ? nl + 1 : nl;
                }
        s->active = s->n_devices > 0 && all_bound && s->kargs_live;
        if (s->configured && s->n_drift)
                s->state = "drift";
        else if (s->configured)
                s->state = s->active ? "active" : "configured, active after reboot";
        else if (was && (any_bound || (s->n_kargs && s->kargs_live)))
                s->state = "active, no longer configured";
        else
                s->state = "not configured";
        if (!s->configured && !was) {
                /* nothing recorded: report no devices */
                s->n_devices = 0;
        }
        *ret = TAKE_PTR(s);
        return 0;
}
