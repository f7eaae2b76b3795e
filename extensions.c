/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The modules that extend node devices (nodedev/device.h): nodedev/ calls
 * them through this table and includes none of their headers.
 */
#include "mdev/mdev-internal.h"
#include "nodedev/device.h"

const struct hd_nodedev_ext *const hd_nodedev_extensions[] = {
        &hd_mdev_nodedev_ext,
        NULL,
};
