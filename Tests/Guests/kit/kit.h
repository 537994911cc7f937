/*
 * kit.h: a tiny freestanding runtime for hvt test guests.
 *
 * A guest defines `int main(int argc, char **argv)`. The kit's _start copies
 * the boot command line, splits it on spaces and calls main with
 * argv[0] = the guest's name and argv[1..argc-1] = the command line words,
 * then halts with main's return value as the exit status.
 *
 * Devices are addressed by handle = index of their entry in the guest's
 * manifest (entry 0 is always the reserved entry). A guest that uses devices
 * declares its manifest with KIT_MANIFEST(); the others get a default one
 * holding only the reserved entry.
 */
#ifndef KIT_H
#define KIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvt_abi.h"
#include "hvt_ring.h"
#include "mft_abi.h"

/* The ABI the guest is built for: 2 (the default), 1 (Solo5 0.6/0.7: only
 * the ABI note and layout differ) or 0 (before 0.6: no notes, kit_v0.c). */
#ifndef KIT_ABI_VERSION
#define KIT_ABI_VERSION HVT_ABI_VERSION
#endif

/* The boot information the tender passed in %rdi. */
extern const struct hvt_boot_info *kit_boot_info;

int main(int argc, char **argv);

/* Raw hypercall: outl of the argument's guest-physical address. */
static inline void kit_hypercall(unsigned int nr, volatile void *arg)
{
    __asm__ volatile("outl %0, %1"
                     :
                     : "a"((uint32_t)(uint64_t)arg),
                       "d"((uint16_t)(HVT_HYPERCALL_PIO_BASE + nr))
                     : "memory");
}

/* Same, with an arbitrary 32-bit value instead of a pointer. */
static inline void kit_hypercall_raw(unsigned int nr, uint32_t gpa)
{
    __asm__ volatile("outl %0, %1"
                     :
                     : "a"(gpa), "d"((uint16_t)(HVT_HYPERCALL_PIO_BASE + nr))
                     : "memory");
}

/* Console. */
void kit_write(const char *buf, size_t len);
void kit_puts(const char *s);          /* no newline added */
void kit_putc(char c);
void kit_put_dec(int64_t v);
void kit_put_udec(uint64_t v);
void kit_put_hex(uint64_t v);          /* "0x..." */
void kit_println(const char *s);       /* s + "\n" */

/* Time. */
uint64_t kit_walltime_ns(void);        /* WALLTIME hypercall */
uint64_t kit_rdtsc(void);
uint64_t kit_monotonic_ns(void);       /* TSC / bi->cpu_cycle_freq */

/* POLL: returns the number of ready handles; *ready_set may be NULL. */
int kit_poll(uint64_t timeout_ns, uint64_t *ready_set);

/* Exit. */
__attribute__((noreturn)) void kit_exit(int status);
__attribute__((noreturn)) void kit_halt(int status, void *cookie);
__attribute__((noreturn)) void abort(void);
__attribute__((noreturn)) void exit(int status);

/* Devices (handle = manifest index). Return a solo5_result_t. */
int kit_block_write(uint64_t handle, uint64_t offset, const void *buf,
                    size_t len);
int kit_block_read(uint64_t handle, uint64_t offset, void *buf, size_t len);
int kit_net_write(uint64_t handle, const void *buf, size_t len);
/* On SOLO5_R_OK, *len is updated to the received length. */
int kit_net_read(uint64_t handle, void *buf, size_t *len);

/*
 * Ring I/O (hvt_ring.h), in kit/ring.c. A guest accepts the feature as the
 * reference's bindings do: by using the ring when the boot info offers it
 * (the boot info page is read-only to the guest, so guest_features cannot
 * be written). Writes are fire-and-forget; a read waits for its commit.
 */

/* The ring the tender offered (HVT_FEATURE_RING_IO and a net_ring), or NULL. */
volatile struct hvt_ring *kit_ring(void);

/* Barriers for the ring protocol (x86: TSO, so only the store-load one
 * needs an instruction). */
static inline void kit_wmb(void) { __asm__ volatile("" ::: "memory"); }
static inline void kit_rmb(void) { __asm__ volatile("" ::: "memory"); }
static inline void kit_mb(void) { __asm__ volatile("mfence" ::: "memory"); }
static inline void kit_cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }

/* outl to the kick port (an ioeventfd in the tender). */
static inline void kit_ring_kick(void)
{
    __asm__ volatile("outl %0, %1"
                     :
                     : "a"((uint32_t)0), "d"((uint16_t)HVT_RING_KICK_PIO_BASE)
                     : "memory");
}

/* Publishes the entry at ent_tail (already filled in) and kicks the host
 * if it asked to be kicked. */
void kit_ring_submit(volatile struct hvt_ring *r);
/* Fills in the entry at ent_tail (waiting for a free slot) and submits it;
 * returns the entry's index. */
uint32_t kit_ring_post(uint32_t operation, uint64_t handle, const void *data, uint32_t len);
/* Waits for the next commit; returns its ret and sets *len. */
int kit_ring_wait_commit(size_t *len);
/* NET_WRITE, copying the frame into a per-slot buffer first (as the
 * reference bindings do; frames over HVT_RING_BUF_SIZE go by hypercall). */
int kit_ring_net_write(uint64_t handle, const void *buf, size_t len);
/* NET_WRITE without the copy: `buf` must stay unchanged until ent_head has
 * passed the returned entry index (kit_ring_consumed). */
uint32_t kit_ring_net_write_nocopy(uint64_t handle, const void *buf, size_t len);
/* Whether the host has consumed entry `index`. */
bool kit_ring_consumed(uint32_t index);
/* NET_READ: submits, waits for the commit. */
int kit_ring_net_read(uint64_t handle, void *buf, size_t *len);

/* The copy of the manifest the tender handed over (bi->mft). */
static inline const struct mft *kit_manifest(void)
{
    return (const struct mft *)kit_boot_info->mft;
}
static inline const struct mft_entry *kit_manifest_entry(unsigned int i)
{
    return (const struct mft_entry *)(kit_manifest() + 1) + i;
}

/* Freestanding string helpers (gcc may emit calls to the mem* ones). */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
/* Parses an optionally signed decimal or 0x-prefixed hex number. */
bool kit_parse_int(const char *s, int64_t *out);

/* Stack protector. */
extern uintptr_t __stack_chk_guard;
__attribute__((noreturn)) void __stack_chk_fail(void);

/*
 * MFT1 manifest note.
 *
 *   KIT_MANIFEST(2,
 *       KIT_MFT_BLOCK("storage"),
 *       KIT_MFT_NET("service"));
 *
 * declares a manifest with the reserved entry followed by the given N
 * devices (N + 1 entries in all). Use it at file scope, at most once per
 * guest. Defining it replaces the kit's default manifest (which lives in an
 * archive member that is only linked when nothing else defines
 * kit_mft_note).
 */
#define KIT_MFT_BLOCK(nm) { .name = nm, .type = MFT_DEV_BLOCK_BASIC }
#define KIT_MFT_NET(nm) { .name = nm, .type = MFT_DEV_NET_BASIC }

/*
 * The note type is packed to 4-byte alignment like any ELF note (so its
 * PT_NOTE has p_align 4, as in Solo5's own executables); the linker script
 * still places it at an 8-aligned address so the mft inside is 8-aligned.
 */
#define KIT_MFT_NOTE_TYPE(n)                                                  \
    struct __attribute__((packed, aligned(4))) {                              \
        struct solo5_nhdr h;                                                  \
        uint32_t pad; /* MFT1_NOTE_DESC_PAD: the mft starts 8-aligned */      \
        struct mft m;                                                         \
        struct mft_entry e[(n)];                                              \
    }

#define KIT_MFT_NOTE_DEFINE(n, ...)                                           \
    __attribute__((section(".note.solo5.manifest"), aligned(4), used))        \
    const KIT_MFT_NOTE_TYPE(n) kit_mft_note = {                               \
        .h = { .n_namesz = SOLO5_NOTE_NAME_SIZE,                              \
               .n_descsz = MFT1_NOTE_DESC_PAD + sizeof(struct mft) +          \
                           (n) * sizeof(struct mft_entry),                    \
               .n_type = MFT1_NOTE_TYPE,                                      \
               .n_name = SOLO5_NOTE_NAME },                                   \
        .pad = 0,                                                             \
        .m = { .version = MFT_VERSION, .entries = (n) },                      \
        .e = { { .name = "", .type = MFT_RESERVED_FIRST }, __VA_ARGS__ }      \
    }

#define KIT_MANIFEST(ndevices, ...)                                           \
    KIT_MFT_NOTE_DEFINE((ndevices) + 1, __VA_ARGS__)

/*
 * Guest name, used as argv[0]: the Makefile compiles each guest with
 * -DKIT_GUEST_NAME='"name"'.
 */
#if defined(KIT_GUEST_NAME) && !defined(KIT_INTERNAL)
__attribute__((used)) const char kit_progname[] = KIT_GUEST_NAME;
#endif

#endif
