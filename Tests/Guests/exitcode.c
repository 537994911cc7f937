/* exitcode: exits with the status given as its first argument (0..255). */
#include "kit.h"

int main(int argc, char **argv)
{
    int64_t v;

    if (argc < 2 || !kit_parse_int(argv[1], &v) || v < 0 || v > 255) {
        kit_println("FAILURE: usage: exitcode STATUS (0..255)");
        return 1;
    }
    return (int)v;
}
