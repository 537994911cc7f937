/*
 * blockdecl: declares one BLOCK_BASIC device, "storage", and does nothing
 * with it (tests "declared but not attached").
 */
#include "kit.h"

KIT_MANIFEST(1, KIT_MFT_BLOCK("storage"));

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return 0;
}
