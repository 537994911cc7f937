/*
 * Compile-time checks that our headers give the layouts the hvt ABI fixes.
 * Built into the HvtABI module (host) and by the guest kit (guest).
 */
#include "hvt_abi.h"
#include "mft_abi.h"

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
