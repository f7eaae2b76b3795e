/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared pieces of hostdevctl's verbs. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hostdevctl.h"

const char *arg_sysroot;
const char *arg_state_dir;
int arg_log_level = HD_LOG_WARNING;
static const char *program = "hostdevctl";

void errorf(const char *fmt, ...) {
        va_list ap;
        fprintf(stderr, "%s: ", program);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

void log_fn(void *userdata, int level, const char *file, int line, const char *fn,
                   const char *format, va_list args) {
        fprintf(stderr, "%s: %s", program, level <= HD_LOG_ERR ? "error: " : level <= HD_LOG_WARNING ? "warning: " : "");
        vfprintf(stderr, format, args);
        fputc('\n', stderr);
}

void ctx_unrefp(hd_ctx **c) { hd_ctx_unref(*c); }
void list_unrefp(hd_nodedev_list **l) { hd_nodedev_list_unref(*l); }

/* The context of the global options (--sysroot, --state-dir, -v/-q). */
int open_ctx(hd_ctx **ret) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        int r;

        r = hd_ctx_new(arg_sysroot, &ctx);
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

int open_list(hd_ctx **ret_ctx, hd_nodedev_list **ret_list) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        int r;

        r = open_ctx(&ctx);
        if (r < 0)
                return r;
        r = hd_nodedev_list_new(ctx, ret_list);
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

int lookup(hd_nodedev_list *list, const char *name, hd_device **ret) {
        int r = hd_nodedev_list_lookup(list, name, ret);
        if (r == -ENODEV)
                errorf("no node device matches '%s'", name);
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

int bad_option(const char *verb, char **argv) {
        const char *arg = optind > 0 ? argv[optind - 1] : "?";
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

