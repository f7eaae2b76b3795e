/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mediated devices (mdev/).  Included by hostdev.h.
 *
 * hostdev creates and removes mdevs through sysfs itself
 * (mdev_supported_types/<type>/create, <mdev>/remove) and keeps persistent
 * definitions in mdevctl's on-disk format, so the two tools share them:
 *
 *   <config dir>/<parent>/<uuid>     (JSON, as mdevctl writes it)
 *   {
 *     "mdev_type": "i915-GVTg_V5_4",
 *     "start": "auto",                 ("auto" or "manual")
 *     "attrs": [ { "name": "value" }, ... ]
 *   }
 *
 * The config dir is $HOSTDEV_MDEVCTL_DIR when set, else
 * SYSROOT/etc/mdevctl.d with a sysroot, else /etc/mdevctl.d.  Files are
 * written to a temporary name and renamed, never left half written.
 *
 * <parent> is the parent's address as /sys/class/mdev_bus names it
 * ("0000:00:02.0", "mtty").  Functions taking a parent also accept its
 * node-device name ("pci_0000_00_02_0", "mtty_mtty") or a short PCI
 * address ("00:02.0").
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hd_ctx hd_ctx;
typedef struct hd_nodedev_list hd_nodedev_list;
typedef struct hd_device hd_device;

/* Where definitions live (see above); caller frees. */
int hd_mdev_config_dir(hd_ctx *ctx, char **ret);

/* ---- types ------------------------------------------------------------ */

typedef struct hd_mdev_type {
        char *parent;           /* "0000:00:02.0", "mtty" */
        char *id;               /* "i915-GVTg_V5_4" */
        char *name;             /* NULL when the driver gives none */
        char *device_api;       /* "vfio-pci", ... or NULL */
        char *description;      /* or NULL */
        long available;         /* available_instances, -1 when unreadable */
} hd_mdev_type;

/* Types of every mdev parent, or of @parent only (NULL: all); sorted by
 * parent, then id.  -ENODEV when @parent is not an mdev parent.  Sets the
 * context's error. */
int hd_mdev_list_types(hd_ctx *ctx, const char *parent, hd_mdev_type **ret, size_t *ret_n);
void hd_mdev_types_free(hd_mdev_type *t, size_t n);

/* ---- mediated devices --------------------------------------------------- */

typedef struct hd_mdev_attr {
        char *name, *value;
} hd_mdev_attr;

typedef struct hd_mdev {
        char *uuid;             /* lower case, 8-4-4-4-12; NULL: none yet
                                 * (hd_mdev_define makes one) */
        char *parent;           /* parent address */
        char *type;             /* type id */
        bool active;            /* exists in sysfs */
        bool defined;           /* has a definition (persistent) */
        bool autostart;         /* definition says "start": "auto" */
        hd_mdev_attr *attrs;    /* of the definition, in order */
        size_t n_attrs;
        int iommu_group;        /* active only; -1 otherwise */
} hd_mdev;

void hd_mdev_free(hd_mdev *m);
void hd_mdev_array_free(hd_mdev *m, size_t n);
/* Deep copy. */
int hd_mdev_copy(const hd_mdev *m, hd_mdev **ret);
/* Append an attribute (copies both strings). */
int hd_mdev_add_attr(hd_mdev *m, const char *name, const char *value);

enum {
        HD_MDEV_LIST_DEFINED = 1 << 0, /* only mdevs with a definition */
        HD_MDEV_LIST_ACTIVE = 1 << 1,  /* only mdevs that exist in sysfs */
};

/* Active and defined mdevs merged by (parent, uuid), sorted by parent then
 * uuid.  Unreadable or malformed definitions are skipped with a warning. */
int hd_mdev_list(hd_ctx *ctx, unsigned flags, hd_mdev **ret, size_t *ret_n);

/* One mdev by UUID (and parent, may be NULL).  -ENODEV when unknown,
 * -ENOTUNIQ when the UUID is defined under several parents and @parent is
 * NULL.  Sets the context's error. */
int hd_mdev_get(hd_ctx *ctx, const char *uuid, const char *parent, hd_mdev **ret);

/* true for "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (hex digits) */
bool hd_uuid_is_valid(const char *s);
/* A new random (version 4) UUID, lower case; caller frees. */
int hd_uuid_generate(char **ret);

/* Parent address of an mdev parent given as an address, node-device name
 * or short PCI address; -ENODEV when it is not a present mdev parent.
 * Sets the context's error. */
int hd_mdev_resolve_parent(hd_ctx *ctx, const char *spec, char **ret);

/*
 * The operations below change the host (sysfs or the config dir).  Each
 * returns <0 only for bad arguments (-EINVAL: NULL @ctx or @ret) or when
 * out of memory; otherwise 0 and *ret, an hd_result of kind HD_RESULT_MDEV
 * (include/hostdev/result.h) with one step: subject the UUID (NULL when
 * none was known), parent address, type, action ("create", "remove",
 * "define", "undefine", "start", "modify"), outcome DONE, PLANNED (dry
 * run) or FAILED.  The result's status is 0 or the -errno of the refusal
 * or failure (-EBUSY: refused, in use), its reason the words for people,
 * set where the failure is detected (NULL when only the errno is known).
 * The statuses are listed with each function.
 */
typedef struct hd_result hd_result;

enum {
        HD_MDEV_CREATE_DRY_RUN = 1 << 0,        /* every check, no change */
};

/**
 * hd_mdev_create: create (start) an mdev of @type on @parent, transient:
 * nothing is written to the config dir.  @uuid NULL: a random one.  The
 * attributes of @attrs (may be NULL) are written to the new device in
 * order; if one fails, the device is removed again.  The UUID created is
 * the step's subject.  With HD_MDEV_CREATE_DRY_RUN, the same checks and
 * statuses (but not -ENXIO, which needs the device) and the UUID that
 * would be used, without creating anything.
 *
 * Statuses: -ENODEV unknown parent, -ENOENT unknown type, -EINVAL bad UUID
 * or name, -EEXIST the UUID exists, -ENOSPC no available instance, -ENXIO
 * an attribute the device does not have.
 */
int hd_mdev_create(hd_ctx *ctx, const char *parent, const char *type, const char *uuid,
                   const hd_mdev_attr *attrs, size_t n_attrs, unsigned flags, hd_result **ret);

/**
 * hd_mdev_remove: remove (stop) an active mdev.  Status -EBUSY (refused,
 * "in use") when a process holds its /dev/vfio/<group> open (looked up in
 * /proc/<pid>/fd through the context's root), a running domain uses it
 * (hd_ctx_set_in_use_fn) or the kernel refuses; nothing changes then.
 * -ENODEV when no active mdev has this UUID.  The definition, if any, is
 * kept.
 */
int hd_mdev_remove(hd_ctx *ctx, const char *uuid, hd_result **ret);

/* 1 and the pid in *ret_pid (may be NULL) when some process has the mdev's
 * /dev/vfio/<group> open, 0 when none, <0 on error. */
int hd_mdev_in_use(hd_ctx *ctx, const char *uuid, int *ret_pid);

enum {
        HD_MDEV_DEFINE_REPLACE = 1 << 0, /* overwrite an existing definition */
};

/**
 * hd_mdev_define: write the definition of @m (uuid, parent, type,
 * autostart, attrs).  A NULL uuid means a new random one.  On success the
 * UUID and the parent's address are written back into @m.  When
 * @m->parent or @m->type is NULL and an active mdev has this UUID, they
 * are taken from it (mdevctl's "define a running device"); otherwise the
 * status is -EDESTADDRREQ.  The parent need not be present, but when it
 * is, the type must be one of its types (-ENOENT).  -EEXIST when already
 * defined (with HD_MDEV_DEFINE_REPLACE: only when defined under another
 * parent); -EINVAL bad UUID or name.
 */
int hd_mdev_define(hd_ctx *ctx, hd_mdev *m, unsigned flags, hd_result **ret);
/* Remove the definition (an active device keeps running).  Status -ENODEV
 * when not defined; -ENOTUNIQ when the UUID is defined under several
 * parents and @parent is NULL. */
int hd_mdev_undefine(hd_ctx *ctx, const char *uuid, const char *parent, hd_result **ret);
/* Start a defined mdev from its definition.  Status -EALREADY when
 * active, -ENODEV and -ENOTUNIQ as hd_mdev_undefine(), else as
 * hd_mdev_create(). */
int hd_mdev_start(hd_ctx *ctx, const char *uuid, const char *parent, hd_result **ret);
/* hd_mdev_modify_definition() of the start policy only. */
int hd_mdev_set_autostart(hd_ctx *ctx, const char *uuid, const char *parent, bool autostart, hd_result **ret);

typedef struct hd_mdev_modify {
        const char *type;               /* new type or NULL */
        int autostart;                  /* 1 auto, 0 manual, -1 unchanged */
        const hd_mdev_attr *add_attrs;  /* appended, in order */
        size_t n_add_attrs;
        const char *const *del_attrs;   /* names removed (every entry) */
        size_t n_del_attrs;
        bool clear_attrs;               /* drop every attribute first */
} hd_mdev_modify;

/* Change the definition of a defined mdev (not the running device).
 * Status -ENODEV, -ENOTUNIQ as hd_mdev_undefine(); -ENOENT an unknown
 * type (of a present parent) or an attribute to delete that is not
 * there; -EINVAL a bad name. */
int hd_mdev_modify_definition(hd_ctx *ctx, const char *uuid, const char *parent, const hd_mdev_modify *mod,
                              hd_result **ret);

/*
 * The same operations on a node device (libvirt's nodedev-destroy,
 * -undefine, -start, -autostart), which name the device by its node-device
 * name in the reasons.  Status -EOPNOTSUPP when @d is not a mediated
 * device; -ENODEV when it is not active (destroy) or not defined
 * (undefine, autostart); -EALREADY when already active (start); else as
 * the functions above.  @d's list must have its definitions
 * (hd_nodedev_list_add_defined_mdevs()).
 */
int hd_mdev_device_destroy(hd_device *d, hd_result **ret);
int hd_mdev_device_undefine(hd_device *d, hd_result **ret);
int hd_mdev_device_start(hd_device *d, hd_result **ret);
int hd_mdev_device_set_autostart(hd_device *d, bool autostart, hd_result **ret);

/* ---- apply -------------------------------------------------------------- */

/**
 * hd_mdev_apply: start every mdev defined with "start": "auto" whose parent
 * is present and that is not running yet; idempotent.  One step per auto
 * definition in *ret (kind HD_RESULT_MDEV_APPLY, include/hostdev/result.h):
 * subject the UUID, parent and type, outcome DONE (started), UNCHANGED
 * (already running), SKIPPED (parent absent), PLANNED (dry run) or FAILED
 * (with the error).  The result's status is the first error and its reason
 * counts the failures.  Returns <0 only when nothing could be attempted
 * (the definitions cannot be listed).
 */
int hd_mdev_apply(hd_ctx *ctx, hd_result **ret);
enum {
        HD_MDEV_APPLY_DRY_RUN = 1 << 0, /* check and report; start nothing */
};
int hd_mdev_apply_full(hd_ctx *ctx, unsigned flags, hd_result **ret);
/**
 * hd_mdev_apply_parent: hd_mdev_apply_full() for the auto-start
 * definitions whose parent is @parent (a parent's name under
 * /sys/class/mdev_bus: a PCI address, "mtty", ...), a device that has
 * just appeared (hotplug; hostdevd calls it for every device that
 * appears).  A definition records no identity of its parent beyond its
 * name: the type must be one the parent offers, else that step fails.
 * Returns 0 when @parent is not an mdev parent (no
 * /sys/class/mdev_bus/@parent: not one, or its driver is not bound yet)
 * or no auto-start definition names it (*ret untouched), 1 with *ret,
 * <0 as hd_mdev_apply_full().
 */
int hd_mdev_apply_parent(hd_ctx *ctx, const char *parent, unsigned flags, hd_result **ret);

/* ---- libvirt node-device XML and mdevctl JSON ---------------------------- */

/**
 * hd_mdev_parse_xml: parse libvirt node-device XML of an mdev:
 *   <device><name>..</name>?<parent>pci_0000_00_02_0</parent>
 *     <capability type='mdev'><type id='..'/><uuid>..</uuid>?
 *       <attr name='..' value='..'/>* <start type='auto|manual'/>?
 *   </capability></device>
 * The parent is resolved to its address (hd_mdev_resolve_parent); an
 * mdev whose parent is absent cannot be parsed.  Sets the context's
 * error.  -EBADMSG malformed XML or wrong document, -EINVAL bad UUID or
 * start, -ENODEV unknown parent, -ENOENT unknown type, -EOPNOTSUPP not an
 * mdev.
 */
int hd_mdev_parse_xml(hd_ctx *ctx, const char *xml, size_t len, hd_mdev **ret);

/* mdevctl JSON definition (the body of a config file): parse into @m's
 * type, autostart and attrs.  -EBADMSG; sets the context's error (@ctx
 * may be NULL: no reason is kept). */
int hd_mdev_parse_json(hd_ctx *ctx, const char *json, hd_mdev *m);
/* The config-file text of @m, as mdevctl writes it. */
int hd_mdev_format_json(const hd_mdev *m, char **ret);

/* libvirt node-device name of an mdev: mdev_<uuid>_<parent address>, every
 * non-alphanumeric character turned into '_'. */
int hd_mdev_nodedev_name(const char *uuid, const char *parent, char **ret);

/* ---- node devices ------------------------------------------------------- */

/**
 * hd_nodedev_list_add_defined_mdevs: add every defined mdev that is not
 * active to @list as an inactive node device (named as libvirt names it,
 * parented to its parent device or "computer"), and attach definitions
 * to the active mdevs that have one.  Idempotent.
 */
int hd_nodedev_list_add_defined_mdevs(hd_nodedev_list *list);
/* hd_nodedev_list_update_defined_mdevs (hostdev/hostdev.h): one parent's
 * defined mdevs read again into such a list. */

/* The mdev behind a node device (a copy): uuid, parent address, type,
 * state and definition.  -EINVAL when @d is not an mdev. */
int hd_device_get_mdev(hd_device *d, hd_mdev **ret);
/* false only for inactive (defined but not running) mdevs */
bool hd_device_is_active(hd_device *d);
/* true for defined mdevs */
bool hd_device_is_persistent(hd_device *d);
/* true for mdevs defined with "start": "auto" */
bool hd_device_get_autostart(hd_device *d);

#ifdef __cplusplus
}
#endif
