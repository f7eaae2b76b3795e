/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared pieces of hostdevctl's verbs (tools/common.c). */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

#include "hostdev/hostdev.h"
#include "util/macro.h"

#define EXIT_USAGE 64
#define EXIT_REFUSED 2

struct verb {
        const char *name;
        int (*fn)(int argc, char **argv);
        const char *args;
        const char *summary;
        const char *help;
};

/* Verb tables, NULL-name terminated: tools/hostdevctl.c and one per module
 * (tools/cmd-*.c). */
extern const struct verb nodedev_verbs[];
extern const struct verb sriov_verbs[];
extern const struct verb mdev_verbs[];
extern const struct verb boot_verbs[];
/* tools/cmd-mdev.c: start the 'auto' mdevs and print the steps (none with
 * @quiet); for 'apply'.  Returns the exit status. */
int mdev_apply_report(hd_ctx *ctx, bool json, bool quiet);

extern const char *arg_sysroot;
extern const char *arg_state_dir;
extern int arg_log_level;

void errorf(const char *fmt, ...) _printf_(1, 2);
void log_fn(void *userdata, int level, const char *file, int line, const char *fn, const char *format,
            va_list args);
void ctx_unrefp(hd_ctx **c);
void list_unrefp(hd_nodedev_list **l);
/* The context of the global options (--sysroot, --state-dir, -v/-q). */
int open_ctx(hd_ctx **ret);
int open_list(hd_ctx **ret_ctx, hd_nodedev_list **ret_list);
/* Lookup with a one-line error on failure. */
int lookup(hd_nodedev_list *list, const char *name, hd_device **ret);
void print_verb_help(const struct verb *v);
/* getopt '?' → one-line error, EXIT_USAGE */
int bad_option(const char *verb, char **argv);
bool want_help(int argc, char **argv);
void print_json(json_object *o);
const char *step_word(enum hd_vfio_step_result r);
/* Print a transaction result; returns the exit status (0, 1, 2). */
int report(const char *verb, hd_vfio_result *res, bool json);
