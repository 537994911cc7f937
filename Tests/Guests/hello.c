/* hello: greets, echoes its arguments and reports SUCCESS. */
#include "kit.h"

int main(int argc, char **argv)
{
    kit_println("Hello, world!");
    kit_puts("args:");
    for (int i = 1; i < argc; i++) {
        kit_putc(' ');
        kit_puts(argv[i]);
    }
    kit_putc('\n');
    kit_println("SUCCESS");
    return 0;
}
