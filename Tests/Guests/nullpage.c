/*
 * nullpage: writes to address 8. The page at 0 is not present and there is
 * no IDT, so this ends in a triple fault.
 */
#include "kit.h"

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    volatile uintptr_t addr = 8; /* opaque to the compiler */
    *(volatile uint64_t *)addr = 0xdeadbeef;
    kit_println("FAILURE: write to the null page returned");
    return 1;
}
