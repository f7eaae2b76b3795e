/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The filters of `nodedev-list` (include/hostdev/listing.h): --cap,
 * virsh's state filters, lspci's -s/-d/--class, --driver.  hostdevctl
 * sets them from its options, hostdevd from a filter string in the same
 * syntax; both list through hd_nodedev_filter_match(), so the CLI and the
 * D-Bus API select the same devices and refuse the same filters with the
 * same words.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostdev/listing.h"
#include "util/macro.h"

struct hd_nodedev_filter {
        bool caps[_HD_CAP_MAX];
        bool any_cap;           /* --cap given */
        bool inactive, all, persistent, transient;
        bool pci;               /* a -s, -d or --class filter */
        hd_pci_match match;
        char *driver;
};

_public_ int hd_nodedev_filter_new(hd_nodedev_filter **ret) {
        hd_nodedev_filter *f;

        if (!ret)
                return -EINVAL;
        f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        hd_pci_match_init(&f->match);
        *ret = f;
        return 0;
}

_public_ void hd_nodedev_filter_free(hd_nodedev_filter *f) {
        if (!f)
                return;
        free(f->driver);
        free(f);
}

static int errorf_(char **ret_error, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int errorf_(char **ret_error, const char *fmt, ...) {
        va_list ap;
        int r;

        if (!ret_error)
                return -EINVAL;
        va_start(ap, fmt);
        r = vasprintf(ret_error, fmt, ap);
        va_end(ap);
        if (r < 0) {
                *ret_error = NULL;
                return -ENOMEM;
        }
        return -EINVAL;
}

static int set_caps(hd_nodedev_filter *f, const char *arg, char **ret_error) {
        _cleanup_free_ char *copy = strdup(arg);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        f->any_cap = true;
        /* virsh: a comma-separated list; spaces around names are ignored;
         * a capability hostdev never reports matches nothing */
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                while (*t == ' ')
                        t++;
                for (char *e = t + strlen(t); e > t && e[-1] == ' '; e--)
                        e[-1] = 0;
                int c = hd_cap_type_from_string(t);
                if (c == -EOPNOTSUPP)
                        continue;
                if (c < 0)
                        return errorf_(ret_error,
                                       "nodedev-list: unknown capability '%s' (see 'hostdevctl nodedev-list --help')", t);
                f->caps[c] = true;
        }
        return 0;
}

_public_ int hd_nodedev_filter_set(hd_nodedev_filter *f, const char *option, const char *arg, char **ret_error) {
        static const char *const flags[] = { "inactive", "all", "persistent", "transient" };

        if (!f || !option)
                return -EINVAL;
        if (ret_error)
                *ret_error = NULL;
        for (size_t i = 0; i < ELEMENTSOF(flags); i++)
                if (streq(option, flags[i])) {
                        if (arg)
                                return -ENOENT;
                        *(i == 0 ? &f->inactive : i == 1 ? &f->all : i == 2 ? &f->persistent : &f->transient) = true;
                        return 0;
                }
        if (!arg)
                return -ENOENT;
        if (streq(option, "cap"))
                return set_caps(f, arg, ret_error);
        if (streq(option, "slot")) {
                if (hd_pci_match_parse_slot(&f->match, arg) < 0)
                        return errorf_(ret_error, "nodedev-list: -s takes [[[DOMAIN]:]BUS]:][SLOT][.[FUNC]] in hex, not '%s'",
                                       arg);
                f->pci = true;
                return 0;
        }
        if (streq(option, "id")) {
                if (hd_pci_match_parse_id(&f->match, arg) < 0)
                        return errorf_(ret_error, "nodedev-list: -d takes [VENDOR]:[DEVICE] in hex, not '%s'", arg);
                f->pci = true;
                return 0;
        }
        if (streq(option, "class")) {
                if (hd_pci_match_parse_class(&f->match, arg) < 0)
                        return errorf_(ret_error,
                                       "nodedev-list: --class takes a PCI class in hex (02, 0200 or 020000), not '%s'", arg);
                f->pci = true;
                return 0;
        }
        if (streq(option, "driver")) {
                char *s = strdup(arg);
                if (!s)
                        return -ENOMEM;
                free(f->driver);
                f->driver = s;
                return 0;
        }
        return -ENOENT;
}

_public_ int hd_nodedev_filter_check(const hd_nodedev_filter *f, char **ret_error) {
        if (!f)
                return -EINVAL;
        if (ret_error)
                *ret_error = NULL;
        if (f->inactive && f->all)
                return errorf_(ret_error, "%s", "nodedev-list: --inactive and --all are mutually exclusive (as in virsh)");
        if (f->persistent && f->transient)
                return errorf_(ret_error, "%s",
                               "nodedev-list: --persistent and --transient are mutually exclusive (as in virsh)");
        return 0;
}

_public_ bool hd_nodedev_filter_by_device(const hd_nodedev_filter *f) {
        return f && (f->any_cap || f->pci || f->driver);
}

_public_ bool hd_nodedev_filter_by_state(const hd_nodedev_filter *f) {
        return f && (f->inactive || f->all || f->persistent || f->transient);
}

_public_ bool hd_nodedev_filter_match(hd_device *d, void *userdata) {
        const hd_nodedev_filter *f = userdata;
        bool active = hd_device_is_active(d);

        /* no state filter: the active devices, as virsh lists them */
        if (f->inactive ? active : !f->all && !active)
                return false;
        if (f->persistent && !hd_device_is_persistent(d))
                return false;
        if (f->transient && hd_device_is_persistent(d))
                return false;
        if (f->any_cap) {
                bool hit = false;
                for (int c = 0; c < _HD_CAP_MAX && !hit; c++)
                        hit = f->caps[c] && hd_device_has_cap(d, (enum hd_cap_type) c);
                if (!hit)
                        return false;
        }
        if (f->pci && !hd_device_matches_pci(d, &f->match))
                return false;
        if (f->driver && !streq_ptr(hd_device_get_driver(d), f->driver))
                return false;
        return true;
}

/* the long name of a filter option as hostdevctl spells it: -s and -d are
 * --slot and --id; NULL for what is not a filter option */
static const char *option_name(const char *word, bool *ret_has_arg) {
        static const struct {
                const char *spelling, *name;
                bool has_arg;
        } opts[] = {
                { "--cap", "cap", true },       { "--slot", "slot", true },  { "-s", "slot", true },
                { "--id", "id", true },         { "-d", "id", true },        { "--class", "class", true },
                { "--driver", "driver", true }, { "--inactive", "inactive", false }, { "--all", "all", false },
                { "--persistent", "persistent", false }, { "--transient", "transient", false },
        };
        for (size_t i = 0; i < ELEMENTSOF(opts); i++)
                if (streq(word, opts[i].spelling)) {
                        *ret_has_arg = opts[i].has_arg;
                        return opts[i].name;
                }
        return NULL;
}

_public_ int hd_nodedev_filter_parse(const char *spec, hd_nodedev_filter **ret, char **ret_error) {
        _cleanup_free_ char *copy = NULL;
        hd_nodedev_filter *f = NULL;
        char *save = NULL;
        int r;

        if (!spec || !ret)
                return -EINVAL;
        if (ret_error)
                *ret_error = NULL;
        copy = strdup(spec);
        r = copy ? hd_nodedev_filter_new(&f) : -ENOMEM;
        if (r < 0)
                return r;
        for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
                char *eq = strncmp(w, "--", 2) == 0 ? strchr(w, '=') : NULL, *arg = NULL;
                const char *name;
                bool has_arg = false;

                if (eq)
                        *eq = 0;
                name = option_name(w, &has_arg);
                if (eq)
                        *eq = '=';
                if (name && has_arg)
                        arg = eq ? eq + 1 : strtok_r(NULL, " \t\n", &save);
                if (!name || (eq && !has_arg) || (has_arg && !arg)) {
                        r = errorf_(ret_error,
                                    "nodedev-list: unrecognized option or missing argument '%s' (see 'hostdevctl nodedev-list --help')",
                                    w);
                        goto fail;
                }
                r = hd_nodedev_filter_set(f, name, arg, ret_error);
                if (r < 0)
                        goto fail;
        }
        r = hd_nodedev_filter_check(f, ret_error);
        if (r < 0)
                goto fail;
        *ret = f;
        return 0;
fail:
        hd_nodedev_filter_free(f);
        return r;
}
