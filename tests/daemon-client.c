/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What busctl and dbus-send cannot do for tests/test-daemon.sh:
 *   daemon-client ADDRESS big BYTES   GetDevice with a name of BYTES 'a's
 *                                     (more than a command line holds)
 *   daemon-client ADDRESS rescan      subscribe to the daemon's signals,
 *                                     call Rescan(), print each signal
 *                                     that came before its reply
 *   daemon-client ADDRESS watch N S   print the first N signals of the
 *                                     manager (with CLOCK_REALTIME ns), at
 *                                     most S seconds; "ready" once subscribed
 *                                     (DAEMON_CLIENT_CLOCK=monotonic: the
 *                                     time in CLOCK_MONOTONIC ns instead)
 *   daemon-client ADDRESS bench N     N ListDevices calls one after the
 *                                     other: bytes, p50, p99, max (ms)
 *   daemon-client ADDRESS clients N   N connections, each with a
 *                                     ListDevices call in flight at once:
 *                                     how many got the same answer, in ms
 * Prints "ok", "Signal NAME ARG" lines, or "error NAME: MESSAGE".
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#define DEST "org.hostdev.Hostdev1"
#define PATH "/org/hostdev/Hostdev1/Manager"
#define IFACE "org.hostdev.Hostdev1.Manager"

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

static int connect_to(const char *address, sd_bus **ret) {
        sd_bus *bus = NULL;
        int r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                sd_bus_unref(bus);
                return r;
        }
        *ret = bus;
        return 0;
}

static int bench(sd_bus *bus, unsigned n) {
        double *t = calloc(n ? n : 1, sizeof(double));
        size_t bytes = 0;
        if (!t)
                return -ENOMEM;
        for (unsigned i = 0; i < n; i++) {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                sd_bus_message *reply = NULL;
                const char *s;
                double t0 = now_ms();
                int r = sd_bus_call_method(bus, DEST, PATH, IFACE, "ListDevices", &error, &reply, "s", "");
                if (r >= 0)
                        r = sd_bus_message_read(reply, "s", &s);
                t[i] = now_ms() - t0;
                if (r >= 0)
                        bytes = strlen(s);
                sd_bus_message_unref(reply);
                sd_bus_error_free(&error);
                if (r < 0) {
                        free(t);
                        return r;
                }
        }
        qsort(t, n, sizeof(double), cmp_double);
        printf("ListDevices x%u: %zu bytes, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", n, bytes, t[n / 2],
               t[n * 99 / 100], t[n - 1]);
        free(t);
        return 0;
}

/* N dry-run Detach calls of @name, one after the other (a write's
 * preparation: bench/daemon.sh) */
static int detach_bench(sd_bus *bus, unsigned n, const char *name) {
        double *t = calloc(n ? n : 1, sizeof(double));
        if (!t)
                return -ENOMEM;
        for (unsigned i = 0; i < n; i++) {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                sd_bus_message *reply = NULL;
                double t0 = now_ms();
                int r = sd_bus_call_method(bus, DEST, PATH, IFACE, "Detach", &error, &reply, "sst", name, "", (uint64_t) 2);
                t[i] = now_ms() - t0;
                if (r < 0)
                        fprintf(stderr, "Detach %s: %s\n", name, error.message ?: strerror(-r));
                sd_bus_message_unref(reply);
                sd_bus_error_free(&error);
                if (r < 0) {
                        free(t);
                        return r;
                }
        }
        qsort(t, n, sizeof(double), cmp_double);
        printf("Detach (dry run) x%u: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", n, t[n / 2], t[n * 99 / 100], t[n - 1]);
        free(t);
        return 0;
}

static int clients(const char *address, unsigned n) {
        sd_bus **b = calloc(n, sizeof(*b));
        sd_bus_message **rep = calloc(n, sizeof(*rep));
        unsigned good = 0;
        const char *first = NULL;
        double t0;
        int r = 0;

        if (!b || !rep)
                return -ENOMEM;
        for (unsigned i = 0; i < n && r >= 0; i++)
                r = connect_to(address, &b[i]);
        t0 = now_ms();
        /* every call is sent before any answer is read */
        for (unsigned i = 0; i < n && r >= 0; i++) {
                sd_bus_message *m = NULL;
                r = sd_bus_message_new_method_call(b[i], &m, DEST, PATH, IFACE, "ListDevices");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "");
                /* with a cookie: a call sent without one expects no reply */
                uint64_t cookie;
                if (r >= 0)
                        r = sd_bus_send(b[i], m, &cookie);
                sd_bus_message_unref(m);
        }
        for (unsigned i = 0; i < n && r >= 0; i++) {
                /* the reply to the one call on this connection */
                for (;;) {
                        sd_bus_message *m = NULL;
                        r = sd_bus_process(b[i], &m);
                        if (r < 0)
                                break;
                        uint8_t type = 0;
                        if (m && sd_bus_message_get_type(m, &type) >= 0 && type == SD_BUS_MESSAGE_METHOD_RETURN) {
                                rep[i] = m;
                                break;
                        }
                        sd_bus_message_unref(m);
                        if (r == 0)
                                r = sd_bus_wait(b[i], 10 * 1000 * 1000);
                        if (r < 0)
                                break;
                }
        }
        if (r >= 0) {
                for (unsigned i = 0; i < n; i++) {
                        const char *s;
                        if (!rep[i] || sd_bus_message_read(rep[i], "s", &s) < 0)
                                continue;
                        if (!first)
                                first = s;
                        good += strcmp(s, first) == 0;
                }
                printf("%u clients at once: %u answered alike in %.1f ms\n", n, good, now_ms() - t0);
        }
        for (unsigned i = 0; i < n; i++) {
                sd_bus_message_unref(rep[i]);
                sd_bus_flush_close_unref(b[i]);
        }
        free(b);
        free(rep);
        return r < 0 ? r : good == n ? 0 : -EIO;
}

static bool with_time;
static unsigned n_signals;

static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        const char *name;
        /* the manager's (name), InterfacesAdded/Removed (the object),
         * PropertiesChanged (the object's path) */
        if (strcmp(sd_bus_message_get_member(m), "PropertiesChanged") == 0)
                name = sd_bus_message_get_path(m);
        else if (sd_bus_message_read(m, strncmp(sd_bus_message_get_member(m), "Interfaces", 10) == 0 ? "o" : "s",
                                     &name) < 0)
                return 0;
        n_signals++;
        /* PersistedConfigApplied(name, result): the result's JSON too */
        if (strcmp(sd_bus_message_get_member(m), "PersistedConfigApplied") == 0) {
                const char *json;
                if (sd_bus_message_read(m, "s", &json) >= 0) {
                        printf("Signal %s %s %s\n", sd_bus_message_get_member(m), name, json);
                        fflush(stdout);
                        return 0;
                }
        }
        if (with_time) {
                struct timespec ts;
                const char *clk = getenv("DAEMON_CLIENT_CLOCK");
                clock_gettime(clk && strcmp(clk, "monotonic") == 0 ? CLOCK_MONOTONIC : CLOCK_REALTIME, &ts);
                printf("Signal %s %s %lld\n", sd_bus_message_get_member(m), name,
                       (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec);
        } else
                printf("Signal %s %s\n", sd_bus_message_get_member(m), name);
        fflush(stdout);
        return 0;
}

static int watch(sd_bus *bus, unsigned n, unsigned seconds) {
        double end = now_ms() + seconds * 1000.0;
        int r;

        with_time = true;
        /* synchronous: the bus has the match when this returns */
        r = sd_bus_match_signal(bus, NULL, DEST, PATH, IFACE, NULL, on_signal, NULL);
        if (r < 0)
                return r;
        printf("ready\n");
        fflush(stdout);
        while (n_signals < n && now_ms() < end) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return r;
                if (r == 0)
                        (void) sd_bus_wait(bus, 100 * 1000);
        }
        return n_signals >= n ? 0 : -ETIMEDOUT;
}

int main(int argc, char **argv) {
        sd_bus *bus = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        int r;

        if (argc < 3) {
                fprintf(stderr, "usage: daemon-client ADDRESS big BYTES | rescan | watch N S | bench N | detach N NAME | clients N\n");
                return 64;
        }
        r = connect_to(argv[1], &bus);
        if (r < 0) {
                fprintf(stderr, "cannot connect to %s: %s\n", argv[1], strerror(-r));
                return 1;
        }
        if (strcmp(argv[2], "big") == 0 && argc == 4) {
                size_t n = strtoul(argv[3], NULL, 10);
                char *s = malloc(n + 1);
                if (!s)
                        return 1;
                memset(s, 'a', n);
                s[n] = 0;
                r = sd_bus_call_method(bus, DEST, PATH, IFACE, "GetDevice", &error, &reply, "s", s);
                free(s);
        } else if (strcmp(argv[2], "watch") == 0 && argc == 5) {
                r = watch(bus, (unsigned) strtoul(argv[3], NULL, 10), (unsigned) strtoul(argv[4], NULL, 10));
        } else if (strcmp(argv[2], "bench") == 0 && argc == 4) {
                r = bench(bus, (unsigned) strtoul(argv[3], NULL, 10));
        } else if (strcmp(argv[2], "detach") == 0 && argc == 5) {
                r = detach_bench(bus, (unsigned) strtoul(argv[3], NULL, 10), argv[4]);
        } else if (strcmp(argv[2], "clients") == 0 && argc == 4) {
                r = clients(argv[1], (unsigned) strtoul(argv[3], NULL, 10));
        } else if (strcmp(argv[2], "rescan") == 0) {
                r = sd_bus_match_signal(bus, NULL, DEST, NULL, NULL, NULL, on_signal, NULL);
                if (r < 0) {
                        fprintf(stderr, "cannot subscribe: %s\n", strerror(-r));
                        return 1;
                }
                /* the signals sent before the reply wait in the queue
                 * sd_bus_call() leaves; sd_bus_process() hands them out in
                 * order */
                r = sd_bus_call_method(bus, DEST, PATH, IFACE, "Rescan", &error, &reply, "");
                while (r >= 0 && sd_bus_process(bus, NULL) > 0)
                        ;
        } else {
                fprintf(stderr, "unknown command '%s'\n", argv[2]);
                return 64;
        }
        if (r < 0 && sd_bus_error_is_set(&error))
                printf("error %s: %s\n", error.name, error.message);
        else if (r < 0)
                printf("error: %s\n", strerror(-r));
        else
                printf("ok\n");
        fflush(stdout);
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        sd_bus_flush_close_unref(bus);
        return r < 0 ? 1 : 0;
}
