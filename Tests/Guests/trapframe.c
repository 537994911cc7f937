/*
 * trapframe: aborts the way a guest's trap handler does, halting with
 * status 255 and a cookie holding a trap frame (struct x86_trap_regs:
 * cr2, ec, rip, cs, rflags, rsp, ss) that names `faulting_function` as the
 * place of the fault. A core dump must take rip and rsp from the frame.
 * Also keeps a marked global for the dump's memory to be checked.
 */
#include "kit.h"

volatile uint64_t dump_marker = 0x5afec0de5afec0deULL;

__attribute__((noinline)) void faulting_function(void)
{
    __asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    uint64_t rsp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
    static struct {
        uint64_t cr2, ec, rip, cs, rflags, rsp, ss;
        uint8_t pad[512 - 7 * 8];   /* the cookie spans HVT_HALT_COOKIE_MAX */
    } frame;
    frame.cr2 = 0x1234;
    frame.ec = 2;
    frame.rip = (uint64_t)(uintptr_t)faulting_function;
    frame.cs = 0x8;
    frame.rflags = 0x2;
    frame.rsp = rsp;
    frame.ss = 0x10;
    kit_println("trapframe: aborting with a trap frame");
    kit_halt(255, &frame);
}
