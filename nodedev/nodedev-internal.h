/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* nodedev/ only: the fields of hd_device and hd_nodedev_list. Other
 * modules include nodedev/device.h and use accessors. */
#include "nodedev/device.h"

struct hd_device {
        hd_nodedev_list *list;
        struct hd_raw_device raw;
        const char *sysname;    /* points into raw.syspath */
        const char *devtype;    /* borrowed from props */
        char *devnode;
        char *name;
        enum hd_cap_type type;
        hd_device *parent;
        hd_device **children;
        size_t n_children, cap_children;
        char *driver;
        bool driver_loaded;
        signed char bridge;     /* iommu/: 0 not known yet, 1 a bridge, -1 not one */
        /* added by an extension without a kernel device (a defined,
         * stopped mdev): no syspath; sysname is then own_sysname */
        bool inactive;
        char *own_sysname;
        void *ext_data[HD_NODEDEV_EXT_MAX]; /* one slot per extension */
};

struct hd_nodedev_list {
        hd_ctx *ctx;
        hd_device **devs;       /* sorted by name */
        size_t n;
        hd_device *root;
        struct hd_hashmap *by_path;
        struct hd_hashmap *by_name;
        struct hd_hashmap *mdev_bus; /* syspaths listed in /sys/class/mdev_bus */
        char **mdev_bus_paths;       /* owns the keys of mdev_bus */
        size_t n_mdev_bus_paths;
        void *ext_data[HD_NODEDEV_EXT_MAX]; /* one slot per extension */
        /* lazy lists (hd_nodedev_list_new_lazy): nothing enumerated up
         * front; lookups read devices and their parent chains on demand */
        bool lazy;
        /* iommu/: the members of the IOMMU group listed last (the CLI
         * lists a group, then asks whether it is viable, which lists it
         * again); membership changes only when devices come or go */
        long long members_group;
        char **members;
        size_t n_members;
        struct hd_hashmap *not_nodes; /* syspaths known to be no node device */
        char **not_node_paths;        /* owns the keys of not_nodes */
        size_t n_not_node_paths;
};


/* source-sysfs.c: the device directories of every subsystem the sources
 * read, in their order ("sys/bus/X/devices", then "sys/class/X"; the
 * hd_skip_subsystems left out), with the subsystem names alongside. */
int hd_sysfs_subsystem_dirs(hd_ctx *ctx, char ***ret_subs, char ***ret_dirs, size_t *ret_n);
