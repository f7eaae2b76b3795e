/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdevd's watch on the mdev definitions (docs/dbus.md): a definition
 * written or removed by another program (`mdevctl define`, `hostdevctl
 * --direct mdev define`, `mdevctl undefine`) sends no uevent, so the
 * directory the library reads definitions from (hd_mdev_config_dir():
 * HOSTDEV_MDEVCTL_DIR, else SYSROOT/etc/mdevctl.d or /etc/mdevctl.d) and
 * each of its per-parent subdirectories are watched with inotify.  A
 * subdirectory that appears is watched at once; one removed loses its
 * watch with it (the kernel's IN_IGNORED); a top directory that does not
 * exist (yet) is waited for on its nearest existing ancestor.  Each event
 * names the parent it concerns: a file in a parent's directory (each
 * watch knows the subdirectory names it was added for: a link names the
 * same directory twice), or a parent's directory that came or went in the
 * top one.  A burst of changes settles for DEFS_SETTLE_USEC, then only
 * the parents touched meanwhile have their defined mdevs read again
 * (tree_update_defined_mdevs(): hd_nodedev_list_update_defined_mdevs,
 * announced as the uevent path announces its changes); the whole tree is
 * enumerated again (rebuild(): its signals follow by comparison) when the
 * top directory itself appeared, went or moved, its ancestor changed,
 * events were lost (IN_Q_OVERFLOW, a read error) or a parent's update
 * fails.  Every rebuild takes the events already queued first
 * (defs_watch_absorb()): they are changes the rebuild reads anyway, so
 * the daemon's own writes (MdevDefine and the rest rebuild after they
 * wrote) cause no second re-read.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostdevd.h"

/* a burst (mdevctl writes a temporary file, renames it; a parent's
 * directory comes first): one re-read after it settles */
#define DEFS_SETTLE_USEC (150 * 1000)
/* and no later than that much after it (sd-event's default accuracy,
 * 250 ms, let the re-read wait up to 400 ms for a wake-up to share) */
#define DEFS_SETTLE_ACCURACY_USEC (5 * 1000)

/* the top directory: its entries (the parents' directories) */
#define MASK_TOP (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
/* a parent's directory: its definitions, once complete */
#define MASK_SUB (IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR)
/* the nearest existing ancestor of a missing top directory */
#define MASK_ANC (IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

/* a parent's directory watched: its watch and the name it has in the top
 * directory (two names, two entries with one watch) */
struct sub_watch {
        int wd;
        char *name;
};

struct defs_watch {
        struct daemon *d;
        int fd;
        sd_event_source *io, *settle;
        char *dir;              /* hd_mdev_config_dir() */
        int top_wd;             /* -1: the directory is missing */
        int anc_wd;             /* then: its nearest existing ancestor's watch */
        char *anc_child;        /* and the name below it that leads to it */
        struct sub_watch *subs; /* the parents' directories watched */
        size_t n_subs;
        /* since the last re-read: the parents whose definitions changed,
         * or (full) a change that only an enumeration reads */
        char **touched;
        size_t n_touched;
        bool full;
};

static struct defs_watch watch_ = { .fd = -1, .top_wd = -1, .anc_wd = -1 };

/* the library's own temporary files (hd_write_file_atomic(): NAME.hostdev-tmp),
 * editors' and mdevctl's hidden ones: their rename is the change */
static bool ignored_name(const char *name) {
        size_t n = strlen(name), t = strlen(".hostdev-tmp");
        return name[0] == '.' || (n > t && strcmp(name + n - t, ".hostdev-tmp") == 0);
}

static void anc_drop(struct defs_watch *w) {
        if (w->anc_wd >= 0)
                (void) inotify_rm_watch(w->fd, w->anc_wd);
        w->anc_wd = -1;
        free(w->anc_child);
        w->anc_child = NULL;
}

static void subs_clear(struct defs_watch *w) {
        for (size_t i = 0; i < w->n_subs; i++)
                free(w->subs[i].name);
        free(w->subs);
        w->subs = NULL;
        w->n_subs = 0;
}

static int sub_add(struct defs_watch *w, int wd, const char *name) {
        struct sub_watch *v;
        char *copy;

        for (size_t i = 0; i < w->n_subs; i++)
                if (w->subs[i].wd == wd && strcmp(w->subs[i].name, name) == 0)
                        return 0;
        v = realloc(w->subs, (w->n_subs + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        w->subs = v;
        copy = strdup(name);
        if (!copy)
                return -ENOMEM;
        w->subs[w->n_subs++] = (struct sub_watch) { .wd = wd, .name = copy };
        return 0;
}

/* the entries of watch @wd (the kernel dropped it), or (@wd < 0) those
 * named @name (gone from the top directory: a watch no other name holds
 * is dropped, a directory moved elsewhere is no parent's any more) */
static void sub_forget(struct defs_watch *w, int wd, const char *name) {
        size_t k = 0;

        for (size_t i = 0; wd < 0 && i < w->n_subs; i++) {
                bool shared = false;
                if (strcmp(w->subs[i].name, name) != 0)
                        continue;
                for (size_t j = 0; j < w->n_subs; j++)
                        shared |= w->subs[j].wd == w->subs[i].wd && strcmp(w->subs[j].name, name) != 0;
                if (!shared)
                        (void) inotify_rm_watch(w->fd, w->subs[i].wd);
        }
        for (size_t i = 0; i < w->n_subs; i++) {
                if (wd >= 0 ? w->subs[i].wd == wd : strcmp(w->subs[i].name, name) == 0)
                        free(w->subs[i].name);
                else
                        w->subs[k++] = w->subs[i];
        }
        w->n_subs = k;
}

static void touched_clear(struct defs_watch *w) {
        for (size_t i = 0; i < w->n_touched; i++)
                free(w->touched[i]);
        free(w->touched);
        w->touched = NULL;
        w->n_touched = 0;
        w->full = false;
}

/* @name's definitions changed: read again after the settle (out of
 * memory: the whole tree) */
static void touch(struct defs_watch *w, const char *name) {
        char **v, *copy;

        if (w->full)
                return;
        for (size_t i = 0; i < w->n_touched; i++)
                if (strcmp(w->touched[i], name) == 0)
                        return;
        v = realloc(w->touched, (w->n_touched + 1) * sizeof(*v));
        if (v)
                w->touched = v;
        copy = v ? strdup(name) : NULL;
        if (!copy) {
                w->full = true;
                return;
        }
        w->touched[w->n_touched++] = copy;
}

/* watch the nearest existing ancestor of the missing top directory;
 * 1: the top directory exists after all (created meanwhile) */
static int watch_ancestor(struct defs_watch *w) {
        char path[PATH_MAX];
        char *slash;

        if (snprintf(path, sizeof(path), "%s", w->dir) >= (int) sizeof(path))
                return -ENAMETOOLONG;
        for (;;) {
                int wd;
                slash = strrchr(path, '/');
                if (!slash)
                        return -ENOENT;         /* a relative HOSTDEV_MDEVCTL_DIR: not waited for */
                if (slash == path) {
                        wd = inotify_add_watch(w->fd, "/", MASK_ANC);
                        if (wd < 0)
                                return -errno;
                } else {
                        *slash = 0;
                        wd = inotify_add_watch(w->fd, path, MASK_ANC);
                        *slash = '/';
                        if (wd < 0 && errno != ENOENT && errno != ENOTDIR)
                                return -errno;
                }
                if (wd >= 0) {
                        char *child = strndup(slash + 1, strcspn(slash + 1, "/"));
                        if (!child)
                                return -ENOMEM;
                        if (w->anc_wd >= 0 && w->anc_wd != wd)
                                (void) inotify_rm_watch(w->fd, w->anc_wd);
                        w->anc_wd = wd;
                        free(w->anc_child);
                        w->anc_child = child;
                        /* created between the top's watch and this one? */
                        return access(w->dir, F_OK) == 0 ? 1 : 0;
                }
                *slash = 0;
        }
}

/* the watches as the directories stand now: the top one and each
 * parent's directory, or the ancestor that waits for the top one */
static int watch_sync(struct defs_watch *w) {
        for (unsigned tries = 0; tries < 8; tries++) {
                DIR *dir;
                struct dirent *de;
                int r;

                w->top_wd = inotify_add_watch(w->fd, w->dir, MASK_TOP);
                if (w->top_wd < 0) {
                        if (errno != ENOENT && errno != ENOTDIR)
                                return -errno;
                        subs_clear(w);
                        r = watch_ancestor(w);
                        if (r <= 0)
                                return r;
                        continue;
                }
                anc_drop(w);
                dir = opendir(w->dir);
                if (!dir)
                        continue;       /* gone again */
                subs_clear(w);
                while ((de = readdir(dir))) {
                        char sub[PATH_MAX];
                        int wd;
                        /* a link to a directory too: the library reads through it */
                        if (de->d_name[0] == '.' ||
                            (de->d_type != DT_DIR && de->d_type != DT_LNK && de->d_type != DT_UNKNOWN))
                                continue;
                        if (snprintf(sub, sizeof(sub), "%s/%s", w->dir, de->d_name) >= (int) sizeof(sub))
                                continue;
                        /* the same directory twice: the same watch */
                        wd = inotify_add_watch(w->fd, sub, MASK_SUB);
                        if (wd < 0 && errno != ENOENT && errno != ENOTDIR)
                                daemon_logf(4, "cannot watch %s: %s", sub, strerror(errno));
                        if (wd >= 0 && sub_add(w, wd, de->d_name) < 0)
                                w->full = true; /* a watch that names no parent */
                }
                closedir(dir);
                return 0;
        }
        return 0;
}

/* the queued events: 1 when one concerns the definitions (the parents
 * they concern touched, or the whole tree due) */
static int take_events(struct defs_watch *w) {
        char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
        bool relevant = false, sync = false, anc = false;
        ssize_t n;

        while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *e = (const struct inotify_event *) p;
                        const char *name = e->len ? e->name : "";
                        p += sizeof(*e) + e->len;
                        if (e->mask & IN_Q_OVERFLOW) {
                                relevant = sync = w->full = true;
                                continue;
                        }
                        if (e->wd == w->anc_wd && w->anc_wd >= 0) {
                                /* the top directory (or a step to it) appeared, or
                                 * the ancestor went: watch again; a change only
                                 * when the top directory now exists (below) */
                                if ((e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) ||
                                    (w->anc_child && strcmp(name, w->anc_child) == 0)) {
                                        if (e->mask & IN_IGNORED)
                                                w->anc_wd = -1;
                                        sync = anc = true;
                                }
                                continue;
                        }
                        if (e->wd == w->top_wd && w->top_wd >= 0) {
                                if (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
                                        if (e->mask & IN_IGNORED)
                                                w->top_wd = -1;
                                        relevant = sync = w->full = true;
                                } else if (!ignored_name(name)) {
                                        /* a parent's directory came (watch it) or went:
                                         * its definitions with it */
                                        if (e->mask & (IN_CREATE | IN_MOVED_TO))
                                                sync = true;
                                        else
                                                sub_forget(w, -1, name);
                                        touch(w, name);
                                        relevant = true;
                                }
                                continue;
                        }
                        /* a parent's directory: a definition written, renamed
                         * into place or removed (its own IN_IGNORED: the top
                         * directory's IN_DELETE tells); a watch no parent's
                         * name holds any more is a directory moved away */
                        if (e->mask & IN_IGNORED) {
                                sub_forget(w, e->wd, NULL);
                                continue;
                        }
                        if (ignored_name(name))
                                continue;
                        for (size_t i = 0; i < w->n_subs; i++)
                                if (w->subs[i].wd == e->wd) {
                                        touch(w, w->subs[i].name);
                                        relevant = true;
                                }
                }
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
                daemon_logf(4, "mdev definitions: cannot read the watch: %s", strerror(errno));
                relevant = sync = w->full = true;
        }
        if (sync) {
                int r = watch_sync(w);
                if (r < 0)
                        daemon_logf(4, "cannot watch the mdev definitions in %s: %s", w->dir, strerror(-r));
        }
        /* While the top directory was missing the tree held none of its
         * definitions: a step towards it (`$ROOT/etc` made for another
         * file) changes nothing until the directory itself is there. */
        if (anc && w->top_wd >= 0)
                relevant = w->full = true;
        return relevant;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int on_settled(sd_event_source *s, uint64_t usec, void *userdata) {
        struct defs_watch *w = userdata;
        char **parents;
        size_t n;

        if (w->full || w->n_touched == 0) {
                daemon_logf(7, "mdev definitions changed in %s: re-reading every device", w->dir);
                touched_clear(w);
                (void) rebuild(w->d);   /* its defs_watch_absorb() takes what came meanwhile */
                return 0;
        }
        /* taken: a rebuild the update falls back to clears the watch's */
        parents = w->touched;
        n = w->n_touched;
        w->touched = NULL;
        w->n_touched = 0;
        qsort(parents, n, sizeof(*parents), cmp_str);
        daemon_logf(7, "mdev definitions changed in %s: re-reading the defined mdevs of %zu parent%s", w->dir, n,
                    n == 1 ? "" : "s");
        (void) tree_update_defined_mdevs(w->d, parents, n);
        for (size_t i = 0; i < n; i++)
                free(parents[i]);
        free(parents);
        return 0;
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct defs_watch *w = userdata;
        int enabled = SD_EVENT_OFF, r;

        if (!take_events(w))
                return 0;
        if (sd_event_source_get_enabled(w->settle, &enabled) >= 0 && enabled != SD_EVENT_OFF)
                return 0;       /* a rebuild is already due */
        r = sd_event_source_set_time_relative(w->settle, DEFS_SETTLE_USEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(w->settle, SD_EVENT_ONESHOT);
        if (r < 0) {
                daemon_logf(4, "mdev definitions: %s; re-reading now", strerror(-r));
                touched_clear(w);
                (void) rebuild(w->d);
        }
        return 0;
}

void defs_watch_absorb(struct daemon *d) {
        struct defs_watch *w = &watch_;

        if (w->d != d || w->fd < 0)
                return;
        (void) take_events(w);
        (void) sd_event_source_set_enabled(w->settle, SD_EVENT_OFF);
        touched_clear(w);
}

int defs_watch_start(struct daemon *d) {
        struct defs_watch *w = &watch_;
        int r;

        w->d = d;
        r = hd_mdev_config_dir(d->ctx, &w->dir);
        if (r < 0)
                return r;
        w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (w->fd < 0)
                return -errno;
        r = watch_sync(w);
        if (r < 0) {
                /* no watch (inotify's limits, a relative directory): the
                 * definitions are read at rebuilds only, as before */
                daemon_logf(4, "not watching the mdev definitions in %s: %s", w->dir, strerror(-r));
                close(w->fd);
                w->fd = -1;
                return 0;
        }
        r = sd_event_add_io(d->event, &w->io, w->fd, EPOLLIN, on_inotify, w);
        if (r >= 0)
                r = sd_event_add_time_relative(d->event, &w->settle, CLOCK_MONOTONIC, DEFS_SETTLE_USEC,
                                               DEFS_SETTLE_ACCURACY_USEC, on_settled, w);
        if (r >= 0)
                r = sd_event_source_set_enabled(w->settle, SD_EVENT_OFF);
        if (r < 0)
                return r;
        daemon_logf(6, "watching the mdev definitions in %s%s", w->dir, w->top_wd < 0 ? " (not there yet)" : "");
        return 0;
}

void defs_watch_stop(struct daemon *d) {
        struct defs_watch *w = &watch_;

        w->io = sd_event_source_unref(w->io);
        w->settle = sd_event_source_unref(w->settle);
        if (w->fd >= 0)
                close(w->fd);
        w->fd = -1;
        free(w->dir);
        free(w->anc_child);
        subs_clear(w);
        touched_clear(w);
        *w = (struct defs_watch) { .fd = -1, .top_wd = -1, .anc_wd = -1 };
}
