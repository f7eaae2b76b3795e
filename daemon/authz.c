/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Authorization of hostdevd's host-changing methods: root (and the
 * daemon's own uid) at once, everyone else through polkit's
 * CheckAuthorization on the bus the daemon serves, with the caller's bus
 * name as the subject; without polkit on that bus, nobody else.  Reads
 * need no authorization.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostdevd.h"

struct pending {
        struct daemon *d;
        sd_bus_message *m;
        authorized_fn fn;
        char *action;
};

static void pending_free(struct pending *p) {
        sd_bus_message_unref(p->m);
        free(p->action);
        free(p);
}

/* @fn, with the caller's -v for its log lines (daemon/call-log.c) */
static void run(struct daemon *d, sd_bus_message *m, authorized_fn fn) {
        int r;

        call_log_begin(d, m);
        r = fn(d, m);
        if (r < 0)
                (void) sd_bus_reply_method_errno(m, r, NULL);
        call_log_end(d);
}

static int polkit_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        struct pending *p = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int authorized = 0, challenge = 0, r;

        if (e) {
                /* no polkit on this bus: only root */
                if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                        (void) sd_bus_reply_method_errorf(p->m, SD_BUS_ERROR_ACCESS_DENIED,
                                                          "%s needs root: polkit is not running to authorize others",
                                                          p->action);
                else
                        (void) sd_bus_reply_method_errorf(p->m, SD_BUS_ERROR_ACCESS_DENIED,
                                                          "%s: polkit could not decide: %s", p->action, e->message ?: e->name);
                pending_free(p);
                return 0;
        }
        r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
        if (r >= 0)
                r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
        if (r < 0)
                (void) sd_bus_reply_method_errorf(p->m, SD_BUS_ERROR_ACCESS_DENIED,
                                                  "%s: polkit's answer cannot be read: %s", p->action, strerror(-r));
        else if (!authorized)
                (void) sd_bus_reply_method_errorf(p->m, SD_BUS_ERROR_ACCESS_DENIED, "not authorized for %s%s", p->action,
                                                  challenge ? " (authentication is needed and was not given)" : "");
        else
                run(p->d, p->m, p->fn);
        pending_free(p);
        return 0;
}

int authz_run(struct daemon *d, sd_bus_message *m, const char *action, authorized_fn fn) {
        sd_bus_creds *creds = NULL;
        struct pending *p;
        uid_t euid;
        int r, interactive;

        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &euid);
        sd_bus_creds_unref(creds);
        if (r < 0)
                return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_ACCESS_DENIED,
                                                  "%s: the caller's user id cannot be known: %s", action, strerror(-r));
        if (euid == 0 || euid == geteuid()) {
                run(d, m, fn);
                return 1;
        }
        p = calloc(1, sizeof(*p));
        if (!p || !(p->action = strdup(action))) {
                free(p);
                return -ENOMEM;
        }
        p->d = d;
        p->m = sd_bus_message_ref(m);
        p->fn = fn;
        interactive = sd_bus_message_get_allow_interactive_authorization(m) > 0;
        r = sd_bus_call_method_async(d->bus, NULL, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                                     "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization", polkit_reply, p,
                                     "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s", sd_bus_message_get_sender(m),
                                     action, 0, interactive ? 1u : 0u, "");
        if (r < 0) {
                pending_free(p);
                return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_ACCESS_DENIED, "%s: polkit cannot be asked: %s", action,
                                                  strerror(-r));
        }
        return 1;
}
