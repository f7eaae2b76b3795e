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

void log_line(int level, const char *text) {
        if (level <= arg_log_level)
                errorf("%s%s", level <= HD_LOG_ERR ? "error: " : level <= HD_LOG_WARNING ? "warning: " : "", text);
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

/* open_list(), then lookup() of @name unless it is NULL (*ret is then left
 * alone); <0 after the error was printed. */
int open_list_lookup(hd_ctx **ret_ctx, hd_nodedev_list **ret_list, const char *name, hd_device **ret) {
        int r = open_list(ret_ctx, ret_list);
        if (r < 0 || !name)
                return r;
        return lookup(*ret_list, name, ret);
}

/* lookup() of a PCI device: "VERB: NAME is not a PCI device" for another
 * (-EINVAL). */
int lookup_pci(hd_nodedev_list *list, const char *verb, const char *name, hd_device **ret) {
        hd_device *d;
        int r = lookup(list, name, &d);
        if (r < 0)
                return r;
        if (hd_device_get_cap_type(d) != HD_CAP_PCI) {
                errorf("%s: %s is not a PCI device", verb, hd_device_get_name(d));
                return -EINVAL;
        }
        *ret = d;
        return 0;
}

/* ---- help ---- */


void print_verb_help(const struct verb *v) {
        printf("Usage: hostdevctl [--sysroot DIR] %s %s\n\n%s\n", v->name, v->args, v->summary);
        if (v->help)
                printf("\n%s", v->help);
}

/* hostdevctl's own options, which go before the verb */
static bool is_global_option(const char *arg) {
        static const char *const globals[] = { "--sysroot", "--state-dir", "--direct", "--verbose", "--quiet", "--version",
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

json_object *json_str(const char *s) {
        return isempty(s) ? NULL : json_object_new_string(s);
}

void print_json_array(const void *items, size_t n, size_t size, json_object *(*to_json)(const void *item)) {
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < n; i++)
                json_object_array_add(a, to_json((const char *) items + i * size));
        print_json(a);
        json_object_put(a);
}

/* The steps of @res as the library renders them, each line after @indent. */
void print_result_text(const hd_result *res, const char *indent) {
        _cleanup_free_ char *text = NULL;
        if (hd_result_format_text(res, &text) < 0) {
                errorf("out of memory");
                return;
        }
        print_text_lines(text, indent);
}

void print_text_lines(const char *text, const char *indent) {
        for (const char *line = text, *nl; *line; line = nl + 1) {
                nl = strchrnul(line, '\n');
                printf("%s%.*s\n", indent, (int) (nl - line), line);
                if (!*nl)
                        break;
        }
}

/* @res as JSON (the library's rendering); NULL when out of memory. */
json_object *result_json(const hd_result *res) {
        json_object *o = NULL;
        if (hd_result_to_json(res, &o) < 0)
                errorf("out of memory");
        return o;
}

/* "VERB: REASON" for a library call that failed with @r: the context's
 * error, strerror(-r) when it has none; the exit status, 2 (refused) for
 * -EBUSY, else 1. */
int error_exit(hd_ctx *ctx, const char *verb, int r) {
        errorf("%s: %s", verb, hd_ctx_get_error(ctx) ?: strerror(-r));
        return r == -EBUSY ? EXIT_REFUSED : EXIT_FAILURE;
}

/* Exit status of a result, with its reason on stderr: 0, 1 (failed) or 2
 * (refused); on success the reason is a note. */
int result_exit(const char *verb, const hd_result *res) {
        int st = hd_result_get_status(res);
        const char *why = hd_result_get_reason(res);
        if (st == 0 && why)
                errorf("note: %s", why);
        if (st == -EBUSY) {
                errorf("%s refused: %s", verb, strempty(why));
                return EXIT_REFUSED;
        }
        if (st < 0) {
                errorf("%s failed: %s", verb, strempty(why));
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

/* Print @res (its steps as text, or the JSON document); the exit status. */
int report(const char *verb, const hd_result *res, bool json) {
        if (json) {
                json_object *o = result_json(res);
                if (!o)
                        return EXIT_FAILURE;
                print_json(o);
                json_object_put(o);
        } else
                print_result_text(res, "");
        return result_exit(verb, res);
}


/* ---- dispatch ---- */

bool arg_json, arg_dry_run, arg_force;

static int run_sub_verb(const char *name, const struct verb *v, int argc, char **argv) {
        const char *names[64];
        size_t n = 0;
        char see[160]; /* "hostdevctl " + a verb name (< 128) + " --help" */

        snprintf(see, sizeof(see), "hostdevctl %s --help", name);
        if (argc < 2) {
                if (v->expect)
                        errorf("%s: %s", name, v->expect);
                else
                        errorf("%s: missing subcommand (see '%s')", name, see);
                return EXIT_USAGE;
        }
        for (const struct verb *s = v->subs; s->name; s++) {
                if (streq(argv[1], s->name))
                        return dispatch(name, s, argc - 1, argv + 1);
                if (n < ELEMENTSOF(names))
                        names[n++] = s->name;
        }
        {
                const char *m = did_you_mean(argv[1], names, n);
                if (m)
                        errorf("%s: unknown subcommand '%s'; did you mean '%s'? (see '%s')", name, argv[1], m, see);
                else
                        errorf("%s: unknown subcommand '%s' (see '%s')", name, argv[1], see);
        }
        return EXIT_USAGE;
}

#define OPTIONS_DONE (-1) /* an option did the verb's work ("--list-columns") */

/* getopt over the verb's options and those of its flags: 0, OPTIONS_DONE or
 * the exit status of a usage error */
static int parse_options(const char *name, const struct verb *v, int argc, char **argv) {
        static const struct { unsigned flag; struct option opt; } common[] = {
                { VERB_JSON, { "json", no_argument, NULL, 'j' } },
                { VERB_DRY_RUN, { "dry-run", no_argument, NULL, 'n' } },
                { VERB_FORCE, { "force", no_argument, NULL, 'f' } },
        };
        struct option all[48];
        char shortopts[96];
        size_t n = 0, l;
        int c;

        l = (size_t) snprintf(shortopts, sizeof(shortopts), "%s", strempty(v->shortopts));
        for (const struct option *o = v->options; o && o->name && n < ELEMENTSOF(all) - ELEMENTSOF(common) - 1; o++)
                all[n++] = *o;
        for (size_t i = 0; i < ELEMENTSOF(common); i++)
                if (v->flags & common[i].flag) {
                        all[n++] = common[i].opt;
                        if (l + 1 < sizeof(shortopts)) {
                                shortopts[l++] = (char) common[i].opt.val;
                                shortopts[l] = 0;
                        }
                }
        all[n] = (struct option) {};
        optind = 0; /* full getopt re-initialisation: verbs permute their options */
        while ((c = getopt_long(argc, argv, shortopts, all, NULL)) >= 0) {
                if (c == 'j' && (v->flags & VERB_JSON))
                        arg_json = true;
                else if (c == 'n' && (v->flags & VERB_DRY_RUN))
                        arg_dry_run = true;
                else if (c == 'f' && (v->flags & VERB_FORCE))
                        arg_force = true;
                else if (c == '?' || c == ':' || !v->option)
                        return bad_option(name, argv);
                else {
                        int r = v->option(name, c, optarg);
                        if (r < 0)
                                return EXIT_USAGE;
                        if (r > 0)
                                return OPTIONS_DONE;
                }
        }
        return 0;
}

int dispatch(const char *prefix, const struct verb *v, int argc, char **argv) {
        char name[128];
        int first = 1, n, r;

        if (prefix)
                snprintf(name, sizeof(name), "%s %s", prefix, v->name);
        else
                snprintf(name, sizeof(name), "%s", v->name);
        if (v->subs) {
                bool named = false;
                for (const struct verb *s = v->subs; argc >= 2 && s->name; s++)
                        named = named || streq(argv[1], s->name);
                /* a verb of its own too ("iommu", "gpu") when no sub-verb is named */
                if (named || !v->fn)
                        return run_sub_verb(name, v, argc, argv);
        }
        if (v->shortopts || (v->flags & (VERB_JSON | VERB_DRY_RUN | VERB_FORCE))) {
                r = parse_options(name, v, argc, argv);
                if (r == OPTIONS_DONE)
                        return EXIT_SUCCESS;
                if (r != 0)
                        return r;
                first = optind;
        }
        n = argc - first;
        if (n < v->min_args || n > v->max_args) {
                if (v->expect)
                        errorf("%s: %s", name, v->expect);
                else if (n < v->min_args)
                        errorf("%s: missing argument (see 'hostdevctl %s --help')", name, name);
                else
                        errorf("%s: unexpected argument '%s'%s", name, argv[first + v->max_args], strempty(v->hint));
                return EXIT_USAGE;
        }
        /* argv[0] the verb, then the arguments without the options */
        argv[first - 1] = argv[0];
        return v->fn(n + 1, argv + first - 1);
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

/* On the live host (no --sysroot) a write verb needs root, also with
 * --dry-run (the safety checks read every process's open files): refuse
 * before anything is read or written.  Trees given with --sysroot are
 * files of the caller's own and need no privilege. */
int check_privilege(int argc, char **argv) {
        char name[160];

        if (arg_sysroot || geteuid() == 0)
                return 0;
        snprintf(name, sizeof(name), "%s %s", argv[0], argc > 1 ? argv[1] : "");
        /* the policy is the library's (hd_operation_changes_host) */
        if (!hd_operation_changes_host(argv[0]) && !hd_operation_changes_host(name))
                return 0;
        errorf("%s needs root: it changes this host's devices (use --sysroot DIR for a captured or fake tree)",
               hd_operation_changes_host(argv[0]) ? argv[0] : name);
        return -EPERM;
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
