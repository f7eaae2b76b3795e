/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdevctl through hostdevd: a verb that changes the host runs in the
 * daemon when one serves this root and state directory (so that a user
 * polkit lets do it needs no root, and the daemon's tree and the CLI's
 * runs share one lock and one journal), and directly otherwise or with
 * --direct.  The daemon replies with the result's JSON
 * (hd_result_to_json), which hd_result_from_json() turns back into the
 * result the verb prints with its own code: the output is the same either
 * way.
 *
 * routes[] is the one table: one row per verb that a daemon method runs
 * (and one per second call: the --persist of sriov set and sriov vf),
 * with the persisted-configuration directories the method uses (.dirs):
 * a verb goes to the daemon only when those are this run's too.
 * A method that answers no result (override set/unset, boot apply/undo:
 * a flag or a count, and a document; vgpu create/remove: the new vGPU or
 * nothing; gpu rom: the ROM's bytes) has a row with .reply, its reply's
 * signature: bus_call() hands those values to the verb, which prints its
 * own lines from them and from what it read itself before the call.
 * A route with .error_reply too (apply and mdev apply: the document, the
 * lines and the sentences on stderr, all the library's; boot apply and
 * boot undo: the regeneration commands run and their exit statuses) has the daemon's
 * refusal or failure carry those values after its message: the verb
 * prints them as its own run does, with the exit status of the error.
 * Still run here: domain attach/detach, capture; reads
 * are the same for everyone and stay here too.  A file a verb reads (--jsonfile,
 * node-device XML) is read here and its text sent (bus_file_name).
 * A verb asks bus_route() and gets BUS_DIRECT (run it here), BUS_RESULT
 * (the daemon's result, to print) or BUS_DONE (the daemon's error was
 * printed; the exit status is *ret_rc); bus_call() BUS_REPLY for
 * BUS_RESULT.
 * The library's warnings and errors that a call logs come back as Log
 * signals before its reply (Apply and MdevApply: in the reply's log), and
 * they are printed here as the library's log lines of a direct run are,
 * before the verb's own output; the caller's -v travels with the call
 * (bit 32 of the method's `t flags`, BUS_FLAG_LOG_INFO; recover calls
 * RecoverWithFlags for it) and adds the call's info lines.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostdevctl.h"

bool arg_direct;

#define BUS_NAME "org.hostdev.Hostdev1"
#define MANAGER_PATH "/org/hostdev/Hostdev1/Manager"
#define MANAGER_IFACE "org.hostdev.Hostdev1.Manager"
/* in a method's flags: the caller's -v (docs/dbus.md) */
#define BUS_FLAG_LOG_INFO (UINT64_C(1) << 32)

/* The persisted configuration a method reads or writes (routes[]' .dirs):
 * the daemon uses its own directories, which it says as Manager
 * properties; a verb whose run here would use another one (its own
 * $HOSTDEV_CONFIG_DIR or $HOSTDEV_MDEVCTL_DIR, or the default where the
 * daemon was started with one) runs here (dirs_agree()). */
enum { DIR_CONFIG = 1 << 0, DIR_MDEVCTL = 1 << 1 };

/* Every verb a hostdevd method runs; a new method is one row.  The
 * arguments are the verb's own (tools/cmd-*.c builds them). */
static const struct bus_route {
        const char *verb;           /* as hostdevctl names it in its messages */
        const char *method;         /* of org.hostdev.Hostdev1.Manager */
        const char *action;         /* the polkit action the daemon asks for */
        enum hd_result_kind kind;   /* of the result JSON it replies */
        const char *daemon_verb;    /* the verb the daemon's messages name, when another */
        const char *reply;          /* a reply the verb reads itself (bus_call): its signature; NULL: a result */
        const char *error_reply;    /* the values a refusal or failure carries after its message (the
                                     * reply's first), read as the reply's; NULL: none */
        unsigned dirs;              /* the persisted configuration the method reads or writes: DIR_* */
} routes[] = {
        { "nodedev-detach", "Detach", "org.hostdev.detach", HD_RESULT_DRIVERS },
        { "nodedev-reattach", "Reattach", "org.hostdev.reattach", HD_RESULT_DRIVERS },
        /* several devices: one transaction */
        { "nodedev-detach --devices", "DetachDevices", "org.hostdev.detach", HD_RESULT_DRIVERS, "nodedev-detach" },
        { "nodedev-reattach --devices", "ReattachDevices", "org.hostdev.reattach", HD_RESULT_DRIVERS, "nodedev-reattach" },
        { "nodedev-reset", "Reset", "org.hostdev.reset", HD_RESULT_RESET },
        /* Recover with flags: the caller's -v */
        { "recover", "RecoverWithFlags", "org.hostdev.recover", HD_RESULT_DRIVERS },
        { "sriov set", "SriovSet", "org.hostdev.sriov", HD_RESULT_SRIOV },
        /* the second call of sriov set --persist (and of sriov vf --persist) */
        { "sriov set --persist", "SriovPersist", "org.hostdev.sriov", HD_RESULT_SRIOV, "sriov set", .dirs = DIR_CONFIG },
        { "sriov vf", "SriovSetVf", "org.hostdev.sriov", HD_RESULT_SRIOV },
        { "sriov vf --persist", "SriovPersistVf", "org.hostdev.sriov", HD_RESULT_SRIOV, "sriov vf", .dirs = DIR_CONFIG },
        { "mdev create", "MdevCreate", "org.hostdev.mdev", HD_RESULT_MDEV },
        /* with --attr */
        { "mdev create --attr", "MdevCreateWithAttrs", "org.hostdev.mdev", HD_RESULT_MDEV, "mdev create" },
        { "mdev remove", "MdevRemove", "org.hostdev.mdev", HD_RESULT_MDEV },
        { "mdev stop", "MdevRemove", "org.hostdev.mdev", HD_RESULT_MDEV, "mdev remove" },
        { "mdev define", "MdevDefine", "org.hostdev.mdev", HD_RESULT_MDEV, .dirs = DIR_MDEVCTL },
        { "mdev undefine", "MdevUndefine", "org.hostdev.mdev", HD_RESULT_MDEV, .dirs = DIR_MDEVCTL },
        { "mdev start", "MdevStart", "org.hostdev.mdev", HD_RESULT_MDEV, .dirs = DIR_MDEVCTL },
        { "mdev autostart", "MdevSetAutostart", "org.hostdev.mdev", HD_RESULT_MDEV, .dirs = DIR_MDEVCTL },
        { "mdev modify", "MdevModify", "org.hostdev.mdev", HD_RESULT_MDEV, .dirs = DIR_MDEVCTL },
        { "nodedev-create", "NodedevCreateXML", "org.hostdev.mdev", HD_RESULT_MDEV },
        { "nodedev-define", "NodedevDefineXML", "org.hostdev.mdev", HD_RESULT_MDEV, .dirs = DIR_MDEVCTL },
        { "nodedev-destroy", "NodedevDestroy", "org.hostdev.mdev", HD_RESULT_MDEV, .dirs = DIR_MDEVCTL },
        { "nodedev-undefine", "NodedevUndefine", "org.hostdev.mdev", HD_RESULT_MDEV, .dirs = DIR_MDEVCTL },
        { "nodedev-start", "NodedevStart", "org.hostdev.mdev", HD_RESULT_MDEV, .dirs = DIR_MDEVCTL },
        { "nodedev-autostart", "NodedevSetAutostart", "org.hostdev.mdev", HD_RESULT_MDEV, .dirs = DIR_MDEVCTL },
        /* replies that are no result: the verb reads them (bus_call) */
        { "override set", "SetOverride", "org.hostdev.override", .reply = "bs" },
        { "override unset", "RemoveOverride", "org.hostdev.override", .reply = "bs" },
        { "boot apply", "BootApply", "org.hostdev.boot", .reply = "is", .error_reply = "isR" },
        { "boot undo", "BootUndo", "org.hostdev.boot", .reply = "i", .error_reply = "iR" },
        /* the document, the lines on stdout, the sentences on stderr and the log */
        { "apply", "Apply", "org.hostdev.apply", .reply = "ssSL", .error_reply = "ssSL", .dirs = DIR_CONFIG | DIR_MDEVCTL },
        { "mdev apply", "MdevApply", "org.hostdev.apply", .reply = "ssSL", .error_reply = "ssSL", .dirs = DIR_MDEVCTL },
        { "vgpu create", "VgpuCreate", "org.hostdev.mdev", .reply = "ssss" },
        { "vgpu remove", "VgpuRemove", "org.hostdev.mdev", .reply = "" },
        /* the ROM's bytes: the verb writes its file itself, as the caller
         * (and removes it when the daemon's read failed: bus_on_error) */
        { "gpu rom", "GpuRom", "org.hostdev.rom", .reply = "sqqay" },
};

/* The file a verb read and sent as text (bus_file_name): the daemon's
 * messages name it '-'. */
static const char *sent_file;

void bus_file_name(const char *name) {
        sent_file = name;
}

/* What a verb does before the daemon's own error is printed (bus_on_error). */
static int (*error_hook)(void *userdata);
static void *error_hook_data;

void bus_on_error(int (*fn)(void *userdata), void *userdata) {
        error_hook = fn;
        error_hook_data = userdata;
}

static const struct bus_route *find_route(const char *verb) {
        for (size_t i = 0; i < ELEMENTSOF(routes); i++)
                if (streq(routes[i].verb, verb))
                        return &routes[i];
        return NULL;
}

/* -v: which way a verb went */
static void say_path(const char *verb, const char *fmt, ...) _printf_(2, 3);
static void say_path(const char *verb, const char *fmt, ...) {
        _cleanup_free_ char *s = NULL;
        va_list ap;

        if (arg_log_level < HD_LOG_INFO)
                return;
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        errorf("%s: %s", verb, strempty(s));
}

/* The main program's privilege check, put off until a verb knows whether
 * the daemon runs it (bus_wanted). */
static int deferred_argc;
static char **deferred_argv;

/* The verb as routes[] names it: "sriov set" for argv "sriov" "set". */
static void verb_name(int argc, char **argv, char *buf, size_t size) {
        snprintf(buf, size, "%s", argv[0]);
        if (argc > 1 && !find_route(buf))
                snprintf(buf, size, "%s %s", argv[0], argv[1]);
}

#if HAVE_SD_BUS
#include <systemd/sd-bus.h>

/* The directories of routes[]' .dirs: the daemon's property, the variable that
 * sets this run's, and the library's choice here. */
static const struct bus_dir {
        unsigned flag;
        const char *property;                   /* of the Manager */
        const char *variable;                   /* the environment's, which sets it */
        const char *what;                       /* in the -v note */
        int (*get)(hd_ctx *ctx, char **ret);    /* the library's choice, here */
} bus_dirs[] = {
        { DIR_CONFIG, "ConfigDir", "HOSTDEV_CONFIG_DIR", "configuration directory", hd_sriov_config_dir },
        { DIR_MDEVCTL, "MdevctlDir", "HOSTDEV_MDEVCTL_DIR", "mdevctl directory", hd_mdev_config_dir },
};

static sd_bus *bus;
static enum { UNKNOWN, SERVES, NOT_SERVING } daemon_state = UNKNOWN;
static char why_not[PATH_MAX + 96];

static void bus_close(void) {
        bus = sd_bus_flush_close_unref(bus);
}

/* The path resolved: its longest leading part that exists through
 * realpath(), the rest as given (a directory not made yet compares the
 * same however its tree was named); NULL when out of memory. */
static char *real_or_same(const char *path) {
        _cleanup_free_ char *head = strdup(path), *r = NULL;
        char *slash, *s;

        if (!head)
                return NULL;
        while (!(r = realpath(head, NULL))) {
                slash = strrchr(head, '/');
                if (!slash || slash == head)
                        return strdup(path);
                *slash = '\0';
        }
        if (asprintf(&s, "%s%s", streq(r, "/") ? "" : r, path + strlen(head)) < 0)
                return NULL;
        return s;
}

static int get_string_property(const char *name, char **ret) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = sd_bus_get_property_string(bus, BUS_NAME, MANAGER_PATH, MANAGER_IFACE, name, &e, ret);
        if (r < 0)
                snprintf(why_not, sizeof(why_not), "hostdevd does not say its %s: %s", name, e.message ?: strerror(-r));
        sd_bus_error_free(&e);
        return r;
}

/* Whether hostdevd runs on the system bus ($DBUS_SYSTEM_BUS_ADDRESS) for
 * the root and state directory this run would use; once per run.  A
 * daemon that is not running is not started (no activation). */
static bool daemon_serves(void) {
        _cleanup_free_ char *sysroot = NULL, *state = NULL, *my_root = NULL, *my_state = NULL, *a = NULL, *b = NULL;
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r, owned = 0;

        if (daemon_state != UNKNOWN)
                return daemon_state == SERVES;
        daemon_state = NOT_SERVING;
        r = sd_bus_open_system(&bus);
        if (r >= 0)
                atexit(bus_close);
        if (r < 0) {
                snprintf(why_not, sizeof(why_not), "no system bus: %s", strerror(-r));
                return false;
        }
        {
                sd_bus_message *reply = NULL;
                r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "NameHasOwner", &e, &reply, "s", BUS_NAME);
                if (r >= 0)
                        r = sd_bus_message_read(reply, "b", &owned);
                sd_bus_message_unref(reply);
                sd_bus_error_free(&e);
        }
        if (r < 0 || !owned) {
                snprintf(why_not, sizeof(why_not), "hostdevd is not running");
                return false;
        }
        if (get_string_property("Sysroot", &sysroot) < 0 || get_string_property("StateDir", &state) < 0)
                return false;
        /* the root and state directory this run would use */
        r = hd_ctx_new(arg_sysroot, &ctx);
        if (r >= 0 && arg_state_dir)
                r = hd_ctx_set_state_dir(ctx, arg_state_dir);
        if (r < 0 || !hd_ctx_get_state_dir(ctx)) {
                snprintf(why_not, sizeof(why_not), "cannot tell this run's state directory");
                return false;
        }
        my_root = arg_sysroot ? real_or_same(arg_sysroot) : strdup("");
        my_state = real_or_same(hd_ctx_get_state_dir(ctx));
        a = *sysroot ? real_or_same(sysroot) : strdup("");
        b = real_or_same(state);
        if (!my_root || !my_state || !a || !b)
                return false;
        if (!streq(my_root, a)) {
                snprintf(why_not, sizeof(why_not), "hostdevd serves %s%s", *a ? "the tree " : "the live host", a);
                return false;
        }
        if (!streq(my_state, b)) {
                snprintf(why_not, sizeof(why_not), "hostdevd keeps its journal in %s", b);
                return false;
        }
        daemon_state = SERVES;
        return true;
}

/* Whether this run's directory @d is the daemon's; else *why says why. */
static bool dir_same(const struct bus_dir *d, char *why, size_t size) {
        _cleanup_free_ char *theirs = NULL, *mine = NULL, *a = NULL, *b = NULL;
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        const char *env = getenv(d->variable);
        int r;

        if (get_string_property(d->property, &theirs) < 0) {
                snprintf(why, size, "%s", why_not);
                return false;
        }
        r = hd_ctx_new(arg_sysroot, &ctx);
        if (r >= 0)
                r = d->get(ctx, &mine);
        if (r < 0) {
                snprintf(why, size, "cannot tell this run's %s: %s", d->what,
                         (ctx ? hd_ctx_get_error(ctx) : NULL) ?: strerror(-r));
                return false;
        }
        a = real_or_same(mine);
        b = *theirs ? real_or_same(theirs) : strdup("");
        if (!a || !b) {
                snprintf(why, size, "%s", strerror(ENOMEM));
                return false;
        }
        if (streq(a, b))
                return true;
        if (env && *env)
                snprintf(why, size, "$%s (%s) is not hostdevd's %s (%s)", d->variable, a, d->what, b);
        else
                snprintf(why, size, "hostdevd's %s is %s, not this run's %s (without $%s)", d->what, b, a,
                         d->variable);
        return false;
}

/* Whether the directories of @dirs (DIR_*) this run would use are the
 * daemon's (it serves: daemon_serves()); why_not says which is not.
 * Each is compared once a run. */
static bool dirs_agree(unsigned dirs) {
        static unsigned checked, differ;
        static char why[ELEMENTSOF(bus_dirs)][sizeof(why_not)];

        for (size_t i = 0; i < ELEMENTSOF(bus_dirs); i++) {
                if (!(dirs & bus_dirs[i].flag))
                        continue;
                if (!(checked & bus_dirs[i].flag)) {
                        checked |= bus_dirs[i].flag;
                        if (!dir_same(&bus_dirs[i], why[i], sizeof(why[i])))
                                differ |= bus_dirs[i].flag;
                }
                if (differ & bus_dirs[i].flag) {
                        memcpy(why_not, why[i], sizeof(why_not));
                        return false;
                }
        }
        return true;
}

/* A message of the daemon in the verb's words: its own name where the
 * daemon names the method's verb ("mdev remove: " for mdev stop), the
 * file it read where the daemon says '-'. */
static void print_message(const struct bus_route *rt, const char *verb, const char *msg) {
        const char *dv = rt->daemon_verb ?: rt->verb, *rest = startswith(msg, dv), *dash;

        if (rest && *rest == ':')
                msg = rest;
        else
                verb = "";
        dash = startswith(msg, ": '-'");
        if (sent_file && !streq(sent_file, "-") && dash)
                errorf("%s: '%s'%s", verb, sent_file, dash);
        else
                errorf("%s%s", verb, msg);
}

/* The daemon's error, printed as the verb would print it: a result it
 * carries (a refusal, a failed transaction) is the verb's to print; an
 * error without one is the CLI's words already; AccessDenied names
 * polkit and the action. */
static int reply_error(const struct bus_route *rt, const char *verb, sd_bus_message *reply, const sd_bus_error *e,
                       hd_result **ret, int *ret_rc) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        const char *json = NULL;
        int r;

        if (sd_bus_error_has_names(e, SD_BUS_ERROR_ACCESS_DENIED, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED)) {
                errorf("%s: not authorized: hostdevd asked polkit for the action %s and was refused (%s); run it as "
                       "root, or have the action granted to you (polkit rules, the hostdev group)",
                       verb, rt->action, e->message ?: e->name);
                *ret_rc = EXIT_FAILURE;
                return BUS_DONE;
        }
        if (startswith(e->name, "org.hostdev.Hostdev1.Error.")) {
                /* a refusal or failed transaction: its result as a second argument */
                if (!rt->reply && reply && sd_bus_message_rewind(reply, true) >= 0 && sd_bus_message_skip(reply, "s") >= 0 &&
                    sd_bus_message_read(reply, "s", &json) > 0 && json) {
                        (void) hd_ctx_new(arg_sysroot, &ctx);
                        r = hd_result_from_json(ctx, rt->kind, json, ret);
                        if (r >= 0)
                                return BUS_RESULT;
                        errorf("%s: hostdevd's reply cannot be read: %s", verb, hd_ctx_get_error(ctx) ?: strerror(-r));
                        *ret_rc = EXIT_FAILURE;
                        return BUS_DONE;
                }
                /* the verb's own steps first: its error may be another */
                if (error_hook && (r = error_hook(error_hook_data)) != 0) {
                        *ret_rc = r;
                        return BUS_DONE;
                }
                print_message(rt, verb, e->message ?: e->name);
                *ret_rc = sd_bus_error_has_name(e, "org.hostdev.Hostdev1.Error.Refused") ? EXIT_REFUSED : EXIT_FAILURE;
                return BUS_DONE;
        }
        errorf("%s: hostdevd: %s (hostdevctl --direct runs it without the daemon)", verb, e->message ?: e->name);
        *ret_rc = EXIT_FAILURE;
        return BUS_DONE;
}

/* The arguments after @types: s u i b t as sd-bus takes them, and two of
 * bus_route's own: A, an a(ss) from (size_t n, const hd_mdev_attr *),
 * and S, an as from (size_t n, const char *const *). */
static int append_args(sd_bus_message *m, const char *types, va_list *ap) {
        int r = 0;

        for (const char *t = types; r >= 0 && *t; t++)
                switch (*t) {
                case 's': r = sd_bus_message_append(m, "s", va_arg(*ap, const char *)); break;
                case 'u': r = sd_bus_message_append(m, "u", va_arg(*ap, uint32_t)); break;
                case 'i': r = sd_bus_message_append(m, "i", va_arg(*ap, int32_t)); break;
                case 'b': r = sd_bus_message_append(m, "b", va_arg(*ap, int)); break;
                case 't': {
                        /* the flags, and the caller's -v */
                        uint64_t flags = va_arg(*ap, uint64_t);
                        if (arg_log_level >= HD_LOG_INFO)
                                flags |= BUS_FLAG_LOG_INFO;
                        r = sd_bus_message_append(m, "t", flags);
                        break;
                }
                case 'A': {
                        size_t n = va_arg(*ap, size_t);
                        const hd_mdev_attr *a = va_arg(*ap, const hd_mdev_attr *);
                        r = sd_bus_message_open_container(m, 'a', "(ss)");
                        for (size_t i = 0; r >= 0 && i < n; i++)
                                r = sd_bus_message_append(m, "(ss)", a[i].name, a[i].value);
                        if (r >= 0)
                                r = sd_bus_message_close_container(m);
                        break;
                }
                case 'S': {
                        size_t n = va_arg(*ap, size_t);
                        const char *const *v = va_arg(*ap, const char *const *);
                        r = sd_bus_message_open_container(m, 'a', "s");
                        for (size_t i = 0; r >= 0 && i < n; i++)
                                r = sd_bus_message_append(m, "s", v[i]);
                        if (r >= 0)
                                r = sd_bus_message_close_container(m);
                        break;
                }
                default: r = -EINVAL;
                }
        return r;
}

/* A reply of @types (a route's .reply) into the pointers that follow in
 * @ap: b and i an int *, q an unsigned *, s a char * to free, S (as) a
 * char ** to free (bus_strv_free), R (a(si)) and L (a(is): a log, level
 * and line) a struct bus_commands, ay a uint8_t * to free and a size_t *. */
static int read_reply(sd_bus_message *m, const char *types, va_list *ap) {
        int r = 0;

        for (const char *t = types; r >= 0 && *t; t++)
                switch (*t) {
                case 'b': r = sd_bus_message_read(m, "b", va_arg(*ap, int *)); break;
                case 'i': r = sd_bus_message_read(m, "i", va_arg(*ap, int *)); break;
                case 'q': {
                        uint16_t v = 0;
                        r = sd_bus_message_read(m, "q", &v);
                        *va_arg(*ap, unsigned *) = v;
                        break;
                }
                case 'a': {
                        uint8_t **p = va_arg(*ap, uint8_t **);
                        size_t *n = va_arg(*ap, size_t *);
                        const void *v = NULL;
                        size_t size = 0;
                        if (*++t != 'y') {
                                r = -EINVAL;
                                break;
                        }
                        r = sd_bus_message_read_array(m, 'y', &v, &size);
                        if (r >= 0 && !(*p = malloc(size ?: 1)))
                                r = -ENOMEM;
                        if (r >= 0) {
                                if (size)
                                        memcpy(*p, v, size);
                                *n = size;
                        }
                        break;
                }
                case 's': {
                        char **p = va_arg(*ap, char **);
                        const char *v = NULL;
                        r = sd_bus_message_read(m, "s", &v);
                        if (r >= 0 && !(*p = strdup(v)))
                                r = -ENOMEM;
                        break;
                }
                case 'S': r = sd_bus_message_read_strv(m, va_arg(*ap, char ***)); break;
                case 'R':
                case 'L': {
                        struct bus_commands *c = va_arg(*ap, struct bus_commands *);
                        const char *cmd;
                        int32_t st;
                        r = sd_bus_message_enter_container(m, 'a', *t == 'R' ? "(si)" : "(is)");
                        while (r >= 0 && (r = *t == 'R' ? sd_bus_message_read(m, "(si)", &cmd, &st)
                                                        : sd_bus_message_read(m, "(is)", &st, &cmd)) > 0) {
                                char **v = realloc(c->command, (c->n + 1) * sizeof(*v));
                                int *s = v ? realloc(c->status, (c->n + 1) * sizeof(*s)) : NULL;
                                if (v)
                                        c->command = v;
                                if (s)
                                        c->status = s;
                                if (!v || !s || !(v[c->n] = strdup(cmd)))
                                        r = -ENOMEM;
                                else
                                        s[c->n++] = st;
                        }
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                        break;
                }
                default: r = -EINVAL;
                }
        return r;
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error _unused_) {
        *(sd_bus_message **) userdata = sd_bus_message_ref(m);
        return 0;
}

/* The daemon's Log signals of this call, kept until its reply says
 * who answered: only that sender's are printed. */
struct log_signals {
        size_t n;
        sd_bus_message **m;
};

static int on_log(sd_bus_message *m, void *userdata, sd_bus_error *ret_error _unused_) {
        struct log_signals *l = userdata;
        sd_bus_message **v;

        if (!sd_bus_message_is_signal(m, MANAGER_IFACE, "Log") || !streq_ptr(sd_bus_message_get_path(m), MANAGER_PATH))
                return 0;
        v = realloc(l->m, (l->n + 1) * sizeof(*v));
        if (!v)
                return 0;
        l->m = v;
        l->m[l->n++] = sd_bus_message_ref(m);
        return 1;
}

/* The log lines the daemon sent for @reply's call, printed as the
 * library's log lines of a direct run are (at this run's level) */
static void log_signals_print(struct log_signals *l, sd_bus_message *reply) {
        const char *from = reply ? sd_bus_message_get_sender(reply) : NULL;

        for (size_t i = 0; i < l->n; i++) {
                const char *line = NULL;
                int32_t level = 0;
                if (from && streq_ptr(sd_bus_message_get_sender(l->m[i]), from) &&
                    sd_bus_message_read(l->m[i], "is", &level, &line) > 0)
                        log_line(level, line);
                sd_bus_message_unref(l->m[i]);
        }
        free(l->m);
        *l = (struct log_signals) {};
}

static int call(const struct bus_route *rt, const char *verb, hd_result **ret, int *ret_rc, const char *types,
                va_list *ap) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        struct log_signals logs = {};
        sd_bus_slot *filter = NULL;
        const char *json = NULL;
        int r;

        /* the daemon's log lines of this call (its warnings and errors;
         * with -v its info lines too) come as signals */
        if (sd_bus_add_filter(bus, &filter, on_log, &logs) < 0)
                filter = NULL;
        r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, MANAGER_PATH, MANAGER_IFACE, rt->method);
        if (r >= 0)
                r = append_args(m, types, ap);
        /* a polkit agent may ask the user for a password */
        if (r >= 0)
                r = sd_bus_message_set_allow_interactive_authorization(m, true);
        if (r < 0) {
                sd_bus_message_unref(m);
                sd_bus_slot_unref(filter);
                errorf("%s: cannot call hostdevd: %s", verb, strerror(-r));
                *ret_rc = EXIT_FAILURE;
                return BUS_DONE;
        }
        /* the daemon may wait for a transaction that holds the lock, and
         * for a password: no time limit.  The reply is kept whole (an
         * error's second argument is the result of a refusal), which
         * sd_bus_call() would not do. */
        r = sd_bus_call_async(bus, NULL, m, on_reply, &reply, 24ULL * 3600 * 1000 * 1000);
        sd_bus_message_unref(m);
        while (r >= 0 && !reply) {
                r = sd_bus_process(bus, NULL);
                if (r == 0)
                        r = sd_bus_wait(bus, UINT64_MAX);
        }
        /* the library's lines first, as a direct run logs them while it works */
        sd_bus_slot_unref(filter);
        log_signals_print(&logs, reply);
        if (r < 0) {
                errorf("%s: hostdevd: %s (hostdevctl --direct runs it without the daemon)", verb, strerror(-r));
                *ret_rc = EXIT_FAILURE;
                return BUS_DONE;
        }
        if (sd_bus_message_is_method_error(reply, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(reply);
                /* a refusal or failure with the values of .error_reply after its message */
                if (rt->error_reply && startswith(e->name, "org.hostdev.Hostdev1.Error.") &&
                    sd_bus_message_rewind(reply, true) >= 0 && sd_bus_message_skip(reply, "s") >= 0 &&
                    sd_bus_message_peek_type(reply, NULL, NULL) > 0) {
                        *ret_rc = sd_bus_error_has_name(e, "org.hostdev.Hostdev1.Error.Refused") ? EXIT_REFUSED
                                                                                                 : EXIT_FAILURE;
                        r = read_reply(reply, rt->error_reply, ap);
                        sd_bus_message_unref(reply);
                        if (r < 0) {
                                errorf("%s: hostdevd's reply cannot be read: %s", verb, strerror(-r));
                                *ret_rc = EXIT_FAILURE;
                                return BUS_DONE;
                        }
                        return BUS_REPLY;
                }
                r = reply_error(rt, verb, reply, e, ret, ret_rc);
                sd_bus_message_unref(reply);
                return r;
        }
        if (rt->reply) {
                /* the verb's own reply, read into its pointers */
                *ret_rc = EXIT_SUCCESS;
                r = read_reply(reply, rt->reply, ap);
                sd_bus_message_unref(reply);
                if (r < 0) {
                        errorf("%s: hostdevd's reply cannot be read: %s", verb, strerror(-r));
                        *ret_rc = EXIT_FAILURE;
                        return BUS_DONE;
                }
                return BUS_REPLY;
        }
        r = sd_bus_message_read(reply, "s", &json);
        if (r >= 0) {
                (void) hd_ctx_new(arg_sysroot, &ctx);
                r = hd_result_from_json(ctx, rt->kind, json, ret);
        }
        sd_bus_message_unref(reply);
        if (r < 0) {
                errorf("%s: hostdevd's reply cannot be read: %s", verb, hd_ctx_get_error(ctx) ?: strerror(-r));
                *ret_rc = EXIT_FAILURE;
                return BUS_DONE;
        }
        return BUS_RESULT;
}
#else
static char why_not[] = "hostdevctl was built without sd-bus";
static bool daemon_serves(void) { return false; }
static bool dirs_agree(unsigned dirs _unused_) { return true; }
#endif

void bus_commands_done(struct bus_commands *c) {
        for (size_t i = 0; i < c->n; i++)
                free(c->command[i]);
        free(c->command);
        free(c->status);
        *c = (struct bus_commands) {};
}

void bus_strv_free(char **v) {
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
}

bool bus_wanted(int argc, char **argv) {
        const struct bus_route *rt;
        char name[160];

        verb_name(argc, argv, name, sizeof(name));
        if (arg_direct || !(rt = find_route(name)) || !daemon_serves() || !dirs_agree(rt->dirs))
                return false;
        deferred_argc = argc;
        deferred_argv = argv;
        return true;
}

bool bus_direct(const char *verb) {
        const struct bus_route *rt = find_route(verb);
        return arg_direct || !rt || !daemon_serves() || !dirs_agree(rt->dirs);
}

/* The second call of the next bus_route() or bus_call(), when the verb
 * makes one (bus_then) */
static const char *then_verb;

void bus_then(const char *verb) {
        then_verb = verb;
}

static int route(const char *verb, const char *unsupported, hd_result **ret, int *ret_rc, const char *types,
                 va_list *ap) {
        const struct bus_route *rt = find_route(verb), *next = then_verb ? find_route(then_verb) : NULL;
        unsigned dirs = (rt ? rt->dirs : 0) | (next ? next->dirs : 0);
        bool direct = true;
        char shown[64];
        int r;

        then_verb = NULL;
        /* a result route through bus_route, a reply route through bus_call */
        if (!rt || !!rt->reply != !ret)
                return BUS_DIRECT;
        /* "sriov set --persist" is sriov set's second call: "sriov set" */
        if (strstr(verb, " --"))
                snprintf(shown, sizeof(shown), "%.*s", (int) (strstr(verb, " --") - verb), verb);
        else
                snprintf(shown, sizeof(shown), "%s", verb);
        verb = shown;
        if (arg_direct)
                say_path(verb, "run directly (--direct)");
        else if (!daemon_serves())
                say_path(verb, "run directly: %s", why_not);
        else if (unsupported)
                say_path(verb, "run directly: hostdevd's %s does not take %s", rt->method, unsupported);
        /* the directories it reads or writes (and its second call's) */
        else if (!dirs_agree(dirs))
                say_path(verb, "run directly: %s", why_not);
        else
                direct = false;
        if (direct) {
                /* main left the privilege check to the daemon */
                if (deferred_argv && check_privilege(deferred_argc, deferred_argv) < 0) {
                        *ret_rc = EXIT_FAILURE;
                        return BUS_DONE;
                }
                return BUS_DIRECT;
        }
        say_path(verb, "through hostdevd (%s.%s)", MANAGER_IFACE, rt->method);
#if HAVE_SD_BUS
        r = call(rt, verb, ret, ret_rc, types, ap);
#else
        (void) ret;
        (void) types;
        (void) ap;
        r = BUS_DIRECT;
#endif
        return r;
}

int bus_route(const char *verb, const char *unsupported, hd_result **ret, int *ret_rc, const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = route(verb, unsupported, ret, ret_rc, types, &ap);
        va_end(ap);
        return r;
}

int bus_call(const char *verb, const char *unsupported, int *ret_rc, const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = route(verb, unsupported, NULL, ret_rc, types, &ap);
        va_end(ap);
        return r;
}
