/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VF link settings through rtnetlink, with raw NETLINK_ROUTE sockets: no
 * library dependency.  Message building and parsing are separate from the
 * socket so that the unit tests can check them byte by byte.
 */
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>

#include "sriov/sriov-internal.h"

#ifndef RTEXT_FILTER_VF
#define RTEXT_FILTER_VF (1 << 0)
#endif

struct msgbuf {
        unsigned char *b;
        size_t size, len;
        bool overflow;
};

static void *put(struct msgbuf *m, size_t n) {
        size_t al = NLMSG_ALIGN(n);
        void *p;
        if (m->overflow || m->len + al > m->size) {
                m->overflow = true;
                return NULL;
        }
        p = m->b + m->len;
        memset(p, 0, al);
        m->len += al;
        return p;
}

/* Attribute with payload; returns its offset (for nests), -1 on overflow. */
static long put_attr(struct msgbuf *m, unsigned short type, const void *data, size_t n) {
        size_t off = m->len;
        struct nlattr *a = put(m, NLA_HDRLEN + n);
        if (!a)
                return -1;
        a->nla_type = type;
        a->nla_len = (unsigned short) (NLA_HDRLEN + n);
        if (n)
                memcpy((unsigned char *) a + NLA_HDRLEN, data, n);
        return (long) off;
}

static void end_nest(struct msgbuf *m, long off) {
        if (off < 0 || m->overflow)
                return;
        ((struct nlattr *) (m->b + off))->nla_len = (unsigned short) (m->len - (size_t) off);
}

static struct nlmsghdr *begin_msg(struct msgbuf *m, unsigned short type, unsigned short flags, uint32_t seq,
                                  int ifindex) {
        struct nlmsghdr *h = put(m, NLMSG_HDRLEN);
        struct ifinfomsg *ifi = put(m, sizeof(struct ifinfomsg));
        if (!h || !ifi)
                return NULL;
        h->nlmsg_type = type;
        h->nlmsg_flags = flags;
        h->nlmsg_seq = seq;
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = ifindex;
        return h;
}

static int finish_msg(struct msgbuf *m) {
        if (m->overflow)
                return -ENOBUFS;
        ((struct nlmsghdr *) m->b)->nlmsg_len = (uint32_t) m->len;
        return (int) m->len;
}

int hd_nl_build_getlink(void *buf, size_t size, int ifindex, uint32_t seq) {
        struct msgbuf m = { .b = buf, .size = size };
        uint32_t mask = RTEXT_FILTER_VF;

        if (!begin_msg(&m, RTM_GETLINK, NLM_F_REQUEST, seq, ifindex))
                return -ENOBUFS;
        put_attr(&m, IFLA_EXT_MASK, &mask, sizeof(mask));
        return finish_msg(&m);
}

int hd_nl_build_setvf(void *buf, size_t size, int ifindex, uint32_t seq, const hd_sriov_vf_config *c) {
        struct msgbuf m = { .b = buf, .size = size };
        long list, info;

        if (!c || !(c->set_mac || c->set_vlan || c->trust >= 0 || c->spoofchk >= 0))
                return -EINVAL;
        if (!begin_msg(&m, RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK, seq, ifindex))
                return -ENOBUFS;
        list = put_attr(&m, IFLA_VFINFO_LIST | NLA_F_NESTED, NULL, 0);
        info = put_attr(&m, IFLA_VF_INFO | NLA_F_NESTED, NULL, 0);
        if (c->set_mac) {
                struct ifla_vf_mac v = { .vf = c->index };
                memcpy(v.mac, c->mac, 6);
                put_attr(&m, IFLA_VF_MAC, &v, sizeof(v));
        }
        if (c->set_vlan) {
                struct ifla_vf_vlan v = { .vf = c->index, .vlan = c->vlan, .qos = c->qos };
                put_attr(&m, IFLA_VF_VLAN, &v, sizeof(v));
        }
        if (c->spoofchk >= 0) {
                struct ifla_vf_spoofchk v = { .vf = c->index, .setting = (uint32_t) c->spoofchk };
                put_attr(&m, IFLA_VF_SPOOFCHK, &v, sizeof(v));
        }
        if (c->trust >= 0) {
                struct ifla_vf_trust v = { .vf = c->index, .setting = (uint32_t) c->trust };
                put_attr(&m, IFLA_VF_TRUST, &v, sizeof(v));
        }
        end_nest(&m, info);
        end_nest(&m, list);
        return finish_msg(&m);
}

void hd_nl_link_done(struct hd_nl_link *l) {
        if (!l)
                return;
        free(l->vfs);
        l->vfs = NULL;
        l->n_vfs = 0;
}

/* Walk attributes in [p, p+len); calls fn for each well-formed one. */
#define FOREACH_ATTR(a, p, len)                                                              \
        for (const struct nlattr *a = (const struct nlattr *) (p);                           \
             (size_t) ((const unsigned char *) a - (const unsigned char *) (p)) + NLA_HDRLEN <= (len) && \
             a->nla_len >= NLA_HDRLEN &&                                                     \
             (size_t) ((const unsigned char *) a - (const unsigned char *) (p)) + a->nla_len <= (len); \
             a = (const struct nlattr *) ((const unsigned char *) a + NLA_ALIGN(a->nla_len)))

static const void *attr_data(const struct nlattr *a) { return (const unsigned char *) a + NLA_HDRLEN; }
static size_t attr_len(const struct nlattr *a) { return a->nla_len - NLA_HDRLEN; }
static int attr_type(const struct nlattr *a) { return a->nla_type & NLA_TYPE_MASK; }

static int cmp_vf(const void *x, const void *y) {
        const struct hd_nl_vf *a = x, *b = y;
        return a->vf < b->vf ? -1 : a->vf > b->vf;
}

static int parse_vf_info(const struct nlattr *info, struct hd_nl_vf *vf) {
        bool any = false;
        *vf = (struct hd_nl_vf) { .spoofchk = -1, .trust = -1, .link_state = -1 };
        FOREACH_ATTR(a, attr_data(info), attr_len(info)) {
                size_t n = attr_len(a);
                switch (attr_type(a)) {
                case IFLA_VF_MAC: {
                        struct ifla_vf_mac v;
                        if (n < sizeof(v))
                                return -EBADMSG;
                        memcpy(&v, attr_data(a), sizeof(v));
                        vf->vf = v.vf;
                        memcpy(vf->mac, v.mac, 6);
                        vf->has_mac = any = true;
                        break;
                }
                case IFLA_VF_VLAN: {
                        struct ifla_vf_vlan v;
                        if (n < sizeof(v))
                                return -EBADMSG;
                        memcpy(&v, attr_data(a), sizeof(v));
                        vf->vf = v.vf;
                        vf->vlan = v.vlan;
                        vf->qos = v.qos;
                        vf->has_vlan = any = true;
                        break;
                }
                case IFLA_VF_SPOOFCHK: {
                        struct ifla_vf_spoofchk v;
                        if (n < sizeof(v))
                                return -EBADMSG;
                        memcpy(&v, attr_data(a), sizeof(v));
                        vf->vf = v.vf;
                        vf->spoofchk = v.setting == (uint32_t) -1 ? -1 : !!v.setting;
                        any = true;
                        break;
                }
                case IFLA_VF_TRUST: {
                        struct ifla_vf_trust v;
                        if (n < sizeof(v))
                                return -EBADMSG;
                        memcpy(&v, attr_data(a), sizeof(v));
                        vf->vf = v.vf;
                        vf->trust = v.setting == (uint32_t) -1 ? -1 : !!v.setting;
                        any = true;
                        break;
                }
                case IFLA_VF_LINK_STATE: {
                        struct ifla_vf_link_state v;
                        if (n < sizeof(v))
                                return -EBADMSG;
                        memcpy(&v, attr_data(a), sizeof(v));
                        vf->vf = v.vf;
                        vf->link_state = (int) v.link_state;
                        any = true;
                        break;
                }
                default:
                        break;
                }
        }
        return any ? 0 : -EBADMSG;
}

static int parse_newlink(const struct nlmsghdr *h, struct hd_nl_link *ret) {
        const struct ifinfomsg *ifi;
        size_t plen;
        struct hd_nl_link l = { .num_vf = -1 };

        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
                return -EBADMSG;
        ifi = NLMSG_DATA(h);
        l.ifindex = ifi->ifi_index;
        plen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
        FOREACH_ATTR(a, (const unsigned char *) ifi + NLMSG_ALIGN(sizeof(*ifi)), plen) {
                if (attr_type(a) == IFLA_NUM_VF && attr_len(a) >= 4) {
                        uint32_t v;
                        memcpy(&v, attr_data(a), 4);
                        l.num_vf = (int) v;
                } else if (attr_type(a) == IFLA_VFINFO_LIST) {
                        FOREACH_ATTR(info, attr_data(a), attr_len(a)) {
                                struct hd_nl_vf *n;
                                if (attr_type(info) != IFLA_VF_INFO)
                                        continue;
                                n = realloc(l.vfs, (l.n_vfs + 1) * sizeof(*n));
                                if (!n) {
                                        hd_nl_link_done(&l);
                                        return -ENOMEM;
                                }
                                l.vfs = n;
                                if (parse_vf_info(info, &l.vfs[l.n_vfs]) < 0) {
                                        hd_nl_link_done(&l);
                                        return -EBADMSG;
                                }
                                l.n_vfs++;
                        }
                }
        }
        if (l.n_vfs > 1)
                qsort(l.vfs, l.n_vfs, sizeof(*l.vfs), cmp_vf);
        *ret = l;
        return 1;
}

int hd_nl_parse_reply(const void *buf, size_t len, uint32_t seq, struct hd_nl_link *ret) {
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
                if (h->nlmsg_type == RTM_NEWLINK)
                        return ret ? parse_newlink(h, ret) : -EBADMSG;
                if (h->nlmsg_type == NLMSG_DONE)
                        return -ENODATA;
        }
        return -EBADMSG;
}

/* ---- the socket ---- */

static int nl_transact(const void *req, size_t len, uint32_t seq, struct hd_nl_link *ret) {
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
        _cleanup_close_ int fd = -1;
        _cleanup_free_ unsigned char *buf = NULL;
        size_t bufsize = 0;
        int one = 1;

        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
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
                r = hd_nl_parse_reply(buf, (size_t) n, seq, ret);
                if (r == -EBADMSG) {
                        /* a datagram of someone else's sequence: keep reading */
                        const struct nlmsghdr *h = (const void *) buf;
                        if ((size_t) n >= sizeof(*h) && h->nlmsg_seq != seq)
                                continue;
                }
                return r;
        }
}

static uint32_t next_seq(void) {
        static uint32_t seq;
        if (seq == 0)
                seq = (uint32_t) getpid() << 8;
        return ++seq;
}

int hd_nl_get_link(int ifindex, struct hd_nl_link *ret) {
        unsigned char req[128];
        uint32_t seq = next_seq();
        int len = hd_nl_build_getlink(req, sizeof(req), ifindex, seq);
        int r;
        if (len < 0)
                return len;
        r = nl_transact(req, (size_t) len, seq, ret);
        if (r == 0)
                return -EBADMSG; /* an ACK instead of the link */
        return r < 0 ? r : 0;
}

int hd_nl_set_vf(int ifindex, const hd_sriov_vf_config *c) {
        unsigned char req[512];
        uint32_t seq = next_seq();
        int len = hd_nl_build_setvf(req, sizeof(req), ifindex, seq, c);
        int r;
        if (len < 0)
                return len;
        r = nl_transact(req, (size_t) len, seq, NULL);
        return r > 0 ? 0 : r;
}
