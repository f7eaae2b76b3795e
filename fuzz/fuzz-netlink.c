/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rtnetlink replies (RTM_NEWLINK with IFLA_VFINFO_LIST, NLMSG_ERROR):
 * hd_nl_parse_reply() on one datagram as recv() returned it; and the same
 * bytes as generic netlink answers to the devlink family and eswitch
 * queries (util/netlink.c). */
#include "fuzz.h"
#include "sriov/sriov-internal.h"
#include "util/netlink.h"

#include <linux/netlink.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct hd_nl_link l = { .num_vf = -1 };
        uint32_t seq = 0;
        /* a heap copy of exactly @size bytes, aligned like a recv() buffer */
        void *buf = malloc(size ? size : 1);
        int r;

        FUZZ_ASSERT(buf);
        if (size)
                memcpy(buf, data, size);
        /* our sequence number: the first message's, so that replies are
         * taken as ours (other numbers are skipped) */
        if (size >= sizeof(struct nlmsghdr))
                seq = ((const struct nlmsghdr *) buf)->nlmsg_seq;
        r = hd_nl_parse_reply(buf, size, seq, &l);
        if (r == 1) {
                for (size_t i = 1; i < l.n_vfs; i++)
                        FUZZ_ASSERT(l.vfs[i - 1].vf <= l.vfs[i].vf);
                for (size_t i = 0; i < l.n_vfs; i++)
                        FUZZ_ASSERT(l.vfs[i].trust >= -1 && l.vfs[i].trust <= 1 && l.vfs[i].spoofchk >= -1 &&
                                    l.vfs[i].spoofchk <= 1);
                hd_nl_link_done(&l);
        } else
                FUZZ_ASSERT(r <= 0 && l.vfs == NULL);
        /* the set-VF path passes no link: never a result */
        r = hd_nl_parse_reply(buf, size, seq, NULL);
        FUZZ_ASSERT(r <= 0);
        {
                uint16_t fam = 0;
                int mode = -1;
                r = hd_devlink_parse_family(buf, size, seq, &fam);
                FUZZ_ASSERT(r < 0 || fam > 0);
                r = hd_devlink_parse_eswitch(buf, size, seq, &mode);
                FUZZ_ASSERT(r < 0 || (mode >= 0 && mode <= 0xffff));
        }
        free(buf);
        return 0;
}
