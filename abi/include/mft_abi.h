/*
 * mft_abi.h: the application manifest ("MFT1" note). It lists the devices a
 * unikernel expects; the tender attaches them and hands a copy to the guest.
 */
#ifndef TENDER_MFT_ABI_H
#define TENDER_MFT_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "elf_abi.h"

#define MFT_VERSION 1

typedef enum mft_type {
    MFT_DEV_BLOCK_BASIC = 1,
    MFT_DEV_NET_BASIC = 2,
    MFT_RESERVED_FIRST = (1U << 30)
} mft_type_t;

struct mft_block_basic {
    uint64_t capacity;   /* bytes */
    uint16_t block_size; /* bytes */
};

struct mft_net_basic {
    uint8_t mac[6];
    uint16_t mtu;
};

#define MFT_NAME_SIZE 68 /* including the terminating NUL */
#define MFT_NAME_MAX 67

struct mft_entry {
    char name[MFT_NAME_SIZE];
    mft_type_t type;
    union {
        struct mft_block_basic block_basic;
        struct mft_net_basic net_basic;
    } u;
    union {
        int hostfd;   /* private to the tender */
        uint64_t data;
    } b;
    bool attached;
};

/* The first entry is always RESERVED_FIRST, so 63 devices at most. */
#define MFT_MAX_ENTRIES 64

/* Header of the manifest; (entries) struct mft_entry follow it. */
struct mft {
    uint32_t version;
    uint32_t entries;
};

#define MFT1_NOTE_TYPE 0x3154464d /* "MFT1" */
/* The descriptor starts 8-aligned, so it carries 4 bytes of padding; the
 * largest is that plus the header and 64 entries (plain numbers so Swift can
 * import them; layout_checks.c proves them). */
#define MFT1_NOTE_ALIGN 8
#define MFT1_NOTE_DESC_PAD 4
#define MFT1_NOTE_MAX_SIZE 6668

#endif
