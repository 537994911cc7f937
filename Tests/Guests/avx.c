/*
 * avx: AVX the way a Solo5 guest gets it. The tender enables SSE (CR4.OSFXSR,
 * OSXMMEXCPT) but not XSAVE/AVX, as Solo5's does; a guest that wants AVX
 * enables it itself (it runs at CPL 0): CR4.OSXSAVE, then XCR0 = x87|SSE|AVX.
 * Checks the starting state, does 256-bit arithmetic, prints SUCCESS.
 *
 * The C code is general-registers-only; every vector instruction is in
 * inline assembly after AVX is enabled.
 */
#include "kit.h"

#define CR4_OSXSAVE (1UL << 18)
#define CPUID1_ECX_XSAVE (1U << 26)
#define CPUID1_ECX_AVX (1U << 28)

static int failures;

static void fail(const char *what)
{
    kit_puts("FAILURE: ");
    kit_println(what);
    failures++;
}

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static volatile double in[4] = { 1.5, -2.25, 1e10, 0.125 };
static volatile double add[4] = { 0.5, 2.25, -1e10, 0.875 };
static double out[4] __attribute__((aligned(32)));

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    uint32_t a, b, c, d;
    cpuid(1, &a, &b, &c, &d);
    if (!(c & CPUID1_ECX_AVX) || !(c & CPUID1_ECX_XSAVE)) {
        fail("CPUID reports no AVX/XSAVE");
        return 1;
    }
    uint64_t cr4;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    if (cr4 & CR4_OSXSAVE)
        fail("CR4.OSXSAVE already set: the tender should leave AVX to the guest");
    if (!(cr4 & (1UL << 9)) || !(cr4 & (1UL << 10)))
        fail("CR4.OSFXSR/OSXMMEXCPT not set");

    cr4 |= CR4_OSXSAVE;
    __asm__ volatile("mov %0, %%cr4" ::"r"(cr4));
    __asm__ volatile("xsetbv" ::"c"(0), "a"(7), "d"(0));

    uint32_t mxcsr = 0;
    __asm__ volatile("vstmxcsr %0" : "=m"(mxcsr));
    if (mxcsr != 0x1f80)
        fail("MXCSR is not 0x1F80");

    /* out = in + add, four doubles at once. */
    __asm__ volatile("vmovupd (%0), %%ymm0\n\t"
                     "vmovupd (%1), %%ymm1\n\t"
                     "vaddpd %%ymm1, %%ymm0, %%ymm2\n\t"
                     "vmovapd %%ymm2, (%2)\n\t"
                     "vzeroupper"
                     :
                     : "r"(in), "r"(add), "r"(out)
                     : "memory");
    /* Compare bit patterns: the C side stays out of the FPU. */
    static const uint64_t expect[4] = {
        0x4000000000000000ULL, /* 2.0 */
        0x0000000000000000ULL, /* 0.0 */
        0x0000000000000000ULL, /* 0.0 */
        0x3ff0000000000000ULL, /* 1.0 */
    };
    for (int i = 0; i < 4; i++) {
        uint64_t bits;
        memcpy(&bits, &out[i], sizeof bits);
        if (bits != expect[i]) {
            kit_puts("lane ");
            kit_put_dec(i);
            kit_puts(": ");
            kit_put_hex(bits);
            kit_putc('\n');
            fail("vaddpd gave a wrong result");
        }
    }
    if (failures)
        return 1;
    kit_println("SUCCESS");
    return 0;
}
