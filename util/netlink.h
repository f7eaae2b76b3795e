/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Raw netlink requests without a library: a bounded message builder, an
 * attribute walker that never reads past its buffer, a reply walker that
 * picks our sequence number out of a datagram, and one request/answer
 * exchange on a socket.  Used by sriov/ (rtnetlink VF settings) and by the
 * devlink eswitch query below (libvirt's "switchdev" net feature).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>

struct hd_nlmsg {
        unsigned char *b;
        size_t size, len;
        bool overflow;
};

/* Reserve @n bytes (aligned, zeroed) at the end; NULL (and overflow set)
 * when they do not fit. */
void *hd_nlmsg_put(struct hd_nlmsg *m, size_t n);
/* An attribute with @n bytes of payload; its offset (for hd_nlmsg_end_nest),
 * -1 on overflow. */
long hd_nlmsg_put_attr(struct hd_nlmsg *m, unsigned short type, const void *data, size_t n);
void hd_nlmsg_end_nest(struct hd_nlmsg *m, long off);
/* The message header; the family header follows with hd_nlmsg_put(). */
struct nlmsghdr *hd_nlmsg_begin(struct hd_nlmsg *m, unsigned short type, unsigned short flags, uint32_t seq);
/* The total length, or -ENOBUFS when anything did not fit. */
int hd_nlmsg_finish(struct hd_nlmsg *m);

/* Every well-formed attribute in [p, p + len). */
#define HD_NLA_FOREACH(a, p, len)                                                                      \
        for (const struct nlattr *a = (const struct nlattr *) (p);                                     \
             (size_t) ((const unsigned char *) a - (const unsigned char *) (p)) + NLA_HDRLEN <= (len) && \
             a->nla_len >= NLA_HDRLEN &&                                                               \
             (size_t) ((const unsigned char *) a - (const unsigned char *) (p)) + a->nla_len <= (len);   \
             a = (const struct nlattr *) ((const unsigned char *) a + NLA_ALIGN(a->nla_len)))

static inline const void *hd_nla_data(const struct nlattr *a) { return (const unsigned char *) a + NLA_HDRLEN; }
static inline size_t hd_nla_len(const struct nlattr *a) { return a->nla_len - NLA_HDRLEN; }
static inline int hd_nla_type(const struct nlattr *a) { return a->nla_type & NLA_TYPE_MASK; }

/* Called for each message of ours that is neither an error/ACK nor DONE:
 * > 0 ends the walk with that value, 0 goes on, < 0 ends it with an error. */
typedef int (*hd_nl_msg_fn)(const struct nlmsghdr *h, void *userdata);

/* Walk one datagram as recv() returned it, looking only at messages with
 * sequence number @seq: an NLMSG_ERROR gives its error (0 for an ACK),
 * NLMSG_DONE gives -ENODATA, others go to @fn.  -EBADMSG when nothing of
 * ours ended the walk. */
int hd_nl_walk_reply(const void *buf, size_t len, uint32_t seq, hd_nl_msg_fn fn, void *userdata);

/* Send @req on a new socket of @protocol and walk the answers (datagrams of
 * other sequence numbers are skipped) until hd_nl_walk_reply() decides;
 * -ETIMEDOUT after 5 s of silence. */
int hd_nl_transact(int protocol, const void *req, size_t len, uint32_t seq, hd_nl_msg_fn fn, void *userdata);

uint32_t hd_nl_next_seq(void);

/* ---- devlink ---- */

/* CTRL_CMD_GETFAMILY for "devlink", and the family id out of its answer. */
int hd_devlink_build_getfamily(void *buf, size_t size, uint32_t seq);
int hd_devlink_parse_family(const void *buf, size_t len, uint32_t seq, uint16_t *ret_id);
/* DEVLINK_CMD_ESWITCH_GET for @bus/@dev ("pci", "0000:3b:00.0"), and the
 * eswitch mode (DEVLINK_ESWITCH_MODE_*) out of its answer (-ENODATA when
 * the answer has none). */
int hd_devlink_build_eswitch_get(void *buf, size_t size, uint16_t family, uint32_t seq, const char *bus,
                                 const char *dev);
int hd_devlink_parse_eswitch(const void *buf, size_t len, uint32_t seq, int *ret_mode);
/* The eswitch mode of a devlink device on this host: -ENOENT without
 * devlink in the kernel, the kernel's error (-ENODEV, -EOPNOTSUPP, ...)
 * for a device without one. */
int hd_devlink_eswitch_mode(const char *bus, const char *dev, int *ret_mode);
