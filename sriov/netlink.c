/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VF link settings through rtnetlink, with raw NETLINK_ROUTE sockets: no
 * library dependency.  Message building and parsing are separate from the
 * socket so that the unit tests can check them byte by byte.
 */
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "sriov/sriov-internal.h"
#include "util/netlink.h"

#ifndef RTEXT_FILTER_VF
#define RTEXT_FILTER_VF (1 << 0)
#endif

static struct nlmsghdr *begin_msg(struct hd_nlmsg *m, unsigned short type, unsigned short flags, uint32_t seq,
                                  int ifindex) {
        struct nlmsghdr *h = hd_nlmsg_begin(m, type, flags, seq);
        struct ifinfomsg *ifi = hd_nlmsg_put(m, sizeof(struct ifinfomsg));
        if (!h || !ifi)
                return NULL;
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = ifindex;
        return h;
}

int hd_nl_build_getlink(void *buf, size_t size, int ifindex, uint32_t seq) {
        struct hd_nlmsg m = { .b = buf, .size = size };
        uint32_t mask = RTEXT_FILTER_VF;

        if (!begin_msg(&m, RTM_GETLINK, NLM_F_REQUEST, seq, ifindex))
                return -ENOBUFS;
        hd_nlmsg_put_attr(&m, IFLA_EXT_MASK, &mask, sizeof(mask));
        return hd_nlmsg_finish(&m);
}

int hd_nl_build_setvf(void *buf, size_t size, int ifindex, uint32_t seq, const hd_sriov_vf_config *c) {
        struct hd_nlmsg m = { .b = buf, .size = size };
        long list, info;

        if (!c || !(c->set_mac || c->set_vlan || c->trust >= 0 || c->spoofchk >= 0))
                return -EINVAL;
        if (!begin_msg(&m, RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK, seq, ifindex))
                return -ENOBUFS;
        list = hd_nlmsg_put_attr(&m, IFLA_VFINFO_LIST | NLA_F_NESTED, NULL, 0);
        info = hd_nlmsg_put_attr(&m, IFLA_VF_INFO | NLA_F_NESTED, NULL, 0);
        if (c->set_mac) {
                struct ifla_vf_mac v = { .vf = c->index };
                memcpy(v.mac, c->mac, 6);
                hd_nlmsg_put_attr(&m, IFLA_VF_MAC, &v, sizeof(v));
        }
        if (c->set_vlan) {
                struct ifla_vf_vlan v = { .vf = c->index, .vlan = c->vlan, .qos = c->qos };
                hd_nlmsg_put_attr(&m, IFLA_VF_VLAN, &v, sizeof(v));
        }
        if (c->spoofchk >= 0) {
                struct ifla_vf_spoofchk v = { .vf = c->index, .setting = (uint32_t) c->spoofchk };
                hd_nlmsg_put_attr(&m, IFLA_VF_SPOOFCHK, &v, sizeof(v));
        }
        if (c->trust >= 0) {
                struct ifla_vf_trust v = { .vf = c->index, .setting = (uint32_t) c->trust };
                hd_nlmsg_put_attr(&m, IFLA_VF_TRUST, &v, sizeof(v));
        }
        hd_nlmsg_end_nest(&m, info);
        hd_nlmsg_end_nest(&m, list);
        return hd_nlmsg_finish(&m);
}

void hd_nl_link_done(struct hd_nl_link *l) {
        if (!l)
                return;
        free(l->vfs);
        l->vfs = NULL;
        l->n_vfs = 0;
}

static int cmp_vf(const void *x, const void *y) {
        const struct hd_nl_vf *a = x, *b = y;
        return a->vf < b->vf ? -1 : a->vf > b->vf;
}

static int parse_vf_info(const struct nlattr *info, struct hd_nl_vf *vf) {
        bool any = false;
        *vf = (struct hd_nl_vf) { .spoofchk = -1, .trust = -1, .link_state = -1 };
        HD_NLA_FOREACH(a, hd_nla_data(info), hd_nla_len(info)) {
                size_t n = hd_nla_len(a);
                switch (hd_nla_type(a)) {
                case IFLA_VF_MAC: {
                        struct ifla_vf_mac v;
                        if (n < sizeof(v))
                                return -EBADMSG;
                        memcpy(&v, hd_nla_data(a), sizeof(v));
                        vf->vf = v.vf;
                        memcpy(vf->mac, v.mac, 6);
                        vf->has_mac = any = true;
                        break;
                }
                case IFLA_VF_VLAN: {
                        struct ifla_vf_vlan v;
                        if (n < sizeof(v))
                                return -EBADMSG;
                        memcpy(&v, hd_nla_data(a), sizeof(v));
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
                        memcpy(&v, hd_nla_data(a), sizeof(v));
                        vf->vf = v.vf;
                        vf->spoofchk = v.setting == (uint32_t) -1 ? -1 : !!v.setting;
                        any = true;
                        break;
                }
                case IFLA_VF_TRUST: {
                        struct ifla_vf_trust v;
                        if (n < sizeof(v))
                                return -EBADMSG;
                        memcpy(&v, hd_nla_data(a), sizeof(v));
                        vf->vf = v.vf;
                        vf->trust = v.setting == (uint32_t) -1 ? -1 : !!v.setting;
                        any = true;
                        break;
                }
                case IFLA_VF_LINK_STATE: {
                        struct ifla_vf_link_state v;
                        if (n < sizeof(v))
                                return -EBADMSG;
                        memcpy(&v, hd_nla_data(a), sizeof(v));
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
        HD_NLA_FOREACH(a, (const unsigned char *) ifi + NLMSG_ALIGN(sizeof(*ifi)), plen) {
                if (hd_nla_type(a) == IFLA_NUM_VF && hd_nla_len(a) >= 4) {
                        uint32_t v;
                        memcpy(&v, hd_nla_data(a), 4);
                        l.num_vf = (int) v;
                } else if (hd_nla_type(a) == IFLA_VFINFO_LIST) {
                        HD_NLA_FOREACH(info, hd_nla_data(a), hd_nla_len(a)) {
                                struct hd_nl_vf *n;
                                if (hd_nla_type(info) != IFLA_VF_INFO)
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

static int newlink_fn(const struct nlmsghdr *h, void *userdata) {
        if (h->nlmsg_type != RTM_NEWLINK)
                return 0;
        return userdata ? parse_newlink(h, userdata) : -EBADMSG;
}

int hd_nl_parse_reply(const void *buf, size_t len, uint32_t seq, struct hd_nl_link *ret) {
        return hd_nl_walk_reply(buf, len, seq, newlink_fn, ret);
}

int hd_nl_get_link(int ifindex, struct hd_nl_link *ret) {
        unsigned char req[128];
        uint32_t seq = hd_nl_next_seq();
        int len = hd_nl_build_getlink(req, sizeof(req), ifindex, seq);
        int r;
        if (len < 0)
                return len;
        r = hd_nl_transact(NETLINK_ROUTE, req, (size_t) len, seq, newlink_fn, ret);
        if (r == 0)
                return -EBADMSG; /* an ACK instead of the link */
        return r < 0 ? r : 0;
}

int hd_nl_set_vf(int ifindex, const hd_sriov_vf_config *c) {
        unsigned char req[512];
        uint32_t seq = hd_nl_next_seq();
        int len = hd_nl_build_setvf(req, sizeof(req), ifindex, seq, c);
        int r;
        if (len < 0)
                return len;
        r = hd_nl_transact(NETLINK_ROUTE, req, (size_t) len, seq, newlink_fn, NULL);
        return r > 0 ? 0 : r;
}
