/*
 * hvt_abi.h: the interface between the hvt tender and a guest: boot
 * information, hypercall ports and the argument structure of each hypercall.
 *
 * A guest passes the guest-physical address of an argument structure as the
 * 32-bit value of an `outl` to port HVT_HYPERCALL_PIO_BASE + number. On the
 * host side every guest pointer is a 64-bit guest-physical address, so the
 * host (and Swift, which defines __swift__) sees plain uint64_t fields.
 */
#ifndef TENDER_HVT_ABI_H
#define TENDER_HVT_ABI_H

#include <stddef.h>
#include <stdint.h>
#include "elf_abi.h"

#define HVT_ABI_VERSION 2

/* Lowest address an executable may be loaded at. */
#define HVT_GUEST_MIN_BASE 0x100000

#define HVT_HYPERCALL_PIO_BASE 0x500
#define HVT_RING_KICK_PIO_BASE 0x600

#if defined(HVT_HOST) || defined(__swift__)
#define HVT_GUEST_PTR(T) uint64_t
#define HVT_GUEST_SIZE uint64_t
#else
#define HVT_GUEST_PTR(T) T
#define HVT_GUEST_SIZE size_t
#endif

#define HVT_FEATURE_RING_IO (1U << 0)

struct hvt_boot_info {
    uint64_t mem_size;       /* guest memory in bytes */
    uint64_t kernel_end;     /* first address past the loaded executable */
    uint64_t cpu_cycle_freq; /* TSC frequency in Hz */
    HVT_GUEST_PTR(const char *) cmdline;
    HVT_GUEST_PTR(const void *) mft;
    /* Ring I/O negotiation (Solo5 0.11+); zero when not offered. */
    uint32_t host_features;
    uint32_t guest_features;
    HVT_GUEST_PTR(void *) net_ring;
};

/* Command line buffer size, including the terminating NUL. */
#define HVT_CMDLINE_SIZE 8192

enum hvt_hypercall {
    HVT_HYPERCALL_WALLTIME = 1,
    HVT_HYPERCALL_PUTS = 2,
    HVT_HYPERCALL_POLL = 3,
    HVT_HYPERCALL_BLOCK_WRITE = 4,
    HVT_HYPERCALL_BLOCK_READ = 5,
    HVT_HYPERCALL_NET_WRITE = 6,
    HVT_HYPERCALL_NET_READ = 7,
    HVT_HYPERCALL_HALT = 8,
    HVT_HYPERCALL_MAX = 9
};

struct hvt_hc_walltime {
    uint64_t nsecs; /* out */
};

struct hvt_hc_puts {
    HVT_GUEST_PTR(const char *) data;
    HVT_GUEST_SIZE len;
};

struct hvt_hc_block_write {
    uint64_t handle;
    uint64_t offset;
    HVT_GUEST_PTR(const void *) data;
    HVT_GUEST_SIZE len;
    int ret; /* out */
};

struct hvt_hc_block_read {
    uint64_t handle;
    uint64_t offset;
    HVT_GUEST_PTR(void *) data;
    HVT_GUEST_SIZE len; /* in/out */
    int ret;            /* out */
};

struct hvt_hc_net_write {
    uint64_t handle;
    HVT_GUEST_PTR(const void *) data;
    HVT_GUEST_SIZE len;
    int ret; /* out */
};

struct hvt_hc_net_read {
    uint64_t handle;
    HVT_GUEST_PTR(void *) data;
    HVT_GUEST_SIZE len; /* in/out */
    int ret;            /* out */
};

struct hvt_hc_poll {
    uint64_t timeout_nsecs; /* in, relative */
    uint64_t ready_set;     /* out: bit N set = manifest entry N readable */
    int ret;                /* out: number of ready handles */
};

/* A non-NULL halt cookie points at up to this many bytes for halt hooks. */
#define HVT_HALT_COOKIE_MAX 512

struct hvt_hc_halt {
    HVT_GUEST_PTR(void *) cookie;
    int exit_status;
};

/* Result codes of the Solo5 API, as returned in the `ret` fields. */
typedef enum {
    SOLO5_R_OK = 0,
    SOLO5_R_AGAIN = 1,
    SOLO5_R_EINVAL = 2,
    SOLO5_R_EUNSPEC = 3
} solo5_result_t;

/* The shared ring of HVT_FEATURE_RING_IO. */
#include "hvt_ring.h"

#endif
