/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Raw netlink: message building, reply walking and one exchange on a
 * socket, with the message code apart from the socket so that unit tests
 * and fuzzers can check it on bytes.  See util/netlink.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/devlink.h>
#include <linux/genetlink.h>

#include "util/internal.h"
#include "util/netlink.h"

void *hd_nlmsg_put(struct hd_nlmsg *m, size_t n) {
        size_t al = NLMSG_ALIGN(n);
        void *p;
        if (m->overflow || al > m->size - m->len) {
                m->overflow = true;
                return NULL;
        }
        p = m->b + m->len;
        memset(p, 0, al);
        m->len += al;
        return p;
}

long hd_nlmsg_put_attr(struct hd_nlmsg *m, unsigned short type, const void *data, size_t n) {
        size_t off = m->len;
        struct nlattr *a;
        if (n > 0xffff - NLA_HDRLEN) {
                m->overflow = true;
                return -1;
        }
        a = hd_nlmsg_put(m, NLA_HDRLEN + n);
        if (!a)
                return -1;
        a->nla_type = type;
        a->nla_len = (unsigned short) (NLA_HDRLEN + n);
        if (n)
                memcpy((unsigned char *) a + NLA_HDRLEN, data, n);
        return (long) off;
}

void hd_nlmsg_end_nest(struct hd_nlmsg *m, long off) {
        if (off < 0 || m->overflow)
                return;
        ((struct nlattr *) (m->b + off))->nla_len = (unsigned short) (m->len - (size_t) off);
}

struct nlmsghdr *hd_nlmsg_begin(struct hd_nlmsg *m, unsigned short type, unsigned short flags, uint32_t seq) {
        struct nlmsghdr *h = hd_nlmsg_put(m, NLMSG_HDRLEN);
        if (!h)
                return NULL;
        h->nlmsg_type = type;
        h->nlmsg_flags = flags;
        h->nlmsg_seq = seq;
        return h;
}

int hd_nlmsg_finish(struct hd_nlmsg *m) {
        if (m->overflow || m->len < NLMSG_HDRLEN)
                return -ENOBUFS;
        ((struct nlmsghdr *) m->b)->nlmsg_len = (uint32_t) m->len;
        return (int) m->len;
}

int hd_nl_walk_reply(const void *buf, size_t len, uint32_t seq, hd_nl_msg_fn fn, void *userdata) {
        /* Not NLMSG_OK/NLMSG_NEXT on a size_t: NEXT subtracts the aligned
         * length, which wraps when the last message's padding is missing,
         * and OK then accepts whatever follows the datagram. */
        for (size_t off = 0; len - off >= NLMSG_HDRLEN;) {
                const struct nlmsghdr *h = (const void *) ((const unsigned char *) buf + off);
                if (h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > len - off)
                        break;
                size_t step = NLMSG_ALIGN((size_t) h->nlmsg_len);
                off += step < len - off ? step : len - off;
                if (h->nlmsg_seq != seq)
                        continue; /* not ours */
                if (h->nlmsg_type == NLMSG_ERROR) {
                        const struct nlmsgerr *e = NLMSG_DATA(h);
                        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
                                return -EBADMSG;
                        return e->error > 0 ? -e->error : e->error;
                }
                if (h->nlmsg_type == NLMSG_DONE)
                        return -ENODATA;
                if (fn) {
                        int r = fn(h, userdata);
                        if (r != 0)
                                return r;
                }
        }
        return -EBADMSG;
}

int hd_nl_transact(int protocol, const void *req, size_t len, uint32_t seq, hd_nl_msg_fn fn, void *userdata) {
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
        _cleanup_close_ int fd = -1;
        _cleanup_free_ unsigned char *buf = NULL;
        size_t bufsize = 0;
        int one = 1;

        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
        if (fd < 0)
                return negative_errno();
        (void) setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
        if (sendto(fd, req, len, 0, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return negative_errno();
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                ssize_t n;
                int r;

                r = poll(&p, 1, 5000);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return negative_errno();
                if (r == 0)
                        return -ETIMEDOUT;
                /* size the buffer to the datagram: a PF with many VFs
                 * answers with a large message */
                n = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                if ((size_t) n > bufsize) {
                        unsigned char *nb = realloc(buf, (size_t) n);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        bufsize = (size_t) n;
                }
                n = recv(fd, buf, bufsize, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                r = hd_nl_walk_reply(buf, (size_t) n, seq, fn, userdata);
                if (r == -EBADMSG) {
                        /* a datagram of someone else's sequence: keep reading */
                        const struct nlmsghdr *h = (const void *) buf;
                        if ((size_t) n >= sizeof(*h) && h->nlmsg_seq != seq)
                                continue;
                }
                return r;
        }
}

uint32_t hd_nl_next_seq(void) {
        static uint32_t seq;
        if (seq == 0)
                seq = (uint32_t) getpid() << 8;
        return ++seq;
}

/* ---- devlink ---- */

static struct nlmsghdr *begin_genl(struct hd_nlmsg *m, uint16_t family, uint8_t cmd, uint8_t version,
                                   uint32_t seq) {
        struct nlmsghdr *h = hd_nlmsg_begin(m, family, NLM_F_REQUEST | NLM_F_ACK, seq);
        struct genlmsghdr *g = hd_nlmsg_put(m, GENL_HDRLEN);
        if (!h || !g)
                return NULL;
        g->cmd = cmd;
        g->version = version;
        return h;
}

int hd_devlink_build_getfamily(void *buf, size_t size, uint32_t seq) {
        struct hd_nlmsg m = { .b = buf, .size = size };
        if (!begin_genl(&m, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, seq))
                return -ENOBUFS;
        hd_nlmsg_put_attr(&m, CTRL_ATTR_FAMILY_NAME, DEVLINK_GENL_NAME, sizeof(DEVLINK_GENL_NAME));
        return hd_nlmsg_finish(&m);
}

int hd_devlink_build_eswitch_get(void *buf, size_t size, uint16_t family, uint32_t seq, const char *bus,
                                 const char *dev) {
        struct hd_nlmsg m = { .b = buf, .size = size };
        if (!bus || !dev)
                return -EINVAL;
        if (!begin_genl(&m, family, DEVLINK_CMD_ESWITCH_GET, DEVLINK_GENL_VERSION, seq))
                return -ENOBUFS;
        hd_nlmsg_put_attr(&m, DEVLINK_ATTR_BUS_NAME, bus, strlen(bus) + 1);
        hd_nlmsg_put_attr(&m, DEVLINK_ATTR_DEV_NAME, dev, strlen(dev) + 1);
        return hd_nlmsg_finish(&m);
}

/* The u16 attribute @type of a generic netlink message, in *userdata
 * (an int, -1 before). */
struct genl_u16 {
        int type;
        int value;
};

static int find_genl_u16(const struct nlmsghdr *h, void *userdata) {
        struct genl_u16 *q = userdata;
        size_t plen;

        if (h->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN))
                return -EBADMSG;
        plen = h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
        HD_NLA_FOREACH(a, (const unsigned char *) NLMSG_DATA(h) + GENL_HDRLEN, plen) {
                if (hd_nla_type(a) == q->type && hd_nla_len(a) >= sizeof(uint16_t)) {
                        uint16_t v;
                        memcpy(&v, hd_nla_data(a), sizeof(v));
                        q->value = v;
                        return 1;
                }
        }
        return -ENODATA;
}

int hd_devlink_parse_family(const void *buf, size_t len, uint32_t seq, uint16_t *ret_id) {
        struct genl_u16 q = { .type = CTRL_ATTR_FAMILY_ID, .value = -1 };
        int r = hd_nl_walk_reply(buf, len, seq, find_genl_u16, &q);
        if (r < 0)
                return r;
        if (r == 0)
                return -EBADMSG; /* an ACK instead of the family */
        if (q.value <= 0)
                return -EBADMSG;
        if (ret_id)
                *ret_id = (uint16_t) q.value;
        return 0;
}

int hd_devlink_parse_eswitch(const void *buf, size_t len, uint32_t seq, int *ret_mode) {
        struct genl_u16 q = { .type = DEVLINK_ATTR_ESWITCH_MODE, .value = -1 };
        int r = hd_nl_walk_reply(buf, len, seq, find_genl_u16, &q);
        if (r < 0)
                return r;
        if (r == 0)
                return -EBADMSG;
        if (ret_mode)
                *ret_mode = q.value;
        return 0;
}

static int transact_u16(const void *req, size_t len, uint32_t seq, int type, int *ret) {
        struct genl_u16 q = { .type = type, .value = -1 };
        int r = hd_nl_transact(NETLINK_GENERIC, req, len, seq, find_genl_u16, &q);
        if (r < 0)
                return r;
        if (r == 0 || q.value < 0)
                return -EBADMSG;
        *ret = q.value;
        return 0;
}

int hd_devlink_eswitch_mode(const char *bus, const char *dev, int *ret_mode) {
        /* the family id never changes while the module stays loaded; a
         * failed lookup is asked again next time */
        static int family;
        unsigned char req[256];
        uint32_t seq;
        int len, r, v;

        if (!bus || !dev)
                return -EINVAL;
        if (family <= 0) {
                seq = hd_nl_next_seq();
                if ((len = hd_devlink_build_getfamily(req, sizeof(req), seq)) < 0)
                        return len;
                r = transact_u16(req, (size_t) len, seq, CTRL_ATTR_FAMILY_ID, &v);
                if (r < 0)
                        return r; /* -ENOENT: no devlink in this kernel */
                family = v;
        }
        seq = hd_nl_next_seq();
        if ((len = hd_devlink_build_eswitch_get(req, sizeof(req), (uint16_t) family, seq, bus, dev)) < 0)
                return len;
        r = transact_u16(req, (size_t) len, seq, DEVLINK_ATTR_ESWITCH_MODE, &v);
        if (r < 0)
                return r;
        if (ret_mode)
                *ret_mode = v;
        return 0;
}
