/*
 * Compile-time checks that our headers give the layouts the hvt ABI fixes.
 * Built into the HvtABI module (host) and by the guest kit (guest).
 */
#include "hvt_abi.h"
#include "mft_abi.h"
#include "hvt_ring.h"
#include "hvt_abi_v0.h"

#define CHECK(cond) _Static_assert(cond, #cond)

CHECK(sizeof(struct solo5_nhdr) == 20);
CHECK(sizeof(struct abi1_info) == 16);
CHECK(sizeof(struct hvt_boot_info) == 56);
CHECK(sizeof(struct mft_entry) == 104);
CHECK(offsetof(struct mft_entry, type) == 68);
CHECK(offsetof(struct mft_entry, u) == 72);
CHECK(offsetof(struct mft_entry, b) == 88);
CHECK(offsetof(struct mft_entry, attached) == 96);
CHECK(sizeof(struct mft) == 8);
CHECK(MFT1_NOTE_ALIGN == _Alignof(struct mft_entry));
CHECK(ABI1_NOTE_ALIGN == _Alignof(struct abi1_info));
CHECK(ABI1_NOTE_MAX_SIZE == 2 * sizeof(struct abi1_info));
CHECK(MFT1_NOTE_MAX_SIZE == MFT1_NOTE_DESC_PAD + sizeof(struct mft) + MFT_MAX_ENTRIES * sizeof(struct mft_entry));
CHECK(MFT1_NOTE_MAX_SIZE == 6668);
CHECK(ABI1_NOTE_MAX_SIZE == 32);
CHECK((sizeof(struct solo5_nhdr) + MFT1_NOTE_DESC_PAD) % MFT1_NOTE_ALIGN == 0);
CHECK(sizeof(struct hvt_hc_puts) == 16);
CHECK(sizeof(struct hvt_hc_poll) == 24);
CHECK(sizeof(struct hvt_hc_halt) == 16);
CHECK(sizeof(struct hvt_hc_block_read) == 40);
CHECK(sizeof(struct hvt_hc_net_read) == 32);

/* The ring (hvt_ring.h): the offsets the reference's guests and tender use. */
CHECK(sizeof(struct hvt_ring_entry) == 32);
CHECK(offsetof(struct hvt_ring_entry, handle) == 4);
CHECK(offsetof(struct hvt_ring_entry, data) == 8);
CHECK(offsetof(struct hvt_ring_entry, len) == 16);
CHECK(offsetof(struct hvt_ring_entry, id) == 20);
CHECK(sizeof(struct hvt_ring_commit) == 16);
CHECK(offsetof(struct hvt_ring_commit, ret) == 4);
CHECK(offsetof(struct hvt_ring_commit, len) == 8);
CHECK(offsetof(struct hvt_ring, ent_tail) == 0);
CHECK(offsetof(struct hvt_ring, com_head) == 4);
CHECK(offsetof(struct hvt_ring, ent_head) == 64);
CHECK(offsetof(struct hvt_ring, com_tail) == 68);
CHECK(offsetof(struct hvt_ring, needs_kick) == 72);
CHECK(offsetof(struct hvt_ring, entries) == 128);
CHECK(offsetof(struct hvt_ring, entries) == HVT_RING_ENTRIES_OFFSET);
CHECK(offsetof(struct hvt_ring, commits) == 128 + 32 * HVT_RING_SIZE);
CHECK(offsetof(struct hvt_ring, commits) == HVT_RING_COMMITS_OFFSET);
CHECK(sizeof(struct hvt_ring) == 49280);
CHECK((HVT_RING_SIZE & HVT_RING_MASK) == 0);
CHECK(offsetof(struct hvt_boot_info, host_features) == 40);
CHECK(offsetof(struct hvt_boot_info, guest_features) == 44);
CHECK(offsetof(struct hvt_boot_info, net_ring) == 48);

/* Before 0.6 (hvt_abi_v0.h). */
CHECK(sizeof(struct hvt_v0_boot_info) == 32);
CHECK(offsetof(struct hvt_v0_boot_info, tsc_freq) == 24);
CHECK(sizeof(struct hvt_v0_hc_poll) == 16);
CHECK(offsetof(struct hvt_v0_hc_poll, ret) == 8);
CHECK(sizeof(struct hvt_v0_hc_blkinfo) == 24);
CHECK(offsetof(struct hvt_v0_hc_blkwrite, ret) == 24);
CHECK(offsetof(struct hvt_v0_hc_blkread, ret) == 24);
CHECK(sizeof(struct hvt_v0_hc_netinfo) == 6);
CHECK(offsetof(struct hvt_v0_hc_netread, ret) == 16);
CHECK(HVT_V0_CMDLINE_BASE + HVT_V0_CMDLINE_SIZE <= 0x8000);
CHECK(sizeof(struct hvt_v0_hc_blkread) == sizeof(struct hvt_v0_hc_blkwrite));
CHECK(offsetof(struct hvt_v0_hc_blkread, data) == offsetof(struct hvt_v0_hc_blkwrite, data));
CHECK(offsetof(struct hvt_v0_hc_blkread, len) == offsetof(struct hvt_v0_hc_blkwrite, len));
