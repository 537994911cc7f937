/*
 * ssp: built with -fstack-protector-all; overflows a stack buffer through a
 * volatile index so that the canary check fires ("kit: stack smashing
 * detected", exit 255).
 */
#include "kit.h"

static volatile size_t overflow_len = 64;

__attribute__((noinline)) static void smash(void)
{
    char buf[16];
    volatile size_t n = overflow_len;
    for (volatile size_t i = 0; i < n; i++)
        buf[i] = 'A';
    __asm__ volatile("" : : "r"(buf) : "memory");
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    smash();
    kit_println("FAILURE: stack smashing went unnoticed");
    return 1;
}
