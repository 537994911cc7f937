/* abort: calls abort(), which prints a message and exits with 255. */
#include "kit.h"

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    abort();
}
