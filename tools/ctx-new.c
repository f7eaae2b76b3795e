/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one place where hostdevctl makes its library context (open_ctx() in
 * common.c): on the real kernel.  hostdevctl-fake, the test build of the
 * CLI, links tests/fake-ctx.c in this file's place, whose cli_ctx_new()
 * gives a --sysroot context the fake kernel (tests/fake-kernel.c).
 */
#include "hostdevctl.h"

int cli_ctx_new(const char *sysroot, hd_ctx **ret) {
        return hd_ctx_new(sysroot, ret);
}
