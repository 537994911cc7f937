/*
 * gdbtarget: a guest to debug. A debugger breaks in main, steps into
 * bump(), reads `counter` and changes `debug_value`, which the guest then
 * prints. It also writes a word at a fixed address (WATCHED, free guest
 * memory), for watchpoints set by clients that cannot look up symbols.
 */
#include "kit.h"

volatile int debug_value = 41;
int counter;

#define WATCHED ((volatile uint32_t *)0x1ff000)

__attribute__((noinline)) int bump(int by)
{
    counter += by;
    return counter;
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    bump(1);
    bump(2);
    *WATCHED = 0x77;
    kit_puts("debug_value: ");
    kit_put_dec(debug_value);
    kit_puts(" counter: ");
    kit_put_dec(counter);
    kit_putc('\n');
    kit_println("SUCCESS");
    return 0;
}
