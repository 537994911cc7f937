/*
 * devices.h: finding a declared device in the manifest the tender handed
 * over, as solo5_block_acquire/solo5_net_acquire would (handle = index).
 */
#ifndef DEVICES_H
#define DEVICES_H

#include "kit.h"

/* The handle of the attached device `name` of `type`, or -1. */
static inline int64_t dev_lookup(const char *name, mft_type_t type)
{
    const struct mft *m = kit_manifest();
    for (unsigned i = 0; i < m->entries; i++) {
        const struct mft_entry *e = kit_manifest_entry(i);
        if (e->type == type && strcmp(e->name, name) == 0)
            return e->attached ? (int64_t)i : -1;
    }
    return -1;
}

/* The 64-bit pattern word at byte offset `off` (a multiple of 8) of a
 * device, for `seed`; the tests compute the same in Swift. */
static inline uint64_t dev_pattern(uint64_t off, uint64_t seed)
{
    return (off * 0x9e3779b97f4a7c15ULL) ^ seed;
}

#endif
