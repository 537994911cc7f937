/* cmdline: prints the raw boot command line between brackets. */
#include "kit.h"

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const char *c = kit_boot_info->cmdline;
    kit_putc('[');
    if (c != NULL)
        kit_puts(c);
    kit_println("]");
    kit_println("SUCCESS");
    return 0;
}
