/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The result of an operation that changes the host (hd_vfio_detach,
 * hd_vfio_reattach, hd_vfio_recover, hd_pci_reset, hd_sriov_set_numvfs,
 * hd_sriov_vf_configure, hd_sriov_apply, hd_sriov_persist,
 * hd_mdev_apply_full, hd_mdev_create, hd_mdev_remove, hd_mdev_define,
 * hd_mdev_undefine, hd_mdev_start, hd_mdev_modify_definition, the
 * hd_mdev_device_* node-device operations, hd_domain_attach,
 * hd_domain_detach_device, hd_domain_hook_prepare and
 * hd_domain_hook_release).  Included by
 * hostdev.h.
 *
 * A result holds the overall status (0 or -errno; -EBUSY: refused), a
 * reason for humans (why it was refused or failed, or a hint on success;
 * NULL when there is none) and the ordered steps: what each device, PF or
 * mdev went through.  The operation logs the reason through the context's
 * log function (info level) where the failure happens and stores it here;
 * a caller prints hd_result_get_reason() and never turns the status back
 * into prose.
 *
 * hd_result_format_text() and hd_result_to_json() are the one text and the
 * one JSON rendering of a result, the ones hostdevctl prints.  Their shape
 * follows the result's kind, set by the operation that made it
 * (docs/json.md).
 */
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hd_result hd_result;
typedef struct hd_result_step hd_result_step;
typedef struct hd_ctx hd_ctx;
struct json_object;

/* Which operation made the result: it picks the words and the shape of
 * the renderings. */
enum hd_result_kind {
        HD_RESULT_DRIVERS,      /* vfio: devices moving between drivers */
        HD_RESULT_SRIOV,        /* sriov set / vf / apply: actions on PFs */
        HD_RESULT_MDEV_APPLY,   /* mdev apply: defined mdevs started */
        HD_RESULT_RESET,        /* nodedev-reset: one PCI function reset */
        HD_RESULT_MDEV,         /* mdev create, remove, define, ...: one mdev */
        HD_RESULT_DOMAIN,       /* attach, detach-device, the qemu hook: a device and a libvirt domain */
};

enum hd_outcome {
        HD_OUTCOME_DONE,          /* changed */
        HD_OUTCOME_UNCHANGED,     /* already as wanted */
        HD_OUTCOME_PLANNED,       /* dry run: would change */
        HD_OUTCOME_SKIPPED,       /* not applied (why: the action or the error text) */
        HD_OUTCOME_FAILED,        /* failed (error, error text) */
        HD_OUTCOME_ROLLED_BACK,   /* changed, then undone after a failure */
        HD_OUTCOME_NOT_ATTEMPTED, /* not reached because of a refusal or an earlier failure */
};

hd_result *hd_result_ref(hd_result *r);
hd_result *hd_result_unref(hd_result *r);
static inline void hd_result_unrefp(hd_result **r) {
        if (*r)
                hd_result_unref(*r);
}
/* _hd_cleanup_result_ hd_result *res = NULL; */
#define _hd_cleanup_result_ __attribute__((cleanup(hd_result_unrefp)))

/* Every getter accepts NULL: status -EINVAL, strings NULL, counts 0. */
enum hd_result_kind hd_result_get_kind(const hd_result *r);
/* 0 success, -EBUSY refused (host safety, in use), other -errno failed */
int hd_result_get_status(const hd_result *r);
/* "ok", "refused" or "failed", from the status */
const char *hd_result_get_status_string(const hd_result *r);
/* Refusal or failure for humans; on success a hint; NULL when none. */
const char *hd_result_get_reason(const hd_result *r);
size_t hd_result_get_n_steps(const hd_result *r);
/* The i-th step, NULL when out of range; it belongs to the result. */
const hd_result_step *hd_result_get_step(const hd_result *r, size_t i);
/* Number of steps with @outcome. */
size_t hd_result_count_outcome(const hd_result *r, enum hd_outcome outcome);

/* What the step is about: PCI address, PF, mdev UUID. */
const char *hd_result_step_get_subject(const hd_result_step *s);
/* What was done ("sriov_numvfs 2 -> 4", "start"); NULL when the kind
 * says it (a driver move). */
const char *hd_result_step_get_action(const hd_result_step *s);
/* Where the subject lives (an mdev's parent, the libvirt domain of an
 * attach or detach) and its type (mdev type; for HD_RESULT_DOMAIN the
 * step: "detach-group", "move", "managed", "attach", "detach",
 * "give-back", "rollback"); NULL when not applicable. */
const char *hd_result_step_get_parent(const hd_result_step *s);
const char *hd_result_step_get_type(const hd_result_step *s);
/* State before and after ("" = unbound for a driver move); NULL when not
 * applicable. */
const char *hd_result_step_get_from(const hd_result_step *s);
const char *hd_result_step_get_to(const hd_result_step *s);
/* HD_OUTCOME_FAILED for NULL */
enum hd_outcome hd_result_step_get_outcome(const hd_result_step *s);
/* -errno of a failed step, else 0 */
int hd_result_step_get_error(const hd_result_step *s);
/* The failure for humans (or a note on a planned step: what could not be
 * checked), NULL when none */
const char *hd_result_step_get_error_text(const hd_result_step *s);
/* HD_RESULT_DOMAIN: the device XML given to libvirt (attach, detach);
 * NULL otherwise. */
const char *hd_result_step_get_xml(const hd_result_step *s);

/* The word hostdevctl prints for @outcome in a result of @kind ("done",
 * "would move", "would change", "started", "FAILED", ...). */
const char *hd_outcome_to_string(enum hd_result_kind kind, enum hd_outcome outcome);

/**
 * hd_result_format_text: the steps as text, one line each ("" when there
 * are none); the reason is not part of it.  For HD_RESULT_DOMAIN: "plan:",
 * the plan (each step, the XML given to libvirt, the driver moves of a
 * group detach), then what happened ("attached DEV to domain 'D'", the
 * drivers given back); a rollback is not part of it.  Caller frees *ret.
 */
int hd_result_format_text(const hd_result *r, char **ret);
/**
 * hd_result_to_json: the result as a json-c object: for drivers, resets,
 * SR-IOV, single mdev and domain operations {"status", "reason",
 * "devices" | "actions" | "mdevs" | "steps"}, for mdev apply the array of steps (docs/json.md).
 * Caller puts *ret.
 */
int hd_result_to_json(const hd_result *r, struct json_object **ret);
/**
 * hd_result_from_json: the result of @kind whose hd_result_to_json()
 * rendering is the JSON text @json (what hostdevd replies), so that it
 * renders as the original did: its hd_result_to_json() and
 * hd_result_format_text() are the original's.  The JSON does not carry
 * the errno of a failure: a "failed" status and a FAILED step's error are
 * -EIO.  Keys the kind does not use are ignored.  -EINVAL for no
 * document or an unknown kind, -EBADMSG for text that is not JSON or not
 * a document of that kind, each with the context's error (hd_ctx_get_error;
 * @ctx may be NULL) saying what is wrong; -ENOMEM.  Caller unrefs *ret.
 */
int hd_result_from_json(hd_ctx *ctx, enum hd_result_kind kind, const char *json, hd_result **ret);

#ifdef __cplusplus
}
#endif
