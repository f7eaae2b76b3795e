/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared inside domain/: the context's usage (libvirt.c) for the
 * operations on domains (operations.c). */
#pragma once

#include "hostdev/hostdev.h"

/* hd_domain_usage_reload() resolving VF pools against @list (NULL: the
 * usage's list, else a list made for the purpose). */
int hd_domain_usage_reload_with(hd_domain_usage *u, hd_nodedev_list *list);
/* The URI the context's usage names: libvirt's own once connected, else
 * the one it was given, else "the default URI". */
const char *hd_domain_usage_uri_of(hd_ctx *ctx);
