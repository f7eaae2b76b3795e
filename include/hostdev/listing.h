/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The JSON documents of the listings that every front end shows the same
 * way: the fields of a node device in `hostdevctl nodedev-list --json`
 * (and its table columns), and the IOMMU document of `hostdevctl iommu
 * --json`.  hostdevctl and hostdevd render them through these functions,
 * so the CLI and the D-Bus API answer byte for byte alike (docs/json.md).
 */
#pragma once

#include <stdbool.h>

#include "hostdev/hostdev.h"

#ifdef __cplusplus
extern "C" {
#endif

struct json_object;

/*
 * hd_device_field_to_json: one field of @d by its JSON key: "name",
 * "parent", "capability", "subsystem", "path", "devnode", "driver",
 * "iommu_group", "iommu_group_viable", "address", "class", "id", "vendor",
 * "product", "active", "persistent", "autostart".  *ret is a string,
 * integer or boolean, or NULL (JSON null: the device has no such value).
 * -ENOENT: an unknown key.  Caller puts *ret.
 */
int hd_device_field_to_json(hd_nodedev_list *list, hd_device *d, const char *key, struct json_object **ret);

/*
 * hd_nodedev_list_to_json: `nodedev-list --json`: an array with one object
 * per device of @list for which @match returns true (every device when
 * @match is NULL), in list order, with the keys name, parent, capability,
 * subsystem, path, devnode, driver, iommu_group, iommu_group_viable.
 * Caller puts *ret.
 */
int hd_nodedev_list_to_json(hd_nodedev_list *list, bool (*match)(hd_device *d, void *userdata), void *userdata,
                            struct json_object **ret);

/*
 * hd_iommu_to_json: `iommu --json`: {"iommu": {enabled, vendor,
 * interrupt_remapping, hint, hypervisor}, "groups": [{number, viable,
 * blocker, devices: [...]}]}, groups in hd_iommu_list_groups() order and
 * their devices in hd_iommu_group_get_devices() order (a front end may
 * add keys of its own to them: hostdevctl's "used_by", "vfio_holder").
 * Caller puts *ret.
 */
int hd_iommu_to_json(hd_nodedev_list *list, struct json_object **ret);

/*
 * The filters of `nodedev-list`: which devices a listing shows.  Set one
 * option at a time (hostdevctl, from its options) or parse a filter string
 * (hostdevd's ListDevices): both refuse with hostdevctl's words.
 */
typedef struct hd_nodedev_filter hd_nodedev_filter;
int hd_nodedev_filter_new(hd_nodedev_filter **ret);
void hd_nodedev_filter_free(hd_nodedev_filter *f);
/*
 * hd_nodedev_filter_set: one option of nodedev-list by its long name:
 * "cap" (a comma-separated list of capabilities), "slot" (-s), "id" (-d),
 * "class", "driver" with @arg; "inactive", "all", "persistent",
 * "transient" with @arg NULL.  -EINVAL for a bad argument, with
 * *ret_error (may be NULL; caller frees) in hostdevctl's words;
 * -ENOENT when @option is not a filter (or @arg is given to a flag or
 * missing).
 */
int hd_nodedev_filter_set(hd_nodedev_filter *f, const char *option, const char *arg, char **ret_error);
/* The options that exclude each other (--inactive and --all,
 * --persistent and --transient): -EINVAL with *ret_error. */
int hd_nodedev_filter_check(const hd_nodedev_filter *f, char **ret_error);
/*
 * hd_nodedev_filter_parse: a filter string: nodedev-list's filter options
 * as hostdevctl takes them, separated by white space, each spelled out,
 * an argument as the next word or after "=": "--cap pci,net
 * --driver=vfio-pci -s 01:00 --inactive".  "" is no filter.  -EINVAL
 * with *ret_error (hostdevctl's words) for anything else.  Free *ret
 * with hd_nodedev_filter_free().
 */
int hd_nodedev_filter_parse(const char *spec, hd_nodedev_filter **ret, char **ret_error);
/* whether it filters by the device (--cap, -s, -d, --class, --driver:
 * these exclude --tree), by the state (the defined mdevs are to be read:
 * hd_nodedev_list_add_defined_mdevs()) */
bool hd_nodedev_filter_by_device(const hd_nodedev_filter *f);
bool hd_nodedev_filter_by_state(const hd_nodedev_filter *f);
/* whether @d passes @filter (an hd_nodedev_filter *): the match function
 * of hd_nodedev_list_to_json(); without a state filter, active devices */
bool hd_nodedev_filter_match(hd_device *d, void *filter);

/* The text of a JSON document as hostdevctl prints it (pretty, "/" not
 * escaped), without a final newline.  Caller frees *ret. */
int hd_json_to_text(struct json_object *o, char **ret);

/*
 * The listings of SR-IOV and mediated devices (sriov/listing.c), each an
 * array in the order given: hd_sriov_pf_list_to_json is `sriov list
 * --json` of hd_sriov_pf_list()'s PFs, hd_mdev_list_to_json `mdev list
 * --json` of hd_mdev_list()'s mdevs, hd_mdev_types_to_json `mdev types
 * --json` of hd_mdev_list_types()'s types (docs/json.md).  -EINVAL for a
 * NULL @ret (or items), -ENOMEM.  Caller puts *ret.
 */
int hd_sriov_pf_list_to_json(const hd_sriov_pf *pfs, size_t n, struct json_object **ret);
int hd_mdev_list_to_json(const hd_mdev *mdevs, size_t n, struct json_object **ret);
int hd_mdev_types_to_json(const hd_mdev_type *types, size_t n, struct json_object **ret);
/* `gpu [NAME] --json` of hd_gpu_list()'s (or hd_gpu_get()'s) GPUs. */
int hd_gpu_list_to_json(const hd_gpu *gpus, size_t n, struct json_object **ret);

#ifdef __cplusplus
}
#endif
