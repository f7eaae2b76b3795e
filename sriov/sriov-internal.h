/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal pieces of sriov/ shared with the unit tests. */
#pragma once

#include <stdint.h>

#include "nodedev/device.h"

/* ---- rtnetlink (sriov/netlink.c) ---- */

/* What RTM_NEWLINK tells about one VF (IFLA_VFINFO_LIST/IFLA_VF_INFO). */
struct hd_nl_vf {
        unsigned vf;
        bool has_mac;
        unsigned char mac[6];
        bool has_vlan;
        unsigned vlan, qos;
        int spoofchk;           /* -1 unknown */
        int trust;              /* -1 unknown */
        int link_state;         /* -1 unknown */
};

struct hd_nl_link {
        int ifindex;
        int num_vf;             /* IFLA_NUM_VF, -1 when absent */
        struct hd_nl_vf *vfs;
        size_t n_vfs;
};
void hd_nl_link_done(struct hd_nl_link *l);

/* RTM_GETLINK of @ifindex with IFLA_EXT_MASK = RTEXT_FILTER_VF.  Returns
 * the message length, -ENOBUFS when @size is too small. */
int hd_nl_build_getlink(void *buf, size_t size, int ifindex, uint32_t seq);
/* RTM_SETLINK of @ifindex (NLM_F_ACK) with IFLA_VFINFO_LIST → IFLA_VF_INFO
 * → IFLA_VF_MAC/IFLA_VF_VLAN/IFLA_VF_TRUST/IFLA_VF_SPOOFCHK for what @c
 * sets.  Returns the length, -ENOBUFS, -EINVAL when @c sets nothing. */
int hd_nl_build_setvf(void *buf, size_t size, int ifindex, uint32_t seq, const hd_sriov_vf_config *c);
/* One netlink reply datagram: RTM_NEWLINK → 1 and *ret filled (VFs sorted
 * by number); NLMSG_ERROR → its (negative) error, 0 for an ACK;
 * -EBADMSG for anything truncated or malformed. */
int hd_nl_parse_reply(const void *buf, size_t len, uint32_t seq, struct hd_nl_link *ret);

/* Live host: query / change through a NETLINK_ROUTE socket. */
int hd_nl_get_link(int ifindex, struct hd_nl_link *ret);
int hd_nl_set_vf(int ifindex, const hd_sriov_vf_config *c);

/* ---- persisted state (sriov/config.c) ---- */

/* Longest serial number recorded, with its NUL (hd_pci_device_read_serial). */
#define HD_SERIAL_MAX 128

/* The text of a config file (@len bytes, NUL-terminated at @len) into a
 * new config; @addr NULL skips the check that "address" matches the file
 * name.  -EBADMSG with the reason in *err (replaced; caller frees),
 * without the file name. */
int hd_sriov_config_parse(const char *text, size_t len, const char *addr, hd_sriov_pf_config **ret, char **err);
/* The text hd_sriov_config_write() writes for @c. */
int hd_sriov_config_format(const hd_sriov_pf_config *c, char **ret);

/* ---- sriov/sriov.c ---- */

/* Converge one PF to @cfg (count, driver binding, VF link settings),
 * adding actions and the first failure to @res. */
int hd_sriov_apply_one(hd_nodedev_list *list, hd_device *d, const hd_sriov_pf_config *cfg, unsigned flags,
                       hd_result *res);
/* flock()ed STATE_DIR/sriov.lock */
int hd_sriov_lock(hd_ctx *ctx, int *ret_fd);
