/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the uevent and udev-database harnesses share: a raw device to parse
 * into, and the checks every parsed property must pass. */
#pragma once

#include "fuzz.h"
#include "nodedev/device.h"

/* @raw with @syspath and one of @subsystems picked by @size */
static inline void fuzz_raw_init(struct hd_raw_device *raw, const char *syspath, const char *const *subsystems,
                                 size_t n_subsystems, size_t size) {
        *raw = (struct hd_raw_device) {};
        raw->syspath = strdup(syspath);
        raw->subsystem = strdup(subsystems[size % n_subsystems]);
        FUZZ_ASSERT(raw->syspath && raw->subsystem);
}

/* a parse result: the property array NULL-terminated, every entry
 * "KEY=VALUE" with a key */
static inline void fuzz_raw_check_props(const struct hd_raw_device *raw, int r) {
        FUZZ_ASSERT(r == 0 || r == -ENOMEM);
        FUZZ_ASSERT(raw->n_props == 0 || raw->props[raw->n_props] == NULL);
        for (size_t i = 0; i < raw->n_props; i++) {
                const char *eq = strchr(raw->props[i], '=');
                FUZZ_ASSERT(eq && eq > raw->props[i] && !strchr(raw->props[i], '\n'));
        }
}
