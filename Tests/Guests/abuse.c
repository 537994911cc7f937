/*
 * abuse MODE: a guest that uses the hypercalls as hard as it can.
 *
 *   loop SECONDS      WALLTIME, PUTS of zero bytes and POLL with a zero
 *                     timeout, round and round for SECONDS (by the TSC);
 *                     prints how many, then "SUCCESS". The test samples the
 *                     tender's memory and descriptors meanwhile.
 *   poll-zero         POLL with timeout 0, 1000 times: each returns at once
 *                     with nothing ready.
 *   poll-max          POLL with timeout 2^64-1 ns: waits (the test ends it).
 *   puts-zero         PUTS of zero bytes at a valid address and at the last
 *                     byte of guest memory: nothing printed, no error.
 *   hypercall NR      an outl to port base+NR with the address of a zeroed
 *                     argument block; if control comes back, prints
 *                     "returned from hypercall NR" and exits 0.
 *   net-write LEN     (abuse_net only) NET_WRITE of LEN bytes (0, the
 *                     largest frame MTU + 14, one more) to "service0":
 *                     prints the result.
 */
#include "devices.h"

/* abuse_net.c is this guest with a net device declared (net-write). */
#ifdef ABUSE_NET
KIT_MANIFEST(1, KIT_MFT_NET("service0"));
#endif

static uint8_t frame[65536 + 64];
static uint64_t zeroed[64] __attribute__((aligned(64)));

static int usage(void)
{
    kit_println("FAILURE: usage: abuse loop SECONDS|poll-zero|poll-max|"
                "puts-zero|hypercall NR|net-write LEN");
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const char *mode = argv[1];
    int64_t n = 0;
    if (argc == 3 && !kit_parse_int(argv[2], &n))
        return usage();

    if (strcmp(mode, "loop") == 0 && argc == 3) {
        uint64_t end = kit_rdtsc() + (uint64_t)n * kit_boot_info->cpu_cycle_freq;
        uint64_t calls = 0;
        while (kit_rdtsc() < end) {
            (void)kit_walltime_ns();
            volatile struct hvt_hc_puts p = { .data = "x", .len = 0 };
            kit_hypercall(HVT_HYPERCALL_PUTS, &p);
            if (kit_poll(0, NULL) != 0) {
                kit_println("FAILURE: POLL with nothing attached said ready");
                return 1;
            }
            calls += 3;
        }
        kit_put_udec(calls);
        kit_println(" hypercalls");
        kit_println("SUCCESS");
        return 0;
    }
    if (strcmp(mode, "poll-zero") == 0) {
        uint64_t start = kit_monotonic_ns();
        for (int i = 0; i < 1000; i++) {
            uint64_t ready = 1;
            int r = kit_poll(0, &ready);
            if (r != 0 || ready != 0) {
                kit_println("FAILURE: POLL(0) said something is ready");
                return 1;
            }
        }
        kit_puts("1000 polls with timeout 0 took ");
        kit_put_udec((kit_monotonic_ns() - start) / 1000000);
        kit_println(" ms");
        kit_println("SUCCESS");
        return 0;
    }
    if (strcmp(mode, "poll-max") == 0) {
        kit_println("polling with timeout 2^64-1 ns");
        kit_poll(~0ULL, NULL);
        kit_println("FAILURE: POLL(2^64-1) returned");
        return 1;
    }
    if (strcmp(mode, "puts-zero") == 0) {
        volatile struct hvt_hc_puts p = { .data = "never printed", .len = 0 };
        kit_hypercall(HVT_HYPERCALL_PUTS, &p);
        p.data = (const char *)(uintptr_t)(kit_boot_info->mem_size - 1);
        kit_hypercall(HVT_HYPERCALL_PUTS, &p);
        kit_println("SUCCESS");
        return 0;
    }
    if (strcmp(mode, "hypercall") == 0 && argc == 3 && n >= 0 && n <= 255) {
        kit_hypercall_raw((unsigned)n, (uint32_t)(uintptr_t)zeroed);
        kit_puts("returned from hypercall ");
        kit_put_dec(n);
        kit_putc('\n');
        return 0;
    }
    if (strcmp(mode, "net-write") == 0 && argc == 3 && n >= 0 &&
        n <= (int64_t)sizeof frame) {
        int64_t h = dev_lookup("service0", MFT_DEV_NET_BASIC);
        if (h < 0) {
            kit_println("FAILURE: service0 not attached");
            return 1;
        }
        /* A broadcast frame from a locally administered address. */
        for (int i = 0; i < 6; i++)
            frame[i] = 0xff;
        frame[6] = 0x02;
        for (int64_t i = 12; i < n; i++)
            frame[i] = (uint8_t)i;
        int r = kit_net_write((uint64_t)h, frame, (size_t)n);
        kit_puts("net write of ");
        kit_put_dec(n);
        kit_puts(" bytes: result ");
        kit_put_dec(r);
        kit_putc('\n');
        return 0;
    }
    return usage();
}
