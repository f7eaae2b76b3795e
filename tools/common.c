/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared pieces of hostdevctl's verbs. */
#include <errno.h>
#include <stdio.h>
#include <getopt.h>
#include <limits.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hostdevctl.h"

const char *arg_sysroot;
const char *arg_state_dir;
int arg_log_level = HD_LOG_WARNING;
static const char *program = "hostdevctl";

/* Write one message line to stderr with every control character escaped
 * (C style: \n, \t, \x1b), so that an argument echoed in an error can
 * neither break the line nor send escape sequences to the terminal. */
static void put_escaped_line(const char *prefix, const char *fmt, va_list ap) {
        _cleanup_free_ char *msg = NULL;

        if (vasprintf(&msg, fmt, ap) < 0) {
                fprintf(stderr, "%s: out of memory\n", program);
                return;
        }
        fprintf(stderr, "%s: %s", program, prefix);
        for (const unsigned char *p = (const unsigned char *) msg; *p; p++)
                if (*p == '\n')
                        fputs("\\n", stderr);
                else if (*p == '\t')
                        fputs("\\t", stderr);
                else if (*p < 0x20 || *p == 0x7f)
                        fprintf(stderr, "\\x%02x", *p);
                else
                        fputc(*p, stderr);
        fputc('\n', stderr);
}

void errorf(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        put_escaped_line("", fmt, ap);
        va_end(ap);
}

void log_fn(void *userdata, int level, const char *file, int line, const char *fn,
                   const char *format, va_list args) {
        put_escaped_line(level <= HD_LOG_ERR ? "error: " : level <= HD_LOG_WARNING ? "warning: " : "", format, args);
}

/* ---- "did you mean" ---- */

/* Damerau-Levenshtein (optimal string alignment) distance, capped at 100 */
static size_t edit_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        if (la > 64 || lb > 64)
                return 100;
        size_t d[65][65];
        for (size_t i = 0; i <= la; i++)
                d[i][0] = i;
        for (size_t j = 0; j <= lb; j++)
                d[0][j] = j;
        for (size_t i = 1; i <= la; i++)
                for (size_t j = 1; j <= lb; j++) {
                        size_t cost = a[i - 1] != b[j - 1], v = d[i - 1][j - 1] + cost;
                        if (d[i - 1][j] + 1 < v)
                                v = d[i - 1][j] + 1;
                        if (d[i][j - 1] + 1 < v)
                                v = d[i][j - 1] + 1;
                        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                                v = d[i - 2][j - 2] + 1;
                        d[i][j] = v;
                }
        return d[la][lb];
}

const char *did_you_mean(const char *word, const char *const *candidates, size_t n) {
        const char *best = NULL;
        size_t best_d = 100;

        if (isempty(word))
                return NULL;
        for (size_t i = 0; i < n; i++) {
                const char *c = candidates[i], *tail = startswith(c, "nodedev-");
                size_t d = edit_distance(word, c);
                /* virsh's short forms: "list" for "nodedev-list" */
                if (tail && edit_distance(word, tail) < d)
                        d = edit_distance(word, tail);
                if (d < best_d) {
                        best_d = d;
                        best = c;
                }
        }
        /* a typo, not another word: at most one edit in four letters */
        return best && best_d <= (strlen(word) + 3) / 4 ? best : NULL;
}

void unknown_word(const char *what, const char *word, const char *const *candidates, size_t n, const char *see) {
        const char *m = did_you_mean(word, candidates, n);
        if (m)
                errorf("unknown %s '%s'; did you mean '%s'? (see '%s')", what, word, m, see);
        else
                errorf("unknown %s '%s' (see '%s')", what, word, see);
}

void ctx_unrefp(hd_ctx **c) { hd_ctx_unref(*c); }
void list_unrefp(hd_nodedev_list **l) { hd_nodedev_list_unref(*l); }

/* The context of the global options (--sysroot, --state-dir, -v/-q). */
int open_ctx(hd_ctx **ret) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        int r;

        r = cli_ctx_new(arg_sysroot, &ctx);
        if (r < 0) {
                errorf("cannot open sysroot '%s': %s", arg_sysroot ?: "/", strerror(-r));
                return r;
        }
        hd_ctx_set_log_fn(ctx, log_fn, NULL);
        hd_ctx_set_log_level(ctx, arg_log_level);
        if (arg_state_dir && hd_ctx_set_state_dir(ctx, arg_state_dir) < 0) {
                errorf("--state-dir must be an absolute path");
                return -EINVAL;
        }
        libvirt_install_in_use(ctx);
        *ret = TAKE_PTR(ctx);
        return 0;
}

static int open_list_impl(hd_ctx **ret_ctx, hd_nodedev_list **ret_list, bool lazy) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        int r;

        r = open_ctx(&ctx);
        if (r < 0)
                return r;
        r = lazy ? hd_nodedev_list_new_lazy(ctx, ret_list) : hd_nodedev_list_new(ctx, ret_list);
        if (r == -ENOTDIR)
                errorf("%s is not a sysfs tree: it has no sys/devices directory", arg_sysroot ?: "/");
        else if (r < 0)
                errorf("cannot enumerate devices%s%s: %s", arg_sysroot ? " of " : "", arg_sysroot ?: "",
                       strerror(-r));
        if (r < 0)
                return r;
        *ret_ctx = TAKE_PTR(ctx);
        return 0;
}

int open_list(hd_ctx **ret_ctx, hd_nodedev_list **ret_list) {
        return open_list_impl(ret_ctx, ret_list, false);
}

/* For verbs about one device: nothing is enumerated, the lookup reads the
 * device and its parents.  HOSTDEVCTL_ENUMERATE_ALL=1 enumerates first
 * instead (the tests compare the two). */
int open_lookup_list(hd_ctx **ret_ctx, hd_nodedev_list **ret_list) {
        const char *e = getenv("HOSTDEVCTL_ENUMERATE_ALL");
        return open_list_impl(ret_ctx, ret_list, !(e && streq(e, "1")));
}

int lookup(hd_nodedev_list *list, const char *name, hd_device **ret) {
        int r = hd_nodedev_list_lookup(list, name, ret);
        if (r == -ENODEV)
                errorf("no node device matches '%s'", name);
        else if (r == -EDOM)
                errorf("'%s' is not a PCI address ([[DOMAIN:]BUS:]SLOT.FUNC in hex, slot 00-1f, function 0-7)", name);
        else if (r == -ENOTUNIQ)
                errorf("'%s' matches several mediated devices; use the full node-device name", name);
        else if (r == -EINVAL)
                errorf("'%s' is not a valid device name, PCI address, interface, mdev UUID or /sys path", name);
        else if (r < 0)
                errorf("lookup of '%s' failed: %s", name, strerror(-r));
        return r;
}

/* ---- help ---- */


void print_verb_help(const struct verb *v) {
        printf("Usage: hostdevctl [--sysroot DIR] %s %s\n\n%s\n", v->name, v->args, v->summary);
        if (v->help)
                printf("\n%s", v->help);
}

/* hostdevctl's own options, which go before the verb */
static bool is_global_option(const char *arg) {
        static const char *const globals[] = { "--sysroot", "--state-dir", "--verbose", "--quiet", "--version",
                                               "-v", "-q" };
        for (size_t i = 0; i < ELEMENTSOF(globals); i++) {
                const char *rest = startswith(arg, globals[i]);
                if (rest && (!*rest || (*rest == '=' && globals[i][1] == '-')))
                        return true;
        }
        return false;
}

int bad_option(const char *verb, char **argv) {
        const char *arg = optind > 0 ? argv[optind - 1] : "?";
        if (is_global_option(arg)) {
                _cleanup_free_ char *opt = strndup(arg, strcspn(arg, "="));
                errorf("%s: %s is a global option: give it before the verb (hostdevctl %s%s %s ...)", verb, strempty(opt),
                       strempty(opt), startswith(arg, "--sysroot") ? " DIR" : startswith(arg, "--state-dir") ? " DIR" : "",
                       verb);
                return EXIT_USAGE;
        }
        if (optopt && optopt != '?' && !(arg[0] == '-' && arg[1] == '-'))
                errorf("%s: invalid option '-%c' or missing argument (see 'hostdevctl %s --help')", verb, optopt, verb);
        else
                errorf("%s: unrecognized option or missing argument '%s' (see 'hostdevctl %s --help')", verb, arg, verb);
        return EXIT_USAGE;
}

bool want_help(int argc, char **argv) {
        for (int i = 1; i < argc; i++)
                if (streq(argv[i], "--help") || streq(argv[i], "-h"))
                        return true;
        return false;
}

void print_json(json_object *o) {
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

const char *step_word(enum hd_vfio_step_result r) {
        switch (r) {
        case HD_STEP_DONE: return "done";
        case HD_STEP_NOOP: return "unchanged";
        case HD_STEP_PLANNED: return "would move";
        case HD_STEP_FAILED: return "FAILED";
        case HD_STEP_ROLLED_BACK: return "rolled back";
        case HD_STEP_NOT_ATTEMPTED: return "not attempted";
        }
        return "?";
}

int report(const char *verb, hd_vfio_result *res, bool json) {
        if (json) {
                json_object *o = json_object_new_object(), *steps = json_object_new_array();
                json_object_object_add(o, "status", json_object_new_string(res->status == 0 ? "ok" : res->status == -EBUSY ? "refused" : "failed"));
                json_object_object_add(o, "reason", res->reason[0] ? json_object_new_string(res->reason) : NULL);
                for (size_t i = 0; i < res->n_steps; i++) {
                        json_object *s = json_object_new_object();
                        json_object_object_add(s, "address", json_object_new_string(res->steps[i].addr));
                        json_object_object_add(s, "from", json_object_new_string(res->steps[i].from));
                        json_object_object_add(s, "to", json_object_new_string(res->steps[i].to));
                        json_object_object_add(s, "result", json_object_new_string(step_word(res->steps[i].result)));
                        json_object_array_add(steps, s);
                }
                json_object_object_add(o, "devices", steps);
                print_json(o);
                json_object_put(o);
        } else
                for (size_t i = 0; i < res->n_steps; i++)
                        printf("%s  %s -> %s  %s\n", res->steps[i].addr,
                               res->steps[i].from[0] ? res->steps[i].from : "(none)",
                               res->steps[i].to[0] ? res->steps[i].to : "(none)", step_word(res->steps[i].result));
        if (res->status == 0 && res->reason[0])
                errorf("note: %s", res->reason);
        if (res->status == -EBUSY) {
                errorf("%s refused: %s", verb, res->reason);
                return 2;
        }
        if (res->status < 0) {
                errorf("%s failed: %s", verb, res->reason[0] ? res->reason : strerror(-res->status));
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}


int run_sub_verb(const char *verb, const struct sub_verb *subs, int argc, char **argv) {
        const char *names[64];
        size_t n = 0;
        char see[64];

        snprintf(see, sizeof(see), "hostdevctl %s --help", verb);
        if (argc < 2) {
                errorf("%s: missing subcommand (see '%s')", verb, see);
                return EXIT_USAGE;
        }
        for (const struct sub_verb *s = subs; s->name; s++) {
                if (streq(argv[1], s->name))
                        return s->fn(argc - 1, argv + 1);
                if (n < ELEMENTSOF(names))
                        names[n++] = s->name;
        }
        {
                const char *m = did_you_mean(argv[1], names, n);
                if (m)
                        errorf("%s: unknown subcommand '%s'; did you mean '%s'? (see '%s')", verb, argv[1], m, see);
                else
                        errorf("%s: unknown subcommand '%s' (see '%s')", verb, argv[1], see);
        }
        return EXIT_USAGE;
}

/* ---- global checks (main) ---- */

/* --sysroot names a tree, never the live host: "" (an unset variable) and
 * anything that resolves to "/" are usage errors. */
int check_sysroot_option(void) {
        _cleanup_free_ char *real = NULL;

        if (!arg_sysroot)
                return 0;
        if (!*arg_sysroot) {
                errorf("--sysroot '': empty sysroot (an unset variable?); leave --sysroot out to work on this host");
                return -EINVAL;
        }
        real = realpath(arg_sysroot, NULL);
        if (real && streq(real, "/")) {
                errorf("--sysroot '%s' is this host's root directory; leave --sysroot out to work on this host",
                       arg_sysroot);
                return -EINVAL;
        }
        return 0;
}

/* Verbs (and sub-verbs) that change devices, driver bindings or /etc. */
static const char *const write_verbs[] = {
        "nodedev-detach", "nodedev-reattach", "nodedev-reset", "recover", "apply",
        "nodedev-create", "nodedev-destroy", "nodedev-define", "nodedev-undefine", "nodedev-start",
        "nodedev-autostart", "sriov set", "sriov vf",
        "mdev create", "mdev remove", "mdev define", "mdev undefine", "mdev start", "mdev stop",
        "mdev autostart", "mdev modify", "gpu rom", "vgpu create", "vgpu remove",
        "attach", "detach-device", "qemu-hook",
};

/* On the live host (no --sysroot) a write verb needs root, also with
 * --dry-run (the safety checks read every process's open files): refuse
 * before anything is read or written.  Trees given with --sysroot are
 * files of the caller's own and need no privilege. */
int check_privilege(int argc, char **argv) {
        char name[160];

        if (arg_sysroot || geteuid() == 0)
                return 0;
        snprintf(name, sizeof(name), "%s %s", argv[0], argc > 1 ? argv[1] : "");
        for (size_t i = 0; i < ELEMENTSOF(write_verbs); i++) {
                const char *w = write_verbs[i];
                if (!streq(w, argv[0]) && !streq(w, name))
                        continue;
                errorf("%s needs root: it changes this host's devices (use --sysroot DIR for a captured or fake tree)",
                       w);
                return -EPERM;
        }
        return 0;
}

/* Output that did not reach its file is a failure: a full disk, /dev/full,
 * a closed pipe with SIGPIPE ignored. */
int finish_output(int rc) {
        int err = 0;

        if (fflush(stdout) != 0)
                err = errno;
        if (ferror(stdout) && !err)
                err = EIO;
        if (fclose(stdout) != 0 && !err)
                err = errno;
        if (err) {
                errorf("cannot write the output: %s", strerror(err));
                return rc == EXIT_SUCCESS ? EXIT_FAILURE : rc;
        }
        return rc;
}
