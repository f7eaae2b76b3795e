/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon/methods-sriov-mdev.c: the manager's further SR-IOV and
 * mediated-device methods (SRIOV_MDEV_VTABLE, in hostdevd.c's manager
 * vtable; docs/dbus.md). */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "hostdev/sriov.h"

struct daemon;
/* sriov set of @name, replied (SriovSet, SriovSetNumVfs) */
int sriov_set_reply(struct daemon *d, sd_bus_message *m, const char *name, const hd_sriov_set_opts *o, bool dry_run,
                    bool force);

int method_gpu_list(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_sriov_list(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_sriov_set(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_sriov_set_vf(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_sriov_persist(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_sriov_persist_vf(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_mdev_list(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_mdev_types(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_mdev_define(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_mdev_undefine(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_mdev_start(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_mdev_set_autostart(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_mdev_modify(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_nodedev_create_xml(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_nodedev_define_xml(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_nodedev_destroy(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_nodedev_undefine(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_nodedev_start(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_nodedev_set_autostart(sd_bus_message *m, void *userdata, sd_bus_error *error);

#define SRIOV_MDEV_METHOD_(name, in, in_names, out, out_names, fn) \
        SD_BUS_METHOD_WITH_NAMES(name, in, in_names, out, out_names, fn, SD_BUS_VTABLE_UNPRIVILEGED)
/* the VF settings of SriovSetVf and SriovPersistVf */
#define SRIOV_VF_ARGS_ "susiiiit"
#define SRIOV_VF_NAMES_ \
        SD_BUS_PARAM(pf) SD_BUS_PARAM(index) SD_BUS_PARAM(mac) SD_BUS_PARAM(vlan) SD_BUS_PARAM(qos) \
        SD_BUS_PARAM(trust) SD_BUS_PARAM(spoofchk) SD_BUS_PARAM(flags)
#define SRIOV_SET_NAMES_ SD_BUS_PARAM(pf) SD_BUS_PARAM(numvfs) SD_BUS_PARAM(driver) SD_BUS_PARAM(autoprobe) SD_BUS_PARAM(flags)

#define SRIOV_MDEV_VTABLE \
        SRIOV_MDEV_METHOD_("SriovList", "", , "s", SD_BUS_PARAM(json), method_sriov_list), \
        SRIOV_MDEV_METHOD_("SriovSet", "susit", SRIOV_SET_NAMES_, "s", SD_BUS_PARAM(result), method_sriov_set), \
        SRIOV_MDEV_METHOD_("SriovSetVf", SRIOV_VF_ARGS_, SRIOV_VF_NAMES_, "s", SD_BUS_PARAM(result), method_sriov_set_vf), \
        SRIOV_MDEV_METHOD_("SriovPersist", "susit", SRIOV_SET_NAMES_, "s", SD_BUS_PARAM(result), method_sriov_persist), \
        SRIOV_MDEV_METHOD_("SriovPersistVf", SRIOV_VF_ARGS_, SRIOV_VF_NAMES_, "s", SD_BUS_PARAM(result), \
                           method_sriov_persist_vf), \
        SRIOV_MDEV_METHOD_("MdevList", "t", SD_BUS_PARAM(flags), "s", SD_BUS_PARAM(json), method_mdev_list), \
        SRIOV_MDEV_METHOD_("MdevTypes", "s", SD_BUS_PARAM(parent), "s", SD_BUS_PARAM(json), method_mdev_types), \
        SRIOV_MDEV_METHOD_("MdevDefine", "ssssa(ss)t", SD_BUS_PARAM(uuid) SD_BUS_PARAM(parent) SD_BUS_PARAM(type) \
                           SD_BUS_PARAM(json) SD_BUS_PARAM(attrs) SD_BUS_PARAM(flags), "s", SD_BUS_PARAM(result), \
                           method_mdev_define), \
        SRIOV_MDEV_METHOD_("MdevUndefine", "sst", SD_BUS_PARAM(uuid) SD_BUS_PARAM(parent) SD_BUS_PARAM(flags), "s", \
                           SD_BUS_PARAM(result), method_mdev_undefine), \
        SRIOV_MDEV_METHOD_("MdevStart", "sst", SD_BUS_PARAM(uuid) SD_BUS_PARAM(parent) SD_BUS_PARAM(flags), "s", \
                           SD_BUS_PARAM(result), method_mdev_start), \
        SRIOV_MDEV_METHOD_("MdevSetAutostart", "ssbt", SD_BUS_PARAM(uuid) SD_BUS_PARAM(parent) SD_BUS_PARAM(autostart) \
                           SD_BUS_PARAM(flags), "s", SD_BUS_PARAM(result), method_mdev_set_autostart), \
        SRIOV_MDEV_METHOD_("MdevModify", "sssia(ss)ast", SD_BUS_PARAM(uuid) SD_BUS_PARAM(parent) SD_BUS_PARAM(type) \
                           SD_BUS_PARAM(autostart) SD_BUS_PARAM(add_attrs) SD_BUS_PARAM(delete_attrs) SD_BUS_PARAM(flags), \
                           "s", SD_BUS_PARAM(result), method_mdev_modify), \
        SRIOV_MDEV_METHOD_("NodedevCreateXML", "st", SD_BUS_PARAM(xml) SD_BUS_PARAM(flags), "s", SD_BUS_PARAM(result), \
                           method_nodedev_create_xml), \
        SRIOV_MDEV_METHOD_("NodedevDefineXML", "st", SD_BUS_PARAM(xml) SD_BUS_PARAM(flags), "s", SD_BUS_PARAM(result), \
                           method_nodedev_define_xml), \
        SRIOV_MDEV_METHOD_("NodedevDestroy", "st", SD_BUS_PARAM(name) SD_BUS_PARAM(flags), "s", SD_BUS_PARAM(result), \
                           method_nodedev_destroy), \
        SRIOV_MDEV_METHOD_("NodedevUndefine", "st", SD_BUS_PARAM(name) SD_BUS_PARAM(flags), "s", SD_BUS_PARAM(result), \
                           method_nodedev_undefine), \
        SRIOV_MDEV_METHOD_("NodedevStart", "st", SD_BUS_PARAM(name) SD_BUS_PARAM(flags), "s", SD_BUS_PARAM(result), \
                           method_nodedev_start), \
        SRIOV_MDEV_METHOD_("NodedevSetAutostart", "sbt", SD_BUS_PARAM(name) SD_BUS_PARAM(autostart) SD_BUS_PARAM(flags), \
                           "s", SD_BUS_PARAM(result), method_nodedev_set_autostart), \
        SRIOV_MDEV_METHOD_("GpuList", "s", SD_BUS_PARAM(name), "s", SD_BUS_PARAM(json), method_gpu_list)
