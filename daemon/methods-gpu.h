/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon/methods-gpu.c: VgpuCreate, VgpuRemove and GpuRom (GPU_VTABLE,
 * in hostdevd.c's manager vtable; docs/dbus.md). */
#pragma once

#include <systemd/sd-bus.h>

int method_vgpu_create(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_vgpu_remove(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_gpu_rom(sd_bus_message *m, void *userdata, sd_bus_error *error);

#define GPU_VTABLE \
        SD_BUS_METHOD_WITH_NAMES("VgpuCreate", "sst", SD_BUS_PARAM(name) SD_BUS_PARAM(type) SD_BUS_PARAM(flags), "ssss", \
                                 SD_BUS_PARAM(id) SD_BUS_PARAM(parent) SD_BUS_PARAM(type) SD_BUS_PARAM(layout), \
                                 method_vgpu_create, SD_BUS_VTABLE_UNPRIVILEGED), \
        SD_BUS_METHOD_WITH_NAMES("VgpuRemove", "st", SD_BUS_PARAM(id) SD_BUS_PARAM(flags), "", , method_vgpu_remove, \
                                 SD_BUS_VTABLE_UNPRIVILEGED), \
        SD_BUS_METHOD_WITH_NAMES("GpuRom", "st", SD_BUS_PARAM(name) SD_BUS_PARAM(flags), "sqqay", \
                                 SD_BUS_PARAM(device) SD_BUS_PARAM(vendor_id) SD_BUS_PARAM(device_id) SD_BUS_PARAM(rom), \
                                 method_gpu_rom, SD_BUS_VTABLE_UNPRIVILEGED)
