/*
 * hypercall: makes hypercall argv[1] once with a zeroed 64-byte argument,
 * then prints "returned" and exits 0. For tests of modules' hypercalls.
 */
#include "kit.h"

int main(int argc, char **argv)
{
    int64_t number;
    if (argc != 2 || !kit_parse_int(argv[1], &number) || number < 0 || number > 255) {
        kit_println("FAILURE: usage: hypercall NUMBER");
        return 1;
    }
    static uint64_t argument[8];
    kit_hypercall((unsigned int)number, argument);
    kit_println("returned");
    return 0;
}
