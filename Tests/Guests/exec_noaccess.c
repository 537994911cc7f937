/*
 * exec_noaccess: jumps into the .noaccess segment, which has no permissions
 * (PT_LOAD with flags 0), so the tender must stop the guest.
 */
#include "kit.h"

extern char _snoaccess[];

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    void (*volatile fp)(void) = (void (*)(void))(uintptr_t)_snoaccess;
    fp();
    kit_println("FAILURE: call into the no-access segment returned");
    return 1;
}
