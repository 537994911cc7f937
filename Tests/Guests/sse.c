/*
 * sse: built with SSE2 enabled (the only such guest). Checks the x87 control
 * word (0x37F) and MXCSR (0x1F80) the tender set up, then does double and
 * packed-integer SSE2 arithmetic on volatile inputs.
 */
#include "kit.h"

typedef int32_t v4si __attribute__((vector_size(16)));
typedef double v2df __attribute__((vector_size(16)));

static volatile double in_a = 1.5, in_b = 2.25, in_c = -0.125;
static volatile int32_t in_i[4] = { 1, -2, 300000, 7 };
static volatile int32_t in_j[4] = { 10, 20, -30, 0x7ffffff0 };

static int failures;

static void fail(const char *what)
{
    kit_puts("FAILURE: ");
    kit_println(what);
    failures++;
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    uint16_t fcw = 0;
    uint32_t mxcsr = 0;

    /* Read both before any floating-point work. */
    __asm__ volatile("fnstcw %0" : "=m"(fcw));
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    if (fcw != 0x37f) {
        kit_puts("x87 control word: ");
        kit_put_hex(fcw);
        kit_putc('\n');
        fail("x87 control word is not 0x37F");
    }
    if (mxcsr != 0x1f80) {
        kit_puts("MXCSR: ");
        kit_put_hex(mxcsr);
        kit_putc('\n');
        fail("MXCSR is not 0x1F80");
    }

    /* Scalar doubles (all results exact in binary). */
    double a = in_a, b = in_b, c = in_c;
    double r = a * b + a / c - b; /* 3.375 - 12 - 2.25 = -10.875 */
    if (r != -10.875)
        fail("double arithmetic");
    if ((int64_t)(r * 8.0) != -87)
        fail("double to integer conversion");
    if ((double)(int64_t)in_i[2] * c != -37500.0)
        fail("integer to double conversion");

    /* Packed doubles. */
    v2df pa = { a, c }, pb = { b, b };
    v2df pr = pa * pb + pa;
    if (pr[0] != 4.875 || pr[1] != -0.40625)
        fail("packed double arithmetic");

    /* Packed 32-bit integers (paddd, psubd, pmulld-free). */
    v4si vi = { in_i[0], in_i[1], in_i[2], in_i[3] };
    v4si vj = { in_j[0], in_j[1], in_j[2], in_j[3] };
    v4si sum = vi + vj, diff = vj - vi, sh = vi << 3;
    if (sum[0] != 11 || sum[1] != 18 || sum[2] != 299970 ||
        sum[3] != 0x7ffffff7)
        fail("packed integer add");
    if (diff[0] != 9 || diff[1] != 22 || diff[2] != -300030 ||
        diff[3] != 0x7fffffe9)
        fail("packed integer subtract");
    if (sh[0] != 8 || sh[1] != -16 || sh[2] != 2400000 || sh[3] != 56)
        fail("packed integer shift");

    if (failures)
        return 1;
    kit_println("SUCCESS");
    return 0;
}
