/*
 * write_text: writes over one of its own functions. .text is read-only on
 * the host side, so the tender must stop the guest.
 */
#include "kit.h"

__attribute__((noinline)) static int victim(int x)
{
    return x * 3 + 1;
}

int main(int argc, char **argv)
{
    (void)argv;
    int (*volatile fp)(int) = victim;
    volatile uint8_t *p = (volatile uint8_t *)fp;
    p[0] = 0xc3; /* ret */
    kit_println("FAILURE: write to .text returned");
    return fp(argc) == 0 ? 2 : 1;
}
