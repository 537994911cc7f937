/*
 * sleep: prints "sleeping", then waits in POLL for argv[1] milliseconds
 * (default 1000) and prints "SUCCESS". For tests that act on a running
 * tender (signals, /proc).
 */
#include "kit.h"

int main(int argc, char **argv)
{
    int64_t ms = 1000;
    if (argc > 1 && (!kit_parse_int(argv[1], &ms) || ms < 0)) {
        kit_println("FAILURE: usage: sleep [MILLISECONDS]");
        return 1;
    }
    kit_println("sleeping");
    uint64_t end = kit_monotonic_ns() + (uint64_t)ms * 1000000ULL;
    for (uint64_t now = kit_monotonic_ns(); now < end; now = kit_monotonic_ns())
        kit_poll(end - now, NULL);
    kit_println("SUCCESS");
    return 0;
}
