/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared pieces of hostdevctl's verbs (tools/common.c). */
#pragma once

#include <getopt.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hostdev/hostdev.h"
#include "util/macro.h"

#define EXIT_USAGE 64
#define EXIT_REFUSED 2

#define VERB_ANY 1000

enum {
        VERB_JSON = 1 << 0,    /* takes --json/-j: sets arg_json */
        VERB_DRY_RUN = 1 << 1, /* takes --dry-run/-n: sets arg_dry_run */
        VERB_FORCE = 1 << 2,   /* takes --force/-f: sets arg_force */
};

/*
 * One table entry for a verb ("sriov") and for a sub-verb ("sriov set"),
 * NULL-name terminated; dispatch() runs them all:
 *  - with @subs, argv[1] names a sub-verb (a typo gets "did you mean");
 *    with @fn as well, the sub-verb is optional ("iommu" and "iommu explain");
 *  - with @shortopts (or a VERB_* option flag), the options are parsed here
 *    and each of @options is handed to @option (<0: a usage error it
 *    reported; >0: it did the verb's work, "--list-columns"); without,
 *    the arguments reach @fn as given;
 *  - the count of the remaining arguments is checked against
 *    @min_args..@max_args: "VERB: EXPECT" when @expect is set, else
 *    "VERB: unexpected argument 'X'" (and @hint);
 *  - @fn gets argv[0] the verb and argv[1..argc-1] its arguments, options
 *    removed.
 * Whether a verb changes the host (and needs root on the live host) is
 * the library's policy: hd_operation_changes_host().
 */
struct verb {
        const char *name;
        int min_args, max_args;
        unsigned flags;
        int (*fn)(int argc, char **argv);
        const char *shortopts;
        const struct option *options;
        int (*option)(const char *verb, int c, const char *arg);
        const char *expect;
        const char *hint;
        const struct verb *subs;
        const char *args;
        const char *summary;
        const char *help;
};

/* Run @v (its sub-verb, options and count checks, then its function);
 * @prefix: the verbs before it ("sriov" for "set"), NULL for a top-level
 * verb.  argv[0] is the verb.  Returns the exit status. */
int dispatch(const char *prefix, const struct verb *v, int argc, char **argv);
/* The options of the running verb (VERB_JSON, VERB_DRY_RUN, VERB_FORCE). */
extern bool arg_json, arg_dry_run, arg_force;

/* Verb tables, NULL-name terminated: tools/hostdevctl.c and one per module
 * (tools/cmd-*.c). */
extern const struct verb nodedev_verbs[];    /* tools/cmd-nodedev.c */
extern const struct verb iommu_verbs[];      /* tools/cmd-iommu.c */
extern const struct verb vfio_verbs[];       /* tools/cmd-vfio.c */
extern const struct verb domain_verbs[];     /* tools/cmd-domain.c */
extern const struct verb sriov_verbs[];
extern const struct verb mdev_verbs[];
extern const struct verb boot_verbs[];       /* tools/cmd-boot.c */
extern const struct verb libvirt_verbs[];    /* tools/cmd-libvirt.c */
extern const struct verb gpu_verbs[];        /* tools/cmd-gpu.c */
/* tools/cmd-mdev.c: start the 'auto' mdevs (check only with @dry_run) and
 * print the steps, or with @json and @ret_json return them as a JSON array
 * for the caller's document; for 'apply'.  Returns the exit status. */
int mdev_apply_report(hd_ctx *ctx, bool dry_run, bool json, json_object **ret_json);
/* The same for a report of hd_mdev_apply_full() (@r its return; @rep NULL
 * when nothing could be attempted); takes @rep. */
int mdev_apply_print(hd_result *res, int r, bool dry_run, bool json, json_object **ret_json);
struct bus_commands;
/* tools/cmd-sriov.c: what hostdevd's Apply or MdevApply answered, printed
 * as the verb prints its own run (@messages_first: stderr's sentences
 * before the document, as apply --json); returns @rc */
int apply_reply_print(const char *verb, bool json, bool messages_first, int rc, const char *doc, const char *text,
                      char **msgs, const struct bus_commands *log);

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
/* hd_ctx_new() for open_ctx(): tools/ctx-new.c, or tests/fake-ctx.c in hostdevctl-fake */
int cli_ctx_new(const char *sysroot, hd_ctx **ret);
int open_list(hd_ctx **ret_ctx, hd_nodedev_list **ret_list);
/* For one device: a lazy list (HOSTDEVCTL_ENUMERATE_ALL=1: a full one). */
int open_lookup_list(hd_ctx **ret_ctx, hd_nodedev_list **ret_list);
/* Lookup with a one-line error on failure. */
int lookup(hd_nodedev_list *list, const char *name, hd_device **ret);
/* open_list() and, when @name is not NULL, lookup() of it. */
int open_list_lookup(hd_ctx **ret_ctx, hd_nodedev_list **ret_list, const char *name, hd_device **ret);
/* The same for a PCI device: "VERB: NAME is not a PCI device" for another. */
int lookup_pci(hd_nodedev_list *list, const char *verb, const char *name, hd_device **ret);
void print_verb_help(const struct verb *v);
/* The candidate closest to @word when it is a likely typo of it (or a
 * virsh short form: "list" for "nodedev-list"); NULL otherwise. */
const char *did_you_mean(const char *word, const char *const *candidates, size_t n);
/* "unknown WHAT 'WORD'; did you mean 'X'? (see 'SEE')" */
void unknown_word(const char *what, const char *word, const char *const *candidates, size_t n, const char *see);
/* getopt '?' → one-line error, EXIT_USAGE */
int bad_option(const char *verb, char **argv);
bool want_help(int argc, char **argv);
void print_json(json_object *o);
/* A JSON string, or JSON null (NULL) for a NULL or empty @s. */
json_object *json_str(const char *s);
/* Print the JSON array of @n items of @size bytes at @items, each made by @to_json. */
void print_json_array(const void *items, size_t n, size_t size, json_object *(*to_json)(const void *item));
/* Print a transaction result; returns the exit status (0, 1, 2). */
int report(const char *verb, const hd_result *res, bool json);
void print_result_text(const hd_result *res, const char *indent);
void print_text_lines(const char *text, const char *indent); /* each line of @text after @indent */
void log_line(int level, const char *text);     /* as the library's log: a line of @level, when shown */
json_object *result_json(const hd_result *res);
int result_exit(const char *verb, const hd_result *res);
/* "VERB: REASON" of a failed library call (the context's error, else
 * strerror(-r)); returns the exit status: 2 for -EBUSY, else 1. */
int error_exit(hd_ctx *ctx, const char *verb, int r);
/* main's checks: --sysroot is never the host; write verbs need root on the
 * live host; output write errors fail the run. */
int check_sysroot_option(void);
int check_privilege(int argc, char **argv);
int finish_output(int rc);

/* tools/bus.c: a verb that changes the host runs in hostdevd when the
 * daemon serves this run's root and state directory (unless --direct) */
extern bool arg_direct;
enum { BUS_DIRECT, BUS_RESULT, BUS_DONE, BUS_REPLY };
/* main: whether the verb of @argv may go through hostdevd; then its
 * privilege check waits for bus_route(), as the daemon decides who may. */
bool bus_wanted(int argc, char **argv);
/* In a verb named @verb ("sriov set"): BUS_DIRECT: run it here;
 * BUS_RESULT: *ret is hostdevd's result, to print as a local one;
 * BUS_DONE: an error was printed, *ret_rc is the exit status.  The method's
 * arguments follow @types (sd-bus signature).  @unsupported: the option
 * that the method does not take ("--driver host"), NULL when none: then
 * it runs directly. */
int bus_route(const char *verb, const char *unsupported, hd_result **ret, int *ret_rc, const char *types, ...);
/* The file (or '-') whose text a verb sends: the daemon's messages, which
 * call it '-', name it as the verb does. */
void bus_file_name(const char *name);
/* bus_route() for a method whose reply is no result (routes[]' .reply):
 * @types the arguments, then a pointer for each value of the reply (b and
 * i: int *, q: unsigned *, s: char * to free, ay: uint8_t * to free and
 * size_t *, S (as): char ** to free each and all,
 * R (a(si)) and L (a(is), a log: the level in .status, the line in
 * .command): struct bus_commands *), written on BUS_REPLY; *ret_rc is
 * then EXIT_SUCCESS, or the exit status of a refusal or failure that
 * carries the values of the route's .error_reply (its first values the
 * reply's: their pointers, then the further ones'). */
int bus_call(const char *verb, const char *unsupported, int *ret_rc, const char *types, ...);
/* R: the commands a method ran and the exit status of each */
struct bus_commands {
        size_t n;
        char **command;
        int *status;
};
void bus_commands_done(struct bus_commands *c);
/* S: a string array of bus_call, freed */
void bus_strv_free(char **v);
/* @fn runs before the daemon's own error (org.hostdev.Hostdev1.Error.*,
 * not a refused authorization) is printed: a nonzero return is the exit
 * status, its own error printed instead; NULL: none.  gpu rom: FILE
 * removed when the daemon could not read the ROM, as a run here does. */
void bus_on_error(int (*fn)(void *userdata), void *userdata);
/* Whether bus_route(@verb) would run it here (--direct, no method, no
 * daemon for this root, a directory of the method's other than the
 * daemon's): a verb that reads before it calls. */
bool bus_direct(const char *verb);
/* The route of the verb's second call (the --persist of sriov set and
 * sriov vf), made after the next bus_route() or bus_call() when that one
 * goes through the daemon: the directories it uses decide for both, so
 * that the two run the same way.  Once: the next call forgets it. */
void bus_then(const char *verb);

/* tools/cmd-libvirt.c: libvirt domains (--connect URI) */
extern const char *arg_connect;
void libvirt_install_in_use(hd_ctx *ctx);
/* which domains use @d: text ("vm1 (running)", "-", "?"; NULL when libvirt is
 * not asked), JSON "used_by" (*ret_add false: leave the key out), the
 * /dev/vfio/N holder, and show's lines */
const char *libvirt_used_by_text(hd_nodedev_list *list, hd_device *d, char *buf, size_t size);
json_object *libvirt_used_by_json(hd_nodedev_list *list, hd_device *d, bool *ret_add);
json_object *libvirt_vfio_holder_json(hd_device *d);
void libvirt_show_text(hd_nodedev_list *list, hd_device *d);
