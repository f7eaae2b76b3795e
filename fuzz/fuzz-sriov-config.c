/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Persisted SR-IOV state (/etc/hostdev/sriov/<PF>.json): parse, write back
 * and parse again: the round trip must give the same configuration. */
#include "fuzz.h"
#include "sriov/sriov-internal.h"

static bool same(const hd_sriov_pf_config *a, const hd_sriov_pf_config *b) {
        if (!streq_ptr(a->address, b->address) || a->vendor != b->vendor || a->device != b->device ||
            !streq_ptr(a->serial, b->serial) || a->numvfs != b->numvfs || !streq_ptr(a->driver, b->driver) ||
            (a->autoprobe > 0) != (b->autoprobe > 0) || a->n_vfs != b->n_vfs)
                return false;
        for (size_t i = 0; i < a->n_vfs; i++) {
                const hd_sriov_vf_config *x = &a->vfs[i], *y = &b->vfs[i];
                if (x->index != y->index || x->set_mac != y->set_mac || x->set_vlan != y->set_vlan ||
                    x->trust != y->trust || x->spoofchk != y->spoofchk)
                        return false;
                if (x->set_mac && memcmp(x->mac, y->mac, 6) != 0)
                        return false;
                if (x->set_vlan && (x->vlan != y->vlan || x->qos != y->qos))
                        return false;
        }
        return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        hd_sriov_pf_config *c = NULL, *c2 = NULL;
        char *err = NULL, *text, *out = NULL;
        int r;

        if (size > 1 << 20) /* the reader's limit */
                return -1;
        text = fuzz_cstr(data, size);
        r = hd_sriov_config_parse(text, size, NULL, &c, &err);
        free(text);
        if (r < 0) {
                FUZZ_ASSERT(r == -EBADMSG || r == -ENOMEM);
                FUZZ_ASSERT(r != -EBADMSG || err);
                FUZZ_ASSERT(!c);
                free(err);
                return 0;
        }
        for (size_t i = 0; i < c->n_vfs; i++)
                FUZZ_ASSERT(c->vfs[i].index < c->numvfs && (i == 0 || c->vfs[i - 1].index < c->vfs[i].index));
        r = hd_sriov_config_format(c, &out);
        FUZZ_ASSERT(r == 0);
        r = hd_sriov_config_parse(out, strlen(out), c->address, &c2, &err);
        if (r < 0)
                fprintf(stderr, "re-parse failed: %s\n%s", err, out);
        free(err);
        FUZZ_ASSERT(r == 0 && same(c, c2));
        free(out);
        hd_sriov_pf_config_free(c);
        hd_sriov_pf_config_free(c2);
        return 0;
}
