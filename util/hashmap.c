/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small open-addressing string → pointer map (FNV-1a, linear probing). */
#include <stdint.h>

#include "internal.h"

struct entry {
        const char *key;
        void *value;
        uint32_t hash;
};

struct hd_hashmap {
        struct entry *e;
        size_t cap, n;          /* cap is a power of two */
};

static uint32_t hash_str(const char *s) {
        uint32_t h = 2166136261u;
        for (; *s; s++) {
                h ^= (unsigned char) *s;
                h *= 16777619u;
        }
        return h;
}

int hd_hashmap_new(struct hd_hashmap **ret) {
        struct hd_hashmap *h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->cap = 64;
        h->e = calloc(h->cap, sizeof(struct entry));
        if (!h->e) {
                free(h);
                return -ENOMEM;
        }
        *ret = h;
        return 0;
}

void hd_hashmap_free(struct hd_hashmap *h) {
        if (!h)
                return;
        free(h->e);
        free(h);
}

static struct entry *find_slot(struct entry *e, size_t cap, const char *key, uint32_t hash) {
        size_t i = hash & (cap - 1);
        for (;;) {
                if (!e[i].key || (e[i].hash == hash && streq(e[i].key, key)))
                        return &e[i];
                i = (i + 1) & (cap - 1);
        }
}

static int grow(struct hd_hashmap *h) {
        size_t ncap = h->cap * 2;
        struct entry *ne = calloc(ncap, sizeof(struct entry));
        if (!ne)
                return -ENOMEM;
        for (size_t i = 0; i < h->cap; i++)
                if (h->e[i].key)
                        *find_slot(ne, ncap, h->e[i].key, h->e[i].hash) = h->e[i];
        free(h->e);
        h->e = ne;
        h->cap = ncap;
        return 0;
}

int hd_hashmap_put(struct hd_hashmap *h, const char *key, void *value) {
        uint32_t hash = hash_str(key);
        struct entry *s;

        if ((h->n + 1) * 4 >= h->cap * 3) {
                int r = grow(h);
                if (r < 0)
                        return r;
        }
        s = find_slot(h->e, h->cap, key, hash);
        if (s->key)
                return -EEXIST;
        s->key = key;
        s->value = value;
        s->hash = hash;
        h->n++;
        return 0;
}

void *hd_hashmap_get(struct hd_hashmap *h, const char *key) {
        struct entry *s = find_slot(h->e, h->cap, key, hash_str(key));
        return s->key ? s->value : NULL;
}

/* Linear probing: the entries after the freed slot that probed past it
 * move back, so every lookup still finds its key. */
int hd_hashmap_remove(struct hd_hashmap *h, const char *key) {
        struct entry *s = find_slot(h->e, h->cap, key, hash_str(key));
        size_t i, j, mask = h->cap - 1;

        if (!s->key)
                return -ENOENT;
        i = j = (size_t) (s - h->e);
        s->key = NULL;
        h->n--;
        for (;;) {
                size_t k;
                j = (j + 1) & mask;
                if (!h->e[j].key)
                        return 0;
                k = h->e[j].hash & mask;
                /* stays when its home slot lies cyclically in (i, j] */
                if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
                        continue;
                h->e[i] = h->e[j];
                h->e[j].key = NULL;
                i = j;
        }
}
