/*
 * elf_abi.h: the "ABI1" ELF note a Solo5 executable carries to say which
 * tender target and ABI version it was built for.
 *
 * Shared by the tender (Swift, through the HvtABI module) and by our test
 * guests. Layout facts follow the Solo5 hvt ABI; the text is our own.
 */
#ifndef TENDER_ELF_ABI_H
#define TENDER_ELF_ABI_H

#include <stddef.h>
#include <stdint.h>

/* Targets a Solo5 executable can be built for. */
enum abi_target {
    HVT_ABI_TARGET = 1,
    SPT_ABI_TARGET,
    VIRTIO_ABI_TARGET,
    MUEN_ABI_TARGET,
    GENODE_ABI_TARGET,
    XEN_ABI_TARGET
};

/* Every Solo5-owned note is named "Solo5" (6 bytes with the NUL, padded to 8). */
#define SOLO5_NOTE_NAME "Solo5"
#define SOLO5_NOTE_NAME_SIZE 6
#define SOLO5_NOTE_NAME_PADDED 8
#define ABI1_NOTE_TYPE 0x31494241 /* "ABI1" */

/* Header of a Solo5-owned note: an Elf64_Nhdr followed by the padded name. */
struct solo5_nhdr {
    uint32_t n_namesz;
    uint32_t n_descsz;
    uint32_t n_type;
    char n_name[SOLO5_NOTE_NAME_PADDED];
};

struct abi1_info {
    uint32_t abi_target;  /* enum abi_target */
    uint32_t abi_version;
    uint32_t reserved0;
    uint32_t reserved1;
};

struct abi1_note {
    struct solo5_nhdr h;
    struct abi1_info i;
};

/* Alignment of the descriptor inside the note, and its largest accepted size
 * (plain numbers so Swift can import them; layout_checks.c proves them). */
#define ABI1_NOTE_ALIGN 4
#define ABI1_NOTE_MAX_SIZE 32

#endif
