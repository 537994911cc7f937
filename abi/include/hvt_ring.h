/*
 * hvt_ring.h: the shared network ring of the hvt ABI's ring I/O feature
 * (HVT_FEATURE_RING_IO, Solo5 0.11+).
 *
 * When the tender offers the feature, boot info `net_ring` is the
 * guest-physical address of one `struct hvt_ring`, at the top of guest
 * memory and outside the guest's `mem_size`. The guest submits entries
 * (NET_WRITE: send a frame, NET_READ: receive one) at `ent_tail` and, when
 * the host asked for it with `needs_kick`, writes to port
 * HVT_RING_KICK_PIO_BASE (an ioeventfd: no exit to the tender). A host
 * thread consumes entries at `ent_head`; for each NET_READ it posts one
 * commit at `com_tail`, which the guest consumes at `com_head`. NET_WRITE
 * has no commit: the host advances `ent_head` once the frame is sent, and
 * the guest may then reuse the frame's buffer.
 *
 * Indices are free-running 32-bit counters; slot = index & HVT_RING_MASK.
 * The guest writes only cache line 0, the host only cache line 1.
 *
 * Only numeric macros and plain structures here, so that Swift imports it.
 */
#ifndef TENDER_HVT_RING_H
#define TENDER_HVT_RING_H

#include <stdint.h>
#include "hvt_abi.h"

#define HVT_RING_SIZE 1024
#define HVT_RING_MASK (HVT_RING_SIZE - 1)
/* Per-slot frame buffer of the reference bindings: larger frames go by
 * hypercall. */
#define HVT_RING_BUF_SIZE 2048

/* Where the arrays of struct hvt_ring start (layout_checks.c checks). */
#define HVT_RING_ENTRIES_OFFSET 128
#define HVT_RING_COMMITS_OFFSET 32896 /* 128 + 32 * HVT_RING_SIZE */

/* Entry operations. */
#define HVT_RING_NET_WRITE 1
#define HVT_RING_NET_READ 2

/* Submission entry: written by the guest, read by the host. */
struct hvt_ring_entry {
    uint32_t operation;
    uint32_t handle;
    HVT_GUEST_PTR(const void *) data; /* guest-physical address */
    uint32_t len;
    uint32_t id;
    uint64_t _reserved;
};

/* Commit entry: written by the host, read by the guest. */
struct hvt_ring_commit {
    uint32_t id;  /* the entry's id */
    int32_t ret;  /* solo5_result_t */
    uint32_t len; /* bytes received */
    uint32_t _reserved;
};

struct hvt_ring {
    /* Cache line 0: written by the guest. */
    uint32_t ent_tail; /* next entry the guest fills */
    uint32_t com_head; /* next commit the guest reads */
    uint8_t _pad0[56];

    /* Cache line 1: written by the host. */
    uint32_t ent_head;   /* next entry the host consumes */
    uint32_t com_tail;   /* next commit the host fills */
    uint32_t needs_kick; /* 1: the host sleeps until kicked */
    uint8_t _pad1[52];

    struct hvt_ring_entry entries[HVT_RING_SIZE];
    struct hvt_ring_commit commits[HVT_RING_SIZE];
};

#endif
