/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon/methods-reads.c: VgpuTypes, Doctor and MdevCreateWithAttrs
 * (READS_VTABLE, in hostdevd.c's manager vtable; docs/dbus.md). */
#pragma once

#include <systemd/sd-bus.h>

int method_vgpu_types(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_doctor(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_mdev_create_with_attrs(sd_bus_message *m, void *userdata, sd_bus_error *error);

#define READS_VTABLE \
        SD_BUS_METHOD_WITH_NAMES("VgpuTypes", "s", SD_BUS_PARAM(name), "s", SD_BUS_PARAM(json), method_vgpu_types, \
                                 SD_BUS_VTABLE_UNPRIVILEGED), \
        SD_BUS_METHOD_WITH_NAMES("Doctor", "as", SD_BUS_PARAM(devices), "s", SD_BUS_PARAM(json), method_doctor, \
                                 SD_BUS_VTABLE_UNPRIVILEGED), \
        SD_BUS_METHOD_WITH_NAMES("MdevCreateWithAttrs", "sssa(ss)t", SD_BUS_PARAM(parent) SD_BUS_PARAM(type) \
                                 SD_BUS_PARAM(uuid) SD_BUS_PARAM(attrs) SD_BUS_PARAM(flags), "s", SD_BUS_PARAM(result), \
                                 method_mdev_create_with_attrs, SD_BUS_VTABLE_UNPRIVILEGED)
