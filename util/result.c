/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hd_result: the outcome of an operation that changes the host, and its
 * one text and one JSON rendering (include/hostdev/result.h).
 */
#include <json-c/json.h>
#include <stdarg.h>

#include "util/result-internal.h"

struct hd_result_step {
        char *subject, *action, *parent, *type, *from, *to;
        enum hd_outcome outcome;
        int error;
        char *error_text;
        char *xml;
};

struct hd_result {
        int n_ref;
        enum hd_result_kind kind;
        int status;
        char *reason;
        hd_result_step *steps;
        size_t n_steps;
};

int hd_result_new(enum hd_result_kind kind, hd_result **ret) {
        hd_result *r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->n_ref = 1;
        r->kind = kind;
        *ret = r;
        return 0;
}

static void step_done(hd_result_step *s) {
        free(s->subject);
        free(s->action);
        free(s->parent);
        free(s->type);
        free(s->from);
        free(s->to);
        free(s->error_text);
        free(s->xml);
}

_public_ hd_result *hd_result_ref(hd_result *r) {
        if (r)
                r->n_ref++;
        return r;
}

_public_ hd_result *hd_result_unref(hd_result *r) {
        if (!r || --r->n_ref > 0)
                return NULL;
        for (size_t i = 0; i < r->n_steps; i++)
                step_done(&r->steps[i]);
        free(r->steps);
        free(r->reason);
        free(r);
        return NULL;
}

/* strdup that keeps NULL; false when out of memory */
static bool dup_opt(const char *s, char **ret) {
        *ret = NULL;
        if (!s)
                return true;
        *ret = strdup(s);
        return *ret != NULL;
}

int hd_result_add_step(hd_result *r, const struct hd_result_step_spec *spec) {
        hd_result_step s = { .outcome = spec->outcome, .error = spec->error }, *n;

        if (!dup_opt(spec->subject, &s.subject) || !dup_opt(spec->action, &s.action) ||
            !dup_opt(spec->parent, &s.parent) || !dup_opt(spec->type, &s.type) || !dup_opt(spec->from, &s.from) ||
            !dup_opt(spec->to, &s.to) || !dup_opt(spec->xml, &s.xml) ||
            !dup_opt(spec->error_text ?: spec->error ? strerror(-spec->error) : NULL, &s.error_text))
                goto oom;
        n = realloc(r->steps, (r->n_steps + 1) * sizeof(*n));
        if (!n)
                goto oom;
        r->steps = n;
        r->steps[r->n_steps++] = s;
        return 0;
oom:
        step_done(&s);
        return -ENOMEM;
}

void hd_result_set_status(hd_result *r, int status) {
        r->status = status;
}

void hd_result_set_reason(hd_result *r, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        free(r->reason);
        r->reason = s;
}

void hd_result_append_reason(hd_result *r, const char *text) {
        char *s = NULL;
        if (asprintf(&s, "%s%s", strempty(r->reason), text) < 0)
                return;
        free(r->reason);
        r->reason = s;
}

void hd_result_set_step_outcome(hd_result *r, size_t i, enum hd_outcome o) {
        if (i < r->n_steps)
                r->steps[i].outcome = o;
}

/* ---- getters ---- */

_public_ enum hd_result_kind hd_result_get_kind(const hd_result *r) {
        return r ? r->kind : HD_RESULT_DRIVERS;
}

_public_ int hd_result_get_status(const hd_result *r) {
        return r ? r->status : -EINVAL;
}

_public_ const char *hd_result_get_status_string(const hd_result *r) {
        int st = hd_result_get_status(r);
        return st == 0 ? "ok" : st == -EBUSY ? "refused" : "failed";
}

_public_ const char *hd_result_get_reason(const hd_result *r) {
        return r && !isempty(r->reason) ? r->reason : NULL;
}

_public_ size_t hd_result_get_n_steps(const hd_result *r) {
        return r ? r->n_steps : 0;
}

_public_ const hd_result_step *hd_result_get_step(const hd_result *r, size_t i) {
        return r && i < r->n_steps ? &r->steps[i] : NULL;
}

_public_ size_t hd_result_count_outcome(const hd_result *r, enum hd_outcome outcome) {
        size_t n = 0;
        for (size_t i = 0; i < hd_result_get_n_steps(r); i++)
                n += r->steps[i].outcome == outcome;
        return n;
}

_public_ const char *hd_result_step_get_subject(const hd_result_step *s) { return s ? s->subject : NULL; }
_public_ const char *hd_result_step_get_action(const hd_result_step *s) { return s ? s->action : NULL; }
_public_ const char *hd_result_step_get_parent(const hd_result_step *s) { return s ? s->parent : NULL; }
_public_ const char *hd_result_step_get_type(const hd_result_step *s) { return s ? s->type : NULL; }
_public_ const char *hd_result_step_get_from(const hd_result_step *s) { return s ? s->from : NULL; }
_public_ const char *hd_result_step_get_to(const hd_result_step *s) { return s ? s->to : NULL; }
_public_ enum hd_outcome hd_result_step_get_outcome(const hd_result_step *s) {
        return s ? s->outcome : HD_OUTCOME_FAILED;
}
_public_ int hd_result_step_get_error(const hd_result_step *s) { return s ? s->error : 0; }
_public_ const char *hd_result_step_get_error_text(const hd_result_step *s) { return s ? s->error_text : NULL; }
_public_ const char *hd_result_step_get_xml(const hd_result_step *s) { return s ? s->xml : NULL; }

/* ---- renderers ---- */

_public_ const char *hd_outcome_to_string(enum hd_result_kind kind, enum hd_outcome outcome) {
        switch (outcome) {
        case HD_OUTCOME_DONE: return kind == HD_RESULT_MDEV_APPLY ? "started" : "done";
        case HD_OUTCOME_UNCHANGED: return "unchanged";
        case HD_OUTCOME_PLANNED:
                return kind == HD_RESULT_DRIVERS ? "would move"
                       : kind == HD_RESULT_SRIOV ? "would change"
                       : kind == HD_RESULT_RESET ? "would reset"
                       : kind == HD_RESULT_MDEV || kind == HD_RESULT_DOMAIN ? "planned"
                                                 : "would start";
        case HD_OUTCOME_SKIPPED: return kind == HD_RESULT_MDEV_APPLY ? "parent absent" : "skipped";
        case HD_OUTCOME_FAILED: return "FAILED";
        case HD_OUTCOME_ROLLED_BACK: return "rolled back";
        case HD_OUTCOME_NOT_ATTEMPTED: return "not attempted";
        }
        return "?";
}

static const char *or_none(const char *s) { return isempty(s) ? "(none)" : s; }

static bool type_is(const hd_result_step *s, const char *type) { return s->type && streq(s->type, type); }

/* HD_RESULT_DOMAIN: "plan:" and the plan (each step, the XML given to
 * libvirt, the driver moves of a group detach), then what happened (the
 * attach or detach, the drivers given back); a rollback is not part of it. */
static void domain_text(const hd_result *r, struct hd_buf *b) {
        const hd_result_step *owner = NULL; /* the step a driver move belongs to */
        bool plan = false;

        for (size_t i = 0; i < r->n_steps; i++)
                if (!type_is(&r->steps[i], "move") && !type_is(&r->steps[i], "rollback"))
                        plan = true;
        if (plan)
                hd_buf_printf(b, "plan:\n");
        for (size_t i = 0; i < r->n_steps; i++) {
                const hd_result_step *s = &r->steps[i];
                if (type_is(s, "move")) {
                        if (owner && type_is(owner, "detach-group"))
                                hd_buf_printf(b, "    %s  %s -> %s  %s\n", strempty(s->subject), or_none(s->from),
                                              or_none(s->to), hd_outcome_to_string(HD_RESULT_DRIVERS, s->outcome));
                        continue;
                }
                owner = s;
                if (type_is(s, "rollback"))
                        continue;
                hd_buf_printf(b, "  %s%s\n", strempty(s->action), type_is(s, "detach-group") || s->xml ? ":" : "");
                if (s->xml)
                        hd_buf_printf(b, "%s%s", s->xml, *s->xml && s->xml[strlen(s->xml) - 1] == '\n' ? "" : "\n");
        }
        owner = NULL;
        for (size_t i = 0; i < r->n_steps; i++) {
                const hd_result_step *s = &r->steps[i];
                if (!type_is(s, "move"))
                        owner = s;
                if (type_is(s, "attach") && s->outcome == HD_OUTCOME_DONE)
                        hd_buf_printf(b, "attached %s to domain '%s'\n", strempty(s->subject), strempty(s->parent));
                else if (type_is(s, "detach") && s->outcome == HD_OUTCOME_DONE)
                        hd_buf_printf(b, "detached %s from domain '%s'\n", strempty(s->subject), strempty(s->parent));
                else if (type_is(s, "move") && owner && type_is(owner, "give-back"))
                        hd_buf_printf(b, "%s  %s -> %s  %s\n", strempty(s->subject), or_none(s->from), or_none(s->to),
                                      hd_outcome_to_string(HD_RESULT_DRIVERS, s->outcome));
        }
}

_public_ int hd_result_format_text(const hd_result *r, char **ret) {
        struct hd_buf b = {};

        if (!r || !ret)
                return -EINVAL;
        if (r->kind == HD_RESULT_DOMAIN)
                domain_text(r, &b);
        for (size_t i = 0; i < r->n_steps && r->kind != HD_RESULT_DOMAIN; i++) {
                const hd_result_step *s = &r->steps[i];
                const char *word = hd_outcome_to_string(r->kind, s->outcome);
                switch (r->kind) {
                case HD_RESULT_DOMAIN:
                        break;
                case HD_RESULT_DRIVERS:
                        hd_buf_printf(&b, "%s  %s -> %s  %s\n", strempty(s->subject), or_none(s->from),
                                      or_none(s->to), word);
                        break;
                case HD_RESULT_SRIOV:
                        hd_buf_printf(&b, "%s: %s  %s\n", strempty(s->subject), strempty(s->action), word);
                        break;
                case HD_RESULT_MDEV_APPLY:
                        hd_buf_printf(&b, "mdev %s  %s %s  %s%s%s\n", strempty(s->subject), strempty(s->parent),
                                      strempty(s->type), word, s->error_text ? ": " : "", strempty(s->error_text));
                        break;
                case HD_RESULT_MDEV:
                        hd_buf_printf(&b, "mdev %s  %s %s  %s  %s%s%s\n", strempty(s->subject), strempty(s->parent),
                                      strempty(s->type), strempty(s->action), word, s->error_text ? ": " : "",
                                      strempty(s->error_text));
                        break;
                case HD_RESULT_RESET:
                        /* a refusal or failure is the reason alone */
                        if (s->outcome == HD_OUTCOME_DONE)
                                hd_buf_printf(&b, "%s: reset (kernel method: %s)\n", strempty(s->subject),
                                              strempty(s->to));
                        else if (s->outcome == HD_OUTCOME_SKIPPED)
                                hd_buf_printf(&b, "%s: skipped: %s\n", strempty(s->subject), strempty(r->reason));
                        break;
                }
        }
        return hd_buf_steal(&b, ret);
}

static json_object *str_or_null(const char *s) { return s ? json_object_new_string(s) : NULL; }

static int add(json_object *o, const char *key, json_object *v, bool nullable) {
        if (!v && !nullable)
                return -ENOMEM;
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static json_object *step_json(enum hd_result_kind kind, const hd_result_step *s) {
        json_object *o = json_object_new_object();
        /* a driver move of a domain operation has a driver move's words */
        const char *word = hd_outcome_to_string(kind == HD_RESULT_DOMAIN && type_is(s, "move") ? HD_RESULT_DRIVERS : kind,
                                                s->outcome);
        int r = 0;

        if (!o)
                return NULL;
        switch (kind) {
        case HD_RESULT_DRIVERS:
                r = add(o, "address", json_object_new_string(strempty(s->subject)), false);
                if (r >= 0)
                        r = add(o, "from", json_object_new_string(strempty(s->from)), false);
                if (r >= 0)
                        r = add(o, "to", json_object_new_string(strempty(s->to)), false);
                break;
        case HD_RESULT_RESET:
                r = add(o, "device", json_object_new_string(strempty(s->subject)), false);
                if (r >= 0)
                        r = add(o, "method", str_or_null(s->to), true);
                break;
        case HD_RESULT_SRIOV:
                r = add(o, "pf", json_object_new_string(strempty(s->subject)), false);
                if (r >= 0)
                        r = add(o, "action", json_object_new_string(strempty(s->action)), false);
                break;
        case HD_RESULT_DOMAIN:
                r = add(o, "step", json_object_new_string(strempty(s->type)), false);
                if (r >= 0)
                        r = add(o, "device", str_or_null(s->subject), true);
                if (r >= 0)
                        r = add(o, "action", str_or_null(s->action), true);
                if (r >= 0)
                        r = add(o, "domain", str_or_null(s->parent), true);
                if (r >= 0)
                        r = add(o, "from", str_or_null(s->from), true);
                if (r >= 0)
                        r = add(o, "to", str_or_null(s->to), true);
                if (r >= 0)
                        r = add(o, "xml", str_or_null(s->xml), true);
                break;
        case HD_RESULT_MDEV_APPLY:
        case HD_RESULT_MDEV:
                r = add(o, "uuid", kind == HD_RESULT_MDEV ? str_or_null(s->subject)
                                                           : json_object_new_string(strempty(s->subject)), true);
                if (r >= 0)
                        r = add(o, "parent", json_object_new_string(strempty(s->parent)), false);
                if (r >= 0)
                        r = add(o, "type", json_object_new_string(strempty(s->type)), false);
                if (r >= 0 && kind == HD_RESULT_MDEV)
                        r = add(o, "action", json_object_new_string(strempty(s->action)), false);
                break;
        }
        if (r >= 0)
                r = add(o, "result", json_object_new_string(word), false);
        if (r >= 0 && (kind == HD_RESULT_MDEV_APPLY || kind == HD_RESULT_MDEV || kind == HD_RESULT_DOMAIN))
                r = add(o, "error", str_or_null(s->error_text), true);
        if (r < 0) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

_public_ int hd_result_to_json(const hd_result *r, struct json_object **ret) {
        json_object *arr, *o;

        if (!r || !ret)
                return -EINVAL;
        arr = json_object_new_array();
        if (!arr)
                return -ENOMEM;
        for (size_t i = 0; i < r->n_steps; i++) {
                json_object *s = step_json(r->kind, &r->steps[i]);
                if (!s || json_object_array_add(arr, s) < 0) {
                        json_object_put(s);
                        json_object_put(arr);
                        return -ENOMEM;
                }
        }
        if (r->kind == HD_RESULT_MDEV_APPLY) {
                *ret = arr;
                return 0;
        }
        o = json_object_new_object();
        if (!o || add(o, "status", json_object_new_string(hd_result_get_status_string(r)), false) < 0 ||
            add(o, "reason", str_or_null(hd_result_get_reason(r)), true) < 0) {
                json_object_put(o);
                json_object_put(arr);
                return -ENOMEM;
        }
        if (add(o, r->kind == HD_RESULT_SRIOV    ? "actions"
                   : r->kind == HD_RESULT_MDEV   ? "mdevs"
                   : r->kind == HD_RESULT_DOMAIN ? "steps"
                                                 : "devices",
                arr, false) < 0) {
                json_object_put(o);
                return -ENOMEM;
        }
        *ret = o;
        return 0;
}

int hd_result_merge(hd_result *into, const hd_result *from) {
        for (size_t i = 0; i < from->n_steps; i++) {
                const hd_result_step *s = &from->steps[i];
                int r = hd_result_add_step(into, &(struct hd_result_step_spec) {
                        .subject = s->subject, .action = s->action, .parent = s->parent, .type = s->type,
                        .from = s->from, .to = s->to, .outcome = s->outcome, .error = s->error,
                        .error_text = s->error_text, .xml = s->xml });
                if (r < 0)
                        return r;
        }
        if (from->status && !into->status) {
                into->status = from->status;
                free(into->reason);
                into->reason = NULL;
                if (from->reason && !(into->reason = strdup(from->reason)))
                        return -ENOMEM;
        }
        return 0;
}

/* ---- the inverse: a result from its JSON (hostdevd's replies) ---- */

/* The outcome whose word hd_outcome_to_string() gives for @kind. */
static int outcome_from_word(enum hd_result_kind kind, const char *word, enum hd_outcome *ret) {
        for (int o = HD_OUTCOME_DONE; o <= HD_OUTCOME_NOT_ATTEMPTED; o++)
                if (streq(hd_outcome_to_string(kind, (enum hd_outcome) o), word)) {
                        *ret = (enum hd_outcome) o;
                        return 0;
                }
        return -EBADMSG;
}

/* The string member @key of @o: *ret NULL for JSON null or an absent key
 * when @nullable; -EBADMSG (with the context's error) otherwise. */
static int member_str(hd_ctx *ctx, json_object *o, const char *key, bool nullable, const char *where,
                      const char **ret) {
        json_object *v = NULL;

        *ret = NULL;
        if (!json_object_object_get_ex(o, key, &v) || !v) {
                if (nullable)
                        return 0;
                return hd_error(ctx, -EBADMSG, "result JSON: %s has no \"%s\"", where, key);
        }
        if (!json_object_is_type(v, json_type_string))
                return hd_error(ctx, -EBADMSG, "result JSON: \"%s\" of %s is not a string%s", key, where,
                                nullable ? " or null" : "");
        *ret = json_object_get_string(v);
        return 0;
}

static int step_from_json(hd_ctx *ctx, enum hd_result_kind kind, json_object *o, size_t i, hd_result *res) {
        struct hd_result_step_spec s = {};
        const char *word = NULL, *step_type = NULL;
        char where[48];
        int r;

        snprintf(where, sizeof(where), "step %zu", i);
        if (!json_object_is_type(o, json_type_object))
                return hd_error(ctx, -EBADMSG, "result JSON: %s is not an object", where);
        switch (kind) {
        case HD_RESULT_DRIVERS:
                if ((r = member_str(ctx, o, "address", false, where, &s.subject)) < 0 ||
                    (r = member_str(ctx, o, "from", false, where, &s.from)) < 0 ||
                    (r = member_str(ctx, o, "to", false, where, &s.to)) < 0)
                        return r;
                break;
        case HD_RESULT_RESET:
                if ((r = member_str(ctx, o, "device", false, where, &s.subject)) < 0 ||
                    (r = member_str(ctx, o, "method", true, where, &s.to)) < 0)
                        return r;
                break;
        case HD_RESULT_SRIOV:
                if ((r = member_str(ctx, o, "pf", false, where, &s.subject)) < 0 ||
                    (r = member_str(ctx, o, "action", false, where, &s.action)) < 0)
                        return r;
                break;
        case HD_RESULT_DOMAIN:
                if ((r = member_str(ctx, o, "step", false, where, &step_type)) < 0 ||
                    (r = member_str(ctx, o, "device", true, where, &s.subject)) < 0 ||
                    (r = member_str(ctx, o, "action", true, where, &s.action)) < 0 ||
                    (r = member_str(ctx, o, "domain", true, where, &s.parent)) < 0 ||
                    (r = member_str(ctx, o, "from", true, where, &s.from)) < 0 ||
                    (r = member_str(ctx, o, "to", true, where, &s.to)) < 0 ||
                    (r = member_str(ctx, o, "xml", true, where, &s.xml)) < 0)
                        return r;
                /* to_json writes "" for a step without a type */
                s.type = isempty(step_type) ? NULL : step_type;
                break;
        case HD_RESULT_MDEV_APPLY:
        case HD_RESULT_MDEV:
                if ((r = member_str(ctx, o, "uuid", kind == HD_RESULT_MDEV, where, &s.subject)) < 0 ||
                    (r = member_str(ctx, o, "parent", false, where, &s.parent)) < 0 ||
                    (r = member_str(ctx, o, "type", false, where, &s.type)) < 0)
                        return r;
                if (kind == HD_RESULT_MDEV && (r = member_str(ctx, o, "action", false, where, &s.action)) < 0)
                        return r;
                break;
        default:
                return hd_error(ctx, -EINVAL, "result JSON: unknown result kind %d", (int) kind);
        }
        if (kind == HD_RESULT_MDEV_APPLY || kind == HD_RESULT_MDEV || kind == HD_RESULT_DOMAIN)
                if ((r = member_str(ctx, o, "error", true, where, &s.error_text)) < 0)
                        return r;
        if ((r = member_str(ctx, o, "result", false, where, &word)) < 0)
                return r;
        /* a driver move of a domain operation has a driver move's words */
        if (outcome_from_word(kind == HD_RESULT_DOMAIN && s.type && streq(s.type, "move") ? HD_RESULT_DRIVERS : kind,
                              word, &s.outcome) < 0)
                return hd_error(ctx, -EBADMSG, "result JSON: \"result\" of %s is not an outcome: '%.64s'", where, word);
        /* the JSON carries a failure's words, not its errno */
        if (s.outcome == HD_OUTCOME_FAILED)
                s.error = -EIO;
        r = hd_result_add_step(res, &s);
        /* hd_result_add_step gives a failed step strerror() when it has no text */
        if (r >= 0 && !s.error_text) {
                free(res->steps[res->n_steps - 1].error_text);
                res->steps[res->n_steps - 1].error_text = NULL;
        }
        return r;
}

_public_ int hd_result_from_json(hd_ctx *ctx, enum hd_result_kind kind, const char *json, hd_result **ret) {
        _hd_cleanup_result_ hd_result *res = NULL;
        json_object *o = NULL, *steps = NULL;
        enum json_tokener_error jerr;
        const char *key, *status = NULL, *reason = NULL;
        int r;

        hd_error_clear(ctx);
        if (!json || !ret)
                return hd_error(ctx, -EINVAL, "result JSON: no document");
        if (kind < HD_RESULT_DRIVERS || kind > HD_RESULT_DOMAIN)
                return hd_error(ctx, -EINVAL, "result JSON: unknown result kind %d", (int) kind);
        o = json_tokener_parse_verbose(json, &jerr);
        if (!o)
                return hd_error(ctx, -EBADMSG, "result JSON: not JSON: %s", json_tokener_error_desc(jerr));
        r = hd_result_new(kind, &res);
        if (r < 0)
                goto out;
        if (kind == HD_RESULT_MDEV_APPLY) {
                steps = o;
                key = "the document";
        } else {
                key = kind == HD_RESULT_SRIOV    ? "actions"
                      : kind == HD_RESULT_MDEV   ? "mdevs"
                      : kind == HD_RESULT_DOMAIN ? "steps"
                                                 : "devices";
                if (!json_object_is_type(o, json_type_object)) {
                        r = hd_error(ctx, -EBADMSG, "result JSON: not an object");
                        goto out;
                }
                if ((r = member_str(ctx, o, "status", false, "the document", &status)) < 0 ||
                    (r = member_str(ctx, o, "reason", true, "the document", &reason)) < 0)
                        goto out;
                if (streq(status, "ok"))
                        res->status = 0;
                else if (streq(status, "refused"))
                        res->status = -EBUSY;
                else if (streq(status, "failed"))
                        res->status = -EIO; /* the JSON says failed, not why in errno */
                else {
                        r = hd_error(ctx, -EBADMSG, "result JSON: unknown status '%.64s'", status);
                        goto out;
                }
                if (reason && !(res->reason = strdup(reason))) {
                        r = -ENOMEM;
                        goto out;
                }
                if (!json_object_object_get_ex(o, key, &steps)) {
                        r = hd_error(ctx, -EBADMSG, "result JSON: no \"%s\"", key);
                        goto out;
                }
        }
        if (!json_object_is_type(steps, json_type_array)) {
                r = hd_error(ctx, -EBADMSG, "result JSON: %s%s%s is not an array", steps == o ? "" : "\"", key,
                             steps == o ? "" : "\"");
                goto out;
        }
        for (size_t i = 0; i < json_object_array_length(steps); i++) {
                r = step_from_json(ctx, kind, json_object_array_get_idx(steps, i), i, res);
                if (r < 0)
                        goto out;
        }
        *ret = TAKE_PTR(res);
        r = 0;
out:
        json_object_put(o);
        return r;
}
