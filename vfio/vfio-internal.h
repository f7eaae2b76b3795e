/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Host-safety facts shared with gpu/ (vfio/safety.c). */
#pragma once

#include "nodedev/device.h"

/* 1 and a description in @buf when @d is the boot VGA device and the
 * framebuffer console or a platform framebuffer (efifb, simpledrm,
 * simplefb, vesafb) holds it; 0 otherwise. */
int hd_device_console_holder(hd_device *d, char *buf, size_t size);
/* hd_host_safety_check() without the context's error: 0, or -EBUSY with
 * the reason in *@ret_reason (caller frees), for the library's own
 * refusals, which carry it in their result. */
int hd_host_safety_reason(hd_nodedev_list *list, hd_device *d, char **ret_reason);
/* Every process holding one of @d's DRM nodes open (this process left
 * out), sorted by pid; caller frees *ret. */
int hd_device_drm_users(hd_nodedev_list *list, hd_device *d, hd_gpu_user **ret, size_t *ret_n);
