/*
 * hvt_abi_v0.h: the hvt interface before Solo5 0.6 (ukvm 0.2/0.3, hvt
 * 0.4): executables carry no Solo5 notes, and the tender serves one block
 * and one net device with hypercalls of their own. Shared by the tender
 * (what it serves such executables) and the test guests built the old way.
 *
 * Layout facts follow Solo5 v0.3.1's ukvm and v0.4.1's hvt; the text is
 * our own.
 */
#ifndef TENDER_HVT_ABI_V0_H
#define TENDER_HVT_ABI_V0_H

#include "hvt_abi.h"

/* Low memory: GDT at 0x1000, page tables at 0x2000-0x4fff (one PML4, one
 * PDPT, one page directory of 2 MiB pages: at most 1 GiB), the boot info
 * at 0x5000 and the command line at 0x6000. The guest's %rdi holds the
 * boot info's address. */
#define HVT_V0_BOOT_INFO_BASE 0x5000
#define HVT_V0_CMDLINE_BASE 0x6000
#define HVT_V0_CMDLINE_SIZE 8192
#define HVT_V0_MAX_MEM_SIZE (512ULL * 0x200000)

struct hvt_v0_boot_info {
    uint64_t mem_size;   /* guest memory in bytes */
    uint64_t kernel_end; /* first address past the loaded executable */
    HVT_GUEST_PTR(char *) cmdline;
    uint64_t tsc_freq;   /* TSC frequency in Hz */
};

/* Hypercall numbers: `outl` of the argument's address to 0x500 + number. */
enum hvt_v0_hypercall {
    HVT_V0_HYPERCALL_WALLTIME = 1, /* struct hvt_hc_walltime */
    HVT_V0_HYPERCALL_PUTS = 2,     /* struct hvt_hc_puts */
    HVT_V0_HYPERCALL_POLL = 3,
    HVT_V0_HYPERCALL_BLKINFO = 4,
    HVT_V0_HYPERCALL_BLKWRITE = 5,
    HVT_V0_HYPERCALL_BLKREAD = 6,
    HVT_V0_HYPERCALL_NETINFO = 7,
    HVT_V0_HYPERCALL_NETWRITE = 8,
    HVT_V0_HYPERCALL_NETREAD = 9,
    HVT_V0_HYPERCALL_HALT = 10,    /* struct hvt_hc_halt */
    HVT_V0_HYPERCALL_MAX = 11
};

struct hvt_v0_hc_poll {
    uint64_t timeout_nsecs; /* in, relative */
    int ret;                /* out: number of ready devices */
};

/* The one block device: fixed-size sectors, addressed by sector number. */
struct hvt_v0_hc_blkinfo {
    HVT_GUEST_SIZE sector_size; /* out */
    HVT_GUEST_SIZE num_sectors; /* out */
    int rw;                     /* out: 1 if writable */
};

struct hvt_v0_hc_blkwrite {
    HVT_GUEST_SIZE sector;
    HVT_GUEST_PTR(const void *) data;
    HVT_GUEST_SIZE len;
    int ret; /* out: 0, or -1 */
};

struct hvt_v0_hc_blkread {
    HVT_GUEST_SIZE sector;
    HVT_GUEST_PTR(void *) data;
    HVT_GUEST_SIZE len; /* in/out */
    int ret;            /* out: 0, or -1 */
};

/* The one net device. */
struct hvt_v0_hc_netinfo {
    uint8_t mac_address[6]; /* out */
};

struct hvt_v0_hc_netwrite {
    HVT_GUEST_PTR(const void *) data;
    HVT_GUEST_SIZE len;
    int ret; /* out: 0 */
};

struct hvt_v0_hc_netread {
    HVT_GUEST_PTR(void *) data;
    HVT_GUEST_SIZE len; /* in: buffer size; out: frame length */
    int ret;            /* out: 0, or -1 when no frame is waiting */
};

#endif
