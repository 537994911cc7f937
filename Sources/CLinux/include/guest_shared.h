/*
 * guest_shared.h: atomic accesses to words of memory shared with a running
 * guest (a module's shared region, e.g. the net ring). Only SharedRegion
 * calls these, with addresses it checked; the guest may write the same words
 * at any time, so they are C atomics on raw memory: Swift's Synchronization
 * atomics live in memory Swift owns. The tender's own flags use those.
 */
#ifndef CLINUX_GUEST_SHARED_H
#define CLINUX_GUEST_SHARED_H

#include <stdint.h>

static inline uint32_t clinux_load_acquire32(const void *p)
{
    return __atomic_load_n((const uint32_t *)p, __ATOMIC_ACQUIRE);
}

static inline uint32_t clinux_load_relaxed32(const void *p)
{
    return __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
}

static inline uint64_t clinux_load_relaxed64(const void *p)
{
    return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
}

static inline void clinux_store_release32(void *p, uint32_t v)
{
    __atomic_store_n((uint32_t *)p, v, __ATOMIC_RELEASE);
}

static inline void clinux_store_relaxed32(void *p, uint32_t v)
{
    __atomic_store_n((uint32_t *)p, v, __ATOMIC_RELAXED);
}

/* Full barrier (mfence on x86): orders a store before a later load. */
static inline void clinux_fence(void)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

#endif
