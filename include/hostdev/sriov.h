/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SR-IOV: virtual functions (sriov/).  Included by hostdev.h.
 *
 * VF counts go through sysfs (sriov_numvfs, sriov_drivers_autoprobe), VF
 * link settings (MAC, VLAN, trust, spoof check) through rtnetlink on the
 * PF's network interface; the wanted state of a PF can be persisted as
 * CONFIG_DIR/sriov/<pci-address>.json and re-created with hd_sriov_apply()
 * (format: docs/sriov.md). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "hostdev/hostdev.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- what is there ------------------------------------------------------ */

/* The strings of these structs are owned by them (hd_sriov_pf_free());
 * NULL means none. */
typedef struct hd_sriov_vf {
        unsigned index;         /* virtfn<index> */
        char *addr;             /* PCI address, always set */
        char *driver;           /* NULL = unbound */
        char *netdev;           /* first network interface, NULL = none */
        /* From rtnetlink (live host, PF with a netdev); has_link_info false
         * otherwise, e.g. with a sysroot. */
        bool has_link_info;
        char *mac;              /* "aa:bb:cc:dd:ee:ff", NULL = none reported */
        unsigned vlan, qos;     /* vlan 0 = none */
        int spoofchk;           /* 1 on, 0 off, -1 unknown */
        int trust;              /* 1 on, 0 off, -1 unknown */
        int link_state;         /* 0 auto, 1 enable, 2 disable, -1 unknown */
} hd_sriov_vf;

typedef struct hd_sriov_pf {
        char *addr;             /* PCI address, always set */
        char *name;             /* node-device name, always set */
        char *driver;           /* NULL = unbound */
        char *netdev;           /* NULL = none */
        unsigned vendor, device;
        unsigned totalvfs, numvfs;
        int autoprobe;          /* sriov_drivers_autoprobe: 1, 0, -1 unknown */
        hd_sriov_vf *vfs;       /* n_vfs entries, by index */
        size_t n_vfs;
} hd_sriov_pf;

/* Every SR-IOV physical function (sriov_totalvfs > 0), sorted by address. */
int hd_sriov_pf_list(hd_nodedev_list *list, hd_sriov_pf **ret, size_t *ret_n);
/* One PF; -EOPNOTSUPP when @d is not an SR-IOV PF. */
int hd_sriov_pf_get(hd_nodedev_list *list, hd_device *d, hd_sriov_pf **ret);
/* Frees @n PFs at @pfs, their strings and VFs (NULL is fine). */
void hd_sriov_pf_free(hd_sriov_pf *pfs, size_t n);

/* ---- results of changes ------------------------------------------------- */

/* Changes report an hd_result (include/hostdev/result.h) of kind
 * HD_RESULT_SRIOV: one step per action that changed, would change (dry
 * run), was skipped or failed; subject the PF's PCI address (or
 * interface), action "sriov_numvfs 2 -> 4", "VF 0: mac 02:..", ...;
 * status 0, -EBUSY refused, other -errno failed, with the reason. */
typedef struct hd_result hd_result;

enum {
        HD_SRIOV_DRY_RUN = 1 << 0, /* plan and check only; change nothing */
        HD_SRIOV_FORCE = 1 << 1,   /* destroy VFs detached for VMs or in use */
};

/* ---- VF count ------------------------------------------------------------ */

typedef struct hd_sriov_set_opts {
        unsigned numvfs;
        /* NULL: leave VF drivers to the kernel; "vfio-pci" or "pci-stub":
         * bind every VF there (autoprobe defaults to off); "host": VFs stay
         * with / probe their host driver (autoprobe defaults to on). */
        const char *driver;
        int autoprobe;          /* -1 leave (or driver default), 0 off, 1 on */
} hd_sriov_set_opts;

/**
 * hd_sriov_set_numvfs: make @pf have @opts->numvfs VFs through sysfs
 * sriov_numvfs (through 0 when both counts are non-zero, as the kernel
 * requires), then bind the VFs as @opts->driver asks (hd_vfio_detach).
 * A count above sriov_totalvfs fails before any change: result status
 * -ERANGE, the reason naming the limit.  When
 * VFs would disappear and one of them is detached for a VM (vfio-pci,
 * pci-stub) or needed by the host (hd_host_safety_check), result status is
 * -EBUSY with the reason and nothing changes, unless HD_SRIOV_FORCE.
 *
 * Returns <0 when nothing could be planned (-EOPNOTSUPP: not an SR-IOV PF,
 * -EINVAL) and sets the context's error; otherwise 0 and *ret.  @list may be re-read inside,
 * so device pointers obtained from it stay valid but their VF children
 * may be stale: re-enumerate afterwards.
 */
int hd_sriov_set_numvfs(hd_nodedev_list *list, hd_device *pf, const hd_sriov_set_opts *opts, unsigned flags,
                        hd_result **ret);

/* ---- VF link settings (rtnetlink) ------------------------------------------ */

typedef struct hd_sriov_vf_config {
        unsigned index;
        bool set_mac;
        unsigned char mac[6];
        bool set_vlan;
        unsigned vlan;          /* 0..4095, 0 = none */
        unsigned qos;
        int trust;              /* -1 leave, 0 off, 1 on */
        int spoofchk;           /* -1 leave, 0 off, 1 on */
} hd_sriov_vf_config;

/* "aa:bb:cc:dd:ee:ff" (or '-' separated): 0, -EINVAL on bad syntax,
 * -EADDRNOTAVAIL for a multicast/broadcast address. */
int hd_sriov_parse_mac(const char *s, unsigned char mac[6]);

/**
 * hd_sriov_vf_configure: set VF @c->index of @d (a PCI PF, or a network
 * interface with VFs) through RTM_SETLINK on the PF's interface.  Only the
 * settings that differ from the current ones are sent.  Needs the live
 * host: with a sysroot, a dry run plans every setting (one PLANNED step,
 * its error text saying that nothing was compared with the VF) and
 * anything else is -EOPNOTSUPP.  -EOPNOTSUPP also when @d is not a PF or
 * its interface; -ENODEV when the PF has no network interface; -ERANGE
 * when the index is not below the number of VFs.  Errors set the
 * context's error.
 */
int hd_sriov_vf_configure(hd_nodedev_list *list, hd_device *d, const hd_sriov_vf_config *c, unsigned flags,
                          hd_result **ret);

/* ---- persisted state --------------------------------------------------------- */

typedef struct hd_sriov_pf_config {
        char *address;          /* owned strings, freed by hd_sriov_pf_config_free() */
        unsigned vendor, device;
        char *serial;           /* PCIe DSN or VPD SN; NULL = none recorded */
        unsigned numvfs;
        char *driver;           /* "vfio-pci", "pci-stub" or NULL (host drivers) */
        int autoprobe;          /* 1, 0 */
        hd_sriov_vf_config *vfs; /* sorted by index; trust/spoofchk -1 = not set */
        size_t n_vfs;
} hd_sriov_pf_config;

void hd_sriov_pf_config_free(hd_sriov_pf_config *c);
/* SYSROOT/etc/hostdev with a sysroot, else /etc/hostdev. */
int hd_sriov_default_config_dir(hd_ctx *ctx, char **ret);
/* The configuration directory: $HOSTDEV_CONFIG_DIR when set (-EINVAL
 * unless it is an absolute path; sets the context's error), else
 * hd_sriov_default_config_dir(). */
int hd_sriov_config_dir(hd_ctx *ctx, char **ret);
/**
 * hd_sriov_config_read: parse @dir/sriov/@addr.json.  -ENOENT when absent;
 * -EBADMSG for malformed content; sets the context's error (@ctx may be
 * NULL), for -EBADMSG one line naming the file.
 */
int hd_sriov_config_read(hd_ctx *ctx, const char *dir, const char *addr, hd_sriov_pf_config **ret);
/* Write @dir/sriov/<address>.json through a temporary file and rename. */
int hd_sriov_config_write(const char *dir, const hd_sriov_pf_config *c);
/* PCI addresses with a config file in @dir/sriov, sorted (strv, free each). */
int hd_sriov_config_list(const char *dir, char ***ret, size_t *ret_n);

/**
 * hd_sriov_persist: merge into @dir/sriov/<pf>.json (created from the
 * device's current state when absent) the VF count settings @set and/or
 * the VF settings @vf (either may be NULL).  The identity (vendor, device,
 * serial) is refreshed from the device.  Returns <0 only for bad
 * arguments (-EINVAL; -EOPNOTSUPP: not an SR-IOV PF); otherwise 0 and *ret
 * (kind HD_RESULT_SRIOV): one step "persisted in DIR/sriov/ADDR.json", or
 * the status and reason of the failure: a malformed existing file is not
 * replaced (-EBADMSG), a VF index beyond the persisted count is -ERANGE.
 */
int hd_sriov_persist(hd_nodedev_list *list, hd_device *pf, const char *dir, const hd_sriov_set_opts *set,
                     const hd_sriov_vf_config *vf, hd_result **ret);

/**
 * hd_sriov_apply: re-create the state persisted in @dir/sriov: VF counts,
 * VF driver binding, VF link settings (live host only).  Idempotent: what
 * is already in place yields no action.  A PF whose vendor:device (or
 * recorded serial) differs from the file is skipped with a warning.
 * Returns <0 only when nothing could be attempted; per-PF failures are
 * actions, and *ret's status is the first failure.
 */
int hd_sriov_apply(hd_nodedev_list *list, const char *dir, unsigned flags, hd_result **ret);

/**
 * hd_sriov_apply_device: hd_sriov_apply() for one PF, @pf, that has just
 * appeared (hotplug; hostdevd calls it for every device that appears):
 * the VF count, the VFs' driver binding and autoprobe (and, on the live
 * host, the VF link settings) persisted in @dir/sriov/<address>.json.
 * The file records the PF's identity (vendor:device, and the serial
 * number when it had one); when the device at the address is another one
 * (drift) nothing changes: *ret's status is -EBUSY (refused), its reason
 * names both identities, logged as a warning.  @flags: HD_SRIOV_DRY_RUN
 * only.  Returns 0 when nothing is persisted for @pf (not a PCI function,
 * no file; *ret untouched), 1 with *ret (kind HD_RESULT_SRIOV; a malformed
 * file is a failed result), <0 when the lock cannot be taken or memory
 * ran out.
 */
int hd_sriov_apply_device(hd_nodedev_list *list, const char *dir, hd_device *pf, unsigned flags, hd_result **ret);

/* What hd_apply() did, in its order. */
typedef struct hd_apply_result {
        char *config_dir;                   /* the directory read (hd_sriov_config_dir()) */
        int sriov_error;                    /* <0: hd_sriov_apply() could attempt nothing; then
                                             * no mdev was attempted either (mdev_error 0, mdev NULL) */
        hd_result *sriov;                   /* SR-IOV actions (NULL with sriov_error; NULL in a result
                                             * of the mdev stage alone, `mdev apply`, which
                                             * hd_apply_result_get_verdict(), _format_messages()
                                             * and _format_error() take) */
        int mdev_error;                     /* hd_mdev_apply_full()'s return */
        hd_result *mdev;                    /* auto-start mdevs (NULL when none could be attempted) */
} hd_apply_result;
void hd_apply_result_free(hd_apply_result *r);

/**
 * hd_apply: re-create the whole persisted state of the host, in the order
 * it needs: SR-IOV first (hd_sriov_apply() on hd_sriov_config_dir(); VFs
 * can be mdev parents), then the auto-start mediated devices
 * (hd_mdev_apply_full()).  @flags: HD_SRIOV_DRY_RUN plans both.  Returns
 * <0 only when the configuration directory is unusable (-EINVAL: a
 * relative $HOSTDEV_CONFIG_DIR, with the context's error) or memory ran
 * out; otherwise *ret tells what each stage did.
 */
int hd_apply(hd_nodedev_list *list, unsigned flags, hd_apply_result **ret);

/**
 * hd_apply_result_to_json: the document `hostdevctl apply --json` prints
 * (docs/json.md): the SR-IOV result's {"status", "reason", "actions"}
 * with the mediated devices' steps as "mdevs" ([] when none could be
 * attempted); "status" is "failed" when the SR-IOV stage was ok and the
 * mdev stage failed.  Returns r->sriov_error when that is <0 (nothing
 * was attempted: there is no document), else 0 or -ENOMEM.  Caller puts
 * *ret.
 */
int hd_apply_result_to_json(const hd_apply_result *r, struct json_object **ret);
/**
 * hd_apply_result_format_text: the lines `hostdevctl apply` prints on
 * stdout: the SR-IOV actions (hd_result_format_text()), "sriov: nothing
 * changed" when no action changed anything, then the mdev steps; each
 * line newline-terminated ("" when none).  The reasons of failures are
 * not part of it.  Returns r->sriov_error when that is <0, else 0 or
 * -ENOMEM.  Caller frees *ret.
 */
int hd_apply_result_format_text(const hd_apply_result *r, char **ret);

/* How an apply ended (hd_apply_result_get_verdict()). */
typedef enum hd_apply_verdict {
        HD_APPLY_OK = 0,        /* every stage succeeded */
        HD_APPLY_REFUSED = 1,   /* the SR-IOV stage was refused (status -EBUSY: a recorded identity
                                 * differs, a VF in use); hostdevctl's exit status 2 */
        HD_APPLY_FAILED = 2,    /* a stage failed, or nothing could be attempted; exit status 1 */
} hd_apply_verdict;
/**
 * hd_apply_result_get_verdict: how @r's apply ended: the SR-IOV stage
 * decides when it did not succeed (refused or failed), else the mdev
 * stage (failed: hd_mdev_apply_full() failed, or its status is <0); an
 * unreadable configuration directory (sriov_error) is HD_APPLY_FAILED.
 * A result of the mdev stage alone (sriov NULL, sriov_error 0: `mdev
 * apply`) is that stage's verdict.
 * -EINVAL when @r is NULL.
 */
int hd_apply_result_get_verdict(const hd_apply_result *r);
/**
 * hd_apply_result_format_messages: the sentences `hostdevctl apply`
 * prints on stderr (each one line there, after "hostdevctl: "), in their
 * order, as a NULL-terminated array (empty when there are none; free each
 * and the array): for an unreadable configuration directory
 * "apply: DIR/sriov: STRERROR" alone; else the SR-IOV stage's note
 * ("note: REASON", when it succeeded with a reason), refusal ("apply
 * refused: REASON") or failure ("apply failed: REASON"), then the mdev
 * stage's failure ("apply: mediated devices: STRERROR" when nothing could
 * be attempted, else "apply: REASON"; the mdev stage's alone for a
 * result without an SR-IOV stage).  hostdevd's Apply and MdevApply send
 * them (docs/dbus.md).  Returns 0, -EINVAL or -ENOMEM.
 */
int hd_apply_result_format_messages(const hd_apply_result *r, char ***ret);
/**
 * hd_apply_result_format_error: the sentence of the first refusal or
 * failure of hd_apply_result_format_messages() (a note is none): the
 * message of hostdevd's Apply error.  *ret NULL when the verdict is
 * HD_APPLY_OK.  Returns 0, -EINVAL or -ENOMEM.  Caller frees *ret.
 */
int hd_apply_result_format_error(const hd_apply_result *r, char **ret);

#ifdef __cplusplus
}
#endif
