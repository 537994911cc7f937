/*
 * time: walltime is plausible, and a 100 ms poll() with no devices returns
 * 0 ready handles after both clocks advanced by at least 100 ms (< 10 s).
 */
#include "kit.h"

#define MS 1000000ULL
#define SEC 1000000000ULL
/* 2020-01-01T00:00:00Z */
#define YEAR_2020_NS (1577836800ULL * SEC)

static int failures;

static void fail(const char *what, uint64_t v)
{
    kit_puts("FAILURE: ");
    kit_puts(what);
    kit_puts(" (");
    kit_put_udec(v);
    kit_println(")");
    failures++;
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;

    if (kit_boot_info->cpu_cycle_freq == 0)
        fail("cpu_cycle_freq is zero", 0);

    uint64_t w0 = kit_walltime_ns();
    uint64_t m0 = kit_monotonic_ns();
    if (w0 < YEAR_2020_NS)
        fail("walltime before 2020", w0);

    uint64_t ready = ~0ULL;
    int n = kit_poll(100 * MS, &ready);

    uint64_t m1 = kit_monotonic_ns();
    uint64_t w1 = kit_walltime_ns();

    if (n != 0)
        fail("poll returned ready handles", (uint64_t)n);
    if (ready != 0)
        fail("poll ready_set not empty", ready);
    if (m1 < m0 || m1 - m0 < 100 * MS)
        fail("TSC clock advanced less than 100 ms (ns)", m1 - m0);
    else if (m1 - m0 >= 10 * SEC)
        fail("TSC clock advanced 10 s or more (ns)", m1 - m0);
    if (w1 < w0 || w1 - w0 < 100 * MS)
        fail("walltime advanced less than 100 ms (ns)", w1 - w0);
    else if (w1 - w0 >= 10 * SEC)
        fail("walltime advanced 10 s or more (ns)", w1 - w0);

    if (failures)
        return 1;
    kit_println("SUCCESS");
    return 0;
}
