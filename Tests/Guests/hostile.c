/*
 * hostile: argv[1] selects one malformed hypercall or port access. Each must
 * make the tender stop with an error; if control ever comes back the guest
 * prints FAILURE and exits 1.
 */
#include "kit.h"

extern char _snoaccess[];
static const struct hvt_hc_walltime readonly_walltime = { 0 };

static void usage(void)
{
    kit_println("FAILURE: usage: hostile ATTACK, one of: walltime-oob "
                "puts-oob puts-wrap puts-struct-oob poll-oob halt-oob "
                "halt-cookie-oob block-read-oob net-write-oob hypercall-zero "
                "hypercall-max port-in port-byte walltime-text "
                "walltime-rodata puts-noaccess walltime-tables "
                "walltime-bootinfo");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage();
        return 1;
    }
    const char *a = argv[1];
    uint64_t mem = kit_boot_info->mem_size;

    if (strcmp(a, "walltime-oob") == 0) {
        /* The argument struct lies beyond guest memory. */
        kit_hypercall_raw(HVT_HYPERCALL_WALLTIME, 0xfffffff0U);
    } else if (strcmp(a, "puts-oob") == 0) {
        /* A valid struct whose data pointer is beyond guest memory. */
        volatile struct hvt_hc_puts p = {
            .data = (const char *)(uintptr_t)(mem + 0x1000), .len = 16
        };
        kit_hypercall(HVT_HYPERCALL_PUTS, &p);
    } else if (strcmp(a, "puts-wrap") == 0) {
        /* data + len wraps around 2^64. */
        volatile struct hvt_hc_puts p = {
            .data = (const char *)(uintptr_t)0x200000,
            .len = 0xffffffffffffff00ULL
        };
        kit_hypercall(HVT_HYPERCALL_PUTS, &p);
    } else if (strcmp(a, "puts-struct-oob") == 0) {
        kit_hypercall_raw(HVT_HYPERCALL_PUTS, 0xffffffffU);
    } else if (strcmp(a, "poll-oob") == 0) {
        /* The 24-byte struct straddles the end of guest memory. */
        kit_hypercall_raw(HVT_HYPERCALL_POLL, (uint32_t)(mem - 8));
    } else if (strcmp(a, "halt-oob") == 0) {
        kit_hypercall_raw(HVT_HYPERCALL_HALT, 0xfffffff0U);
    } else if (strcmp(a, "halt-cookie-oob") == 0) {
        /* The cookie needs HVT_HALT_COOKIE_MAX bytes; only 100 are left. */
        volatile struct hvt_hc_halt h = {
            .cookie = (void *)(uintptr_t)(mem - 100), .exit_status = 0
        };
        kit_hypercall(HVT_HYPERCALL_HALT, &h);
    } else if (strcmp(a, "block-read-oob") == 0) {
        kit_hypercall_raw(HVT_HYPERCALL_BLOCK_READ, 0xfffffff0U);
    } else if (strcmp(a, "net-write-oob") == 0) {
        kit_hypercall_raw(HVT_HYPERCALL_NET_WRITE, 0xfffffff0U);
    } else if (strcmp(a, "hypercall-zero") == 0) {
        volatile uint64_t dummy[4] = { 0 };
        kit_hypercall(0, dummy);
    } else if (strcmp(a, "hypercall-max") == 0) {
        volatile uint64_t dummy[4] = { 0 };
        kit_hypercall(HVT_HYPERCALL_MAX, dummy);
    } else if (strcmp(a, "port-in") == 0) {
        uint32_t v;
        __asm__ volatile("inl %1, %0"
                         : "=a"(v)
                         : "d"((uint16_t)(HVT_HYPERCALL_PIO_BASE + 1))
                         : "memory");
        (void)v;
    } else if (strcmp(a, "port-byte") == 0) {
        __asm__ volatile("outb %0, %1"
                         :
                         : "a"((uint8_t)0),
                           "d"((uint16_t)(HVT_HYPERCALL_PIO_BASE + 2))
                         : "memory");
    } else if (strcmp(a, "walltime-text") == 0) {
        /* The answer would land in .text, which the host maps read-only. */
        kit_hypercall_raw(HVT_HYPERCALL_WALLTIME, (uint32_t)(uintptr_t)&main);
    } else if (strcmp(a, "walltime-rodata") == 0) {
        kit_hypercall_raw(HVT_HYPERCALL_WALLTIME,
                          (uint32_t)(uintptr_t)&readonly_walltime);
    } else if (strcmp(a, "puts-noaccess") == 0) {
        /* The argument itself in a segment with no permissions. */
        kit_hypercall_raw(HVT_HYPERCALL_PUTS, (uint32_t)(uintptr_t)_snoaccess);
    } else if (strcmp(a, "walltime-tables") == 0) {
        /* The tender's page tables (PML4 at 0x2000). */
        kit_hypercall_raw(HVT_HYPERCALL_WALLTIME, 0x2000);
    } else if (strcmp(a, "walltime-bootinfo") == 0) {
        /* The boot info, read-only to the guest. */
        kit_hypercall_raw(HVT_HYPERCALL_WALLTIME, 0x10000);
    } else {
        usage();
        return 1;
    }
    kit_puts("FAILURE: attack ");
    kit_puts(a);
    kit_println(" returned to the guest");
    return 1;
}
